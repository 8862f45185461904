/* test_reduce.c: the Reduce* ops and ArgMax/ArgMin against tests/ref/elementwise_ref.c on every
   layout plan can pick (rows, columns, general, each split into chunks + a partials pass when
   outputs are few), keepdims 0/1, rank 0..4, size-1 and zero-size axes (empty reductions give
   the identity: 0, 1, -inf, NaN for Mean), both rows and both column kernels, int64, axes as input (ReduceSum >= 13) and
   noop_with_empty_axes. Tolerance: rtol 1e-5 plus atol 1e-6 * sqrt(reduced count) for the
   float accumulations (float sums against a double reference), 1e-4 for LogSumExp; exact for
   Max/Min, integers and arg indices. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/elementwise_ref.h"
#include "test_util.h"

struct rcase {
  int rank;
  int64_t dims[4];
  int n_axes; /* -1: no axes attribute (reduce all) */
  int64_t axes[4];
};

static const struct rcase rcases[] = {
    {2, {5, 37}, 1, {1}},          /* rows */
    {3, {4, 6, 5}, 1, {1}},        /* columns */
    {2, {6, 5}, 1, {0}},           /* columns, leading axis */
    {4, {2, 3, 4, 5}, 2, {0, 2}},  /* general */
    {4, {2, 3, 4, 5}, 2, {-3, 2}}, /* merged middle axes, negative axis */
    {4, {2, 3, 4, 5}, -1, {0}},    /* everything */
    {3, {3, 1, 4}, 1, {1}},        /* a size-1 axis only */
    {0, {0}, -1, {0}},             /* scalar */
    {1, {20000}, -1, {0}},         /* rows split into chunks */
    {2, {3000, 2}, 1, {0}},        /* columns split into chunks */
    {3, {2, 0, 3}, 1, {1}},        /* empty reduction */
    {2, {0, 3}, 1, {1}},           /* empty output */
};

static const char *const ops[] = {"ReduceSum",       "ReduceMean",  "ReduceMax", "ReduceMin",
                                  "ReduceProd",      "ReduceL1",    "ReduceL2",  "ReduceLogSumExp",
                                  "ReduceSumSquare", "ReduceLogSum"};

static nncl_array rand_shape(uint32_t seed, int rank, const int64_t *dims, float lo, float hi) {
  nncl_array a = tu_zeros(NNCL_FLOAT32, rank, rank ? dims : (const int64_t[]){1});
  tu_fill(a.data, (size_t)nncl_shape_numel(&a.shape), seed, lo, hi);
  return a;
}

