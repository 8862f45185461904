/* conv_transpose.cl: ConvTranspose (deconvolution) as a direct gather: every output pixel sums
   the input taps that land on it, so no atomics are needed and the fused epilogue is applied in
   the same pass. A work-item computes MT output channels of one pixel; the weights are packed at
   plan time as [g][k-block][r][s][c][MT] so the MT channel weights of one tap and input channel
   are one vector load.

   Options:
   -D MT=4        output channels per work-item (vector width of the weight loads: 4)
   -D HAS_BIAS=0|1
   plus the epilogue options of common/epilogue.cl. */
#include "common/conv.cl"

#ifndef MT
#define MT 4
#endif

/* gid0 = oh*OW + ow, gid1 = n*G*KB + g*KB + kb (image, group, channel block).
   X [N][C][H][W]; y [N][K][OH][OW]. */
__kernel void conv_transpose_gather(__global const float *x, __global const float *wp,
                                    __global const float *bias, __global const float *res,
                                    __global float *y, const int C, const int CG, const int H,
                                    const int W, const int K, const int KG, const int KB,
                                    const int G, const int R, const int S, const int SH,
                                    const int SW, const int DH, const int DW, const int PT,
                                    const int PL, const int OH, const int OW, const int N) {
  const int pix = get_global_id(0), z = get_global_id(1);
  if (pix >= OH * OW || z >= N * G * KB) return;
  const int kb = z % KB, g = (z / KB) % G, n = z / (KB * G);
  const int oh = pix / OW, ow = pix % OW;
  float4 acc = (float4)0.0f;
  __global const float *xg = x + ((long)n * C + (long)g * CG) * H * W;
  __global const float *wg = wp + (long)(g * KB + kb) * R * S * CG * MT;
  CONV_TRANSPOSED_TAPS(oh, ow) {
    __global const float *xp = xg + (long)ih * W + iw;
    __global const float *wt = wg + (long)(r * S + s) * CG * MT;
    for (int c = 0; c < CG; c++) acc = fma((float4)xp[(long)c * H * W], vload4(c, wt), acc);
  }
  float a[4];
  vstore4(acc, 0, a);
  for (int i = 0; i < MT; i++) {
    const int kk = kb * MT + i;
    if (kk >= KG) break;
    const int k = g * KG + kk;
#if HAS_BIAS
    const float v = a[i] + bias[k];
#else
    const float v = a[i];
#endif
    const long o = ((long)n * K + k) * OH * OW + pix;
#if HAS_RES
    y[o] = epi_apply(v, res[o]);
#else
    y[o] = epi_apply(v, 0.0f);
#endif
  }
}
