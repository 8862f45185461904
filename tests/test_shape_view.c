/* test_shape_view.c: the view ops (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout),
   the plan-time value ops (Constant, ConstantOfShape, Shape, Size, Range) and a PyTorch-style
   shape subgraph (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) that must resolve on the
   host during inference. Shapes and values are checked exactly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_shape_util.h"

/* Runs a view op on x and checks the output shape and that the data is unchanged. */
static void check_view(const char *op, int opset, const struct nncl__attr *attrs, int n_attrs,
                       const nncl_array *x, const nncl_array *second, nncl_shape want) {
  const nncl_array *in[] = {x, second};
  nncl_array out;
  sh_run(op, opset, attrs, n_attrs, second ? 2 : 1, in, 1, &out, NULL);
  char what[64];
  snprintf(what, sizeof what, "%s (opset %d)", op, opset);
  sh_assert_equal(&out, x->data, &want, what);
  nncl_array_free(&out);
}

Test(reshape, zero_minus_one_allowzero) {
  nncl_shape s = SH_SHAPE(2, 3, 4);
  nncl_array x = sh_rand_array(NNCL_FLOAT32, 1, &s);
  struct {
    nncl_array shape;
    nncl_shape want;
  } cases[] = {
      {TU_I64(4, 6), SH_SHAPE(4, 6)},
      {TU_I64(0, -1), SH_SHAPE(2, 12)},
      {TU_I64(-1), SH_SHAPE(24)},
      {TU_I64(0, 0, 2, 2), SH_SHAPE(2, 3, 2, 2)},
      {TU_I64(2, -1, 4, 1), SH_SHAPE(2, 3, 4, 1)},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    check_view("Reshape", 13, NULL, 0, &x, &cases[i].shape, cases[i].want);
    nncl_array_free(&cases[i].shape);
  }
  /* allowzero: a 0 stays 0 (needs an empty input) */
  nncl_shape es = SH_SHAPE(0, 3);
  nncl_array e = sh_rand_array(NNCL_INT64, 2, &es), sh = TU_I64(3, 0);
  struct nncl__attr az = A_INT("allowzero", 1);
  check_view("Reshape", 14, &az, 1, &e, &sh, SH_SHAPE(3, 0));
  nncl_array_free(&sh);
  nncl_array_free(&e);
  nncl_array_free(&x);
}

Test(reshape, errors_name_node_and_shapes) {
  nncl_array x = TU_RAND(1, 2, 3), a = TU_I64(-1, -1), b = TU_I64(5, -1), c = TU_I64(4, 2);
  const nncl_array *in[] = {&x, &a};
  sh_expect_error("Reshape", 13, NULL, 0, 2, in, 1, NNCL_ERR_SHAPE, "more than one -1", NULL);
  in[1] = &b;
  sh_expect_error("Reshape", 13, NULL, 0, 2, in, 1, NNCL_ERR_SHAPE, "[2, 3]", "-1");
  in[1] = &c;
  sh_expect_error("Reshape", 13, NULL, 0, 2, in, 1, NNCL_ERR_SHAPE, "[2, 3]", "[4, 2]");
  nncl_array_free(&x);
  nncl_array_free(&a);
  nncl_array_free(&b);
  nncl_array_free(&c);
}

Test(flatten, axes) {
  nncl_shape s = SH_SHAPE(2, 3, 4, 5);
  nncl_array x = sh_rand_array(NNCL_UINT8, 3, &s);
  int64_t axes[] = {0, 1, 2, 4, -1, -4};
  nncl_shape want[] = {SH_SHAPE(1, 120), SH_SHAPE(2, 60), SH_SHAPE(6, 20),
                       SH_SHAPE(120, 1), SH_SHAPE(24, 5), SH_SHAPE(1, 120)};
  for (int i = 0; i < 6; i++) {
    struct nncl__attr a = A_INT("axis", axes[i]);
    check_view("Flatten", 13, &a, 1, &x, NULL, want[i]);
  }
  check_view("Flatten", 13, NULL, 0, &x, NULL, SH_SHAPE(2, 60));
  const nncl_array *in[] = {&x};
  struct nncl__attr bad = A_INT("axis", 5);
  sh_expect_error("Flatten", 13, &bad, 1, 1, in, 1, NNCL_ERR_INVALID_ARGUMENT, "axis 5", "rank 4");
  nncl_array_free(&x);
}

