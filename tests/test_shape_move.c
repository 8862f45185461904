/* test_shape_move.c: Transpose, Concat, Split, Slice, Expand against tests/ref/shape_ref.c on
   random shapes (rank 0-5, size-1 and zero-size dims, odd sizes) and every element size. Data
   movement is exact: results must match bit for bit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_shape_util.h"

static const nncl_dtype kDtypes[] = {NNCL_FLOAT32, NNCL_INT64, NNCL_UINT8,
                                     NNCL_FLOAT16, NNCL_INT32, NNCL_BOOL};
#define N_DTYPES ((int)(sizeof kDtypes / sizeof kDtypes[0]))

/* ---- Transpose ---- */
/* algo: NULL for the device's pick, else forced through transpose.algo ("tiled" is the local-memory
   tile GPUs use, "blocked" the 8x8 register blocks CPUs use). */
static void check_transpose(nncl_dtype dt, const nncl_shape *s, const int *perm, uint32_t seed,
                            const char *algo) {
  nncl_array x = sh_rand_array(dt, seed, s), out;
  int64_t p64[NNCL_MAX_RANK];
  for (int d = 0; d < s->rank; d++) p64[d] = perm[d];
  struct nncl__attr a[1] = {{.name = "perm", .type = ATTR_INTS, .ints = p64, .n = s->rank}};
  const nncl_array *in[] = {&x};
  tu_set_option("transpose.algo", algo);
  sh_run("Transpose", 13, a, 1, 1, in, 1, &out, NULL);
  tu_set_option("transpose.algo", NULL);
  nncl_shape os = {.rank = s->rank};
  for (int d = 0; d < s->rank; d++) os.dims[d] = s->dims[perm[d]];
  size_t es = nncl_dtype_size(dt);
  void *want = malloc((size_t)nncl_shape_numel(&os) * es + 1);
  ref_transpose(x.data, s, perm, es, want);
  char sa[128], what[256];
  snprintf(what, sizeof what, "Transpose %s %s perm [%d %d %d %d %d] %s", nncl_dtype_name(dt),
           nncl_shape_format(s, sa, sizeof sa), perm[0], perm[1], perm[2], perm[3], perm[4],
           algo ? algo : "");
  sh_assert_equal(&out, want, &os, what);
  free(want);
  nncl_array_free(&x);
  nncl_array_free(&out);
}

Test(transpose, random_ranks_perms_dtypes) {
  uint32_t st = 11;
  for (int t = 0; t < 40; t++) {
    int r = (int)sh_rand_int(&st, 1, 5);
    nncl_shape s = sh_rand_shape(&st, r, 1, 7);
    int perm[NNCL_MAX_RANK] = {0};
    for (int d = 0; d < r; d++) perm[d] = d;
    for (int d = r - 1; d > 0; d--) { /* Fisher-Yates */
      int j = (int)sh_rand_int(&st, 0, d), tmp = perm[d];
      perm[d] = perm[j];
      perm[j] = tmp;
    }
    check_transpose(kDtypes[t % N_DTYPES], &s, perm, (uint32_t)t + 1, NULL);
  }
}

Test(transpose, tiled_and_awkward_cases) {
  struct {
    nncl_shape s;
    int perm[5];
  } cases[] = {
      {SH_SHAPE(128, 96), {1, 0}},            /* plain 2-D, tiled */
      {SH_SHAPE(3, 67, 45), {0, 2, 1}},       /* batched, ragged tiles */
      {SH_SHAPE(2, 32, 9, 17), {0, 2, 3, 1}}, /* NCHW -> NHWC, tiled after merging */
      {SH_SHAPE(2, 9, 17, 3), {0, 3, 1, 2}},  /* NHWC -> NCHW with C = 3: copy path */
      {SH_SHAPE(4, 5, 6, 8), {0, 2, 1, 3}},   /* inner dim kept: widened copy */
      {SH_SHAPE(20, 1, 33), {2, 1, 0}},       /* size-1 dim dropped, then tiled */
      {SH_SHAPE(17, 19, 3, 5, 2), {4, 3, 2, 1, 0}},
      {SH_SHAPE(0, 5, 7), {2, 0, 1}},   /* empty */
      {SH_SHAPE(2, 24, 40), {0, 2, 1}}, /* whole 8x8 blocks only */
  };
  static const char *const algos[] = {"tiled", "blocked"};
  nncl_dtype dts[] = {NNCL_FLOAT32, NNCL_INT64, NNCL_UINT8, NNCL_FLOAT16};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int k = 0; k < 4; k++)
      for (int a = 0; a < 2; a++)
        check_transpose(dts[k], &cases[i].s, cases[i].perm, (uint32_t)(i * 4 + k), algos[a]);
}

