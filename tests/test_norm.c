/* test_norm.c: BatchNormalization (inference and training mode), InstanceNormalization,
   LayerNormalization, LRN and MeanVarianceNormalization against the double-precision references in
   tests/ref/norm_ref.c on awkward shapes (odd sizes, batch 3, 1x1 images, rows longer than a
   work-group, data far from zero mean, empty batch, random axes).
   Tolerances: BatchNorm and LRN rtol 1e-5 atol 1e-6 (one rounding chain per element); instance and
   layer norm rtol/atol 1e-4 with unit-variance data (float32 Welford statistics against two-pass
   double), also for data offset by +100 where a naive sum-of-squares loses every digit;
   MeanVarianceNormalization 1e-4 relative + 1e-4 absolute (float two-pass vs double); training-mode
   BatchNorm as stated at its test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/norm_ref.h"
#include "test_util.h"

static nncl_array positive(uint32_t seed, int64_t n) {
  nncl_array a = tu_rand(seed, 1, &n);
  for (int64_t i = 0; i < n; i++) ((float *)a.data)[i] = 0.1f + fabsf(((float *)a.data)[i]);
  return a;
}

static void batchnorm_case(int64_t n, int64_t c, int rank, const int64_t *sp, int opset,
                           int spatial) {
  int64_t dims[6] = {n, c}, s = 1;
  for (int i = 2; i < rank; i++) s *= (dims[i] = sp[i - 2]);
  const int64_t np = spatial ? c : c * s;
  nncl_array x = tu_rand(10, rank, dims), sc = tu_rand(11, 1, &np), b = tu_rand(12, 1, &np),
             m = tu_rand(13, 1, &np), v = positive(14, np), out;
  const nncl_array *in[] = {&x, &sc, &b, &m, &v};
  struct nncl__attr at[] = {A_FLOAT("epsilon", 1e-3f), A_INT("spatial", spatial)};
  tu_run_op("BatchNormalization", opset, at, opset < 9 ? 2 : 1, 5, in, 1, &out);
  int64_t total = n * c * s;
  float *want = malloc((size_t)(total ? total : 1) * sizeof *want);
  norm_ref_batch(x.data, n, c, s, sc.data, b.data, m.data, v.data, 1e-3f, spatial, want);
  cr_assert_eq(out.shape.rank, rank);
  tu_assert_close((float *)out.data, want, (size_t)total, 1e-5, 1e-6, "BatchNormalization");
  free(want);
  nncl_array_free(&x);
  nncl_array_free(&sc);
  nncl_array_free(&b);
  nncl_array_free(&m);
  nncl_array_free(&v);
  nncl_array_free(&out);
}

/* algo: the option norm.algo (NULL: the op's own choice; "rows": a work-item per plane, also for
   fewer planes than the heuristic wants; "direct": a work-item per element). */
static void batchnorm_cases(const char *algo) {
  tu_set_option("norm.algo", algo);
  batchnorm_case(3, 5, 4, (int64_t[]){7, 9}, 15, 1);
  batchnorm_case(4, 6, 2, NULL, 9, 1);                 /* [N, C] */
  batchnorm_case(2, 3, 3, (int64_t[]){37}, 14, 1);     /* 1-D spatial */
  batchnorm_case(2, 3, 4, (int64_t[]){4, 5}, 7, 0);    /* opset 7 spatial=0 */
  batchnorm_case(0, 3, 4, (int64_t[]){4, 5}, 15, 1);   /* empty batch */
  batchnorm_case(2, 5, 4, (int64_t[]){16, 16}, 15, 1); /* planes a multiple of 8 wide */
  tu_set_option("norm.algo", NULL);
}

Test(norm, batchnorm) { batchnorm_cases(NULL); }
Test(norm, batchnorm_per_plane) { batchnorm_cases("rows"); }
Test(norm, batchnorm_per_element) { batchnorm_cases("direct"); }

