/* test_util.c: shared test helpers (see test_util.h). */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static nncl_context *g_ctx;

static void destroy_ctx(void) {
  nncl_context_destroy(g_ctx);
  g_ctx = NULL;
}

nncl_context *tu_ctx(void) {
  if (g_ctx) return g_ctx;
  char msg[4096] = "";
  nncl_status st = nncl_context_create(NULL, &g_ctx, msg, sizeof msg);
  cr_assert_eq(st, NNCL_OK, "no test device: %s: %s", nncl_status_string(st), msg);
  atexit(destroy_ctx);
  return g_ctx;
}

void tu_fill(float *x, size_t n, uint32_t seed, float lo, float hi) {
  uint32_t s = seed * 2654435761u + 1u;
  for (size_t i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    x[i] = lo + (hi - lo) * (float)(s >> 8) / 16777216.0f;
  }
}

nncl_array tu_rand(uint32_t seed, int rank, const int64_t *dims) {
  nncl_array a;
  nncl_shape s = {.rank = rank};
  if (rank) memcpy(s.dims, dims, (size_t)rank * sizeof *dims); /* dims may be NULL at rank 0 */
  cr_assert_eq(nncl_array_alloc(&a, NNCL_FLOAT32, &s), NNCL_OK);
  tu_fill(a.data, (size_t)nncl_shape_numel(&s), seed, -1.0f, 1.0f);
  return a;
}

nncl_array tu_zeros(nncl_dtype dt, int rank, const int64_t *dims) {
  nncl_array a;
  nncl_shape s = {.rank = rank};
  if (rank) memcpy(s.dims, dims, (size_t)rank * sizeof *dims); /* dims may be NULL at rank 0 */
  cr_assert_eq(nncl_array_alloc(&a, dt, &s), NNCL_OK);
  return a;
}

nncl_array tu_i64(int n, const int64_t *v) {
  int64_t d = n;
  nncl_array a = tu_zeros(NNCL_INT64, 1, &d);
  memcpy(a.data, v, (size_t)n * sizeof *v);
  return a;
}

double tu_close_ratio(const float *got, const float *want, size_t n, double rtol, double atol,
                      size_t *worst) {
  double max = 0;
  *worst = 0;
  for (size_t i = 0; i < n; i++) {
    double g = got[i], w = want[i], r;
    if (isnan(g) || isnan(w))
      r = (isnan(g) && isnan(w)) ? 0 : INFINITY;
    else if (isinf(w) || isinf(g))
      r = g == w ? 0 : INFINITY;
    else
      r = fabs(g - w) / (atol + rtol * fabs(w));
    if (r > max || (i == 0 && r >= max)) {
      max = r;
      *worst = i;
    }
  }
  return max;
}

double tu_max_rel_error(const float *got, const float *want, size_t n) {
  double num = 0, den = 1e-30;
  for (size_t i = 0; i < n; i++) {
    num = fmax(num, fabs((double)got[i] - want[i]));
    den = fmax(den, fabs((double)want[i]));
  }
  return num / den;
}

nncl_status tu_try_op(const char *op_type, int opset, const struct nncl__attr *attrs, int n_attrs,
                      int n_in, const nncl_array *const *in, int n_out, nncl_array *out) {
  return op_run(tu_ctx(), op_type, opset, attrs, n_attrs, n_in, in, n_out, out, NULL, NULL);
}

void tu_run_op(const char *op_type, int opset, const struct nncl__attr *attrs, int n_attrs,
               int n_in, const nncl_array *const *in, int n_out, nncl_array *out) {
  nncl_status st = tu_try_op(op_type, opset, attrs, n_attrs, n_in, in, n_out, out);
  cr_assert_eq(st, NNCL_OK, "%s failed: %s: %s", op_type, nncl_status_string(st),
               nncl_context_last_error(tu_ctx()));
}
