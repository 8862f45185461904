/* test_quant.c: the quantization family (lib/ops/quant.c) against tests/ref/quant_ref.c on random
   shapes, odd sizes, int8 and uint8, per-tensor and per-axis parameters. Integer results must be
   exact (tolerance 0): accumulation is int32 on both sides, and the float steps (x / scale, the
   requantization multiplier) are the same IEEE operations in the same order. Float tolerances
   are stated where used. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/quant_ref.h"
#include "test_util.h"

/* Quantize then dequantize x [2, 5, 7, 3] on axis (or per tensor when axis_n == 1). */
static void quant_roundtrip(nncl_dtype qt, int axis, int with_zp, uint32_t seed) {
  const int64_t dims[4] = {2, 5, 7, 3};
  int ax = axis < 0 ? axis + 4 : axis;
  int64_t axis_n = axis == 99 ? 1 : dims[ax], inner = 1;
  if (axis != 99)
    for (int d = ax + 1; d < 4; ++d) inner *= dims[d];
  nncl_array x = TU_RAND(seed, 2, 5, 7, 3);
  nncl_array sc = axis == 99 ? tu_zeros(NNCL_FLOAT32, 0, NULL) : TU_RAND(seed + 1, axis_n);
  tu_fill(sc.data, (size_t)axis_n, seed + 1, 0.002f, 0.02f);
  nncl_array zp = axis == 99 ? tu_int_rand(qt, seed + 2, 0, NULL, tu_qmin(qt) / 2, tu_qmax(qt) / 2)
                             : TU_INT_RAND(qt, seed + 2, tu_qmin(qt) / 2, tu_qmax(qt) / 2, axis_n);
  const struct nncl__attr at[] = {A_INT("axis", axis == 99 ? 1 : axis)};
  const nncl_array *in[] = {&x, &sc, &zp};
  int n_in = with_zp ? 3 : 2;
  nncl_array y;
  tu_run_op("QuantizeLinear", 13, at, 1, n_in, in, 1, &y);
  int64_t n = nncl_shape_numel(&x.shape);
  int32_t *want = malloc(sizeof(int32_t) * (size_t)n), *z = tu_widen(&zp);
  float *dq = malloc(sizeof(float) * (size_t)n);
  nncl_dtype ot = with_zp ? qt : NNCL_UINT8;
  ref_quantize(x.data, n, inner, axis_n, sc.data, with_zp ? z : NULL, tu_qmin(ot), tu_qmax(ot),
               want);
  tu_assert_ints(&y, ot, want, n, "QuantizeLinear");
  /* and back */
  const nncl_array *in2[] = {&y, &sc, &zp};
  nncl_array r;
  tu_run_op("DequantizeLinear", 13, at, 1, n_in, in2, 1, &r);
  ref_dequantize(want, n, inner, axis_n, sc.data, with_zp ? z : NULL, dq);
  tu_assert_close((float *)r.data, dq, (size_t)n, 0, 0, "DequantizeLinear");
  free(want), free(z), free(dq);
  nncl_array_free(&x), nncl_array_free(&sc), nncl_array_free(&zp), nncl_array_free(&y),
      nncl_array_free(&r);
}

Test(quant, quantize_dequantize_uint8_per_tensor) { quant_roundtrip(NNCL_UINT8, 99, 1, 11); }
Test(quant, quantize_dequantize_int8_axis1) { quant_roundtrip(NNCL_INT8, 1, 1, 12); }
Test(quant, quantize_dequantize_uint8_last_axis_negative) {
  quant_roundtrip(NNCL_UINT8, -1, 1, 13);
}
Test(quant, quantize_without_zero_point_is_uint8) { quant_roundtrip(NNCL_UINT8, 2, 0, 14); }

