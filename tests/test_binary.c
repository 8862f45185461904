/* test_binary.c: broadcasting element-wise ops (arithmetic, comparisons, logic, PRelu, variadic
   Sum/Mean/Max/Min, Where) against the naive references in tests/ref/elementwise_ref.c, over
   broadcasting corners: same shape with an odd length (float4 tail), scalar vs rank 5,
   [3,1,5] vs [1,4,1], channel and row broadcast, rank 6 with alternating broadcast, zero-size
   dims, rank 0; int64 and bool variants; error messages. Tolerances: rtol 1e-6 for
   arithmetic (OpenCL division may be 2.5 ulp), 1e-5 for Pow, exact for comparisons and logic. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/elementwise_ref.h"
#include "test_util.h"

struct pair {
  int ra;
  int64_t a[6];
  int rb;
  int64_t b[6];
};

static const struct pair pairs[] = {
    {1, {1037}, 1, {1037}},          {0, {0}, 5, {2, 3, 1, 4, 5}},
    {5, {2, 3, 1, 4, 5}, 0, {0}},    {3, {3, 1, 5}, 3, {1, 4, 1}},
    {4, {2, 3, 4, 5}, 3, {3, 1, 1}}, {2, {4, 9}, 1, {9}},
    {2, {7, 1}, 2, {7, 6}},          {6, {2, 1, 3, 1, 2, 1}, 6, {1, 4, 1, 5, 1, 3}},
    {2, {0, 3}, 2, {1, 3}},          {0, {0}, 0, {0}},
};
#define N_PAIRS (sizeof pairs / sizeof pairs[0])

static nncl_array arr(nncl_dtype t, int rank, const int64_t *dims) {
  return tu_zeros(t, rank, rank ? dims : (const int64_t[]){1});
}

static nncl_array frand(uint32_t seed, int rank, const int64_t *dims, float lo, float hi) {
  nncl_array a = arr(NNCL_FLOAT32, rank, dims);
  tu_fill(a.data, (size_t)nncl_shape_numel(&a.shape), seed, lo, hi);
  return a;
}

/* Small integers stored as float, so comparisons hit equality often. */
static void quantise(nncl_array *a) {
  float *x = a->data;
  for (int64_t i = 0; i < nncl_shape_numel(&a->shape); i++) x[i] = floorf(x[i] * 3);
}

static void check_broadcast_shape(const nncl_shape *got, const struct pair *p) {
  int r = p->ra > p->rb ? p->ra : p->rb;
  cr_assert_eq(got->rank, r);
  for (int k = 0; k < r; k++) {
    int ia = k - (r - p->ra), ib = k - (r - p->rb);
    int64_t da = ia >= 0 ? p->a[ia] : 1, db = ib >= 0 ? p->b[ib] : 1;
    cr_assert_eq(got->dims[k], da == 1 ? db : da, "axis %d", k);
  }
}

struct bcase {
  const char *op;
  float alo, ahi, blo, bhi;
  int quant, bool_out;
  double rtol;
};

static const struct bcase bcases[] = {
    {"Add", -3, 3, -3, 3, 0, 0, 1e-6},
    {"Sub", -3, 3, -3, 3, 0, 0, 1e-6},
    {"Mul", -3, 3, -3, 3, 0, 0, 1e-6},
    {"Div", -3, 3, 0.5f, 2, 0, 0, 1e-6},
    {"Pow", 0.1f, 3, -2, 2, 0, 0, 1e-5},
    {"Max", -3, 3, -3, 3, 0, 0, 0},
    {"Min", -3, 3, -3, 3, 0, 0, 0},
    {"Sum", -3, 3, -3, 3, 0, 0, 1e-6},
    {"Equal", -1, 1, -1, 1, 1, 1, 0},
    {"Less", -1, 1, -1, 1, 1, 1, 0},
    {"Greater", -1, 1, -1, 1, 1, 1, 0},
    {"LessOrEqual", -1, 1, -1, 1, 1, 1, 0},
    {"GreaterOrEqual", -1, 1, -1, 1, 1, 1, 0},
};