Test(reduce, float_ops_every_layout) {
  for (size_t oi = 0; oi < sizeof ops / sizeof ops[0]; oi++) {
    const char *op = ops[oi];
    double worst = 0;
    for (size_t ci = 0; ci < sizeof rcases / sizeof rcases[0]; ci++)
      for (int keep = 0; keep < 2; keep++) {
        const struct rcase *rc = &rcases[ci];
        int prod = strcmp(op, "ReduceProd") == 0, logsum = strcmp(op, "ReduceLogSum") == 0;
        nncl_array x = rand_shape((uint32_t)(oi * 100 + ci + 1), rc->rank, rc->dims,
                                  prod     ? 0.999f
                                  : logsum ? 0.01f
                                           : -2,
                                  prod ? 1.001f : 2);
        struct nncl__attr attrs[2] = {A_INT("keepdims", keep)};
        int n_attrs = 1;
        if (rc->n_axes >= 0)
          attrs[n_attrs++] = (struct nncl__attr){
              .name = "axes", .type = ATTR_INTS, .ints = (int64_t *)rc->axes, .n = rc->n_axes};
        const nncl_array *in[] = {&x};
        nncl_array y;
        tu_run_op(op, 11, attrs, n_attrs, 1, in, 1, &y);
        int mask[8] = {0};
        size_t red = 1;
        for (int k = 0; k < rc->rank; k++) {
          int m = rc->n_axes < 0;
          for (int a = 0; a < rc->n_axes; a++)
            if ((rc->axes[a] + rc->rank) % rc->rank == k) m = 1;
          mask[k] = m;
          if (m) red *= (size_t)rc->dims[k];
        }
        /* shape: reduced axes become 1 or disappear */
        int r = 0;
        for (int k = 0; k < rc->rank; k++) {
          if (mask[k] && !keep) continue;
          cr_assert_eq(y.shape.dims[r], mask[k] ? 1 : rc->dims[k], "%s case %zu axis %d", op, ci,
                       k);
          r++;
        }
        cr_assert_eq(y.shape.rank, r, "%s case %zu rank", op, ci);
        size_t n = (size_t)nncl_shape_numel(&y.shape);
        float *want = malloc((n + 1) * sizeof *want);
        ref_reduce(op, x.data, &x.shape, mask, want);
        char what[96];
        snprintf(what, sizeof what, "%s case %zu keepdims %d", op, ci, keep);
        int lse = strcmp(op, "ReduceLogSumExp") == 0 || logsum;
        tu_assert_close((float *)y.data, want, n, lse ? 1e-4 : 1e-5,
                        1e-6 * sqrt((double)red) + 1e-7, what);
        double e = tu_max_rel_error(y.data, want, n);
        if (e > worst) worst = e;
        free(want);
        nncl_array_free(&x);
        nncl_array_free(&y);
      }
    cr_log_info("%-16s max relative error %.3g", op, worst);
  }
}

/* Column reductions through both column kernels (option reduce.algo): the GPU's column-per-item
   reduce_cols and the CPU's reduce_cols_span, whose spans are 512 columns (a partial last span
   at 1100 columns) and whose rows split into chunks plus a partials pass when outputs are few. */
Test(reduce, column_kernels_both_algos) {
  static const struct rcase cc[] = {{2, {6, 5}, 1, {0}},
                                    {2, {3000, 2}, 1, {0}},
                                    {3, {3, 70, 1100}, 1, {1}},
                                    {2, {300, 1100}, 1, {0}},
                                    {3, {2, 0, 7}, 1, {1}}};
  static const char *const cops[] = {"ReduceSum", "ReduceMax", "ReduceMean", "ReduceLogSumExp"};
  static const char *const algos[] = {"reduce_cols", "reduce_cols_span"};
  for (size_t oi = 0; oi < sizeof cops / sizeof cops[0]; oi++)
    for (size_t ci = 0; ci < sizeof cc / sizeof cc[0]; ci++)
      for (int a = 0; a < 2; a++) {
        const struct rcase *rc = &cc[ci];
        nncl_array x = rand_shape((uint32_t)(oi * 10 + ci + 7), rc->rank, rc->dims, -2, 2), y;
        struct nncl__attr attrs[] = {
            {.name = "axes", .type = ATTR_INTS, .ints = (int64_t *)rc->axes, .n = rc->n_axes}};
        const nncl_array *in[] = {&x};
        tu_set_option("reduce.algo", algos[a]);
        tu_run_op(cops[oi], 11, attrs, 1, 1, in, 1, &y);
        tu_set_option("reduce.algo", NULL);
        int mask[8] = {0};
        mask[rc->axes[0]] = 1;
        size_t n = (size_t)nncl_shape_numel(&y.shape);
        float *want = malloc((n + 1) * sizeof *want);
        ref_reduce(cops[oi], x.data, &x.shape, mask, want);
        char what[96];
        snprintf(what, sizeof what, "%s %s case %zu", cops[oi], algos[a], ci);
        tu_assert_close((float *)y.data, want, n, oi == 3 ? 1e-4 : 1e-5,
                        1e-6 * sqrt((double)rc->dims[rc->axes[0]]) + 1e-7, what);
        free(want);
        nncl_array_free(&x);
        nncl_array_free(&y);
      }
}