Test(squeeze_unsqueeze, attribute_and_input_forms) {
  nncl_shape s = SH_SHAPE(1, 3, 1, 5);
  nncl_array x = sh_rand_array(NNCL_FLOAT32, 4, &s);
  struct nncl__attr a = A_INTS("axes", 0, -2);
  check_view("Squeeze", 11, &a, 1, &x, NULL, SH_SHAPE(3, 5));
  check_view("Squeeze", 13, NULL, 0, &x, NULL, SH_SHAPE(3, 5));
  nncl_array ax = TU_I64(2);
  check_view("Squeeze", 13, NULL, 0, &x, &ax, SH_SHAPE(1, 3, 5));
  struct nncl__attr u = A_INTS("axes", 0, 5);
  check_view("Unsqueeze", 11, &u, 1, &x, NULL, SH_SHAPE(1, 1, 3, 1, 5, 1));
  nncl_array ux = TU_I64(-1, 1);
  check_view("Unsqueeze", 13, NULL, 0, &x, &ux, SH_SHAPE(1, 1, 3, 1, 5, 1));
  nncl_shape s0 = {.rank = 0};
  nncl_array sc = sh_rand_array(NNCL_INT64, 5, &s0), z = TU_I64(0);
  check_view("Unsqueeze", 13, NULL, 0, &sc, &z, SH_SHAPE(1));
  /* errors */
  const nncl_array *in[] = {&x, &ax};
  nncl_array bad = TU_I64(1);
  in[1] = &bad;
  sh_expect_error("Squeeze", 13, NULL, 0, 2, in, 1, NNCL_ERR_SHAPE, "[1, 3, 1, 5]", "size 3");
  nncl_array rep = TU_I64(0, -6);
  in[1] = &rep;
  sh_expect_error("Unsqueeze", 13, NULL, 0, 2, in, 1, NNCL_ERR_INVALID_ARGUMENT, "repeated", NULL);
  nncl_array_free(&x);
  nncl_array_free(&ax);
  nncl_array_free(&ux);
  nncl_array_free(&sc);
  nncl_array_free(&z);
  nncl_array_free(&bad);
  nncl_array_free(&rep);
}

Test(identity_dropout, passthrough_and_mask) {
  nncl_shape s = SH_SHAPE(3, 7);
  nncl_array x = sh_rand_array(NNCL_FLOAT32, 6, &s);
  check_view("Identity", 13, NULL, 0, &x, NULL, s);
  check_view("Dropout", 13, NULL, 0, &x, NULL, s);
  /* opset 12+: bool mask, all true */
  const nncl_array *in[] = {&x};
  nncl_array out[2];
  sh_run("Dropout", 13, NULL, 0, 1, in, 2, out, NULL);
  sh_assert_equal(&out[0], x.data, &s, "Dropout output");
  cr_assert_eq(out[1].dtype, NNCL_BOOL);
  for (int i = 0; i < 21; i++) cr_assert_eq(((uint8_t *)out[1].data)[i], 1, "mask element %d", i);
  sh_free(out, 2);
  /* opset 7: mask in the data type */
  struct nncl__attr r = A_FLOAT("ratio", 0.3f);
  sh_run("Dropout", 7, &r, 1, 1, in, 2, out, NULL);
  cr_assert_eq(out[1].dtype, NNCL_FLOAT32);
  for (int i = 0; i < 21; i++) cr_assert_eq(((float *)out[1].data)[i], 1.0f);
  sh_free(out, 2);
  /* training mode with a ratio is refused rather than silently ignored */
  nncl_shape s0 = {.rank = 0};
  nncl_array ratio = sh_rand_array(NNCL_FLOAT32, 1, &s0), tm;
  *(float *)ratio.data = 0.5f;
  nncl_array_alloc(&tm, NNCL_BOOL, &s0);
  *(uint8_t *)tm.data = 1;
  const nncl_array *in3[] = {&x, &ratio, &tm};
  sh_expect_error("Dropout", 13, NULL, 0, 3, in3, 1, NNCL_ERR_UNSUPPORTED, "training", NULL);
  nncl_array_free(&ratio);
  nncl_array_free(&tm);
  nncl_array_free(&x);
}

