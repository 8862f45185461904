/* op_gather_grad.c: nncl.GatherGrad (dY, indices, data_shape) -> dX, the data gradient of Gather
   (emitted by grad_gather.c; kernels/gather_grad.cl): dY's rows summed into the rows their index
   names, zeros elsewhere; attribute axis as the forward's. data_shape is an int64 value known at
   plan time (Shape of the forward's data). Deterministic, no atomics, two algorithms giving the
   same bits: "rows", one work-item per output row looping over all indices in order (rows x
   indices reads: one launch, right for small tables and few indices), and "sort", the indices
   sorted by (row, position) with a bitonic network in the workspace, then each row sums its
   range (log2(n)^2 / 2 more launches, n log^2 n work instead of rows x n). Chosen by that
   product; attribute nncl.sort (0 or 1) forces one (tests). */
#include <stdio.h>
#include <stdlib.h>

#include "op.h"

struct gg_state {
  cl_kernel k, keys, bitonic;
  cl_uint inner, nidx, rows, n;
  cl_uint p2; /* sorted path: keys padded to a power of two; 0 on the rows path */
};

/* rows x indices beyond which sorting the indices costs less than every row walking them */
#define GG_SORT_ABOVE (1u << 20)

static nncl_status parse(struct op_call *c, nncl_shape *xs, struct gg_state *s) {
  const int64_t *sv;
  int r = op_input_ints(c, 2, &sv);
  char a[128], b[128], e[128];
  if (c->in[0].dtype != NNCL_FLOAT32)
    return op_error(c, NNCL_ERR_DTYPE, "dY must be float32, not %s",
                    nncl_dtype_name(c->in[0].dtype));
  if (c->in[1].dtype != NNCL_INT64 && c->in[1].dtype != NNCL_INT32)
    return op_error(c, NNCL_ERR_DTYPE, "indices must be int32 or int64, not %s",
                    nncl_dtype_name(c->in[1].dtype));
  if (r < 1 || r > NNCL_MAX_RANK)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "data_shape must be a constant int64 vector of rank 1 to %d", NNCL_MAX_RANK);
  *xs = (nncl_shape){.rank = r};
  for (int k = 0; k < r; k++) {
    if (sv[k] < 0) return op_error(c, NNCL_ERR_SHAPE, "data_shape has a negative dim");
    xs->dims[k] = sv[k];
  }
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", 0), r, "axis", &axis));
  const nncl_shape *dy = &c->in[0].shape, *q = &c->in[1].shape;
  int ok = dy->rank == r + q->rank - 1, d = 0;
  for (int k = 0; ok && k < axis; k++) ok = dy->dims[d++] == xs->dims[k];
  for (int k = 0; ok && k < q->rank; k++) ok = dy->dims[d++] == q->dims[k];
  for (int k = axis + 1; ok && k < r; k++) ok = dy->dims[d++] == xs->dims[k];
  if (!ok)
    return op_error(c, NNCL_ERR_SHAPE, "dY %s is not Gather's output for data %s and indices %s",
                    OP_SHAPE_STR(dy, a), OP_SHAPE_STR(xs, b), OP_SHAPE_STR(q, e));
  if (nncl_shape_numel(xs) >= INT32_MAX || nncl_shape_numel(dy) >= INT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "tensors of 2^31 elements or more are not supported");
  int64_t outer = 1, inner = 1;
  for (int k = 0; k < axis; k++) outer *= xs->dims[k];
  for (int k = axis + 1; k < r; k++) inner *= xs->dims[k];
  s->inner = (cl_uint)inner;
  s->nidx = (cl_uint)nncl_shape_numel(q);
  s->rows = (cl_uint)xs->dims[axis];
  s->n = (cl_uint)(outer * xs->dims[axis]);
  return NNCL_OK;
}

static nncl_status infer(struct op_call *c) {
  struct gg_state s;
  nncl_shape xs;
  NNCL_TRY(parse(c, &xs, &s));
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = xs;
  return NNCL_OK;
}

static nncl_status plan(struct op_call *c, size_t *ws) {
  struct gg_state *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "state");
  c->state = s;
  nncl_shape xs;
  NNCL_TRY(parse(c, &xs, s));
  const char *it = c->in[1].dtype == NNCL_INT64 ? "i64" : "i32";
  char name[64];
  int64_t force = op_attr_int(c, "nncl.sort", -1);
  int sort = force >= 0 ? force != 0 : (uint64_t)s->rows * s->nidx > GG_SORT_ABOVE && s->nidx > 1;
  if (sort && s->nidx > (1u << 30))
    return op_error(c, NNCL_ERR_UNSUPPORTED, "more than 2^30 indices are not supported");
  if (!sort) {
    c->algo = "rows";
    snprintf(name, sizeof name, "gather_grad_%s", it);
    return nncl__kernel_get(c->ctx, "gather_grad", NULL, name, &s->k);
  }
  c->algo = "sort";
  s->p2 = 1;
  while (s->p2 < s->nidx) s->p2 *= 2;
  *ws = (size_t)s->p2 * sizeof(cl_ulong);
  snprintf(name, sizeof name, "gather_grad_keys_%s", it);
  NNCL_TRY(nncl__kernel_get(c->ctx, "gather_grad", NULL, name, &s->keys));
  NNCL_TRY(nncl__kernel_get(c->ctx, "gather_grad", NULL, "gather_grad_bitonic", &s->bitonic));
  return nncl__kernel_get(c->ctx, "gather_grad", NULL, "gather_grad_sorted", &s->k);
}

static nncl_status enqueue(struct op_call *c) {
  const struct gg_state *s = c->state;
  if (!s->n || !s->inner) return NNCL_OK;
  size_t l = op_local_1d(c), g = op_round_up(s->n, l);
  if (!s->p2)
    return NNCL_LAUNCH(c->ctx, s->k, "gather_grad", 1, &g, &l, NNCL_ARG(c->in[0].mem),
                       NNCL_ARG(c->in[1].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(s->inner),
                       NNCL_ARG(s->nidx), NNCL_ARG(s->rows), NNCL_ARG(s->n));
  size_t gk = op_round_up(s->p2, l);
  NNCL_TRY(NNCL_LAUNCH(c->ctx, s->keys, "gather_grad_keys", 1, &gk, &l, NNCL_ARG(c->in[1].mem),
                       NNCL_ARG(c->workspace), NNCL_ARG(s->nidx), NNCL_ARG(s->rows),
                       NNCL_ARG(s->p2)));
  for (cl_uint k = 2; k <= s->p2; k *= 2)
    for (cl_uint j = k / 2; j > 0; j /= 2)
      NNCL_TRY(NNCL_LAUNCH(c->ctx, s->bitonic, "gather_grad_bitonic", 1, &gk, &l,
                           NNCL_ARG(c->workspace), NNCL_ARG(j), NNCL_ARG(k), NNCL_ARG(s->p2)));
  return NNCL_LAUNCH(c->ctx, s->k, "gather_grad_sorted", 1, &g, &l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->workspace), NNCL_ARG(c->out[0].mem), NNCL_ARG(s->inner),
                     NNCL_ARG(s->nidx), NNCL_ARG(s->rows), NNCL_ARG(s->n), NNCL_ARG(s->p2));
}

const struct op_def op_gather_grad = {.min_in = 3,
                                      .max_in = 3,
                                      .min_out = 1,
                                      .max_out = 1,
                                      .value_inputs = 1u << 2,
                                      .infer = infer,
                                      .plan = plan,
                                      .enqueue = enqueue,
                                      .release = op_release_state};