Test(transpose, default_reverses_and_rank0) {
  nncl_array x = TU_RAND(5, 3, 4, 5), out;
  const nncl_array *in[] = {&x};
  sh_run("Transpose", 13, NULL, 0, 1, in, 1, &out, NULL);
  int perm[] = {2, 1, 0, 0, 0};
  float want[60];
  ref_transpose(x.data, &x.shape, perm, 4, want);
  nncl_shape os = SH_SHAPE(5, 4, 3);
  sh_assert_equal(&out, want, &os, "Transpose default perm");
  nncl_array_free(&out);
  nncl_array_free(&x);
  nncl_shape s0 = {.rank = 0};
  x = sh_rand_array(NNCL_FLOAT32, 3, &s0);
  sh_run("Transpose", 13, NULL, 0, 1, in, 1, &out, NULL);
  sh_assert_equal(&out, x.data, &s0, "Transpose of a scalar");
  nncl_array_free(&out);
  nncl_array_free(&x);
}

Test(transpose, bad_perm_names_node_and_shape) {
  nncl_array x = TU_RAND(1, 2, 3, 4);
  const nncl_array *in[] = {&x};
  struct nncl__attr a = A_INTS("perm", 0, 2, 2);
  sh_expect_error("Transpose", 13, &a, 1, 1, in, 1, NNCL_ERR_INVALID_ARGUMENT, "[2, 3, 4]", "perm");
  struct nncl__attr b = A_INTS("perm", 0, 1);
  sh_expect_error("Transpose", 13, &b, 1, 1, in, 1, NNCL_ERR_INVALID_ARGUMENT, "[2, 3, 4]",
                  "rank 3");
  nncl_array_free(&x);
}

/* ---- Concat ---- */
Test(concat, random_axes_counts_dtypes) {
  uint32_t st = 21;
  for (int t = 0; t < 36; t++) {
    nncl_dtype dt = kDtypes[t % N_DTYPES];
    int r = (int)sh_rand_int(&st, 1, 5), n = (int)sh_rand_int(&st, 1, 4);
    int axis = (int)sh_rand_int(&st, 0, r - 1);
    nncl_shape base = sh_rand_shape(&st, r, 1, 6);
    if (t % 5 == 0) base.dims[r - 1] = 8 * sh_rand_int(&st, 1, 3); /* widened runs */
    nncl_array x[4];
    nncl_shape shapes[4];
    const nncl_array *in[4];
    const void *ptr[4];
    for (int i = 0; i < n; i++) {
      shapes[i] = base;
      shapes[i].dims[axis] = sh_rand_int(&st, t % 7 == 0 ? 0 : 1, 5);
      x[i] = sh_rand_array(dt, (uint32_t)(t * 8 + i), &shapes[i]);
      in[i] = &x[i];
      ptr[i] = x[i].data;
    }
    int64_t attr_axis = t % 2 ? axis - r : axis; /* negative axes too */
    struct nncl__attr a = A_INT("axis", attr_axis);
    nncl_array out;
    sh_run("Concat", 13, &a, 1, n, in, 1, &out, NULL);
    nncl_shape os = base;
    os.dims[axis] = 0;
    for (int i = 0; i < n; i++) os.dims[axis] += shapes[i].dims[axis];
    void *want = malloc((size_t)nncl_shape_numel(&os) * nncl_dtype_size(dt) + 1);
    ref_concat(n, ptr, shapes, axis, nncl_dtype_size(dt), want);
    char what[128];
    snprintf(what, sizeof what, "Concat case %d (%d inputs, axis %lld, %s)", t, n,
             (long long)attr_axis, nncl_dtype_name(dt));
    sh_assert_equal(&out, want, &os, what);
    free(want);
    nncl_array_free(&out);
    sh_free(x, n);
  }
}

