/* test_einsum.c: Einsum (GEMM and general paths, the chosen one checked) against
   tests/ref/einsum_ref.c (every letter combination accumulated in double); rtol/atol 1e-5. */
#include <stdlib.h>
#include <string.h>

#include "ref/einsum_ref.h"
#include "test_util.h"

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

Test(einsum, einsum) {
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

Test(einsum, einsum_errors) {
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
