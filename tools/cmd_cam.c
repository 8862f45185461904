/* cmd_cam.c: `nncl cam MODEL.onnx PICTURE --layer NAME`: Grad-CAM heat map of a CNN's class score
   over the picture, the gradient taken by the library's autodiff. Pictures are prepared as
   `nncl classify` prepares them (a 28x28 grey model gets the Fashion-MNIST treatment; others are
   stretched to the input size so that the map lines up with the whole picture). */
#include <stb/stb_image.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "demo_eval.h"
#include "demo_idx.h"
#include "demo_image.h"
#include "demo_sheet.h"
#include "gradcam.h"
#include "image_input.h"

#define CAM_ALPHA 0.5f /* heat colour's weight over the picture, as the demo's overlays */
#define CAM_ZOOM 8     /* a 28x28 picture is drawn 8 times larger */

struct opts {
  const char *device, *model, *picture, *layer, *out;
  int klass;
};

static int parse(int argc, char **argv, struct opts *o) {
  for (int i = 1; i < argc; i++) {
    const char *v;
    if ((v = cli_value(argc, argv, &i, "--device"))) {
      o->device = v;
    } else if ((v = cli_value(argc, argv, &i, "--layer"))) {
      o->layer = v;
    } else if ((v = cli_value(argc, argv, &i, "--out"))) {
      o->out = v;
    } else if ((v = cli_value(argc, argv, &i, "--class"))) {
      long long k;
      if (cli_long("cam", "--class", v, 0, 1000000, &k)) return 2;
      o->klass = (int)k;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return cli_unknown_option("cam", argv[i]);
    } else if (!o->model) {
      o->model = argv[i];
    } else if (!o->picture) {
      o->picture = argv[i];
    } else {
      return cli_usage(&cmd_cam);
    }
  }
  if (!o->model || !o->picture || !o->layer) return cli_usage(&cmd_cam);
  return 0;
}

/* The heat map (h x w in [0, 1]) blended over the picture's own pixels. */
static int write_overlay(const char *path, const unsigned char *rgb, int w, int h,
                         const float *heat) {
  demo_rgb img;
  if (demo_rgb_alloc(&img, w, h, 0) != 0) return -1;
  for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
    unsigned char c[3];
    demo_heat_colour(heat[i], c);
    for (int k = 0; k < 3; k++)
      img.px[i * 3 + k] =
          (unsigned char)((1.0f - CAM_ALPHA) * rgb[i * 3 + k] + CAM_ALPHA * c[k] + 0.5f);
  }
  int rc = demo_rgb_write_png(&img, path);
  demo_rgb_free(&img);
  return rc;
}

static int run(int argc, char **argv) {
  struct opts o = {.klass = -1, .out = "cam.png"};
  int prc = parse(argc, argv, &o), rc = 1;
  if (prc) return prc;
  nncl_context *ctx = NULL;
  nncl_graph *g = NULL;
  nncl_array in = {0};
  gradcam_map m = {0};
  unsigned char *img = NULL;
  float *heat = NULL;
  if (!(ctx = cli_open_context(o.device))) goto done;
  nncl_status st = nncl_onnx_load(ctx, o.model, &g);
  if (st != NNCL_OK) {
    cli_fail(ctx, st, o.model);
    goto done;
  }
  image_input ii;
  if (image_input_of(g, "cam", o.model, &ii) != 0) goto done;
  const int fashion = ii.fashion;
  const nncl_shape one = {4, {1, ii.c, ii.h, ii.w}};
  if ((st = nncl_array_alloc(&in, NNCL_FLOAT32, &one)) != NNCL_OK) {
    cli_fail(ctx, st, "input");
    goto done;
  }
  int w, h, got;
  /* RGB for the overlay (grey for the Fashion-MNIST tile); the model's channels come from it as
     classify makes them, stretched so that the map lines up with the whole picture */
  const int channels = fashion ? 1 : 3;
  if (!(img = stbi_load(o.picture, &w, &h, &got, channels))) {
    fprintf(stderr, "nncl cam: cannot read %s: %s\n", o.picture, stbi_failure_reason());
    goto done;
  }
  uint8_t px[28 * 28];
  if (image_input_fill(&ii, img, w, h, channels, IMAGE_FIT_STRETCH, -1, in.data, px, NULL) != 0) {
    fprintf(stderr, "nncl cam: out of memory preparing %s\n", o.picture);
    goto done;
  }
  if ((st = gradcam_compute(g, o.layer, &in, o.klass, &m)) != NNCL_OK) {
    cli_fail(ctx, st, o.layer);
    goto done;
  }
  const int tw = fashion ? 28 : w, th = fashion ? 28 : h;
  if (!(heat = malloc((size_t)tw * (size_t)th * sizeof *heat))) goto done;
  gradcam_resize(m.cam, m.h, m.w, heat, th, tw);
  int wrote;
  if (fashion) {
    char pred[32];
    snprintf(pred, sizeof pred, "%s", m.klass < DEMO_NUM_CLASSES ? demo_class_names[m.klass] : "?");
    demo_tile t = {px, heat, "", pred, 0.0f, 1};
    wrote = demo_write_cam_png(o.out, &t, CAM_ZOOM);
  } else {
    wrote = write_overlay(o.out, img, w, h, heat);
  }
  if (wrote != 0) {
    fprintf(stderr, "nncl cam: cannot write %s\n", o.out);
    goto done;
  }
  printf("%s: class %d (score %.4g), Grad-CAM at %s [%d x %d] -> %s\n", o.picture, m.klass,
         (double)m.score, o.layer, m.h, m.w, o.out);
  rc = 0;
done:
  free(heat);
  free(m.cam);
  if (img) stbi_image_free(img);
  nncl_array_free(&in);
  nncl_graph_destroy(g);
  nncl_context_destroy(ctx);
  return rc;
}

const struct cli_command cmd_cam = {
    "cam", "Grad-CAM heat map of a CNN's class over your picture", run,
    "nncl cam MODEL.onnx PICTURE --layer NAME [options]\n"
    "  The gradient of the class score with respect to the layer's activations A (autodiff);\n"
    "  weights w_c = its spatial mean per channel; CAM = ReLU(sum_c w_c * A_c), min-max\n"
    "  normalised, upsampled to the picture and drawn as a heat map over it. The picture is\n"
    "  prepared as nncl classify does (28x28 grey models: Fashion-MNIST treatment; others are\n"
    "  stretched to the input size with ImageNet's mean/std for colour).\n"
    "  --layer NAME      a value of the graph, [1, C, h, w] (an unknown name lists them)\n"
    "  --class K         the class explained (default: the top class)\n"
    "  --out FILE.png    where the picture goes (cam.png)\n"
    "  --device D        gpu, cpu, P:D or part of a device name"};