Test(binary, float_ops_over_broadcast_corners) {
  for (size_t ci = 0; ci < sizeof bcases / sizeof bcases[0]; ci++) {
    const struct bcase *bc = &bcases[ci];
    double worst = 0;
    for (size_t pi = 0; pi < N_PAIRS; pi++) {
      const struct pair *p = &pairs[pi];
      nncl_array a = frand((uint32_t)(ci * 17 + pi + 1), p->ra, p->a, bc->alo, bc->ahi);
      nncl_array b = frand((uint32_t)(ci * 17 + pi + 101), p->rb, p->b, bc->blo, bc->bhi);
      if (bc->op[0] == 'D') /* random signs for the divisor */
        for (int64_t i = 0; i < nncl_shape_numel(&b.shape); i += 2) ((float *)b.data)[i] *= -1;
      if (bc->quant) {
        quantise(&a);
        quantise(&b);
      }
      const nncl_array *in[] = {&a, &b};
      nncl_array y;
      tu_run_op(bc->op, 13, NULL, 0, 2, in, 1, &y);
      check_broadcast_shape(&y.shape, p);
      cr_assert_eq(y.dtype, bc->bool_out ? NNCL_BOOL : NNCL_FLOAT32);
      size_t n = (size_t)nncl_shape_numel(&y.shape);
      float *got = malloc((n + 1) * sizeof *got), *want = malloc((n + 1) * sizeof *want);
      for (size_t i = 0; i < n; i++) {
        double r;
        ref_binary(bc->op, ((float *)a.data)[ref_bcast_index(&y.shape, &a.shape, i)],
                   ((float *)b.data)[ref_bcast_index(&y.shape, &b.shape, i)], &r);
        want[i] = (float)r;
        got[i] = bc->bool_out ? ((uint8_t *)y.data)[i] : ((float *)y.data)[i];
      }
      char what[64];
      snprintf(what, sizeof what, "%s pair %zu", bc->op, pi);
      tu_assert_close(got, want, n, bc->rtol, 1e-7, what);
      double e = tu_max_rel_error(got, want, n);
      if (e > worst) worst = e;
      free(got);
      free(want);
      nncl_array_free(&a);
      nncl_array_free(&b);
      nncl_array_free(&y);
    }
    cr_log_info("%-15s max relative error %.3g", bc->op, worst);
  }
}

/* Runs op on int64 a, b of the given shapes and checks against f. */
static void run_i64(const char *op, int ra, const int64_t *da, int rb, const int64_t *db,
                    int64_t (*f)(int64_t, int64_t), int bool_out) {
  nncl_array a = arr(NNCL_INT64, ra, da), b = arr(NNCL_INT64, rb, db), y;
  int64_t *pa = a.data, *pb = b.data;
  for (int64_t i = 0; i < nncl_shape_numel(&a.shape); i++) pa[i] = (i * 7919) % 23 - 11;
  for (int64_t i = 0; i < nncl_shape_numel(&b.shape); i++) pb[i] = (i * 104729) % 9 - 4;
  pa[0] = 5000000000LL; /* beyond 32 bits */
  const nncl_array *in[] = {&a, &b};
  tu_run_op(op, 14, NULL, 0, 2, in, 1, &y);
  cr_assert_eq(y.dtype, bool_out ? NNCL_BOOL : NNCL_INT64);
  for (size_t i = 0; i < (size_t)nncl_shape_numel(&y.shape); i++) {
    int64_t x = pa[ref_bcast_index(&y.shape, &a.shape, i)];
    int64_t z = pb[ref_bcast_index(&y.shape, &b.shape, i)];
    int64_t g = bool_out ? ((uint8_t *)y.data)[i] : ((int64_t *)y.data)[i];
    cr_assert_eq(g, f(x, z), "%s element %zu: %lld op %lld gave %lld", op, i, (long long)x,
                 (long long)z, (long long)g);
  }
  nncl_array_free(&a);
  nncl_array_free(&b);
  nncl_array_free(&y);
}

