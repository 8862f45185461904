/* test_gemm.c: Gemm and MatMul against the naive C reference (tests/ref/gemm_ref.c): every
   attribute, every bias broadcast, 1-D promotion, folded / strided / offset batching, the fused
   epilogue and shape errors. Tolerance: rtol 1e-4, atol 1e-5 (float vs double accumulation, K <= 70). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/gemm_ref.h"
#include "test_util.h"

#define RTOL 1e-4
#define ATOL 1e-5

static void check_gemm(int64_t m, int64_t n, int64_t k, int ta, int tb, float alpha, float beta,
                       int c_rank, const int64_t *c_dims, uint32_t seed) {
  nncl_array a = ta ? TU_RAND(seed, k, m) : TU_RAND(seed, m, k);
  nncl_array b = tb ? TU_RAND(seed + 1, n, k) : TU_RAND(seed + 1, k, n);
  nncl_array cc = {0};
  if (c_rank >= 0) cc = tu_rand(seed + 2, c_rank, c_dims);
  const nncl_array *in[] = {&a, &b, c_rank >= 0 ? &cc : NULL};
  struct nncl__attr attrs[] = {A_INT("transA", ta), A_INT("transB", tb), A_FLOAT("alpha", alpha),
                               A_FLOAT("beta", beta)};
  nncl_array out;
  tu_run_op("Gemm", 13, attrs, 4, c_rank >= 0 ? 3 : 2, in, 1, &out);
  cr_assert_eq(out.shape.rank, 2);
  cr_assert(out.shape.dims[0] == m && out.shape.dims[1] == n);
  float *want = malloc((size_t)(m * n) * sizeof *want);
  ref_gemm(a.data, b.data, c_rank >= 0 ? &cc : NULL, want, m, n, k, ta, tb, alpha, beta);
  char what[128];
  snprintf(what, sizeof what, "Gemm m=%lld n=%lld k=%lld ta=%d tb=%d c_rank=%d", (long long)m,
           (long long)n, (long long)k, ta, tb, c_rank);
  tu_assert_close((float *)out.data, want, (size_t)(m * n), RTOL, ATOL, what);
  free(want);
  nncl_array_free(&a);
  nncl_array_free(&b);
  nncl_array_free(&cc);
  nncl_array_free(&out);
}

Test(gemm, transposes_and_scalars) {
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      check_gemm(7, 33, 13, ta, tb, 0.5f, 1.0f, -1, NULL, 10 + ta * 2 + tb);
  check_gemm(1, 1, 1, 0, 0, 1.0f, 1.0f, -1, NULL, 3);
  check_gemm(64, 65, 70, 1, 0, -1.5f, 1.0f, -1, NULL, 4);
}

Test(gemm, bias_broadcasts) {
  const int64_t m = 9, n = 17, k = 5;
  check_gemm(m, n, k, 0, 1, 1.0f, 1.0f, 2, (int64_t[]){m, n}, 20);
  check_gemm(m, n, k, 0, 1, 1.0f, 0.25f, 1, (int64_t[]){n}, 21);
  check_gemm(m, n, k, 0, 1, 2.0f, -1.0f, 2, (int64_t[]){m, 1}, 22);
  check_gemm(m, n, k, 1, 1, 1.0f, 1.0f, 2, (int64_t[]){1, n}, 23);
  check_gemm(m, n, k, 0, 0, 1.0f, 3.0f, 1, (int64_t[]){1}, 24);
  check_gemm(m, n, k, 0, 0, 1.0f, 3.0f, 0, NULL, 25);
  check_gemm(m, n, k, 1, 0, 0.7f, 0.0f, 2, (int64_t[]){m, n}, 26);
}

Test(gemm, fused_relu_and_residual) {
  const int64_t m = 6, n = 10, k = 8;
  nncl_array a = TU_RAND(30, m, k), b = TU_RAND(31, n, k), bias = TU_RAND(32, n),
             res = TU_RAND(33, m, n);
  const nncl_array *in[] = {&a, &b, &bias};
  struct nncl__attr attrs[] = {A_INT("transB", 1)};
  for (int after = 0; after < 2; after++) {
    struct op_epilogue epi = {.act = OP_ACT_RELU, .has_residual = 1, .residual_after_act = after};
    nncl_array out;
    nncl_status st = op_run(tu_ctx(), "Gemm", 13, attrs, 1, 3, in, 1, &out, &epi, &res);
    cr_assert_eq(st, NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
    float want[60];
    ref_gemm(a.data, b.data, &bias, want, m, n, k, 0, 1, 1.0f, 1.0f);
    for (int i = 0; i < m * n; i++) {
      float r = ((float *)res.data)[i];
      want[i] = after ? fmaxf(want[i], 0.0f) + r : fmaxf(want[i] + r, 0.0f);
    }
    tu_assert_close((float *)out.data, want, (size_t)(m * n), RTOL, ATOL, "Gemm + relu + residual");
    nncl_array_free(&out);
  }
  nncl_array_free(&a);
  nncl_array_free(&b);
  nncl_array_free(&bias);
  nncl_array_free(&res);
}

Test(gemm, shape_errors_name_shapes) {
  nncl_array a = TU_RAND(1, 3, 4), b = TU_RAND(2, 5, 6), c = TU_RAND(3, 2, 6), out;
  const nncl_array *in[] = {&a, &b};
  cr_assert_eq(tu_try_op("Gemm", 13, NULL, 0, 2, in, 1, &out), NNCL_ERR_SHAPE);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "[3, 4]") && strstr(msg, "[5, 6]") && strstr(msg, "Gemm"), "%s", msg);
  nncl_array b2 = TU_RAND(2, 4, 6);
  const nncl_array *in2[] = {&a, &b2, &c};
  cr_assert_eq(tu_try_op("Gemm", 13, NULL, 0, 3, in2, 1, &out), NNCL_ERR_SHAPE);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "[2, 6]"));
  nncl_array_free(&a);
  nncl_array_free(&b);
  nncl_array_free(&b2);
  nncl_array_free(&c);
}

static void check_matmul(int ra, const int64_t *da, int rb, const int64_t *db, uint32_t seed) {
  nncl_array a = tu_rand(seed, ra, da), b = tu_rand(seed + 1, rb, db), out, want;
  const nncl_array *in[] = {&a, &b};
  tu_run_op("MatMul", 13, NULL, 0, 2, in, 1, &out);
  ref_matmul(&a, &b, &want);
  char sa[64], sb[64], what[160];
  snprintf(what, sizeof what, "MatMul %s x %s", nncl_shape_format(&a.shape, sa, sizeof sa),
           nncl_shape_format(&b.shape, sb, sizeof sb));
  cr_assert_eq(out.shape.rank, want.shape.rank, "%s: rank", what);
  for (int i = 0; i < want.shape.rank; i++)
    cr_assert_eq(out.shape.dims[i], want.shape.dims[i], "%s: dim %d", what, i);
  tu_assert_close((float *)out.data, (float *)want.data, (size_t)nncl_shape_numel(&want.shape),
                  RTOL, ATOL, what);
  nncl_array_free(&a);
  nncl_array_free(&b);
  nncl_array_free(&out);
  nncl_array_free(&want);
}
#define MM(seed, A, B)                                                                             \
  check_matmul((int)(sizeof((int64_t[])A) / sizeof(int64_t)), (int64_t[])A,                        \
               (int)(sizeof((int64_t[])B) / sizeof(int64_t)), (int64_t[])B, (seed))
#define D(...)                                                                                     \
  { __VA_ARGS__ }

Test(matmul, promotions_and_plain) {
  MM(40, D(7, 5), D(5, 33));
  MM(41, D(5), D(5, 9));
  MM(42, D(7, 5), D(5));
  MM(43, D(13), D(13));
  MM(44, D(1, 1), D(1, 1));
}

Test(matmul, batched_layouts) {
  MM(50, D(3, 7, 5), D(5, 6));          /* folded into one GEMM */
  MM(51, D(2, 3, 7, 5), D(5, 6));       /* folded, rank 4 */
  MM(52, D(3, 7, 5), D(3, 5, 6));       /* strided */
  MM(53, D(7, 5), D(4, 5, 6));          /* A broadcast: stride 0 */
  MM(54, D(5), D(2, 5, 6));             /* 1-D A against a batch */
  MM(55, D(2, 3, 7, 5), D(3, 5, 6));    /* B broadcast over the leading axis: offsets */
  MM(56, D(2, 1, 7, 5), D(1, 3, 5, 6)); /* mixed broadcast: offsets */
  MM(57, D(4, 1, 5), D(4, 5, 1));
}

