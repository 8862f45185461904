/* reduce.c: ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSumExp/SumSquare/LogSum (axes as attribute, or as
   input for ReduceSum >= 13, keepdims, noop_with_empty_axes) and ArgMax/ArgMin. plan collapses
   the reduction (size-1 dims dropped, neighbouring dims of the same kind merged) into rows,
   columns or the general walk of kernels/reduce.cl, and splits long reductions with few outputs
   into chunks plus a second pass so the whole device works. Column reductions on CPUs use
   reduce_cols_span (each work-item streams whole row spans) instead of the column-per-item
   kernel GPUs want; the option reduce.algo forces a rows or a columns kernel for tests and
   benchmarks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collapse.h"

enum red {
  R_SUM,
  R_MEAN,
  R_MAX,
  R_MIN,
  R_PROD,
  R_L1,
  R_L2,
  R_LSE,
  R_SUMSQ,
  R_LOGSUM, /* = kernel RED */
  R_ARGMAX,
  R_ARGMIN
};

extern const struct op_def op_reduce_sum, op_reduce_mean, op_reduce_max, op_reduce_min,
    op_reduce_prod, op_reduce_l1, op_reduce_l2, op_reduce_log_sum_exp, op_reduce_sum_square,
    op_reduce_log_sum, op_argmax, op_argmin;

static enum red red_of(const struct op_call *c) {
  const struct op_def *defs[] = {
      &op_reduce_sum,        &op_reduce_mean,    &op_reduce_max, &op_reduce_min,
      &op_reduce_prod,       &op_reduce_l1,      &op_reduce_l2,  &op_reduce_log_sum_exp,
      &op_reduce_sum_square, &op_reduce_log_sum, &op_argmax,     &op_argmin};
  for (int i = 0; i < (int)(sizeof defs / sizeof defs[0]); i++)
    if (c->def == defs[i]) return (enum red)i;
  return R_SUM;
}

static int is_arg(enum red r) { return r == R_ARGMAX || r == R_ARGMIN; }

enum layout {
  L_COPY,
  L_ROWS,
  L_COLS,
  L_GENERAL,
  L_ARG_ROWS,
  L_ARG_COLS,
  L_COLS_SPAN,
  L_ROWS_ITEM,
  L_ARG_ROWS_ITEM
};

/* Columns per work-item of reduce_cols_span: private accumulators of 2-4 KiB stay in L1. */
#define COL_SPAN 512

struct reduce_state {
  enum layout layout;
  cl_kernel k, k2;                              /* k2: the partials pass when G > 1 */
  cl_uint outer, R, inner, chunk, G, items, nb; /* nb: column spans per row (span layout) */
  size_t local, local2, acc_size;
  cl_mem meta;
};

/* Marks the reduced axes in mask[]; *noop when the op is an identity (empty axes with
   noop_with_empty_axes). */
static nncl_status reduced_axes(const struct op_call *c, int *mask, int *noop) {
  int rank = c->in[0].shape.rank;
  enum red r = red_of(c);
  memset(mask, 0, sizeof(int) * NNCL_MAX_RANK);
  *noop = 0;
  if (is_arg(r)) {
    int a;
    if (rank == 0) return op_error(c, NNCL_ERR_SHAPE, "input must have rank >= 1, got a scalar");
    NNCL_TRY(op_axis(c, op_attr_int(c, "axis", 0), rank, "axis", &a));
    mask[a] = 1;
    return NNCL_OK;
  }
  const int64_t *axes = NULL;
  int n = -1;
  if (r == R_SUM && c->opset >= 13) {
    if (op_has_input(c, 1)) {
      n = op_input_ints(c, 1, &axes);
      if (n < 0)
        return op_error(c, NNCL_ERR_UNSUPPORTED, "axes input must be a constant int64 tensor");
    }
  } else {
    n = op_attr_ints(c, "axes", &axes);
  }
  if (n <= 0) {
    if (op_attr_int(c, "noop_with_empty_axes", 0))
      *noop = 1;
    else
      for (int k = 0; k < rank; k++) mask[k] = 1;
    return NNCL_OK;
  }
  for (int i = 0; i < n; i++) {
    int a;
    NNCL_TRY(op_axis(c, axes[i], rank, "axis", &a));
    if (mask[a]) return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "axis %d is listed twice", a);
    mask[a] = 1;
  }
  return NNCL_OK;
}