Test(norm, batchnorm_errors) {
  nncl_array x = TU_RAND(1, 2, 3, 4, 4), p3 = TU_RAND(2, 3), p4 = TU_RAND(3, 4), out;
  const nncl_array *bad[] = {&x, &p4, &p3, &p3, &p3};
  cr_assert_eq(tu_try_op("BatchNormalization", 15, NULL, 0, 5, bad, 1, &out), NNCL_ERR_SHAPE);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "scale") && strstr(msg, "[4]") && strstr(msg, "[2, 3, 4, 4]"), "%s", msg);
  const nncl_array *good[] = {&x, &p3, &p3, &p3, &p3};
  /* training mode is supported at opset 14+ (Test(batchnorm_train, ...) below); the opset 9-13 saved-statistics
     outputs are not */
  struct nncl__attr train[] = {A_INT("training_mode", 1)};
  nncl_array outs[3];
  cr_assert_eq(tu_try_op("BatchNormalization", 9, train, 1, 5, good, 3, outs),
               NNCL_ERR_UNSUPPORTED);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "training"));
  cr_assert_eq(tu_try_op("BatchNormalization", 15, NULL, 0, 5, good, 3, outs),
               NNCL_ERR_UNSUPPORTED);
  nncl_array_free(&x);
  nncl_array_free(&p3);
  nncl_array_free(&p4);
}

static void instance_case(int64_t n, int64_t c, int rank, const int64_t *sp, float offset) {
  int64_t dims[6] = {n, c}, s = 1;
  for (int i = 2; i < rank; i++) s *= (dims[i] = sp[i - 2]);
  nncl_array x = tu_rand(20, rank, dims), sc = tu_rand(21, 1, &c), b = tu_rand(22, 1, &c), out;
  int64_t total = n * c * s;
  for (int64_t i = 0; i < total; i++) ((float *)x.data)[i] += offset;
  const nncl_array *in[] = {&x, &sc, &b};
  struct nncl__attr at[] = {A_FLOAT("epsilon", 1e-5f)};
  tu_run_op("InstanceNormalization", 6, at, 1, 3, in, 1, &out);
  float *want = malloc((size_t)(total ? total : 1) * sizeof *want);
  norm_ref_instance(x.data, n, c, s, sc.data, b.data, 1e-5f, want);
  char what[96];
  snprintf(what, sizeof what, "InstanceNormalization [%lld, %lld, s=%lld] offset %g", (long long)n,
           (long long)c, (long long)s, (double)offset);
  tu_assert_close((float *)out.data, want, (size_t)total, 1e-4, 1e-4, what);
  free(want);
  nncl_array_free(&x);
  nncl_array_free(&sc);
  nncl_array_free(&b);
  nncl_array_free(&out);
}

static void instance_cases(const char *algo) {
  tu_set_option("norm.algo", algo);
  instance_case(3, 4, 4, (int64_t[]){13, 17}, 0.0f);
  instance_case(4, 3, 4, (int64_t[]){8, 16}, 0.0f);     /* planes a multiple of 8 wide */
  instance_case(2, 3, 3, (int64_t[]){1000}, 0.0f);      /* rows longer than a work-group */
  instance_case(2, 3, 4, (int64_t[]){1, 1}, 0.0f);      /* 1x1: variance 0, y = B */
  instance_case(1, 2, 4, (int64_t[]){31, 33}, 100.0f);  /* far from zero mean */
  instance_case(1, 3, 4, (int64_t[]){100, 101}, 20.0f); /* few long rows: split statistics */
  instance_case(0, 2, 4, (int64_t[]){3, 3}, 0.0f);      /* empty batch */
  tu_set_option("norm.algo", NULL);
}

/* algo as for BatchNorm; "direct" is the work-group per plane (split when few and long). */
Test(norm, instancenorm) { instance_cases(NULL); }
Test(norm, instancenorm_per_plane) { instance_cases("rows"); }
Test(norm, instancenorm_per_group) { instance_cases("direct"); }

