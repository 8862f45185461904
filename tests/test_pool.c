/* test_pool.c: MaxPool (+Indices), AveragePool, LpPool, Global*Pool and MaxUnpool against the
   naive references in tests/ref/pool_ref.c on awkward shapes: odd sizes, stride 2, asymmetric
   pads, dilation, ceil_mode, SAME/VALID auto_pad, 1-D and 3-D, batch 3, 1x1 images, empty batch; MaxPool through both of its kernels.
   Tolerances: max and unpool exact; averages rtol 1e-5; Lp norms rtol 1e-5 (float accumulation
   against double). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/pool_ref.h"
#include "test_util.h"

struct pcase {
  int sr;
  int64_t n, c, in[3], k[3], s[3], d[3], pads[6];
  enum pool_ref_autopad ap;
  int ceil_mode, include_pad, with_pads, with_dil;
};

static const char *ap_name(enum pool_ref_autopad ap) {
  return ap == REF_SAME_UPPER   ? "SAME_UPPER"
         : ap == REF_SAME_LOWER ? "SAME_LOWER"
         : ap == REF_VALID      ? "VALID"
                                : "NOTSET";
}

/* Attributes of a case; returns the count. */
static int case_attrs(struct pcase *t, struct nncl__attr *a, int storage_order) {
  int n = 0;
  a[n++] = (struct nncl__attr){.name = "kernel_shape", .type = ATTR_INTS, .ints = t->k, .n = t->sr};
  a[n++] = (struct nncl__attr){.name = "strides", .type = ATTR_INTS, .ints = t->s, .n = t->sr};
  if (t->with_dil)
    a[n++] = (struct nncl__attr){.name = "dilations", .type = ATTR_INTS, .ints = t->d, .n = t->sr};
  if (t->with_pads)
    a[n++] =
        (struct nncl__attr){.name = "pads", .type = ATTR_INTS, .ints = t->pads, .n = 2 * t->sr};
  a[n++] = A_STR("auto_pad", ap_name(t->ap));
  a[n++] = A_INT("ceil_mode", t->ceil_mode);
  a[n++] = A_INT("count_include_pad", t->include_pad);
  a[n++] = A_INT("storage_order", storage_order);
  return n;
}

static nncl_array case_input(const struct pcase *t, uint32_t seed) {
  int64_t dims[5] = {t->n, t->c, t->in[0], t->in[1], t->in[2]};
  return tu_rand(seed, 2 + t->sr, dims);
}

static struct pool_ref_geom case_geom(const struct pcase *t) {
  struct pool_ref_geom g = {.sr = t->sr, .n = t->n, .c = t->c};
  for (int i = 0; i < t->sr; i++) {
    g.in[i] = t->in[i];
    g.k[i] = t->k[i];
    g.s[i] = t->s[i];
    g.d[i] = t->with_dil ? t->d[i] : 1;
  }
  cr_assert(pool_ref_geom_init(&g, t->with_pads ? t->pads : NULL, t->ap, t->ceil_mode));
  return g;
}

static void check_shape(const nncl_array *y, const struct pool_ref_geom *g, const char *what) {
  cr_assert_eq(y->shape.rank, 2 + g->sr, "%s: rank", what);
  cr_assert_eq(y->shape.dims[0], g->n, "%s: N", what);
  cr_assert_eq(y->shape.dims[1], g->c, "%s: C", what);
  for (int i = 0; i < g->sr; i++)
    cr_assert_eq(y->shape.dims[2 + i], g->out[i], "%s: spatial %d is %lld, want %lld", what, i,
                 (long long)y->shape.dims[2 + i], (long long)g->out[i]);
}

