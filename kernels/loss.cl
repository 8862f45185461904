/* loss.cl: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (lib/ops/loss.c). Inputs are
   [N, C, D] float (D = product of the spatial dims, 1 for [N, C]); targets [N, D] int32 (_i32) or
   int64 (_i64); weights [C] optional (has_w = 0: every class weighs 1, w is not read).
   A target equal to ignore_index weighs 0; any other target outside [0, C) gives NaN, so a bad
   label shows in the loss instead of reading outside the buffer.
   The reductions (sum, mean = sum / sum of weights) run in ONE work-group with a fixed tree
   order, so the result is deterministic (no atomics).
   No -D parameters. */
#include "common/index.cl"

/* log_softmax over the class axis of x [N, C, D]: one work-item per (n, d) position; work-items
   with neighbouring d read neighbouring addresses. */
__kernel void loss_log_softmax(__global const float *x, __global float *y, const uint npos,
                               const uint C, const uint D) {
  const uint p = get_global_id(0);
  GUARD(p, npos);
  const uint n = p / D, d = p - n * D;
  const ulong base = (ulong)n * C * D + d;
  float m = -INFINITY;
  for (uint c = 0; c < C; ++c) m = fmax(m, x[base + (ulong)c * D]);
  float s = 0.0f;
  for (uint c = 0; c < C; ++c) s += exp(x[base + (ulong)c * D] - m);
  const float lse = m + log(s);
  for (uint c = 0; c < C; ++c) y[base + (ulong)c * D] = x[base + (ulong)c * D] - lse;
}

/* Loss and weight of position p: loss = -w[t] * x[n, t, d]. */
#define LOSS_AT(IT)                                                                                \
  static inline float2 loss_at_##IT(__global const float *x, __global const IT *t,                 \
                                    __global const float *w, const int has_w, const uint p,        \
                                    const uint C, const uint D, const long ii) {                   \
    const long tc = (long)t[p];                                                                    \
    if (tc == ii) return (float2)(0.0f, 0.0f);                                                     \
    if (tc < 0 || tc >= (long)C) return (float2)(NAN, 0.0f);                                       \
    const uint n = p / D, d = p - n * D;                                                           \
    const float wt = has_w ? w[tc] : 1.0f;                                                         \
    return (float2)(-wt * x[((ulong)n * C + (ulong)tc) * D + d], wt);                              \
  }

/* reduction none: out[p] for each of the npos positions. */
#define LOSS_NONE(ISUF, IT)                                                                        \
  __kernel void loss_nll_none_##ISUF(                                                              \
      __global const float *x, __global const IT *t, __global const float *w, __global float *out, \
      const int has_w, const uint npos, const uint C, const uint D, const long ii) {               \
    const uint p = get_global_id(0);                                                               \
    GUARD(p, npos);                                                                                \
    out[p] = loss_at_##IT(x, t, w, has_w, p, C, D, ii).x;                                          \
  }

/* reduction sum (mean = 0) or mean (mean = 1): one work-group of ls work-items (a power of two,
   scratch holds 2 * ls floats). */
#define LOSS_REDUCE(ISUF, IT)                                                                      \
  __kernel void loss_nll_reduce_##ISUF(                                                            \
      __global const float *x, __global const IT *t, __global const float *w, __global float *out, \
      const int has_w, const uint npos, const uint C, const uint D, const long ii, const int mean, \
      __local float *scratch) {                                                                    \
    const uint l = get_local_id(0), ls = get_local_size(0);                                        \
    float s = 0.0f, sw = 0.0f;                                                                     \
    for (uint p = l; p < npos; p += ls) {                                                          \
      const float2 v = loss_at_##IT(x, t, w, has_w, p, C, D, ii);                                  \
      s += v.x;                                                                                    \
      sw += v.y;                                                                                   \
    }                                                                                              \
    scratch[l] = s;                                                                                \
    scratch[ls + l] = sw;                                                                          \
    barrier(CLK_LOCAL_MEM_FENCE);                                                                  \
    for (uint h = ls / 2; h > 0; h /= 2) {                                                         \
      if (l < h) {                                                                                 \
        scratch[l] += scratch[l + h];                                                              \
        scratch[ls + l] += scratch[ls + l + h];                                                    \
      }                                                                                            \
      barrier(CLK_LOCAL_MEM_FENCE);                                                                \
    }                                                                                              \
    if (l == 0) out[0] = mean ? scratch[0] / scratch[ls] : scratch[0];                             \
  }

LOSS_AT(int)
LOSS_AT(long)
LOSS_NONE(i32, int)
LOSS_NONE(i64, long)
LOSS_REDUCE(i32, int)
LOSS_REDUCE(i64, long)
