/* test_ops2c.c: the quantization family (lib/ops/quant.c), integer MaxPool, training-mode
   BatchNormalization and GridSample against tests/ref/ops2c_ref.c on random shapes, odd sizes,
   int8 and uint8, per-tensor and per-axis parameters. Integer results must be exact (tolerance
   0): accumulation is int32 on both sides, and the float steps (x / scale, the requantization
   multiplier) are the same IEEE operations in the same order. Float tolerances are stated where
   used. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ops2c_ref.h"
#include "test_util.h"

static uint32_t rng(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

/* Random integers in [lo, hi] as an array of dtype dt. */
static nncl_array qrand(nncl_dtype dt, uint32_t seed, int rank, const int64_t *dims, int lo,
                        int hi) {
  nncl_array a = tu_zeros(dt, rank, dims);
  int64_t n = nncl_shape_numel(&a.shape);
  uint32_t s = seed * 2654435761u + 1;
  for (int64_t i = 0; i < n; ++i) {
    int v = lo + (int)(rng(&s) % (uint32_t)(hi - lo + 1));
    if (dt == NNCL_UINT8)
      ((uint8_t *)a.data)[i] = (uint8_t)v;
    else if (dt == NNCL_INT8)
      ((int8_t *)a.data)[i] = (int8_t)v;
    else
      ((int32_t *)a.data)[i] = v;
  }
  return a;
}
#define QRAND(dt, seed, lo, hi, ...)                                                               \
  qrand((dt), (seed), (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),                   \
        (int64_t[]){__VA_ARGS__}, (lo), (hi))

/* A uint8 / int8 / int32 array widened to int32 (malloc'd). */
static int32_t *widen(const nncl_array *a) {
  int64_t n = nncl_shape_numel(&a->shape);
  int32_t *v = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
  cr_assert(v);
  for (int64_t i = 0; i < n; ++i)
    v[i] = a->dtype == NNCL_UINT8  ? ((const uint8_t *)a->data)[i]
           : a->dtype == NNCL_INT8 ? ((const int8_t *)a->data)[i]
                                   : ((const int32_t *)a->data)[i];
  return v;
}

static void assert_ints(const nncl_array *got, nncl_dtype dt, const int32_t *want, int64_t n,
                        const char *what) {
  cr_assert_eq(got->dtype, dt, "%s: dtype %s", what, nncl_dtype_name(got->dtype));
  cr_assert_eq(nncl_shape_numel(&got->shape), n, "%s: element count", what);
  int32_t *g = widen(got);
  for (int64_t i = 0; i < n; ++i)
    cr_assert_eq(g[i], want[i], "%s: element %lld is %d, expected %d", what, (long long)i, g[i],
                 want[i]);
  free(g);
}

