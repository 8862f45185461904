/* conv_direct.cl: direct convolution for any stride, padding, dilation and groups, written as an
   implicit GEMM over a phase-packed input.

   The pack kernel copies X into zero-padded planes split by stride phase: plane (py, px) holds
   padded pixels (y*SH + py, x*SW + px). In that layout every filter tap (r, s) of every output
   position q = oh*WPH + ow reads address q + off[tap] of one channel's planes: contiguous in q
   for any stride and dilation, so a work-item loads 16-wide vectors without bounds checks and
   keeps an MR x (16*NV) register tile of outputs (MR channels, 16*NV positions). Columns
   ow >= OW of that padded grid are computed and dropped at the store (a few percent). A 1x1
   stride-1 unpadded conv skips the pack and reads X in place.

   Options:
   -D MR=8        output channels per work-item (register tile rows)
   -D NV=2        16-float vectors of positions per work-item (register tile columns / 16)
   -D HAS_BIAS=0|1
   -D ROWTILE=0|1 tiles are runs of one output row (OWT per row) and full ones store whole vectors;
                  0: tiles run through the flattened grid (less padding waste on small maps)
   -D NNCL_HALF_STORE  X, W, bias, residual and Y are float16 (common/storage.cl); the packed
                  planes and weights stay float, so the host always packs a half input
   plus common/epilogue.cl's options (ACT_EXPR, ACT_ALPHA, ACT_BETA, HAS_RES, RES_AFTER_ACT). */
#include "common/conv.cl"
#include "common/index.cl"

#ifndef ROWTILE
#define ROWTILE 0
#endif

/* xp[((n*C + c)*NPH + ph)*HPH*WPH + y*WPH + x] = padded X of image n0+n at phase codes[ph].
   One work-item copies one row (gid0 = y, gid1 = (n*C + c)*NPH + ph): whole rows keep the
   work-group count low, which is what a pack costs on CPU devices. */
__kernel void conv_direct_pack(__global const FBUF *x, __global float *xp, __global const int *taps,
                               const int NTAPS, const long xoff, const int C, const int H,
                               const int W, const int SH, const int SW, const int PT, const int PL,
                               const int NPH, const int HPH, const int WPH, const int planes) {
  const int yy = get_global_id(0), z = get_global_id(1);
  if (yy >= HPH || z >= planes) return;
  const int ph = z % NPH, nc = z / NPH;
  const int code = taps[NTAPS + ph]; /* phase codes follow the tap offsets */
  const int py = code / SW, px = code % SW;
  const int ih = yy * SH + py - PT;
  __global float *dst = xp + ((long)z * HPH + yy) * WPH;
  if (ih < 0 || ih >= H) {
    for (int xx = 0; xx < WPH; xx++) dst[xx] = 0.0f;
    return;
  }
  __global const FBUF *src = x + xoff + ((long)nc * H + ih) * W;
  if (SW == 1) {
    /* a shifted copy: zeros, the row, zeros */
    const int lo = min(max(PL - px, 0), WPH), hi = min(max(W + PL - px, lo), WPH);
    for (int xx = 0; xx < lo; xx++) dst[xx] = 0.0f;
    for (int xx = lo; xx < hi; xx++) dst[xx] = FLOAD(src, xx + px - PL);
    for (int xx = hi; xx < WPH; xx++) dst[xx] = 0.0f;
    return;
  }
  /* strided: columns [lo, hi) come from the row (iw = xx*SW + px - PL in [0, W)), the rest are 0 */
  const int lo = min(max((PL - px + SW - 1) / SW, 0), WPH);
  const int hi = min(max((W + PL - px + SW - 1) / SW, lo), WPH);
  for (int xx = 0; xx < lo; xx++) dst[xx] = 0.0f;
  for (int xx = lo; xx < hi; xx++) dst[xx] = FLOAD(src, xx * SW + px - PL);
  for (int xx = hi; xx < WPH; xx++) dst[xx] = 0.0f;
}

/* Weights [K][CG][NTAPS] -> wp[((g*KT + mt)*CG + c)*NTAPS + t][MR], rows past KG zero. Used when
   W is not constant (constant W is packed on the host at plan time). gid0 over the packed size. */
