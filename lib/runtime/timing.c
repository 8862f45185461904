/* timing.c: the one timer of runs that benchmarks (median) and plan-time choices (fastest) share. */
#include <stdlib.h>

#include "runtime.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The runs' times sorted; at = 0.5 gives the median, 0 the fastest. */
static nncl_status time_at(nncl_context *ctx, int warmup, int runs, nncl_status (*fn)(void *),
                           void *arg, double at, double *out_s) {
  if (runs < 1) runs = 1;
  for (int i = 0; i < warmup; i++) NNCL_TRY(fn(arg));
  NNCL_TRY(nncl_context_finish(ctx));
  double *t = malloc((size_t)runs * sizeof *t);
  if (!t) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "timing");
  nncl_status st = NNCL_OK;
  for (int i = 0; i < runs && st == NNCL_OK; i++) {
    double t0 = nncl__now_ns();
    st = fn(arg);
    if (st == NNCL_OK) st = nncl_context_finish(ctx);
    t[i] = (nncl__now_ns() - t0) * 1e-9;
  }
  if (st == NNCL_OK) {
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    *out_s = t[(int)(at * runs)];
  }
  free(t);
  return st;
}

nncl_status nncl__time_median(nncl_context *ctx, int warmup, int runs, nncl_status (*fn)(void *),
                              void *arg, double *median_s) {
  return time_at(ctx, warmup, runs, fn, arg, 0.5, median_s);
}

nncl_status nncl__time_fastest(nncl_context *ctx, int warmup, int runs, nncl_status (*fn)(void *),
                               void *arg, double *fastest_s) {
  return time_at(ctx, warmup, runs, fn, arg, 0.0, fastest_s);
}
