/* norm.cl: normalization kernels for NCHW float32 tensors: BatchNormalization (inference and
   training mode),
   InstanceNormalization, LayerNormalization, LRN and MeanVarianceNormalization.

   Row statistics (instance and layer norm) use one work-group per row and the corrected two-pass
   algorithm: a first pass sums the row for the mean, a second sums squared deviations from it
   (minus the squared sum of deviations over n, which cancels the mean's rounding error), so
   there is no sum-of-squares cancellation and no per-element division. Work-items stride through
   the row (coalesced loads) and combine partial sums in local memory; the row is read three
   times, the second and third time mostly from cache. Local sizes must be powers of two.

   Element-wise kernels (batch norm, LRN) run on 3-D ranges (element, channel, batch) so no
   work-item divides to find its channel.

   No -D options: everything is a kernel argument, so the file builds once. */
#include "common/dims_layout.h"
#include "common/index.cl"

/* y = (x - mean[p]) / sqrt(var[p] + eps) * scale[p] + bias[p]. Work-item (i, c, n) handles element
   i of the (n, c) plane of s elements. per_elem: parameter index is c * s + i (non-spatial
   BatchNorm of opset 7), otherwise c. */
__kernel void norm_batch(__global const float *x, __global const float *scale,
                         __global const float *bias, __global const float *mean,
                         __global const float *var, __global float *y, const uint s,
                         const uint channels, const uint batch, const int per_elem,
                         const float eps) {
  const uint i = get_global_id(0), c = get_global_id(1), n = get_global_id(2);
  if (i >= s || c >= channels || n >= batch) return;
  const uint p = per_elem ? c * s + i : c;
  const float a = scale[p] / sqrt(var[p] + eps);
  const size_t o = ((size_t)n * channels + c) * s + i;
  y[o] = (x[o] - mean[p]) * a + bias[p];
}

/* Sum of v over the work-group (every work-item gets it); tmp holds get_local_size(0) floats. */
inline float norm_group_sum(float v, __local float *tmp) {
  const uint l = get_local_id(0);
  tmp[l] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint h = get_local_size(0) / 2; h > 0; h >>= 1) {
    if (l < h) tmp[l] += tmp[l + h];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  const float r = tmp[0];
  barrier(CLK_LOCAL_MEM_FENCE); /* tmp is reused by the next call */
  return r;
}

/* Mean and population variance of xr[0..n) over the work-group (corrected two-pass). */
inline float2 norm_row_stats(__global const float *xr, const uint n, __local float *tmp) {
  const uint l = get_local_id(0), ls = get_local_size(0);
  float s = 0.0f;
  for (uint i = l; i < n; i += ls) s += xr[i];
  const float mean = norm_group_sum(s, tmp) / (float)n;
  float d1 = 0.0f, d2 = 0.0f;
  for (uint i = l; i < n; i += ls) {
    const float d = xr[i] - mean;
    d1 += d;
    d2 += d * d;
  }
  const float sd1 = norm_group_sum(d1, tmp), sd2 = norm_group_sum(d2, tmp);
  return (float2)(mean, fmax(0.0f, (sd2 - sd1 * sd1 / (float)n) / (float)n));
}

/* InstanceNormalization: one work-group per (n, c) row of n elements; parameters per channel. */
__kernel void norm_instance(__global const float *x, __global const float *scale,
                            __global const float *bias, __global float *y, const uint n,
                            const uint channels, const float eps, __local float *tmp) {
  const uint row = get_group_id(0), l = get_local_id(0), ls = get_local_size(0);
  __global const float *xr = x + (size_t)row * n;
  const float2 st = norm_row_stats(xr, n, tmp);
  const uint ch = row % channels;
  const float a = scale[ch] / sqrt(st.y + eps), b = bias[ch];
  __global float *yr = y + (size_t)row * n;
  for (uint i = l; i < n; i += ls) yr[i] = (xr[i] - st.x) * a + b;
}

