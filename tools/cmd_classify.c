/* cmd_classify.c: `nncl classify MODEL.onnx IMAGE...`: a Fashion-MNIST model's top-3 classes for
   the user's own pictures (any size; grey or colour, read as grey; PNG, JPEG, BMP, ...). */
#include <math.h>
#include <stb/stb_image.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "demo_eval.h"
#include "demo_idx.h"
#include "demo_prepare.h"

#define SIDE 28
#define TOP 3

static int run(int argc, char **argv) {
  const char *device = NULL, *model = NULL;
  int invert = -1, n_images = 0;
  const char **paths = calloc((size_t)argc, sizeof *paths);
  if (!paths) return 1;
  for (int i = 1; i < argc; i++) {
    const char *v;
    if ((v = cli_value(argc, argv, &i, "--device"))) {
      device = v;
    } else if ((v = cli_value(argc, argv, &i, "--invert"))) {
      if (strcmp(v, "auto") == 0)
        invert = -1;
      else if (strcmp(v, "yes") == 0)
        invert = 1;
      else if (strcmp(v, "no") == 0)
        invert = 0;
      else {
        fprintf(stderr, "nncl classify: --invert takes auto, yes or no, not \"%s\"\n", v);
        free(paths);
        return 2;
      }
    } else if (argv[i][0] == '-' && argv[i][1]) {
      cli_unknown_option("classify", argv[i]);
      free(paths);
      return 2;
    } else if (!model) {
      model = argv[i];
    } else {
      paths[n_images++] = argv[i];
    }
  }
  if (!model || n_images == 0) {
    fprintf(stderr, "usage: nncl classify MODEL.onnx IMAGE... (see nncl classify --help)\n");
    free(paths);
    return 2;
  }

  int rc = 1;
  nncl_context *ctx = NULL;
  nncl_graph *g = NULL;
  nncl_array in, logits;
  memset(&in, 0, sizeof in);
  memset(&logits, 0, sizeof logits);
  uint8_t *pixels = malloc((size_t)n_images * SIDE * SIDE);
  int *inverted = calloc((size_t)n_images, sizeof *inverted);
  if (!pixels || !inverted) goto done;
  for (int i = 0; i < n_images; i++) {
    int w, h, channels;
    unsigned char *img = stbi_load(paths[i], &w, &h, &channels, 1);
    if (!img) {
      fprintf(stderr, "nncl classify: cannot read %s: %s\n", paths[i], stbi_failure_reason());
      goto done;
    }
    demo_prepare_image(img, w, h, invert, pixels + (size_t)i * SIDE * SIDE, &inverted[i]);
    stbi_image_free(img);
  }

  if (!(ctx = cli_open_context(device))) goto done;
  nncl_status st = nncl_onnx_load(ctx, model, &g);
  if (st != NNCL_OK) {
    cli_fail(ctx, st, model);
    goto done;
  }
  const nncl_shape shape = {4, {n_images, 1, SIDE, SIDE}};
  if ((st = nncl_array_alloc(&in, NNCL_FLOAT32, &shape)) != NNCL_OK) {
    cli_fail(ctx, st, "input");
    goto done;
  }
  demo_pixels_to_input(pixels, (size_t)n_images * SIDE * SIDE, in.data);
  if ((st = nncl_graph_set_input(g, nncl_graph_input_name(g, 0), &in)) != NNCL_OK ||
      (st = nncl_graph_run(g)) != NNCL_OK ||
      (st = nncl_graph_get_output(g, 0, &logits)) != NNCL_OK) {
    cli_fail(ctx, st, model);
    goto done;
  }
  if (logits.dtype != NNCL_FLOAT32 || logits.shape.rank != 2 || logits.shape.dims[0] != n_images ||
      logits.shape.dims[1] < 1) {
    char got[96];
    fprintf(stderr, "nncl classify: %s: output 0 is %s, expected logits [%d, classes]\n", model,
            nncl_shape_format(&logits.shape, got, sizeof got), n_images);
    goto done;
  }
  const int k = (int)logits.shape.dims[1];
  for (int i = 0; i < n_images; i++) {
    const float *l = (const float *)logits.data + (size_t)i * (size_t)k;
    float best_prob;
    int best = demo_argmax_softmax(l, k, &best_prob);
    /* The top classes by repeated selection; softmax taken relative to the best logit. */
    int n = k, taken[TOP];
    double sum = 0.0;
    for (int c = 0; c < n; c++) sum += exp((double)l[c] - (double)l[best]);
    printf("%s%s:", paths[i], inverted[i] ? " (inverted)" : "");
    for (int t = 0; t < TOP && t < n; t++) {
      int arg = -1;
      for (int c = 0; c < n; c++) {
        int used = 0;
        for (int j = 0; j < t; j++) used |= taken[j] == c;
        if (!used && (arg < 0 || l[c] > l[arg])) arg = c;
      }
      taken[t] = arg;
      double p = exp((double)l[arg] - (double)l[best]) / sum;
      if (k == DEMO_NUM_CLASSES)
        printf("%s %s %.1f%%", t ? "," : "", demo_class_names[arg], 100.0 * p);
      else
        printf("%s class %d %.1f%%", t ? "," : "", arg, 100.0 * p);
    }
    printf("\n");
  }
  rc = 0;
done:
  nncl_array_free(&in);
  nncl_array_free(&logits);
  nncl_graph_destroy(g);
  nncl_context_destroy(ctx);
  free(pixels);
  free(inverted);
  free(paths);
  return rc;
}

const struct cli_command cmd_classify = {
    "classify", "top-3 Fashion-MNIST classes of your own pictures", run,
    "nncl classify MODEL.onnx IMAGE... [--device D] [--invert auto|yes|no]\n"
    "  Reads each picture as grey, pads it to a square, scales it to 28x28 and, with --invert "
    "auto\n"
    "  (default), inverts it when its border is light (the data set has light clothes on black).\n"
    "  Prints the model's three most likely classes with their softmax probabilities."};
