/* loss_grad.cl: SoftmaxCrossEntropyLoss's input gradient (lib/train/op_loss_grad.c) from the
   forward's log-probabilities lp [N, C, D] and targets t [N, D] (int32 _i32 or int64 _i64):
   dX[n, c, d] = (exp(lp) - (c == t)) * g, with g = dL for reduction sum, dL / (targets not
   ignored) for mean, dL[n, d] for none. Ignored targets give 0; a target outside [0, C) gives
   NaN, as the forward loss does. With nll = 1 the input is NegativeLogLikelihoodLoss's and the
   exp(lp) term is dropped: dX = -(c == t) * g. loss_grad_count first counts the targets that are not ignored
   (one work-item, fixed order) into cnt[0].
   No -D parameters. */
#include "common/index.cl"

#define LOSS_GRAD(IT)                                                                              \
  __kernel void loss_grad_count_##IT(__global const IT *t, __global float *cnt, const uint npos,   \
                                     const long ii) {                                              \
    if (get_global_id(0) != 0) return;                                                             \
    uint k = 0;                                                                                    \
    for (uint p = 0; p < npos; p++) k += (long)t[p] != ii;                                         \
    cnt[0] = (float)k;                                                                             \
  }                                                                                                \
  __kernel void loss_grad_sce_##IT(__global const float *dl, __global const float *lp,             \
                                   __global const IT *t, __global const float *cnt,                \
                                   __global float *dx, const uint n, const uint C, const uint D,   \
                                   const long ii, const int red, const int nll) {                  \
    const uint i = get_global_id(0);                                                               \
    GUARD(i, n);                                                                                   \
    const uint d = i % D, c = i / D % C, nn = i / (D * C), p = nn * D + d;                         \
    const long tc = (long)t[p];                                                                    \
    if (tc == ii) {                                                                                \
      dx[i] = 0.0f;                                                                                \
      return;                                                                                      \
    }                                                                                              \
    if (tc < 0 || tc >= (long)C) {                                                                 \
      dx[i] = NAN;                                                                                 \
      return;                                                                                      \
    }                                                                                              \
    const float g = red == 0 ? dl[p] : (red == 1 ? dl[0] : dl[0] / cnt[0]);                        \
    dx[i] = ((nll ? 0.0f : exp(lp[i])) - (tc == (long)c ? 1.0f : 0.0f)) * g;                       \
  }

LOSS_GRAD(int)
LOSS_GRAD(long)
