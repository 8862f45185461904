/* norm.cl: normalization kernels for NCHW float32 tensors: BatchNormalization (inference),
   InstanceNormalization, LayerNormalization and LRN.

   Row statistics (instance and layer norm) use one work-group per row: each work-item runs
   Welford's update over a strided slice of the row (coalesced loads), then the group merges the
   partial (count, mean, M2) triples pairwise (Chan et al.) in local memory. This is a one-read,
   numerically stable reduction: no sum-of-squares cancellation. The row is then read a second
   time to write the output. Local sizes must be powers of two (the op picks them).

   No -D options: everything is a kernel argument, so the file builds once. */
#include "common/index.cl"

/* y = (x - mean[p]) / sqrt(var[p] + eps) * scale[p] + bias[p]. Work-item (i, row) handles element
   i of a row of s elements. per_row: parameter index is row % np (spatial BatchNorm: rows are
   (n, c)); otherwise it is i (non-spatial BatchNorm of opset 7: rows are samples). */
__kernel void norm_batch(__global const float *x, __global const float *scale,
                         __global const float *bias, __global const float *mean,
                         __global const float *var, __global float *y, const uint s,
                         const uint rows, const uint np, const int per_row, const float eps) {
  const uint i = get_global_id(0), row = get_global_id(1);
  if (i >= s || row >= rows) return;
  const uint p = per_row ? row % np : i;
  const float a = scale[p] / sqrt(var[p] + eps);
  const size_t o = (size_t)row * s + i;
  y[o] = (x[o] - mean[p]) * a + bias[p];
}

/* Merges partial statistics (nb, mb, m2b) into (na, ma, m2a). */
inline void norm_merge(float *na, float *ma, float *m2a, float nb, float mb, float m2b) {
  const float n = *na + nb;
  if (nb == 0.0f) return;
  const float d = mb - *ma, f = nb / n;
  *ma += d * f;
  *m2a += m2b + d * d * *na * f;
  *na = n;
}

/* Mean and population variance of xr[0..n) over the work-group; every work-item gets them. */
inline float2 norm_row_stats(__global const float *xr, const uint n, __local float *ln,
                             __local float *lm, __local float *lm2) {
  const uint l = get_local_id(0), ls = get_local_size(0);
  float cnt = 0.0f, m = 0.0f, m2 = 0.0f;
  for (uint i = l; i < n; i += ls) {
    const float v = xr[i];
    cnt += 1.0f;
    const float d = v - m;
    m += d / cnt;
    m2 += d * (v - m);
  }
  ln[l] = cnt;
  lm[l] = m;
  lm2[l] = m2;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint h = ls / 2; h > 0; h >>= 1) {
    if (l < h) {
      float a = ln[l], b = lm[l], c = lm2[l];
      norm_merge(&a, &b, &c, ln[l + h], lm[l + h], lm2[l + h]);
      ln[l] = a;
      lm[l] = b;
      lm2[l] = c;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  const float2 r = (float2)(lm[0], n > 0 ? lm2[0] / (float)n : 0.0f);
  barrier(CLK_LOCAL_MEM_FENCE); /* the locals may be reused by the caller */
  return r;
}

/* InstanceNormalization: one work-group per (n, c) row of n elements; parameters per channel. */
__kernel void norm_instance(__global const float *x, __global const float *scale,
                            __global const float *bias, __global float *y, const uint n,
                            const uint channels, const float eps, __local float *ln,
                            __local float *lm, __local float *lm2) {
  const uint row = get_group_id(0), l = get_local_id(0), ls = get_local_size(0);
  __global const float *xr = x + (size_t)row * n;
  const float2 st = norm_row_stats(xr, n, ln, lm, lm2);
  const uint ch = row % channels;
  const float a = scale[ch] / sqrt(st.y + eps), b = bias[ch];
  __global float *yr = y + (size_t)row * n;
  for (uint i = l; i < n; i += ls) yr[i] = (xr[i] - st.x) * a + b;
}

/* LayerNormalization: one work-group per row of n elements (the axes from `axis` on). Scale and
   bias have np elements indexed by i % np (a trailing-suffix broadcast); has_bias = 0 means no
   bias. Bit 0 of stats writes mean[row], bit 1 writes invstd[row]. */
__kernel void norm_layer(__global const float *x, __global const float *scale,
                         __global const float *bias, __global float *y, __global float *mean,
                         __global float *invstd, const uint n, const uint np, const int has_bias,
                         const int stats, const float eps, __local float *ln,
                         __local float *lm, __local float *lm2) {
  const uint row = get_group_id(0), l = get_local_id(0), ls = get_local_size(0);
  __global const float *xr = x + (size_t)row * n;
  const float2 st = norm_row_stats(xr, n, ln, lm, lm2);
  const float inv = 1.0f / sqrt(st.y + eps);
  if (l == 0) {
    if (stats & 1) mean[row] = st.x;
    if (stats & 2) invstd[row] = inv;
  }
  __global float *yr = y + (size_t)row * n;
  if (np == n) {
    for (uint i = l; i < n; i += ls) {
      const float v = (xr[i] - st.x) * inv * scale[i];
      yr[i] = has_bias ? v + bias[i] : v;
    }
  } else {
    for (uint i = l; i < n; i += ls) {
      const uint p = i % np;
      const float v = (xr[i] - st.x) * inv * scale[p];
      yr[i] = has_bias ? v + bias[p] : v;
    }
  }
}

/* LRN across channels: y = x / (bias + alpha_n * sum_{c' in [c-lo, c+hi]} x[c']^2)^beta, with
   alpha_n = alpha / size. Work-item (i, row): element i of the (n, c) row of hw elements;
   neighbouring work-items read neighbouring addresses in every channel. */
__kernel void norm_lrn(__global const float *x, __global float *y, const uint hw, const uint rows,
                       const uint channels, const int lo, const int hi, const float alpha_n,
                       const float beta, const float bias) {
  const uint i = get_global_id(0), row = get_global_id(1);
  if (i >= hw || row >= rows) return;
  const int c = (int)(row % channels);
  const int c0 = max(0, c - lo), c1 = min((int)channels - 1, c + hi);
  __global const float *xb = x + ((size_t)row - (size_t)c) * hw + i;
  float acc = 0.0f;
  for (int k = c0; k <= c1; k++) {
    const float v = xb[(size_t)k * hw];
    acc += v * v;
  }
  const float base = bias + alpha_n * acc;
  const float v = xb[(size_t)c * hw];
  y[(size_t)row * hw + i] = beta == 0.75f ? v / (sqrt(base) * sqrt(sqrt(base))) : v / pow(base, beta);
}