__kernel void conv_direct_pack_weights(__global const FBUF *w, __global float *wp, const long woff,
                                       const int KG, const int KT, const int CG, const int NTAPS,
                                       const int total) {
  const int i = get_global_id(0);
  GUARD(i, total);
  const int m = i % MR;
  int rest = i / MR;
  const int t = rest % NTAPS;
  rest /= NTAPS;
  const int c = rest % CG;
  rest /= CG;
  const int mt = rest % KT, g = rest / KT;
  const int kk = mt * MR + m;
  wp[woff + i] = kk < KG ? FLOAD(w, (((long)(g * KG + kk)) * CG + c) * NTAPS + t) : 0.0f;
}

/* One work-item: output channels [mt*MR, +MR) of group g, positions [qt*NR, +NR) of image n.
   gid0 = g*KT + mt, gid1 = n*QT + qt (ROWTILE: qt = oh*OWT + ow block).
   taps[t] is the offset of tap t inside a channel's planes; CS is the channel stride in xp;
   XLEN bounds every read (tiles near the end take a checked path). Output: y + YOFF, NCHW. */
__kernel void conv_direct_main(__global const float *xp, __global const float *wp,
                               __global const FBUF *bias, __global const FBUF *res,
                               __global FBUF *y, __global const int *taps, const long woff,
                               const long xoff, const long xlen, const long yoff, const int NTAPS,
                               const int MAXOFF, const int C, const int CG, const long CS,
                               const int K, const int KG, const int KT, const int G, const int OH,
                               const int OW, const int WPH, const int QT, const int OWT,
                               const int NIMG) {
  const int gm = get_global_id(0), gq = get_global_id(1);
  if (gm >= G * KT || gq >= NIMG * QT) return;
  const int g = gm / KT, mt = gm % KT, n = gq / QT, qt = gq % QT;
#if ROWTILE
  const int oh0 = qt / OWT, ow0 = (qt % OWT) * NR, q0 = oh0 * WPH + ow0;
#else
  const int q0 = qt * NR;
#endif
  const long xbase = xoff + ((long)n * C + (long)g * CG) * CS + q0;
  __global const float *a = wp + woff + (long)gm * CG * NTAPS * MR;
  float16 acc[MR][NV];
  conv_tile_zero(acc);
  const int fast = xbase + (long)(CG - 1) * CS + MAXOFF + NR <= xlen;
  if (fast) {
    for (int c = 0; c < CG; c++) {
      __global const float *xc = xp + xbase + (long)c * CS;
      for (int t = 0; t < NTAPS; t++) {
        __global const float *xt = xc + taps[t];
        float16 b[NV];
#pragma unroll
        for (int j = 0; j < NV; j++) b[j] = vload16(j, xt);
        conv_tile_fma(acc, a, b);
        a += MR;
      }
    }
  } else {
    for (int c = 0; c < CG; c++) {
      const long xc = xbase + (long)c * CS;
      for (int t = 0; t < NTAPS; t++) {
        const long xt = xc + taps[t];
        float bb[NR];
        for (int j = 0; j < NR; j++) bb[j] = xt + j < xlen ? xp[xt + j] : 0.0f;
        float16 b[NV];
#pragma unroll
        for (int j = 0; j < NV; j++) b[j] = vload16(j, bb);
        conv_tile_fma(acc, a, b);
        a += MR;
      }
    }
  }
  /* store, dropping the padded-grid columns */
#pragma unroll
  for (int i = 0; i < MR; i++) {
    const int kk = mt * MR + i;
    if (kk >= KG) break;
    const int k = g * KG + kk;
#if HAS_BIAS
    const float bk = FLOAD(bias, k);
#else
    const float bk = 0.0f;
#endif
#if ROWTILE
    conv_store_row(y, res, yoff + (((long)n * K + k) * OH + oh0) * OW + ow0, acc[i], bk, OW - ow0);
#else
    float v[NR];
#pragma unroll
    for (int j = 0; j < NV; j++) vstore16(acc[i][j], j, v);
    conv_store_tile(y, res, yoff + ((long)n * K + k) * OH * OW, v, bk, q0, WPH, OW, OH);
#endif
  }
}
