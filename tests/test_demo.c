/* test_demo.c: the Fashion-MNIST demo's parts: class activation maps computed on the device by
   the CAM subgraph (tools/demo_cam.c) against a C reference computed from the same feature maps
   and linear-layer weights, on known test images; the IDX reader; the picture preparation of
   `nncl classify`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/demo_cam.h"
#include "../tools/demo_idx.h"
#include "../tools/demo_prepare.h"
#include "test_util.h"

#define DATA_DIR "/usr/share/datasets/fashion-mnist"
#define SIDE 28
#define N_IMAGES 3 /* the first test images: an ankle boot, a pullover, a trouser */

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

/* ONNX Resize, mode linear, half_pixel, one spatial axis: source coordinate and weights. */
static void linear_tap(int o, int in, float scale, int *i0, int *i1, float *frac) {
  float x = ((float)o + 0.5f) / scale - 0.5f;
  if (x < 0.0f) x = 0.0f;
  int f = (int)floorf(x);
  if (f > in - 1) f = in - 1;
  *i0 = f;
  *i1 = f + 1 < in ? f + 1 : in - 1;
  *frac = x - (float)f;
}

/* The CAM of class k for one image: features [C, h, w], weight [K, C] -> out [h*s, w*s]. */
static void cam_reference(const float *feat, int C, int h, int w, const float *weight, int k, int s,
                          float *out) {
  float *map = malloc((size_t)h * (size_t)w * sizeof *map);
  cr_assert(map);
  float lo = INFINITY, hi = -INFINITY;
  for (int p = 0; p < h * w; p++) {
    double acc = 0.0;
    for (int c = 0; c < C; c++)
      acc += (double)weight[k * C + c] * (double)feat[(size_t)c * h * w + p];
    float v = acc > 0.0 ? (float)acc : 0.0f;
    map[p] = v;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  for (int p = 0; p < h * w; p++) map[p] = (map[p] - lo) / (hi - lo + DEMO_CAM_EPS);
  const int oh = h * s, ow = w * s;
  for (int y = 0; y < oh; y++) {
    int y0, y1;
    float fy;
    linear_tap(y, h, (float)s, &y0, &y1, &fy);
    for (int x = 0; x < ow; x++) {
      int x0, x1;
      float fx;
      linear_tap(x, w, (float)s, &x0, &x1, &fx);
      float top = map[y0 * w + x0] * (1.0f - fx) + map[y0 * w + x1] * fx;
      float bottom = map[y1 * w + x0] * (1.0f - fx) + map[y1 * w + x1] * fx;
      out[y * ow + x] = top * (1.0f - fy) + bottom * fy;
    }
  }
  free(map);
}

static void read_test_split(demo_idx *images, demo_idx *labels) {
  char err[4096];
  cr_assert(demo_idx_read_split(DATA_DIR, "t10k", images, labels, err, sizeof err) == 0,
            "%s (Debian package dataset-fashion-mnist)", err);
}

Test(demo, cam_matches_c_reference_on_known_images) {
  nncl_context *ctx = tu_ctx();
  char path[4096];
  model_path("fashion_cnn.onnx", path, sizeof path);
  demo_idx images, labels;
  read_test_split(&images, &labels);
  cr_assert_eq(images.count, 10000);

  nncl_graph *g = NULL;
  cr_assert_eq(nncl_onnx_load(ctx, path, &g), NNCL_OK, "%s: %s", path,
               nncl_context_last_error(ctx));
  cr_assert_eq(demo_cam_add(g, "features", "fc.weight", 4.0f, "cam"), NNCL_OK, "%s",
               nncl_context_last_error(ctx));
  /* The weights the maps were computed with, read back through the same graph. */
  const char *w_in = "fc.weight", *w_out = "test/fc_weight";
  cr_assert_eq(nncl_graph_add_node(g, "Identity", "test/fc_weight", 1, &w_in, 1, &w_out, NULL),
               NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, w_out), NNCL_OK);

  nncl_array in;
  nncl_shape shape = {4, {N_IMAGES, 1, SIDE, SIDE}};
  cr_assert_eq(nncl_array_alloc(&in, NNCL_FLOAT32, &shape), NNCL_OK);
  for (size_t i = 0; i < (size_t)N_IMAGES * SIDE * SIDE; i++)
    ((float *)in.data)[i] = images.data[i] / 255.0f;
  cr_assert_eq(nncl_graph_set_input(g, nncl_graph_input_name(g, 0), &in), NNCL_OK);
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(ctx));

  nncl_array logits, feat, weight, cam;
  cr_assert_eq(nncl_graph_get_output_by_name(g, "logits", &logits), NNCL_OK);
  cr_assert_eq(nncl_graph_get_output_by_name(g, "features", &feat), NNCL_OK);
  cr_assert_eq(nncl_graph_get_output_by_name(g, w_out, &weight), NNCL_OK, "%s",
               nncl_context_last_error(ctx));
  cr_assert_eq(nncl_graph_get_output_by_name(g, "cam", &cam), NNCL_OK);
  cr_assert_eq(feat.shape.rank, 4);
  cr_assert_eq(feat.shape.dims[0], N_IMAGES);
  const int C = (int)feat.shape.dims[1], h = (int)feat.shape.dims[2], w = (int)feat.shape.dims[3];
  const int K = DEMO_NUM_CLASSES;
  cr_assert(h == 7 && w == 7, "feature maps are %dx%d, expected 7x7", h, w);
  cr_assert(weight.shape.rank == 2 && weight.shape.dims[0] == K && weight.shape.dims[1] == C);
  cr_assert(cam.shape.rank == 4 && cam.shape.dims[0] == N_IMAGES && cam.shape.dims[1] == K &&
            cam.shape.dims[2] == SIDE && cam.shape.dims[3] == SIDE);

  /* Every class's map of every image, the predicted class's among them. Normalised maps lie in
     [0, 1]; float32 device sums against double host sums agree to well under 1e-4. */
  float want[SIDE * SIDE];
  double worst = 0.0;
  for (int n = 0; n < N_IMAGES; n++)
    for (int k = 0; k < K; k++) {
      cam_reference((const float *)feat.data + (size_t)n * C * h * w, C, h, w, weight.data, k, 4,
                    want);
      const float *got = (const float *)cam.data + ((size_t)n * K + k) * SIDE * SIDE;
      char what[64];
      snprintf(what, sizeof what, "CAM of image %d, class %d", n, k);
      tu_assert_close(got, want, SIDE * SIDE, 1e-4, 1e-4, what);
      for (int p = 0; p < SIDE * SIDE; p++) {
        double d = fabs((double)got[p] - (double)want[p]);
        worst = d > worst ? d : worst;
        cr_assert(got[p] >= -1e-6f && got[p] <= 1.0f + 1e-6f, "%s: %g outside [0, 1]", what,
                  (double)got[p]);
      }
    }
  cr_log_info("CAM: max |device - reference| = %.3g over %d images x %d classes", worst, N_IMAGES,
              K);

  /* The first test image is an ankle boot that the committed CNN recognises. */
  const float *l = logits.data;
  int pred = 0;
  for (int k = 1; k < K; k++) pred = l[k] > l[pred] ? k : pred;
  cr_assert_eq(labels.data[0], 9);
  cr_assert_eq(pred, 9, "the CNN calls test image 0 (an ankle boot) class %d", pred);

  nncl_array_free(&in);
  nncl_array_free(&logits);
  nncl_array_free(&feat);
  nncl_array_free(&weight);
  nncl_array_free(&cam);
  nncl_graph_destroy(g);
  demo_idx_free(&images);
  demo_idx_free(&labels);
}

