/* test_ops2b.c: GatherND, ScatterElements/Scatter, ScatterND, ReverseSequence,
   NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss and Einsum against tests/ref/ops2b_ref.c on
   random shapes (rank 1-4, batch_dims 0-2, duplicate and negative indices, int32 and int64 indices,
   every reduction, optional weights and outputs). Data movement and scatters are compared
   exactly (the kernels apply duplicates in the reference's order); losses with rtol 1e-5, Einsum
   (GEMM and general paths, the chosen one checked) with rtol/atol 1e-5. */
#include <stdlib.h>
#include <string.h>

#include "ref/ops2b_ref.h"
#include "test_util.h"

static int64_t rnd(uint32_t *s, int64_t lo, int64_t hi) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return lo + (int64_t)(*s % (uint32_t)(hi - lo + 1));
}

static nncl_array rand_f32(uint32_t seed, const nncl_shape *s) {
  return tu_rand(seed, s->rank, s->dims);
}

/* int64 or int32 array of shape s holding v. */
static nncl_array ints(nncl_dtype it, const nncl_shape *s, const int64_t *v) {
  nncl_array a;
  cr_assert_eq(nncl_array_alloc(&a, it, s), NNCL_OK);
  for (int64_t i = 0; i < nncl_shape_numel(s); i++) {
    if (it == NNCL_INT64)
      ((int64_t *)a.data)[i] = v[i];
    else
      ((int32_t *)a.data)[i] = (int32_t)v[i];
  }
  return a;
}

static const char *kRed[] = {"none", "add", "mul"};

Test(ops2b, gather_nd) {
  uint32_t st = 7;
  for (int t = 0; t < 30; t++) {
    int r = (int)rnd(&st, 1, 4), b = (int)rnd(&st, 0, r - 1 < 2 ? r - 1 : 2);
    int k = (int)rnd(&st, 1, r - b), extra = (int)rnd(&st, 0, 2);
    nncl_shape xs = {.rank = r}, qs = {.rank = b + extra + 1};
    for (int i = 0; i < r; i++) xs.dims[i] = rnd(&st, 1, 5);
    for (int i = 0; i < b; i++) qs.dims[i] = xs.dims[i];
    for (int i = 0; i < extra; i++) qs.dims[b + i] = rnd(&st, 1, 3);
    qs.dims[b + extra] = k;
    int64_t nq = nncl_shape_numel(&qs), idx[512];
    for (int64_t i = 0; i < nq; i++) {
      int64_t d = xs.dims[b + i % k];
      idx[i] = rnd(&st, -d, d - 1);
    }
    nncl_array x = rand_f32((uint32_t)t + 1, &xs),
               q = ints(t % 3 ? NNCL_INT64 : NNCL_INT32, &qs, idx), out;
    struct nncl__attr a = A_INT("batch_dims", b);
    const nncl_array *in[] = {&x, &q};
    tu_run_op("GatherND", 13, &a, 1, 2, in, 1, &out);
    int64_t n = nncl_shape_numel(&out.shape);
    float *want = malloc((size_t)n * sizeof *want);
    ref_gather_nd(x.data, &xs, idx, &qs, b, want);
    tu_assert_close((const float *)out.data, want, (size_t)n, 0.0, 0.0, "GatherND");
    free(want);
    nncl_array_free(&x);
    nncl_array_free(&q);
    nncl_array_free(&out);
  }
}

