/* conv_im2col.cl: helpers of the GEMM-based convolutions, whose products run in CLBlast:
   conv_im2col_unfold lays the receptive fields of a chunk of images out as columns,
   conv_im2col_col2im gathers ConvTranspose columns back into the image (no atomics), and
   conv_im2col_epilogue applies bias and the fused epilogue in place after the product.

   Options:
   -D HAS_BIAS=0|1
   plus the epilogue options of common/epilogue.cl. */
#include "common/conv.cl"

/* col[n][(c*R + r)*S + s][oh*OW + ow] = X[n0 + n][c][oh*SH + r*DH - PT][ow*SW + s*DW - PL].
   gid0 = oh*OW + ow, gid1 = row (c*R*S + tap), gid2 = image in the chunk. */
__kernel void conv_im2col_unfold(__global const float *x, __global float *col, const long xoff,
                                 const int C, const int H, const int W, const int R, const int S,
                                 const int SH, const int SW, const int DH, const int DW,
                                 const int PT, const int PL, const int OH, const int OW) {
  const int pix = get_global_id(0), row = get_global_id(1), n = get_global_id(2);
  const int npix = OH * OW;
  if (pix >= npix || row >= C * R * S) return;
  const int c = row / (R * S), t = row % (R * S), r = t / S, s = t % S;
  const int oh = pix / OW, ow = pix % OW;
  const int ih = oh * SH + r * DH - PT, iw = ow * SW + s * DW - PL;
  float v = 0.0f;
  if (ih >= 0 && ih < H && iw >= 0 && iw < W) v = x[xoff + (((long)n * C + c) * H + ih) * W + iw];
  col[((long)n * C * R * S + row) * npix + pix] = v;
}

/* ConvTranspose: col[n][(k*R + r)*S + s][ih*W + iw] holds x . W for output channel k (all groups
   stacked); every output pixel gathers the taps that land on it.
   gid0 = oh*OW + ow, gid1 = k, gid2 = image in the chunk. Output through yoff. */
__kernel void conv_im2col_col2im(__global const float *col, __global const float *bias,
                                 __global const float *res, __global float *y, const long yoff,
                                 const int K, const int H, const int W, const int R, const int S,
                                 const int SH, const int SW, const int DH, const int DW,
                                 const int PT, const int PL, const int OH, const int OW) {
  const int pix = get_global_id(0), k = get_global_id(1), n = get_global_id(2);
  if (pix >= OH * OW || k >= K) return;
  const int oh = pix / OW, ow = pix % OW;
  float acc = 0.0f;
  __global const float *ck = col + ((long)n * K + k) * R * S * H * W;
  CONV_TRANSPOSED_TAPS(oh, ow) acc += ck[((long)(r * S + s) * H + ih) * W + iw];
#if HAS_BIAS
  acc += bias[k];
#endif
  const long o = yoff + ((long)n * K + k) * OH * OW + pix;
#if HAS_RES
  y[o] = epi_apply(acc, res[o]);
#else
  y[o] = epi_apply(acc, 0.0f);
#endif
}

/* y = epilogue(y + bias[k]) in place. gid0 = pixel, gid1 = n*K + k. */
__kernel void conv_im2col_epilogue(__global float *y, __global const float *bias,
                                   __global const float *res, const int K, const int NPIX,
                                   const int NK) {
  const int pix = get_global_id(0), nk = get_global_id(1);
  if (pix >= NPIX || nk >= NK) return;
  const long o = (long)nk * NPIX + pix;
#if HAS_BIAS
  const float b = bias[nk % K];
#else
  const float b = 0.0f;
#endif
#if HAS_RES
  y[o] = epi_apply(y[o] + b, res[o]);
#else
  y[o] = epi_apply(y[o] + b, 0.0f);
#endif
}