static int qmin(nncl_dtype t) { return t == NNCL_INT8 ? -128 : 0; }
static int qmax(nncl_dtype t) { return t == NNCL_INT8 ? 127 : 255; }

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
  nncl_array zp = axis == 99 ? qrand(qt, seed + 2, 0, NULL, qmin(qt) / 2, qmax(qt) / 2)
                             : QRAND(qt, seed + 2, qmin(qt) / 2, qmax(qt) / 2, axis_n);
  const struct nncl__attr at[] = {A_INT("axis", axis == 99 ? 1 : axis)};
  const nncl_array *in[] = {&x, &sc, &zp};
  int n_in = with_zp ? 3 : 2;
  nncl_array y;
  tu_run_op("QuantizeLinear", 13, at, 1, n_in, in, 1, &y);
  int64_t n = nncl_shape_numel(&x.shape);
  int32_t *want = malloc(sizeof(int32_t) * (size_t)n), *z = widen(&zp);
  float *dq = malloc(sizeof(float) * (size_t)n);
  nncl_dtype ot = with_zp ? qt : NNCL_UINT8;
  ref_quantize(x.data, n, inner, axis_n, sc.data, with_zp ? z : NULL, qmin(ot), qmax(ot), want);
  assert_ints(&y, ot, want, n, "QuantizeLinear");
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
  nncl_array x = QRAND(NNCL_INT32, 21, -100000, 100000, 3, 37);
  nncl_array sc = TU_RAND(22, 37);
  nncl_array zp = QRAND(NNCL_INT32, 23, -50, 50, 37);
  const struct nncl__attr at[] = {A_INT("axis", -1)};
  const nncl_array *in[] = {&x, &sc, &zp};
  nncl_array y;
  tu_run_op("DequantizeLinear", 13, at, 1, 3, in, 1, &y);
  float want[3 * 37];
  int32_t *xi = widen(&x), *zi = widen(&zp);
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
  assert_ints(&out[2], NNCL_UINT8, &zp, 1, "DynamicQuantizeLinear zero point");
  assert_ints(&out[0], NNCL_UINT8, want, n, "DynamicQuantizeLinear y");
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
  nncl_array a = batch_a ? QRAND(ta, seed, qmin(ta), qmax(ta), batch_a, m, k)
                         : QRAND(ta, seed, qmin(ta), qmax(ta), m, k);
  nncl_array b = batch_b ? QRAND(tb, seed + 1, qmin(tb), qmax(tb), batch_b, k, n)
                         : QRAND(tb, seed + 1, qmin(tb), qmax(tb), k, n);
  nncl_array za = per_channel ? QRAND(ta, seed + 2, qmin(ta), qmax(ta), m)
                              : QRAND(ta, seed + 2, qmin(ta), qmax(ta), 1);
  nncl_array zb = per_channel ? QRAND(tb, seed + 3, qmin(tb), qmax(tb), n)
                              : qrand(tb, seed + 3, 0, NULL, qmin(tb), qmax(tb));
  const nncl_array *in[] = {&a, &b, &za, &zb};
  nncl_array y;
  tu_run_op("MatMulInteger", 10, NULL, 0, 4, in, 1, &y);
  int64_t nb = batch ? batch : 1;
  int32_t *want = malloc(sizeof(int32_t) * (size_t)(nb * m * n));
  int32_t *ai = widen(&a), *bi = widen(&b), *zai = widen(&za), *zbi = widen(&zb);
  ref_qmatmul(ai, bi, nb, batch_a ? batch_a : 1, batch_b ? batch_b : 1, m, n, k, zai,
              per_channel ? m : 1, zbi, per_channel ? n : 1, NULL, want);
  cr_assert_eq(y.shape.rank, batch ? 3 : 2);
  assert_ints(&y, NNCL_INT32, want, nb * m * n, "MatMulInteger");
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
  nncl_array a = QRAND(t, seed, qmin(t), qmax(t), batch, m, k);
  nncl_array b = QRAND(t, seed + 1, qmin(t), qmax(t), batch, k, n);
  nncl_array as = TU_RAND(seed + 2, 1), bs = per_col ? TU_RAND(seed + 3, n) : TU_RAND(seed + 3, 1);
  nncl_array ys = TU_RAND(seed + 4, 1);
  tu_fill(as.data, 1, seed + 2, 0.005f, 0.01f);
  tu_fill(bs.data, (size_t)(per_col ? n : 1), seed + 3, 0.005f, 0.01f);
  tu_fill(ys.data, 1, seed + 4, 0.05f, 0.2f);
  nncl_array az = QRAND(t, seed + 5, qmin(t), qmax(t), 1),
             bz = QRAND(t, seed + 6, qmin(t), qmax(t), 1);
  nncl_array yz = qrand(t, seed + 7, 0, NULL, qmin(t) / 2, qmax(t) / 2);
  const nncl_array *in[] = {&a, &as, &az, &b, &bs, &bz, &ys, &yz};
  nncl_array y;
  tu_run_op("QLinearMatMul", 10, NULL, 0, 8, in, 1, &y);
  int32_t *ai = widen(&a), *bi = widen(&b), *azi = widen(&az), *bzi = widen(&bz), *yzi = widen(&yz);
  int32_t *want = malloc(sizeof(int32_t) * (size_t)(batch * m * n));
  struct ref_requant rq = {as.data, bs.data, ys.data, per_col ? n : 1, yzi[0], qmin(t), qmax(t)};
  ref_qmatmul(ai, bi, batch, batch, batch, m, n, k, azi, 1, bzi, 1, &rq, want);
  assert_ints(&y, t, want, batch * m * n, "QLinearMatMul");
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
  nncl_array x = one_d ? QRAND(tx, seed, qmin(tx), qmax(tx), cc->n, cc->c, cc->w)
                       : QRAND(tx, seed, qmin(tx), qmax(tx), cc->n, cc->c, cc->h, cc->w);
  nncl_array w =
      one_d ? QRAND(tw, seed + 1, qmin(tw), qmax(tw), cc->m, cc->c / cc->group, cc->kw)
            : QRAND(tw, seed + 1, qmin(tw), qmax(tw), cc->m, cc->c / cc->group, cc->kh, cc->kw);
  nncl_array zx = qrand(tx, seed + 2, 0, NULL, qmin(tx), qmax(tx));
  nncl_array zw = per_channel ? QRAND(tw, seed + 3, qmin(tw) / 4, qmax(tw) / 4, cc->m)
                              : QRAND(tw, seed + 3, qmin(tw) / 4, qmax(tw) / 4, 1);
  nncl_array xs = TU_RAND(seed + 4, 1),
             ws = per_channel ? TU_RAND(seed + 5, cc->m) : TU_RAND(seed + 5, 1);
  nncl_array ys = TU_RAND(seed + 6, 1),
             yz = qrand(tx, seed + 7, 0, NULL, qmin(tx) / 2, qmax(tx) / 2);
  nncl_array bias = QRAND(NNCL_INT32, seed + 8, -5000, 5000, cc->m);
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
  int32_t *xi = widen(&x), *wi = widen(&w), *zxi = widen(&zx), *zwi = widen(&zw), *yzi = widen(&yz);
  int32_t *bi = widen(&bias);
  int64_t ny = g.n * g.m * g.oh * g.ow;
  int32_t *want = malloc(sizeof(int32_t) * (size_t)ny);
  if (qlinear) {
    const nncl_array *in[] = {&x, &xs, &zx, &w, &ws, &zw, &ys, &yz, &bias};
    tu_run_op("QLinearConv", 10, at, na, with_bias ? 9 : 8, in, 1, &y);
    struct ref_requant rq = {xs.data, ws.data,  ys.data, per_channel ? cc->m : 1,
                             yzi[0],  qmin(tx), qmax(tx)};
    ref_qconv(xi, wi, &g, zxi[0], zwi, per_channel ? cc->m : 1, with_bias ? bi : NULL, &rq, want);
    assert_ints(&y, tx, want, ny, "QLinearConv");
  } else {
    const nncl_array *in[] = {&x, &w, &zx, &zw};
    tu_run_op("ConvInteger", 10, at, na, 4, in, 1, &y);
    ref_qconv(xi, wi, &g, zxi[0], zwi, per_channel ? cc->m : 1, NULL, NULL, want);
    assert_ints(&y, NNCL_INT32, want, ny, "ConvInteger");
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
  nncl_array a = QRAND(NNCL_UINT8, 73, 0, 255, 3, 4), b = QRAND(NNCL_UINT8, 74, 0, 255, 5, 2);
  const nncl_array *in2[] = {&a, &b};
  cr_assert_eq(tu_try_op("MatMulInteger", 10, NULL, 0, 2, in2, 1, &y), NNCL_ERR_SHAPE);
  nncl_array_free(&x), nncl_array_free(&sc), nncl_array_free(&a), nncl_array_free(&b);
}