/* Awkward windows shared by the MaxPool, AveragePool and LpPool tests. */
static struct pcase cases[] = {
    /* 2-D, odd sizes, stride 2, asymmetric pads, ceil_mode, batch 3 */
    {2, 3, 5, {9, 11}, {3, 3}, {2, 2}, {1, 1}, {1, 0, 2, 1}, REF_NOTSET, 1, 0, 1, 0},
    {2, 3, 5, {9, 11}, {3, 3}, {2, 2}, {1, 1}, {1, 0, 2, 1}, REF_NOTSET, 1, 1, 1, 0},
    /* non-square kernel, stride 1, no pads */
    {2, 2, 3, {7, 6}, {2, 4}, {1, 1}, {1, 1}, {0}, REF_NOTSET, 0, 0, 0, 0},
    /* dilation with pads */
    {2, 1, 4, {10, 9}, {3, 2}, {1, 2}, {2, 3}, {2, 1, 2, 2}, REF_NOTSET, 0, 1, 1, 1},
    /* auto_pad modes */
    {2, 2, 3, {8, 7}, {3, 2}, {2, 3}, {1, 1}, {0}, REF_SAME_UPPER, 0, 0, 0, 0},
    {2, 2, 3, {8, 7}, {3, 2}, {2, 3}, {1, 1}, {0}, REF_SAME_LOWER, 0, 1, 0, 0},
    {2, 2, 3, {8, 7}, {3, 2}, {2, 2}, {1, 1}, {0}, REF_VALID, 0, 0, 0, 0},
    /* 1x1 image, 1x1 kernel */
    {2, 3, 2, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {0}, REF_NOTSET, 0, 0, 0, 0},
    /* 1-D with ceil_mode overhang */
    {1, 2, 3, {13}, {4}, {3}, {1}, {1, 2}, REF_NOTSET, 1, 1, 1, 0},
    /* 3-D */
    {3,
     2,
     2,
     {5, 6, 7},
     {2, 3, 2},
     {2, 1, 2},
     {1, 1, 1},
     {0, 1, 1, 1, 0, 0},
     REF_NOTSET,
     0,
     0,
     1,
     0},
    /* AlexNet-style 3x3/2 with ceil (last window starts in the end pad on some axes) */
    {2, 1, 2, {13, 12}, {3, 3}, {2, 2}, {1, 1}, {0, 0, 1, 1}, REF_NOTSET, 1, 0, 1, 0},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

Test(pool, maxpool_with_indices) {
  for (int i = 0; i < N_CASES; i++) {
    for (int so = 0; so < 2; so++) {
      struct pcase *t = &cases[i];
      struct nncl__attr at[8];
      int na = case_attrs(t, at, so);
      nncl_array x = case_input(t, 100 + (uint32_t)i), out[2];
      const nncl_array *in[] = {&x};
      tu_run_op("MaxPool", 12, at, na, 1, in, 2, out);
      struct pool_ref_geom g = case_geom(t);
      char what[64];
      snprintf(what, sizeof what, "MaxPool case %d storage_order %d", i, so);
      check_shape(&out[0], &g, what);
      int64_t n = pool_ref_out_numel(&g);
      float *want = malloc((size_t)n * sizeof *want);
      int64_t *widx = malloc((size_t)n * sizeof *widx);
      pool_ref_max(x.data, &g, want, widx, so);
      tu_assert_close((float *)out[0].data, want, (size_t)n, 0, 0, what);
      if (so == 0) { /* without the Indices output (another kernel) */
        nncl_array y1;
        tu_run_op("MaxPool", 12, at, na, 1, in, 1, &y1);
        tu_assert_close((float *)y1.data, want, (size_t)n, 0, 0, "MaxPool without Indices");
        nncl_array_free(&y1);
      }
      cr_assert_eq(out[1].dtype, NNCL_INT64);
      for (int64_t j = 0; j < n; j++)
        cr_assert_eq(((int64_t *)out[1].data)[j], widx[j], "%s: index %lld is %lld, want %lld",
                     what, (long long)j, (long long)((int64_t *)out[1].data)[j],
                     (long long)widx[j]);
      free(want);
      free(widx);
      nncl_array_free(&x);
      nncl_array_free(&out[0]);
      nncl_array_free(&out[1]);
    }
  }
}

/* Windows whose rows take the eight-wide steps of the row-per-work-item kernels: 2x2/2 and
   3x3/2 with left pads of 0, 1 and 2 (a scalar head), widths that leave a scalar tail or make
   the last vector step overlap the one before, ceil_mode overhang, ResNet's stem pool, stride-1
   windows (3x3/1, 5x5/1, dilated), with and without counting the pads. */
static struct pcase row_cases[] = {
    {2, 2, 3, {6, 37}, {2, 2}, {2, 2}, {1, 1}, {0}, REF_NOTSET, 0, 0, 0, 0},
    {2, 1, 2, {4, 32}, {2, 2}, {2, 2}, {1, 1}, {0}, REF_NOTSET, 0, 0, 0, 0},
    {2, 1, 3, {5, 17}, {2, 2}, {2, 2}, {1, 1}, {0}, REF_NOTSET, 1, 0, 0, 0},
    {1, 2, 2, {40}, {2}, {2}, {1}, {0}, REF_NOTSET, 0, 0, 0, 0},
    {2, 1, 3, {5, 33}, {2, 2}, {2, 2}, {1, 1}, {1, 1, 1, 1}, REF_NOTSET, 0, 1, 1, 0},
    {2, 2, 3, {9, 37}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, REF_NOTSET, 0, 0, 1, 0},
    {2, 1, 2, {7, 24}, {3, 3}, {2, 2}, {1, 1}, {0}, REF_NOTSET, 0, 0, 0, 0},
    {2, 1, 2, {6, 40}, {3, 3}, {2, 2}, {1, 1}, {2, 2, 2, 2}, REF_NOTSET, 0, 1, 1, 0},
    {2, 1, 2, {9, 35}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, REF_NOTSET, 1, 0, 1, 0},
    {2, 1, 2, {10, 35}, {3, 3}, {2, 2}, {1, 1}, {0, 1, 2, 0}, REF_NOTSET, 0, 1, 1, 0},
    {1, 2, 2, {41}, {3}, {2}, {1}, {1, 1}, REF_NOTSET, 0, 0, 1, 0},
    {2, 1, 4, {112, 112}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, REF_NOTSET, 0, 0, 1, 0},
    {2, 1, 2, {5, 30}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, REF_NOTSET, 0, 1, 1, 0},
    {2, 2, 2, {6, 29}, {5, 5}, {1, 1}, {1, 1}, {2, 2, 2, 2}, REF_NOTSET, 0, 0, 1, 0},
    {2, 1, 2, {7, 31}, {2, 3}, {1, 1}, {1, 2}, {0, 1, 0, 2}, REF_NOTSET, 0, 1, 1, 1},
    {3,
     1,
     2,
     {3, 4, 27},
     {2, 2, 3},
     {1, 2, 1},
     {1, 1, 1},
     {1, 0, 1, 0, 1, 1},
     REF_NOTSET,
     0,
     0,
     1,
     0},
};
#define N_ROW_CASES (int)(sizeof row_cases / sizeof row_cases[0])

/* MaxPool without Indices through both of its kernels (option pool.algo): the per-output 3-D grid
   (GPUs) and the row-per-work-item kernel (CPUs), on the shared cases and row_cases, with NaNs
   at both lanes of a pair. */
Test(pool, maxpool_both_kernels) {
  static const char *const algos[] = {"direct", "rows"};
  for (int i = 0; i < N_CASES + N_ROW_CASES; i++)
    for (int a = 0; a < 2; a++) {
      struct pcase *t = i < N_CASES ? &cases[i] : &row_cases[i - N_CASES];
      struct nncl__attr at[9];
      int na = case_attrs(t, at, 0);
      nncl_array x = case_input(t, 300 + (uint32_t)i), y;
      if (i >= N_CASES) { /* NaN at an even and at an odd position of a row */
        ((float *)x.data)[3] = NAN;
        ((float *)x.data)[t->in[t->sr - 1] + 4] = NAN;
      }
      const nncl_array *in[] = {&x};
      tu_set_option("pool.algo", algos[a]);
      tu_run_op("MaxPool", 12, at, na, 1, in, 1, &y);
      tu_set_option("pool.algo", NULL);
      struct pool_ref_geom g = case_geom(t);
      char what[64];
      snprintf(what, sizeof what, "MaxPool %s case %d", algos[a], i);
      check_shape(&y, &g, what);
      int64_t n = pool_ref_out_numel(&g);
      float *want = malloc((size_t)n * sizeof *want);
      int64_t *widx = malloc((size_t)n * sizeof *widx);
      pool_ref_max(x.data, &g, want, widx, 0);
      tu_assert_close((float *)y.data, want, (size_t)n, 0, 0, what);
      free(want);
      free(widx);
      nncl_array_free(&x);
      nncl_array_free(&y);
    }
}

Test(pool, maxpool_single_output_and_onnx_example) {
  /* ONNX test_maxpool_with_argmax_2d_precomputed_strides: 5x5 ramp, 2x2/2, column-major. */
  nncl_array x = TU_ZEROS(NNCL_FLOAT32, 1, 1, 5, 5), out[2];
  for (int i = 0; i < 25; i++) ((float *)x.data)[i] = (float)(i + 1);
  struct nncl__attr at[] = {A_INTS("kernel_shape", 2, 2), A_INTS("strides", 2, 2),
                            A_INT("storage_order", 1)};
  const nncl_array *in[] = {&x};
  tu_run_op("MaxPool", 12, at, 3, 1, in, 2, out);
  const float wy[] = {7, 9, 17, 19};
  const int64_t wi[] = {6, 16, 8, 18};
  tu_assert_close((float *)out[0].data, wy, 4, 0, 0, "MaxPool example");
  for (int i = 0; i < 4; i++) cr_assert_eq(((int64_t *)out[1].data)[i], wi[i]);
  nncl_array_free(&out[0]);
  nncl_array_free(&out[1]);
  tu_run_op("MaxPool", 8, at, 2, 1, in, 1, out);
  tu_assert_close((float *)out[0].data, wy, 4, 0, 0, "MaxPool single output");
  nncl_array_free(&out[0]);
  nncl_array_free(&x);
}

Test(pool, averagepool_and_lppool) {
  for (int i = 0; i < N_CASES; i++) {
    struct pcase *t = &cases[i];
    struct nncl__attr at[9];
    int na = case_attrs(t, at, 0);
    nncl_array x = case_input(t, 200 + (uint32_t)i), out;
    const nncl_array *in[] = {&x};
    struct pool_ref_geom g = case_geom(t);
    int64_t n = pool_ref_out_numel(&g);
    float *want = malloc((size_t)n * sizeof *want);
    char what[64];

    tu_run_op("AveragePool", 11, at, na, 1, in, 1, &out);
    snprintf(what, sizeof what, "AveragePool case %d", i);
    check_shape(&out, &g, what);
    pool_ref_avg(x.data, &g, t->include_pad, want);
    tu_assert_close((float *)out.data, want, (size_t)n, 1e-5, 1e-6, what);
    nncl_array_free(&out);

    const double p = i % 2 ? 3.0 : 2.0;
    at[na] = A_INT("p", (int64_t)p);
    tu_run_op("LpPool", 18, at, na + 1, 1, in, 1, &out);
    snprintf(what, sizeof what, "LpPool case %d p %g", i, p);
    check_shape(&out, &g, what);
    pool_ref_lp(x.data, &g, p, want);
    tu_assert_close((float *)out.data, want, (size_t)n, 1e-5, 1e-6, what);
    nncl_array_free(&out);
    free(want);
    nncl_array_free(&x);
  }
}

/* AveragePool through both of its kernels (option pool.algo "direct": 3-D grid, "rows": a work-item
   per output row), on the shared cases and row_cases. Tolerance rtol 1e-5, atol 1e-6: float sums
   in another order than the reference's double ones. */
Test(pool, averagepool_both_kernels) {
  static const char *const algos[] = {"direct", "rows"};
  for (int i = 0; i < N_CASES + N_ROW_CASES; i++)
    for (int a = 0; a < 2; a++) {
      struct pcase *t = i < N_CASES ? &cases[i] : &row_cases[i - N_CASES];
      struct nncl__attr at[9];
      int na = case_attrs(t, at, 0);
      nncl_array x = case_input(t, 500 + (uint32_t)i), y;
      const nncl_array *in[] = {&x};
      tu_set_option("pool.algo", algos[a]);
      tu_run_op("AveragePool", 11, at, na, 1, in, 1, &y);
      tu_set_option("pool.algo", NULL);
      struct pool_ref_geom g = case_geom(t);
      char what[64];
      snprintf(what, sizeof what, "AveragePool %s case %d", algos[a], i);
      check_shape(&y, &g, what);
      int64_t n = pool_ref_out_numel(&g);
      float *want = malloc((size_t)n * sizeof *want);
      pool_ref_avg(x.data, &g, t->include_pad, want);
      tu_assert_close((float *)y.data, want, (size_t)n, 1e-5, 1e-6, what);
      free(want);
      nncl_array_free(&x);
      nncl_array_free(&y);
    }
}

Test(pool, global_pools) {
  /* rows shorter than, equal to and longer than a work-group; 1x1 images; 1-D and 3-D spatial;
     few long rows (several and all work-items of a group share a row, also on CPUs) */
  const int64_t shapes[][5] = {{3, 7, 13, 17, 0},  {2, 3, 1, 1, 0}, {2, 5, 300, 0, 0},
                               {1, 4, 8, 8, 0},    {2, 2, 3, 4, 5}, {1, 3, 50, 90, 0},
                               {1, 1, 256, 300, 0}};
  const int ranks[] = {4, 4, 3, 4, 5, 4, 4};
  const char *ops[] = {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"};
  for (int s = 0; s < 7; s++) {
    nncl_array x = tu_rand(300 + (uint32_t)s, ranks[s], shapes[s]), out;
    int64_t rows = shapes[s][0] * shapes[s][1], n = 1;
    for (int i = 2; i < ranks[s]; i++) n *= shapes[s][i];
    float *want = malloc((size_t)rows * sizeof *want);
    for (int op = 0; op < 3; op++) {
      const nncl_array *in[] = {&x};
      struct nncl__attr at[] = {A_INT("p", 3)};
      tu_run_op(ops[op], 2, at, op == 2 ? 1 : 0, 1, in, 1, &out);
      cr_assert_eq(out.shape.rank, ranks[s]);
      for (int i = 2; i < ranks[s]; i++) cr_assert_eq(out.shape.dims[i], 1);
      pool_ref_global(x.data, rows, n, op, 3.0, want);
      char what[64];
      snprintf(what, sizeof what, "%s shape %d", ops[op], s);
      tu_assert_close((float *)out.data, want, (size_t)rows, op == 1 ? 0 : 1e-5, op == 1 ? 0 : 1e-6,
                      what);
      nncl_array_free(&out);
    }
    free(want);
    nncl_array_free(&x);
  }
}

Test(pool, ties_and_nan) {
  /* equal values: the first position in scan order wins; a NaN in the window wins */
  nncl_array x = TU_ZEROS(NNCL_FLOAT32, 1, 1, 4, 4), out[2];
  float *v = x.data;
  for (int i = 0; i < 16; i++) v[i] = 1.0f;
  v[10] = NAN;
  struct nncl__attr at[] = {A_INTS("kernel_shape", 2, 2), A_INTS("strides", 2, 2)};
  const nncl_array *in[] = {&x};
  tu_run_op("MaxPool", 12, at, 2, 1, in, 2, out);
  const float *y = out[0].data;
  const int64_t *idx = out[1].data;
  cr_assert(y[0] == 1.0f && y[1] == 1.0f && y[2] == 1.0f && isnan(y[3]));
  nncl_array y1;
  tu_run_op("MaxPool", 12, at, 2, 1, in, 1, &y1);
  cr_assert(isnan(((float *)y1.data)[3]) && ((float *)y1.data)[0] == 1.0f);
  nncl_array_free(&y1);
  cr_assert(idx[0] == 0 && idx[1] == 2 && idx[2] == 8 && idx[3] == 10, "%lld %lld %lld %lld",
            (long long)idx[0], (long long)idx[1], (long long)idx[2], (long long)idx[3]);
  nncl_array_free(&out[0]);
  nncl_array_free(&out[1]);
  tu_run_op("GlobalMaxPool", 1, NULL, 0, 1, in, 1, out);
  cr_assert(isnan(((float *)out[0].data)[0]));
  nncl_array_free(&out[0]);
  nncl_array_free(&x);
}

Test(pool, empty_batch) {
  nncl_array x = TU_ZEROS(NNCL_FLOAT32, 0, 3, 5, 5), out[2];
  const nncl_array *in[] = {&x};
  struct nncl__attr at[] = {A_INTS("kernel_shape", 3, 3), A_INTS("strides", 2, 2)};
  tu_run_op("MaxPool", 12, at, 2, 1, in, 2, out);
  cr_assert_eq(out[0].shape.dims[0], 0);
  cr_assert_eq(out[0].shape.dims[2], 2);
  nncl_array_free(&out[0]);
  nncl_array_free(&out[1]);
  tu_run_op("GlobalAveragePool", 1, NULL, 0, 1, in, 1, out);
  cr_assert_eq(out[0].shape.dims[0], 0);
  cr_assert_eq(out[0].shape.dims[3], 1);
  nncl_array_free(&out[0]);
  nncl_array_free(&x);
}

/* MaxUnpool of MaxPool's outputs (DeconvNet unpooling). Indices are flat positions in the
   default unpooled shape; output_shape pads that shape at the end of each axis (ONNX reference,
   test_maxunpool_export_with_output_shape). */
static void unpool_case(const int64_t *xd, const int64_t *out_hw) {
  nncl_array x = tu_rand(400, 4, xd), pooled[2], out, shape;
  struct nncl__attr at[] = {A_INTS("kernel_shape", 2, 2), A_INTS("strides", 2, 2)};
  const nncl_array *in[] = {&x};
  tu_run_op("MaxPool", 12, at, 2, 1, in, 2, pooled);
  const int64_t rows = xd[0] * xd[1], def[2] = {xd[2] / 2 * 2, xd[3] / 2 * 2};
  const int64_t *oh = out_hw ? out_hw : def;
  float *want = malloc((size_t)(rows * oh[0] * oh[1]) * sizeof *want);
  const nncl_array *uin[] = {&pooled[0], &pooled[1], &shape};
  if (out_hw) shape = TU_I64(xd[0], xd[1], out_hw[0], out_hw[1]);
  tu_run_op("MaxUnpool", 11, at, 2, out_hw ? 3 : 2, uin, 1, &out);
  cr_assert_eq(out.shape.dims[2], oh[0]);
  cr_assert_eq(out.shape.dims[3], oh[1]);
  pool_ref_unpool(pooled[0].data, pooled[1].data, nncl_shape_numel(&pooled[0].shape), rows, 2, def,
                  oh, want);
  char what[96];
  snprintf(what, sizeof what, "MaxUnpool of [%lld, %lld, %lld, %lld] to %lldx%lld",
           (long long)xd[0], (long long)xd[1], (long long)xd[2], (long long)xd[3], (long long)oh[0],
           (long long)oh[1]);
  tu_assert_close((float *)out.data, want, (size_t)(rows * oh[0] * oh[1]), 0, 0, what);
  if (xd[2] == def[0] && xd[3] == def[1] && !out_hw) {
    /* even sizes: unpooling puts every window maximum back where it was */
    int64_t kept = 0;
    for (int64_t i = 0; i < nncl_shape_numel(&x.shape); i++)
      if (((float *)out.data)[i] != 0.0f) {
        cr_assert_eq(((float *)out.data)[i], ((float *)x.data)[i]);
        kept++;
      }
    cr_assert_eq(kept, nncl_shape_numel(&pooled[0].shape));
  }
  free(want);
  if (out_hw) nncl_array_free(&shape);
  nncl_array_free(&out);
  nncl_array_free(&pooled[0]);
  nncl_array_free(&pooled[1]);
  nncl_array_free(&x);
}

Test(pool, maxunpool) {
  unpool_case((int64_t[]){3, 2, 8, 6}, NULL);
  unpool_case((int64_t[]){3, 2, 8, 6}, (int64_t[]){9, 7});
  unpool_case((int64_t[]){2, 3, 9, 7}, NULL); /* odd input: indices beyond 8x6 */
  unpool_case((int64_t[]){2, 3, 9, 7}, (int64_t[]){9, 7});
}

Test(pool, errors_name_node_and_shapes) {
  nncl_array x = TU_RAND(1, 1, 2, 3, 3), out[2];
  const nncl_array *in[] = {&x};
  struct nncl__attr big[] = {A_INTS("kernel_shape", 5, 5)};
  cr_assert_eq(tu_try_op("MaxPool", 12, big, 1, 1, in, 1, out), NNCL_ERR_SHAPE);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "MaxPool") && strstr(msg, "[1, 2, 3, 3]"), "%s", msg);

