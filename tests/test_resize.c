/* test_resize.c: Resize (opsets 10, 11, 13), Upsample (7, 9), DepthToSpace and SpaceToDepth against
   tests/ref/resize_ref.c (written like the ONNX Python reference) for every coordinate transform,
   nearest rounding mode, linear and cubic (exclude_outside, cubic_coeff_a), tf_crop_and_resize
   with extrapolation, scales and sizes, up- and downsampling, odd sizes, batch 3, ranks 1-4.
   Tolerances: nearest and the block ops exact; linear/cubic rtol 1e-5 atol 1e-5 (float taps and
   weights against double). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/resize_ref.h"
#include "test_util.h"

static const char *const coord_names[] = {"half_pixel",           "asymmetric",
                                          "align_corners",        "pytorch_half_pixel",
                                          "tf_half_pixel_for_nn", "tf_crop_and_resize"};
static const char *const round_names[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                          "ceil"};
static const char *const mode_names[] = {"nearest", "linear", "cubic"};

struct rcase {
  int rank;
  int64_t in[4];
  int use_sizes;
  float scales[4];
  int64_t sizes[4];
  enum resize_ref_mode mode;
  enum resize_ref_coord coord;
  enum resize_ref_round round;
  float cubic_a;
  int exclude_outside;
  float roi[8];
};

/* Runs Resize-13 on case t and compares with the reference. */
static void run_case(const struct rcase *t, int id) {
  nncl_array x = tu_rand(500 + (uint32_t)id, t->rank, t->in), out;
  int64_t rk = t->rank, two_rk = 2 * t->rank;
  nncl_array roi = tu_zeros(NNCL_FLOAT32, 1, &two_rk), scales = tu_zeros(NNCL_FLOAT32, 1, &rk);
  nncl_array sizes = tu_i64(t->rank, t->sizes);
  memcpy(roi.data, t->roi, (size_t)two_rk * sizeof(float));
  memcpy(scales.data, t->scales, (size_t)rk * sizeof(float));
  const nncl_array *in[] = {&x, t->coord == RREF_TF_CROP ? &roi : NULL,
                            t->use_sizes ? NULL : &scales, t->use_sizes ? &sizes : NULL};
  struct nncl__attr at[] = {
      A_STR("mode", mode_names[t->mode]),
      A_STR("coordinate_transformation_mode", coord_names[t->coord]),
      A_STR("nearest_mode", round_names[t->round < RREF_SIMPLE ? t->round : 0]),
      A_FLOAT("cubic_coeff_a", t->cubic_a ? t->cubic_a : -0.75f),
      A_INT("exclude_outside", t->exclude_outside),
      A_FLOAT("extrapolation_value", 10.0f)};
  tu_run_op("Resize", 13, at, 6, 4, in, 1, &out);

  struct resize_ref r = {.rank = t->rank,
                         .mode = t->mode,
                         .coord = t->coord,
                         .round = t->round,
                         .cubic_a = t->cubic_a ? t->cubic_a : -0.75f,
                         .extrapolation = 10.0,
                         .exclude_outside = t->exclude_outside,
                         .roi = t->coord == RREF_TF_CROP ? t->roi : NULL};
  int64_t total = 1;
  for (int a = 0; a < t->rank; a++) {
    r.in[a] = t->in[a];
    r.out[a] = t->use_sizes ? t->sizes[a] : (int64_t)floor((double)t->scales[a] * (double)t->in[a]);
    r.scale[a] = t->use_sizes ? (double)t->sizes[a] / (double)t->in[a] : (double)t->scales[a];
    total *= r.out[a];
    cr_assert_eq(out.shape.dims[a], r.out[a], "case %d axis %d: %lld, want %lld", id, a,
                 (long long)out.shape.dims[a], (long long)r.out[a]);
  }
  float *want = malloc((size_t)(total ? total : 1) * sizeof *want);
  resize_ref_run(&r, x.data, want);
  char what[160];
  snprintf(what, sizeof what, "Resize case %d (%s, %s, %s)", id, mode_names[t->mode],
           coord_names[t->coord], round_names[t->round < RREF_SIMPLE ? t->round : 0]);
  const double tol = t->mode == RREF_NEAREST ? 0 : 1e-5;
  tu_assert_close((float *)out.data, want, (size_t)total, tol, tol, what);
  free(want);
  nncl_array_free(&out);
  nncl_array_free(&x);
  nncl_array_free(&roi);
  nncl_array_free(&scales);
  nncl_array_free(&sizes);
}