/* MaxPool on uint8 / int8 (the same max kernels built for the integer type), with and without
   the Indices output; exact. */
static void maxpool_int_case(nncl_dtype t, int with_idx, uint32_t seed) {
  const int64_t n = 2, c = 3, h = 13, w = 10, kh = 3, kw = 2, sh = 2, sw = 1, ph = 1, pw = 0;
  const int64_t oh = (h + 2 * ph - kh) / sh + 1, ow = (w + 2 * pw - kw) / sw + 1;
  nncl_array x = QRAND(t, seed, qmin(t), qmax(t), n, c, h, w);
  const struct nncl__attr at[] = {A_INTS("kernel_shape", kh, kw), A_INTS("strides", sh, sw),
                                  A_INTS("pads", ph, pw, ph, pw)};
  const nncl_array *in[] = {&x};
  nncl_array y[2];
  tu_run_op("MaxPool", 12, at, 3, 1, in, with_idx ? 2 : 1, y);
  int32_t *xi = widen(&x), *want = malloc(sizeof(int32_t) * (size_t)(n * c * oh * ow));
  int64_t *idx = malloc(sizeof(int64_t) * (size_t)(n * c * oh * ow));
  ref_maxpool2d_int(xi, n * c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, qmin(t), want, idx);
  assert_ints(&y[0], t, want, n * c * oh * ow, "MaxPool int");
  if (with_idx) {
    cr_assert_eq(y[1].dtype, NNCL_INT64);
    for (int64_t i = 0; i < n * c * oh * ow; ++i)
      cr_assert_eq(((int64_t *)y[1].data)[i], idx[i], "MaxPool index %lld", (long long)i);
    nncl_array_free(&y[1]);
  }
  free(xi), free(want), free(idx);
  nncl_array_free(&x), nncl_array_free(&y[0]);
}

Test(maxpool_int, uint8) { maxpool_int_case(NNCL_UINT8, 0, 81); }
Test(maxpool_int, int8_with_indices) { maxpool_int_case(NNCL_INT8, 1, 82); }

/* BatchNormalization training_mode = 1 vs the double-precision reference: rtol 1e-4, atol 1e-5
   (float accumulation over up to n * plane elements per channel). */