/* Contiguous-row reductions through both rows kernels (option reduce.algo): a work-group per row
   (reduce_rows) and a work-item per row with eight interleaved lanes (reduce_rows_item), on rows
   shorter than the lanes, with a tail, and long. */
Test(reduce, row_kernels_both_algos) {
  static const struct rcase rc_[] = {{2, {5, 37}, 1, {1}},
                                     {2, {9, 5}, 1, {1}},
                                     {2, {40, 1003}, 1, {1}},
                                     {3, {3, 4, 9}, 2, {1, 2}}};
  static const char *const rops[] = {"ReduceSum",  "ReduceMax",  "ReduceMin",
                                     "ReduceProd", "ReduceMean", "ReduceLogSumExp"};
  for (size_t oi = 0; oi < sizeof rops / sizeof rops[0]; oi++)
    for (size_t ci = 0; ci < sizeof rc_ / sizeof rc_[0]; ci++)
      for (int a = 0; a < 2; a++) {
        const struct rcase *rc = &rc_[ci];
        const char *algo = a ? "reduce_rows_item" : "reduce_rows";
        int prod = oi == 3;
        nncl_array x = rand_shape((uint32_t)(oi * 10 + ci + 3), rc->rank, rc->dims,
                                  prod ? 0.999f : -2, prod ? 1.001f : 2),
                   y;
        struct nncl__attr attrs[] = {
            {.name = "axes", .type = ATTR_INTS, .ints = (int64_t *)rc->axes, .n = rc->n_axes}};
        const nncl_array *in[] = {&x};
        tu_set_option("reduce.algo", algo);
        tu_run_op(rops[oi], 11, attrs, 1, 1, in, 1, &y);
        tu_set_option("reduce.algo", NULL);
        int mask[8] = {0};
        size_t red = 1;
        for (int k = 0; k < rc->n_axes; k++) {
          mask[rc->axes[k]] = 1;
          red *= (size_t)rc->dims[rc->axes[k]];
        }
        size_t n = (size_t)nncl_shape_numel(&y.shape);
        float *want = malloc((n + 1) * sizeof *want);
        ref_reduce(rops[oi], x.data, &x.shape, mask, want);
        char what[96];
        snprintf(what, sizeof what, "%s %s case %zu", rops[oi], algo, ci);
        tu_assert_close((float *)y.data, want, n, oi == 5 ? 1e-4 : 1e-5,
                        1e-6 * sqrt((double)red) + 1e-7, what);
        free(want);
        nncl_array_free(&x);
        nncl_array_free(&y);
      }
}

Test(reduce, empty_reduction_identities) {
  const int64_t d[] = {2, 0, 3};
  nncl_array x = tu_zeros(NNCL_FLOAT32, 3, d), y;
  struct nncl__attr ax = A_INTS("axes", 1);
  const nncl_array *in[] = {&x};
  const char *names[] = {"ReduceSum", "ReduceProd", "ReduceMax", "ReduceMin", "ReduceMean"};
  const float want[] = {0, 1, -INFINITY, INFINITY, NAN};
  for (int i = 0; i < 5; i++) {
    tu_run_op(names[i], 11, &ax, 1, 1, in, 1, &y);
    cr_assert_eq(nncl_shape_numel(&y.shape), 6);
    for (int j = 0; j < 6; j++)
      cr_assert(isnan(want[i]) ? isnan(((float *)y.data)[j]) : ((float *)y.data)[j] == want[i],
                "%s gave %g", names[i], (double)((float *)y.data)[j]);
    nncl_array_free(&y);
  }
  nncl_array_free(&x);
}