/* algo: NULL for the op's own choice, else the option layernorm.algo ("rows": a work-item per row, "group": a
   work-group per row, never split). */
static void layer_case(const char *algo, int rank, const int64_t *dims, int axis, int p_rank,
                       int with_bias, int n_out, float offset) {
  int ax = axis < 0 ? axis + rank : axis;
  int64_t rows = 1, len = 1, pdims[8], np = 1;
  for (int i = 0; i < ax; i++) rows *= dims[i];
  for (int i = ax; i < rank; i++) len *= dims[i];
  for (int i = 0; i < p_rank; i++) np *= (pdims[i] = dims[rank - p_rank + i]);
  nncl_array x = tu_rand(30, rank, dims), sc = tu_rand(31, p_rank, pdims),
             b = tu_rand(32, p_rank, pdims);
  nncl_array out[3];
  for (int64_t i = 0; i < rows * len; i++) ((float *)x.data)[i] += offset;
  const nncl_array *in[] = {&x, &sc, &b};
  struct nncl__attr at[] = {A_INT("axis", axis), A_FLOAT("epsilon", 1e-4f)};
  tu_set_option("layernorm.algo", algo);
  tu_run_op("LayerNormalization", 17, at, 2, with_bias ? 3 : 2, in, n_out, out);
  tu_set_option("layernorm.algo", NULL);
  float *want = malloc((size_t)(rows * len + 1) * sizeof *want);
  float *wm = malloc((size_t)(rows + 1) * sizeof *wm),
        *wi = malloc((size_t)(rows + 1) * sizeof *wi);
  norm_ref_layer(x.data, rows, len, sc.data, with_bias ? b.data : NULL, np, 1e-4f, want, wm, wi);
  char what[96];
  snprintf(what, sizeof what, "LayerNormalization %s rank %d axis %d scale rank %d bias %d",
           algo ? algo : "default", rank, axis, p_rank, with_bias);
  tu_assert_close((float *)out[0].data, want, (size_t)(rows * len), 1e-4, 1e-4, what);
  if (n_out > 1) {
    cr_assert_eq(out[1].shape.rank, rank);
    for (int i = 0; i < rank; i++) cr_assert_eq(out[1].shape.dims[i], i < ax ? dims[i] : 1);
    tu_assert_close((float *)out[1].data, wm, (size_t)rows, 1e-5, 1e-5, "LayerNormalization Mean");
  }
  if (n_out > 2)
    tu_assert_close((float *)out[2].data, wi, (size_t)rows, 1e-4, 1e-5,
                    "LayerNormalization InvStdDev");
  for (int i = 0; i < n_out; i++) nncl_array_free(&out[i]);
  free(want);
  free(wm);
  free(wi);
  nncl_array_free(&x);
  nncl_array_free(&sc);
  nncl_array_free(&b);
}

Test(norm, layernorm) {
  const int64_t d3[] = {3, 5, 7}, d4[] = {2, 3, 5, 67}, big[] = {3, 769}, empty[] = {0, 8};
  static const char *const algos[] = {NULL, "rows", "group"};
  for (int a = 0; a < 3; a++) {
    const char *al = algos[a];
    layer_case(al, 3, d3, -1, 1, 1, 1, 0.0f);
    layer_case(al, 3, d3, 1, 2, 1, 3, 0.0f);
    layer_case(al, 3, d3, 1, 1, 0, 2, 0.0f);   /* Scale [7] broadcast over [5, 7], no bias */
    layer_case(al, 3, d3, 0, 3, 1, 3, 0.0f);   /* one row */
    layer_case(al, 4, d4, -2, 2, 1, 3, 50.0f); /* offset data */
    layer_case(al, 2, big, -1, 1, 1, 1, 0.0f); /* longer than a work-group */
    layer_case(al, 2, (int64_t[]){2, 9001}, -1, 1, 1, 3, 30.0f);  /* few long rows */
    layer_case(al, 3, (int64_t[]){2, 90, 100}, 0, 1, 0, 2, 0.0f); /* one row, Scale [100] */
    layer_case(al, 2, (int64_t[]){37, 768}, -1, 1, 1, 1, 0.0f);   /* BERT rows, 8-wide loads */
    layer_case(al, 2, (int64_t[]){41, 13}, -1, 1, 0, 3, 10.0f);   /* vector part and tail */
    layer_case(al, 2, empty, -1, 1, 1, 1, 0.0f);
  }
}

