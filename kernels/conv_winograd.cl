/* conv_winograd.cl: Winograd convolution F(2x2,3x3) and F(4x4,3x3) (3x3, stride 1, dilation 1).
   Three stages, the middle one a batched matrix product:
     input:  V[xi][c][p] = (B^T d B)[xi] for every input tile p (batch folded into p)
     gemm:   M[xi][k][p] = sum_c U[xi][k][c] V[xi][c][p]    (ALPHA*ALPHA independent products)
     output: y = A^T M A + bias, then the fused epilogue, cropped to the image.
   U = G g G^T is computed once at plan time on the host. The gemm kernel keeps an MR x (16*NV)
   register tile like conv_direct.cl; on GPUs the host may use CLBlast for that stage instead.

   Options:
   -D WM=2|4      output tile size m (ALPHA = m + 2)
   -D MR=8, -D NV=2  gemm register tile (MR rows of U, 16*NV columns of V)
   -D HAS_BIAS=0|1
   plus the epilogue options of common/epilogue.cl (included through common/conv.cl). */
#include "common/conv.cl"

#ifndef WM
#define WM 4
#endif
#define ALPHA (WM + 2)

/* B^T applied to ALPHA values at stride st (in place), four tiles at once (one per lane). */
inline void wino_bt(float4 *d, const int st) {
#if WM == 2
  const float4 d0 = d[0], d1 = d[st], d2 = d[2 * st], d3 = d[3 * st];
  d[0] = d0 - d2;
  d[st] = d1 + d2;
  d[2 * st] = d2 - d1;
  d[3 * st] = d1 - d3;
#else
  const float4 d0 = d[0], d1 = d[st], d2 = d[2 * st], d3 = d[3 * st], d4 = d[4 * st],
               d5 = d[5 * st];
  d[0] = 4.0f * d0 - 5.0f * d2 + d4;
  d[st] = -4.0f * (d1 + d2) + d3 + d4;
  d[2 * st] = 4.0f * (d1 - d2) - d3 + d4;
  d[3 * st] = 2.0f * (d3 - d1) - d2 + d4;
  d[4 * st] = 2.0f * (d1 - d3) - d2 + d4;
  d[5 * st] = 4.0f * d1 - 5.0f * d3 + d5;
#endif
}

/* A^T applied to ALPHA values at stride st, WM results at stride st (in place). */
inline void wino_at(float *m, const int st) {
#if WM == 2
  const float m0 = m[0], m1 = m[st], m2 = m[2 * st], m3 = m[3 * st];
  m[0] = m0 + m1 + m2;
  m[st] = m1 - m2 - m3;
#else
  const float m0 = m[0], m1 = m[st], m2 = m[2 * st], m3 = m[3 * st], m4 = m[4 * st], m5 = m[5 * st];
  const float a = m1 + m2, b = m1 - m2, c = m3 + m4, e = m3 - m4;
  m[0] = m0 + a + c;
  m[st] = b + 2.0f * e;
  m[2 * st] = a + 4.0f * c;
  m[3 * st] = b + 8.0f * e + m5;
#endif
}

/* B^T d B of four horizontally adjacent tiles at once, one per float4 lane: the lanes of one
   step read the same row at columns WM apart, so a tile row's inputs come from one contiguous run
   of RUN floats (on CPUs a scalar-per-tile form vectorised across work-items became masked
   gathers: the 64-channel 56x56 layer spent 4x its product's time here). */
#define TG 4
#define RUN (TG * WM + 2)

/* gid0 = group of TG tiles along a tile row (TGS per row), gid1 = tile row th, gid2 = n*C + c.
   Writes V[xi][c][p] for the group's tiles p = (n*TH + th)*TW + tw; the first work-item of each
   channel also zeroes the columns P..PPAD the gemm reads as padding. X is image-chunk relative
   through xoff. */