Test(reduce, log_sum_exp_large_values) {
  nncl_array x = TU_RAND(9, 4, 700), y;
  for (int i = 0; i < 2800; i++) ((float *)x.data)[i] *= 200.0f;
  for (int i = 0; i < 700; i++) ((float *)x.data)[700 + i] = -INFINITY; /* row 1 empty of mass */
  struct nncl__attr ax = A_INTS("axes", 1);
  const nncl_array *in[] = {&x};
  tu_run_op("ReduceLogSumExp", 13, &ax, 1, 1, in, 1, &y);
  float want[4];
  int mask[2] = {0, 1};
  ref_reduce("ReduceLogSumExp", x.data, &x.shape, mask, want);
  cr_assert(isinf(want[1]) && want[1] < 0);
  tu_assert_close((float *)y.data, want, 4, 1e-5, 0, "ReduceLogSumExp large");
  nncl_array_free(&x);
  nncl_array_free(&y);
}

Test(reduce, int64_and_axes_input) {
  const int64_t d[] = {3, 4, 5};
  nncl_array x = tu_zeros(NNCL_INT64, 3, d), y;
  int64_t *xv = x.data;
  for (int i = 0; i < 60; i++) xv[i] = (i * 37) % 11 - 5 + (i == 7 ? 4000000000LL : 0);
  const char *names[] = {"ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd"};
  for (int k = 0; k < 4; k++)
    for (int variant = 0; variant < 3; variant++) {
      int mask[3] = {variant == 0, variant == 1 || variant == 2, variant == 2};
      nncl_array axes = variant == 0 ? TU_I64(0) : variant == 1 ? TU_I64(1) : TU_I64(-1, 1);
      struct nncl__attr keep = A_INT("keepdims", 0);
      if (k == 0) { /* ReduceSum 13: axes as an input */
        const nncl_array *in[] = {&x, &axes};
        tu_run_op(names[k], 13, &keep, 1, 2, in, 1, &y);
      } else {
        struct nncl__attr attrs[] = {
            keep,
            {.name = "axes", .type = ATTR_INTS, .ints = axes.data, .n = (int)axes.shape.dims[0]}};
        const nncl_array *in[] = {&x};
        tu_run_op(names[k], 13, attrs, 2, 1, in, 1, &y);
      }
      cr_assert_eq(y.dtype, NNCL_INT64);
      int64_t want[20];
      ref_reduce_i64(names[k], xv, &x.shape, mask, want);
      for (int64_t i = 0; i < nncl_shape_numel(&y.shape); i++)
        cr_assert_eq(((int64_t *)y.data)[i], want[i], "%s variant %d element %lld", names[k],
                     variant, (long long)i);
      nncl_array_free(&y);
      nncl_array_free(&axes);
    }
  nncl_array_free(&x);
}

Test(reduce, noop_with_empty_axes) {
  nncl_array x = TU_RAND(4, 3, 4), empty = tu_zeros(NNCL_INT64, 1, (int64_t[]){0}), y;
  const nncl_array *in[] = {&x, &empty};
  struct nncl__attr noop = A_INT("noop_with_empty_axes", 1);
  tu_run_op("ReduceSum", 13, &noop, 1, 2, in, 1, &y);
  cr_assert_eq(y.shape.rank, 2);
  tu_assert_close((float *)y.data, (float *)x.data, 12, 0, 0, "noop ReduceSum");
  nncl_array_free(&y);
  tu_run_op("ReduceSum", 13, NULL, 0, 2, in, 1, &y); /* empty axes without noop: reduce all */
  cr_assert_eq(nncl_shape_numel(&y.shape), 1);
  double s = 0;
  for (int i = 0; i < 12; i++) s += ((float *)x.data)[i];
  cr_assert_float_eq(((float *)y.data)[0], (float)s, 1e-5);
  nncl_array_free(&y);
  tu_run_op("ReduceSum", 13, NULL, 0, 1, in, 1, &y); /* axes absent: reduce all */
  cr_assert_float_eq(((float *)y.data)[0], (float)s, 1e-5);
  nncl_array_free(&y);
  nncl_array_free(&x);
  nncl_array_free(&empty);
}

/* algo: NULL for the device's pick, else a rows kernel forced through reduce.algo (ArgMax/ArgMin
   rows take the same choice as the other reductions' rows). */
