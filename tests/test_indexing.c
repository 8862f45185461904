/* test_indexing.c: the indexing family (Trilu, EyeLike, OneHot, CumSum, Hardmax, TopK both
   kernels) against tests/ref/indexing_ref.c on random shapes with awkward sizes (1, primes,
   empty), every axis, negative k / axes / indices and ties.
   Tolerances: exact for integer, selection and pattern ops; CumSum float 1e-5 relative + 1e-5
   absolute (the kernel accumulates in float, the reference in double). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/indexing_ref.h"
#include "test_util.h"

static void split(const nncl_shape *s, int axis, int64_t *outer, int64_t *n, int64_t *inner) {
  *outer = *n = *inner = 1;
  for (int d = 0; d < s->rank; d++) *(d < axis ? outer : d == axis ? n : inner) *= s->dims[d];
}
/* Random floats rounded to quarters in [-4, 4): many ties for Hardmax and TopK. */
static nncl_array rand_quantized(uint32_t seed, const nncl_shape *s) {
  nncl_array a = tu_rand(seed, s->rank, s->dims);
  float *x = a.data;
  for (int64_t i = 0; i < nncl_shape_numel(s); i++) x[i] = floorf(x[i] * 16.0f) / 4.0f;
  return a;
}
static nncl_array scalar_i64(int64_t v) { return tu_i64(1, &v); }
static nncl_array int_array(nncl_dtype dt, const nncl_shape *s) {
  return tu_zeros(dt, s->rank, s->dims);
}
static void assert_equal_f(const nncl_array *got, const float *want, const char *what) {
  int64_t n = nncl_shape_numel(&got->shape);
  const float *g = got->data;
  for (int64_t i = 0; i < n; i++)
    cr_assert(g[i] == want[i] || (isnan(g[i]) && isnan(want[i])),
              "%s: element %lld is %g, expected %g", what, (long long)i, (double)g[i],
              (double)want[i]);
}

/* ---- Trilu ---- */
Test(trilu, random_shapes_k_and_both_triangles) {
  uint32_t st = 21;
  for (int t = 0; t < 12; t++) {
    nncl_shape s = tu_rand_shape(&st, 2 + t % 3, 1, 33);
    nncl_array x = tu_rand(100 + (uint32_t)t, s.rank, s.dims), out;
    int64_t rows = s.dims[s.rank - 2], cols = s.dims[s.rank - 1], n = nncl_shape_numel(&s);
    int64_t k = t % 4 == 3 ? 0 : tu_rand_int(&st, -rows - 2, cols + 2);
    int upper = t % 2;
    struct nncl__attr at[] = {A_INT("upper", upper)};
    nncl_array kk = scalar_i64(k);
    const nncl_array *in[] = {&x, &kk};
    tu_run_op("Trilu", 14, at, 1, t % 4 == 3 ? 1 : 2, in, 1, &out);
    float *want = malloc((size_t)n * sizeof *want);
    ref_trilu(x.data, n / (rows * cols), rows, cols, k, upper, want);
    char what[96];
    snprintf(what, sizeof what, "Trilu upper=%d k=%lld rank %d", upper, (long long)k, s.rank);
    assert_equal_f(&out, want, what);
    free(want);
    nncl_array_free(&out);
    nncl_array_free(&kk);
    nncl_array_free(&x);
  }
}

Test(trilu, int64_and_empty) {
  nncl_shape s = {.rank = 3, .dims = {2, 5, 3}};
  nncl_array x = int_array(NNCL_INT64, &s), out, kk = scalar_i64(-1);
  int64_t *px = x.data;
  for (int i = 0; i < 30; i++) px[i] = i * 1000003LL - 7;
  const nncl_array *in[] = {&x, &kk};
  tu_run_op("Trilu", 14, NULL, 0, 2, in, 1, &out);
  const int64_t *g = out.data;
  for (int i = 0; i < 30; i++) {
    int r = (i / 3) % 5, c = i % 3;
    cr_assert_eq(g[i], c - r >= -1 ? px[i] : 0, "element %d", i);
  }
  nncl_array_free(&out);
  nncl_array_free(&x);
  nncl_shape e = {.rank = 2, .dims = {0, 5}};
  nncl_array xe = int_array(NNCL_FLOAT32, &e);
  const nncl_array *ine[] = {&xe};
  tu_run_op("Trilu", 14, NULL, 0, 1, ine, 1, &out);
  cr_assert_eq(nncl_shape_numel(&out.shape), 0);
  nncl_array_free(&out);
  nncl_array_free(&xe);
  nncl_array_free(&kk);
}

