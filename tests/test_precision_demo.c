/* test_precision_demo.c: the demo CNN (models/fashion_cnn.onnx) on the first 1000 Fashion-MNIST
   test images under graph.precision=fp16-storage against the same model in fp32: top-1 agreement
   at least 99% (the bar) and the largest logit difference within LOGIT_TOL. The logits
   of the test images span about +-16, where float16's spacing is 2^-6 = 0.016; rounding every
   activation and weight of five layers compounds to a few such steps (tools/precision_compare.py
   measured 0.018 at most over all 10,000 images), so LOGIT_TOL = 0.1 allows them with room while
   a wrong kernel (garbage, or half data read as float) is off by whole units. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/demo_idx.h"
#include "nncl/onnx.h"
#include "test_util.h"

#define DATA_DIR "/usr/share/datasets/fashion-mnist"
#define N_IMAGES 1000
#define BATCH 250
#define LOGIT_TOL 0.1

/* <source root>/models/<file>, from $NNCL_TEST_DATA = <source root>/tests/data. */
static void model_path(const char *file, char *out, size_t len) {
  const char *data = getenv("NNCL_TEST_DATA");
  cr_assert(data && *data, "NNCL_TEST_DATA is not set (run through meson test)");
  char root[3000];
  snprintf(root, sizeof root, "%s", data);
  for (int up = 0; up < 2; up++) {
    char *slash = strrchr(root, '/');
    cr_assert(slash, "NNCL_TEST_DATA %s has no parent folders", data);
    *slash = 0;
  }
  snprintf(out, len, "%s/models/%s", root, file);
}

/* Logits [N_IMAGES, 10] of the CNN under `precision`. */
static float *logits_under(const char *precision, const demo_idx *images) {
  nncl_context *ctx = tu_ctx();
  char path[4096];
  model_path("fashion_cnn.onnx", path, sizeof path);
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_onnx_load(ctx, path, &g), NNCL_OK, "%s", nncl_context_last_error(ctx));
  cr_assert_eq(nncl_graph_set_option(g, "graph.precision", precision), NNCL_OK);
  float *all = malloc((size_t)N_IMAGES * DEMO_NUM_CLASSES * sizeof *all);
  cr_assert(all);
  nncl_array in;
  nncl_shape shape = {4, {BATCH, 1, 28, 28}};
  cr_assert_eq(nncl_array_alloc(&in, NNCL_FLOAT32, &shape), NNCL_OK);
  for (int b0 = 0; b0 < N_IMAGES; b0 += BATCH) {
    for (size_t i = 0; i < (size_t)BATCH * 784; i++)
      ((float *)in.data)[i] = images->data[(size_t)b0 * 784 + i] / 255.0f;
    cr_assert_eq(nncl_graph_set_input(g, nncl_graph_input_name(g, 0), &in), NNCL_OK);
    cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s: %s", precision, nncl_context_last_error(ctx));
    nncl_array out;
    cr_assert_eq(nncl_graph_get_output_by_name(g, "logits", &out), NNCL_OK);
    cr_assert_eq(out.dtype, NNCL_FLOAT32);
    cr_assert_eq(nncl_shape_numel(&out.shape), (int64_t)BATCH * DEMO_NUM_CLASSES);
    memcpy(all + (size_t)b0 * DEMO_NUM_CLASSES, out.data,
           (size_t)BATCH * DEMO_NUM_CLASSES * sizeof *all);
    nncl_array_free(&out);
  }
  nncl_array_free(&in);
  nncl_graph_destroy(g);
  return all;
}

static int argmax(const float *l) {
  int best = 0;
  for (int k = 1; k < DEMO_NUM_CLASSES; k++) best = l[k] > l[best] ? k : best;
  return best;
}

Test(precision_demo, fp16_storage_agrees_with_fp32_on_fashion_mnist) {
  demo_idx images, labels;
  char err[4096];
  cr_assert(demo_idx_read_split(DATA_DIR, "t10k", &images, &labels, err, sizeof err) == 0,
            "%s (Debian package dataset-fashion-mnist)", err);
  float *f32 = logits_under("fp32", &images), *f16 = logits_under("fp16-storage", &images);
  int agree = 0, correct32 = 0, correct16 = 0, worst_i = 0;
  double worst = 0.0, sum = 0.0;
  for (int n = 0; n < N_IMAGES; n++) {
    const float *a = f32 + n * DEMO_NUM_CLASSES, *b = f16 + n * DEMO_NUM_CLASSES;
    agree += argmax(a) == argmax(b);
    correct32 += argmax(a) == labels.data[n];
    correct16 += argmax(b) == labels.data[n];
    for (int k = 0; k < DEMO_NUM_CLASSES; k++) {
      double d = fabs((double)a[k] - (double)b[k]);
      sum += d;
      if (d > worst) {
        worst = d;
        worst_i = n * DEMO_NUM_CLASSES + k;
      }
    }
  }
  cr_log_info("fp16-storage vs fp32 on %d images: top-1 agreement %d/%d, max |logit diff| %.4g "
              "(image %d, class %d), mean %.3g; accuracy fp32 %d, fp16-storage %d",
              N_IMAGES, agree, N_IMAGES, worst, worst_i / DEMO_NUM_CLASSES,
              worst_i % DEMO_NUM_CLASSES, sum / (N_IMAGES * DEMO_NUM_CLASSES), correct32,
              correct16);
  cr_assert(agree * 100 >= 99 * N_IMAGES, "top-1 agreement %d of %d is below 99%%", agree,
            N_IMAGES);
  cr_assert(worst <= LOGIT_TOL,
            "image %d, class %d: fp16-storage logit %.6g, fp32 %.6g (difference %.4g > %.2g)",
            worst_i / DEMO_NUM_CLASSES, worst_i % DEMO_NUM_CLASSES, (double)f16[worst_i],
            (double)f32[worst_i], worst, LOGIT_TOL);
  free(f32);
  free(f16);
  demo_idx_free(&images);
  demo_idx_free(&labels);
}
