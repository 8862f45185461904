/* conv_depthwise.cl: convolution with few input channels per group, straight from X (no packing
   pass): depthwise (MobileNet: groups == C, any multiplier) and stems (groups == 1, C <= 4).
   One work-item computes 16 consecutive outputs of one output row for MR output channels of one
   group; every tap is one 16-wide vector read of an input row (stride 2: two reads and their even
   lanes), shared by the MR channels. Pads are handled in the kernel: a run whose reads stay
   inside the input row reads plain vectors; a border run reads the same vectors with the lanes
   outside the row zeroed (a select), and only runs whose reads would leave the tensor itself
   gather lane by lane. Input rows in the padding are skipped. Bias, activation and residual
   leave through the vector store of common/conv.cl. Depthwise has no reuse across channels to
   block for (MR = 1: bandwidth-bound); a stem reuses each read MR times.

   Options:
   -D KR=3 -D KS=3  kernel height and width (taps unrolled)
   -D SW=1          stride along W (1 and 2 read vectors; larger strides gather)
   -D CG=1          input channels per group
   -D MR=1          output channels per work-item (accumulators: MR 16-float vectors)
   -D HAS_BIAS=0|1
   plus the epilogue options of common/epilogue.cl. NV is 1 (16 outputs per work-item). */
#ifndef KR
#define KR 3
#endif
#ifndef KS
#define KS 3
#endif
#ifndef SW
#define SW 1
#endif
#ifndef CG
#define CG 1
#endif
#ifndef MR
#define MR 1
#endif
#define NV 1
#include "common/conv.cl"

/* x[row + iw + j*SW], j = 0..15, as one vector: 0 where the column iw + j*SW is outside [0, W).
   inside: every column read is inside the row (no test). [xlo, xhi): the tensor's floats, the
   only memory a vector read may touch (columns outside the row but inside the tensor are read
   and discarded). */
