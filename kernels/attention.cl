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
   v: [batch, lk, DV], out: [batch, lq, DV], rows contiguous, with row stride xrs and batch stride
   xbs (elements) each ([L, batch, D] storage: rs = batch * D, bs = D). The flat batch index is b0 * nb1 + b1;
   the mask element of (b0, b1, i, j) is mask[b0*ms0 + b1*ms1 + i*msq + j*msk] (0 strides
   broadcast). */
/* The mask row of query i of batch item b: the batch index split as (b / nb1, b % nb1) over the
   mask's two leading strides (a mask broadcast over heads or batch has stride 0 there). */
inline __global const float *attn_mask_row(__global const float *mask, const uint b, const uint i,
                                           const uint nb1, const uint ms0, const uint ms1,
                                           const uint msq) {
  return mask + (size_t)(b / nb1) * ms0 + (size_t)(b % nb1) * ms1 + (size_t)i * msq;
}

__kernel __attribute__((reqd_work_group_size(BQ, 1, 1))) void
attention_fwd(__global const float *q, __global const float *k, __global const float *v,
              __global const float *mask, __global float *out, const uint lq, const uint lk,
              const float scale, const uint nb1, const uint ms0, const uint ms1, const uint msq,
              const uint msk, const uint qrs, const uint qbs, const uint krs, const uint kbs,
              const uint vrs, const uint vbs, const uint ors, const uint obs) {
  __local float ks[TK][DK];
  __local float vs[TK][DV];
  const uint i = get_global_id(0), b = get_global_id(1), l = get_local_id(0);
  const int row_ok = i < lq;
  const uint iq = row_ok ? i : lq - 1;
  float qr[DK], acc[DV], s[TK];
  __global const float *qp = q + (size_t)b * qbs + (size_t)iq * qrs;
  for (int d = 0; d < DK; d++) qr[d] = qp[d] * scale;
  for (int d = 0; d < DV; d++) acc[d] = 0.0f;
  float m = -INFINITY, sum = 0.0f;
#if HAS_MASK
  __global const float *mrow = attn_mask_row(mask, b, iq, nb1, ms0, ms1, msq);
#endif
  __global const float *kb = k + (size_t)b * kbs, *vb = v + (size_t)b * vbs;
  for (uint j0 = 0; j0 < lk; j0 += TK) {
    const uint n = min((uint)TK, lk - j0);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint e = l; e < n * DK; e += BQ)
      ks[e / DK][e % DK] = kb[(size_t)(j0 + e / DK) * krs + e % DK];
    for (uint e = l; e < n * DV; e += BQ)
      vs[e / DV][e % DV] = vb[(size_t)(j0 + e / DV) * vrs + e % DV];
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
  __global float *op = out + (size_t)b * obs + (size_t)i * ors;
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
  const uint i = row % lq;
  __global float *x = s + (size_t)row * lk;
#if HAS_MASK
  __global const float *mrow = attn_mask_row(mask, row / lq, i, nb1, ms0, ms1, msq);
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

/* CPU form of attention_softmax_rows: one work-item per score row (rows of them, the work-group
   only amortises PoCL's per-group cost), no barriers, float8 vectors inside the work-item (LLVM
   keeps them whole). The tree reduction of the other form costs six barriers per row on PoCL,
   where each barrier ends a work-item loop: it took 3 of the 4.4 ms of a d64 L128 layer. Each
   element costs one exp (stored in the sum pass and scaled in place); the row is re-read from
   cache. Same results as attention_softmax_rows up to the order of the sum. */
__kernel void attention_softmax_rows_item(__global float *s, __global const float *mask,
                                          const uint lq, const uint lk, const uint nb1,
                                          const uint ms0, const uint ms1, const uint msq,
                                          const uint msk, const uint rows) {
  const uint row = get_global_id(0);
  if (row >= rows) return;
  const uint i = row % lq;
  __global float *x = s + (size_t)row * lk;
  const uint n8 = lk / 8u, tail = n8 * 8u;
#if HAS_MASK
  __global const float *mrow = attn_mask_row(mask, row / lq, i, nb1, ms0, ms1, msq);
#endif
#if CAUSAL
  const uint last = i + (lk - lq); /* keys past this one are cut */
  const int8 lane = (int8)(0, 1, 2, 3, 4, 5, 6, 7);
#endif
  float8 m8 = (float8)(-INFINITY);
  for (uint c = 0; c < n8; c++) {
    float8 v = vload8(c, x);
#if HAS_MASK
    if (msk == 1)
      v += vload8(c, mrow);
    else
      v += (float8)(mrow[0]); /* msk == 0: the mask broadcasts along the keys */
#endif
#if CAUSAL
    v = select(v, (float8)(-INFINITY), (int8)(c * 8u) + lane > (int8)last);
#endif
#if HAS_MASK || CAUSAL
    vstore8(v, c, x);
#endif
    m8 = fmax(m8, v);
  }
  const float4 m4 = fmax(m8.lo, m8.hi);
  float m = fmax(fmax(m4.s0, m4.s1), fmax(m4.s2, m4.s3));
  for (uint j = tail; j < lk; j++) {
    float v = x[j];
#if HAS_MASK
    v += mrow[(size_t)j * msk];
#endif
#if CAUSAL
    if (j > last) v = -INFINITY;
#endif
    x[j] = v;
    m = fmax(m, v);
  }
  float8 s8 = (float8)(0.0f);
  float st = 0.0f;
  for (uint c = 0; c < n8; c++) {
    const float8 e = exp(vload8(c, x) - m); /* every key masked: -inf - -inf = NaN, as unfused */
    vstore8(e, c, x);
    s8 += e;
  }
  for (uint j = tail; j < lk; j++) {
    const float e = exp(x[j] - m);
    x[j] = e;
    st += e;
  }
  const float4 s4 = s8.lo + s8.hi;
  const float inv = 1.0f / (((s4.s0 + s4.s1) + (s4.s2 + s4.s3)) + st);
  for (uint c = 0; c < n8; c++) vstore8(vload8(c, x) * inv, c, x);
  for (uint j = tail; j < lk; j++) x[j] *= inv;
}
