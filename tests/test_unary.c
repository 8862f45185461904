/* test_unary.c: every unary element-wise op (elementwise_table.h) and Cast against the naive
   references in tests/ref/elementwise_ref.c, on ranks 0..5 including an odd-length vector (the
   float4 tail), size-1 and zero-size dims; int64 variants; attribute and input forms of Clip;
   error messages. Tolerances: rtol 1e-5 for algebraic ops, 1e-4 for exp/erf/trig-based ones
   (OpenCL allows a few ulp for built-ins, and the op then amplifies it). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/elementwise_ref.h"
#include "test_util.h"

static const int64_t shapes[][6] = {
    /* rank, dims... */
    {0}, {1, 1037}, {3, 3, 5, 7}, {4, 2, 3, 1, 5}, {5, 2, 1, 3, 2, 5}, {2, 0, 3},
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

static nncl_array scalar(nncl_dtype t) { return tu_zeros(t, 0, (int64_t[]){1}); }

static nncl_array shape_rand(int si, uint32_t seed, float lo, float hi) {
  nncl_array a = tu_rand(seed, (int)shapes[si][0], &shapes[si][1]);
  tu_fill(a.data, (size_t)nncl_shape_numel(&a.shape), seed, lo, hi);
  return a;
}

struct ucase {
  const char *op;
  float lo, hi;
  double rtol;
  int n_attrs;
  struct nncl__attr attrs[2];
  double alpha, beta; /* reference parameters */
};

static const struct ucase cases[] = {
    {"Relu", -3, 3, 1e-6, 0, {{0}}, 0, 0},
    {"LeakyRelu", -3, 3, 1e-6, 1, {A_FLOAT("alpha", 0.1f)}, 0.1f, 0},
    {"LeakyRelu", -3, 3, 1e-6, 0, {{0}}, 0.01f, 0},
    {"Elu", -3, 3, 1e-4, 1, {A_FLOAT("alpha", 0.7f)}, 0.7f, 0},
    {"Selu", -3, 3, 1e-4, 0, {{0}}, 1.67326319217681884765625, 1.05070102214813232421875},
    {"Selu", -3, 3, 1e-4, 2, {A_FLOAT("alpha", 2.0f), A_FLOAT("gamma", 0.5f)}, 2.0, 0.5},
    {"Celu", -3, 3, 1e-4, 1, {A_FLOAT("alpha", 2.0f)}, 2.0, 0},
    {"Sigmoid", -8, 8, 1e-4, 0, {{0}}, 0, 0},
    {"HardSigmoid", -5, 5, 1e-5, 2, {A_FLOAT("alpha", 0.3f), A_FLOAT("beta", 0.4f)}, 0.3f, 0.4f},
    {"HardSwish", -5, 5, 1e-5, 0, {{0}}, 0, 0},
    {"Tanh", -4, 4, 1e-4, 0, {{0}}, 0, 0},
    {"Softplus", -20, 20, 1e-4, 0, {{0}}, 0, 0},
    {"Softsign", -5, 5, 1e-5, 0, {{0}}, 0, 0},
    {"ThresholdedRelu", -3, 3, 1e-6, 1, {A_FLOAT("alpha", 0.5f)}, 0.5f, 0},
    {"Gelu", -4, 4, 1e-4, 0, {{0}}, 0, 0},
    {"Gelu", -4, 4, 1e-4, 1, {A_STR("approximate", "tanh")}, 1, 0},
    {"Exp", -5, 5, 1e-4, 0, {{0}}, 0, 0},
    {"Log", 0.01f, 5, 1e-4, 0, {{0}}, 0, 0},
    {"Sqrt", 0, 5, 1e-5, 0, {{0}}, 0, 0},
    {"Reciprocal", 0.1f, 5, 1e-5, 0, {{0}}, 0, 0},
    {"Neg", -3, 3, 0, 0, {{0}}, 0, 0},
    {"Abs", -3, 3, 0, 0, {{0}}, 0, 0},
    {"Sign", -3, 3, 0, 0, {{0}}, 0, 0},
    {"Erf", -3, 3, 1e-4, 0, {{0}}, 0, 0},
    {"Floor", -3, 3, 0, 0, {{0}}, 0, 0},
    {"Ceil", -3, 3, 0, 0, {{0}}, 0, 0},
    {"Round", -3, 3, 0, 0, {{0}}, 0, 0},
    {"Sin", -6, 6, 1e-4, 0, {{0}}, 0, 0},
    {"Cos", -6, 6, 1e-4, 0, {{0}}, 0, 0},
    {"Tan", -1.2f, 1.2f, 1e-4, 0, {{0}}, 0, 0},
    {"Asin", -0.95f, 0.95f, 1e-4, 0, {{0}}, 0, 0},
    {"Acos", -0.95f, 0.95f, 1e-4, 0, {{0}}, 0, 0},
    {"Atan", -5, 5, 1e-4, 0, {{0}}, 0, 0},
    {"Sinh", -4, 4, 1e-4, 0, {{0}}, 0, 0},
    {"Cosh", -4, 4, 1e-4, 0, {{0}}, 0, 0},
    {"Asinh", -5, 5, 1e-4, 0, {{0}}, 0, 0},
    {"Acosh", 1.05f, 5, 1e-4, 0, {{0}}, 0, 0},
    {"Atanh", -0.95f, 0.95f, 1e-4, 0, {{0}}, 0, 0},
    {"Clip", -3, 3, 0, 2, {A_FLOAT("min", -0.5f), A_FLOAT("max", 1.5f)}, -0.5f, 1.5f},
};