/* ScatterElements (opset 16 with reduction) and Scatter (opset 9, reduction none). */
Test(ops2b, scatter_elements) {
  uint32_t st = 11;
  for (int t = 0; t < 36; t++) {
    int r = (int)rnd(&st, 1, 4), axis = (int)rnd(&st, 0, r - 1), red = t % 3;
    nncl_shape xs = {.rank = r}, us = {.rank = r};
    for (int i = 0; i < r; i++) {
      xs.dims[i] = rnd(&st, 1, 5);
      us.dims[i] = i == axis ? rnd(&st, 1, 6) : rnd(&st, 1, xs.dims[i]);
    }
    int64_t nu = nncl_shape_numel(&us), idx[1024], d = xs.dims[axis];
    for (int64_t i = 0; i < nu; i++) idx[i] = rnd(&st, -d, d - 1); /* duplicates are common */
    nncl_array x = rand_f32((uint32_t)t + 100, &xs), u = rand_f32((uint32_t)t + 200, &us), out;
    nncl_array q = ints(t % 4 ? NNCL_INT64 : NNCL_INT32, &us, idx);
    struct nncl__attr a[2] = {A_INT("axis", t % 2 ? axis - r : axis),
                              A_STR("reduction", kRed[red])};
    const nncl_array *in[] = {&x, &q, &u};
    int old = red == 0 && t % 2;
    tu_run_op(old ? "Scatter" : "ScatterElements", old ? 9 : 16, a, old ? 1 : 2, 3, in, 1, &out);
    int64_t n = nncl_shape_numel(&xs);
    float *want = malloc((size_t)n * sizeof *want);
    ref_scatter_elements(x.data, &xs, idx, u.data, &us, axis, (enum ref_scatter_red)red, want);
    tu_assert_close((const float *)out.data, want, (size_t)n, 0.0, 0.0, kRed[red]);
    free(want);
    nncl_array_free(&x);
    nncl_array_free(&u);
    nncl_array_free(&q);
    nncl_array_free(&out);
  }
}

Test(ops2b, scatter_nd) {
  uint32_t st = 23;
  for (int t = 0; t < 30; t++) {
    int r = (int)rnd(&st, 1, 4), k = (int)rnd(&st, 1, r), extra = (int)rnd(&st, 0, 2), red = t % 3;
    nncl_shape xs = {.rank = r}, qs = {.rank = extra + 1}, us = {.rank = extra + r - k};
    for (int i = 0; i < r; i++) xs.dims[i] = rnd(&st, 1, 5);
    for (int i = 0; i < extra; i++) us.dims[i] = qs.dims[i] = rnd(&st, 1, 4);
    qs.dims[extra] = k;
    for (int i = k; i < r; i++) us.dims[extra + i - k] = xs.dims[i];
    int64_t nq = nncl_shape_numel(&qs), idx[256];
    for (int64_t i = 0; i < nq; i++) {
      int64_t d = xs.dims[i % k];
      idx[i] = rnd(&st, -d, d - 1);
    }
    nncl_array x = rand_f32((uint32_t)t + 300, &xs), u = rand_f32((uint32_t)t + 400, &us), out;
    nncl_array q = ints(t % 4 ? NNCL_INT64 : NNCL_INT32, &qs, idx);
    struct nncl__attr a = A_STR("reduction", kRed[red]);
    const nncl_array *in[] = {&x, &q, &u};
    tu_run_op("ScatterND", 16, &a, 1, 3, in, 1, &out);
    int64_t n = nncl_shape_numel(&xs);
    float *want = malloc((size_t)n * sizeof *want);
    ref_scatter_nd(x.data, &xs, idx, &qs, u.data, (enum ref_scatter_red)red, want);
    tu_assert_close((const float *)out.data, want, (size_t)n, 0.0, 0.0, kRed[red]);
    free(want);
    nncl_array_free(&x);
    nncl_array_free(&u);
    nncl_array_free(&q);
    nncl_array_free(&out);
  }
}

/* Duplicate indices with reduction add: the same bits on every run (no atomics). */
Test(ops2b, scatter_deterministic) {
  nncl_array x = TU_RAND(5, 3, 1), u = TU_RAND(6, 3, 4096), q = TU_ZEROS(NNCL_INT64, 3, 4096), o1,
             o2;
  for (int i = 0; i < 3 * 4096; i++) ((int64_t *)q.data)[i] = 0;
  x.shape.dims[1] = 1;
  struct nncl__attr a[2] = {A_INT("axis", 1), A_STR("reduction", "add")};
  const nncl_array *in[] = {&x, &q, &u};
  tu_run_op("ScatterElements", 16, a, 2, 3, in, 1, &o1);
  tu_run_op("ScatterElements", 16, a, 2, 3, in, 1, &o2);
  cr_assert(!memcmp(o1.data, o2.data, 3 * sizeof(float)), "two runs differ");
  float want[3];
  ref_scatter_elements(x.data, &x.shape, q.data, u.data, &u.shape, 1, REF_RED_ADD, want);
  tu_assert_close((const float *)o1.data, want, 3, 0.0, 0.0, "4096 duplicates");
  nncl_array_free(&x);
  nncl_array_free(&u);
  nncl_array_free(&q);
  nncl_array_free(&o1);
  nncl_array_free(&o2);
}

