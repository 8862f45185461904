/* test_shape_pad_gather.c: Pad, Tile, Gather and GatherElements against tests/ref/shape_ref.c on
   random shapes, every element size, negative pads and indices, int32 and int64 indices. Exact
   (bitwise) comparison. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_shape_util.h"

static const nncl_dtype kDtypes[] = {NNCL_FLOAT32, NNCL_INT64, NNCL_UINT8, NNCL_FLOAT16,
                                     NNCL_INT32};
#define N_DTYPES ((int)(sizeof kDtypes / sizeof kDtypes[0]))

/* ---- Pad ---- */
/* opset 11+: pads and constant_value inputs; opset 2: attributes (value as float). */
static void check_pad(const nncl_array *x, const int64_t *pads, const char *mode, int opset,
                      const nncl_array *value) {
  int r = x->shape.rank;
  size_t es = nncl_dtype_size(x->dtype);
  nncl_array out, p = tu_i64(2 * r, pads);
  struct nncl__attr attrs[3] = {A_STR("mode", mode)};
  int na = 1;
  float fv = 0.0f;
  unsigned char vbytes[8] = {0};
  if (opset >= 11) {
    const nncl_array *in[] = {x, &p, value};
    sh_run("Pad", opset, attrs, na, value ? 3 : 2, in, 1, &out, NULL);
    if (value) memcpy(vbytes, value->data, es);
  } else {
    attrs[na++] =
        (struct nncl__attr){.name = "pads", .type = ATTR_INTS, .ints = (int64_t *)pads, .n = 2 * r};
    fv = 2.5f;
    attrs[na++] = A_FLOAT("value", fv);
    memcpy(vbytes, &fv, 4); /* only float32 data is used with the attribute form */
    const nncl_array *in[] = {x};
    sh_run("Pad", opset, attrs, na, 1, in, 1, &out, NULL);
  }
  nncl_shape ws;
  int64_t n = 1;
  for (int d = 0; d < r; d++) n *= x->shape.dims[d] + pads[d] + pads[d + r];
  void *want = malloc((size_t)n * es + 1);
  ref_pad(x->data, &x->shape, pads, mode, vbytes, es, want, &ws);
  char sa[128], what[256];
  snprintf(what, sizeof what, "Pad %s %s %s pads[0] %lld (opset %d)", mode,
           nncl_dtype_name(x->dtype), nncl_shape_format(&x->shape, sa, sizeof sa),
           (long long)pads[0], opset);
  sh_assert_equal(&out, want, &ws, what);
  free(want);
  nncl_array_free(&out);
  nncl_array_free(&p);
}

Test(pad, random_modes_dtypes_and_crops) {
  uint32_t st = 41;
  const char *modes[] = {"constant", "reflect", "edge"};
  for (int t = 0; t < 36; t++) {
    nncl_dtype dt = kDtypes[t % N_DTYPES];
    const char *mode = modes[t % 3];
    int r = (int)sh_rand_int(&st, 1, 5);
    nncl_shape s = sh_rand_shape(&st, r, 1, 6);
    nncl_array x = sh_rand_array(dt, (uint32_t)t, &s);
    int64_t pads[16];
    for (int d = 0; d < r; d++)
      for (int e = 0; e < 2; e++) {
        /* reflect beyond dim - 1 repeats the reflection (numpy.pad); crops stay inside */
        int64_t v = sh_rand_int(&st, -s.dims[d] / 2, mode[0] == 'c' ? 3 : 2 * s.dims[d] + 1);
        pads[d + e * r] = v;
      }
    nncl_shape vs = {.rank = 0};
    nncl_array value = sh_rand_array(dt, (uint32_t)t + 100, &vs);
    check_pad(&x, pads, mode, t % 4 == 0 ? 13 : 11, t % 2 ? &value : NULL);
    nncl_array_free(&x);
    nncl_array_free(&value);
  }
}

Test(pad, nchw_spatial_and_attribute_form) {
  nncl_shape s = SH_SHAPE(2, 3, 13, 17);
  nncl_array x = sh_rand_array(NNCL_FLOAT32, 9, &s);
  check_pad(&x, (int64_t[]){0, 0, 1, 2, 0, 0, 3, 1}, "constant", 2, NULL);
  check_pad(&x, (int64_t[]){0, 0, 2, 2, 0, 0, 2, 2}, "reflect", 2, NULL);
  check_pad(&x, (int64_t[]){0, 0, 1, 1, 0, 0, 1, 1}, "edge", 11, NULL);
  check_pad(&x, (int64_t[]){0, 1, -2, 0, 0, 0, 3, -4}, "constant", 11, NULL);
  nncl_array_free(&x);
  nncl_shape z = SH_SHAPE(0, 3); /* empty input, constant pad makes it non-empty */
  nncl_array e = sh_rand_array(NNCL_INT64, 1, &z);
  check_pad(&e, (int64_t[]){1, 0, 1, 0}, "constant", 13, NULL);
  nncl_array_free(&e);
}