/* The worst relative error over all shapes is printed so the stated tolerances stay honest. */
Test(unary, every_table_op_matches_reference) {
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    const struct ucase *uc = &cases[ci];
    double worst = 0;
    for (int si = 0; si < (int)N_SHAPES; si++) {
      nncl_array x = shape_rand(si, (uint32_t)(ci * 31 + (size_t)si + 1), uc->lo, uc->hi), y;
      const nncl_array *in[] = {&x};
      /* Clip's attributes are its opset < 11 form */
      tu_run_op(uc->op, strcmp(uc->op, "Clip") == 0 ? 6 : 17, uc->attrs, uc->n_attrs, 1, in, 1, &y);
      size_t n = (size_t)nncl_shape_numel(&x.shape);
      cr_assert_eq(y.shape.rank, x.shape.rank);
      cr_assert_eq(y.dtype, NNCL_FLOAT32);
      float *want = malloc((n + 1) * sizeof *want);
      for (size_t i = 0; i < n; i++) {
        double r;
        cr_assert(ref_unary(uc->op, ((float *)x.data)[i], uc->alpha, uc->beta, &r));
        want[i] = (float)r;
      }
      char what[96];
      snprintf(what, sizeof what, "%s case %zu shape %d", uc->op, ci, si);
      tu_assert_close((float *)y.data, want, n, uc->rtol, 1e-6, what);
      double e = tu_max_rel_error(y.data, want, n);
      if (e > worst) worst = e;
      free(want);
      nncl_array_free(&x);
      nncl_array_free(&y);
    }
    cr_log_info("%-16s max relative error %.3g", uc->op, worst);
  }
}