static nncl_status infer(struct op_call *c) {
  enum red r = red_of(c);
  nncl_dtype t = c->in[0].dtype;
  int int_ok = r == R_SUM || r == R_MAX || r == R_MIN || r == R_PROD || is_arg(r);
  if (t != NNCL_FLOAT32 && !(int_ok && (t == NNCL_INT64 || t == NNCL_INT32)))
    return op_error(c, NNCL_ERR_DTYPE, "input type %s is not supported (takes float32%s)",
                    nncl_dtype_name(t), int_ok ? ", int32 or int64" : "");
  int mask[NNCL_MAX_RANK], noop;
  NNCL_TRY(reduced_axes(c, mask, &noop));
  const nncl_shape *in = &c->in[0].shape;
  int keep = (int)op_attr_int(c, "keepdims", 1);
  nncl_shape o = {.rank = 0};
  int64_t kept = 1;
  for (int k = 0; k < in->rank; k++) {
    if (!mask[k])
      o.dims[o.rank++] = in->dims[k];
    else if (keep)
      o.dims[o.rank++] = 1;
    if (!mask[k]) kept *= in->dims[k];
  }
  for (int k = 0; k < in->rank; k++)
    if (mask[k] && is_arg(r) && in->dims[k] == 0 && kept > 0) {
      char s[128];
      return op_error(c, NNCL_ERR_SHAPE, "cannot take an arg over the empty axis %d of %s", k,
                      OP_SHAPE_STR(in, s));
    }
  c->out[0].dtype = is_arg(r) ? NNCL_INT64 : t;
  c->out[0].shape = noop ? *in : o;
  return NNCL_OK;
}

/* A power of two with a few elements per work-item. CPUs run a work-group on one core and pay
   per work-item at every barrier, so they get small groups. */
static size_t pow2_local(const struct op_call *c, size_t work) {
  size_t cap = c->ctx->info.is_gpu ? 256 : 8, l = 1;
  if (c->ctx->info.max_work_group_size && cap > c->ctx->info.max_work_group_size)
    cap = c->ctx->info.max_work_group_size;
  while (l * 2 <= cap && l * 4 < work) l *= 2;
  return l;
}

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