Test(resize, nearest_every_transform_and_rounding) {
  int id = 0;
  for (int coord = 0; coord < 5; coord++)
    for (int round = 0; round < 4; round++) {
      /* upsample by fractional scales, odd sizes, batch 3 */
      struct rcase up = {
          4, {3, 2, 5, 7}, 0, {1, 1, 2.5f, 1.75f}, {0}, RREF_NEAREST, coord, round, 0, 0, {0}};
      run_case(&up, id++);
      /* downsample to given sizes */
      struct rcase down = {4,     {2, 3, 9, 11}, 1, {0}, {2, 3, 4, 6}, RREF_NEAREST,
                           coord, round,         0, 0,   {0}};
      run_case(&down, id++);
    }
  /* nearest also scales the leading axes; rank 3 and rank 1 */
  struct rcase lead = {
      4, {2, 3, 4, 5}, 0, {2, 1.5f, 1, 0.6f}, {0}, RREF_NEAREST, RREF_ASYMMETRIC, RREF_FLOOR, 0,
      0, {0}};
  run_case(&lead, id++);
  struct rcase r3 = {
      3, {2, 3, 7}, 1, {0}, {2, 3, 12}, RREF_NEAREST, RREF_HALF_PIXEL, RREF_PREFER_CEIL, 0, 0, {0}};
  run_case(&r3, id++);
  struct rcase r1 = {1, {9}, 0,  {1.7f}, {0}, RREF_NEAREST, RREF_ALIGN_CORNERS, RREF_PREFER_FLOOR,
                     0, 0,   {0}};
  run_case(&r1, id++);
}

Test(resize, linear_and_cubic) {
  int id = 100;
  for (int coord = 0; coord < 4; coord++) {
    struct rcase up = {4, {3, 2, 5, 7}, 0, {1, 1, 2.0f, 1.6f}, {0}, RREF_LINEAR, coord, 0, 0,
                       0, {0}};
    run_case(&up, id++);
    struct rcase down = {4, {2, 3, 9, 11}, 1, {0}, {2, 3, 4, 6}, RREF_LINEAR, coord, 0, 0, 0, {0}};
    run_case(&down, id++);
    struct rcase cup = {4, {1, 2, 6, 5}, 0, {1, 1, 1.5f, 2.0f}, {0}, RREF_CUBIC, coord, 0, 0,
                        0, {0}};
    run_case(&cup, id++);
    struct rcase cdown = {4, {1, 2, 9, 8}, 1, {0}, {1, 2, 5, 3}, RREF_CUBIC, coord,
                          0, -0.5f,        1, {0}};
    run_case(&cdown, id++);
  }
  /* the ONNX reference's float output length in align_corners (scale 0.6 on 4 columns) */
  struct rcase ac = {
      4, {1, 1, 2, 4}, 0, {1, 1, 0.6f, 0.6f}, {0}, RREF_LINEAR, RREF_ALIGN_CORNERS, 0, 0, 0, {0}};
  run_case(&ac, id++);
  /* 1x1 image up, single-pixel output, rank 2 */
  struct rcase one = {4, {2, 2, 1, 1}, 0, {1, 1, 3, 2}, {0}, RREF_LINEAR, RREF_HALF_PIXEL, 0, 0,
                      0, {0}};
  run_case(&one, id++);
  struct rcase single = {
      4, {1, 3, 5, 4}, 1, {0}, {1, 3, 1, 1}, RREF_CUBIC, RREF_PYTORCH_HALF_PIXEL, 0, 0, 0, {0}};
  run_case(&single, id++);
  struct rcase r2 = {2, {5, 6}, 1, {0}, {7, 4}, RREF_LINEAR, RREF_HALF_PIXEL, 0, 0, 0, {0}};
  run_case(&r2, id++);
}

