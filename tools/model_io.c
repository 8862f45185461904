/* model_io.c: shared helpers of the model-level commands (see model_io.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_io.h"

nncl_graph *mi_load_model(nncl_context *ctx, const char *path) {
  nncl_graph *g = NULL;
  nncl_status st = nncl_onnx_load(ctx, path, &g);
  if (st != NNCL_OK) {
    cli_fail(ctx, st, path);
    return NULL;
  }
  return g;
}

int mi_ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

nncl_status mi_read_array(nncl_context *ctx, const char *path, nncl_array *out, char **name) {
  if (name) *name = NULL;
  if (mi_ends_with(path, ".npy")) return nncl_npy_load(ctx, path, out);
  return nncl_onnx_load_tensor(ctx, path, out, name);
}

nncl_status mi_input_shape(const nncl_graph *g, int i, int64_t batch, nncl_shape *shape,
                           int *guessed) {
  nncl_dtype dt;
  *guessed = 0;
  nncl_status st = nncl_graph_input_info(g, i, &dt, shape);
  if (st != NNCL_OK) return st;
  if (shape->rank < 0 || shape->rank > NNCL_MAX_RANK) return NNCL_ERR_UNSUPPORTED;
  for (int d = 0; d < shape->rank; d++)
    if (shape->dims[d] < 0) {
      shape->dims[d] = d == 0 ? batch : 1;
      *guessed = 1;
    }
  return NNCL_OK;
}

nncl_status mi_generate(nncl_dtype dt, const nncl_shape *shape, uint32_t seed, nncl_array *out) {
  nncl_status st = nncl_array_alloc(out, dt, shape);
  if (st != NNCL_OK) return st;
  size_t n = (size_t)nncl_shape_numel(shape);
  uint32_t s = seed * 2654435761u + 12345u;
  for (size_t i = 0; i < n && dt == NNCL_FLOAT32; i++) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    ((float *)out->data)[i] = -1.0f + 2.0f * (float)(s >> 8) / 16777216.0f;
  }
  return NNCL_OK;
}

/* IEEE half -> float (denormals, infinities and NaN included). */
static float half_to_float(uint16_t h) {
  int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
  float v;
  if (exp == 0)
    v = ldexpf((float)man, -24);
  else if (exp == 31)
    v = man ? NAN : INFINITY;
  else
    v = ldexpf((float)(man | 1024), exp - 25);
  return sign ? -v : v;
}

double mi_get(const nncl_array *a, size_t i) {
  switch (a->dtype) {
  case NNCL_FLOAT32: return ((const float *)a->data)[i];
  case NNCL_FLOAT16: return half_to_float(((const uint16_t *)a->data)[i]);
  case NNCL_INT8: return ((const int8_t *)a->data)[i];
  case NNCL_UINT8:
  case NNCL_BOOL: return ((const uint8_t *)a->data)[i];
  case NNCL_INT32: return ((const int32_t *)a->data)[i];
  case NNCL_INT64: return (double)((const int64_t *)a->data)[i];
  default: return NAN;
  }
}

void mi_compare(const nncl_array *got, const nncl_array *want, double rtol, double atol,
                mi_compare_result *r) {
  memset(r, 0, sizeof *r);
  char a[128], b[128];
  if (got->dtype != want->dtype) {
    snprintf(r->problem, sizeof r->problem, "dtype %s, expected %s", nncl_dtype_name(got->dtype),
             nncl_dtype_name(want->dtype));
    return;
  }
  int same = got->shape.rank == want->shape.rank;
  for (int d = 0; same && d < got->shape.rank; d++)
    same = got->shape.dims[d] == want->shape.dims[d];
  if (!same) {
    snprintf(r->problem, sizeof r->problem, "shape %s, expected %s",
             nncl_shape_format(&got->shape, a, sizeof a),
             nncl_shape_format(&want->shape, b, sizeof b));
    return;
  }
  int exact = got->dtype != NNCL_FLOAT32 && got->dtype != NNCL_FLOAT16;
  size_t n = (size_t)nncl_shape_numel(&want->shape);
  double worst_ratio = -1;
  for (size_t i = 0; i < n; i++) {
    double g = mi_get(got, i), w = mi_get(want, i);
    double err, ratio;
    if (isnan(g) || isnan(w)) {
      err = isnan(g) && isnan(w) ? 0 : INFINITY;
    } else if (isinf(g) || isinf(w)) {
      err = g == w ? 0 : INFINITY;
    } else {
      err = fabs(g - w);
    }
    double tol = exact ? 0 : atol + rtol * fabs(w);
    ratio = err == 0 ? 0 : (tol > 0 ? err / tol : INFINITY);
    if (err > tol) r->n_bad++;
    if (err > r->max_abs) r->max_abs = err;
    double rel = err == 0 ? 0 : err / (fabs(w) > 0 ? fabs(w) : 1e-30);
    if (rel > r->max_rel) r->max_rel = rel;
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      r->worst = i;
      r->got_worst = g;
      r->want_worst = w;
    }
  }
  r->ok = r->n_bad == 0;
}