Test(matmul, fused_residual) {
  nncl_array a = TU_RAND(60, 2, 3, 4), b = TU_RAND(61, 4, 5), res = TU_RAND(62, 2, 3, 5), out, want;
  const nncl_array *in[] = {&a, &b};
  struct op_epilogue epi = {.act = OP_ACT_TANH, .has_residual = 1, .residual_after_act = 1};
  nncl_status st = op_run(tu_ctx(), "MatMul", 13, NULL, 0, 2, in, 1, &out, &epi, &res);
  cr_assert_eq(st, NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  ref_matmul(&a, &b, &want);
  float *w = want.data;
  for (int i = 0; i < 30; i++) w[i] = tanhf(w[i]) + ((float *)res.data)[i];
  tu_assert_close((float *)out.data, w, 30, RTOL, ATOL, "MatMul + tanh + residual");
  nncl_array_free(&a);
  nncl_array_free(&b);
  nncl_array_free(&res);
  nncl_array_free(&out);
  nncl_array_free(&want);
}

Test(matmul, shape_errors) {
  nncl_array a = TU_RAND(1, 2, 3, 4), b = TU_RAND(2, 3, 5, 6), out;
  const nncl_array *in[] = {&a, &b};
  cr_assert_eq(tu_try_op("MatMul", 13, NULL, 0, 2, in, 1, &out), NNCL_ERR_SHAPE);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "[2, 3, 4]"));
  nncl_array_free(&a);
  nncl_array_free(&b);
}
