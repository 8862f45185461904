/* softmax.cl: Softmax and LogSoftmax over one axis of a tensor viewed as [outer, len, inner].
   Numerically stable: a running maximum m and a sum s of exp(x - m), rescaled when m grows
   ("online" softmax), so the input is read twice (statistics, then output) instead of three
   times. -inf inputs (masks) contribute 0; a row of only -inf gives NaN like the reference.
   Options:
   -D LOG_SOFTMAX=0|1  write x - m - log(s) instead of exp(x - m) / s (default 0) */
#include "common/index.cl"

#ifndef LOG_SOFTMAX
#define LOG_SOFTMAX 0
#endif

/* Adds x to the running (m, s). NaN propagates through m (comparisons with NaN are false). */
inline void sm_add(float *m, float *s, float x) {
  if (x == -INFINITY) return;
  if (x <= *m) {
    *s += exp(x - *m);
  } else {
    *s = (*m == -INFINITY ? 0.0f : *s * exp(*m - x)) + (isnan(x) ? x : 1.0f);
    *m = x;
  }
}

/* Merges (m2, s2) into (m, s). */
inline void sm_merge(float *m, float *s, float m2, float s2) {
  if (isnan(m2) || isnan(*m)) {
    *m = NAN;
    *s = NAN;
    return;
  }
  const float mn = fmax(*m, m2);
  const float a = *m == -INFINITY ? 0.0f : *s * exp(*m - mn);
  const float b = m2 == -INFINITY ? 0.0f : s2 * exp(m2 - mn);
  *m = mn;
  *s = a + b;
}

inline float sm_out(float x, float m, float s) {
#if LOG_SOFTMAX
  return x - m - log(s);
#else
  return exp(x - m) / s;
#endif
}

/* One work-group per contiguous row (inner == 1, long rows). Each work-item strides through the
   row (coalesced), then the group merges its (m, s) pairs in local memory. Local size: a power
   of two. */
__kernel void softmax_rows(__global const float *x, __global float *y, const uint len,
                           __local float *lm, __local float *ls) {
  const uint row = get_group_id(0), lid = get_local_id(0), lsz = get_local_size(0);
  __global const float *xr = x + (size_t)row * len;
  __global float *yr = y + (size_t)row * len;
  float m = -INFINITY, s = 0.0f;
  for (uint i = lid; i < len; i += lsz) sm_add(&m, &s, xr[i]);
  lm[lid] = m;
  ls[lid] = s;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint off = lsz / 2u; off > 0u; off >>= 1) {
    if (lid < off) {
      float a = lm[lid], b = ls[lid];
      sm_merge(&a, &b, lm[lid + off], ls[lid + off]);
      lm[lid] = a;
      ls[lid] = b;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  m = lm[0];
  s = ls[0];
  for (uint i = lid; i < len; i += lsz) yr[i] = sm_out(xr[i], m, s);
}

/* One work-item per (outer, inner) column: the softmax axis is strided (inner > 1) or short.
   Neighbouring work-items read neighbouring inner positions, so loads stay coalesced. */
__kernel void softmax_cols(__global const float *x, __global float *y, const uint len,
                           const uint inner, const uint columns) {
  const uint gid = get_global_id(0);
  GUARD(gid, columns);
  const uint o = gid / inner, i = gid - o * inner;
  const size_t base = (size_t)o * len * inner + i;
  float m = -INFINITY, s = 0.0f;
  for (uint k = 0; k < len; k++) sm_add(&m, &s, x[base + (size_t)k * inner]);
  for (uint k = 0; k < len; k++) y[base + (size_t)k * inner] = sm_out(x[base + (size_t)k * inner], m, s);
}