static nncl_status plan(struct op_call *c, size_t *ws) {
  enum red r = red_of(c);
  struct reduce_state *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "reduce state");
  c->state = s;
  int mask[NNCL_MAX_RANK], noop;
  NNCL_TRY(reduced_axes(c, mask, &noop));
  const nncl_shape *in = &c->in[0].shape;
  if (nncl_shape_numel(in) >= (int64_t)UINT32_MAX - 1) {
    char sh[128];
    return op_error(c, NNCL_ERR_UNSUPPORTED, "shape %s exceeds the 32-bit index range",
                    OP_SHAPE_STR(in, sh));
  }
  if (noop) {
    s->layout = L_COPY;
    c->algo = "copy";
    return NNCL_OK;
  }
  /* collapse: size-1 dims dropped, same kinds merged; (size, reduced) outermost first */
  struct collapse cl;
  collapse_reduction(in, mask, &cl);
  size_t size[NNCL_MAX_RANK];
  int red[NNCL_MAX_RANK], n = cl.rank;
  for (int i = 0; i < n; i++) {
    size[i] = (size_t)cl.dims[n - 1 - i];
    red[i] = cl.kind[n - 1 - i];
  }
  size_t outer = 1, R = 1, inner = 1, items = (size_t)nncl_shape_numel(&c->out[0].shape);
  int layout;
  if (n == 0) {
    layout = L_COLS;
  } else if (!red[n - 1] && n <= 3 && (n == 1 || red[n - 2]) && (n < 3 || !red[0])) {
    /* [K], [R, K], [K, R, K] */
    layout = L_COLS;
    inner = size[n - 1];
    if (n >= 2) R = size[n - 2];
    if (n == 3) outer = size[0];
  } else if (red[n - 1] && n <= 2) { /* [R], [K, R] */
    layout = L_ROWS;
    R = size[n - 1];
    if (n == 2) outer = size[0];
  } else {
    layout = L_GENERAL;
    R = 1;
    for (int i = 0; i < n; i++)
      if (red[i]) R *= size[i];
  }
  unsigned cu = c->ctx->info.compute_units ? c->ctx->info.compute_units : 1;
  /* a forced choice applies to the layout it names; the other keeps the device's pick */
  const char *force = op_option(c, NNCL__OPT_REDUCE_ALGO);
  int force_cols = strncmp(force, "reduce_cols", 11) == 0;
  int force_rows = strncmp(force, "reduce_rows", 11) == 0;
  if (layout == L_COLS && !is_arg(r) &&
      (force_cols ? strcmp(force, "reduce_cols_span") == 0 : c->ctx->info.is_cpu))
    layout = L_COLS_SPAN;
  /* rows: a work-item per row on CPUs when rows alone fill the cores (no chunking needed) */
  int rows_item = layout == L_ROWS && (force_rows ? strcmp(force, "reduce_rows_item") == 0
                                                  : c->ctx->info.is_cpu && outer >= (size_t)cu * 4);
  if (is_arg(r)) {
    if (layout == L_GENERAL)
      return op_error(c, NNCL_ERR_STATE, "single-axis arg cannot be general");
    layout = layout == L_ROWS ? (rows_item ? L_ARG_ROWS_ITEM : L_ARG_ROWS) : L_ARG_COLS;
  } else if (rows_item) {
    layout = L_ROWS_ITEM;
  }
  s->layout = (enum layout)layout;
  s->outer = (cl_uint)outer;
  s->R = (cl_uint)R;
  s->inner = (cl_uint)inner;
  s->G = 1;
  s->chunk = (cl_uint)R;
  s->acc_size = r == R_LSE ? 8 : c->in[0].dtype == NNCL_FLOAT32 ? 4 : 8;
  int gpu = c->ctx->info.is_gpu;
  if (layout == L_ROWS) {
    size_t want = (size_t)cu * (gpu ? 8 : 4); /* work-groups that fill the device */
    if (outer < want && R >= 8192) {
      size_t G = ceil_div(R, 4096), fill = ceil_div(want, outer);
      if (G > fill) G = fill;
      s->chunk = (cl_uint)ceil_div(R, G);
      s->G = (cl_uint)ceil_div(R, s->chunk);
    }
    s->local = pow2_local(c, s->G > 1 ? s->chunk : R);
    s->local2 = pow2_local(c, s->G);
    if (s->G > 1) *ws = outer * s->G * s->acc_size;
  } else if (layout == L_COLS) {
    size_t want = (size_t)cu * (gpu ? 2048 : 64); /* work-items that fill the device */
    if (items < want && R >= 256) {
      size_t G = ceil_div(R, 64), fill = ceil_div(want, items ? items : 1);
      if (G > fill) G = fill;
      s->chunk = (cl_uint)ceil_div(R, G);
      s->G = (cl_uint)ceil_div(R, s->chunk);
    }
    s->local = op_local_1d(c);
    if (s->G > 1) *ws = outer * s->G * inner * s->acc_size;
  } else if (layout == L_COLS_SPAN) {
    size_t nb = ceil_div(inner, COL_SPAN), base = outer * nb, want = (size_t)cu * 4;
    if (base < want && R >= 128) {
      size_t G = ceil_div(R, 64), fill = ceil_div(want, base);
      if (G > fill) G = fill;
      s->chunk = (cl_uint)ceil_div(R, G);
      s->G = (cl_uint)ceil_div(R, s->chunk);
    }
    s->nb = (cl_uint)nb;
    s->local = 1; /* one item per group: private spans, no work-item loop to vectorize */
    s->local2 = op_local_1d(c);
    if (s->G > 1) *ws = outer * s->G * inner * s->acc_size;
  } else if (layout == L_GENERAL) {
    cl_uint meta[SPLIT_LEN];
    size_t kept, reduced;
    collapse_split(&cl, meta, &kept, &reduced);
    s->local = op_local_1d(c);
    NNCL_TRY(nncl__buffer_from_host(c->ctx, meta, sizeof meta, "reduce strides", &s->meta));
  } else if (layout == L_ROWS_ITEM || layout == L_ARG_ROWS_ITEM) {
    s->local = 16; /* rows per work-group: enough to amortise PoCL's per-group cost */
    if (c->ctx->info.max_work_group_size && s->local > c->ctx->info.max_work_group_size)
      s->local = c->ctx->info.max_work_group_size;
  } else if (layout == L_ARG_ROWS) {
    s->local = pow2_local(c, R);
  } else {
    s->local = op_local_1d(c);
  }
  s->items = (cl_uint)items;
  static const char *const names[] = {"",
                                      "reduce_rows",
                                      "reduce_cols",
                                      "reduce_general",
                                      "reduce_arg_rows",
                                      "reduce_arg_cols",
                                      "reduce_cols_span",
                                      "reduce_rows_item",
                                      "reduce_arg_rows_item"};
  c->algo = names[layout];
  nncl_dtype t = c->in[0].dtype;
  char opts[256];
  snprintf(opts, sizeof opts,
           "-DARG=%d -DRED=%d -DT=%s -DIS_INT=%d -DARG_MIN=%d -DSELECT_LAST=%d -DCOL_SPAN=%d",
           is_arg(r), is_arg(r) ? 0 : (int)r,
           t == NNCL_FLOAT32 ? "float"
           : t == NNCL_INT64 ? "long"
                             : "int",
           t != NNCL_FLOAT32, r == R_ARGMIN, (int)op_attr_int(c, "select_last_index", 0) != 0,
           COL_SPAN);
  NNCL_TRY(nncl__kernel_get(c->ctx, "reduce", opts, c->algo, &s->k));
  if (s->G > 1)
    NNCL_TRY(nncl__kernel_get(c->ctx, "reduce", opts,
                              layout == L_ROWS ? "reduce_partials" : "reduce_cols_partials",
                              &s->k2));
  return NNCL_OK;
}