Test(pad, wrong_pad_count_names_node_and_shape) {
  nncl_array x = TU_RAND(1, 2, 3), p = TU_I64(1, 1, 1);
  const nncl_array *in[] = {&x, &p};
  sh_expect_error("Pad", 13, NULL, 0, 2, in, 1, NNCL_ERR_INVALID_ARGUMENT, "[2, 3]", "3 pads");
  nncl_array_free(&p);
  p = TU_I64(0, -3, 0, -1);
  sh_expect_error("Pad", 13, NULL, 0, 2, in, 1, NNCL_ERR_SHAPE, "[2, 3]", "below zero");
  nncl_array_free(&p);
  nncl_array_free(&x);
}

/* ---- Tile ---- */
Test(tile, random_repeats) {
  uint32_t st = 51;
  for (int t = 0; t < 20; t++) {
    nncl_dtype dt = kDtypes[t % N_DTYPES];
    int r = (int)sh_rand_int(&st, 1, 5);
    nncl_shape s = sh_rand_shape(&st, r, 1, 5);
    int64_t rep[8];
    for (int d = 0; d < r; d++) rep[d] = sh_rand_int(&st, t % 6 == 0 ? 0 : 1, 3);
    nncl_array x = sh_rand_array(dt, (uint32_t)t, &s), rp = tu_i64(r, rep), out;
    const nncl_array *in[] = {&x, &rp};
    sh_run("Tile", 13, NULL, 0, 2, in, 1, &out, NULL);
    nncl_shape ws = s;
    for (int d = 0; d < r; d++) ws.dims[d] *= rep[d];
    size_t es = nncl_dtype_size(dt);
    void *want = malloc((size_t)nncl_shape_numel(&ws) * es + 1);
    ref_tile(x.data, &s, rep, es, want);
    char what[64];
    snprintf(what, sizeof what, "Tile case %d (%s)", t, nncl_dtype_name(dt));
    sh_assert_equal(&out, want, &ws, what);
    free(want);
    nncl_array_free(&x);
    nncl_array_free(&rp);
    nncl_array_free(&out);
  }
}

/* ---- Gather ---- */
static nncl_array make_indices(nncl_dtype it, const nncl_shape *q, const int64_t *v) {
  nncl_array a;
  cr_assert_eq(nncl_array_alloc(&a, it, q), NNCL_OK);
  for (int64_t i = 0; i < nncl_shape_numel(q); i++) {
    if (it == NNCL_INT64)
      ((int64_t *)a.data)[i] = v[i];
    else
      ((int32_t *)a.data)[i] = (int32_t)v[i];
  }
  return a;
}

Test(gather, random_axes_indices_dtypes) {
  uint32_t st = 61;
  for (int t = 0; t < 40; t++) {
    nncl_dtype dt = kDtypes[t % N_DTYPES], it = t % 3 ? NNCL_INT64 : NNCL_INT32;
    int r = (int)sh_rand_int(&st, 1, 4), qr = (int)sh_rand_int(&st, 0, 2);
    nncl_shape s = sh_rand_shape(&st, r, 1, 6);
    if (t % 4 == 0) s.dims[r - 1] = 4 * sh_rand_int(&st, 1, 4); /* rows wide enough to widen */
    int axis = (int)sh_rand_int(&st, 0, r - 1);
    nncl_shape q = sh_rand_shape(&st, qr, t % 10 == 0 ? 0 : 1, 4);
    int64_t nq = nncl_shape_numel(&q), idx[64];
    for (int64_t i = 0; i < nq; i++) idx[i] = sh_rand_int(&st, -s.dims[axis], s.dims[axis] - 1);
    nncl_array x = sh_rand_array(dt, (uint32_t)t, &s), ix = make_indices(it, &q, idx), out;
    struct nncl__attr a = A_INT("axis", t % 2 ? axis - r : axis);
    const nncl_array *in[] = {&x, &ix};
    sh_run("Gather", 13, &a, 1, 2, in, 1, &out, NULL);
    nncl_shape ws = {.rank = r + qr - 1};
    int k = 0;
    for (int d = 0; d < axis; d++) ws.dims[k++] = s.dims[d];
    for (int d = 0; d < qr; d++) ws.dims[k++] = q.dims[d];
    for (int d = axis + 1; d < r; d++) ws.dims[k++] = s.dims[d];
    size_t es = nncl_dtype_size(dt);
    void *want = malloc((size_t)nncl_shape_numel(&ws) * es + 1);
    ref_gather(x.data, &s, idx, nq, axis, es, want);
    char sa[128], what[200];
    snprintf(what, sizeof what, "Gather case %d: %s %s axis %d, %lld %s indices", t,
             nncl_dtype_name(dt), nncl_shape_format(&s, sa, sizeof sa), axis, (long long)nq,
             nncl_dtype_name(it));
    sh_assert_equal(&out, want, &ws, what);
    free(want);
    nncl_array_free(&x);
    nncl_array_free(&ix);
    nncl_array_free(&out);
  }
}

