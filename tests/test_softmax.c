/* test_softmax.c: Softmax and LogSoftmax against tests/ref/elementwise_ref.c for both ONNX
   semantics (opset < 13 flattens at axis, >= 13 one axis), every kernel (a work-group or a
   work-item per long contiguous row, a work-item per strided or short column), ranks 1..5, zero-size dims, large
   values, -inf masks and fully masked rows. Tolerance: rtol 1e-5, atol 1e-7 (Softmax) / 1e-6
   (LogSoftmax, whose outputs cross zero). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/elementwise_ref.h"
#include "test_util.h"

struct scase {
  int rank;
  int64_t dims[5];
  int axis; /* as given to the op */
  int opset;
};

static const struct scase cases[] = {
    {2, {3, 1000}, -1, 13},       /* rows kernel, classifier */
    {2, {5, 300}, 1, 13},         /* rows, length not a power of two */
    {2, {7, 10}, -1, 13},         /* short rows: columns kernel */
    {4, {2, 3, 4, 5}, 1, 13},     /* strided axis */
    {4, {2, 3, 4, 5}, 0, 13},     /* leading axis */
    {1, {1}, 0, 13},              /* a single element */
    {5, {2, 1, 3, 70, 2}, 3, 13}, /* rank 5, strided long axis */
    {4, {2, 3, 4, 5}, 1, 11},     /* old semantics: [2, 60] rows */
    {3, {4, 5, 33}, 2, 11},       /* old semantics, last axis */
    {3, {2, 40, 3}, -2, 1},       /* old semantics, negative axis: [2, 120] */
    {2, {0, 5}, -1, 13},          /* zero-size */
};

/* algo: NULL for the device's pick, else the rows kernel forced through softmax.algo (the
   work-group-per-row softmax_rows GPUs use or the work-item-per-row softmax_rows_item CPUs use;
   column cases ignore it). */
static void check(const struct scase *sc, int log_, float scale, uint32_t seed, const char *algo) {
  nncl_array x = tu_rand(seed, sc->rank, sc->dims), y;
  size_t n = (size_t)nncl_shape_numel(&x.shape);
  for (size_t i = 0; i < n; i++) ((float *)x.data)[i] *= scale;
  struct nncl__attr a[1] = {A_INT("axis", sc->axis)};
  const nncl_array *in[] = {&x};
  const char *op = log_ ? "LogSoftmax" : "Softmax";
  tu_set_option("softmax.algo", algo);
  tu_run_op(op, sc->opset, a, 1, 1, in, 1, &y);
  tu_set_option("softmax.algo", NULL);
  cr_assert_eq(y.shape.rank, sc->rank);
  int axis = sc->axis < 0 ? sc->axis + sc->rank : sc->axis;
  size_t outer = 1, len = 1, inner = 1;
  for (int k = 0; k < sc->rank; k++) {
    if (k < axis)
      outer *= (size_t)sc->dims[k];
    else if (k == axis || sc->opset < 13)
      len *= (size_t)sc->dims[k];
    else
      inner *= (size_t)sc->dims[k];
  }
  float *want = malloc((n + 1) * sizeof *want);
  ref_softmax(x.data, want, outer, len, inner, log_);
  char what[96];
  snprintf(what, sizeof what, "%s opset %d axis %d scale %g %s", op, sc->opset, sc->axis,
           (double)scale, algo ? algo : "");
  tu_assert_close((float *)y.data, want, n, 1e-5, log_ ? 1e-6 : 1e-7, what);
  cr_log_info("%s: max relative error %.3g", what, tu_max_rel_error(y.data, want, n));
  free(want);
  nncl_array_free(&x);
  nncl_array_free(&y);
}

Test(softmax, matches_reference_both_semantics) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int log_ = 0; log_ < 2; log_++)
      for (int a = 0; a < 2; a++)
        check(&cases[i], log_, 4.0f, (uint32_t)(i + 1), a ? "softmax_rows_item" : "softmax_rows");
}

Test(softmax, large_values_are_stable) {
  for (int log_ = 0; log_ < 2; log_++) {
    check(&cases[0], log_, 1e4f, 7, NULL);
    check(&cases[3], log_, 1e4f, 8, NULL);
  }
}

/* -inf entries get probability 0; a row of only -inf is NaN (0/0), as in the reference. */
Test(softmax, masked_rows) {
  for (int len = 8; len <= 512; len *= 64) { /* columns kernel (8) and rows kernel (512) */
    nncl_array x = TU_RAND(3, 3, len), y;
    float *xf = x.data;
    for (int i = 0; i < len; i++) {
      if (i % 3 == 1) xf[i] = -INFINITY; /* row 0: partly masked */
      xf[len + i] = -INFINITY;           /* row 1: fully masked */
    }
    xf[2 * len] = 80.0f; /* row 2: one huge logit */
    const nncl_array *in[] = {&x};
    for (int log_ = 0; log_ < 2; log_++) {
      tu_run_op(log_ ? "LogSoftmax" : "Softmax", 13, NULL, 0, 1, in, 1, &y);
      float *want = malloc((size_t)(3 * len) * sizeof *want);
      ref_softmax(xf, want, 3, (size_t)len, 1, log_);
      for (int i = 0; i < len; i++) {
        cr_assert(isnan(((float *)y.data)[len + i]), "fully masked row must be NaN");
        if (i % 3 == 1) {
          float w = log_ ? -INFINITY : 0.0f;
          cr_assert_eq(((float *)y.data)[i], w, "masked entry %d", i);
        }
      }
      tu_assert_close((float *)y.data, want, (size_t)len, 1e-5, 1e-6, "partly masked row");
      tu_assert_close((float *)y.data + 2 * len, want + 2 * len, (size_t)len, 1e-5, 1e-6,
                      "huge logit row");
      free(want);
      nncl_array_free(&y);
    }
    nncl_array_free(&x);
  }
}

Test(softmax, errors) {
  nncl_array x = TU_RAND(1, 2, 3), y;
  struct nncl__attr a = A_INT("axis", 2);
  const nncl_array *in[] = {&x};
  cr_assert_eq(tu_try_op("Softmax", 13, &a, 1, 1, in, 1, &y), NNCL_ERR_INVALID_ARGUMENT);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "Softmax") && strstr(msg, "axis 2"), "%s", msg);
  nncl_array l = TU_ZEROS(NNCL_INT64, 3);
  const nncl_array *li[] = {&l};
  cr_assert_eq(tu_try_op("LogSoftmax", 13, NULL, 0, 1, li, 1, &y), NNCL_ERR_DTYPE);
  nncl_array_free(&x);
  nncl_array_free(&l);
}
