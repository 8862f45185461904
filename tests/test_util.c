/* test_util.c: shared test helpers (see test_util.h). */
#include "test_util.h"

#include "nncl/onnx.h"

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

void tu_assert_fd_gradient(const float *got, double *x, size_t n, double (*loss)(void *arg),
                           void *arg, const char *what) {
  const double h = 1e-4;
  float *fd = malloc(n * sizeof *fd);
  cr_assert(fd || !n);
  double big = 1.0;
  for (size_t k = 0; k < n; k++) {
    double keep = x[k];
    x[k] = keep + h;
    double lp = loss(arg);
    x[k] = keep - h;
    double lm = loss(arg);
    x[k] = keep;
    fd[k] = (float)((lp - lm) / (2.0 * h));
    big = fmax(big, fabs(fd[k]));
  }
  tu_assert_close(got, fd, n, 1e-3, 1e-4 * big, what);
  free(fd);
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

void tu_set_option(const char *key, const char *value) {
  nncl_status st = nncl_context_set_option(tu_ctx(), key, value);
  cr_assert_eq(st, NNCL_OK, "option %s=%s: %s", key, value ? value : "(default)",
               nncl_context_last_error(tu_ctx()));
}

uint32_t tu_xorshift(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

int64_t tu_rand_int(uint32_t *s, int64_t lo, int64_t hi) {
  return lo + (int64_t)(tu_xorshift(s) % (uint32_t)(hi - lo + 1));
}

nncl_shape tu_rand_shape(uint32_t *s, int rank, int64_t lo, int64_t hi) {
  nncl_shape sh = {.rank = rank};
  static const int64_t awkward[] = {1, 2, 3, 5, 7, 13, 17, 31, 33};
  for (int d = 0; d < rank; d++) {
    int64_t v = awkward[tu_xorshift(s) % 9];
    sh.dims[d] = v < lo ? lo : v > hi ? hi : v;
  }
  return sh;
}

nncl_array tu_ints(nncl_dtype dt, const nncl_shape *s, const int64_t *v) {
  nncl_array a;
  cr_assert_eq(nncl_array_alloc(&a, dt, s), NNCL_OK);
  for (int64_t i = 0; i < nncl_shape_numel(s); i++) {
    if (dt == NNCL_INT64)
      ((int64_t *)a.data)[i] = v[i];
    else
      ((int32_t *)a.data)[i] = (int32_t)v[i];
  }
  return a;
}

nncl_array tu_int_rand(nncl_dtype dt, uint32_t seed, int rank, const int64_t *dims, int lo,
                       int hi) {
  nncl_array a = tu_zeros(dt, rank, dims);
  int64_t n = nncl_shape_numel(&a.shape);
  uint32_t s = seed * 2654435761u + 1;
  for (int64_t i = 0; i < n; ++i) {
    int v = (int)tu_rand_int(&s, lo, hi);
    if (dt == NNCL_UINT8)
      ((uint8_t *)a.data)[i] = (uint8_t)v;
    else if (dt == NNCL_INT8)
      ((int8_t *)a.data)[i] = (int8_t)v;
    else
      ((int32_t *)a.data)[i] = v;
  }
  return a;
}

int tu_qmin(nncl_dtype t) { return t == NNCL_INT8 ? -128 : 0; }
int tu_qmax(nncl_dtype t) { return t == NNCL_INT8 ? 127 : 255; }

int32_t *tu_widen(const nncl_array *a) {
  int64_t n = nncl_shape_numel(&a->shape);
  int32_t *v = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
  cr_assert(v);
  for (int64_t i = 0; i < n; ++i)
    v[i] = a->dtype == NNCL_UINT8  ? ((const uint8_t *)a->data)[i]
           : a->dtype == NNCL_INT8 ? ((const int8_t *)a->data)[i]
                                   : ((const int32_t *)a->data)[i];
  return v;
}

void tu_assert_ints(const nncl_array *got, nncl_dtype dt, const int32_t *want, int64_t n,
                    const char *what) {
  cr_assert_eq(got->dtype, dt, "%s: dtype %s", what, nncl_dtype_name(got->dtype));
  cr_assert_eq(nncl_shape_numel(&got->shape), n, "%s: element count", what);
  int32_t *g = tu_widen(got);
  for (int64_t i = 0; i < n; ++i)
    cr_assert_eq(g[i], want[i], "%s: element %lld is %d, expected %d", what, (long long)i, g[i],
                 want[i]);
  free(g);
}

void tu_data_path(char *buf, size_t len, const char *dir, const char *file) {
  const char *data = getenv("NNCL_TEST_DATA");
  cr_assert(data && *data, "NNCL_TEST_DATA is not set (run through meson test)");
  snprintf(buf, len, "%s/%s/%s", data, dir, file);
}

nncl_array tu_data_npy(const char *dir, const char *file) {
  char path[1024];
  nncl_array a;
  tu_data_path(path, sizeof path, dir, file);
  cr_assert_eq(nncl_npy_load(tu_ctx(), path, &a), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  return a;
}

nncl_graph *tu_data_onnx(const char *dir, const char *file) {
  char path[1024];
  nncl_graph *g;
  tu_data_path(path, sizeof path, dir, file);
  cr_assert_eq(nncl_onnx_load(tu_ctx(), path, &g), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  return g;
}