Test(norm, layernorm_errors) {
  nncl_array x = TU_RAND(1, 3, 5, 7), bad = TU_RAND(2, 5), out;
  const nncl_array *in[] = {&x, &bad};
  cr_assert_eq(tu_try_op("LayerNormalization", 17, NULL, 0, 2, in, 1, &out), NNCL_ERR_UNSUPPORTED);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "Scale") && strstr(msg, "[5]") && strstr(msg, "[3, 5, 7]"), "%s", msg);
  struct nncl__attr ax[] = {A_INT("axis", 3)};
  cr_assert_eq(tu_try_op("LayerNormalization", 17, ax, 1, 2, in, 1, &out),
               NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "axis"));
  nncl_array_free(&x);
  nncl_array_free(&bad);
}

Test(norm, lrn) {
  const struct {
    int64_t n, c, h, w, size;
    float alpha, beta, bias;
  } cases[] = {{2, 7, 5, 6, 5, 1e-4f, 0.75f, 1.0f},     /* ONNX defaults */
               {3, 9, 4, 3, 4, 2e-2f, 0.6f, 2.0f},      /* even size: window lo 1, hi 2 */
               {1, 3, 1, 1, 7, 1.0f, 0.75f, 2.0f},      /* window wider than the channels */
               {2, 96, 11, 13, 5, 1e-4f, 0.75f, 2.0f}}; /* AlexNet (k = 2) */
  for (int i = 0; i < 4; i++) {
    nncl_array x = TU_RAND(40 + (uint32_t)i, cases[i].n, cases[i].c, cases[i].h, cases[i].w), out;
    for (int64_t j = 0; j < nncl_shape_numel(&x.shape); j++) ((float *)x.data)[j] *= 5.0f;
    const nncl_array *in[] = {&x};
    struct nncl__attr at[] = {A_INT("size", cases[i].size), A_FLOAT("alpha", cases[i].alpha),
                              A_FLOAT("beta", cases[i].beta), A_FLOAT("bias", cases[i].bias)};
    tu_run_op("LRN", 13, at, 4, 1, in, 1, &out);
    const int64_t total = nncl_shape_numel(&x.shape);
    float *want = malloc((size_t)total * sizeof *want);
    norm_ref_lrn(x.data, cases[i].n, cases[i].c, cases[i].h * cases[i].w, cases[i].size,
                 cases[i].alpha, cases[i].beta, cases[i].bias, want);
    char what[32];
    snprintf(what, sizeof what, "LRN case %d", i);
    tu_assert_close((float *)out.data, want, (size_t)total, 1e-5, 1e-6, what);
    free(want);
    nncl_array_free(&x);
    nncl_array_free(&out);
  }
  nncl_array x = TU_RAND(1, 1, 3, 2, 2), out;
  const nncl_array *in[] = {&x};
  cr_assert_eq(tu_try_op("LRN", 13, NULL, 0, 1, in, 1, &out), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "size"));
  nncl_array_free(&x);
}