/* ---- plan-time values ---- */
Test(constant, all_attribute_forms) {
  nncl_array out;
  int had_host = 0;
  nncl_shape s = SH_SHAPE(2, 3);
  nncl_array v = sh_rand_array(NNCL_FLOAT32, 9, &s);
  struct nncl__attr t = {.name = "value", .type = ATTR_TENSOR, .t = &v};
  sh_run("Constant", 13, &t, 1, 0, NULL, 1, &out, &had_host);
  cr_assert(had_host, "Constant must be known at plan time");
  sh_assert_equal(&out, v.data, &s, "Constant value");
  nncl_array_free(&out);
  nncl_array_free(&v);
  struct nncl__attr f = A_FLOAT("value_float", 1.5f);
  sh_run("Constant", 13, &f, 1, 0, NULL, 1, &out, NULL);
  nncl_shape s0 = {.rank = 0};
  sh_assert_equal(&out, (float[]){1.5f}, &s0, "value_float");
  nncl_array_free(&out);
  struct nncl__attr is = A_INTS("value_ints", 4, -5, 6);
  sh_run("Constant", 13, &is, 1, 0, NULL, 1, &out, NULL);
  nncl_shape s3 = SH_SHAPE(3);
  sh_assert_equal(&out, (int64_t[]){4, -5, 6}, &s3, "value_ints");
  nncl_array_free(&out);
  struct nncl__attr fs = A_FLOATS("value_floats", 0.25f, -2.0f);
  sh_run("Constant", 13, &fs, 1, 0, NULL, 1, &out, NULL);
  nncl_shape s2 = SH_SHAPE(2);
  sh_assert_equal(&out, (float[]){0.25f, -2.0f}, &s2, "value_floats");
  nncl_array_free(&out);
  struct nncl__attr i1 = A_INT("value_int", -9);
  sh_run("Constant", 13, &i1, 1, 0, NULL, 1, &out, NULL);
  sh_assert_equal(&out, (int64_t[]){-9}, &s0, "value_int");
  nncl_array_free(&out);
}

Test(constant_of_shape, small_large_and_empty) {
  nncl_array out;
  int had_host = 0;
  nncl_array sh = TU_I64(2, 3);
  const nncl_array *in[] = {&sh};
  sh_run("ConstantOfShape", 13, NULL, 0, 1, in, 1, &out, &had_host);
  cr_assert(had_host);
  float zeros[6] = {0};
  nncl_shape s = SH_SHAPE(2, 3);
  sh_assert_equal(&out, zeros, &s, "ConstantOfShape default");
  nncl_array_free(&out);
  nncl_array_free(&sh);
  /* large: filled on the device only */
  nncl_shape one = SH_SHAPE(1);
  nncl_array v;
  nncl_array_alloc(&v, NNCL_INT64, &one);
  *(int64_t *)v.data = -3;
  struct nncl__attr a = {.name = "value", .type = ATTR_TENSOR, .t = &v};
  sh = TU_I64(40, 50);
  sh_run("ConstantOfShape", 13, &a, 1, 1, in, 1, &out, &had_host);
  cr_assert(!had_host, "a 2000-element ConstantOfShape should not be materialised on the host");
  int64_t *want = malloc(2000 * sizeof *want);
  for (int i = 0; i < 2000; i++) want[i] = -3;
  nncl_shape ls = SH_SHAPE(40, 50);
  sh_assert_equal(&out, want, &ls, "ConstantOfShape int64 fill");
  free(want);
  nncl_array_free(&out);
  nncl_array_free(&sh);
  sh = TU_I64(4, 0);
  sh_run("ConstantOfShape", 13, &a, 1, 1, in, 1, &out, NULL);
  nncl_shape es = SH_SHAPE(4, 0);
  sh_assert_equal(&out, NULL, &es, "ConstantOfShape empty");
  nncl_array_free(&out);
  nncl_array_free(&sh);
  nncl_array_free(&v);
}

