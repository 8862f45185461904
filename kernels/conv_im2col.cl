/* conv_im2col.cl: helpers of the GEMM-based convolutions, whose products run on the GEMM engine:
   conv_im2col_unfold lays the receptive fields of a chunk of images out as columns (the 1x1
   strided case too: it then only subsamples), and conv_im2col_col2im gathers ConvTranspose
   columns back into the image (no atomics) with bias and the fused epilogue.

   Options:
   -D PANEL=0|NR  unfold: plain rows (0) or the GEMM engine's packed B panels NR columns wide
   -D HAS_BIAS=0|1  col2im, with the epilogue options of common/epilogue.cl. */
#include "common/conv.cl"

#ifndef PANEL
#define PANEL 0
#endif

/* The receptive fields of image n0 + z as the columns of a [C*R*S][OH*OW] matrix, row
   k = (c*R + r)*S + s holding X[c][oh*SH + r*DH - PT][ow*SW + s*DW - PL] (0 in the padding).
   PANEL = 0: plain rows, col[z][k][j] (j = oh*OW + ow). PANEL = NR > 0: the GEMM engine's packed
   B panels, col[z][j / NR][k][j % NR] with zero columns up to the last panel's end, so the product
   reads them as they are (no packing pass). One work-item per (row, image) walks the whole row:
   few work-items, because a CPU device pays per work-group, and each writes runs of NR floats.
   gid0 = k, gid1 = z. */
__kernel void conv_im2col_unfold(__global const float *x, __global float *col, const long xoff,
                                 const int C, const int H, const int W, const int R, const int S,
                                 const int SH, const int SW, const int DH, const int DW,
                                 const int PT, const int PL, const int OH, const int OW) {
  const int k = get_global_id(0), z = get_global_id(1);
  const int rows = C * R * S, npix = OH * OW;
  if (k >= rows) return;
  const int c = k / (R * S), t = k % (R * S), r = t / S, s = t % S;
  __global const float *xc = x + xoff + ((long)z * C + c) * H * W;
#if PANEL
  const int np = (npix + PANEL - 1) / PANEL;
  __global float *o = col + (long)z * np * rows * PANEL + (long)k * PANEL;
#define UNFOLD_AT(j) o[(long)((j) / PANEL) * rows * PANEL + (j) % PANEL]
#else
  __global float *o = col + ((long)z * rows + k) * npix;
#define UNFOLD_AT(j) o[j]
#endif
  for (int oh = 0; oh < OH; oh++) {
    const int ih = oh * SH + r * DH - PT, j0 = oh * OW;
    if (ih < 0 || ih >= H) {
      for (int ow = 0; ow < OW; ow++) UNFOLD_AT(j0 + ow) = 0.0f;
      continue;
    }
    __global const float *xr = xc + (long)ih * W;
    for (int ow = 0; ow < OW; ow++) {
      const int iw = ow * SW + s * DW - PL;
      UNFOLD_AT(j0 + ow) = iw >= 0 && iw < W ? xr[iw] : 0.0f;
    }
  }
#if PANEL
  for (int j = npix; j < np * PANEL; j++) UNFOLD_AT(j) = 0.0f;
#endif
#undef UNFOLD_AT
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
