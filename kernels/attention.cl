/* attention.cl: fused scaled dot-product attention, softmax(Q.K^T * scale + mask) . V, without
   materialising the score matrix: each work-item owns one query row, the work-group streams K and
   V through local memory in tiles of TK keys, and the softmax is computed online (running max and
   sum, one rescale of the accumulator per tile), so memory is O(L) and the sequence may be long.
   -D DK=n   query/key head size (default 64)
   -D DV=n   value head size (default 64)
   -D BQ=n   query rows per work-group = local size (default 32)
   -D TK=n   keys per tile (default 32)
   -D HAS_MASK=0|1  an additive float mask is read through strides (default 0)
   -D CAUSAL=0|1    key j is masked for query i when j > i + (lk - lq) (default 0)
   -D SM_WG=n       work-group size of attention_softmax_rows, a power of two (default 64)
   attention_softmax_rows is the middle of the other algorithm (attention.c): scores from a batched
   SGEMM, mask and softmax per row in place, then a second SGEMM with V. */
#ifndef DK
#define DK 64
#endif
#ifndef DV
#define DV 64
#endif
#ifndef BQ
#define BQ 32
#endif
#ifndef TK
#define TK 32
#endif
#ifndef HAS_MASK
#define HAS_MASK 0
#endif
#ifndef CAUSAL
#define CAUSAL 0
#endif
#ifndef SM_WG
#define SM_WG 64
#endif

/* Global (round_up(lq, BQ), batch), local (BQ, 1). q: [batch, lq, DK], k: [batch, lk, DK],
   v: [batch, lk, DV], out: [batch, lq, DV], all contiguous. The flat batch index is b0 * nb1 + b1;
   the mask element of (b0, b1, i, j) is mask[b0*ms0 + b1*ms1 + i*msq + j*msk] (0 strides
   broadcast). */
__kernel __attribute__((reqd_work_group_size(BQ, 1, 1))) void
attention_fwd(__global const float *q, __global const float *k, __global const float *v,
              __global const float *mask, __global float *out, const uint lq, const uint lk,
              const float scale, const uint nb1, const uint ms0, const uint ms1, const uint msq,
              const uint msk) {
  __local float ks[TK][DK];
  __local float vs[TK][DV];
  const uint i = get_global_id(0), b = get_global_id(1), l = get_local_id(0);
  const int row_ok = i < lq;
  const uint iq = row_ok ? i : lq - 1;
  float qr[DK], acc[DV], s[TK];
  __global const float *qp = q + ((size_t)b * lq + iq) * DK;
  for (int d = 0; d < DK; d++) qr[d] = qp[d] * scale;
  for (int d = 0; d < DV; d++) acc[d] = 0.0f;
  float m = -INFINITY, sum = 0.0f;
#if HAS_MASK
  __global const float *mrow =
      mask + (size_t)(b / nb1) * ms0 + (size_t)(b % nb1) * ms1 + (size_t)iq * msq;
#endif
  __global const float *kb = k + (size_t)b * lk * DK, *vb = v + (size_t)b * lk * DV;
  for (uint j0 = 0; j0 < lk; j0 += TK) {
    const uint n = min((uint)TK, lk - j0);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint e = l; e < n * DK; e += BQ) ks[e / DK][e % DK] = kb[(size_t)j0 * DK + e];
    for (uint e = l; e < n * DV; e += BQ) vs[e / DV][e % DV] = vb[(size_t)j0 * DV + e];
    barrier(CLK_LOCAL_MEM_FENCE);
    float tmax = -INFINITY;
    for (uint j = 0; j < TK; j++) {
      float x = -INFINITY;
      if (j < n) {
        x = 0.0f;
        for (int d = 0; d < DK; d++) x = fma(qr[d], ks[j][d], x);
#if HAS_MASK
        x += mrow[(size_t)(j0 + j) * msk];
#endif
#if CAUSAL
        if (j0 + j > iq + (lk - lq)) x = -INFINITY;
#endif
      }
      s[j] = x;
      tmax = fmax(tmax, x);
    }
    const float mn = fmax(m, tmax);
    if (mn == -INFINITY) continue; /* every key so far is masked out */
    const float corr = exp(m - mn);
    sum *= corr;
    for (int d = 0; d < DV; d++) acc[d] *= corr;
    for (uint j = 0; j < n; j++) {
      const float p = exp(s[j] - mn);
      sum += p;
      for (int d = 0; d < DV; d++) acc[d] = fma(p, vs[j][d], acc[d]);
    }
    m = mn;
  }
  if (!row_ok) return;
  __global float *op = out + ((size_t)b * lq + i) * DV;
  const float inv = 1.0f / sum; /* sum == 0 (all masked) gives NaN, like the unfused softmax */
  for (int d = 0; d < DV; d++) op[d] = acc[d] * inv;
}

/* Global (SM_WG, batch * lq), local (SM_WG, 1): one work-group per score row of s
   [batch, lq, lk] (already scaled), adds the mask, applies the causal cut and normalises in place
   with three passes over the row (max, exp and sum, scale), each strided across the group so
   neighbouring work-items touch neighbouring scores. Mask addressing as in attention_fwd. */
__kernel __attribute__((reqd_work_group_size(SM_WG, 1, 1))) void
attention_softmax_rows(__global float *s, __global const float *mask, const uint lq, const uint lk,
                       const uint nb1, const uint ms0, const uint ms1, const uint msq,
                       const uint msk) {
  __local float red[SM_WG];
  const uint l = get_local_id(0), row = get_group_id(1);
  const uint b = row / lq, i = row % lq;
  __global float *x = s + (size_t)row * lk;
#if HAS_MASK
  __global const float *mrow =
      mask + (size_t)(b / nb1) * ms0 + (size_t)(b % nb1) * ms1 + (size_t)i * msq;
#else
  (void)mask;
  (void)b;
  (void)nb1;
  (void)ms0;
  (void)ms1;
  (void)msq;
  (void)msk;
#endif
  float m = -INFINITY;
  for (uint j = l; j < lk; j += SM_WG) {
    float v = x[j];
#if HAS_MASK
    v += mrow[(size_t)j * msk];
#endif
#if CAUSAL
    if (j > i + (lk - lq)) v = -INFINITY;
#endif
    x[j] = v;
    m = fmax(m, v);
  }
  red[l] = m;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint h = SM_WG / 2; h > 0; h >>= 1) {
    if (l < h) red[l] = fmax(red[l], red[l + h]);
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  m = red[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  float sum = 0.0f;
  for (uint j = l; j < lk; j += SM_WG) {
    const float e = exp(x[j] - m); /* every key masked: -inf - -inf = NaN, as the unfused softmax */
    x[j] = e;
    sum += e;
  }
  red[l] = sum;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint h = SM_WG / 2; h > 0; h >>= 1) {
    if (l < h) red[l] += red[l + h];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  const float inv = 1.0f / red[0];
  for (uint j = l; j < lk; j += SM_WG) x[j] *= inv;
}