static int64_t f_add(int64_t a, int64_t b) { return a + b; }
static int64_t f_sub(int64_t a, int64_t b) { return a - b; }
static int64_t f_mul(int64_t a, int64_t b) { return a * b; }
static int64_t f_div(int64_t a, int64_t b) { return b == 0 ? 0 : a / b; }
static int64_t f_eq(int64_t a, int64_t b) { return a == b; }
static int64_t f_max(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t f_min(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t f_less(int64_t a, int64_t b) { return a < b; }

Test(binary, int64_ops) {
  const int64_t s1[] = {3, 1, 5}, s2[] = {1, 4, 1}, s3[] = {37};
  struct {
    const char *op;
    int64_t (*f)(int64_t, int64_t);
    int b;
  } ops[] = {{"Add", f_add, 0},  {"Sub", f_sub, 0}, {"Mul", f_mul, 0}, {"Div", f_div, 0},
             {"Equal", f_eq, 1}, {"Max", f_max, 0}, {"Min", f_min, 0}, {"Less", f_less, 1}};
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
    run_i64(ops[k].op, 3, s1, 3, s2, ops[k].f, ops[k].b);
    run_i64(ops[k].op, 1, s3, 1, s3, ops[k].f, ops[k].b);
    run_i64(ops[k].op, 1, s3, 0, s3, ops[k].f, ops[k].b);
  }
}

Test(binary, logic_ops_on_bool) {
  const char *ops[] = {"And", "Or", "Xor"};
  nncl_array a = TU_ZEROS(NNCL_BOOL, 3, 1, 5), b = TU_ZEROS(NNCL_BOOL, 1, 4, 1), y;
  for (int i = 0; i < 15; i++) ((uint8_t *)a.data)[i] = (uint8_t)(i % 2);
  for (int i = 0; i < 4; i++) ((uint8_t *)b.data)[i] = (uint8_t)(i / 2);
  const nncl_array *in[] = {&a, &b};
  for (int k = 0; k < 3; k++) {
    tu_run_op(ops[k], 7, NULL, 0, 2, in, 1, &y);
    cr_assert_eq(y.dtype, NNCL_BOOL);
    cr_assert_eq(nncl_shape_numel(&y.shape), 60);
    for (size_t i = 0; i < 60; i++) {
      double r;
      ref_binary(ops[k], ((uint8_t *)a.data)[ref_bcast_index(&y.shape, &a.shape, i)],
                 ((uint8_t *)b.data)[ref_bcast_index(&y.shape, &b.shape, i)], &r);
      cr_assert_eq(((uint8_t *)y.data)[i], (uint8_t)r, "%s %zu", ops[k], i);
    }
    nncl_array_free(&y);
  }
  nncl_array_free(&a);
  nncl_array_free(&b);
}

Test(binary, variadic_sum_mean_max_min) {
  nncl_array x0 = TU_RAND(1, 2, 3, 1), x1 = TU_RAND(2, 1, 4), x2 = TU_RAND(3, 3, 4),
             x3 = TU_RAND(4, 1);
  const nncl_array *in[] = {&x0, &x1, &x2, &x3};
  const char *ops[] = {"Sum", "Mean", "Max", "Min"};
  for (int k = 0; k < 4; k++)
    for (int n = 1; n <= 4; n++) {
      nncl_array y;
      tu_run_op(ops[k], 13, NULL, 0, n, in, 1, &y);
      size_t ny = (size_t)nncl_shape_numel(&y.shape);
      float want[64];
      for (size_t i = 0; i < ny; i++) {
        double acc = ((float *)x0.data)[ref_bcast_index(&y.shape, &x0.shape, i)];
        for (int j = 1; j < n; j++) {
          double v = ((float *)in[j]->data)[ref_bcast_index(&y.shape, &in[j]->shape, i)];
          acc = k < 2 ? acc + v : k == 2 ? fmax(acc, v) : fmin(acc, v);
        }
        want[i] = (float)(k == 1 ? acc / n : acc);
      }
      char what[32];
      snprintf(what, sizeof what, "%s of %d", ops[k], n);
      tu_assert_close((float *)y.data, want, ny, 1e-6, 1e-7, what);
      nncl_array_free(&y);
    }
  nncl_array_free(&x0);
  nncl_array_free(&x1);
  nncl_array_free(&x2);
  nncl_array_free(&x3);
}

Test(binary, where_float_and_int64) {
  nncl_array c = TU_ZEROS(NNCL_BOOL, 3, 1, 5), x = TU_RAND(1, 1, 4, 1), s = TU_RAND(2, 1), y;
  s.shape.rank = 0;
  for (int i = 0; i < 15; i++) ((uint8_t *)c.data)[i] = (uint8_t)((i * 7) % 3 == 0);
  const nncl_array *in[] = {&c, &x, &s};
  tu_run_op("Where", 16, NULL, 0, 3, in, 1, &y);
  cr_assert_eq(nncl_shape_numel(&y.shape), 60);
  for (size_t i = 0; i < 60; i++) {
    int cv = ((uint8_t *)c.data)[ref_bcast_index(&y.shape, &c.shape, i)];
    float want =
        cv ? ((float *)x.data)[ref_bcast_index(&y.shape, &x.shape, i)] : ((float *)s.data)[0];
    cr_assert_eq(((float *)y.data)[i], want, "%zu", i);
  }
  nncl_array_free(&y);
  nncl_array xi = TU_ZEROS(NNCL_INT64, 1, 4, 1), yi = TU_ZEROS(NNCL_INT64, 3, 1, 1);
  for (int i = 0; i < 4; i++) ((int64_t *)xi.data)[i] = 10000000000LL + i;
  for (int i = 0; i < 3; i++) ((int64_t *)yi.data)[i] = -i;
  const nncl_array *ini[] = {&c, &xi, &yi};
  tu_run_op("Where", 16, NULL, 0, 3, ini, 1, &y);
  cr_assert_eq(y.dtype, NNCL_INT64);
  for (size_t i = 0; i < 60; i++) {
    int cv = ((uint8_t *)c.data)[ref_bcast_index(&y.shape, &c.shape, i)];
    int64_t want = cv ? ((int64_t *)xi.data)[ref_bcast_index(&y.shape, &xi.shape, i)]
                      : ((int64_t *)yi.data)[ref_bcast_index(&y.shape, &yi.shape, i)];
    cr_assert_eq(((int64_t *)y.data)[i], want, "%zu", i);
  }
  nncl_array_free(&y);
  nncl_array_free(&c);
  nncl_array_free(&x);
  nncl_array_free(&s);
  nncl_array_free(&xi);
  nncl_array_free(&yi);
}

Test(binary, prelu_channel_slope) {
  nncl_array x = TU_RAND(1, 2, 3, 4, 5), slope = TU_RAND(2, 3, 1, 1), y;
  const nncl_array *in[] = {&x, &slope};
  tu_run_op("PRelu", 16, NULL, 0, 2, in, 1, &y);
  float want[120];
  for (size_t i = 0; i < 120; i++) {
    double r;
    ref_binary("PRelu", ((float *)x.data)[i],
               ((float *)slope.data)[ref_bcast_index(&y.shape, &slope.shape, i)], &r);
    want[i] = (float)r;
  }
  tu_assert_close((float *)y.data, want, 120, 1e-6, 0, "PRelu");
  nncl_array_free(&y);
  /* the slope may not grow X */
  nncl_array big = TU_RAND(3, 2, 2, 3, 4, 5);
  const nncl_array *bad[] = {&x, &big};
  cr_assert_eq(tu_try_op("PRelu", 16, NULL, 0, 2, bad, 1, &y), NNCL_ERR_SHAPE);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "slope"));
  nncl_array_free(&x);
  nncl_array_free(&slope);
  nncl_array_free(&big);
}