Test(quant, dequantize_int32) {
  nncl_array x = TU_INT_RAND(NNCL_INT32, 21, -100000, 100000, 3, 37);
  nncl_array sc = TU_RAND(22, 37);
  nncl_array zp = TU_INT_RAND(NNCL_INT32, 23, -50, 50, 37);
  const struct nncl__attr at[] = {A_INT("axis", -1)};
  const nncl_array *in[] = {&x, &sc, &zp};
  nncl_array y;
  tu_run_op("DequantizeLinear", 13, at, 1, 3, in, 1, &y);
  float want[3 * 37];
  int32_t *xi = tu_widen(&x), *zi = tu_widen(&zp);
  ref_dequantize(xi, 3 * 37, 1, 37, sc.data, zi, want);
  tu_assert_close((float *)y.data, want, 3 * 37, 0, 0, "DequantizeLinear int32");
  free(xi), free(zi);
  nncl_array_free(&x), nncl_array_free(&sc), nncl_array_free(&zp), nncl_array_free(&y);
}

static void dynamic_case(int64_t n, float lo, float hi, uint32_t seed) {
  nncl_array x = TU_RAND(seed, n);
  tu_fill(x.data, (size_t)n, seed, lo, hi);
  nncl_array out[3];
  const nncl_array *in[] = {&x};
  tu_run_op("DynamicQuantizeLinear", 11, NULL, 0, 1, in, 3, out);
  int32_t *want = malloc(sizeof(int32_t) * (size_t)n), zp;
  float scale;
  ref_dynamic_quantize(x.data, n, want, &scale, &zp);
  tu_assert_close((float *)out[1].data, &scale, 1, 0, 0, "DynamicQuantizeLinear scale");
  tu_assert_ints(&out[2], NNCL_UINT8, &zp, 1, "DynamicQuantizeLinear zero point");
  tu_assert_ints(&out[0], NNCL_UINT8, want, n, "DynamicQuantizeLinear y");
  free(want);
  nncl_array_free(&x);
  for (int i = 0; i < 3; ++i) nncl_array_free(&out[i]);
}

Test(quant, dynamic_quantize_mixed_signs_odd_size) { dynamic_case(1001, -2.5f, 4.0f, 31); }
Test(quant, dynamic_quantize_all_positive) { dynamic_case(7, 1.0f, 3.0f, 32); }
Test(quant, dynamic_quantize_all_negative_large) { dynamic_case(5000, -9.0f, -0.5f, 33); }

/* MatMulInteger a [ba..., m, k] x b [bb..., k, n]; per-row / per-column zero points. */
static void matmul_int_case(nncl_dtype ta, nncl_dtype tb, int64_t batch_a, int64_t batch_b,
                            int64_t m, int64_t k, int64_t n, int per_channel, uint32_t seed) {
  int64_t batch = batch_a > batch_b ? batch_a : batch_b;
  nncl_array a = batch_a ? TU_INT_RAND(ta, seed, tu_qmin(ta), tu_qmax(ta), batch_a, m, k)
                         : TU_INT_RAND(ta, seed, tu_qmin(ta), tu_qmax(ta), m, k);
  nncl_array b = batch_b ? TU_INT_RAND(tb, seed + 1, tu_qmin(tb), tu_qmax(tb), batch_b, k, n)
                         : TU_INT_RAND(tb, seed + 1, tu_qmin(tb), tu_qmax(tb), k, n);
  nncl_array za = per_channel ? TU_INT_RAND(ta, seed + 2, tu_qmin(ta), tu_qmax(ta), m)
                              : TU_INT_RAND(ta, seed + 2, tu_qmin(ta), tu_qmax(ta), 1);
  nncl_array zb = per_channel ? TU_INT_RAND(tb, seed + 3, tu_qmin(tb), tu_qmax(tb), n)
                              : tu_int_rand(tb, seed + 3, 0, NULL, tu_qmin(tb), tu_qmax(tb));
  const nncl_array *in[] = {&a, &b, &za, &zb};
  nncl_array y;
  tu_run_op("MatMulInteger", 10, NULL, 0, 4, in, 1, &y);
  int64_t nb = batch ? batch : 1;
  int32_t *want = malloc(sizeof(int32_t) * (size_t)(nb * m * n));
  int32_t *ai = tu_widen(&a), *bi = tu_widen(&b), *zai = tu_widen(&za), *zbi = tu_widen(&zb);
  ref_qmatmul(ai, bi, nb, batch_a ? batch_a : 1, batch_b ? batch_b : 1, m, n, k, zai,
              per_channel ? m : 1, zbi, per_channel ? n : 1, NULL, want);
  cr_assert_eq(y.shape.rank, batch ? 3 : 2);
  tu_assert_ints(&y, NNCL_INT32, want, nb * m * n, "MatMulInteger");
  free(want), free(ai), free(bi), free(zai), free(zbi);
  nncl_array_free(&a), nncl_array_free(&b), nncl_array_free(&za), nncl_array_free(&zb),
      nncl_array_free(&y);
}