/* ---- MeanVarianceNormalization ---- */
Test(mvn, default_and_random_axes) {
  uint32_t st = 71;
  for (int t = 0; t < 8; t++) {
    nncl_shape s = tu_rand_shape(&st, t == 0 ? 4 : 1 + t % 4, 1, 33);
    nncl_array x = tu_rand(500 + (uint32_t)t, s.rank, s.dims), out;
    float *px = x.data;
    int64_t n = nncl_shape_numel(&s);
    for (int64_t i = 0; i < n; i++) px[i] = px[i] * 3.0f + 10.0f; /* a mean far from 0 */
    unsigned mask = 0;
    int64_t axes[NNCL_MAX_RANK];
    int na = 0;
    for (int d = 0; d < s.rank; d++)
      if (tu_xorshift(&st) % 2 || (d == s.rank - 1 && na == 0)) {
        axes[na++] = d - (d % 2 ? s.rank : 0); /* some negative */
        mask |= 1u << d;
      }
    struct nncl__attr at[] = {{.name = "axes", .type = ATTR_INTS, .ints = axes, .n = na}};
    if (t == 0) mask = 1u | 4u | 8u; /* default axes [0, 2, 3] */
    const nncl_array *in[] = {&x};
    tu_run_op("MeanVarianceNormalization", 13, at, t == 0 ? 0 : 1, 1, in, 1, &out);
    float *want = malloc((size_t)n * sizeof *want);
    norm_ref_mvn(px, s.rank, s.dims, mask, want);
    char what[64];
    snprintf(what, sizeof what, "MVN rank %d axes mask %#x", s.rank, mask);
    tu_assert_close((const float *)out.data, want, (size_t)n, 1e-4, 1e-4, what);
    free(want);
    nncl_array_free(&out);
    nncl_array_free(&x);
  }
}

/* BatchNormalization training_mode = 1 vs the double-precision reference: rtol 1e-4, atol 1e-5
   (float accumulation over up to n * plane elements per channel). */
static void bn_train_case(int64_t n, int64_t c, int64_t h, int64_t w, int n_out, float momentum,
                          uint32_t seed) {
  nncl_array x = TU_RAND(seed, n, c, h, w);
  tu_fill(x.data, (size_t)(n * c * h * w), seed, -3.0f, 5.0f); /* mean far from 0 */
  nncl_array sc = TU_RAND(seed + 1, c), b = TU_RAND(seed + 2, c), m = TU_RAND(seed + 3, c);
  nncl_array v = TU_RAND(seed + 4, c);
  tu_fill(v.data, (size_t)c, seed + 4, 0.5f, 2.0f);
  const struct nncl__attr at[] = {A_INT("training_mode", 1), A_FLOAT("momentum", momentum),
                                  A_FLOAT("epsilon", 1e-3f)};
  const nncl_array *in[] = {&x, &sc, &b, &m, &v};
  nncl_array out[3];
  tu_run_op("BatchNormalization", 15, at, 3, 5, in, n_out, out);
  int64_t total = n * c * h * w;
  float *y = malloc(sizeof(float) * (size_t)total), *rm = malloc(sizeof(float) * (size_t)c);
  float *rv = malloc(sizeof(float) * (size_t)c);
  norm_ref_batch_train(x.data, n, c, h * w, sc.data, b.data, m.data, v.data, 1e-3f, momentum, y, rm,
                       rv);
  tu_assert_close((float *)out[0].data, y, (size_t)total, 1e-4, 1e-5, "BatchNormalization Y");
  if (n_out > 1) tu_assert_close((float *)out[1].data, rm, (size_t)c, 1e-4, 1e-5, "running_mean");
  if (n_out > 2) tu_assert_close((float *)out[2].data, rv, (size_t)c, 1e-4, 1e-5, "running_var");
  free(y), free(rm), free(rv);
  nncl_array_free(&x), nncl_array_free(&sc), nncl_array_free(&b), nncl_array_free(&m),
      nncl_array_free(&v);
  for (int i = 0; i < n_out; ++i) nncl_array_free(&out[i]);
}

Test(batchnorm_train, odd_shape_three_outputs) { bn_train_case(3, 5, 7, 9, 3, 0.9f, 91); }
Test(batchnorm_train, large_plane_y_and_mean_only) { bn_train_case(2, 3, 61, 67, 2, 0.5f, 92); }
Test(batchnorm_train, one_by_one_planes) { bn_train_case(17, 4, 1, 1, 3, 0.99f, 93); }