Test(demo, idx_reader_reads_the_test_set_and_rejects_bad_files) {
  demo_idx images, labels;
  read_test_split(&images, &labels);
  cr_assert(images.rank == 3 && images.dims[1] == 28 && images.dims[2] == 28 &&
            images.item_size == 784);
  cr_assert_eq(labels.count, 10000);
  /* The well-known first labels of the Fashion-MNIST test set. */
  static const uint8_t first[8] = {9, 2, 1, 1, 6, 1, 4, 6};
  cr_assert_arr_eq(labels.data, first, sizeof first);
  long per_class[DEMO_NUM_CLASSES] = {0};
  for (size_t i = 0; i < labels.count; i++) per_class[labels.data[i]]++;
  for (int c = 0; c < DEMO_NUM_CLASSES; c++) cr_assert_eq(per_class[c], 1000, "class %d", c);
  demo_idx_free(&images);
  demo_idx_free(&labels);

  char err[512], tmp[] = "/tmp/nncl_test_idx_XXXXXX";
  demo_idx bad;
  cr_assert_eq(demo_idx_read("/nonexistent/t10k-images-idx3-ubyte.gz", &bad, err, sizeof err), -1);
  cr_assert(strstr(err, "cannot open"), "%s", err);
  int fd = mkstemp(tmp);
  cr_assert(fd >= 0);
  FILE *f = fdopen(fd, "wb");
  const unsigned char wrong_type[] = {0, 0, 0x0d, 1, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8};
  fwrite(wrong_type, 1, sizeof wrong_type, f);
  fclose(f);
  cr_assert_eq(demo_idx_read(tmp, &bad, err, sizeof err), -1);
  cr_assert(strstr(err, "element type"), "%s", err);
  f = fopen(tmp, "wb");
  const unsigned char truncated[] = {0, 0, 0x08, 1, 0, 0, 0, 9, 1, 2};
  fwrite(truncated, 1, sizeof truncated, f);
  fclose(f);
  cr_assert_eq(demo_idx_read(tmp, &bad, err, sizeof err), -1);
  cr_assert(strstr(err, "truncated"), "%s", err);
  cr_assert_null(bad.data);
  remove(tmp);
}