Test(unary, round_half_to_even_and_special_values) {
  float v[] = {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 3.7f, -3.2f};
  nncl_array x = TU_ZEROS(NNCL_FLOAT32, 8), y;
  memcpy(x.data, v, sizeof v);
  const nncl_array *in[] = {&x};
  tu_run_op("Round", 17, NULL, 0, 1, in, 1, &y);
  float want[] = {-2, -2, -0.0f, 0, 2, 2, 4, -3};
  tu_assert_close((float *)y.data, want, 8, 0, 0, "Round");
  nncl_array_free(&y);
  /* NaN passes through Relu and Clip; IsNaN finds it */
  ((float *)x.data)[3] = NAN;
  tu_run_op("Relu", 14, NULL, 0, 1, in, 1, &y);
  cr_assert(isnan(((float *)y.data)[3]));
  nncl_array_free(&y);
  tu_run_op("IsNaN", 13, NULL, 0, 1, in, 1, &y);
  cr_assert_eq(y.dtype, NNCL_BOOL);
  for (int i = 0; i < 8; i++) cr_assert_eq(((uint8_t *)y.data)[i], i == 3);
  nncl_array_free(&y);
  /* Sigmoid saturates cleanly at extremes */
  float big[] = {-100, 100, -1e30f, 1e30f, 0, 0, 0, 0};
  memcpy(x.data, big, sizeof big);
  tu_run_op("Sigmoid", 13, NULL, 0, 1, in, 1, &y);
  float ws[] = {0, 1, 0, 1, 0.5f, 0.5f, 0.5f, 0.5f};
  tu_assert_close((float *)y.data, ws, 8, 1e-6, 1e-30, "Sigmoid extremes");
  nncl_array_free(&y);
  nncl_array_free(&x);
}

Test(unary, clip_inputs_opset11_and_int64) {
  nncl_array x = TU_RAND(5, 4, 257), lo = scalar(NNCL_FLOAT32), hi = scalar(NNCL_FLOAT32);
  ((float *)lo.data)[0] = -0.25f;
  ((float *)hi.data)[0] = 0.5f;
  size_t n = 4 * 257;
  float *want = malloc(n * sizeof *want);
  nncl_array y;
  /* both bounds, min only, max only (absent inputs are NULL) */
  const nncl_array *forms[3][3] = {{&x, &lo, &hi}, {&x, &lo, NULL}, {&x, NULL, &hi}};
  for (int f = 0; f < 3; f++) {
    tu_run_op("Clip", 13, NULL, 0, 3, forms[f], 1, &y);
    for (size_t i = 0; i < n; i++) {
      double r;
      ref_unary("Clip", ((float *)x.data)[i], forms[f][1] ? -0.25 : -INFINITY,
                forms[f][2] ? 0.5 : INFINITY, &r);
      want[i] = (float)r;
    }
    tu_assert_close((float *)y.data, want, n, 0, 0, "Clip inputs");
    nncl_array_free(&y);
  }
  /* int64 */
  nncl_array xi = TU_ZEROS(NNCL_INT64, 3, 11), li = TU_I64(-3), hi64 = TU_I64(4000000000LL);
  li.shape.rank = 0;
  hi64.shape.rank = 0;
  for (int i = 0; i < 33; i++) ((int64_t *)xi.data)[i] = (i - 16) * 300000000LL;
  const nncl_array *ini[] = {&xi, &li, &hi64};
  tu_run_op("Clip", 12, NULL, 0, 3, ini, 1, &y);
  cr_assert_eq(y.dtype, NNCL_INT64);
  for (int i = 0; i < 33; i++) {
    int64_t v = (i - 16) * 300000000LL, w = v < -3 ? -3 : v > 4000000000LL ? 4000000000LL : v;
    cr_assert_eq(((int64_t *)y.data)[i], w, "element %d", i);
  }
  nncl_array_free(&y);
  free(want);
  nncl_array_free(&x);
  nncl_array_free(&lo);
  nncl_array_free(&hi);
  nncl_array_free(&xi);
  nncl_array_free(&li);
  nncl_array_free(&hi64);
}