Test(shape_size, start_end_and_size) {
  nncl_shape s = SH_SHAPE(2, 3, 4, 5);
  nncl_array x = sh_rand_array(NNCL_FLOAT32, 1, &s), out;
  const nncl_array *in[] = {&x};
  int had_host = 0;
  sh_run("Shape", 13, NULL, 0, 1, in, 1, &out, &had_host);
  cr_assert(had_host);
  nncl_shape s4 = SH_SHAPE(4);
  sh_assert_equal(&out, (int64_t[]){2, 3, 4, 5}, &s4, "Shape");
  nncl_array_free(&out);
  struct {
    int64_t start, end;
    int n;
    int64_t want[4];
  } cases[] = {{1, 3, 2, {3, 4}}, {-1, 100, 1, {5}}, {-10, -2, 2, {2, 3}}, {3, 1, 0, {0}}};
  for (int i = 0; i < 4; i++) {
    struct nncl__attr a[] = {A_INT("start", cases[i].start), A_INT("end", cases[i].end)};
    sh_run("Shape", 15, a, 2, 1, in, 1, &out, NULL);
    nncl_shape ws = SH_SHAPE(cases[i].n);
    sh_assert_equal(&out, cases[i].want, &ws, "Shape start/end");
    nncl_array_free(&out);
  }
  sh_run("Size", 13, NULL, 0, 1, in, 1, &out, &had_host);
  nncl_shape s0 = {.rank = 0};
  sh_assert_equal(&out, (int64_t[]){120}, &s0, "Size");
  nncl_array_free(&out);
  nncl_array_free(&x);
}

Test(range, float_int32_int64) {
  nncl_shape s0 = {.rank = 0};
  nncl_array a, b, c, out;
  nncl_array_alloc(&a, NNCL_FLOAT32, &s0);
  nncl_array_alloc(&b, NNCL_FLOAT32, &s0);
  nncl_array_alloc(&c, NNCL_FLOAT32, &s0);
  *(float *)a.data = 1.0f;
  *(float *)b.data = 5.0f;
  *(float *)c.data = 1.5f;
  const nncl_array *in[] = {&a, &b, &c};
  sh_run("Range", 11, NULL, 0, 3, in, 1, &out, NULL);
  nncl_shape s3 = SH_SHAPE(3);
  sh_assert_equal(&out, (float[]){1.0f, 2.5f, 4.0f}, &s3, "Range float");
  nncl_array_free(&out);
  sh_free((nncl_array[]){a, b, c}, 3);
  nncl_array_alloc(&a, NNCL_INT32, &s0);
  nncl_array_alloc(&b, NNCL_INT32, &s0);
  nncl_array_alloc(&c, NNCL_INT32, &s0);
  *(int32_t *)a.data = 10;
  *(int32_t *)b.data = 6;
  *(int32_t *)c.data = -3;
  sh_run("Range", 11, NULL, 0, 3, in, 1, &out, NULL);
  nncl_shape s2 = SH_SHAPE(2);
  sh_assert_equal(&out, (int32_t[]){10, 7}, &s2, "Range int32 negative delta");
  nncl_array_free(&out);
  sh_free((nncl_array[]){a, b, c}, 3);
  a = sh_i64_scalar(0);
  b = sh_i64_scalar(7);
  c = sh_i64_scalar(1);
  sh_run("Range", 11, NULL, 0, 3, in, 1, &out, NULL);
  nncl_shape s7 = SH_SHAPE(7);
  sh_assert_equal(&out, (int64_t[]){0, 1, 2, 3, 4, 5, 6}, &s7, "Range int64");
  nncl_array_free(&out);
  *(int64_t *)c.data = -1; /* empty */
  sh_run("Range", 11, NULL, 0, 3, in, 1, &out, NULL);
  nncl_shape e = SH_SHAPE(0);
  sh_assert_equal(&out, NULL, &e, "Range empty");
  nncl_array_free(&out);
  sh_free((nncl_array[]){a, b, c}, 3);
}

