/* softmax.c: Softmax and LogSoftmax with both ONNX semantics: opset < 13 flattens the input to
   2-D at `axis` (default 1) and normalises each row; opset >= 13 normalises along the single
   axis (default -1). Either way the input is a view [outer, len, inner]; contiguous long rows
   get a work-group each (softmax_rows) on GPUs and a work-item each (softmax_rows_item) on
   CPUs, strided or short ones a work-item each (softmax_cols). */
#include <stdlib.h>
#include <string.h>

#include "op.h"

struct softmax_state {
  cl_kernel k;
  int rows;     /* 1: softmax_rows, 0: softmax_cols */
  int per_item; /* rows through softmax_rows_item (CPUs) */
  cl_uint outer, len, inner;
  size_t local;
};

static nncl_status infer(struct op_call *c) {
  if (c->in[0].dtype != NNCL_FLOAT32)
    return op_error(c, NNCL_ERR_DTYPE, "input type %s is not supported (takes float32)",
                    nncl_dtype_name(c->in[0].dtype));
  int axis;
  int rank = c->in[0].shape.rank;
  if (rank == 0) return op_error(c, NNCL_ERR_SHAPE, "input must have rank >= 1, got a scalar");
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", c->opset < 13 ? 1 : -1), rank, "axis", &axis));
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = c->in[0].shape;
  return NNCL_OK;
}

static int is_log(const struct op_call *c);

static nncl_status plan(struct op_call *c, size_t *ws) {
  (void)ws;
  const nncl_shape *sh = &c->in[0].shape;
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", c->opset < 13 ? 1 : -1), sh->rank, "axis", &axis));
  uint64_t outer = 1, len = 1, inner = 1;
  for (int k = 0; k < sh->rank; k++) {
    uint64_t d = (uint64_t)sh->dims[k];
    if (k < axis)
      outer *= d;
    else if (k == axis || c->opset < 13)
      len *= d;
    else
      inner *= d;
  }
  if (outer * len * inner >= UINT32_MAX) {
    char s[128];
    return op_error(c, NNCL_ERR_UNSUPPORTED, "shape %s exceeds the 32-bit index range",
                    OP_SHAPE_STR(sh, s));
  }
  struct softmax_state *st = calloc(1, sizeof *st);
  if (!st) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "softmax state");
  c->state = st;
  st->outer = (cl_uint)outer;
  st->len = (cl_uint)len;
  st->inner = (cl_uint)inner;
  st->rows = inner == 1 && len >= 64;
  if (st->rows) {
    /* a power of two with ~4 float4 loads per work-item; CPUs run a work-group on one core and
       pay per work-item at every barrier, so they get small groups (measured on PoCL) */
    size_t cap = c->ctx->info.is_gpu ? 256 : 8, l = 1;
    if (c->ctx->info.max_work_group_size && cap > c->ctx->info.max_work_group_size)
      cap = c->ctx->info.max_work_group_size;
    while (l * 2 <= cap && l * 16 < len) l *= 2; /* ~4 float4 loads per work-item */
    st->local = l;
  } else {
    st->local = op_local_1d(c);
  }
  c->algo = st->rows ? "softmax_rows" : "softmax_cols";
  if (st->rows) {
    /* CPUs: a work-item per row, no barriers (softmax_rows_item); softmax.algo forces either */
    const char *f = op_option(c, NNCL__OPT_SOFTMAX_ALGO);
    st->per_item = strcmp(f, "auto") ? strcmp(f, "softmax_rows_item") == 0 : c->ctx->info.is_cpu;
    if (st->per_item) {
      c->algo = "softmax_rows_item";
      st->local = 16; /* rows per work-group: enough to amortise PoCL's per-group cost */
      if (c->ctx->info.max_work_group_size && st->local > c->ctx->info.max_work_group_size)
        st->local = c->ctx->info.max_work_group_size;
    }
  }
  return nncl__kernel_get(c->ctx, "softmax", is_log(c) ? "-DLOG_SOFTMAX=1" : "-DLOG_SOFTMAX=0",
                          c->algo, &st->k);
}

static nncl_status enqueue(struct op_call *c) {
  struct softmax_state *s = c->state;
  if ((uint64_t)s->outer * s->len * s->inner == 0) return NNCL_OK;
  if (s->per_item) {
    size_t g = op_round_up(s->outer, s->local);
    return NNCL_LAUNCH(c->ctx, s->k, c->op_type, 1, &g, &s->local, NNCL_ARG(c->in[0].mem),
                       NNCL_ARG(c->out[0].mem), NNCL_ARG(s->len), NNCL_ARG(s->outer));
  }
  if (s->rows) {
    size_t g = (size_t)s->outer * s->local;
    return NNCL_LAUNCH(c->ctx, s->k, c->op_type, 1, &g, &s->local, NNCL_ARG(c->in[0].mem),
                       NNCL_ARG(c->out[0].mem), NNCL_ARG(s->len),
                       NNCL_LOCAL(s->local * sizeof(float)));
  }
  cl_uint columns = s->outer * s->inner;
  size_t g = op_round_up(columns, s->local);
  return NNCL_LAUNCH(c->ctx, s->k, c->op_type, 1, &g, &s->local, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->out[0].mem), NNCL_ARG(s->len), NNCL_ARG(s->inner),
                     NNCL_ARG(columns));
}

static void cost(const struct op_call *c, struct op_cost *o) {
  double n = (double)nncl_shape_numel(&c->out[0].shape);
  o->flops = 5 * n;
  o->bytes = 8 * n;
}

const struct op_def op_softmax = {.min_in = 1,
                                  .max_in = 1,
                                  .min_out = 1,
                                  .max_out = 1,
                                  .flags = OP_INPLACE,
                                  .infer = infer,
                                  .plan = plan,
                                  .enqueue = enqueue,
                                  .release = op_release_state,
                                  .cost = cost,
                                  .backward = nncl__grad_softmax};
const struct op_def op_log_softmax = {.min_in = 1,
                                      .max_in = 1,
                                      .min_out = 1,
                                      .max_out = 1,
                                      .flags = OP_INPLACE,
                                      .infer = infer,
                                      .plan = plan,
                                      .enqueue = enqueue,
                                      .release = op_release_state,
                                      .cost = cost,
                                      .backward = nncl__grad_softmax};

static int is_log(const struct op_call *c) { return c->def == &op_log_softmax; }