Test(ops2b, scatter_index_out_of_range) {
  nncl_array x = TU_RAND(1, 4, 3), u = TU_RAND(2, 1, 3), q = TU_ZEROS(NNCL_INT64, 1, 3), out;
  ((int64_t *)q.data)[1] = 4;
  const nncl_array *in[] = {&x, &q, &u};
  cr_assert_eq(tu_try_op("ScatterElements", 13, NULL, 0, 3, in, 1, &out),
               NNCL_ERR_INVALID_ARGUMENT);
  nncl_array_free(&x);
  nncl_array_free(&u);
  nncl_array_free(&q);
}

Test(ops2b, reverse_sequence) {
  uint32_t st = 31;
  for (int t = 0; t < 16; t++) {
    int r = (int)rnd(&st, 2, 4), ba = t % 2;
    nncl_shape xs = {.rank = r}, ls = {.rank = 1};
    for (int i = 0; i < r; i++) xs.dims[i] = rnd(&st, 1, 6);
    ls.dims[0] = xs.dims[ba];
    int64_t lens[8];
    for (int i = 0; i < ls.dims[0]; i++) lens[i] = rnd(&st, 0, xs.dims[1 - ba]);
    nncl_array x = rand_f32((uint32_t)t + 500, &xs),
               l = ints(t % 3 ? NNCL_INT64 : NNCL_INT32, &ls, lens), out;
    struct nncl__attr a[2] = {A_INT("batch_axis", ba), A_INT("time_axis", 1 - ba)};
    const nncl_array *in[] = {&x, &l};
    tu_run_op("ReverseSequence", 10, a, 2, 2, in, 1, &out);
    int64_t n = nncl_shape_numel(&xs);
    float *want = malloc((size_t)n * sizeof *want);
    ref_reverse_sequence(x.data, &xs, lens, ba, want);
    tu_assert_close((const float *)out.data, want, (size_t)n, 0.0, 0.0, "ReverseSequence");
    free(want);
    nncl_array_free(&x);
    nncl_array_free(&l);
    nncl_array_free(&out);
  }
}

/* NegativeLogLikelihoodLoss (sce = 0) or SoftmaxCrossEntropyLoss with and without log_prob. */
static void check_loss(int sce) {
  uint32_t st = sce ? 41 : 43;
  for (int t = 0; t < 24; t++) {
    int sp = (int)rnd(&st, 0, 3), red = t % 3, has_w = t % 2, n_out = sce ? 1 + (t / 3) % 2 : 1;
    nncl_shape xs = {.rank = 2 + sp}, ts = {.rank = 1 + sp}, ws = {.rank = 1};
    xs.dims[0] = ts.dims[0] = rnd(&st, 1, 4);
    xs.dims[1] = ws.dims[0] = rnd(&st, 1, 7);
    for (int i = 0; i < sp; i++) xs.dims[2 + i] = ts.dims[1 + i] = rnd(&st, 1, 5);
    int64_t C = xs.dims[1], ii = t % 4 == 0 ? -1 : t % 4 == 1 ? rnd(&st, 0, C - 1) : INT64_MIN;
    int64_t np = nncl_shape_numel(&ts), tg[512];
    for (int64_t i = 0; i < np; i++) {
      tg[i] = rnd(&st, 0, C - 1);
      if (ii == -1 && rnd(&st, 0, 3) == 0) tg[i] = -1;
    }
    if (red == 2 && ii != INT64_MIN && tg[0] == ii) tg[0] = (ii + 1) % C; /* keep a weight > 0 */
    nncl_array x = tu_rand((uint32_t)t + 600, xs.rank, xs.dims),
               w = tu_rand((uint32_t)t + 700, 1, ws.dims);
    for (int64_t c = 0; c < C; c++) ((float *)w.data)[c] += 0.5f; /* positive weights */
    nncl_array tgt = ints(t % 5 ? NNCL_INT64 : NNCL_INT32, &ts, tg), out[2];
    struct nncl__attr a[2] = {A_STR("reduction", kRed[0])};
    const char *rn[] = {"none", "sum", "mean"};
    a[0] = A_STR("reduction", rn[red]);
    int na = 1;
    if (ii != INT64_MIN) a[na++] = A_INT("ignore_index", ii);
    const nncl_array *in[] = {&x, &tgt, &w};
    tu_run_op(sce ? "SoftmaxCrossEntropyLoss" : "NegativeLogLikelihoodLoss", 13, a, na,
              has_w ? 3 : 2, in, n_out, out);
    int64_t nx = nncl_shape_numel(&xs);
    float *lp = malloc((size_t)nx * sizeof *lp), *want = malloc((size_t)np * sizeof *want);
    if (sce)
      ref_log_softmax_axis1(x.data, &xs, lp);
    else
      memcpy(lp, x.data, (size_t)nx * sizeof *lp);
    ref_nll_loss(lp, &xs, tg, has_w ? w.data : NULL, red, ii, want);
    cr_assert_eq(nncl_shape_numel(&out[0].shape), red ? 1 : np);
    tu_assert_close((const float *)out[0].data, want, red ? 1 : (size_t)np, 1e-5, 1e-6, rn[red]);
    if (n_out == 2) {
      tu_assert_close((const float *)out[1].data, lp, (size_t)nx, 1e-5, 1e-6, "log_prob");
      nncl_array_free(&out[1]);
    }
    free(lp);
    free(want);
    nncl_array_free(&x);
    nncl_array_free(&w);
    nncl_array_free(&tgt);
    nncl_array_free(&out[0]);
  }
}