Test(resize, tf_crop_and_resize) {
  struct rcase lin = {4,
                      {1, 2, 6, 7},
                      1,
                      {0},
                      {1, 2, 4, 5},
                      RREF_LINEAR,
                      RREF_TF_CROP,
                      0,
                      0,
                      0,
                      {0, 0, 0.2f, 0.1f, 1, 1, 0.9f, 1.3f}};
  run_case(&lin, 200);
  struct rcase nn = {4,
                     {1, 2, 6, 7},
                     1,
                     {0},
                     {1, 2, 5, 3},
                     RREF_NEAREST,
                     RREF_TF_CROP,
                     RREF_PREFER_CEIL,
                     0,
                     0,
                     {0, 0, -0.3f, 0.4f, 1, 1, 0.8f, 0.6f}};
  run_case(&nn, 201);
  struct rcase cub = {4,
                      {1, 1, 8, 8},
                      1,
                      {0},
                      {1, 1, 3, 3},
                      RREF_CUBIC,
                      RREF_TF_CROP,
                      0,
                      0,
                      0,
                      {0, 0, 0.4f, 0.6f, 1, 1, 0.6f, 0.8f}};
  run_case(&cub, 202);
}

/* Legacy forms: Upsample-7 (attribute), Upsample-9 and Resize-10 (scales input), asymmetric. */
Test(resize, upsample_and_resize10) {
  nncl_array x = TU_RAND(600, 3, 2, 4, 5), out;
  const float sc[4] = {1, 1, 2, 3};
  int64_t four = 4;
  nncl_array scales = tu_zeros(NNCL_FLOAT32, 1, &four);
  memcpy(scales.data, sc, sizeof sc);
  struct resize_ref r = {.rank = 4,
                         .in = {3, 2, 4, 5},
                         .out = {3, 2, 8, 15},
                         .scale = {1, 1, 2, 3},
                         .coord = RREF_ASYMMETRIC,
                         .round = RREF_SIMPLE};
  float *want = malloc(3 * 2 * 8 * 15 * sizeof *want);

  struct nncl__attr a7[] = {A_FLOATS("scales", 1, 1, 2, 3), A_STR("mode", "nearest")};
  const nncl_array *in1[] = {&x};
  tu_run_op("Upsample", 7, a7, 2, 1, in1, 1, &out);
  r.mode = RREF_NEAREST;
  resize_ref_run(&r, x.data, want);
  tu_assert_close((float *)out.data, want, 720, 0, 0, "Upsample-7 nearest");
  nncl_array_free(&out);

  struct nncl__attr a9[] = {A_STR("mode", "linear")};
  const nncl_array *in2[] = {&x, &scales};
  tu_run_op("Upsample", 9, a9, 1, 2, in2, 1, &out);
  r.mode = RREF_LINEAR;
  resize_ref_run(&r, x.data, want);
  tu_assert_close((float *)out.data, want, 720, 1e-5, 1e-5, "Upsample-9 linear");
  nncl_array_free(&out);

  /* Resize-10 downsampling nearest: onnxruntime rounds up */
  const float dn[4] = {1, 1, 0.6f, 0.5f};
  memcpy(scales.data, dn, sizeof dn);
  struct nncl__attr a10[] = {A_STR("mode", "nearest")};
  tu_run_op("Resize", 10, a10, 1, 2, in2, 1, &out);
  struct resize_ref d = {.rank = 4,
                         .in = {3, 2, 4, 5},
                         .out = {3, 2, 2, 2},
                         .scale = {1, 1, 0.6f, 0.5f},
                         .coord = RREF_ASYMMETRIC,
                         .round = RREF_SIMPLE,
                         .mode = RREF_NEAREST};
  cr_assert_eq(out.shape.dims[2], 2);
  cr_assert_eq(out.shape.dims[3], 2);
  resize_ref_run(&d, x.data, want);
  tu_assert_close((float *)out.data, want, 24, 0, 0, "Resize-10 nearest downsample");
  nncl_array_free(&out);

  free(want);
  nncl_array_free(&scales);
  nncl_array_free(&x);
}

Test(resize, onnx_example_upsample_nearest) {
  /* test_upsample_nearest: [[1, 2], [3, 4]] by (2, 3) */
  nncl_array x = TU_ZEROS(NNCL_FLOAT32, 1, 1, 2, 2), out;
  for (int i = 0; i < 4; i++) ((float *)x.data)[i] = (float)(i + 1);
  struct nncl__attr a7[] = {A_FLOATS("scales", 1, 1, 2, 3), A_STR("mode", "nearest")};
  const nncl_array *in[] = {&x};
  tu_run_op("Upsample", 7, a7, 2, 1, in, 1, &out);
  const float want[] = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
  tu_assert_close((float *)out.data, want, 24, 0, 0, "Upsample example");
  nncl_array_free(&out);
  nncl_array_free(&x);
}