static nncl_status enqueue(struct op_call *c) {
  struct reduce_state *s = c->state;
  cl_mem x = c->in[0].mem, y = c->out[0].mem, part = c->workspace ? c->workspace : y;
  if (s->layout == L_COPY) {
    size_t bytes = (size_t)nncl_shape_numel(&c->out[0].shape) * nncl_dtype_size(c->out[0].dtype);
    return bytes ? nncl__buffer_copy(c->ctx, x, 0, y, 0, bytes) : NNCL_OK;
  }
  if (s->items == 0) return NNCL_OK;
  size_t g, l = s->local;
  switch (s->layout) {
  case L_ROWS:
    g = (size_t)s->outer * s->G * l;
    NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k, c->op_type, 1, &g, &l, NNCL_ARG(x), NNCL_ARG(y),
                         NNCL_ARG(part), NNCL_ARG(s->R), NNCL_ARG(s->chunk), NNCL_ARG(s->G),
                         NNCL_LOCAL(l * s->acc_size)));
    if (s->G == 1) return NNCL_OK;
    l = s->local2;
    g = (size_t)s->outer * l;
    return NNCL_LAUNCH(c->ctx, s->k2, c->op_type, 1, &g, &l, NNCL_ARG(part), NNCL_ARG(y),
                       NNCL_ARG(s->G), NNCL_ARG(s->R), NNCL_LOCAL(l * s->acc_size));
  case L_COLS: {
    cl_uint items = s->outer * s->G * s->inner;
    g = op_round_up(items, l);
    NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k, c->op_type, 1, &g, &l, NNCL_ARG(x), NNCL_ARG(y),
                         NNCL_ARG(part), NNCL_ARG(s->R), NNCL_ARG(s->inner), NNCL_ARG(s->chunk),
                         NNCL_ARG(s->G), NNCL_ARG(items)));
    if (s->G == 1) return NNCL_OK;
    g = op_round_up(s->items, l);
    return NNCL_LAUNCH(c->ctx, s->k2, c->op_type, 1, &g, &l, NNCL_ARG(part), NNCL_ARG(y),
                       NNCL_ARG(s->G), NNCL_ARG(s->R), NNCL_ARG(s->inner), NNCL_ARG(s->items));
  }
  case L_COLS_SPAN: {
    cl_uint items = s->outer * s->G * s->nb;
    g = items;
    NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k, c->op_type, 1, &g, &l, NNCL_ARG(x), NNCL_ARG(y),
                         NNCL_ARG(part), NNCL_ARG(s->R), NNCL_ARG(s->inner), NNCL_ARG(s->chunk),
                         NNCL_ARG(s->G), NNCL_ARG(s->nb), NNCL_ARG(items)));
    if (s->G == 1) return NNCL_OK;
    l = s->local2;
    g = op_round_up(s->items, l);
    return NNCL_LAUNCH(c->ctx, s->k2, c->op_type, 1, &g, &l, NNCL_ARG(part), NNCL_ARG(y),
                       NNCL_ARG(s->G), NNCL_ARG(s->R), NNCL_ARG(s->inner), NNCL_ARG(s->items));
  }
  case L_ROWS_ITEM:
  case L_ARG_ROWS_ITEM:
    g = op_round_up(s->outer, l);
    return NNCL_LAUNCH(c->ctx, s->k, c->op_type, 1, &g, &l, NNCL_ARG(x), NNCL_ARG(y),
                       NNCL_ARG(s->R), NNCL_ARG(s->outer));
  case L_GENERAL:
    g = op_round_up(s->items, l);
    return NNCL_LAUNCH(c->ctx, s->k, c->op_type, 1, &g, &l, NNCL_ARG(x), NNCL_ARG(y),
                       NNCL_ARG(s->meta), NNCL_ARG(s->items), NNCL_ARG(s->R));
  case L_ARG_ROWS:
    g = (size_t)s->outer * l;
    return NNCL_LAUNCH(c->ctx, s->k, c->op_type, 1, &g, &l, NNCL_ARG(x), NNCL_ARG(y),
                       NNCL_ARG(s->R), NNCL_LOCAL(l * nncl_dtype_size(c->in[0].dtype)),
                       NNCL_LOCAL(l * sizeof(cl_uint)));
  case L_ARG_COLS:
    g = op_round_up(s->items, l);
    return NNCL_LAUNCH(c->ctx, s->k, c->op_type, 1, &g, &l, NNCL_ARG(x), NNCL_ARG(y),
                       NNCL_ARG(s->R), NNCL_ARG(s->inner), NNCL_ARG(s->items));
  default: return NNCL_OK;
  }
}

