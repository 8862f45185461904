/* conv_depthwise.cl: depthwise convolution (groups == C, K = C * multiplier), MobileNet style.
   Reads the phase-packed input of conv_direct.cl (or X in place when stride 1 and no pads), so
   every tap is a contiguous 16-wide vector load; one work-item computes 16*NV consecutive
   positions of one output row of one channel, so full tiles leave through vector stores with a
   vectorized epilogue. There is no reuse across channels to block for: the kernel is
   bandwidth-bound.

   Options:
   -D NV=2        16-float vectors of positions per work-item
   -D HAS_BIAS=0|1
   plus the epilogue options of common/epilogue.cl. */
#include "common/conv.cl"

/* gid0 = tile (oh, ow block) with OWT blocks per row, gid1 = n*K + k (image within the chunk,
   output channel). W is [K][1][R][S] as given (taps are read straight from it). */
__kernel void conv_depthwise_main(__global const float *xp, __global const float *w,
                                  __global const float *bias, __global const float *res,
                                  __global float *y, __global const int *taps, const long xoff,
                                  const long xlen, const long yoff, const int NTAPS,
                                  const int MAXOFF, const int C, const long CS, const int K,
                                  const int MULT, const int OH, const int OW, const int WPH,
                                  const int OWT, const int NIMG) {
  const int qt = get_global_id(0), nk = get_global_id(1);
  if (qt >= OH * OWT || nk >= NIMG * K) return;
  const int n = nk / K, k = nk % K, ci = k / MULT;
  const int oh = qt / OWT, ow0 = (qt % OWT) * NR;
  const long xbase = xoff + ((long)n * C + ci) * CS + (long)oh * WPH + ow0;
  __global const float *wk = w + (long)k * NTAPS;
  float16 acc[NV];
#pragma unroll
  for (int j = 0; j < NV; j++) acc[j] = (float16)0.0f;
  if (xbase + MAXOFF + NR <= xlen) {
    for (int t = 0; t < NTAPS; t++) {
      __global const float *xt = xp + xbase + taps[t];
      const float16 a = (float16)wk[t];
#pragma unroll
      for (int j = 0; j < NV; j++) acc[j] = fma(a, vload16(j, xt), acc[j]);
    }
  } else {
    for (int t = 0; t < NTAPS; t++) {
      const long xt = xbase + taps[t];
      float bb[NR];
      for (int j = 0; j < NR; j++) bb[j] = xt + j < xlen ? xp[xt + j] : 0.0f;
      const float16 a = (float16)wk[t];
#pragma unroll
      for (int j = 0; j < NV; j++) acc[j] = fma(a, vload16(j, bb), acc[j]);
    }
  }
#if HAS_BIAS
  const float bk = bias[k];
#else
  const float bk = 0.0f;
#endif
  conv_store_row(y, res, yoff + (((long)n * K + k) * OH + oh) * OW + ow0, acc, bk, OW - ow0);
}
