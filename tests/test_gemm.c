/* test_gemm.c: Gemm and MatMul against the naive C reference (tests/ref/gemm_ref.c): every
   attribute, every bias broadcast, 1-D promotion, folded / strided / offset batching, the fused
   epilogue and shape errors; then the matrix-product engine itself: every implementation forced
   on odd sizes, tails, k = 0 and 1, batches (one operand broadcast), offsets and padded leading
   dims, beta != 0 and the fused bias + relu + residual (PACKED also with B packed once, as
   constant weights are, and A packed once, bit for bit the same; with a bias per row, strided
   along a row, and a strided matrix), and the planner's choice checked against
   its own recorded timings. Tolerance: rtol 1e-4, atol 1e-5 (float vs double accumulation of at
   most 100 products of values in [-1, 1)). */
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

/* ------------------------------ the engine ------------------------------ */

struct eng_case {
  int64_t m, n, k, batch;
  int bcast_a;              /* A's batch stride 0 */
  int64_t bias_rs, bias_cs; /* the fused bias's strides; both 0: one per column (0, 1) */
};

static cl_mem eng_upload(const float *x, size_t n) {
  cl_mem m = NULL;
  nncl_status st = nncl__buffer_from_host(tu_ctx(), x, n * sizeof *x, "test operand", &m);
  cr_assert_eq(st, NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  return m;
}

/* A packed once too (as a conv's constant weights are), with g's B packed at plan time or not:
   the very bits of `plain` (the same kernels over the same panels), and a run launches no
   gemm_pack_a: gemm_tile alone, or gemm_pack_b and gemm_tile. */
static void check_a_packed(struct nncl__gemm *g, const float *a, size_t na, const float *c0,
                           const float *plain, size_t nc, const char *what) {
  nncl_context *ctx = tu_ctx();
  float *got = malloc(nc * 4);
  cr_assert(got);
  cl_mem b_packed = g->b_packed;
  tu_set_option("gemm.impl", "packed");
  nncl_status st = nncl__gemm_pack_a(ctx, g, a, na * 4, false, &g->a_packed);
  cr_assert_eq(st, NNCL_OK, "%s", nncl_context_last_error(ctx));
  cr_assert(g->a_packed, "%s: A was not packed", what);
  for (int with_b = 1; with_b >= 0; with_b--) {
    g->b_packed = with_b ? b_packed : NULL;
    st = nncl__gemm_prepare(ctx, g, NULL);
    nncl_stats s0, s1;
    nncl_context_stats(ctx, &s0);
    if (st == NNCL_OK) st = nncl__buffer_upload(ctx, g->c, 0, c0, nc * 4);
    if (st == NNCL_OK) st = nncl__gemm_run(ctx, g);
    nncl_context_stats(ctx, &s1);
    if (st == NNCL_OK) st = nncl__buffer_download(ctx, g->c, 0, got, nc * 4);
    cr_assert_eq(st, NNCL_OK, "%s", nncl_context_last_error(ctx));
    const unsigned long long launches = s1.kernel_launches - s0.kernel_launches;
    cr_assert_eq(launches, with_b ? 1 : 2, "%s, A packed%s: %llu launches", what,
                 with_b ? "" : " (B not)", launches);
    for (size_t i = 0; i < nc; i++)
      cr_assert(memcmp(&got[i], &plain[i], 4) == 0,
                "%s, A packed%s: element %zu is %.9g, packing every run gave %.9g", what,
                with_b ? "" : " (B not)", i, got[i], plain[i]);
  }
  tu_set_option("gemm.impl", NULL);
  g->b_packed = b_packed;
  nncl__buffer_release(g->a_packed);
  g->a_packed = NULL;
  free(got);
}

/* One forced product with offsets, padded leading dims and batch strides; with `fused`, beta 0.75,
   a per-column bias (scaled 0.5), relu and a residual. Compares the whole C buffer, so a write
   outside the m x n corners (into the padding) fails too. Returns the implementation that ran. */
static int check_engine(int impl, const struct eng_case *t, int ta, int tb, int fused,
                        uint32_t seed) {
  nncl_context *ctx = tu_ctx();
  const int64_t m = t->m, n = t->n, k = t->k, batch = t->batch;
  const int64_t lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1, ldc = n + 3;
  const int64_t sa = t->bcast_a ? 0 : (ta ? k : m) * lda + 4, sb = (tb ? n : k) * ldb + 2;
  const int64_t sc = m * ldc + 5, a_off = 3, b_off = 5, c_off = 7, res_off = 2;
  const int64_t brs = t->bias_rs, bcs = t->bias_rs || t->bias_cs ? t->bias_cs : 1;
  const size_t nbias = (size_t)(m * brs + n * bcs + 1);
  const size_t na = (size_t)(a_off + (batch - 1) * sa + (ta ? k : m) * lda);
  const size_t nb = (size_t)(b_off + (batch - 1) * sb + (tb ? n : k) * ldb);
  const size_t nc = (size_t)(c_off + (batch - 1) * sc + m * ldc);
  float *a = malloc(na * 4), *b = malloc(nb * 4), *c0 = malloc(nc * 4), *want = malloc(nc * 4);
  float *got = malloc(nc * 4), *bias = malloc(nbias * 4), *res = malloc((nc + 2) * 4);
  cr_assert(a && b && c0 && want && got && bias && res);
  tu_fill(a, na, seed, -1.0f, 1.0f);
  tu_fill(b, nb, seed + 1, -1.0f, 1.0f);
  tu_fill(c0, nc, seed + 2, -1.0f, 1.0f);
  tu_fill(bias, nbias, seed + 3, -1.0f, 1.0f);
  tu_fill(res, nc + 2, seed + 4, -1.0f, 1.0f);
  const float alpha = 0.5f, beta = fused ? 0.75f : 0.0f;
  memcpy(want, c0, nc * 4);
  ref_gemm_batched(ta, tb, m, n, k, batch, alpha, a + a_off, lda, sa, b + b_off, ldb, sb, beta,
                   want + c_off, ldc, sc);
  if (fused)
    for (int64_t z = 0; z < batch; z++)
      for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
          const int64_t at = z * sc + i * ldc + j;
          float v = want[c_off + at] + 0.5f * bias[i * brs + j * bcs] + res[res_off + c_off + at];
          want[c_off + at] = v > 0.0f ? v : 0.0f;
        }
  char epi[200];
  op_epilogue_options(&(struct op_epilogue){.act = OP_ACT_RELU, .has_residual = 1}, epi,
                      sizeof epi);
  struct nncl__gemm g = {.trans_a = ta,
                         .trans_b = tb,
                         .m = (size_t)m,
                         .n = (size_t)n,
                         .k = (size_t)k,
                         .batch = (size_t)batch,
                         .alpha = alpha,
                         .beta = beta,
                         .a = eng_upload(a, na),
                         .b = eng_upload(b, nb),
                         .c = eng_upload(c0, nc),
                         .a_off = (size_t)a_off,
                         .lda = (size_t)lda,
                         .a_stride = (size_t)sa,
                         .b_off = (size_t)b_off,
                         .ldb = (size_t)ldb,
                         .b_stride = (size_t)sb,
                         .c_off = (size_t)c_off,
                         .ldc = (size_t)ldc,
                         .c_stride = (size_t)sc};
  if (fused) {
    g.has_bias = g.has_res = true;
    g.bias = eng_upload(bias, nbias);
    g.bias_rs = (size_t)brs;
    g.bias_cs = (size_t)bcs;
    g.bias_scale = 0.5f;
    g.res = eng_upload(res, nc + 2);
    g.res_off = (size_t)(res_off + c_off);
    g.epi_options = epi;
  }
  tu_set_option("gemm.impl", impl ? nncl__gemm_impl_name(impl) : "auto");
  struct nncl__gemm_choice ch;
  nncl_status st = nncl__gemm_prepare(ctx, &g, &ch);
  if (st == NNCL_OK) st = nncl__gemm_run(ctx, &g);
  if (st == NNCL_OK) st = nncl__buffer_download(ctx, g.c, 0, got, nc * 4);
  tu_set_option("gemm.impl", NULL);
  cr_assert_eq(st, NNCL_OK, "%s", nncl_context_last_error(ctx));
  char what[200];
  snprintf(what, sizeof what, "%s (ran %s) m=%lld n=%lld k=%lld batch=%lld%s ta=%d tb=%d%s",
           nncl__gemm_impl_name(impl), nncl__gemm_impl_name(ch.impl), (long long)m, (long long)n,
           (long long)k, (long long)batch, t->bcast_a ? " (A broadcast)" : "", ta, tb,
           fused ? " beta=0.75 bias relu residual" : "");
  tu_assert_close(got, want, nc, RTOL, ATOL, what);
  /* PACKED with B packed once (as a layer's constant weights are at plan time): the same C, and
     a run launches gemm_pack_a and gemm_tile only. */
  if (ch.impl == NNCL_GEMM_PACKED && k > 0) {
    tu_set_option("gemm.impl", "packed");
    st = nncl__gemm_pack_b(ctx, &g, b, nb * 4, &g.b_packed);
    cr_assert_eq(st, NNCL_OK, "%s", nncl_context_last_error(ctx));
    cr_assert(g.b_packed, "%s: B was not packed", what);
    nncl_stats s0, s1;
    nncl_context_stats(ctx, &s0);
    st = nncl__buffer_upload(ctx, g.c, 0, c0, nc * 4);
    if (st == NNCL_OK) st = nncl__gemm_run(ctx, &g);
    nncl_context_stats(ctx, &s1);
    if (st == NNCL_OK) st = nncl__buffer_download(ctx, g.c, 0, got, nc * 4);
    tu_set_option("gemm.impl", NULL);
    cr_assert_eq(st, NNCL_OK, "%s", nncl_context_last_error(ctx));
    cr_assert_eq(s1.kernel_launches - s0.kernel_launches, 2, "%s, B packed: %llu launches", what,
                 (unsigned long long)(s1.kernel_launches - s0.kernel_launches));
    strncat(what, ", B packed at plan time", sizeof what - strlen(what) - 1);
    tu_assert_close(got, want, nc, RTOL, ATOL, what);
    check_a_packed(&g, a, na, c0, got, nc, what);
    nncl__buffer_release(g.b_packed);
  }
  nncl__buffer_release(g.a);
  nncl__buffer_release(g.b);
  nncl__buffer_release(g.c);
  nncl__buffer_release(g.bias);
  nncl__buffer_release(g.res);
  free(a);
  free(b);
  free(c0);
  free(want);
  free(got);
  free(bias);
  free(res);
  return ch.impl;
}

