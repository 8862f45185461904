/* cmd_style.c: `nncl style CONTENT STYLE --out OUT.png`: neural style transfer (Gatys et al. 2016)
   on the device: the picture itself is optimised (Adam or L-BFGS) so that its features match the
   content picture's and its Gram matrices the style picture's, on a CNN given as ONNX or on the
   built-in random-filter network. Loss, gradient (the library's autodiff) and Adam's update are
   one graph (style_loss.c, style_adam.c); the loops are in style_optimise.c. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "style_loss.h"
#include "style_net.h"
#include "style_optimise.h"
#include "style_picture.h"

#define MAX_STYLE_LAYERS 32

struct opts {
  const char *device, *content, *style, *out, *model, *content_layer, *frames, *optimizer, *init;
  char *style_layers_arg; /* strdup of --style-layers, cut at the commas into style_layers */
  const char *style_layers[MAX_STYLE_LAYERS];
  int n_style;
  long steps, size, every;
  double content_weight, style_weight, lr;
};

static int parse_double(const char *flag, const char *v, double lo, double *out) {
  return cli_double("style", flag, v, lo, HUGE_VAL, out);
}

static int parse_long(const char *flag, const char *v, long lo, long hi, long *out) {
  long long k = 0;
  const int rc = cli_long("style", flag, v, lo, hi, &k);
  *out = rc ? *out : (long)k;
  return rc;
}

static int split_layers(struct opts *o, const char *v) {
  free(o->style_layers_arg);
  if (!(o->style_layers_arg = strdup(v))) return 1;
  o->n_style = 0;
  for (char *p = strtok(o->style_layers_arg, ","); p; p = strtok(NULL, ",")) {
    if (o->n_style == MAX_STYLE_LAYERS) {
      fprintf(stderr, "nncl style: at most %d --style-layers\n", MAX_STYLE_LAYERS);
      return 2;
    }
    o->style_layers[o->n_style++] = p;
  }
  if (o->n_style == 0) {
    fprintf(stderr, "nncl style: --style-layers needs at least one name\n");
    return 2;
  }
  return 0;
}

static int parse(int argc, char **argv, struct opts *o) {
  int rc = 0;
  for (int i = 1; i < argc && !rc; i++) {
    const char *v;
    if ((v = cli_value(argc, argv, &i, "--device")))
      o->device = v;
    else if ((v = cli_value(argc, argv, &i, "--out")))
      o->out = v;
    else if ((v = cli_value(argc, argv, &i, "--model")))
      o->model = v;
    else if ((v = cli_value(argc, argv, &i, "--content-layer")))
      o->content_layer = v;
    else if ((v = cli_value(argc, argv, &i, "--style-layers")))
      rc = split_layers(o, v);
    else if ((v = cli_value(argc, argv, &i, "--steps")))
      rc = parse_long("--steps", v, 1, 1000000, &o->steps);
    else if ((v = cli_value(argc, argv, &i, "--size")))
      rc = parse_long("--size", v, 8, 4096, &o->size);
    else if ((v = cli_value(argc, argv, &i, "--every")))
      rc = parse_long("--every", v, 1, 1000000, &o->every);
    else if ((v = cli_value(argc, argv, &i, "--frames")))
      o->frames = v;
    else if ((v = cli_value(argc, argv, &i, "--content-weight")))
      rc = parse_double("--content-weight", v, 0.0, &o->content_weight);
    else if ((v = cli_value(argc, argv, &i, "--style-weight")))
      rc = parse_double("--style-weight", v, 0.0, &o->style_weight);
    else if ((v = cli_value(argc, argv, &i, "--lr")))
      rc = parse_double("--lr", v, 0.0, &o->lr);
    else if ((v = cli_value(argc, argv, &i, "--optimizer")))
      o->optimizer = v;
    else if ((v = cli_value(argc, argv, &i, "--init")))
      o->init = v;
    else if (argv[i][0] == '-' && argv[i][1])
      return cli_unknown_option("style", argv[i]);
    else if (!o->content)
      o->content = argv[i];
    else if (!o->style)
      o->style = argv[i];
    else
      return cli_usage(&cmd_style);
  }
  if (rc) return rc;
  if (!o->content || !o->style) return cli_usage(&cmd_style);
  if (strcmp(o->optimizer, "adam") != 0 && strcmp(o->optimizer, "lbfgs") != 0) {
    fprintf(stderr, "nncl style: --optimizer is adam or lbfgs, not \"%s\"\n", o->optimizer);
    return 2;
  }
  if (strcmp(o->init, "content") != 0 && strcmp(o->init, "noise") != 0) {
    fprintf(stderr, "nncl style: --init is content or noise, not \"%s\"\n", o->init);
    return 2;
  }
  if ((o->every > 0) != (o->frames != NULL)) {
    fprintf(stderr, "nncl style: --every K and --frames DIR go together\n");
    return 2;
  }
  if (o->model && (!o->content_layer || !o->n_style)) {
    fprintf(stderr, "nncl style: --model needs --content-layer NAME and --style-layers A,B,...\n");
    return 2;
  }
  if (o->content_weight == 0.0 && o->style_weight == 0.0) {
    fprintf(stderr, "nncl style: --content-weight and --style-weight cannot both be 0\n");
    return 2;
  }
  return 0;
}