/* ---- a PyTorch export's shape subgraph: x.view(x.size(0), x.size(1), -1) ---- */
Test(subgraph, shape_gather_unsqueeze_concat_reshape) {
  nncl_shape s = SH_SHAPE(2, 3, 4, 5);
  nncl_array x = sh_rand_array(NNCL_FLOAT32, 2, &s), shp, n, c, nu, cu, minus1, cat, out;
  int had_host;
  const nncl_array *in1[] = {&x};
  sh_run("Shape", 13, NULL, 0, 1, in1, 1, &shp, &had_host);
  cr_assert(had_host);
  nncl_array i0 = sh_i64_scalar(0), i1 = sh_i64_scalar(-3), ax0 = TU_I64(0);
  const nncl_array *g0[] = {&shp, &i0}, *g1[] = {&shp, &i1};
  sh_run("Gather", 13, NULL, 0, 2, g0, 1, &n, &had_host);
  cr_assert(had_host, "Gather of a constant shape must resolve in infer");
  sh_run("Gather", 13, NULL, 0, 2, g1, 1, &c, &had_host);
  nncl_shape s0 = {.rank = 0}, s1 = SH_SHAPE(1), s3 = SH_SHAPE(3);
  sh_assert_equal(&n, (int64_t[]){2}, &s0, "Gather(shape, 0)");
  sh_assert_equal(&c, (int64_t[]){3}, &s0, "Gather(shape, -3)");
  const nncl_array *u0[] = {&n, &ax0}, *u1[] = {&c, &ax0};
  sh_run("Unsqueeze", 13, NULL, 0, 2, u0, 1, &nu, &had_host);
  cr_assert(had_host);
  sh_run("Unsqueeze", 13, NULL, 0, 2, u1, 1, &cu, &had_host);
  sh_assert_equal(&cu, (int64_t[]){3}, &s1, "Unsqueeze");
  minus1 = TU_I64(-1);
  struct nncl__attr axis = A_INT("axis", 0);
  const nncl_array *cc[] = {&nu, &cu, &minus1};
  sh_run("Concat", 13, &axis, 1, 3, cc, 1, &cat, &had_host);
  cr_assert(had_host, "Concat of constant int64 must resolve in infer");
  sh_assert_equal(&cat, (int64_t[]){2, 3, -1}, &s3, "Concat");
  const nncl_array *r[] = {&x, &cat};
  sh_run("Reshape", 13, NULL, 0, 2, r, 1, &out, NULL);
  nncl_shape want = SH_SHAPE(2, 3, 20);
  sh_assert_equal(&out, x.data, &want, "Reshape by computed shape");
  /* Slice and Squeeze of a shape, as in x.shape[-2:] */
  nncl_array st = TU_I64(-2), en = TU_I64(INT64_MAX), sl;
  const nncl_array *si[] = {&shp, &st, &en};
  sh_run("Slice", 13, NULL, 0, 3, si, 1, &sl, &had_host);
  cr_assert(had_host);
  nncl_shape s2 = SH_SHAPE(2);
  sh_assert_equal(&sl, (int64_t[]){4, 5}, &s2, "Slice of a shape");
  sh_free((nncl_array[]){x, shp, n, c, nu, cu, minus1, cat, out, i0, i1, ax0, st, en, sl}, 15);
}

Test(subgraph, non_constant_shape_input_is_refused) {
  /* Through op_run every input is constant; call infer directly with a runtime shape. */
  nncl_array x = TU_RAND(1, 2, 3);
  struct op_tensor t[3] = {{.dtype = NNCL_FLOAT32, .shape = x.shape},
                           {.dtype = NNCL_INT64, .shape = SH_SHAPE(2)}};
  struct op_call c = {.ctx = tu_ctx(),
                      .op_type = "Reshape",
                      .node_name = "view_1",
                      .opset = 13,
                      .n_in = 2,
                      .n_out = 1,
                      .in = t,
                      .out = t + 2};
  c.def = op_get(op_lookup("Reshape"));
  cr_assert_eq(c.def->infer(&c), NNCL_ERR_UNSUPPORTED);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "view_1") && strstr(msg, "constant"), "%s", msg);
  nncl_array_free(&x);
}