/* Every shape class the planner can hand to impl, all transposes, plain and fused. */
static void check_impl(int impl, const struct eng_case *cases, size_t n_cases) {
  for (size_t i = 0; i < n_cases; i++)
    for (int t = 0; t < 4; t++)
      for (int fused = 0; fused < 2; fused++) {
        int ran = check_engine(impl, &cases[i], t >> 1, t & 1, fused, (uint32_t)(100 + 8 * i + t));
        /* forcing CLBlast on a fused product at an offset or in a batch runs ours: the pass after
           CLBlast handles one contiguous matrix at offset 0 only */
        if (!(impl == NNCL_GEMM_CLBLAST && fused))
          cr_assert_eq(ran, impl, "forced %s ran %s", nncl__gemm_impl_name(impl),
                       nncl__gemm_impl_name(ran));
      }
}

static const struct eng_case general_cases[] = {
    {1, 1, 1, 1, 0, 0, 0},   {7, 33, 13, 1, 0, 0, 0},  {12, 32, 64, 1, 0, 0, 0},
    {13, 17, 1, 1, 0, 0, 0}, {37, 70, 29, 1, 0, 0, 0}, {9, 5, 0, 1, 0, 0, 0},
    {5, 19, 11, 3, 0, 0, 0}, {20, 9, 31, 2, 1, 0, 0},
};
/* The fused bias's other layouts: one per row (a conv's), a strided row, and a strided [M, N]
   matrix, each with whole panels and an edge panel. */