/* ---- EyeLike ---- */
Test(eyelike, k_and_dtype) {
  const int64_t shapes[][2] = {{4, 5}, {7, 3}, {1, 1}, {33, 17}};
  for (int t = 0; t < 4; t++) {
    nncl_shape s = {.rank = 2, .dims = {shapes[t][0], shapes[t][1]}};
    nncl_array x = int_array(t % 2 ? NNCL_INT32 : NNCL_FLOAT32, &s), out;
    int64_t k = t - 1, n = s.dims[0] * s.dims[1];
    struct nncl__attr at[] = {A_INT("k", k), A_INT("dtype", 1)};
    const nncl_array *in[] = {&x};
    tu_run_op("EyeLike", 9, at, t == 1 ? 1 : 2, 1, in, 1, &out);
    float *want = malloc((size_t)n * sizeof *want);
    ref_eyelike(s.dims[0], s.dims[1], k, want);
    if (t == 1) { /* no dtype: the input's int32 */
      cr_assert_eq(out.dtype, NNCL_INT32);
      for (int64_t i = 0; i < n; i++)
        cr_assert_eq(((const int32_t *)out.data)[i], (int32_t)want[i], "element %lld",
                     (long long)i);
    } else {
      cr_assert_eq(out.dtype, NNCL_FLOAT32);
      assert_equal_f(&out, want, "EyeLike");
    }
    free(want);
    nncl_array_free(&out);
    nncl_array_free(&x);
  }
}

/* ---- OneHot ---- */
Test(onehot, axes_negative_and_out_of_range_indices) {
  uint32_t st = 31;
  for (int t = 0; t < 8; t++) {
    nncl_shape s = tu_rand_shape(&st, 1 + t % 3, 1, 13);
    int64_t depth = tu_rand_int(&st, 1, 12), n = nncl_shape_numel(&s);
    int float_idx = t % 3 == 2;
    nncl_array idx = int_array(float_idx ? NNCL_FLOAT32 : NNCL_INT64, &s), out;
    int64_t *ref_idx = malloc((size_t)n * sizeof *ref_idx);
    for (int64_t i = 0; i < n; i++) {
      ref_idx[i] = tu_rand_int(&st, -depth - 1, depth);
      if (float_idx)
        ((float *)idx.data)[i] = (float)ref_idx[i];
      else
        ((int64_t *)idx.data)[i] = ref_idx[i];
    }
    nncl_array dep = TU_ZEROS(NNCL_FLOAT32, 1), vals = TU_ZEROS(NNCL_FLOAT32, 2);
    ((float *)dep.data)[0] = (float)depth;
    ((float *)vals.data)[0] = -0.5f;
    ((float *)vals.data)[1] = 3.0f;
    int axis = (int)tu_rand_int(&st, -s.rank - 1, s.rank);
    struct nncl__attr at[] = {A_INT("axis", axis)};
    const nncl_array *in[] = {&idx, &dep, &vals};
    tu_run_op("OneHot", 11, at, 1, 3, in, 1, &out);
    int ax = axis < 0 ? axis + s.rank + 1 : axis;
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < s.rank; d++) *(d < ax ? &outer : &inner) *= s.dims[d];
    cr_assert_eq(out.shape.rank, s.rank + 1);
    cr_assert_eq(out.shape.dims[ax], depth);
    float *want = malloc((size_t)(n * depth) * sizeof *want);
    ref_onehot(ref_idx, outer, inner, depth, -0.5f, 3.0f, want);
    char what[64];
    snprintf(what, sizeof what, "OneHot axis %d depth %lld", axis, (long long)depth);
    assert_equal_f(&out, want, what);
    free(want);
    free(ref_idx);
    nncl_array_free(&out);
    nncl_array_free(&idx);
    nncl_array_free(&dep);
    nncl_array_free(&vals);
  }
}

/* ---- CumSum ---- */
Test(cumsum, every_axis_exclusive_reverse) {
  uint32_t st = 41;
  for (int t = 0; t < 12; t++) {
    nncl_shape s = tu_rand_shape(&st, 1 + t % 4, 1, 33);
    nncl_array x = tu_rand(200 + (uint32_t)t, s.rank, s.dims), out;
    int axis = (int)tu_rand_int(&st, -s.rank, s.rank - 1), ex = t & 1, rev = (t >> 1) & 1;
    nncl_array ax = scalar_i64(axis);
    if (t % 3 == 0) { /* int32 axis */
      nncl_array a32 = TU_ZEROS(NNCL_INT32, 1);
      ((int32_t *)a32.data)[0] = axis;
      nncl_array_free(&ax);
      ax = a32;
    }
    struct nncl__attr at[] = {A_INT("exclusive", ex), A_INT("reverse", rev)};
    const nncl_array *in[] = {&x, &ax};
    tu_run_op("CumSum", 14, at, 2, 2, in, 1, &out);
    int64_t outer, n, inner, total = nncl_shape_numel(&s);
    split(&s, axis < 0 ? axis + s.rank : axis, &outer, &n, &inner);
    float *want = malloc((size_t)total * sizeof *want);
    ref_cumsum(x.data, outer, n, inner, ex, rev, want);
    char what[96];
    snprintf(what, sizeof what, "CumSum axis %d exclusive %d reverse %d", axis, ex, rev);
    tu_assert_close((const float *)out.data, want, (size_t)total, 1e-5, 1e-5, what);
    free(want);
    nncl_array_free(&out);
    nncl_array_free(&ax);
    nncl_array_free(&x);
  }
}