Test(demo, classify_prepares_pictures_like_the_data_set) {
  demo_idx images, labels;
  read_test_split(&images, &labels);
  const uint8_t *img = images.data + 784; /* the pullover */
  uint8_t out[SIDE * SIDE];
  int inverted = -1;

  demo_prepare_image(img, SIDE, SIDE, -1, out, &inverted);
  cr_assert_eq(inverted, 0, "a black-bordered data set image must not be inverted");
  cr_assert_arr_eq(out, img, sizeof out, "a 28x28 picture must pass unchanged");

  /* The same picture 3x larger and dark on white: scaled back down and inverted, it is exact. */
  const int z = 3, side = SIDE * z;
  uint8_t *sq = malloc((size_t)side * side);
  cr_assert(sq);
  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++) sq[y * side + x] = (uint8_t)(255 - img[(y / z) * SIDE + x / z]);
  demo_prepare_image(sq, side, side, -1, out, &inverted);
  cr_assert_eq(inverted, 1, "a white-bordered picture must be inverted");
  cr_assert_arr_eq(out, img, sizeof out, "3x box-averaging must restore the original");
  demo_prepare_image(sq, side, side, 0, out, &inverted);
  cr_assert_eq(inverted, 0);
  for (int i = 0; i < SIDE * SIDE; i++) cr_assert_eq(out[i], 255 - img[i], "pixel %d", i);

  /* Wider than high (white margins of 6 pixels at the sides, 3 above and below): padding it to a
     square with its border's grey must give what the same picture drawn on a white square gives. */
  const int w = side + 12, h = side + 6;
  uint8_t *big = malloc((size_t)w * h), *square = malloc((size_t)w * w), want[SIDE * SIDE];
  cr_assert(big && square);
  memset(big, 255, (size_t)w * h);
  memset(square, 255, (size_t)w * w);
  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++) {
      big[(y + 3) * w + x + 6] = sq[y * side + x];
      square[(y + 6) * w + x + 6] = sq[y * side + x];
    }
  demo_prepare_image(big, w, h, -1, out, &inverted);
  cr_assert_eq(inverted, 1);
  demo_prepare_image(square, w, w, 1, want, NULL);
  cr_assert_arr_eq(out, want, sizeof out, "a non-square picture must be centred on a square");
  free(square);
  free(big);
  free(sq);
  demo_idx_free(&images);
  demo_idx_free(&labels);
}
