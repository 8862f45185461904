/* quant.cl: integer quantization family (lib/ops/quant.c): QuantizeLinear, DequantizeLinear,
   DynamicQuantizeLinear, MatMulInteger / QLinearMatMul and ConvInteger / QLinearConv.
   Products are accumulated exactly in int32; only the final requantization uses float.
   -D XT: element type of the first integer operand (A, x)        default uchar
   -D WT: element type of the second integer operand (B, w)       default uchar
   -D QT: element type of a quantized output (uchar or char)      default uchar
   -D QMIN, QMAX: saturation range of QT                          default 0, 255
   -D REQUANT: 1 = output QT requantized with scales (QLinear*), 0 = int32 output
   -D HAS_BIAS: QLinearConv bias input present (int32)            default 0
   -D TILE: matmul tile edge (work-group TILE x TILE)             default 16 */
#include "common/index.cl"

#ifndef XT
#define XT uchar
#endif
#ifndef WT
#define WT uchar
#endif
#ifndef QT
#define QT uchar
#endif
#ifndef QMIN
#define QMIN 0
#endif
#ifndef QMAX
#define QMAX 255
#endif
#ifndef REQUANT
#define REQUANT 0
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif
#ifndef TILE
#define TILE 16
#endif

/* Round half to even (rint), then saturate: the ONNX rule for every quantized output. */
inline QT quant_saturate(float v) { return (QT)clamp(rint(v), (float)QMIN, (float)QMAX); }

/* y = saturate(rint(x / scale) + zp); scale and zp indexed by (i / inner) % axis_n (1 for
   per-tensor). has_zp = 0: zero point 0. */
__kernel void quant_quantize(__global const float *x, __global const float *scale,
                             __global const QT *zp, __global QT *y, const uint n, const uint inner,
                             const uint axis_n, const int has_zp) {
  const uint i = get_global_id(0);
  GUARD(i, n);
  const uint a = (i / inner) % axis_n;
  const float z = has_zp ? (float)zp[a] : 0.0f;
  y[i] = quant_saturate(rint(x[i] / scale[a]) + z);
}

/* y = (x - zp) * scale, x of type XT (uchar, char or int); the difference is exact in int. */
__kernel void quant_dequantize(__global const XT *x, __global const float *scale,
                               __global const XT *zp, __global float *y, const uint n,
                               const uint inner, const uint axis_n, const int has_zp) {
  const uint i = get_global_id(0);
  GUARD(i, n);
  const uint a = (i / inner) % axis_n;
  const int z = has_zp ? (int)zp[a] : 0;
  y[i] = (float)((int)x[i] - z) * scale[a];
}

/* DynamicQuantizeLinear step 1, one work-group: min/max over x (range widened to include 0),
   scale = (max - min) / 255, zp = saturate(rint(-min / scale)). */
__kernel void quant_dynamic_range(__global const float *x, __global float *scale,
                                  __global uchar *zp, const uint zp_off, const uint n,
                                  __local float *lmin, __local float *lmax) {
  const uint l = get_local_id(0), ls = get_local_size(0);
  float mn = 0.0f, mx = 0.0f;
  for (uint i = l; i < n; i += ls) {
    mn = fmin(mn, x[i]);
    mx = fmax(mx, x[i]);
  }
  lmin[l] = mn;
  lmax[l] = mx;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = ls / 2; s > 0; s >>= 1) {
    if (l < s) {
      lmin[l] = fmin(lmin[l], lmin[l + s]);
      lmax[l] = fmax(lmax[l], lmax[l + s]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (l == 0) {
    const float sc = (lmax[0] - lmin[0]) / 255.0f;
    scale[0] = sc;
    zp[zp_off] = sc > 0.0f ? (uchar)clamp(rint(0.0f - lmin[0] / sc), 0.0f, 255.0f) : (uchar)0;
  }
}

/* DynamicQuantizeLinear step 2: y = saturate(rint(x / scale) + zp) with the computed scale. */
__kernel void quant_dynamic_apply(__global const float *x, __global const float *scale,
                                  __global const uchar *zp, const uint zp_off, __global uchar *y,
                                  const uint n) {
  const uint i = get_global_id(0);
  GUARD(i, n);
  const float sc = scale[0];
  const uchar z = zp[zp_off];
  y[i] = sc > 0.0f ? (uchar)clamp(rint(x[i] / sc) + (float)z, 0.0f, 255.0f) : z;
}

/* Final value of an int32 accumulator: int32 (MatMulInteger / ConvInteger) or requantized with
   the real multiplier mul = a_scale * b_scale / y_scale (QLinear*). */
#if REQUANT
#define OUT_T QT
#define OUT_VAL(acc, mul, yz) quant_saturate(rint((float)(acc) * (mul)) + (float)(yz))
#else
#define OUT_T int
#define OUT_VAL(acc, mul, yz) (acc)
#endif

/* Batched C[b] = (A[b] - za) (B[b] - zb), A [M, K] and B [K, N] row-major; batch strides a_bs /
   b_bs are 0 for a broadcast operand. za is per-tensor (za_n 1) or per-row of A (za_n M); zb
   per-tensor or per-column of B. TILE x TILE output tiles; A and B tiles staged in local memory
   as zero-point-corrected ints. Requantization (REQUANT): sc = {a_scale, b_scale, y_scale}
   scalars, b_scale may be per-column (bs_n N), yz the output zero point. */
__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1))) void
quant_matmul(__global const XT *A, __global const WT *B, __global OUT_T *C, const uint M,
             const uint N, const uint K, const uint a_bs, const uint b_bs, __global const XT *za,
             const uint za_n, __global const WT *zb, const uint zb_n, __global const float *a_scale,
             __global const float *b_scale, const uint bs_n, __global const float *y_scale,
             __global const QT *yz, const int has_yz) {
  __local int ta[TILE][TILE + 1];
  __local int tb[TILE][TILE + 1];
  const uint tx = get_local_id(0), ty = get_local_id(1);
  const uint col = get_group_id(0) * TILE + tx, row = get_group_id(1) * TILE + ty;
  const uint b = get_global_id(2);
  A += (size_t)b * a_bs;
  B += (size_t)b * b_bs;
  const int zar = za_n > 1 ? (row < M ? (int)za[row] : 0) : (za_n ? (int)za[0] : 0);
  int acc = 0;
  for (uint k0 = 0; k0 < K; k0 += TILE) {
    const uint ka = k0 + tx, kb = k0 + ty;
    ta[ty][tx] = (row < M && ka < K) ? (int)A[(size_t)row * K + ka] - zar : 0;
    int vb = 0;
    if (kb < K && col < N)
      vb = (int)B[(size_t)kb * N + col] - (zb_n > 1 ? (int)zb[col] : (zb_n ? (int)zb[0] : 0));
    tb[ty][tx] = vb;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint k = 0; k < TILE; ++k) acc += ta[ty][k] * tb[k][tx];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (row >= M || col >= N) return;
#if REQUANT
  const float mul = a_scale[0] * b_scale[bs_n > 1 ? col : 0] / y_scale[0];
  const int z = has_yz ? (int)yz[0] : 0;
#else
  const float mul = 0.0f;
  const int z = 0;
#endif
  C[((size_t)b * M + row) * N + col] = OUT_VAL(acc, mul, z);
}