static void release(struct op_call *c) {
  struct reduce_state *s = c->state;
  if (s) nncl__buffer_release(s->meta);
  free(s);
  c->state = NULL;
}

static void cost(const struct op_call *c, struct op_cost *o) {
  double n = (double)nncl_shape_numel(&c->in[0].shape);
  o->flops = n;
  o->bytes = n * (double)nncl_dtype_size(c->in[0].dtype) +
             (double)nncl_shape_numel(&c->out[0].shape) * (double)nncl_dtype_size(c->out[0].dtype);
}

#define REDUCE_DEF(sym, n_in_max)                                                                  \
  const struct op_def sym = {.min_in = 1,                                                          \
                             .max_in = (n_in_max),                                                 \
                             .min_out = 1,                                                         \
                             .max_out = 1,                                                         \
                             .value_inputs = 1u << 1, /* ReduceSum-13 axes */                      \
                             .infer = infer,                                                       \
                             .plan = plan,                                                         \
                             .enqueue = enqueue,                                                   \
                             .release = release,                                                   \
                             .cost = cost,                                                         \
                             .backward = nncl__grad_reduce};
REDUCE_DEF(op_reduce_sum, 2)
REDUCE_DEF(op_reduce_mean, 1)
REDUCE_DEF(op_reduce_max, 1)
REDUCE_DEF(op_reduce_min, 1)
REDUCE_DEF(op_reduce_prod, 1)
REDUCE_DEF(op_reduce_l1, 1)
REDUCE_DEF(op_reduce_l2, 1)
REDUCE_DEF(op_reduce_log_sum_exp, 1)
REDUCE_DEF(op_reduce_sum_square, 1)
REDUCE_DEF(op_reduce_log_sum, 1)
REDUCE_DEF(op_argmax, 1)
REDUCE_DEF(op_argmin, 1)