Test(quant, matmul_integer_uint8_2d) {
  matmul_int_case(NNCL_UINT8, NNCL_UINT8, 0, 0, 17, 33, 19, 0, 41);
}
Test(quant, matmul_integer_uint8_int8_per_channel) {
  matmul_int_case(NNCL_UINT8, NNCL_INT8, 0, 0, 31, 70, 9, 1, 42);
}
Test(quant, matmul_integer_int8_batch_broadcast_b) {
  matmul_int_case(NNCL_INT8, NNCL_INT8, 3, 0, 5, 7, 40, 0, 43);
}
Test(quant, matmul_integer_batch_broadcast_a_large_k) {
  matmul_int_case(NNCL_UINT8, NNCL_INT8, 0, 2, 18, 515, 17, 1, 44);
}

/* QLinearMatMul with per-column b scale when per_col. */
static void qlinear_matmul_case(nncl_dtype t, int64_t batch, int64_t m, int64_t k, int64_t n,
                                int per_col, uint32_t seed) {
  nncl_array a = TU_INT_RAND(t, seed, tu_qmin(t), tu_qmax(t), batch, m, k);
  nncl_array b = TU_INT_RAND(t, seed + 1, tu_qmin(t), tu_qmax(t), batch, k, n);
  nncl_array as = TU_RAND(seed + 2, 1), bs = per_col ? TU_RAND(seed + 3, n) : TU_RAND(seed + 3, 1);
  nncl_array ys = TU_RAND(seed + 4, 1);
  tu_fill(as.data, 1, seed + 2, 0.005f, 0.01f);
  tu_fill(bs.data, (size_t)(per_col ? n : 1), seed + 3, 0.005f, 0.01f);
  tu_fill(ys.data, 1, seed + 4, 0.05f, 0.2f);
  nncl_array az = TU_INT_RAND(t, seed + 5, tu_qmin(t), tu_qmax(t), 1),
             bz = TU_INT_RAND(t, seed + 6, tu_qmin(t), tu_qmax(t), 1);
  nncl_array yz = tu_int_rand(t, seed + 7, 0, NULL, tu_qmin(t) / 2, tu_qmax(t) / 2);
  const nncl_array *in[] = {&a, &as, &az, &b, &bs, &bz, &ys, &yz};
  nncl_array y;
  tu_run_op("QLinearMatMul", 10, NULL, 0, 8, in, 1, &y);
  int32_t *ai = tu_widen(&a), *bi = tu_widen(&b), *azi = tu_widen(&az), *bzi = tu_widen(&bz),
          *yzi = tu_widen(&yz);
  int32_t *want = malloc(sizeof(int32_t) * (size_t)(batch * m * n));
  struct ref_requant rq = {as.data, bs.data,    ys.data,   per_col ? n : 1,
                           yzi[0],  tu_qmin(t), tu_qmax(t)};
  ref_qmatmul(ai, bi, batch, batch, batch, m, n, k, azi, 1, bzi, 1, &rq, want);
  tu_assert_ints(&y, t, want, batch * m * n, "QLinearMatMul");
  free(ai), free(bi), free(azi), free(bzi), free(yzi), free(want);
  nncl_array_free(&a), nncl_array_free(&b), nncl_array_free(&as), nncl_array_free(&bs),
      nncl_array_free(&ys), nncl_array_free(&az), nncl_array_free(&bz), nncl_array_free(&yz),
      nncl_array_free(&y);
}

Test(quant, qlinear_matmul_uint8) { qlinear_matmul_case(NNCL_UINT8, 2, 13, 29, 21, 0, 51); }
Test(quant, qlinear_matmul_int8_per_column_scale) {
  qlinear_matmul_case(NNCL_INT8, 1, 16, 64, 33, 1, 52);
}

