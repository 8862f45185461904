/* test_shape_util.c: see test_shape_util.h. */
#include "test_shape_util.h"

#include <stdlib.h>
#include <string.h>

uint32_t sh_rand_u32(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

int64_t sh_rand_int(uint32_t *s, int64_t lo, int64_t hi) {
  return lo + (int64_t)(sh_rand_u32(s) % (uint32_t)(hi - lo + 1));
}

nncl_shape sh_shape(int rank, const int64_t *dims) {
  nncl_shape s = {.rank = rank};
  memcpy(s.dims, dims, (size_t)rank * sizeof *dims);
  return s;
}

nncl_shape sh_rand_shape(uint32_t *state, int r, int64_t lo, int64_t hi) {
  nncl_shape s = {.rank = r};
  for (int d = 0; d < r; d++) s.dims[d] = sh_rand_int(state, lo, hi);
  return s;
}

nncl_array sh_rand_array(nncl_dtype dt, uint32_t seed, const nncl_shape *s) {
  nncl_array a;
  cr_assert_eq(nncl_array_alloc(&a, dt, s), NNCL_OK);
  size_t n = (size_t)nncl_shape_numel(s);
  if (dt == NNCL_FLOAT32) {
    tu_fill(a.data, n, seed, -1.0f, 1.0f);
  } else {
    uint32_t st = seed * 2654435761u + 7u;
    unsigned char *p = a.data;
    for (size_t i = 0; i < n * nncl_dtype_size(dt); i++) p[i] = (unsigned char)sh_rand_u32(&st);
  }
  return a;
}

nncl_array sh_i64_scalar(int64_t v) {
  nncl_array a;
  nncl_shape s = {.rank = 0};
  cr_assert_eq(nncl_array_alloc(&a, NNCL_INT64, &s), NNCL_OK);
  *(int64_t *)a.data = v;
  return a;
}

void sh_run(const char *op, int opset, const struct nncl__attr *attrs, int n_attrs, int n_in,
            const nncl_array *const *in, int n_out, nncl_array *out, int *had_host) {
  nncl_context *ctx = tu_ctx();
  struct op_instance *oi;
  nncl_status st =
      op_instance_create(ctx, op, opset, attrs, n_attrs, n_in, in, n_out, NULL, NULL, &oi);
  cr_assert_eq(st, NNCL_OK, "%s: %s", op, nncl_context_last_error(ctx));
  st = op_instance_enqueue(oi);
  cr_assert_eq(st, NNCL_OK, "%s enqueue: %s", op, nncl_context_last_error(ctx));
  struct op_call *c = op_instance_call(oi);
  if (had_host) *had_host = c->out[0].host != NULL;
  for (int i = 0; i < n_out; i++) {
    cr_assert_eq(nncl_array_alloc(&out[i], c->out[i].dtype, &c->out[i].shape), NNCL_OK);
    size_t bytes = nncl_array_bytes(&out[i]);
    st = nncl__buffer_download(ctx, c->out[i].mem, 0, out[i].data, bytes);
    cr_assert_eq(st, NNCL_OK, "%s download: %s", op, nncl_context_last_error(ctx));
    if (c->out[i].host)
      cr_assert(memcmp(c->out[i].host->data, out[i].data, bytes) == 0,
                "%s output %d: the host value from infer differs from the device result", op, i);
  }
  op_instance_destroy(oi);
}

void sh_assert_equal(const nncl_array *got, const void *want, const nncl_shape *ws,
                     const char *what) {
  char a[128], b[128];
  cr_assert(got->shape.rank == ws->rank &&
                memcmp(got->shape.dims, ws->dims, (size_t)ws->rank * sizeof(int64_t)) == 0,
            "%s: shape %s, expected %s", what, nncl_shape_format(&got->shape, a, sizeof a),
            nncl_shape_format(ws, b, sizeof b));
  size_t es = nncl_dtype_size(got->dtype), n = (size_t)nncl_shape_numel(ws);
  for (size_t i = 0; i < n; i++)
    if (memcmp((const char *)got->data + i * es, (const char *)want + i * es, es) != 0)
      cr_assert_fail("%s: element %zu of %zu differs (shape %s, %s)", what, i, n,
                     nncl_shape_format(ws, a, sizeof a), nncl_dtype_name(got->dtype));
}

void sh_expect_error(const char *op, int opset, const struct nncl__attr *attrs, int n_attrs,
                     int n_in, const nncl_array *const *in, int n_out, nncl_status st,
                     const char *needle1, const char *needle2) {
  nncl_array out[8];
  nncl_status got = tu_try_op(op, opset, attrs, n_attrs, n_in, in, n_out, out);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert_eq(got, st, "%s: expected %s, got %s: %s", op, nncl_status_string(st),
               nncl_status_string(got), msg);
  cr_assert(strstr(msg, op), "message does not name the op: %s", msg);
  cr_assert(!needle1 || strstr(msg, needle1), "message lacks '%s': %s", needle1, msg);
  cr_assert(!needle2 || strstr(msg, needle2), "message lacks '%s': %s", needle2, msg);
}

void sh_free(nncl_array *a, int n) {
  for (int i = 0; i < n; i++) nncl_array_free(&a[i]);
}