static void noise_picture(const style_norm *n, nncl_array *x) {
  const int64_t plane = nncl_shape_numel(&x->shape) / n->channels;
  float *v = x->data;
  uint64_t state = 1;
  for (int c = 0; c < n->channels; c++)
    for (int64_t i = 0; i < plane; i++) {
      state = state * 6364136223846793005ull + 1442695040888963407ull; /* Knuth's MMIX LCG */
      const float p = (float)(state >> 40) / 16777216.0f;              /* uniform in [0, 1) */
      v[c * plane + i] = (p - n->mean[c]) / n->std[c];
    }
}

static int run(int argc, char **argv) {
  struct opts o = {.out = "style.png",
                   .steps = 200,
                   .size = 128,
                   .content_weight = 1.0,
                   .style_weight = 10.0,
                   .lr = -1.0, /* per optimizer, below */
                   .optimizer = "adam",
                   .init = "content"};
  int rc = parse(argc, argv, &o);
  if (rc) {
    free(o.style_layers_arg);
    return rc;
  }
  rc = 1;
  if (o.lr < 0) o.lr = strcmp(o.optimizer, "lbfgs") == 0 ? 1.0 : 0.02;
  nncl_context *ctx = NULL;
  nncl_graph *g = NULL;
  nncl_array content = {0}, style = {0}, x = {0};
  nncl_status st;
  /* built-in network: pixels centred on 0 in [-1, 1]; ONNX models: classify's defaults */
  style_norm n = {3, {0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};
  const char *image = "image";
  int ow, oh, cw, ch;
  if (style_picture_size(o.content, &cw, &ch) != 0 || style_picture_size(o.style, &ow, &oh) != 0)
    goto done;
  /* the content picture's aspect ratio, its longer side --size pixels */
  ow = cw >= ch ? (int)o.size : (int)fmax(1.0, round((double)o.size * cw / ch));
  oh = ch >= cw ? (int)o.size : (int)fmax(1.0, round((double)o.size * ch / cw));
  if (!(ctx = cli_open_context(o.device))) goto done;
  if (o.model) {
    if ((st = nncl_onnx_load(ctx, o.model, &g)) != NNCL_OK) {
      cli_fail(ctx, st, o.model);
      goto done;
    }
    nncl_dtype dt;
    nncl_shape s;
    if ((st = nncl_graph_input_info(g, 0, &dt, &s)) != NNCL_OK || s.rank != 4 ||
        dt != NNCL_FLOAT32 || (s.dims[1] >= 0 && s.dims[1] != 1 && s.dims[1] != 3)) {
      fprintf(stderr, "nncl style: %s: input 0 is not float32 [N, 1 or 3, H, W]\n", o.model);
      goto done;
    }
    image = nncl_graph_input_name(g, 0);
    const style_norm imagenet = {3, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
    const style_norm grey = {1, {0, 0, 0}, {1, 1, 1}};
    n = s.dims[1] == 1 ? grey : imagenet;
    if (s.dims[2] >= 0) oh = (int)s.dims[2]; /* a model of fixed size gets pictures of its size */
    if (s.dims[3] >= 0) ow = (int)s.dims[3];
  } else {
    style_net_spec spec;
    style_net_default(&spec, 3);
    const nncl_shape s = {4, {1, 3, oh, ow}};
    if ((st = nncl_graph_create(ctx, &g)) ||
        (st = nncl_graph_add_input(g, image, NNCL_FLOAT32, &s)) ||
        (st = style_net_build(g, &spec, image))) {
      cli_fail(ctx, st, "built-in network");
      goto done;
    }
    if (!o.content_layer) o.content_layer = style_net_layer(1);
    if (!o.n_style) {
      for (int l = 0; l < STYLE_NET_LEVELS; l++) o.style_layers[l] = style_net_layer(l);
      o.n_style = STYLE_NET_LEVELS;
    }
  }
  /* the style picture is cut to the content's aspect ratio: its texture, not stretched */
  if (style_picture_load(o.content, &n, ow, oh, IMAGE_FIT_STRETCH, &content) != 0 ||
      style_picture_load(o.style, &n, ow, oh, IMAGE_FIT_CROP, &style) != 0)
    goto done;
  const style_loss_spec ls = {image,     o.content_layer,         o.style_layers,
                              o.n_style, (float)o.content_weight, (float)o.style_weight};
  if ((st = style_loss_build(g, &ls, &content, &style)) != NNCL_OK) {
    cli_fail(ctx, st, "style loss");
    goto done;
  }
  if ((st = nncl_array_alloc(&x, NNCL_FLOAT32, &content.shape)) != NNCL_OK) {
    cli_fail(ctx, st, "picture");
    goto done;
  }
  if (strcmp(o.init, "noise") == 0)
    noise_picture(&n, &x);
  else
    memcpy(x.data, content.data, nncl_array_bytes(&x));
  if (o.frames && mkdir(o.frames, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "nncl style: cannot make %s: %s\n", o.frames, strerror(errno));
    goto done;
  }
  printf("nncl style: %s in the style of %s, %d x %d, %s, %ld %s steps\n", o.content, o.style, ow,
         oh, o.model ? o.model : "built-in random-filter network", o.steps, o.optimizer);
  float first[3] = {0}, last[3] = {0};
  const style_run sr = {o.steps, o.lr, o.every, o.frames};
  const int lbfgs = strcmp(o.optimizer, "lbfgs") == 0;
  if ((lbfgs ? style_optimise_lbfgs : style_optimise_adam)(&sr, ctx, g, image, &n, &x, first,
                                                           last) != 0)
    goto done;
  if (style_picture_save(o.out, &n, &x) != 0) goto done;
  if (first[0] > 0 && last[0] > 0)
    printf("loss %.6e -> %.6e (%.1fx lower) -> %s\n", (double)first[0], (double)last[0],
           (double)first[0] / (double)last[0], o.out);
  else /* e.g. --style-weight 0 from the content picture: nothing to lower */
    printf("loss %.6e -> %.6e -> %s\n", (double)first[0], (double)last[0], o.out);
  rc = 0;
done:
  nncl_array_free(&content);
  nncl_array_free(&style);
  nncl_array_free(&x);
  nncl_graph_destroy(g);
  nncl_context_destroy(ctx);
  free(o.style_layers_arg);
  return rc;
}

const struct cli_command cmd_style = {
    "style", "neural style transfer: your picture in the style of another", run,
    "nncl style CONTENT.png STYLE.png [--out OUT.png] [options]\n"
    "  Optimises the picture itself (starting from CONTENT) so that a CNN's features match\n"
    "  CONTENT's at one layer and their Gram matrices match STYLE's at others (Gatys et al.).\n"
    "  Without --model: a built-in network of fixed random 3x3 filters at three scales.\n"
    "  --out FILE.png            the result (style.png)\n"
    "  --model CNN.onnx          a CNN such as VGG exported to ONNX (colour: ImageNet mean/std)\n"
    "  --content-layer NAME      its value matched to the content picture's\n"
    "  --style-layers A,B,...    values whose Gram matrices are matched to the style picture's\n"
    "  --steps N                 optimiser steps (200)\n"
    "  --size PX                 longer side of the result (128; a fixed-size model's own size)\n"
    "  --content-weight F        weight of the content term (1)\n"
    "  --style-weight F          weight of the style terms (10); each term is divided by its\n"
    "                            target's mean square, so weights do not depend on the network\n"
    "  --optimizer adam|lbfgs    (adam) on the device; L-BFGS keeps its history on the host\n"
    "  --lr F                    step size: Adam's in pixel units of the [0, 1] range (0.02);\n"
    "                            L-BFGS's first trial along its direction (1)\n"
    "  --init content|noise      starting picture (content)\n"
    "  --every K --frames DIR    also write every K-th step's picture into DIR\n"
    "  --device D                gpu, cpu, P:D or part of a device name"};
