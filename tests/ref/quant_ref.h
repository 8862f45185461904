/* quant_ref.h: naive C references for the quantization family (QuantizeLinear, DequantizeLinear,
   DynamicQuantizeLinear, MatMulInteger / QLinearMatMul, ConvInteger / QLinearConv), written from
   the ONNX definitions, for tests/test_quant.c. Integer tensors travel as int32 arrays here. */
#ifndef NNCL_QUANT_REF_H
#define NNCL_QUANT_REF_H

#include <stdint.h>

/* y = saturate(rint(x / scale[a]) + zp[a]) into [qmin, qmax], a = (i / inner) % axis_n. zp NULL: 0. */
void ref_quantize(const float *x, int64_t n, int64_t inner, int64_t axis_n, const float *scale,
                  const int32_t *zp, int32_t qmin, int32_t qmax, int32_t *y);
/* y = (x - zp[a]) * scale[a]. */
void ref_dequantize(const int32_t *x, int64_t n, int64_t inner, int64_t axis_n, const float *scale,
                    const int32_t *zp, float *y);
/* DynamicQuantizeLinear to uint8: y, scale and zero point. */
void ref_dynamic_quantize(const float *x, int64_t n, int32_t *y, float *scale, int32_t *zp);

/* Requantization of QLinear*: NULL scales mean an int32 result (the accumulator itself). */
struct ref_requant {
  const float *a_scale, *b_scale, *y_scale; /* b_scale per column / channel when bs_n > 1 */
  int64_t bs_n;
  int32_t y_zp, qmin, qmax;
};

/* C[b] = (A[b % na] - za) (B[b % nb] - zb) for b < batch; A [m, k], B [k, n]; za per-tensor
   (za_n 1) or per row, zb per-tensor or per column; bias-free requantization when rq != NULL. */
void ref_qmatmul(const int32_t *a, const int32_t *b, int64_t batch, int64_t na, int64_t nb,
                 int64_t m, int64_t n, int64_t k, const int32_t *za, int64_t za_n,
                 const int32_t *zb, int64_t zb_n, const struct ref_requant *rq, int32_t *c);

/* 2-D grouped convolution geometry (1-D: h = kh = 1, sh = dh = 1, ph = 0). */
struct ref_qconv {
  int64_t n, c, h, w, m, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, group;
};
/* y = sum (x - zx)(w - zw[m]) [+ bias[m]], requantized when rq != NULL. */
void ref_qconv(const int32_t *x, const int32_t *w, const struct ref_qconv *g, int32_t zx,
               const int32_t *zw, int64_t zw_n, const int32_t *bias, const struct ref_requant *rq,
               int32_t *y);

#endif