static void check_arg(const int64_t *dims, int axis, int keep, int is_min, int last, int quant,
                      uint32_t seed, const char *algo) {
  nncl_array x = TU_RAND(seed, dims[0], dims[1], dims[2]), y;
  if (quant)
    for (int64_t i = 0; i < nncl_shape_numel(&x.shape); i++)
      ((float *)x.data)[i] = floorf(((float *)x.data)[i] * 2);
  struct nncl__attr attrs[] = {A_INT("axis", axis), A_INT("keepdims", keep),
                               A_INT("select_last_index", last)};
  const nncl_array *in[] = {&x};
  tu_set_option("reduce.algo", algo);
  tu_run_op(is_min ? "ArgMin" : "ArgMax", 13, attrs, 3, 1, in, 1, &y);
  tu_set_option("reduce.algo", NULL);
  cr_assert_eq(y.dtype, NNCL_INT64);
  cr_assert_eq(y.shape.rank, keep ? 3 : 2);
  int a = axis < 0 ? axis + 3 : axis;
  size_t outer = 1, inner = 1;
  for (int k = 0; k < a; k++) outer *= (size_t)dims[k];
  for (int k = a + 1; k < 3; k++) inner *= (size_t)dims[k];
  size_t n = outer * inner;
  int64_t *want = malloc(n * sizeof *want);
  ref_arg(x.data, want, outer, (size_t)dims[a], inner, is_min, last);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(((int64_t *)y.data)[i], want[i], "%s axis %d last %d %s element %zu",
                 is_min ? "ArgMin" : "ArgMax", axis, last, algo ? algo : "", i);
  free(want);
  nncl_array_free(&x);
  nncl_array_free(&y);
}

Test(reduce, argmax_argmin) {
  const int64_t small[] = {3, 5, 7}, long_rows[] = {4, 3, 500};
  for (int is_min = 0; is_min < 2; is_min++)
    for (int last = 0; last < 2; last++) {
      for (int axis = -1; axis < 3; axis++)
        check_arg(small, axis, axis != 1, is_min, last, 1, (uint32_t)(axis + 5), NULL);
      for (int a = 0; a < 2; a++) { /* both rows kernels, with ties */
        const char *algo = a ? "reduce_rows_item" : "reduce_rows";
        check_arg(long_rows, 2, 1, is_min, last, 1, 11, algo);
        check_arg(long_rows, 2, 0, is_min, last, 0, 12, algo);
        check_arg(small, 2, 1, is_min, last, 1, 13, algo); /* rows shorter than 8 lanes */
      }
    }
}

Test(reduce, errors) {
  nncl_array x = TU_RAND(1, 2, 3), y;
  struct nncl__attr dup = A_INTS("axes", 1, -1);
  const nncl_array *in[] = {&x};
  cr_assert_eq(tu_try_op("ReduceMean", 11, &dup, 1, 1, in, 1, &y), NNCL_ERR_INVALID_ARGUMENT);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "ReduceMean") && strstr(msg, "twice"), "%s", msg);
  struct nncl__attr far = A_INTS("axes", 2);
  cr_assert_eq(tu_try_op("ReduceMax", 11, &far, 1, 1, in, 1, &y), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "axis 2"));
  nncl_array l = TU_ZEROS(NNCL_INT64, 4);
  const nncl_array *li[] = {&l};
  cr_assert_eq(tu_try_op("ReduceL2", 11, NULL, 0, 1, li, 1, &y), NNCL_ERR_DTYPE);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "int64"));
  const int64_t d[] = {2, 0};
  nncl_array e = tu_zeros(NNCL_FLOAT32, 2, d);
  const nncl_array *ei[] = {&e};
  struct nncl__attr ax = A_INT("axis", 1);
  cr_assert_eq(tu_try_op("ArgMax", 13, &ax, 1, 1, ei, 1, &y), NNCL_ERR_SHAPE);
  nncl_array_free(&x);
  nncl_array_free(&l);
  nncl_array_free(&e);
}