/* Direct 2-D convolution, one output element per work item (x: [N, C, H, W], w: [M, C/g, KH,
   KW], y: [N, M, OH, OW]); 1-D convolutions come in with H = KH = 1. Padded taps count as the
   zero point (contribute 0). zw per-tensor (zw_n 1) or per output channel. d packs
   {C, H, W, M, OH, OW, KH, KW, sh, sw, ph, pw, dh, dw, group}. */
__kernel void quant_conv(__global const XT *x, __global const WT *w, __global OUT_T *y,
                         const uint total, const int16 d, __global const XT *zx, const int has_zx,
                         __global const WT *zw, const uint zw_n, __global const int *bias,
                         __global const float *x_scale, __global const float *w_scale,
                         const uint ws_n, __global const float *y_scale, __global const QT *yz,
                         const int has_yz) {
  const uint i = get_global_id(0);
  GUARD(i, total);
  const int C = d.s0, H = d.s1, W = d.s2, M = d.s3, OH = d.s4, OW = d.s5;
  const int KH = d.s6, KW = d.s7, sh = d.s8, sw = d.s9, ph = d.sa, pw = d.sb;
  const int dh = d.sc, dw = d.sd, G = d.se;
  const int ox = (int)(i % (uint)OW), oy = (int)((i / (uint)OW) % (uint)OH);
  const int m = (int)((i / (uint)(OW * OH)) % (uint)M), n = (int)(i / (uint)(OW * OH * M));
  const int cg = C / G, mg = M / G, c0 = (m / mg) * cg;
  const int z_x = has_zx ? (int)zx[0] : 0;
  const int z_w = zw_n > 1 ? (int)zw[m] : (zw_n ? (int)zw[0] : 0);
  int acc = 0;
  for (int c = 0; c < cg; ++c) {
    __global const XT *xp = x + ((size_t)n * C + c0 + c) * H * W;
    __global const WT *wp = w + ((size_t)m * cg + c) * KH * KW;
    for (int ky = 0; ky < KH; ++ky) {
      const int iy = oy * sh - ph + ky * dh;
      if (iy < 0 || iy >= H) continue;
      for (int kx = 0; kx < KW; ++kx) {
        const int ix = ox * sw - pw + kx * dw;
        if (ix < 0 || ix >= W) continue;
        acc += ((int)xp[iy * W + ix] - z_x) * ((int)wp[ky * KW + kx] - z_w);
      }
    }
  }
#if HAS_BIAS
  acc += bias[m];
#endif
#if REQUANT
  const float mul = x_scale[0] * w_scale[ws_n > 1 ? m : 0] / y_scale[0];
  const int z = has_yz ? (int)yz[0] : 0;
#else
  const float mul = 0.0f;
  const int z = 0;
#endif
  y[i] = OUT_VAL(acc, mul, z);
}
