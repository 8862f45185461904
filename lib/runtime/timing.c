/* timing.c: the one median-of-runs timer that benchmarks and op timings share. */
#include <stdlib.h>

#include "runtime.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

nncl_status nncl__time_median(nncl_context *ctx, int warmup, int runs, nncl_status (*fn)(void *),
                              void *arg, double *median_s) {
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
    *median_s = t[runs / 2];
  }
  free(t);
  return st;
}
