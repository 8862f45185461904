/* common/conv.cl: what the conv kernels share: the MR x NV float16 register tile of the GEMM-like
   kernels (conv_direct.cl, conv_winograd.cl), writing results on a padded position grid back to
   NCHW with bias and the fused epilogue (conv_direct.cl, conv_depthwise.cl), and the tap walk of
   transposed convolutions (conv_transpose.cl, conv_im2col.cl). Position q of the grid is
   (q / WPH, q % WPH); columns at or past OW and rows at or past OH are padding and dropped.
   The shared options below get their defaults here, so every includer compiles alone. */
#ifndef NNCL_CONV_COMMON_CL
#define NNCL_CONV_COMMON_CL
#include "common/epilogue.cl"
#include "common/storage.cl"

/* Options every conv kernel takes (documented by each includer): register tile rows MR, 16-float
   vectors per tile NV (NR = 16 * NV positions), HAS_BIAS. */
#ifndef MR
#define MR 8
#endif
#ifndef NV
#define NV 2
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif
#define NR (16 * NV)

/* The register tile of MR rows (output channels) by NV 16-float vectors (positions). */
inline void conv_tile_zero(float16 acc[MR][NV]) {
#pragma unroll
  for (int i = 0; i < MR; i++)
#pragma unroll
    for (int j = 0; j < NV; j++) acc[i][j] = (float16)0.0f;
}

/* acc[i][j] += a[i] * b[j]: one reduction step of the tile (a: MR weights, b: NV vectors). */
inline void conv_tile_fma(float16 acc[MR][NV], __global const float *a, const float16 *b) {
#pragma unroll
  for (int i = 0; i < MR; i++) {
    const float16 ai = (float16)a[i];
#pragma unroll
    for (int j = 0; j < NV; j++) acc[i][j] = fma(ai, b[j], acc[i][j]);
  }
}

/* Stores NR = 16*NV results acc[0..NV) + bk of one output row at y + o through the epilogue:
   whole vectors when the run fits the row (valid >= NR), else the first `valid` elements. */
inline void conv_store_row(__global FBUF *y, __global const FBUF *res, const long o,
                           const float16 *acc, const float bk, const int valid) {
  if (valid >= NR) {
#pragma unroll
    for (int j = 0; j < NV; j++) {
#if HAS_RES
      const float16 r = FLOAD16(j, res + o);
#else
      const float16 r = (float16)0.0f;
#endif
      FSTORE16(epi_apply16(acc[j] + bk, r), j, y + o);
    }
    return;
  }
  float v[NR];
#pragma unroll
  for (int j = 0; j < NV; j++) vstore16(acc[j], j, v);
  for (int j = 0; j < valid; j++) {
#if HAS_RES
    FSTORE(y, o + j, epi_apply(v[j] + bk, FLOAD(res, o + j)));
#else
    FSTORE(y, o + j, epi_apply(v[j] + bk, 0.0f));
#endif
  }
}

/* Transposed convolution: the input coordinate that output coordinate o reads through tap r
   (o + pad - r * dil must be a non-negative multiple of the stride, below stride * n), or -1. */
inline int conv_transposed_src(const int o, const int pad, const int r, const int dil,
                               const int stride, const int n) {
  const int t = o + pad - r * dil;
  if (t < 0 || t % stride) return -1;
  const int i = t / stride;
  return i < n ? i : -1;
}

/* Runs the statement after it once per tap (r, s) that reaches output pixel (oh, ow) of a
   transposed convolution, with ih, iw the input pixel it reads. Uses the kernel arguments R, S,
   H, W, SH, SW, DH, DW, PT, PL. The inner "loops" over ih and iw run at most once: they bind
   the coordinate and skip taps that land between input pixels or outside. */
#define CONV_TRANSPOSED_TAPS(oh, ow)                                                               \
  for (int r = 0; r < R; r++)                                                                      \
    for (int ih = conv_transposed_src((oh), PT, r, DH, SH, H); ih >= 0; ih = -1)                   \
      for (int s = 0; s < S; s++)                                                                  \
        for (int iw = conv_transposed_src((ow), PL, s, DW, SW, W); iw >= 0; iw = -1)

/* v[NR]: accumulators of positions q0.. for one output plane starting at y + ybase. The common
   case (all NR positions inside one output row) is a straight run of stores the compiler can
   vectorize; only tiles that wrap a row or touch padding walk position by position, and none
   divides more than once. */
inline void conv_store_tile(__global FBUF *y, __global const FBUF *res, const long ybase,
                            const float *v, const float bk, const int q0, const int WPH,
                            const int OW, const int OH) {
  int oh = q0 / WPH, ow = q0 - oh * WPH;
  if (oh < OH && ow + NR <= OW) {
    const long o = ybase + (long)oh * OW + ow;
#pragma unroll
    for (int j = 0; j < NR; j++) {
#if HAS_RES
      FSTORE(y, o + j, epi_apply(v[j] + bk, FLOAD(res, o + j)));
#else
      FSTORE(y, o + j, epi_apply(v[j] + bk, 0.0f));
#endif
    }
    return;
  }
  for (int j = 0; j < NR && oh < OH; j++) {
    if (ow < OW) {
      const long o = ybase + (long)oh * OW + ow;
#if HAS_RES
      FSTORE(y, o, epi_apply(v[j] + bk, FLOAD(res, o)));
#else
      FSTORE(y, o, epi_apply(v[j] + bk, 0.0f));
#endif
    }
    if (++ow == WPH) {
      ow = 0;
      oh++;
    }
  }
}

#endif