Test(gather, embedding_rows) {
  /* [vocab, dim] table, [batch, seq] token ids: the transformer embedding lookup */
  nncl_shape s = SH_SHAPE(50, 64), q = SH_SHAPE(3, 7);
  nncl_array x = sh_rand_array(NNCL_FLOAT32, 1, &s), out;
  int64_t idx[21];
  for (int i = 0; i < 21; i++) idx[i] = (i * 17) % 50;
  nncl_array ix = make_indices(NNCL_INT64, &q, idx);
  const nncl_array *in[] = {&x, &ix};
  sh_run("Gather", 13, NULL, 0, 2, in, 1, &out, NULL);
  nncl_shape ws = SH_SHAPE(3, 7, 64);
  float want[3 * 7 * 64];
  ref_gather(x.data, &s, idx, 21, 0, 4, want);
  sh_assert_equal(&out, want, &ws, "embedding lookup");
  nncl_array_free(&x);
  nncl_array_free(&ix);
  nncl_array_free(&out);
}

Test(gather, out_of_range_index_names_node_and_shape) {
  nncl_array x = TU_RAND(1, 4, 5), ix = TU_I64(0, 4);
  const nncl_array *in[] = {&x, &ix};
  sh_expect_error("Gather", 13, NULL, 0, 2, in, 1, NNCL_ERR_INVALID_ARGUMENT, "index 4", "[4, 5]");
  struct nncl__attr a = A_INT("axis", 2);
  sh_expect_error("Gather", 13, &a, 1, 2, in, 1, NNCL_ERR_INVALID_ARGUMENT, "axis 2", "rank 2");
  nncl_array_free(&x);
  nncl_array_free(&ix);
}

/* ---- GatherElements ---- */
Test(gather_elements, random) {
  uint32_t st = 71;
  for (int t = 0; t < 24; t++) {
    nncl_dtype dt = kDtypes[t % N_DTYPES], it = t % 2 ? NNCL_INT64 : NNCL_INT32;
    int r = (int)sh_rand_int(&st, 1, 4);
    nncl_shape s = sh_rand_shape(&st, r, 1, 6);
    int axis = (int)sh_rand_int(&st, 0, r - 1);
    nncl_shape q = s;
    for (int d = 0; d < r; d++)
      q.dims[d] = d == axis ? sh_rand_int(&st, 1, 7) : sh_rand_int(&st, 1, s.dims[d]);
    int64_t nq = nncl_shape_numel(&q);
    int64_t *idx = malloc((size_t)nq * sizeof *idx);
    for (int64_t i = 0; i < nq; i++) idx[i] = sh_rand_int(&st, -s.dims[axis], s.dims[axis] - 1);
    nncl_array x = sh_rand_array(dt, (uint32_t)t, &s), ix = make_indices(it, &q, idx), out;
    struct nncl__attr a = A_INT("axis", t % 3 ? axis : axis - r);
    const nncl_array *in[] = {&x, &ix};
    sh_run("GatherElements", 13, &a, 1, 2, in, 1, &out, NULL);
    size_t es = nncl_dtype_size(dt);
    void *want = malloc((size_t)nq * es + 1);
    ref_gather_elements(x.data, &s, idx, &q, axis, es, want);
    char what[64];
    snprintf(what, sizeof what, "GatherElements case %d (%s)", t, nncl_dtype_name(dt));
    sh_assert_equal(&out, want, &q, what);
    free(want);
    free(idx);
    nncl_array_free(&x);
    nncl_array_free(&ix);
    nncl_array_free(&out);
  }
}

Test(gather_elements, rank_mismatch_names_shapes) {
  nncl_array x = TU_RAND(1, 4, 5), ix = TU_I64(0, 1);
  const nncl_array *in[] = {&x, &ix};
  sh_expect_error("GatherElements", 13, NULL, 0, 2, in, 1, NNCL_ERR_SHAPE, "[2]", "[4, 5]");
  nncl_array_free(&x);
  nncl_array_free(&ix);
}