Test(binary, errors_name_op_and_shapes) {
  nncl_array a = TU_RAND(1, 2, 3), b = TU_RAND(2, 4, 3), y;
  const nncl_array *in[] = {&a, &b};
  cr_assert_eq(tu_try_op("Add", 14, NULL, 0, 2, in, 1, &y), NNCL_ERR_SHAPE);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "Add") && strstr(msg, "[2, 3]") && strstr(msg, "[4, 3]"), "%s", msg);
  nncl_array l = TU_ZEROS(NNCL_INT64, 2, 3);
  const nncl_array *mixed[] = {&a, &l};
  cr_assert_eq(tu_try_op("Mul", 14, NULL, 0, 2, mixed, 1, &y), NNCL_ERR_DTYPE);
  msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "Mul") && strstr(msg, "int64") && strstr(msg, "float32"), "%s", msg);
  const nncl_array *fl[] = {&a, &a};
  cr_assert_eq(tu_try_op("And", 7, NULL, 0, 2, fl, 1, &y), NNCL_ERR_DTYPE);
  nncl_array_free(&a);
  nncl_array_free(&b);
  nncl_array_free(&l);
}

/* Pow by a constant scalar exponent runs as products, a square root or a reciprocal
   (algo pow_special); checked against double-precision pow rounded to float on random values in
   [-3, 3] and on the special values, whose results must match C's pow exactly (sign of zero,
   infinities, NaN). Tolerances: x*x is exact (a float product is exact in double, so both
   round the same value once); x*x*x rounds twice: rtol 2.4e-7 (2 ulp); 1/x and sqrt are within
   OpenCL's 2.5 and 3 ulp: rtol 3.6e-7; exponents 0 and 1 exact. */
