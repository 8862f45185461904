/* transpose.c: Transpose (perm, default reversed). The permutation becomes a strided copy
   (shape_copy.h) which is simplified first: merged dims often reduce a rank-4 permutation to a
   batched 2-D transpose, done through a local-memory tile so reads and writes are both
   coalesced; permutations that keep the innermost dim are a plain (widened) copy. */
#include <stdlib.h>
#include <string.h>

#include "shape_copy.h"

static nncl_status read_perm(struct op_call *c, int *perm) {
  const nncl_shape *in = &c->in[0].shape;
  const int64_t *p;
  int n = op_attr_ints(c, "perm", &p);
  char sa[128];
  if (n < 0) {
    for (int d = 0; d < in->rank; d++) perm[d] = in->rank - 1 - d;
    return NNCL_OK;
  }
  if (n != in->rank)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "perm has %d entries for input %s of rank %d", n,
                    OP_SHAPE_STR(in, sa), in->rank);
  int seen[NNCL_MAX_RANK] = {0};
  for (int d = 0; d < n; d++) {
    int64_t v = p[d] < 0 ? p[d] + n : p[d];
    if (v < 0 || v >= n || seen[v])
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                      "perm[%d] = %lld is not a permutation of 0..%d (input %s)", d,
                      (long long)p[d], n - 1, OP_SHAPE_STR(in, sa));
    seen[v] = 1;
    perm[d] = (int)v;
  }
  return NNCL_OK;
}

static nncl_status make_copy(struct op_call *c, struct shape_copy *s) {
  int perm[NNCL_MAX_RANK];
  NNCL_TRY(read_perm(c, perm));
  int64_t st[NNCL_MAX_RANK];
  shape_strides(&c->in[0].shape, st);
  shape_copy_init(s, c->in[0].dtype, &c->out[0].shape);
  for (int d = 0; d < c->out[0].shape.rank; d++) s->is[d] = st[perm[d]];
  return NNCL_OK;
}

static nncl_status infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "data"));
  int perm[NNCL_MAX_RANK];
  NNCL_TRY(read_perm(c, perm));
  const nncl_shape *in = &c->in[0].shape;
  c->out[0].dtype = c->in[0].dtype;
  c->out[0].shape.rank = in->rank;
  for (int d = 0; d < in->rank; d++) c->out[0].shape.dims[d] = in->dims[perm[d]];
  if (shape_host_eligible(c, 0, 1)) {
    nncl_array *a;
    NNCL_TRY(shape_host_alloc(c, 0, &a));
    struct shape_copy s;
    if (a) {
      NNCL_TRY(make_copy(c, &s));
      shape_copy_host(&s, c->in[0].host->data, a->data);
    }
  }
  return NNCL_OK;
}

static nncl_status plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct shape_copy *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "transpose plan");
  c->state = s;
  NNCL_TRY(make_copy(c, s));
  int64_t n = nncl_shape_numel(&c->in[0].shape);
  NNCL_TRY(shape_copy_plan(c, s, n, n));
  c->algo = s->blocked ? "blocked" : s->tiled ? "tiled" : "copy";
  return NNCL_OK;
}

static nncl_status enqueue(struct op_call *c) {
  return shape_copy_enqueue(c, c->state, c->in[0].mem, c->out[0].mem);
}

const struct op_def op_transpose = {.min_in = 1,
                                    .max_in = 1,
                                    .min_out = 1,
                                    .max_out = 1,
                                    .infer = infer,
                                    .plan = plan,
                                    .enqueue = enqueue,
                                    .release = op_release_state,
                                    .backward = nncl__grad_transpose};
