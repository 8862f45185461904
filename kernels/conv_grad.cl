/* conv_grad.cl: Conv's weight gradient (lib/train/op_conv_grad.c) as one CLBlast GEMM per chunk
   of images: dW_g [Kg, Cg*R*S] += dYt_g [Kg, n*P] x colT_g [n*P, Cg*R*S] (P = OH*OW, g the
   group), where these kernels lay out the two operands:
   - conv_grad_unfold: colT[(i*P + p)*CRS + row] = X[n0 + i][c][oh*SH + r*DH - PT][ow*SW + s*DW -
     PL] (zero outside), row = (c*R + r)*S + s over all C channels, so group g's block starts at
     column g*Cg*R*S;
   - conv_grad_dy_t: dYt[off + k*(nimg*P) + i*P + p] = dY[n0 + i][k][p] (dYt follows colT in
     the same scratch buffer, at element offset off).
   A 1-D conv has H = OH = R = 1. No -D parameters. */

/* gid0 = output position p, gid1 = image i; each work-item writes its receptive field's CRS
   values (one contiguous row of colT) in a loop. One work-item per element made a work-group per
   (p, i) pair, and PoCL's per-group overhead then cost more than the copy (19% of the demo
   CNN's training step went to this kernel). */
__kernel void conv_grad_unfold(__global const float *x, __global float *colT, const int n0,
                               const int C, const int H, const int W, const int R, const int S,
                               const int SH, const int SW, const int DH, const int DW, const int PT,
                               const int PL, const int OH, const int OW) {
  const int p = get_global_id(0), i = get_global_id(1);
  const int P = OH * OW;
  if (p >= P) return;
  const int oh = p / OW, ow = p % OW, ih0 = oh * SH - PT, iw0 = ow * SW - PL;
  __global const float *xi = x + (long)(n0 + i) * C * H * W;
  __global float *out = colT + ((long)i * P + p) * C * R * S;
  for (int c = 0; c < C; c++)
    for (int r = 0; r < R; r++) {
      const int ih = ih0 + r * DH;
      const bool row_in = ih >= 0 && ih < H;
      for (int s = 0; s < S; s++) {
        const int iw = iw0 + s * DW;
        *out++ = row_in && iw >= 0 && iw < W ? xi[((long)c * H + ih) * W + iw] : 0.0f;
      }
    }
}

/* gid0 = p, gid1 = k, gid2 = image i. */
__kernel void conv_grad_dy_t(__global const float *dy, __global float *dyt, const long off,
                             const int n0, const int nimg, const int K, const int P) {
  const int p = get_global_id(0), k = get_global_id(1), i = get_global_id(2);
  if (p >= P || k >= K) return;
  dyt[off + (long)k * nimg * P + (long)i * P + p] = dy[((long)(n0 + i) * K + k) * P + p];
}
