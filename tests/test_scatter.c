/* test_scatter.c: the scatter family (GatherND, ScatterElements/Scatter, ScatterND) against
   tests/ref/scatter_ref.c on random shapes (rank 1-4, batch_dims 0-2, duplicate and negative
   indices, int32 and int64 indices, every reduction, both ScatterND/ScatterElements algorithms).
   Compared exactly: the kernels apply duplicates in the reference's order. */
#include <stdlib.h>
#include <string.h>

#include "ref/scatter_ref.h"
#include "test_util.h"

static nncl_array rand_f32(uint32_t seed, const nncl_shape *s) {
  return tu_rand(seed, s->rank, s->dims);
}

static const char *kRed[] = {"none", "add", "mul"};

Test(scatter, gather_nd) {
  uint32_t st = 7;
  for (int t = 0; t < 30; t++) {
    int r = (int)tu_rand_int(&st, 1, 4), b = (int)tu_rand_int(&st, 0, r - 1 < 2 ? r - 1 : 2);
    int k = (int)tu_rand_int(&st, 1, r - b), extra = (int)tu_rand_int(&st, 0, 2);
    nncl_shape xs = {.rank = r}, qs = {.rank = b + extra + 1};
    for (int i = 0; i < r; i++) xs.dims[i] = tu_rand_int(&st, 1, 5);
    for (int i = 0; i < b; i++) qs.dims[i] = xs.dims[i];
    for (int i = 0; i < extra; i++) qs.dims[b + i] = tu_rand_int(&st, 1, 3);
    qs.dims[b + extra] = k;
    int64_t nq = nncl_shape_numel(&qs), idx[512];
    for (int64_t i = 0; i < nq; i++) {
      int64_t d = xs.dims[b + i % k];
      idx[i] = tu_rand_int(&st, -d, d - 1);
    }
    nncl_array x = rand_f32((uint32_t)t + 1, &xs),
               q = tu_ints(t % 3 ? NNCL_INT64 : NNCL_INT32, &qs, idx), out;
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
Test(scatter, scatter_elements) {
  uint32_t st = 11;
  for (int t = 0; t < 36; t++) {
    int r = (int)tu_rand_int(&st, 1, 4), axis = (int)tu_rand_int(&st, 0, r - 1), red = t % 3;
    nncl_shape xs = {.rank = r}, us = {.rank = r};
    for (int i = 0; i < r; i++) {
      xs.dims[i] = tu_rand_int(&st, 1, 5);
      us.dims[i] = i == axis ? tu_rand_int(&st, 1, 6) : tu_rand_int(&st, 1, xs.dims[i]);
    }
    int64_t nu = nncl_shape_numel(&us), idx[1024], d = xs.dims[axis];
    for (int64_t i = 0; i < nu; i++)
      idx[i] = tu_rand_int(&st, -d, d - 1); /* duplicates are common */
    nncl_array x = rand_f32((uint32_t)t + 100, &xs), u = rand_f32((uint32_t)t + 200, &us), out;
    nncl_array q = tu_ints(t % 4 ? NNCL_INT64 : NNCL_INT32, &us, idx);
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

Test(scatter, scatter_nd) {
  uint32_t st = 23;
  for (int t = 0; t < 30; t++) {
    int r = (int)tu_rand_int(&st, 1, 4), k = (int)tu_rand_int(&st, 1, r),
        extra = (int)tu_rand_int(&st, 0, 2), red = t % 3;
    nncl_shape xs = {.rank = r}, qs = {.rank = extra + 1}, us = {.rank = extra + r - k};
    for (int i = 0; i < r; i++) xs.dims[i] = tu_rand_int(&st, 1, 5);
    for (int i = 0; i < extra; i++) us.dims[i] = qs.dims[i] = tu_rand_int(&st, 1, 4);
    qs.dims[extra] = k;
    for (int i = k; i < r; i++) us.dims[extra + i - k] = xs.dims[i];
    int64_t nq = nncl_shape_numel(&qs), idx[256];
    for (int64_t i = 0; i < nq; i++) {
      int64_t d = xs.dims[i % k];
      idx[i] = tu_rand_int(&st, -d, d - 1);
    }
    nncl_array x = rand_f32((uint32_t)t + 300, &xs), u = rand_f32((uint32_t)t + 400, &us), out;
    nncl_array q = tu_ints(t % 4 ? NNCL_INT64 : NNCL_INT32, &qs, idx);
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
Test(scatter, scatter_deterministic) {
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

Test(scatter, scatter_index_out_of_range) {
  nncl_array x = TU_RAND(1, 4, 3), u = TU_RAND(2, 1, 3), q = TU_ZEROS(NNCL_INT64, 1, 3), out;
  ((int64_t *)q.data)[1] = 4;
  const nncl_array *in[] = {&x, &q, &u};
  cr_assert_eq(tu_try_op("ScatterElements", 13, NULL, 0, 3, in, 1, &out),
               NNCL_ERR_INVALID_ARGUMENT);
  nncl_array_free(&x);
  nncl_array_free(&u);
  nncl_array_free(&q);
}

/* ScatterND with many tuples and short rows takes the row-claiming path: still last wins. */
Test(scatter, scatter_nd_owner) {
  const int64_t rows[2] = {50, 7}, cols[2] = {3, 9}, ntup[2] = {600, 400};
  uint32_t st = 77;
  for (int t = 0; t < 2; t++) {
    int k = t + 1;
    nncl_shape xs = {.rank = 2, .dims = {rows[t], cols[t]}}, qs = {.rank = 2, .dims = {ntup[t], k}};
    nncl_shape us = {.rank = t ? 1 : 2, .dims = {ntup[t], cols[t]}};
    int64_t idx[800];
    for (int64_t i = 0; i < ntup[t] * k; i++) {
      int64_t d = xs.dims[i % k];
      idx[i] = tu_rand_int(&st, -d, d - 1);
    }
    nncl_array x = rand_f32(1000u + (uint32_t)t, &xs), u = rand_f32(1100u + (uint32_t)t, &us), out;
    nncl_array q = tu_ints(t ? NNCL_INT32 : NNCL_INT64, &qs, idx);
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
Test(scatter, scatter_elements_owner) {
  const nncl_shape xs[2] = {{.rank = 2, .dims = {3, 40}}, {.rank = 3, .dims = {30, 2, 3}}};
  const nncl_shape us[2] = {{.rank = 2, .dims = {2, 300}}, {.rank = 3, .dims = {200, 2, 2}}};
  const int axes[2] = {1, 0};
  uint32_t st = 91;
  for (int t = 0; t < 2; t++) {
    int64_t nu = nncl_shape_numel(&us[t]), idx[800], d = xs[t].dims[axes[t]];
    for (int64_t i = 0; i < nu; i++) idx[i] = tu_rand_int(&st, -d, d - 1);
    nncl_array x = rand_f32(1200u + (uint32_t)t, &xs[t]), u = rand_f32(1300u + (uint32_t)t, &us[t]);
    nncl_array q = tu_ints(t ? NNCL_INT32 : NNCL_INT64, &us[t], idx), out;
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