Test(binary, pow_by_special_constant) {
  static const float special[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1.0f, -1.0f, 1e20f};
  const int ns = (int)(sizeof special / sizeof special[0]);
  const double exps[] = {2, 3, 1, 0, -1, 0.5};
  const double rtol[] = {0, 2.4e-7, 0, 0, 3.6e-7, 3.6e-7};
  nncl_array x = frand(77, 1, (int64_t[]){1037}, -3, 3);
  float *xv = x.data;
  for (int i = 0; i < ns; i++) xv[100 * i] = special[i];
  const int64_t n = 1037;
  float *want = malloc((size_t)n * sizeof *want);
  for (int e = 0; e < 6; e++)
    for (int as_int = 0; as_int < 2; as_int++) {
      if (as_int && exps[e] != floor(exps[e])) continue;
      nncl_array ex = arr(as_int ? NNCL_INT64 : NNCL_FLOAT32, 0, NULL), y;
      if (as_int)
        *(int64_t *)ex.data = (int64_t)exps[e];
      else
        *(float *)ex.data = (float)exps[e];
      const nncl_array *in[] = {&x, &ex};
      struct op_instance *oi = NULL;
      cr_assert_eq(op_instance_create(tu_ctx(), "Pow", 15, NULL, 0, 2, in, 1, NULL, NULL, &oi),
                   NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
      cr_assert_str_eq(op_instance_call(oi)->algo, "pow_special", "exponent %g", exps[e]);
      cr_assert_eq(op_instance_enqueue(oi), NNCL_OK);
      cr_assert_eq(op_instance_read(oi, &y), NNCL_OK);
      op_instance_destroy(oi);
      const float *got = y.data;
      for (int64_t i = 0; i < n; i++) want[i] = (float)pow((double)xv[i], exps[e]);
      char what[64];
      snprintf(what, sizeof what, "Pow(x, %g%s)", exps[e], as_int ? " int64" : "");
      for (int i = 0; i < ns; i++) {
        const float g = got[100 * i], w = want[100 * i];
        cr_assert(isnan(w) ? isnan(g) : (g == w && signbit(g) == signbit(w)),
                  "%s at x = %g: got %g, pow gives %g", what, (double)special[i], (double)g,
                  (double)w);
      }
      for (int i = 0; i < ns; i++) want[100 * i] = got[100 * i]; /* checked above */
      tu_assert_close(got, want, (size_t)n, rtol[e], 0, what);
      nncl_array_free(&y);
      nncl_array_free(&ex);
    }
  /* a non-special exponent keeps the general kernel */
  nncl_array ex = arr(NNCL_FLOAT32, 0, NULL);
  *(float *)ex.data = 2.5f;
  const nncl_array *in[] = {&x, &ex};
  struct op_instance *oi = NULL;
  cr_assert_eq(op_instance_create(tu_ctx(), "Pow", 15, NULL, 0, 2, in, 1, NULL, NULL, &oi),
               NNCL_OK);
  cr_assert_str_neq(op_instance_call(oi)->algo, "pow_special");
  op_instance_destroy(oi);
  nncl_array_free(&ex);
  free(want);
  nncl_array_free(&x);
}