/* ConvInteger / QLinearConv on x [n, c, h, w] (1-D when h == 0). */
struct conv_case {
  int64_t n, c, h, w, m, kh, kw, group, sh, sw, dh, dw, pads[4];
};

static void qconv_case(const struct conv_case *cc, nncl_dtype tx, nncl_dtype tw, int qlinear,
                       int per_channel, int with_bias, uint32_t seed) {
  int one_d = cc->h == 0;
  struct ref_qconv g = {cc->n,
                        cc->c,
                        one_d ? 1 : cc->h,
                        cc->w,
                        cc->m,
                        one_d ? 1 : cc->kh,
                        cc->kw,
                        0,
                        0,
                        one_d ? 1 : cc->sh,
                        cc->sw,
                        one_d ? 0 : cc->pads[0],
                        one_d ? cc->pads[0] : cc->pads[1],
                        one_d ? 1 : cc->dh,
                        cc->dw,
                        cc->group};
  int64_t pe_h = one_d ? 0 : cc->pads[2], pe_w = one_d ? cc->pads[1] : cc->pads[3];
  g.oh = (g.h + g.ph + pe_h - (g.kh - 1) * g.dh - 1) / g.sh + 1;
  g.ow = (g.w + g.pw + pe_w - (g.kw - 1) * g.dw - 1) / g.sw + 1;
  nncl_array x = one_d
                     ? TU_INT_RAND(tx, seed, tu_qmin(tx), tu_qmax(tx), cc->n, cc->c, cc->w)
                     : TU_INT_RAND(tx, seed, tu_qmin(tx), tu_qmax(tx), cc->n, cc->c, cc->h, cc->w);
  nncl_array w =
      one_d ? TU_INT_RAND(tw, seed + 1, tu_qmin(tw), tu_qmax(tw), cc->m, cc->c / cc->group, cc->kw)
            : TU_INT_RAND(tw, seed + 1, tu_qmin(tw), tu_qmax(tw), cc->m, cc->c / cc->group, cc->kh,
                          cc->kw);
  nncl_array zx = tu_int_rand(tx, seed + 2, 0, NULL, tu_qmin(tx), tu_qmax(tx));
  nncl_array zw = per_channel ? TU_INT_RAND(tw, seed + 3, tu_qmin(tw) / 4, tu_qmax(tw) / 4, cc->m)
                              : TU_INT_RAND(tw, seed + 3, tu_qmin(tw) / 4, tu_qmax(tw) / 4, 1);
  nncl_array xs = TU_RAND(seed + 4, 1),
             ws = per_channel ? TU_RAND(seed + 5, cc->m) : TU_RAND(seed + 5, 1);
  nncl_array ys = TU_RAND(seed + 6, 1),
             yz = tu_int_rand(tx, seed + 7, 0, NULL, tu_qmin(tx) / 2, tu_qmax(tx) / 2);
  nncl_array bias = TU_INT_RAND(NNCL_INT32, seed + 8, -5000, 5000, cc->m);
  tu_fill(xs.data, 1, seed + 4, 0.005f, 0.01f);
  tu_fill(ws.data, (size_t)(per_channel ? cc->m : 1), seed + 5, 0.005f, 0.01f);
  tu_fill(ys.data, 1, seed + 6, 0.1f, 0.3f);
  /* attribute values live at function scope (compound literals in a branch would not) */
  const int64_t st2[2] = {cc->sh, cc->sw}, dl2[2] = {cc->dh, cc->dw};
  const int64_t *st = one_d ? st2 + 1 : st2, *dl = one_d ? dl2 + 1 : dl2;
  int sp = one_d ? 1 : 2;
  struct nncl__attr at[4] = {
      A_INT("group", cc->group),
      {.name = "strides", .type = ATTR_INTS, .ints = (int64_t *)st, .n = sp},
      {.name = "dilations", .type = ATTR_INTS, .ints = (int64_t *)dl, .n = sp},
      {.name = "pads", .type = ATTR_INTS, .ints = (int64_t *)cc->pads, .n = 2 * sp}};
  int na = 4;
  nncl_array y;
  int32_t *xi = tu_widen(&x), *wi = tu_widen(&w), *zxi = tu_widen(&zx), *zwi = tu_widen(&zw),
          *yzi = tu_widen(&yz);
  int32_t *bi = tu_widen(&bias);
  int64_t ny = g.n * g.m * g.oh * g.ow;
  int32_t *want = malloc(sizeof(int32_t) * (size_t)ny);
  if (qlinear) {
    const nncl_array *in[] = {&x, &xs, &zx, &w, &ws, &zw, &ys, &yz, &bias};
    tu_run_op("QLinearConv", 10, at, na, with_bias ? 9 : 8, in, 1, &y);
    struct ref_requant rq = {xs.data, ws.data,     ys.data,    per_channel ? cc->m : 1,
                             yzi[0],  tu_qmin(tx), tu_qmax(tx)};
    ref_qconv(xi, wi, &g, zxi[0], zwi, per_channel ? cc->m : 1, with_bias ? bi : NULL, &rq, want);
    tu_assert_ints(&y, tx, want, ny, "QLinearConv");
  } else {
    const nncl_array *in[] = {&x, &w, &zx, &zw};
    tu_run_op("ConvInteger", 10, at, na, 4, in, 1, &y);
    ref_qconv(xi, wi, &g, zxi[0], zwi, per_channel ? cc->m : 1, NULL, NULL, want);
    tu_assert_ints(&y, NNCL_INT32, want, ny, "ConvInteger");
  }
  cr_assert_eq(y.shape.dims[y.shape.rank - 1], g.ow);
  free(xi), free(wi), free(zxi), free(zwi), free(yzi), free(bi), free(want);
  nncl_array_free(&x), nncl_array_free(&w), nncl_array_free(&zx), nncl_array_free(&zw),
      nncl_array_free(&xs), nncl_array_free(&ws), nncl_array_free(&ys), nncl_array_free(&yz),
      nncl_array_free(&bias), nncl_array_free(&y);
}