Test(unary, int64_ops) {
  const char *ops[] = {"Relu", "Neg", "Abs", "Sign"};
  nncl_array x = TU_ZEROS(NNCL_INT64, 2, 3, 7), y;
  for (int i = 0; i < 21; i++) ((int64_t *)x.data)[i] = (int64_t)(i - 10) * 123456789012LL;
  const nncl_array *in[] = {&x};
  for (int k = 0; k < 4; k++) {
    tu_run_op(ops[k], 14, NULL, 0, 1, in, 1, &y);
    cr_assert_eq(y.dtype, NNCL_INT64);
    for (int i = 0; i < 21; i++) {
      int64_t v = ((int64_t *)x.data)[i];
      int64_t w = k == 0   ? (v > 0 ? v : 0)
                  : k == 1 ? -v
                  : k == 2 ? (v < 0 ? -v : v)
                           : (v > 0) - (v < 0);
      cr_assert_eq(((int64_t *)y.data)[i], w, "%s element %d", ops[k], i);
    }
    nncl_array_free(&y);
  }
  nncl_array_free(&x);
}

Test(unary, not_bool) {
  nncl_array x = TU_ZEROS(NNCL_BOOL, 2, 2, 9), y;
  for (int i = 0; i < 18; i++) ((uint8_t *)x.data)[i] = (uint8_t)(i % 3 == 0);
  const nncl_array *in[] = {&x};
  tu_run_op("Not", 1, NULL, 0, 1, in, 1, &y);
  cr_assert_eq(y.dtype, NNCL_BOOL);
  for (int i = 0; i < 18; i++) cr_assert_eq(((uint8_t *)y.data)[i], i % 3 != 0);
  nncl_array_free(&y);
  nncl_array_free(&x);
}

Test(unary, errors_name_op_and_types) {
  nncl_array b = TU_ZEROS(NNCL_BOOL, 1, 4), x = TU_RAND(1, 2, 3), m = TU_RAND(2, 2), y;
  const nncl_array *in[] = {&b};
  cr_assert_eq(tu_try_op("Sigmoid", 13, NULL, 0, 1, in, 1, &y), NNCL_ERR_DTYPE);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "Sigmoid") && strstr(msg, "bool"), "%s", msg);
  const nncl_array *ci[] = {&x, &m};
  cr_assert_eq(tu_try_op("Clip", 13, NULL, 0, 2, ci, 1, &y), NNCL_ERR_SHAPE);
  msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "Clip") && strstr(msg, "min") && strstr(msg, "[2]"), "%s", msg);
  struct nncl__attr ap = A_STR("approximate", "cubic");
  const nncl_array *xi[] = {&x};
  cr_assert_eq(tu_try_op("Gelu", 20, &ap, 1, 1, xi, 1, &y), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "cubic"));
  nncl_array_free(&b);
  nncl_array_free(&x);
  nncl_array_free(&m);
}

/* ---- Cast ---- */

static nncl_array cast(const nncl_array *x, int to) {
  struct nncl__attr a = A_INT("to", to);
  const nncl_array *in[] = {x};
  nncl_array y;
  tu_run_op("Cast", 13, &a, 1, 1, in, 1, &y);
  return y;
}