Test(ops2b, nll_loss) { check_loss(0); }
Test(ops2b, softmax_cross_entropy_loss) { check_loss(1); }

/* A sum over many positions goes through the whole work-group tree. */
Test(ops2b, nll_loss_large_mean) {
  nncl_array x = TU_RAND(9, 3, 10, 777), tgt = TU_ZEROS(NNCL_INT64, 3, 777), out;
  int64_t *tg = tgt.data;
  for (int i = 0; i < 3 * 777; i++) tg[i] = (i * 7) % 10;
  struct nncl__attr a = A_STR("reduction", "mean");
  const nncl_array *in[] = {&x, &tgt};
  tu_run_op("NegativeLogLikelihoodLoss", 13, &a, 1, 2, in, 1, &out);
  float want;
  ref_nll_loss(x.data, &x.shape, tg, NULL, 2, INT64_MIN, &want);
  tu_assert_close((const float *)out.data, &want, 1, 1e-5, 1e-6, "mean of 2331");
  nncl_array_free(&x);
  nncl_array_free(&tgt);
  nncl_array_free(&out);
}

/* ---- Einsum ---- */
struct ein_case {
  const char *eq;           /* what the op gets */
  const char *la, *lb, *lo; /* the same with one letter per dim for the reference */
  int ra, rb;
  int64_t da[4], db[4];
  const char *algo; /* expected algorithm */
};