static const struct conv_case grouped = {2, 4, 9, 11, 6, 3, 2, 2, 2, 1, 1, 2, {1, 0, 2, 1}};
static const struct conv_case plain = {1, 3, 8, 8, 5, 3, 3, 1, 1, 1, 1, 1, {1, 1, 1, 1}};
static const struct conv_case conv1d = {2, 3, 0, 19, 4, 0, 5, 1, 0, 2, 0, 2, {2, 3, 0, 0}};

Test(quant, conv_integer_grouped_strided_dilated) {
  qconv_case(&grouped, NNCL_UINT8, NNCL_UINT8, 0, 0, 0, 61);
}
Test(quant, conv_integer_int8_per_channel) {
  qconv_case(&plain, NNCL_INT8, NNCL_INT8, 0, 1, 0, 62);
}
Test(quant, conv_integer_1d) { qconv_case(&conv1d, NNCL_UINT8, NNCL_INT8, 0, 1, 0, 63); }
Test(quant, qlinear_conv_uint8_bias_per_channel) {
  qconv_case(&plain, NNCL_UINT8, NNCL_INT8, 1, 1, 1, 64);
}
Test(quant, qlinear_conv_int8_grouped) { qconv_case(&grouped, NNCL_INT8, NNCL_INT8, 1, 0, 0, 65); }

Test(quant, errors_name_the_problem) {
  nncl_array x = TU_RAND(71, 2, 3), sc = TU_RAND(72, 4);
  const nncl_array *in[] = {&x, &sc};
  const struct nncl__attr at[] = {A_INT("axis", 1)};
  nncl_array y;
  cr_assert_eq(tu_try_op("QuantizeLinear", 13, at, 1, 2, in, 1, &y), NNCL_ERR_SHAPE);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "axis"));
  nncl_array a = TU_INT_RAND(NNCL_UINT8, 73, 0, 255, 3, 4),
             b = TU_INT_RAND(NNCL_UINT8, 74, 0, 255, 5, 2);
  const nncl_array *in2[] = {&a, &b};
  cr_assert_eq(tu_try_op("MatMulInteger", 10, NULL, 0, 2, in2, 1, &y), NNCL_ERR_SHAPE);
  nncl_array_free(&x), nncl_array_free(&sc), nncl_array_free(&a), nncl_array_free(&b);
}