static void bn_train_case(int64_t n, int64_t c, int64_t h, int64_t w, int n_out, float momentum,
                          uint32_t seed) {
  nncl_array x = TU_RAND(seed, n, c, h, w);
  tu_fill(x.data, (size_t)(n * c * h * w), seed, -3.0f, 5.0f); /* mean far from 0 */
  nncl_array sc = TU_RAND(seed + 1, c), b = TU_RAND(seed + 2, c), m = TU_RAND(seed + 3, c);
  nncl_array v = TU_RAND(seed + 4, c);
  tu_fill(v.data, (size_t)c, seed + 4, 0.5f, 2.0f);
  const struct nncl__attr at[] = {A_INT("training_mode", 1), A_FLOAT("momentum", momentum),
                                  A_FLOAT("epsilon", 1e-3f)};
  const nncl_array *in[] = {&x, &sc, &b, &m, &v};
  nncl_array out[3];
  tu_run_op("BatchNormalization", 15, at, 3, 5, in, n_out, out);
  int64_t total = n * c * h * w;
  float *y = malloc(sizeof(float) * (size_t)total), *rm = malloc(sizeof(float) * (size_t)c);
  float *rv = malloc(sizeof(float) * (size_t)c);
  ref_batchnorm_train(x.data, n, c, h * w, sc.data, b.data, m.data, v.data, 1e-3f, momentum, y, rm,
                      rv);
  tu_assert_close((float *)out[0].data, y, (size_t)total, 1e-4, 1e-5, "BatchNormalization Y");
  if (n_out > 1) tu_assert_close((float *)out[1].data, rm, (size_t)c, 1e-4, 1e-5, "running_mean");
  if (n_out > 2) tu_assert_close((float *)out[2].data, rv, (size_t)c, 1e-4, 1e-5, "running_var");
  free(y), free(rm), free(rv);
  nncl_array_free(&x), nncl_array_free(&sc), nncl_array_free(&b), nncl_array_free(&m),
      nncl_array_free(&v);
  for (int i = 0; i < n_out; ++i) nncl_array_free(&out[i]);
}

Test(batchnorm_train, odd_shape_three_outputs) { bn_train_case(3, 5, 7, 9, 3, 0.9f, 91); }
Test(batchnorm_train, large_plane_y_and_mean_only) { bn_train_case(2, 3, 61, 67, 2, 0.5f, 92); }
Test(batchnorm_train, one_by_one_planes) { bn_train_case(17, 4, 1, 1, 3, 0.99f, 93); }

/* GridSample: every mode x padding x align_corners on odd shapes, grid points reaching 30% past
   the borders. Grid values are multiples of 1/64 so pixel coordinates are exact in float and
   double alike (nearest ties round the same on both sides); rtol 1e-4, atol 1e-5. */
Test(grid_sample, all_modes_paddings_alignments) {
  const int64_t n = 2, c = 3, h = 5, w = 7, oh = 4, ow = 9;
  static const char *const modes[] = {"nearest", "bilinear", "bicubic"};
  static const char *const pads[] = {"zeros", "border", "reflection"};
  nncl_array x = TU_RAND(101, n, c, h, w), g = TU_RAND(102, n, oh, ow, 2);
  uint32_t s = 103;
  for (int64_t i = 0; i < n * oh * ow * 2; ++i)
    ((float *)g.data)[i] = (float)((int)(rng(&s) % 167) - 83) / 64.0f;
  float *want = malloc(sizeof(float) * (size_t)(n * c * oh * ow));
  for (int m = 0; m < 3; ++m)
    for (int p = 0; p < 3; ++p)
      for (int al = 0; al < 2; ++al) {
        const struct nncl__attr at[] = {A_STR("mode", modes[m]), A_STR("padding_mode", pads[p]),
                                        A_INT("align_corners", al)};
        const nncl_array *in[] = {&x, &g};
        nncl_array y;
        tu_run_op("GridSample", 16, at, 3, 2, in, 1, &y);
        cr_assert_eq(y.shape.rank, 4);
        cr_assert(y.shape.dims[2] == oh && y.shape.dims[3] == ow);
        ref_grid_sample(x.data, g.data, n, c, h, w, oh, ow, m, p, al, want);
        char what[96];
        snprintf(what, sizeof(what), "GridSample %s %s align_corners=%d", modes[m], pads[p], al);
        tu_assert_close((float *)y.data, want, (size_t)(n * c * oh * ow), 1e-4, 1e-5, what);
        nncl_array_free(&y);
      }
  free(want);
  nncl_array_free(&x), nncl_array_free(&g);
}

Test(grid_sample, rejects_bad_grid) {
  nncl_array x = TU_RAND(111, 1, 2, 3, 3), g = TU_RAND(112, 1, 4, 4, 3);
  const nncl_array *in[] = {&x, &g};
  nncl_array y;
  cr_assert_eq(tu_try_op("GridSample", 16, NULL, 0, 2, in, 1, &y), NNCL_ERR_SHAPE);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "Grid"));
  nncl_array_free(&x), nncl_array_free(&g);
}