Test(resize, errors) {
  nncl_array x = TU_RAND(1, 1, 3, 4, 4), out;
  int64_t four = 4, three = 3;
  nncl_array sc = tu_zeros(NNCL_FLOAT32, 1, &four), sc3 = tu_zeros(NNCL_FLOAT32, 1, &three);
  const float v[4] = {1, 2, 2, 2};
  memcpy(sc.data, v, sizeof v);
  struct nncl__attr lin[] = {A_STR("mode", "linear")};
  const nncl_array *in[] = {&x, NULL, &sc};
  cr_assert_eq(tu_try_op("Resize", 13, lin, 1, 3, in, 1, &out), NNCL_ERR_UNSUPPORTED);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "Resize") && strstr(msg, "[1, 3, 4, 4]") && strstr(msg, "axis 1"), "%s",
            msg);

  const nncl_array *in3[] = {&x, NULL, &sc3};
  cr_assert_eq(tu_try_op("Resize", 13, NULL, 0, 3, in3, 1, &out), NNCL_ERR_SHAPE);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "scales"));

  nncl_array sizes = TU_I64(1, 3, 8, 8);
  const nncl_array *both[] = {&x, NULL, &sc, &sizes};
  cr_assert_eq(tu_try_op("Resize", 13, NULL, 0, 4, both, 1, &out), NNCL_ERR_INVALID_ARGUMENT);

  struct nncl__attr bad[] = {A_STR("coordinate_transformation_mode", "corners")};
  const nncl_array *ok[] = {&x, NULL, &sc};
  cr_assert_eq(tu_try_op("Resize", 13, bad, 1, 3, ok, 1, &out), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "corners"));

  struct nncl__attr cubic[] = {A_STR("mode", "cubic")};
  const nncl_array *up[] = {&x, &sc};
  cr_assert_eq(tu_try_op("Upsample", 9, cubic, 1, 2, up, 1, &out), NNCL_ERR_INVALID_ARGUMENT);

  struct nncl__attr b3[] = {A_INT("blocksize", 3)};
  const nncl_array *in1[] = {&x};
  cr_assert_eq(tu_try_op("DepthToSpace", 13, b3, 1, 1, in1, 1, &out), NNCL_ERR_SHAPE);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "[1, 3, 4, 4]"));
  cr_assert_eq(tu_try_op("SpaceToDepth", 13, b3, 1, 1, in1, 1, &out), NNCL_ERR_SHAPE);
  cr_assert_eq(tu_try_op("SpaceToDepth", 13, NULL, 0, 1, in1, 1, &out), NNCL_ERR_INVALID_ARGUMENT);

  nncl_array_free(&sizes);
  nncl_array_free(&sc);
  nncl_array_free(&sc3);
  nncl_array_free(&x);
}

Test(resize, depth_to_space_and_back) {
  const struct {
    int64_t n, c, h, w, b;
  } cases[] = {{2, 12, 3, 5, 2}, {1, 18, 2, 2, 3}, {3, 4, 1, 1, 2}};
  for (int i = 0; i < 3; i++) {
    for (int crd = 0; crd < 2; crd++) {
      nncl_array x = TU_RAND(700 + (uint32_t)i, cases[i].n, cases[i].c, cases[i].h, cases[i].w), y,
                 back;
      struct nncl__attr at[] = {A_INT("blocksize", cases[i].b), A_STR("mode", crd ? "CRD" : "DCR")};
      const nncl_array *in[] = {&x};
      tu_run_op("DepthToSpace", 13, at, 2, 1, in, 1, &y);
      const size_t n = (size_t)nncl_shape_numel(&x.shape);
      cr_assert_eq(y.shape.dims[1], cases[i].c / (cases[i].b * cases[i].b));
      cr_assert_eq(y.shape.dims[3], cases[i].w * cases[i].b);
      float *want = malloc(n * sizeof *want);
      resize_ref_depth_to_space(x.data, cases[i].n, cases[i].c, cases[i].h, cases[i].w, cases[i].b,
                                crd, want);
      char what[64];
      snprintf(what, sizeof what, "DepthToSpace case %d %s", i, crd ? "CRD" : "DCR");
      tu_assert_close((float *)y.data, want, n, 0, 0, what);
      /* SpaceToDepth inverts DCR DepthToSpace */
      const nncl_array *yin[] = {&y};
      tu_run_op("SpaceToDepth", 13, at, 1, 1, yin, 1, &back);
      resize_ref_space_to_depth(y.data, y.shape.dims[0], y.shape.dims[1], y.shape.dims[2],
                                y.shape.dims[3], cases[i].b, want);
      snprintf(what, sizeof what, "SpaceToDepth case %d", i);
      tu_assert_close((float *)back.data, want, n, 0, 0, what);
      if (!crd)
        tu_assert_close((float *)back.data, (float *)x.data, n, 0, 0, "SpaceToDepth(DepthToSpace)");
      free(want);
      nncl_array_free(&x);
      nncl_array_free(&y);
      nncl_array_free(&back);
    }
  }
}