/* ---- CPU forms of BatchNormalization (inference) and InstanceNormalization: a work-item per
   (n, c) plane of s elements, walked with 8-wide vector loads; no barrier, no local memory, and
   the per-channel factor computed once per plane instead of once per element. ---- */

/* norm_batch for spatial BatchNorm: the same per-element expression, planes up to `planes`. */
__kernel void norm_batch_rows(__global const float *x, __global const float *scale,
                              __global const float *bias, __global const float *mean,
                              __global const float *var, __global float *y, const uint s,
                              const uint channels, const uint planes, const float eps) {
  const uint plane = get_global_id(0);
  GUARD(plane, planes);
  const uint c = plane % channels, s8 = s / 8 * 8;
  const float a = scale[c] / sqrt(var[c] + eps), m = mean[c], b = bias[c];
  __global const float *xr = x + (size_t)plane * s;
  __global float *yr = y + (size_t)plane * s;
  for (uint i = 0; i < s8; i += 8) vstore8((vload8(0, xr + i) - m) * a + b, 0, yr + i);
  for (uint i = s8; i < s; i++) yr[i] = (xr[i] - m) * a + b;
}

/* Sum of the eight lanes, pairwise. */
inline float norm_sum8(float8 v) {
  const float4 a = v.lo + v.hi;
  return (a.x + a.y) + (a.z + a.w);
}

/* Mean and (corrected two-pass) variance of the n floats at xr, by one work-item: the row is read
   twice with 8-wide loads, each sum in eight interleaved lanes added at the end. */
inline void norm_row_moments8(__global const float *xr, const uint n, float *mean, float *var) {
  const uint n8 = n / 8 * 8;
  float8 s8 = (float8)(0.0f);
  float st = 0.0f;
  for (uint i = 0; i < n8; i += 8) s8 += vload8(0, xr + i);
  for (uint i = n8; i < n; i++) st += xr[i];
  const float m = (norm_sum8(s8) + st) / (float)n;
  float8 d1 = (float8)(0.0f), d2 = (float8)(0.0f);
  float t1 = 0.0f, t2 = 0.0f;
  for (uint i = 0; i < n8; i += 8) {
    const float8 d = vload8(0, xr + i) - m;
    d1 += d;
    d2 += d * d;
  }
  for (uint i = n8; i < n; i++) {
    const float d = xr[i] - m;
    t1 += d;
    t2 += d * d;
  }
  const float sd1 = norm_sum8(d1) + t1, sd2 = norm_sum8(d2) + t2;
  *mean = m;
  *var = fmax(0.0f, (sd2 - sd1 * sd1 / (float)n) / (float)n);
}

/* InstanceNormalization, one plane (row) per work-item, planes up to `rows`: the corrected
   two-pass statistics of norm_row_stats in eight interleaved partial sums, then the write; the
   plane is read three times, from the core's cache after the first for the usual sizes. */
__kernel void norm_instance_rows(__global const float *x, __global const float *scale,
                                 __global const float *bias, __global float *y, const uint n,
                                 const uint channels, const float eps, const uint rows) {
  const uint row = get_global_id(0);
  GUARD(row, rows);
  __global const float *xr = x + (size_t)row * n;
  __global float *yr = y + (size_t)row * n;
  const uint n8 = n / 8 * 8;
  float m, var;
  norm_row_moments8(xr, n, &m, &var);
  const uint ch = row % channels;
  const float a = scale[ch] / sqrt(var + eps), b = bias[ch];
  for (uint i = 0; i < n8; i += 8) vstore8((vload8(0, xr + i) - m) * a + b, 0, yr + i);
  for (uint i = n8; i < n; i++) yr[i] = (xr[i] - m) * a + b;
}

/* LayerNormalization: one work-group per row of n elements (the axes from `axis` on). Scale and
   bias have np elements indexed by i % np (a trailing-suffix broadcast); has_bias = 0 means no
   bias. Bit 0 of stats writes mean[row], bit 1 writes invstd[row]. has_res: x + res is normalized
   (a residual Add fused by pass_layernorm.c; res is x's shape). */
