/* loss_ref.c: naive loops for tests/test_loss.c (see loss_ref.h), in double. */
#include "loss_ref.h"

#include <math.h>

void ref_log_softmax_axis1(const float *x, const nncl_shape *xs, float *out) {
  int64_t N = xs->dims[0], C = xs->dims[1], D = nncl_shape_numel(xs) / (N * C);
  for (int64_t n = 0; n < N; n++)
    for (int64_t d = 0; d < D; d++) {
      double m = -INFINITY, s = 0.0;
      for (int64_t c = 0; c < C; c++) m = fmax(m, x[(n * C + c) * D + d]);
      for (int64_t c = 0; c < C; c++) s += exp(x[(n * C + c) * D + d] - m);
      for (int64_t c = 0; c < C; c++)
        out[(n * C + c) * D + d] = (float)(x[(n * C + c) * D + d] - m - log(s));
    }
}

void ref_nll_loss(const float *x, const nncl_shape *xs, const int64_t *t, const float *w,
                  int reduction, int64_t ii, float *out) {
  int64_t N = xs->dims[0], C = xs->dims[1], D = nncl_shape_numel(xs) / (N * C);
  double s = 0.0, sw = 0.0;
  for (int64_t n = 0; n < N; n++)
    for (int64_t d = 0; d < D; d++) {
      int64_t tc = t[n * D + d];
      double wt = tc == ii ? 0.0 : w ? w[tc] : 1.0;
      double l = tc == ii ? 0.0 : -wt * x[(n * C + tc) * D + d];
      if (reduction == 0) out[n * D + d] = (float)l;
      s += l;
      sw += wt;
    }
  if (reduction) out[0] = (float)(reduction == 2 ? s / sw : s);
}