static const struct eng_case bias_cases[] = {
    {13, 40, 9, 2, 0, 1, 0}, {7, 35, 6, 1, 0, 0, 3}, {9, 33, 5, 1, 1, 40, 2}};
static const struct eng_case skinny_cases[] = {
    {1, 1, 1, 1, 0, 0, 0},   {1, 37, 100, 1, 0, 0, 0}, {3, 16, 9, 1, 0, 0, 0},
    {8, 45, 23, 1, 0, 0, 0}, {2, 5, 0, 1, 0, 0, 0},    {4, 21, 13, 3, 0, 0, 0},
    {1, 7, 17, 2, 1, 0, 0},
};
#define N_OF(x) (sizeof(x) / sizeof((x)[0]))

Test(gemm_engine, packed) { check_impl(NNCL_GEMM_PACKED, general_cases, N_OF(general_cases)); }
Test(gemm_engine, packed_bias_layouts) {
  check_impl(NNCL_GEMM_PACKED, bias_cases, N_OF(bias_cases));
}
Test(gemm_engine, gemv) { check_impl(NNCL_GEMM_GEMV, skinny_cases, N_OF(skinny_cases)); }
Test(gemm_engine, local) { check_impl(NNCL_GEMM_LOCAL, general_cases, N_OF(general_cases)); }
Test(gemm_engine, clblast) { check_impl(NNCL_GEMM_CLBLAST, general_cases, N_OF(general_cases)); }