/* Few lines of 1024+ elements take the work-group scan kernel. The float tolerance is wider:
   thousands of float additions in a different order than the double reference. */
Test(cumsum, long_lines_group_kernel) {
  const int64_t shapes[][3] = {{2, 3000, 1}, {1, 1500, 3}};
  for (int t = 0; t < 4; t++) {
    const int64_t *d = shapes[t % 2];
    nncl_array x = tu_rand(700 + (uint32_t)t, 3, d), out, ax = scalar_i64(1);
    int ex = t & 1, rev = t >> 1;
    struct nncl__attr at[] = {A_INT("exclusive", ex), A_INT("reverse", rev)};
    const nncl_array *in[] = {&x, &ax};
    tu_run_op("CumSum", 14, at, 2, 2, in, 1, &out);
    int64_t total = d[0] * d[1] * d[2];
    float *want = malloc((size_t)total * sizeof *want);
    ref_cumsum(x.data, d[0], d[1], d[2], ex, rev, want);
    char what[96];
    snprintf(what, sizeof what, "CumSum n %lld exclusive %d reverse %d", (long long)d[1], ex, rev);
    tu_assert_close((const float *)out.data, want, (size_t)total, 1e-4, 1e-3, what);
    free(want);
    nncl_array_free(&out);
    nncl_array_free(&ax);
    nncl_array_free(&x);
  }
  /* int64 through the group kernel: exact */
  nncl_shape s = {.rank = 1, .dims = {2048}};
  nncl_array xi = tu_zeros(NNCL_INT64, 1, s.dims), out, ax = scalar_i64(0);
  int64_t *px = xi.data, acc = 0;
  for (int i = 0; i < 2048; i++) px[i] = (i * 7919) % 1001 - 500;
  const nncl_array *in[] = {&xi, &ax};
  tu_run_op("CumSum", 14, NULL, 0, 2, in, 1, &out);
  for (int i = 0; i < 2048; i++) {
    acc += px[i];
    cr_assert_eq(((const int64_t *)out.data)[i], acc, "int64 element %d", i);
  }
  nncl_array_free(&out);
  nncl_array_free(&ax);
  nncl_array_free(&xi);
}

Test(cumsum, int64_exact) {
  nncl_shape s = {.rank = 2, .dims = {5, 7}};
  nncl_array x = int_array(NNCL_INT64, &s), out, ax = scalar_i64(0);
  int64_t *px = x.data, want[35];
  for (int i = 0; i < 35; i++) px[i] = (i * 7919) % 101 - 50 + ((int64_t)1 << 40);
  for (int j = 0; j < 7; j++) {
    int64_t acc = 0;
    for (int i = 4; i >= 0; i--) { /* reverse exclusive */
      want[i * 7 + j] = acc;
      acc += px[i * 7 + j];
    }
  }
  struct nncl__attr at[] = {A_INT("exclusive", 1), A_INT("reverse", 1)};
  const nncl_array *in[] = {&x, &ax};
  tu_run_op("CumSum", 14, at, 2, 2, in, 1, &out);
  for (int i = 0; i < 35; i++)
    cr_assert_eq(((const int64_t *)out.data)[i], want[i], "element %d", i);
  nncl_array_free(&out);
  nncl_array_free(&x);
  nncl_array_free(&ax);
}

/* ---- Hardmax ---- */
Test(hardmax, opset13_axis_and_opset11_flattening_with_ties) {
  uint32_t st = 51;
  for (int t = 0; t < 10; t++) {
    nncl_shape s = tu_rand_shape(&st, 1 + t % 4, 1, 17);
    nncl_array x = rand_quantized(300 + (uint32_t)t, &s), out;
    int axis = (int)tu_rand_int(&st, -s.rank, s.rank - 1), opset = t % 2 ? 11 : 13;
    struct nncl__attr at[] = {A_INT("axis", axis)};
    const nncl_array *in[] = {&x};
    tu_run_op("Hardmax", opset, at, 1, 1, in, 1, &out);
    int64_t outer, n, inner, total = nncl_shape_numel(&s);
    int a = axis < 0 ? axis + s.rank : axis;
    split(&s, a, &outer, &n, &inner);
    if (opset < 13) { /* 2-D [outer, rest] */
      n *= inner;
      inner = 1;
    }
    float *want = malloc((size_t)total * sizeof *want);
    ref_hardmax(x.data, outer, n, inner, want);
    char what[64];
    snprintf(what, sizeof what, "Hardmax opset %d axis %d rank %d", opset, axis, s.rank);
    assert_equal_f(&out, want, what);
    free(want);
    nncl_array_free(&out);
    nncl_array_free(&x);
  }
}