__kernel void norm_layer(__global const float *x, __global const float *scale,
                         __global const float *bias, __global float *y, __global float *mean,
                         __global float *invstd, const uint n, const uint np, const int has_bias,
                         const int stats, const float eps, __local float *tmp,
                         __global const float *res, const int has_res) {
  const uint row = get_group_id(0), l = get_local_id(0), ls = get_local_size(0);
  __global const float *xr = x + (size_t)row * n;
  if (has_res) {
    /* a fused residual Add: the sum goes into y's row, the one the statistics then read */
    __global const float *rr = res + (size_t)row * n;
    __global float *sr = y + (size_t)row * n;
    for (uint i = l; i < n; i += ls) sr[i] = xr[i] + rr[i];
    barrier(CLK_GLOBAL_MEM_FENCE);
    xr = sr;
  }
  const float2 st = norm_row_stats(xr, n, tmp);
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

/* LayerNormalization on CPUs: one work-item per row, rows up to `rows`; otherwise as norm_layer
   (has_res: x + res is normalized, the fused residual Add of pass_layernorm.c).
   The row (a few KB for transformer widths) is read three times from the core's own cache with
   8-wide vector loads: the sum for the mean, the corrected two-pass deviations, then the write,
   so there is no barrier and no local memory. Sums run in eight lanes (the row split in eight
   interleaved partial sums) and are added at the end. */
__kernel void norm_layer_rows(__global const float *x, __global const float *scale,
                              __global const float *bias, __global float *y, __global float *mean,
                              __global float *invstd, const uint n, const uint np,
                              const int has_bias, const int stats, const float eps, const uint rows,
                              __global const float *res, const int has_res) {
  const uint row = get_global_id(0);
  GUARD(row, rows);
  __global const float *xr = x + (size_t)row * n;
  __global float *yr = y + (size_t)row * n;
  const uint n8 = n / 8 * 8;
  if (has_res) {
    /* a fused residual Add: the sum goes into y's row (still in cache), read from there after */
    __global const float *rr = res + (size_t)row * n;
    for (uint i = 0; i < n8; i += 8) vstore8(vload8(0, xr + i) + vload8(0, rr + i), 0, yr + i);
    for (uint i = n8; i < n; i++) yr[i] = xr[i] + rr[i];
    xr = yr;
  }
  float m, var;
  norm_row_moments8(xr, n, &m, &var);
  const float inv = 1.0f / sqrt(var + eps);
  if (stats & 1) mean[row] = m;
  if (stats & 2) invstd[row] = inv;
  if (np == n) {
    for (uint i = 0; i < n8; i += 8) {
      const float8 v = (vload8(0, xr + i) - m) * inv * vload8(0, scale + i);
      vstore8(has_bias ? v + vload8(0, bias + i) : v, 0, yr + i);
    }
    for (uint i = n8; i < n; i++) {
      const float v = (xr[i] - m) * inv * scale[i];
      yr[i] = has_bias ? v + bias[i] : v;
    }
  } else {
    for (uint i = 0; i < n; i++) {
      const uint p = i % np;
      const float v = (xr[i] - m) * inv * scale[p];
      yr[i] = has_bias ? v + bias[p] : v;
    }
  }
}

/* ---- split statistics: few long rows are spread over many work-groups in three launches ---- */

/* Step 1: work-group (chunk, row) writes the mean and M2 (sum of squared deviations) of elements
   [chunk_idx * chunk, + chunk) of its row to part[2 * (row * chunks + chunk_idx)]. */
__kernel void norm_chunk_stats(__global const float *x, __global float *part, const uint n,
                               const uint chunk, const uint chunks, __local float *tmp) {
  const uint c = get_group_id(0), row = get_group_id(1);
  const uint start = c * chunk, len = min(chunk, n - start);
  const float2 st = norm_row_stats(x + (size_t)row * n + start, len, tmp);
  if (get_local_id(0) == 0) {
    part[2 * ((size_t)row * chunks + c)] = st.x;
    part[2 * ((size_t)row * chunks + c) + 1] = st.y * (float)len;
  }
}

/* Step 2: one work-item per row merges its chunks' statistics pairwise (Chan et al.) from
   ws[0..) and writes (mean, 1 / sqrt(var + eps)) to ws[rowst_off + 2 * row]; bits 0 and 1 of
   stats also write the mean and invstd outputs (LayerNormalization). */
__kernel void norm_merge_stats(__global float *ws, const uint rowst_off, __global float *mean,
                               __global float *invstd, const uint n, const uint chunk,
                               const uint chunks, const uint rows, const int stats,
                               const float eps) {
  const uint row = get_global_id(0);
  if (row >= rows) return;
  __global const float *part = ws;
  __global float *rowst = ws + rowst_off;
  float cnt = 0.0f, m = 0.0f, m2 = 0.0f;
  for (uint c = 0; c < chunks; c++) {
    const float nb = (float)min(chunk, n - c * chunk);
    const float mb = part[2 * ((size_t)row * chunks + c)],
                m2b = part[2 * ((size_t)row * chunks + c) + 1];
    const float tot = cnt + nb, d = mb - m, f = nb / tot;
    m += d * f;
    m2 += m2b + d * d * cnt * f;
    cnt = tot;
  }
  const float inv = 1.0f / sqrt(fmax(0.0f, m2 / (float)n) + eps);
  rowst[2 * row] = m;
  rowst[2 * row + 1] = inv;
  if (stats & 1) mean[row] = m;
  if (stats & 2) invstd[row] = inv;
}

/* Step 3: y = (x - mean) * invstd * scale[p] + bias[p] for work-item (i, row), with (mean, invstd)
   at ws[rowst_off + 2 * row]; p = row % np for instance norm (per_row), i % np for layer norm.
   has_bias = 0: no bias. */
__kernel void norm_apply(__global const float *x, __global const float *scale,
                         __global const float *bias, __global float *y, __global const float *ws,
                         const uint rowst_off, const uint n, const uint rows, const uint np,
                         const int per_row, const int has_bias) {
  const uint i = get_global_id(0), row = get_global_id(1);
  if (i >= n || row >= rows) return;
  __global const float *rowst = ws + rowst_off;
  const uint p = per_row ? row % np : i % np;
  const size_t o = (size_t)row * n + i;
  const float v = (x[o] - rowst[2 * row]) * rowst[2 * row + 1] * scale[p];
  y[o] = has_bias ? v + bias[p] : v;
}

/* ---- BatchNormalization training mode (training_mode = 1) ---- */

/* One work-group per channel c: mean and population variance over the batch and the plane
   (corrected two-pass, as norm_row_stats) into stats[c] and stats[channels + c]. Bits 0 / 1 of
   has_running ask for running_mean / running_var = input * momentum + batch statistic *
   (1 - momentum). */
__kernel void norm_batch_train_stats(__global const float *x, __global const float *in_mean,
                                     __global const float *in_var, __global float *stats,
                                     __global float *run_mean, __global float *run_var,
                                     const uint s, const uint channels, const uint batch,
                                     const int has_running, const float momentum,
                                     __local float *tmp) {
  const uint c = get_group_id(0), l = get_local_id(0), ls = get_local_size(0);
  const float cnt = (float)s * (float)batch;
  float sum = 0.0f;
  for (uint n = 0; n < batch; n++) {
    __global const float *xr = x + ((size_t)n * channels + c) * s;
    for (uint i = l; i < s; i += ls) sum += xr[i];
  }
  const float mean = norm_group_sum(sum, tmp) / cnt;
  float d1 = 0.0f, d2 = 0.0f;
  for (uint n = 0; n < batch; n++) {
    __global const float *xr = x + ((size_t)n * channels + c) * s;
    for (uint i = l; i < s; i += ls) {
      const float d = xr[i] - mean;
      d1 += d;
      d2 += d * d;
    }
  }
  const float sd1 = norm_group_sum(d1, tmp), sd2 = norm_group_sum(d2, tmp);
  const float var = fmax(0.0f, (sd2 - sd1 * sd1 / cnt) / cnt);
  if (l == 0) {
    stats[c] = mean;
    stats[channels + c] = var;
    if (has_running & 1) run_mean[c] = in_mean[c] * momentum + mean * (1.0f - momentum);
    if (has_running & 2) run_var[c] = in_var[c] * momentum + var * (1.0f - momentum);
  }
}

/* y = (x - mean) / sqrt(var + eps) * scale[c] + bias[c] with the batch statistics of
   norm_batch_train_stats; work-items as in norm_batch. */
__kernel void norm_batch_train_apply(__global const float *x, __global const float *scale,
                                     __global const float *bias, __global const float *stats,
                                     __global float *y, const uint s, const uint channels,
                                     const uint batch, const float eps) {
  const uint i = get_global_id(0), c = get_global_id(1), n = get_global_id(2);
  if (i >= s || c >= channels || n >= batch) return;
  const float a = scale[c] / sqrt(stats[channels + c] + eps);
  const size_t o = ((size_t)n * channels + c) * s + i;
  y[o] = (x[o] - stats[c]) * a + bias[c];
}

/* LRN across channels: y = x / (bias + alpha_n * sum_{c' in [c-lo, c+hi]} x[c']^2)^beta, with
   alpha_n = alpha / size. Work-item (i, c, n): element i of the (n, c) plane of hw elements;
   neighbouring work-items read neighbouring addresses in every channel. */
__kernel void norm_lrn(__global const float *x, __global float *y, const uint hw,
                       const uint channels, const uint batch, const int lo, const int hi,
                       const float alpha_n, const float beta, const float bias) {
  const uint i = get_global_id(0), cu = get_global_id(1), n = get_global_id(2);
  if (i >= hw || cu >= channels || n >= batch) return;
  const int c = (int)cu;
  const int c0 = max(0, c - lo), c1 = min((int)channels - 1, c + hi);
  __global const float *xb = x + (size_t)n * channels * hw + i;
  float acc = 0.0f;
  for (int k = c0; k <= c1; k++) {
    const float v = xb[(size_t)k * hw];
    acc += v * v;
  }
  const float base = bias + alpha_n * acc;
  const float v = xb[(size_t)c * hw];
  y[((size_t)n * channels + c) * hw + i] =
      beta == 0.75f ? v / (sqrt(base) * sqrt(sqrt(base))) : v / pow(base, beta);
}

/* MeanVarianceNormalization: one work-group per kept coordinate g normalises the nred elements
   over the reduced axes (meta: the SPLIT_* layout of common/dims_layout.h):
   y = (x - mean) / (sqrt(var) + 1e-9), ONNX's function body. Variance takes a second pass over
   the deviations (not E[x^2] - E[x]^2, which cancels badly when the mean is large). Grid: one
   group of local size per kept coordinate. */
__kernel void norm_mvn(__global const float *x, __global float *y, const uint nred,
                       __constant uint *meta, __local float *scratch) {
  const uint g = get_group_id(0), lid = get_local_id(0), ls = get_local_size(0);
  const uint base = split_offset(g, meta, SPLIT_KEPT_RANK);
  float s = 0.0f;
  for (uint e = lid; e < nred; e += ls) s += x[base + split_offset(e, meta, SPLIT_RED_RANK)];
  const float mean = norm_group_sum(s, scratch) / (float)nred;
  s = 0.0f;
  for (uint e = lid; e < nred; e += ls) {
    const float d = x[base + split_offset(e, meta, SPLIT_RED_RANK)] - mean;
    s += d * d;
  }
  const float inv = 1.0f / (sqrt(norm_group_sum(s, scratch) / (float)nred) + 1e-9f);
  for (uint e = lid; e < nred; e += ls) {
    const uint p = base + split_offset(e, meta, SPLIT_RED_RANK);
    y[p] = (x[p] - mean) * inv;
  }
}