Test(concat, mismatch_names_node_and_shapes) {
  nncl_array a = TU_RAND(1, 2, 3), b = TU_RAND(2, 3, 3);
  const nncl_array *in[] = {&a, &b};
  struct nncl__attr ax = A_INT("axis", 1);
  sh_expect_error("Concat", 13, &ax, 1, 2, in, 1, NNCL_ERR_SHAPE, "[2, 3]", "[3, 3]");
  struct nncl__attr bad = A_INT("axis", 2);
  sh_expect_error("Concat", 13, &bad, 1, 2, in, 1, NNCL_ERR_INVALID_ARGUMENT, "axis 2", "rank 2");
  nncl_array_free(&a);
  nncl_array_free(&b);
}

/* ---- Split ---- */
static void check_split(const nncl_array *x, int axis, int n, const int64_t *len, int opset,
                        int via_input) {
  struct nncl__attr attrs[2] = {A_INT("axis", axis)};
  int na = 1;
  nncl_array lens = {0};
  const nncl_array *in[2] = {x, NULL};
  int n_in = 1;
  if (len && via_input) {
    lens = tu_i64(n, len);
    in[1] = &lens;
    n_in = 2;
  } else if (len) {
    attrs[na++] =
        (struct nncl__attr){.name = "split", .type = ATTR_INTS, .ints = (int64_t *)len, .n = n};
  }
  nncl_array out[4];
  sh_run("Split", opset, attrs, na, n_in, in, n, out, NULL);
  int ax = axis < 0 ? axis + x->shape.rank : axis;
  int64_t off = 0;
  size_t es = nncl_dtype_size(x->dtype);
  for (int i = 0; i < n; i++) {
    int64_t l = len ? len[i] : x->shape.dims[ax] / n;
    int64_t starts[] = {off}, ends[] = {off + l}, axes[] = {ax};
    nncl_shape ws;
    void *want = malloc((size_t)nncl_shape_numel(&x->shape) * es + 1);
    ref_slice(x->data, &x->shape, starts, ends, axes, NULL, 1, es, want, &ws);
    char what[64];
    snprintf(what, sizeof what, "Split output %d of %d (axis %d)", i, n, axis);
    sh_assert_equal(&out[i], want, &ws, what);
    free(want);
    off += l;
  }
  sh_free(out, n);
  nncl_array_free(&lens);
}

Test(split, equal_variable_attr_and_input) {
  nncl_shape s = SH_SHAPE(4, 6, 10);
  nncl_array x = sh_rand_array(NNCL_FLOAT32, 5, &s), y = sh_rand_array(NNCL_INT64, 6, &s);
  check_split(&x, 1, 3, NULL, 13, 0);
  check_split(&y, -1, 2, NULL, 11, 0);
  check_split(&x, 2, 3, (int64_t[]){2, 0, 8}, 11, 0); /* zero-size part */
  check_split(&y, 0, 2, (int64_t[]){1, 3}, 13, 1);
  check_split(&x, -2, 4, (int64_t[]){1, 2, 2, 1}, 13, 1);
  nncl_array_free(&x);
  nncl_array_free(&y);
}

Test(split, bad_lengths_name_node_and_shape) {
  nncl_array x = TU_RAND(1, 4, 5);
  const nncl_array *in[] = {&x};
  struct nncl__attr a = A_INT("axis", 1);
  sh_expect_error("Split", 13, &a, 1, 1, in, 2, NNCL_ERR_SHAPE, "[4, 5]", "2 equal parts");
  struct nncl__attr b[] = {A_INT("axis", 0), A_INTS("split", 1, 2)};
  sh_expect_error("Split", 11, b, 2, 1, in, 2, NNCL_ERR_SHAPE, "[4, 5]", "add up to 3");
  nncl_array_free(&x);
}