/* ---- TopK ---- */
Test(topk, axes_largest_smallest_with_ties) {
  uint32_t st = 61;
  for (int t = 0; t < 12; t++) {
    nncl_shape s = tu_rand_shape(&st, 1 + t % 3, 1, 33);
    nncl_array x = rand_quantized(400 + (uint32_t)t, &s), out[2];
    int axis = (int)tu_rand_int(&st, -s.rank, s.rank - 1), a = axis < 0 ? axis + s.rank : axis;
    int largest = t % 2 == 0;
    int64_t k = tu_rand_int(&st, t % 5 == 4 ? 0 : 1, s.dims[a]);
    nncl_array kk = scalar_i64(k);
    struct nncl__attr at[] = {A_INT("axis", axis), A_INT("largest", largest), A_INT("sorted", 1)};
    const nncl_array *in[] = {&x, &kk};
    tu_run_op("TopK", 11, at, 3, 2, in, 2, out);
    int64_t outer, n, inner;
    split(&s, a, &outer, &n, &inner);
    size_t m = (size_t)(outer * k * inner);
    float *wv = malloc(m * sizeof *wv + 1);
    int64_t *wi = malloc(m * sizeof *wi + 1);
    ref_topk(x.data, outer, n, inner, k, largest, wv, wi);
    cr_assert_eq(out[0].shape.dims[a], k);
    cr_assert_eq(out[1].dtype, NNCL_INT64);
    char what[64];
    snprintf(what, sizeof what, "TopK axis %d k %lld largest %d", axis, (long long)k, largest);
    assert_equal_f(&out[0], wv, what);
    for (size_t i = 0; i < m; i++)
      cr_assert_eq(((const int64_t *)out[1].data)[i], wi[i], "%s: index %zu", what, i);
    free(wv);
    free(wi);
    nncl_array_free(&out[0]);
    nncl_array_free(&out[1]);
    nncl_array_free(&kk);
    nncl_array_free(&x);
  }
}

/* Lines longer than 512 take the k-rounds kernel. */
Test(topk, long_lines_rounds_kernel) {
  const int64_t shapes[][3] = {{3, 1000, 1}, {2, 701, 3}, {1, 4099, 1}};
  const int64_t ks[] = {7, 701, 1};
  for (int t = 0; t < 3; t++) {
    nncl_shape s = {.rank = 3, .dims = {shapes[t][0], shapes[t][1], shapes[t][2]}};
    nncl_array x = rand_quantized(600 + (uint32_t)t, &s), out[2], kk = scalar_i64(ks[t]);
    int largest = t != 1;
    struct nncl__attr at[] = {A_INT("axis", 1), A_INT("largest", largest)};
    const nncl_array *in[] = {&x, &kk};
    tu_run_op("TopK", 11, at, 2, 2, in, 2, out);
    size_t m = (size_t)(s.dims[0] * ks[t] * s.dims[2]);
    float *wv = malloc(m * sizeof *wv);
    int64_t *wi = malloc(m * sizeof *wi);
    ref_topk(x.data, s.dims[0], s.dims[1], s.dims[2], ks[t], largest, wv, wi);
    char what[64];
    snprintf(what, sizeof what, "TopK rounds n %lld k %lld", (long long)s.dims[1],
             (long long)ks[t]);
    assert_equal_f(&out[0], wv, what);
    for (size_t i = 0; i < m; i++)
      cr_assert_eq(((const int64_t *)out[1].data)[i], wi[i], "%s: index %zu", what, i);
    free(wv);
    free(wi);
    nncl_array_free(&out[0]);
    nncl_array_free(&out[1]);
    nncl_array_free(&kk);
    nncl_array_free(&x);
  }
}

Test(topk, k_larger_than_axis_is_an_error) {
  nncl_array x = TU_RAND(9, 3, 4), out[2], kk = scalar_i64(5);
  const nncl_array *in[] = {&x, &kk};
  cr_assert_neq(tu_try_op("TopK", 11, NULL, 0, 2, in, 2, out), NNCL_OK);
  nncl_array_free(&kk);
  nncl_array_free(&x);
}