/* The planner keeps the implementation it measured faster: the choice agrees with the two
   recorded medians, in memory and in the cache file, and asking again does not measure again. */
Test(gemm_engine, choice_is_the_measured_faster) {
  nncl_context *ctx = tu_ctx();
  const size_t shapes[][3] = {{96, 128, 64}, {1, 256, 128}};
  for (size_t s = 0; s < 2; s++) {
    struct nncl__gemm g = {.m = shapes[s][0],
                           .n = shapes[s][1],
                           .k = shapes[s][2],
                           .alpha = 1.0f,
                           .trans_b = s == 1,
                           .lda = shapes[s][2],
                           .ldb = s == 1 ? shapes[s][2] : shapes[s][1],
                           .ldc = shapes[s][1]};
    struct nncl__gemm_choice ch, again;
    cr_assert_eq(nncl__gemm_prepare(ctx, &g, &ch), NNCL_OK, "%s", nncl_context_last_error(ctx));
    cr_assert(ch.t_ours_s > 0 && ch.t_clblast_s > 0, "both measured: ours %g s, CLBlast %g s",
              ch.t_ours_s, ch.t_clblast_s);
    const int ours = s == 1             ? NNCL_GEMM_GEMV
                     : ctx->info.is_gpu ? NNCL_GEMM_LOCAL
                                        : NNCL_GEMM_PACKED;
    const int faster = ch.t_clblast_s < ch.t_ours_s ? NNCL_GEMM_CLBLAST : ours;
    cr_assert_eq(ch.impl, faster, "chose %s; ours %g s, CLBlast %g s",
                 nncl__gemm_impl_name(ch.impl), ch.t_ours_s, ch.t_clblast_s);
    cr_assert_eq(nncl__gemm_prepare(ctx, &g, &again), NNCL_OK);
    cr_assert(again.impl == ch.impl && again.t_ours_s == ch.t_ours_s &&
              again.t_clblast_s == ch.t_clblast_s);
  }
}

/* graph.precision's float16 storage: A packed once from its half copy gives the bits of packing
   it every run, at a batch with A broadcast (packed once for all items) and one without, M and N
   off the tile, with a bias. Against the reference on the same half inputs, the only error left
   is the half store of C (unit roundoff 2^-11 = 4.9e-4) over float accumulation of 19 exact
   products (~1e-6): rtol 1e-3, atol 1e-5. */