__kernel void conv_winograd_input(__global const float *x, __global float *v, const long xoff,
                                  const int C, const int H, const int W, const int PT, const int PL,
                                  const int TH, const int TW, const int TGS, const int NC,
                                  const int P, const int PPAD) {
  const int g = get_global_id(0), th = get_global_id(1), nc = get_global_id(2);
  if (g >= TGS || th >= TH || nc >= NC) return;
  const int n = nc / C, c = nc % C, tw0 = g * TG;
  const int ih0 = th * WM - PT, iw0 = tw0 * WM - PL;
  __global const float *xc = x + xoff + (long)nc * H * W;
  const int inside = iw0 >= 0 && iw0 + RUN <= W;
  float4 d[ALPHA * ALPHA];
#pragma unroll
  for (int i = 0; i < ALPHA; i++) {
    const int ih = ih0 + i;
    float r[RUN];
    if (ih < 0 || ih >= H) {
#pragma unroll
      for (int q = 0; q < RUN; q++) r[q] = 0.0f;
    } else if (inside) {
      __global const float *xr = xc + (long)ih * W + iw0;
#pragma unroll
      for (int q = 0; q < RUN; q++) r[q] = xr[q];
    } else {
      __global const float *xr = xc + (long)ih * W;
#pragma unroll
      for (int q = 0; q < RUN; q++) r[q] = iw0 + q >= 0 && iw0 + q < W ? xr[iw0 + q] : 0.0f;
    }
#pragma unroll
    for (int j = 0; j < ALPHA; j++)
      d[i * ALPHA + j] = (float4)(r[j], r[WM + j], r[2 * WM + j], r[3 * WM + j]);
  }
#pragma unroll
  for (int j = 0; j < ALPHA; j++) wino_bt(d + j, ALPHA);
#pragma unroll
  for (int i = 0; i < ALPHA; i++) wino_bt(d + i * ALPHA, 1);
  const long plane = (long)C * PPAD;
  __global float *vc = v + (long)c * PPAD + ((long)n * TH + th) * TW + tw0;
  const int valid = min(TW - tw0, TG);
  if (valid == TG) {
#pragma unroll
    for (int xi = 0; xi < ALPHA * ALPHA; xi++) vstore4(d[xi], 0, vc + xi * plane);
  } else {
#pragma unroll
    for (int xi = 0; xi < ALPHA * ALPHA; xi++) {
      const float e[TG] = {d[xi].s0, d[xi].s1, d[xi].s2, d[xi].s3};
      for (int t = 0; t < valid; t++) vc[xi * plane + t] = e[t];
    }
  }
  if (g == 0 && th == 0 && n == 0)
    for (int xi = 0; xi < ALPHA * ALPHA; xi++)
      for (int q = P; q < PPAD; q++) v[xi * plane + (long)c * PPAD + q] = 0.0f;
}

/* M[xi][KPAD][PPAD] = U[xi] V[xi]; U packed as [xi][KT][C][MR]. gid0 = m tile, gid1 = column
   tile, gid2 = xi. Every tile is full: KPAD = KT*MR and PPAD is a multiple of NR. */
__kernel void conv_winograd_gemm(__global const float *u, __global const float *v,
                                 __global float *m, const int C, const int KT, const int PPAD,
                                 const long moff) {
  const int mt = get_global_id(0), nt = get_global_id(1), xi = get_global_id(2);
  if (mt >= KT || nt * NR >= PPAD || xi >= ALPHA * ALPHA) return;
  __global const float *a = u + ((long)xi * KT + mt) * C * MR;
  __global const float *b = v + (long)xi * C * PPAD + nt * NR;
  float16 acc[MR][NV];
  conv_tile_zero(acc);
  for (int c = 0; c < C; c++) {
    float16 bv[NV];
#pragma unroll
    for (int j = 0; j < NV; j++) bv[j] = vload16(j, b);
    conv_tile_fma(acc, a, bv);
    a += MR;
    b += PPAD;
  }
  __global float *o = m + moff + ((long)xi * KT * MR + mt * MR) * PPAD + nt * NR;
#pragma unroll
  for (int i = 0; i < MR; i++)
#pragma unroll
    for (int j = 0; j < NV; j++) vstore16(acc[i][j], j, o + (long)i * PPAD);
}

/* gid0 = p < P, gid1 = k. Reads M[xi][k][p], writes the WM x WM output tile of image n0 + n
   (through yoff) with bias and epilogue, cropped to OH x OW. */
__kernel void conv_winograd_output(__global const float *m, const long moff,
                                   __global const float *bias, __global const float *res,
                                   __global float *y, const long yoff, const int K, const int KPAD,
                                   const int OH, const int OW, const int TH, const int TW,
                                   const int P, const int PPAD) {
  const int p = get_global_id(0), k = get_global_id(1);
  if (p >= P || k >= K) return;
  float t[ALPHA * ALPHA];
  const long plane = (long)KPAD * PPAD;
#pragma unroll
  for (int xi = 0; xi < ALPHA * ALPHA; xi++) t[xi] = m[moff + xi * plane + (long)k * PPAD + p];
#pragma unroll
  for (int j = 0; j < ALPHA; j++) wino_at(t + j, ALPHA);
#pragma unroll
  for (int i = 0; i < WM; i++) wino_at(t + i * ALPHA, 1);
#if HAS_BIAS
  const float bk = bias[k];
#else
  const float bk = 0.0f;
#endif
  const int n = p / (TH * TW), r = p % (TH * TW), th = r / TW, tw = r % TW;
  const long ybase = yoff + ((long)n * K + k) * OH * OW;
#pragma unroll
  for (int i = 0; i < WM; i++) {
    const int oh = th * WM + i;
    if (oh >= OH) break;
#pragma unroll
    for (int j = 0; j < WM; j++) {
      const int ow = tw * WM + j;
      if (ow >= OW) break;
      const long o = ybase + (long)oh * OW + ow;
#if HAS_RES
      y[o] = epi_apply(t[i * ALPHA + j] + bk, res[o]);
#else
      y[o] = epi_apply(t[i * ALPHA + j] + bk, 0.0f);
#endif
    }
  }
}