Test(cast, float_int_bool_round_trips) {
  nncl_array x = TU_RAND(3, 5, 103);
  size_t n = 515;
  float *xf = x.data;
  for (size_t i = 0; i < n; i++) xf[i] *= 1000.0f;
  xf[0] = 0;
  xf[1] = -0.0f;
  xf[2] = -2.7f;
  xf[3] = 2.7f;
  nncl_array l = cast(&x, 7);
  cr_assert_eq(l.dtype, NNCL_INT64);
  for (size_t i = 0; i < n; i++) cr_assert_eq(((int64_t *)l.data)[i], (int64_t)xf[i], "%zu", i);
  nncl_array i32 = cast(&l, 6);
  cr_assert_eq(i32.dtype, NNCL_INT32);
  for (size_t i = 0; i < n; i++) cr_assert_eq(((int32_t *)i32.data)[i], (int32_t)xf[i]);
  nncl_array back = cast(&i32, 1);
  cr_assert_eq(back.dtype, NNCL_FLOAT32);
  for (size_t i = 0; i < n; i++) cr_assert_eq(((float *)back.data)[i], (float)(int32_t)xf[i]);
  nncl_array b = cast(&x, 9);
  cr_assert_eq(b.dtype, NNCL_BOOL);
  for (size_t i = 0; i < n; i++) cr_assert_eq(((uint8_t *)b.data)[i], xf[i] != 0);
  nncl_array bf = cast(&b, 1);
  for (size_t i = 0; i < n; i++) cr_assert_eq(((float *)bf.data)[i], xf[i] != 0 ? 1.0f : 0.0f);
  nncl_array same = cast(&x, 1);
  tu_assert_close((float *)same.data, xf, n, 0, 0, "Cast to the same type");
  nncl_array u8 = cast(&l, 2);
  cr_assert_eq(u8.dtype, NNCL_UINT8);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(((uint8_t *)u8.data)[i], (uint8_t)((int64_t *)l.data)[i]);
  /* CastLike takes the second input's type */
  const nncl_array *cl_in[] = {&l, &x};
  nncl_array lf;
  tu_run_op("CastLike", 15, NULL, 0, 2, cl_in, 1, &lf);
  cr_assert_eq(lf.dtype, NNCL_FLOAT32);
  for (size_t i = 0; i < n; i++) cr_assert_eq(((float *)lf.data)[i], (float)((int64_t *)l.data)[i]);
  nncl_array *all[] = {&x, &l, &i32, &back, &b, &bf, &same, &u8, &lf};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) nncl_array_free(all[i]);
}

Test(cast, zero_size_scalar_and_errors) {
  nncl_array z = TU_ZEROS(NNCL_FLOAT32, 3, 0, 4), s = scalar(NNCL_INT64), y;
  ((int64_t *)s.data)[0] = -7;
  y = cast(&z, 7);
  cr_assert_eq(y.shape.rank, 3);
  cr_assert_eq(y.shape.dims[1], 0);
  nncl_array_free(&y);
  y = cast(&s, 1);
  cr_assert_eq(y.shape.rank, 0);
  cr_assert_eq(((float *)y.data)[0], -7.0f);
  nncl_array_free(&y);
  struct nncl__attr a = A_INT("to", 11);
  const nncl_array *in[] = {&z};
  cr_assert_eq(tu_try_op("Cast", 13, &a, 1, 1, in, 1, &y), NNCL_ERR_UNSUPPORTED);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "to=11"));
  nncl_array_free(&z);
  nncl_array_free(&s);
}

/* Clip whose min/max are computed on the device (no host value at plan time): the kernel reads
   the bounds from device memory. Re-plans an instance with the host values hidden. */
Test(unary, clip_bounds_read_on_device) {
  nncl_array x = TU_RAND(8, 3, 101), lo = scalar(NNCL_FLOAT32), hi = scalar(NNCL_FLOAT32), y;
  ((float *)lo.data)[0] = -0.3f;
  ((float *)hi.data)[0] = 0.2f;
  const nncl_array *in[] = {&x, &lo, &hi};
  struct op_instance *oi;
  cr_assert_eq(op_instance_create(tu_ctx(), "Clip", 13, NULL, 0, 3, in, 1, NULL, NULL, &oi),
               NNCL_OK);
  struct op_call *c = op_instance_call(oi);
  c->def->release(c);
  c->in[1].host = c->in[2].host = NULL;
  size_t ws = 0;
  cr_assert_eq(c->def->plan(c, &ws), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_eq(op_instance_enqueue(oi), NNCL_OK);
  cr_assert_eq(op_instance_read(oi, &y), NNCL_OK);
  float want[303];
  for (int i = 0; i < 303; i++) {
    double r;
    ref_unary("Clip", ((float *)x.data)[i], -0.3f, 0.2f, &r);
    want[i] = (float)r;
  }
  tu_assert_close((float *)y.data, want, 303, 0, 0, "Clip with device bounds");
  op_instance_destroy(oi);
  nncl_array_free(&y);
  nncl_array_free(&x);
  nncl_array_free(&lo);
  nncl_array_free(&hi);
}