Test(gemm_engine, packed_a_half_storage) {
  nncl_context *ctx = tu_ctx();
  const int64_t m = 13, n = 21, k = 19, batch = 3;
  for (int bcast = 0; bcast < 2; bcast++) {
    const int64_t sa = bcast ? 0 : m * k;
    const size_t na = (size_t)((bcast ? 1 : batch) * m * k), nb = (size_t)(batch * k * n);
    const size_t nc = (size_t)(batch * m * n);
    float *a = malloc(na * 4), *b = malloc(nb * 4), *bias = malloc((size_t)n * 4);
    float *want = malloc(nc * 4), *got = malloc(nc * 4);
    uint16_t *ah = malloc(na * 2), *bh = malloc(nb * 2), *biash = malloc((size_t)n * 2);
    uint16_t *c_plain = malloc(nc * 2), *c_packed = malloc(nc * 2);
    cr_assert(a && b && bias && want && got && ah && bh && biash && c_plain && c_packed);
    tu_fill(a, na, 7, -1.0f, 1.0f);
    tu_fill(b, nb, 8, -1.0f, 1.0f);
    tu_fill(bias, (size_t)n, 9, -1.0f, 1.0f);
    /* the reference sees the half-rounded operands the device holds */
    for (size_t i = 0; i < na; i++) a[i] = nncl__half_to_float(ah[i] = nncl__half_from_float(a[i]));
    for (size_t i = 0; i < nb; i++) b[i] = nncl__half_to_float(bh[i] = nncl__half_from_float(b[i]));
    for (int64_t j = 0; j < n; j++)
      bias[j] = nncl__half_to_float(biash[j] = nncl__half_from_float(bias[j]));
    ref_gemm_batched(0, 0, m, n, k, batch, 1.0f, a, k, sa, b, n, k * n, 0.0f, want, n, m * n);
    for (size_t i = 0; i < nc; i++) want[i] += bias[i % (size_t)n];
    struct nncl__gemm g = {.m = (size_t)m,
                           .n = (size_t)n,
                           .k = (size_t)k,
                           .batch = (size_t)batch,
                           .alpha = 1.0f,
                           .lda = (size_t)k,
                           .a_stride = (size_t)sa,
                           .ldb = (size_t)n,
                           .b_stride = (size_t)(k * n),
                           .ldc = (size_t)n,
                           .c_stride = (size_t)(m * n),
                           .has_bias = true,
                           .bias_cs = 1,
                           .bias_scale = 1.0f,
                           .half_storage = true};
    nncl_status st = nncl__buffer_from_host(ctx, ah, na * 2, "test A", &g.a);
    if (st == NNCL_OK) st = nncl__buffer_from_host(ctx, bh, nb * 2, "test B", &g.b);
    if (st == NNCL_OK) st = nncl__buffer_from_host(ctx, biash, (size_t)n * 2, "test bias", &g.bias);
    if (st == NNCL_OK) st = nncl__buffer_create(ctx, nc * 2, "test C", &g.c);
    if (st == NNCL_OK) st = nncl__gemm_run(ctx, &g);
    if (st == NNCL_OK) st = nncl__buffer_download(ctx, g.c, 0, c_plain, nc * 2);
    if (st == NNCL_OK) st = nncl__gemm_pack_a(ctx, &g, ah, na * 2, true, &g.a_packed);
    cr_assert_eq(st, NNCL_OK, "%s", nncl_context_last_error(ctx));
    cr_assert(g.a_packed, "half storage: A was not packed");
    nncl_stats s0, s1;
    st = nncl__gemm_prepare(ctx, &g, NULL);
    nncl_context_stats(ctx, &s0);
    if (st == NNCL_OK) st = nncl__gemm_run(ctx, &g);
    nncl_context_stats(ctx, &s1);
    if (st == NNCL_OK) st = nncl__buffer_download(ctx, g.c, 0, c_packed, nc * 2);
    cr_assert_eq(st, NNCL_OK, "%s", nncl_context_last_error(ctx));
    cr_assert_eq(s1.kernel_launches - s0.kernel_launches, 2,
                 "half storage, A packed: gemm_pack_b and gemm_tile only, got %llu launches",
                 (unsigned long long)(s1.kernel_launches - s0.kernel_launches));
    for (size_t i = 0; i < nc; i++) {
      cr_assert_eq(c_packed[i], c_plain[i],
                   "half storage%s, A packed: element %zu is 0x%04x, packing every run gave 0x%04x",
                   bcast ? " (A broadcast)" : "", i, c_packed[i], c_plain[i]);
      got[i] = nncl__half_to_float(c_packed[i]);
    }
    tu_assert_close(got, want, nc, 1e-3, 1e-5,
                    bcast ? "half storage (A broadcast), A packed" : "half storage, A packed");
    nncl__buffer_release(g.a);
    nncl__buffer_release(g.b);
    nncl__buffer_release(g.c);
    nncl__buffer_release(g.bias);
    nncl__buffer_release(g.a_packed);
    free(a);
    free(b);
    free(bias);
    free(want);
    free(got);
    free(ah);
    free(bh);
    free(biash);
    free(c_plain);
    free(c_packed);
  }
}