Test(resize, empty_batch) {
  nncl_array x = TU_ZEROS(NNCL_FLOAT32, 0, 3, 4, 4), out;
  int64_t four = 4;
  nncl_array sc = tu_zeros(NNCL_FLOAT32, 1, &four);
  const float v[4] = {1, 1, 2, 2};
  memcpy(sc.data, v, sizeof v);
  struct nncl__attr lin[] = {A_STR("mode", "linear")};
  const nncl_array *in[] = {&x, NULL, &sc};
  tu_run_op("Resize", 13, lin, 1, 3, in, 1, &out);
  cr_assert(out.shape.dims[0] == 0 && out.shape.dims[2] == 8 && out.shape.dims[3] == 8);
  nncl_array_free(&out);
  struct nncl__attr b2[] = {A_INT("blocksize", 2)};
  const nncl_array *in1[] = {&x};
  tu_run_op("SpaceToDepth", 13, b2, 1, 1, in1, 1, &out);
  cr_assert(out.shape.dims[0] == 0 && out.shape.dims[1] == 12 && out.shape.dims[2] == 2);
  nncl_array_free(&out);
  nncl_array_free(&sc);
  nncl_array_free(&x);
}

/* A roi shorter than 2 * rank outside tf_crop_and_resize is ignored (the spec uses roi only there,
   onnxruntime accepts such models): the result equals the run without roi, exactly, and nothing
   reads past the one value given (ASan caught roi[i + rank] here before). */
Test(resize, short_roi_ignored_outside_crop) {
  nncl_array x = TU_RAND(7, 1, 1, 3, 4), roi = TU_ZEROS(NNCL_FLOAT32, 1), out_roi, out_none;
  ((float *)roi.data)[0] = 0.25f;
  nncl_array scales = TU_ZEROS(NNCL_FLOAT32, 4);
  const float sc[] = {1, 1, 2, 2};
  memcpy(scales.data, sc, sizeof sc);
  struct nncl__attr at[] = {A_STR("mode", "linear")};
  const nncl_array *with[] = {&x, &roi, &scales}, *without[] = {&x, NULL, &scales};
  tu_run_op("Resize", 13, at, 1, 3, with, 1, &out_roi);
  tu_run_op("Resize", 13, at, 1, 3, without, 1, &out_none);
  cr_assert_eq(nncl_shape_numel(&out_roi.shape), 48);
  tu_assert_close((float *)out_roi.data, (float *)out_none.data, 48, 0, 0, "short roi");
  /* tf_crop_and_resize needs all 2 * rank values: a short roi is a named shape error */
  struct nncl__attr crop[] = {A_STR("mode", "linear"),
                              A_STR("coordinate_transformation_mode", "tf_crop_and_resize")};
  nncl_array bad;
  cr_assert_eq(tu_try_op("Resize", 13, crop, 2, 3, with, 1, &bad), NNCL_ERR_SHAPE);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "roi of 8 values, got 1"), "%s",
            nncl_context_last_error(tu_ctx()));
  nncl_array *all[] = {&x, &roi, &scales, &out_roi, &out_none};
  for (int i = 0; i < 5; i++) nncl_array_free(all[i]);
}