__attribute__((always_inline)) inline float16 dw_load(__global const float *x, const long row,
                                                      const int iw, const int W, const long xlo,
                                                      const long xhi, const int inside) {
#if SW == 1 || SW == 2
  const long p = row + iw;
#if SW == 1
  if (inside) return vload16(0, x + p);
  if (p >= xlo && p + 16 <= xhi) {
    const int16 col = (int16)iw + (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return select((float16)0.0f, vload16(0, x + p), col >= 0 && col < W);
  }
#else
  if (inside) return (float16)(vload16(0, x + p).even, vload16(1, x + p).even);
  if (p >= xlo && p + 32 <= xhi) {
    const int16 col =
        (int16)iw + (int16)(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return select((float16)0.0f, (float16)(vload16(0, x + p).even, vload16(1, x + p).even),
                  col >= 0 && col < W);
  }
#endif
#endif
  float v[16];
#pragma unroll
  for (int j = 0; j < 16; j++) {
    const int c = iw + j * SW;
    v[j] = c >= 0 && c < W ? x[row + c] : 0.0f;
  }
  return vload16(0, v);
}

/* Stores the first `valid` (< 16) lanes of a run at y + o through the epilogue, evaluated on the
   whole vector, then written as 8-, 4-, 2- and 1-float pieces by the bits of valid: a row shorter
   than a run (MobileNet's 14- and 7-wide maps) leaves through three stores, not 14 scalar ones. */
__attribute__((always_inline)) inline void dw_store_part(__global float *y,
                                                         __global const float *res, const long o,
                                                         const float16 acc, const float bk,
                                                         const int valid) {
  float r[16] = {0};
#if HAS_RES
  for (int j = 0; j < valid; j++) r[j] = res[o + j];
#endif
  float v[16];
  vstore16(epi_apply16(acc + bk, vload16(0, r)), 0, v);
  int j = 0;
  if (valid & 8) {
    vstore8(vload8(0, v), 0, y + o);
    j = 8;
  }
  if (valid & 4) {
    vstore4(vload4(0, v + j), 0, y + o + j);
    j += 4;
  }
  if (valid & 2) {
    vstore2(vload2(0, v + j), 0, y + o + j);
    j += 2;
  }
  if (valid & 1) y[o + j] = v[j];
}

/* The MR channels' 16 outputs of output row oh from column ow0 (a run), through the epilogue. */
__attribute__((always_inline)) inline void
dw_run(__global const float *x, __global const float *const *wk, __global const float *bias,
       __global const float *res, __global float *y, const long plane, const long xhi,
       const long ybase, const int k0, const int nm, const int oh, const int ow0, const int H,
       const int W, const int OH, const int OW, const int SH, const int DH, const int DW,
       const int PT, const int PL, const int inside) {
  const int iw0 = ow0 * SW - PL;
  float16 acc[MR];
#pragma unroll
  for (int m = 0; m < MR; m++) acc[m] = (float16)0.0f;
#pragma unroll
  for (int c = 0; c < CG; c++)
#pragma unroll
    for (int r = 0; r < KR; r++) {
      const int ih = oh * SH + r * DH - PT;
      if (ih < 0 || ih >= H) continue;
      const long row = plane + ((long)c * H + ih) * W;
#pragma unroll
      for (int s = 0; s < KS; s++) {
        const float16 v = dw_load(x, row, iw0 + s * DW, W, 0, xhi, inside);
        const int t = (c * KR + r) * KS + s;
#pragma unroll
        for (int m = 0; m < MR; m++) acc[m] = fma((float16)wk[m][t], v, acc[m]);
      }
    }
  for (int m = 0; m < nm; m++) {
#if HAS_BIAS
    const float bk = bias[k0 + m];
#else
    const float bk = 0.0f;
#endif
    const long o = ybase + ((long)m * OH + oh) * OW + ow0;
    if (OW - ow0 >= 16)
      conv_store_row(y, res, o, &acc[m], bk, 16);
    else
      dw_store_part(y, res, o, acc[m], bk, OW - ow0);
  }
}

/* gid0 = block of RB output rows, gid1 = (n * G + group) * KB + channel block: MR output channels
   k0.. of one group (KB = ceil(Kg / MR) blocks per group, the last one partial), which all read
   the group's CG input channels. Each work-item walks its rows' runs: a CPU device runs one
   work-group per core, so an item must be more than a few vector FMAs. W is [K][CG][KR][KS] as
   given; N images. */
__kernel void conv_depthwise_main(__global const float *x, __global const float *w,
                                  __global const float *bias, __global const float *res,
                                  __global float *y, const int N, const int C, const int H,
                                  const int W, const int K, const int G, const int KB, const int OH,
                                  const int OW, const int RB, const int SH, const int DH,
                                  const int DW, const int PT, const int PL) {
  const int rb = get_global_id(0), nk = get_global_id(1);
  if (rb * RB >= OH || nk >= N * G * KB) return;
  const int kg = K / G, ng = nk / KB, kb = nk % KB, n = ng / G, grp = ng % G;
  const int k0 = grp * kg + kb * MR, nm = min(MR, kg - kb * MR);
  const long plane = ((long)n * C + (long)grp * CG) * H * W, xhi = (long)N * C * H * W;
  const long ybase = ((long)n * K + k0) * OH * OW;
  /* a partial block repeats its last channel (computed, never stored) */
  __global const float *wk[MR];
#pragma unroll
  for (int m = 0; m < MR; m++) wk[m] = w + (long)(k0 + min(m, nm - 1)) * CG * KR * KS;
  /* runs [lo, hi) read only inside the row: 16 (stride 1) or 32 (stride 2) floats from each
     tap's first column, up to the last tap's */
  const int span = (SW == 2 ? 32 : 16 * SW - SW + 1) + (KS - 1) * DW;
  const int owt = (OW + 15) / 16, lo = (PL + 16 * SW - 1) / (16 * SW);
  int hi = W - span + PL < 0 ? 0 : (W - span + PL) / (16 * SW) + 1;
  if (hi > owt) hi = owt;
  const int oh1 = min(OH, (rb + 1) * RB);
  for (int oh = rb * RB; oh < oh1; oh++)
    for (int t = 0; t < owt; t++)
      dw_run(x, wk, bias, res, y, plane, xhi, ybase, k0, nm, oh, t * 16, H, W, OH, OW, SH, DH, DW,
             PT, PL, t >= lo && t < hi);
}