static const struct ein_case kEin[] = {
    {"ij,jk->ik", "ij", "jk", "ik", 2, 2, {5, 7}, {7, 3}, "gemm"},
    {"bij, bjk -> bik", "bij", "bjk", "bik", 3, 3, {3, 5, 7}, {3, 7, 4}, "gemm"},
    {"ij,kj->ik", "ij", "kj", "ik", 2, 2, {6, 9}, {5, 9}, "gemm"},
    {"ji,jk->ik", "ji", "jk", "ik", 2, 2, {9, 6}, {9, 5}, "gemm"},
    {"ji,kj->ki", "ji", "kj", "ki", 2, 2, {9, 6}, {5, 9}, "gemm"},
    {"bhqd,bhkd->bhqk", "bhqd", "bhkd", "bhqk", 4, 4, {2, 3, 5, 8}, {2, 3, 7, 8}, "gemm"},
    {"ij,jk", "ij", "jk", "ik", 2, 2, {4, 3}, {3, 6}, "gemm"},
    {"i,i", "i", "i", "", 1, 1, {17}, {17}, "gemm"},
    {"i,j->ij", "i", "j", "ij", 1, 1, {5}, {3}, "gemm"},
    {"ij,j->i", "ij", "j", "i", 2, 1, {7, 11}, {11}, "gemm"},
    {"...ij,jk->...ik", "xyij", "jk", "xyik", 4, 2, {2, 3, 4, 5}, {5, 6}, "gemm"},
    {"bij,jk->bik", "bij", "jk", "bik", 3, 2, {3, 4, 5}, {5, 2}, "gemm"},
    {"bij,bjk->bki", "bij", "bjk", "bki", 3, 3, {3, 5, 7}, {3, 7, 4}, "gemm"}, /* swapped */
    {"bij,bjk->ikb", "bij", "bjk", "ikb", 3, 3, {3, 5, 7}, {3, 7, 4}, "generic"},
    {"bij,bkj->", "bij", "bkj", "", 3, 3, {2, 3, 4}, {2, 5, 4}, "generic"},
    {"ij,jk->k", "ij", "jk", "k", 2, 2, {3, 4}, {4, 5}, "generic"},
    {"ij->i", "ij", NULL, "i", 2, 0, {3, 13}, {0}, "generic"},
    {"ij->ji", "ij", NULL, "ji", 2, 0, {3, 4}, {0}, "generic"},
    {"ij->", "ij", NULL, "", 2, 0, {31, 7}, {0}, "generic"},
    {"ii->i", "ii", NULL, "i", 2, 0, {5, 5}, {0}, "generic"},
    {"...ii ->...i", "xii", NULL, "xi", 3, 0, {3, 5, 5}, {0}, "generic"},
    {"bii,bi->b", "bii", "bi", "b", 3, 2, {2, 4, 4}, {2, 4}, "generic"},
    {"ji", "ji", NULL, "ij", 2, 0, {3, 4}, {0}, "generic"},
};

Test(ops2b, einsum) {
  for (size_t t = 0; t < sizeof kEin / sizeof kEin[0]; t++) {
    const struct ein_case *e = &kEin[t];
    nncl_array a = tu_rand((uint32_t)t + 800, e->ra, e->da), b = {0}, out;
    if (e->lb) b = tu_rand((uint32_t)t + 900, e->rb, e->db);
    struct nncl__attr at = A_STR("equation", e->eq);
    const nncl_array *in[] = {&a, &b};
    struct op_instance *oi;
    nncl_status st =
        op_instance_create(tu_ctx(), "Einsum", 12, &at, 1, e->lb ? 2 : 1, in, 1, NULL, NULL, &oi);
    cr_assert_eq(st, NNCL_OK, "%s: %s", e->eq, nncl_context_last_error(tu_ctx()));
    cr_assert_str_eq(op_instance_call(oi)->algo, e->algo, "%s", e->eq);
    cr_assert_eq(op_instance_enqueue(oi), NNCL_OK);
    cr_assert_eq(op_instance_read(oi, &out), NNCL_OK);
    op_instance_destroy(oi);
    int64_t n = nncl_shape_numel(&out.shape);
    float *want = malloc((size_t)n * sizeof *want);
    ref_einsum(e->la, a.data, &a.shape, e->lb, e->lb ? b.data : NULL, &b.shape, e->lo, want);
    tu_assert_close((const float *)out.data, want, (size_t)n, 1e-5, 1e-5, e->eq);
    free(want);
    nncl_array_free(&a);
    nncl_array_free(&b);
    nncl_array_free(&out);
  }
}

Test(ops2b, einsum_errors) {
  nncl_array a = TU_RAND(1, 3, 4), b = TU_RAND(2, 5, 6), out;
  const char *bad[] = {"ij,jk->ik", "ij,jk->iz", "i.j,jk->ik", "ijk,jk->ik", "ij,jk->ii"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct nncl__attr at = A_STR("equation", bad[i]);
    const nncl_array *in[] = {&a, &b};
    cr_assert_neq(tu_try_op("Einsum", 12, &at, 1, 2, in, 1, &out), NNCL_OK, "%s", bad[i]);
  }
  nncl_array_free(&a);
  nncl_array_free(&b);
}

