/* softmax.cl: Softmax and LogSoftmax over one axis of a tensor viewed as [outer, len, inner].
   Numerically stable (the row maximum is subtracted before exp). -inf inputs (masks)
   contribute 0; a row of only -inf gives NaN like the reference. Contiguous rows take a
   work-group each; strided columns a work-item each, with a running maximum m and sum s of
   exp(x - m) rescaled when m grows ("online"), so strided memory is read twice, not three
   times.
   Options:
   -D LOG_SOFTMAX=0|1  write x - m - log(s) instead of exp(x - m) / s (default 0) */
#include "common/index.cl"

#ifndef LOG_SOFTMAX
#define LOG_SOFTMAX 0
#endif

/* Adds x to the running (m, s) of the columns kernel. NaN propagates through m (comparisons with NaN are false). */
inline void sm_add(float *m, float *s, float x) {
  if (x == -INFINITY) return;
  if (x <= *m) {
    *s += exp(x - *m);
  } else {
    *s = (*m == -INFINITY ? 0.0f : *s * exp(*m - x)) + (isnan(x) ? x : 1.0f);
    *m = x;
  }
}

inline float sm_out(float x, float m, float s) {
#if LOG_SOFTMAX
  return x - m - log(s);
#else
  return exp(x - m) / s;
#endif
}

/* NaN-propagating maximum (fmax would drop NaN). */
inline float sm_max(float a, float b) { return (a > b || isnan(a)) ? a : b; }

/* One work-group per contiguous row (inner == 1, long rows): a max pass, a sum-of-exp pass and
   the output pass, each striding through the row (coalesced) with a local-memory tree between.
   float4 loads and branch-free loops vectorise on CPUs and halve GPU load instructions; the row (4 KiB for 1000 classes) is re-read from
   cache, not memory. exp(-inf - m) is 0, so masks need no special case. Local size: a power of
   two. */
__kernel void softmax_rows(__global const float *x, __global float *y, const uint len,
                           __local float *tmp) {
  const uint row = get_group_id(0), lid = get_local_id(0), lsz = get_local_size(0);
  __global const float *xr = x + (size_t)row * len;
  __global float *yr = y + (size_t)row * len;
  const uint n4 = len / 4u, tail = n4 * 4u;
  float4 m4 = (float4)(-INFINITY);
  for (uint i = lid; i < n4; i += lsz) {
    const float4 v = vload4(i, xr);
    m4 = select(m4, v, (v > m4) | isnan(v));
  }
  float m = sm_max(sm_max(m4.s0, m4.s1), sm_max(m4.s2, m4.s3));
  for (uint i = tail + lid; i < len; i += lsz) m = sm_max(m, xr[i]);
  tmp[lid] = m;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint off = lsz / 2u; off > 0u; off >>= 1) {
    if (lid < off) tmp[lid] = sm_max(tmp[lid], tmp[lid + off]);
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  m = tmp[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  float4 s4 = (float4)(0.0f);
  for (uint i = lid; i < n4; i += lsz) s4 += exp(vload4(i, xr) - m);
  float s = (s4.s0 + s4.s1) + (s4.s2 + s4.s3);
  for (uint i = tail + lid; i < len; i += lsz) s += exp(xr[i] - m);
  tmp[lid] = s;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint off = lsz / 2u; off > 0u; off >>= 1) {
    if (lid < off) tmp[lid] += tmp[lid + off];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  s = tmp[0];
#if LOG_SOFTMAX
  const float t = m + log(s);
  for (uint i = lid; i < n4; i += lsz) vstore4(vload4(i, xr) - t, i, yr);
  for (uint i = tail + lid; i < len; i += lsz) yr[i] = xr[i] - t;
#else
  const float inv = 1.0f / s;
  for (uint i = lid; i < n4; i += lsz) vstore4(exp(vload4(i, xr) - m) * inv, i, yr);
  for (uint i = tail + lid; i < len; i += lsz) yr[i] = exp(xr[i] - m) * inv;
#endif
}

/* CPU form of softmax_rows: a work-item per contiguous row (rows of them), no barriers. float8
   loads vectorise inside the work-item; Softmax stores exp(x - m) in the sum pass and scales it
   in place, so each element costs one exp, not two. Rows are read from cache after the first
   pass (4 KiB for 1000 classes). In-place safe: each element is read before it is written by the
   same work-item. */
__kernel void softmax_rows_item(__global const float *x, __global float *y, const uint len,
                                const uint rows) {
  const uint row = get_global_id(0);
  GUARD(row, rows);
  __global const float *xr = x + (size_t)row * len;
  __global float *yr = y + (size_t)row * len;
  const uint n8 = len / 8u, tail = n8 * 8u;
  float8 m8 = (float8)(-INFINITY);
  for (uint i = 0; i < n8; i++) {
    const float8 v = vload8(i, xr);
    m8 = select(m8, v, (v > m8) | isnan(v));
  }
  const float4 m4 = select(m8.hi, m8.lo, (m8.lo > m8.hi) | isnan(m8.lo));
  float m = sm_max(sm_max(m4.s0, m4.s1), sm_max(m4.s2, m4.s3));
  for (uint i = tail; i < len; i++) m = sm_max(m, xr[i]);
  float8 s8 = (float8)(0.0f);
  float st = 0.0f;
#if LOG_SOFTMAX
  for (uint i = 0; i < n8; i++) s8 += exp(vload8(i, xr) - m);
  for (uint i = tail; i < len; i++) st += exp(xr[i] - m);
#else
  for (uint i = 0; i < n8; i++) {
    const float8 e = exp(vload8(i, xr) - m);
    vstore8(e, i, yr);
    s8 += e;
  }
  for (uint i = tail; i < len; i++) {
    const float e = exp(xr[i] - m);
    yr[i] = e;
    st += e;
  }
#endif
  const float4 s4 = s8.lo + s8.hi;
  const float s = ((s4.s0 + s4.s1) + (s4.s2 + s4.s3)) + st;
#if LOG_SOFTMAX
  const float t = m + log(s);
  for (uint i = 0; i < n8; i++) vstore8(vload8(i, xr) - t, i, yr);
  for (uint i = tail; i < len; i++) yr[i] = xr[i] - t;
#else
  const float inv = 1.0f / s;
  for (uint i = 0; i < n8; i++) vstore8(vload8(i, yr) * inv, i, yr);
  for (uint i = tail; i < len; i++) yr[i] *= inv;
#endif
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
  for (uint k = 0; k < len; k++)
    y[base + (size_t)k * inner] = sm_out(x[base + (size_t)k * inner], m, s);
}