  cr_assert_eq(tu_try_op("AveragePool", 11, NULL, 0, 1, in, 1, out), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "kernel_shape"));

  struct nncl__attr wrong[] = {A_INTS("kernel_shape", 2, 2, 2)};
  cr_assert_eq(tu_try_op("MaxPool", 12, wrong, 1, 1, in, 1, out), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "kernel_shape"));

  struct nncl__attr bad_pad[] = {A_INTS("kernel_shape", 2, 2), A_STR("auto_pad", "SAME")};
  cr_assert_eq(tu_try_op("MaxPool", 12, bad_pad, 2, 1, in, 1, out), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "auto_pad"));

  nncl_array r6 = TU_RAND(2, 1, 1, 2, 2, 2, 2);
  const nncl_array *in6[] = {&r6};
  struct nncl__attr k4[] = {A_INTS("kernel_shape", 1, 1, 1, 1)};
  cr_assert_eq(tu_try_op("MaxPool", 12, k4, 1, 1, in6, 1, out), NNCL_ERR_UNSUPPORTED);

  nncl_array i32 = TU_ZEROS(NNCL_INT32, 1, 2, 3, 3);
  const nncl_array *ini[] = {&i32};
  struct nncl__attr k2[] = {A_INTS("kernel_shape", 2, 2)};
  cr_assert_eq(tu_try_op("MaxPool", 12, k2, 1, 1, ini, 1, out), NNCL_ERR_DTYPE);

  nncl_array idx_bad = TU_ZEROS(NNCL_INT64, 1, 2, 2, 2);
  const nncl_array *uin[] = {&x, &idx_bad};
  cr_assert_eq(tu_try_op("MaxUnpool", 11, k2, 1, 2, uin, 1, out), NNCL_ERR_SHAPE);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "[1, 2, 2, 2]"));

  nncl_array_free(&idx_bad);
  nncl_array_free(&i32);
  nncl_array_free(&r6);
  nncl_array_free(&x);
}