/* ScatterND with many tuples and short rows takes the row-claiming path: still last wins. */
Test(ops2b, scatter_nd_owner) {
  const int64_t rows[2] = {50, 7}, cols[2] = {3, 9}, ntup[2] = {600, 400};
  uint32_t st = 77;
  for (int t = 0; t < 2; t++) {
    int k = t + 1;
    nncl_shape xs = {.rank = 2, .dims = {rows[t], cols[t]}}, qs = {.rank = 2, .dims = {ntup[t], k}};
    nncl_shape us = {.rank = t ? 1 : 2, .dims = {ntup[t], cols[t]}};
    int64_t idx[800];
    for (int64_t i = 0; i < ntup[t] * k; i++) {
      int64_t d = xs.dims[i % k];
      idx[i] = rnd(&st, -d, d - 1);
    }
    nncl_array x = rand_f32(1000u + (uint32_t)t, &xs), u = rand_f32(1100u + (uint32_t)t, &us), out;
    nncl_array q = ints(t ? NNCL_INT32 : NNCL_INT64, &qs, idx);
    const nncl_array *in[] = {&x, &q, &u};
    struct op_instance *oi;
    cr_assert_eq(op_instance_create(tu_ctx(), "ScatterND", 13, NULL, 0, 3, in, 1, NULL, NULL, &oi),
                 NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
    cr_assert_str_eq(op_instance_call(oi)->algo, "owner");
    cr_assert_eq(op_instance_enqueue(oi), NNCL_OK);
    cr_assert_eq(op_instance_enqueue(oi), NNCL_OK); /* the claim buffer is reset every run */
    cr_assert_eq(op_instance_read(oi, &out), NNCL_OK);
    op_instance_destroy(oi);
    int64_t n = nncl_shape_numel(&xs);
    float *want = malloc((size_t)n * sizeof *want);
    ref_scatter_nd(x.data, &xs, idx, &qs, u.data, REF_RED_NONE, want);
    tu_assert_close((const float *)out.data, want, (size_t)n, 0.0, 0.0, "owner path");
    free(want);
    nncl_array_free(&x);
    nncl_array_free(&u);
    nncl_array_free(&q);
    nncl_array_free(&out);
  }
}

/* ScatterElements with few lines along a long axis takes the element-claiming path. */
Test(ops2b, scatter_elements_owner) {
  const nncl_shape xs[2] = {{.rank = 2, .dims = {3, 40}}, {.rank = 3, .dims = {30, 2, 3}}};
  const nncl_shape us[2] = {{.rank = 2, .dims = {2, 300}}, {.rank = 3, .dims = {200, 2, 2}}};
  const int axes[2] = {1, 0};
  uint32_t st = 91;
  for (int t = 0; t < 2; t++) {
    int64_t nu = nncl_shape_numel(&us[t]), idx[800], d = xs[t].dims[axes[t]];
    for (int64_t i = 0; i < nu; i++) idx[i] = rnd(&st, -d, d - 1);
    nncl_array x = rand_f32(1200u + (uint32_t)t, &xs[t]), u = rand_f32(1300u + (uint32_t)t, &us[t]);
    nncl_array q = ints(t ? NNCL_INT32 : NNCL_INT64, &us[t], idx), out;
    struct nncl__attr a = A_INT("axis", axes[t]);
    const nncl_array *in[] = {&x, &q, &u};
    struct op_instance *oi;
    cr_assert_eq(
        op_instance_create(tu_ctx(), "ScatterElements", 13, &a, 1, 3, in, 1, NULL, NULL, &oi),
        NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
    cr_assert_str_eq(op_instance_call(oi)->algo, "owner");
    cr_assert_eq(op_instance_enqueue(oi), NNCL_OK);
    cr_assert_eq(op_instance_enqueue(oi), NNCL_OK);
    cr_assert_eq(op_instance_read(oi, &out), NNCL_OK);
    op_instance_destroy(oi);
    int64_t n = nncl_shape_numel(&xs[t]);
    float *want = malloc((size_t)n * sizeof *want);
    ref_scatter_elements(x.data, &xs[t], idx, u.data, &us[t], axes[t], REF_RED_NONE, want);
    tu_assert_close((const float *)out.data, want, (size_t)n, 0.0, 0.0, "owner path");
    free(want);
    nncl_array_free(&x);
    nncl_array_free(&u);
    nncl_array_free(&q);
    nncl_array_free(&out);
  }
}