/* ---- Slice ---- */
static void check_slice(const nncl_array *x, int n, const int64_t *starts, const int64_t *ends,
                        const int64_t *axes, const int64_t *steps, int opset, int idx32) {
  nncl_array s = tu_i64(n, starts), e = tu_i64(n, ends), a = {0}, p = {0};
  if (axes) a = tu_i64(n, axes);
  if (steps) p = tu_i64(n, steps);
  nncl_array *ints[] = {&s, &e, &a, &p};
  if (idx32) /* int32 index tensors */
    for (int k = 0; k < 4; k++) {
      if (!ints[k]->data) continue;
      nncl_array t;
      nncl_array_alloc(&t, NNCL_INT32, &ints[k]->shape);
      for (int i = 0; i < n; i++) {
        int64_t v = ((int64_t *)ints[k]->data)[i];
        ((int32_t *)t.data)[i] = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
      }
      nncl_array_free(ints[k]);
      *ints[k] = t;
    }
  nncl_array out;
  if (opset >= 10) {
    const nncl_array *in[] = {x, &s, &e, axes ? &a : NULL, steps ? &p : NULL};
    sh_run("Slice", opset, NULL, 0, steps ? 5 : axes ? 4 : 3, in, 1, &out, NULL);
  } else {
    struct nncl__attr at[] = {
        {.name = "starts", .type = ATTR_INTS, .ints = (int64_t *)starts, .n = n},
        {.name = "ends", .type = ATTR_INTS, .ints = (int64_t *)ends, .n = n},
        {.name = "axes", .type = ATTR_INTS, .ints = (int64_t *)axes, .n = n}};
    const nncl_array *in[] = {x};
    sh_run("Slice", opset, at, axes ? 3 : 2, 1, in, 1, &out, NULL);
  }
  size_t es = nncl_dtype_size(x->dtype);
  void *want = malloc((size_t)nncl_shape_numel(&x->shape) * es + 1);
  nncl_shape ws;
  ref_slice(x->data, &x->shape, starts, ends, axes, steps, n, es, want, &ws);
  char what[256], sh[128];
  snprintf(what, sizeof what,
           "Slice of %s %s (opset %d, %d axes, first start %lld end %lld step %lld)",
           nncl_dtype_name(x->dtype), nncl_shape_format(&x->shape, sh, sizeof sh), opset, n,
           (long long)starts[0], (long long)ends[0], steps ? (long long)steps[0] : 1LL);
  sh_assert_equal(&out, want, &ws, what);
  free(want);
  nncl_array_free(&out);
  nncl_array_free(&s);
  nncl_array_free(&e);
  nncl_array_free(&a);
  nncl_array_free(&p);
}

Test(slice, random_negative_steps_and_clamping) {
  uint32_t st = 31;
  for (int t = 0; t < 40; t++) {
    int r = (int)sh_rand_int(&st, 1, 5);
    nncl_shape s = sh_rand_shape(&st, r, t % 9 == 0 ? 0 : 1, 8);
    nncl_array x = sh_rand_array(kDtypes[t % N_DTYPES], (uint32_t)t, &s);
    int n = (int)sh_rand_int(&st, 1, r);
    int64_t starts[8], ends[8], axes[8], steps[8];
    int perm[8];
    for (int d = 0; d < r; d++) perm[d] = d;
    for (int d = r - 1; d > 0; d--) {
      int j = (int)sh_rand_int(&st, 0, d), tmp = perm[d];
      perm[d] = perm[j];
      perm[j] = tmp;
    }
    for (int i = 0; i < n; i++) {
      int64_t dim = s.dims[perm[i]];
      axes[i] = sh_rand_int(&st, 0, 1) ? perm[i] : perm[i] - r;
      starts[i] = sh_rand_int(&st, -dim - 3, dim + 3);
      ends[i] = sh_rand_int(&st, -dim - 3, dim + 3);
      steps[i] = (int64_t[]){1, 2, 3, -1, -2, -3}[sh_rand_int(&st, 0, 5)];
      if (sh_rand_int(&st, 0, 5) == 0) ends[i] = steps[i] > 0 ? INT64_MAX : INT64_MIN;
    }
    check_slice(&x, n, starts, ends, axes, steps, 13, t % 3 == 0);
    nncl_array_free(&x);
  }
}

Test(slice, attributes_defaults_and_widened_runs) {
  nncl_shape s = SH_SHAPE(3, 5, 16);
  nncl_array x = sh_rand_array(NNCL_FLOAT32, 8, &s);
  check_slice(&x, 2, (int64_t[]){1, 0}, (int64_t[]){3, -1}, (int64_t[]){0, 1}, NULL, 9, 0);
  check_slice(&x, 1, (int64_t[]){4}, (int64_t[]){12}, (int64_t[]){-1}, NULL, 1, 0);
  check_slice(&x, 2, (int64_t[]){0, 1}, (int64_t[]){10, 1000}, NULL, NULL, 10,
              0); /* default axes */
  check_slice(&x, 3, (int64_t[]){-1, 4, 15}, (int64_t[]){-100, -1, 0}, (int64_t[]){0, 1, 2},
              (int64_t[]){-1, 1, -1}, 13, 0); /* full reversal */
  nncl_array_free(&x);
}

Test(slice, zero_step_is_an_error) {
  nncl_array x = TU_RAND(1, 4, 5), s = TU_I64(0), e = TU_I64(3), a = TU_I64(1), p = TU_I64(0);
  const nncl_array *in[] = {&x, &s, &e, &a, &p};
  sh_expect_error("Slice", 13, NULL, 0, 5, in, 1, NNCL_ERR_INVALID_ARGUMENT, "step", "[4, 5]");
  nncl_array_free(&x);
  nncl_array_free(&s);
  nncl_array_free(&e);
  nncl_array_free(&a);
  nncl_array_free(&p);
}

/* ---- Expand ---- */
static void check_expand(nncl_dtype dt, const nncl_shape *s, int n, const int64_t *shape,
                         const nncl_shape *want_shape) {
  nncl_array x = sh_rand_array(dt, 77, s), sh = tu_i64(n, shape), out;
  const nncl_array *in[] = {&x, &sh};
  sh_run("Expand", 13, NULL, 0, 2, in, 1, &out, NULL);
  size_t es = nncl_dtype_size(dt);
  void *want = malloc((size_t)nncl_shape_numel(want_shape) * es + 1);
  ref_expand(x.data, s, want_shape, es, want);
  char sa[128], what[200];
  snprintf(what, sizeof what, "Expand %s %s", nncl_dtype_name(dt),
           nncl_shape_format(s, sa, sizeof sa));
  sh_assert_equal(&out, want, want_shape, what);
  free(want);
  nncl_array_free(&x);
  nncl_array_free(&sh);
  nncl_array_free(&out);
}

Test(expand, broadcasts) {
  for (int k = 0; k < 3; k++) {
    nncl_dtype dt = (nncl_dtype[]){NNCL_FLOAT32, NNCL_INT64, NNCL_UINT8}[k];
    nncl_shape a = SH_SHAPE(3, 1), wa = SH_SHAPE(2, 3, 6);
    check_expand(dt, &a, 3, (int64_t[]){2, 1, 6}, &wa);
    nncl_shape b = SH_SHAPE(5, 1, 1), wb = SH_SHAPE(2, 5, 7, 9);
    check_expand(dt, &b, 4, (int64_t[]){2, 5, 7, 9}, &wb);
    nncl_shape c = SH_SHAPE(2, 3), wc = SH_SHAPE(2, 3); /* shape of lower rank */
    check_expand(dt, &c, 1, (int64_t[]){3}, &wc);
    nncl_shape d = {.rank = 0}, wd = SH_SHAPE(4, 16);
    check_expand(dt, &d, 2, (int64_t[]){4, 16}, &wd);
    nncl_shape e = SH_SHAPE(1, 8), we = SH_SHAPE(0, 8); /* to zero size */
    check_expand(dt, &e, 2, (int64_t[]){0, 8}, &we);
  }
}

Test(expand, incompatible_shape_is_named) {
  nncl_array x = TU_RAND(1, 3, 4), sh = TU_I64(2, 5);
  const nncl_array *in[] = {&x, &sh};
  sh_expect_error("Expand", 13, NULL, 0, 2, in, 1, NNCL_ERR_SHAPE, "[3, 4]", "[2, 5]");
  nncl_array_free(&x);
  nncl_array_free(&sh);
}
