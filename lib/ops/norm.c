/* norm.c: BatchNormalization (inference and training mode), InstanceNormalization, LayerNormalization (opset 17,
   optional Mean/InvStdDev outputs) and LRN on float32 tensors (kernels/norm.cl). Shapes and
   parameters are checked in infer; plan fetches the kernel and sizes the launch. A LayerNormalization
   may carry a fused residual (op_call.res, pass_layernorm.c): it normalizes X + res. */
#include <stdlib.h>
#include <string.h>

#include "op.h"

enum norm_kind { NORM_BATCH, NORM_INSTANCE, NORM_LAYER, NORM_LRN };

struct norm_state {
  enum norm_kind kind;
  cl_kernel kernel;
  /* split statistics (few long rows): chunk stats, merge and apply kernels */
  int split;
  int training;    /* BatchNormalization training_mode: k_merge is norm_batch_train_stats */
  int rows_kernel; /* a work-item per row: norm_layer_rows, norm_batch_rows, norm_instance_rows */
  cl_uint chunk, chunks;
  cl_kernel k_merge, k_apply;
  cl_uint row_len, rows, np, channels, batch;
  cl_int per_elem, lo, hi;
  float eps, alpha_n, beta, bias;
  size_t local;
};

static nncl_status check_float(const struct op_call *c, int i, const char *name) {
  if (c->in[i].dtype != NNCL_FLOAT32)
    return op_error(c, NNCL_ERR_DTYPE, "input %s must be float32, got %s", name,
                    nncl_dtype_name(c->in[i].dtype));
  return NNCL_OK;
}

static nncl_status check_numel(const struct op_call *c, int i, const char *name, int64_t want,
                               const char *why) {
  NNCL_TRY(check_float(c, i, name));
  if (nncl_shape_numel(&c->in[i].shape) != want) {
    char a[128], b[128];
    return op_error(c, NNCL_ERR_SHAPE, "%s %s must have %lld elements (%s) for X %s", name,
                    OP_SHAPE_STR(&c->in[i].shape, a), (long long)want, why,
                    OP_SHAPE_STR(&c->in[0].shape, b));
  }
  return NNCL_OK;
}

/* Elements per (n, c) plane of an [N, C, ...] tensor. */
static int64_t plane(const nncl_shape *s) {
  int64_t p = 1;
  for (int i = 2; i < s->rank; i++) p *= s->dims[i];
  return p;
}

static nncl_status check_x(const struct op_call *c, int min_rank) {
  char b[128];
  NNCL_TRY(check_float(c, 0, "X"));
  if (c->in[0].shape.rank < min_rank)
    return op_error(c, NNCL_ERR_SHAPE, "input X %s must have rank >= %d",
                    OP_SHAPE_STR(&c->in[0].shape, b), min_rank);
  if (nncl_shape_numel(&c->in[0].shape) > UINT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "input X %s is too large",
                    OP_SHAPE_STR(&c->in[0].shape, b));
  return NNCL_OK;
}

static nncl_status infer_batch(struct op_call *c) {
  NNCL_TRY(check_x(c, 2));
  const int training = op_attr_int(c, "training_mode", 0) != 0;
  const int spatial = c->opset < 9 ? (int)op_attr_int(c, "spatial", 1) : 1;
  /* training: opset 14+ outputs running_mean and running_var; the older saved statistics
     outputs (opset 7-13) are not produced */
  if (c->n_out > 3 || (c->n_out > 1 && (!training || c->opset < 14)) || (training && !spatial))
    return op_error(c, NNCL_ERR_UNSUPPORTED,
                    "%d outputs with training_mode=%d at opset %d (spatial=%d): only inference, or "
                    "training mode (opset 14+) with Y, running_mean, running_var",
                    c->n_out, training, c->opset, spatial);
  const nncl_shape *xs = &c->in[0].shape;
  const int64_t np = spatial ? xs->dims[1] : xs->dims[1] * plane(xs);
  const char *why = spatial ? "one per channel" : "spatial=0: one per element of a sample";
  NNCL_TRY(check_numel(c, 1, "scale", np, why));
  NNCL_TRY(check_numel(c, 2, "B", np, why));
  NNCL_TRY(check_numel(c, 3, "mean", np, why));
  NNCL_TRY(check_numel(c, 4, "var", np, why));
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = *xs;
  for (int i = 1; i < c->n_out; i++) {
    c->out[i].dtype = NNCL_FLOAT32;
    c->out[i].shape = c->in[3].shape;
  }
  return NNCL_OK;
}

static nncl_status infer_instance(struct op_call *c) {
  NNCL_TRY(check_x(c, 3));
  NNCL_TRY(check_numel(c, 1, "scale", c->in[0].shape.dims[1], "one per channel"));
  NNCL_TRY(check_numel(c, 2, "B", c->in[0].shape.dims[1], "one per channel"));
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = c->in[0].shape;
  return NNCL_OK;
}

/* LayerNormalization: the normalized axes are [axis, rank); scale/bias must broadcast to them as a
   trailing suffix (leading 1s allowed), so element i of a row uses parameter i % numel. */
static nncl_status layer_params(const struct op_call *c, int i, const char *name, int axis) {
  const nncl_shape *xs = &c->in[0].shape, *ps = &c->in[i].shape;
  char a[128], b[128];
  NNCL_TRY(check_float(c, i, name));
  const int nr = xs->rank - axis;
  int ok = ps->rank <= nr, matching = 0;
  for (int k = 0; ok && k < ps->rank; k++) {
    const int64_t pd = ps->dims[ps->rank - 1 - k], xd = xs->dims[xs->rank - 1 - k];
    if (pd == xd && matching == k)
      matching++;
    else if (pd != 1)
      ok = 0;
  }
  /* Every non-1 dim must sit in the matched trailing run. */
  for (int k = matching; ok && k < ps->rank; k++)
    if (ps->dims[ps->rank - 1 - k] != 1) ok = 0;
  if (!ok)
    return op_error(
        c, ps->rank <= nr ? NNCL_ERR_UNSUPPORTED : NNCL_ERR_SHAPE,
        "%s %s must broadcast to the normalized axes of X %s from axis %d as a trailing "
        "suffix",
        name, OP_SHAPE_STR(ps, a), OP_SHAPE_STR(xs, b), axis);
  return NNCL_OK;
}

static int same_shape(const nncl_shape *a, const nncl_shape *b) {
  if (a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

static nncl_status infer_layer(struct op_call *c) {
  NNCL_TRY(check_x(c, 1));
  const nncl_shape *xs = &c->in[0].shape;
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", -1), xs->rank, "axis", &axis));
  NNCL_TRY(layer_params(c, 1, "Scale", axis));
  if (op_has_input(c, 2)) {
    NNCL_TRY(layer_params(c, 2, "B", axis));
    if (nncl_shape_numel(&c->in[2].shape) != nncl_shape_numel(&c->in[1].shape)) {
      char a[128], b[128];
      return op_error(c, NNCL_ERR_UNSUPPORTED, "Scale %s and B %s must have the same element count",
                      OP_SHAPE_STR(&c->in[1].shape, a), OP_SHAPE_STR(&c->in[2].shape, b));
    }
  }
  if (c->epi.has_residual &&
      (!c->res || c->res->dtype != NNCL_FLOAT32 || !same_shape(&c->res->shape, xs))) {
    char a[128], b[128];
    return op_error(c, NNCL_ERR_SHAPE, "fused residual %s must be float32 of X's shape %s",
                    c->res ? OP_SHAPE_STR(&c->res->shape, a) : "(none)", OP_SHAPE_STR(xs, b));
  }
  int64_t stash = op_attr_int(c, "stash_type", 1);
  if (stash != 1)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "stash_type %lld is not supported (only 1, float)",
                    (long long)stash);
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = *xs;
  for (int i = 1; i < c->n_out; i++) {
    c->out[i].dtype = NNCL_FLOAT32;
    c->out[i].shape = *xs;
    for (int k = axis; k < xs->rank; k++) c->out[i].shape.dims[k] = 1;
  }
  return NNCL_OK;
}

static nncl_status infer_lrn(struct op_call *c) {
  NNCL_TRY(check_x(c, 3));
  const struct nncl__attr *size = op_attr(c, "size");
  if (!size || size->type != ATTR_INT || size->i < 1)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "attribute size is required and must be a positive int");
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = c->in[0].shape;
  return NNCL_OK;
}

/* Power-of-two work-group size for rows of n elements: no larger than the row needs nor than the
   device's preferred 1-D size. */
static size_t row_local(const struct op_call *c, int64_t n) {
  size_t cap = op_local_1d(c), l = 1;
  while ((int64_t)l < n && l * 2 <= cap) l *= 2;
  return l;
}

/* Few long rows leave most of the device idle with one work-group per row: split each row into
   chunks of `chunk` elements whose statistics are merged afterwards. */
static nncl_status plan_split(struct op_call *c, struct norm_state *st, size_t *ws) {
  const size_t cu = c->ctx->info.compute_units ? c->ctx->info.compute_units : 1;
  if (st->row_len < 8192 || st->rows >= 4 * cu) return NNCL_OK;
  st->split = 1;
  st->chunk = 4096;
  st->chunks = (st->row_len + st->chunk - 1) / st->chunk;
  st->local = row_local(c, st->chunk);
  *ws = ((size_t)st->rows * st->chunks * 2 + (size_t)st->rows * 2) * sizeof(float);
  c->algo = "split_two_pass";
  NNCL_TRY(nncl__kernel_get(c->ctx, "norm", NULL, "norm_merge_stats", &st->k_merge));
  NNCL_TRY(nncl__kernel_get(c->ctx, "norm", NULL, "norm_apply", &st->k_apply));
  return nncl__kernel_get(c->ctx, "norm", NULL, "norm_chunk_stats", &st->kernel);
}

/* BatchNorm (inference) and InstanceNorm: a work-item per plane on CPUs with at least 4 planes per
   compute unit (fewer leave cores idle: InstanceNorm then splits long rows); norm.algo forces. */
static int norm_rows_wanted(const struct op_call *c, size_t planes) {
  const char *f = op_option(c, NNCL__OPT_NORM_ALGO);
  if (strcmp(f, "auto")) return strcmp(f, "rows") == 0;
  const size_t cu = c->ctx->info.compute_units ? c->ctx->info.compute_units : 1;
  return c->ctx->info.is_cpu && planes >= 4 * cu;
}

static nncl_status plan_kind(struct op_call *c, enum norm_kind kind, size_t *ws) {
  struct norm_state *st = calloc(1, sizeof *st);
  if (!st) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "norm state");
  c->state = st;
  st->kind = kind;
  const nncl_shape *xs = &c->in[0].shape;
  const int64_t numel = nncl_shape_numel(xs);
  const char *kname = "norm_batch";
  switch (kind) {
  case NORM_BATCH: {
    const int spatial = c->opset < 9 ? (int)op_attr_int(c, "spatial", 1) : 1;
    st->eps = op_attr_float(c, "epsilon", 1e-5f);
    st->per_elem = !spatial;
    st->row_len = (cl_uint)plane(xs);
    st->rows = (cl_uint)(xs->dims[0] * xs->dims[1]);
    st->channels = (cl_uint)xs->dims[1];
    st->batch = (cl_uint)xs->dims[0];
    c->algo = "elementwise";
    /* CPUs: a work-item per plane (norm_batch_rows) once planes are enough to share out; the
       option norm.algo forces either */
    st->rows_kernel = !st->per_elem && norm_rows_wanted(c, (size_t)st->rows);
    if (st->rows_kernel) {
      kname = "norm_batch_rows";
      c->algo = "plane_per_item";
      st->local = op_local_1d(c);
    }
    if (op_attr_int(c, "training_mode", 0) != 0) {
      st->rows_kernel = 0;
      /* batch statistics: one work-group per channel, then the element-wise apply */
      st->training = 1;
      st->beta = op_attr_float(c, "momentum", 0.9f);
      st->local = row_local(c, (int64_t)st->row_len * st->batch);
      *ws = 2 * (size_t)st->channels * sizeof(float);
      c->algo = "batch_stats";
      NNCL_TRY(nncl__kernel_get(c->ctx, "norm", NULL, "norm_batch_train_stats", &st->k_merge));
      kname = "norm_batch_train_apply";
    }
    break;
  }
  case NORM_INSTANCE:
    kname = "norm_instance";
    st->eps = op_attr_float(c, "epsilon", 1e-5f);
    st->row_len = (cl_uint)plane(xs);
    st->rows = (cl_uint)(xs->dims[0] * xs->dims[1]);
    st->channels = (cl_uint)xs->dims[1];
    st->local = row_local(c, st->row_len);
    st->np = st->channels;
    c->algo = "wg_two_pass";
    st->rows_kernel = norm_rows_wanted(c, (size_t)st->rows);
    if (st->rows_kernel) {
      kname = "norm_instance_rows";
      c->algo = "row_per_item";
      st->local = op_local_1d(c);
      break;
    }
    if (st->rows) NNCL_TRY(plan_split(c, st, ws));
    if (st->split) return NNCL_OK;
    break;
  case NORM_LAYER: {
    kname = "norm_layer";
    int axis;
    NNCL_TRY(op_axis(c, op_attr_int(c, "axis", -1), xs->rank, "axis", &axis));
    int64_t n = 1;
    for (int k = axis; k < xs->rank; k++) n *= xs->dims[k];
    st->row_len = (cl_uint)n;
    st->rows = (cl_uint)(n ? numel / n : 0);
    st->np = (cl_uint)nncl_shape_numel(&c->in[1].shape);
    st->eps = op_attr_float(c, "epsilon", 1e-5f);
    st->local = row_local(c, n);
    c->algo = "wg_two_pass";
    /* CPUs with enough rows to share out: a work-item per row (norm_layer_rows); GPUs, and CPUs
       with few rows: a work-group per row, split when rows are few and long. The option
       layernorm.algo ("rows", "group") forces one. */
    const char *f = op_option(c, NNCL__OPT_LAYERNORM_ALGO);
    if (!strcmp(f, "auto")) f = NULL;
    const size_t cu = c->ctx->info.compute_units ? c->ctx->info.compute_units : 1;
    st->rows_kernel = f ? strcmp(f, "rows") == 0 : c->ctx->info.is_cpu && st->rows >= 4 * cu;
    if (st->rows_kernel) {
      kname = "norm_layer_rows";
      c->algo = "row_per_item";
      st->local = op_local_1d(c);
      break;
    }
    /* the split path's chunk statistics read X alone: with a fused residual the work-group
       kernel writes the sum first instead */
    if (st->rows && !f && !c->epi.has_residual) NNCL_TRY(plan_split(c, st, ws));
    if (st->split) return NNCL_OK;
    break;
  }
  case NORM_LRN: {
    kname = "norm_lrn";
    const int64_t size = op_attr_int(c, "size", 1);
    st->lo = (cl_int)((size - 1) / 2);
    st->hi = (cl_int)(size - 1 - (size - 1) / 2);
    st->alpha_n = op_attr_float(c, "alpha", 1e-4f) / (float)size;
    st->beta = op_attr_float(c, "beta", 0.75f);
    st->bias = op_attr_float(c, "bias", 1.0f);
    st->row_len = (cl_uint)plane(xs);
    st->rows = (cl_uint)(xs->dims[0] * xs->dims[1]);
    st->channels = (cl_uint)xs->dims[1];
    st->batch = (cl_uint)xs->dims[0];
    c->algo = "direct";
    break;
  }
  }
  return nncl__kernel_get(c->ctx, "norm", NULL, kname, &st->kernel);
}

/* 3-D launch shape (plane element, channel, batch) for the element-wise kernels. */
static void grid_3d(const struct op_call *c, cl_uint len, cl_uint channels, cl_uint batch,
                    size_t *g, size_t *l) {
  const size_t l1 = op_local_1d(c);
  l[0] = len >= l1 ? l1 : len >= 16 ? 16 : 1;
  l[1] = channels >= l1 / l[0] ? l1 / l[0] : 1;
  if (l[1] > 64) l[1] = 64;
  l[2] = 1;
  g[0] = op_round_up(len, l[0]);
  g[1] = op_round_up(channels, l[1]);
  g[2] = batch;
}

/* The three launches of split statistics (instance and layer norm). */
static nncl_status enqueue_split(struct op_call *c, struct norm_state *st) {
  const struct op_tensor *in = c->in;
  const int layer = st->kind == NORM_LAYER;
  cl_int stats = layer ? (c->n_out > 1 ? 1 : 0) | (c->n_out > 2 ? 2 : 0) : 0;
  cl_int has_bias = layer ? op_has_input(c, 2) : 1, per_row = !layer;
  cl_mem bias = has_bias ? in[2].mem : in[1].mem; /* unused when !has_bias */
  cl_mem mean = stats & 1 ? c->out[1].mem : c->workspace,
         inv = stats & 2 ? c->out[2].mem : c->workspace;
  cl_mem ws = c->workspace;
  /* workspace: chunk (mean, M2) pairs, then per-row (mean, invstd) from element rowst_off on */
  cl_uint rowst_off = st->rows * st->chunks * 2;
  size_t g[2] = {(size_t)st->chunks * st->local, st->rows}, l[2] = {st->local, 1};
  NNCL_TRY(NNCL_LAUNCH(c->ctx, st->kernel, "norm_chunk_stats", 2, g, l, NNCL_ARG(in[0].mem),
                       NNCL_ARG(ws), NNCL_ARG(st->row_len), NNCL_ARG(st->chunk),
                       NNCL_ARG(st->chunks), NNCL_LOCAL(st->local * sizeof(float))));
  size_t l1 = op_local_1d(c), g1 = op_round_up(st->rows, l1);
  NNCL_TRY(NNCL_LAUNCH(c->ctx, st->k_merge, "norm_merge_stats", 1, &g1, &l1, NNCL_ARG(ws),
                       NNCL_ARG(rowst_off), NNCL_ARG(mean), NNCL_ARG(inv), NNCL_ARG(st->row_len),
                       NNCL_ARG(st->chunk), NNCL_ARG(st->chunks), NNCL_ARG(st->rows),
                       NNCL_ARG(stats), NNCL_ARG(st->eps)));
  size_t ga[2] = {op_round_up(st->row_len, l1), st->rows}, la[2] = {l1, 1};
  return NNCL_LAUNCH(c->ctx, st->k_apply, "norm_apply", 2, ga, la, NNCL_ARG(in[0].mem),
                     NNCL_ARG(in[1].mem), NNCL_ARG(bias), NNCL_ARG(c->out[0].mem), NNCL_ARG(ws),
                     NNCL_ARG(rowst_off), NNCL_ARG(st->row_len), NNCL_ARG(st->rows),
                     NNCL_ARG(st->np), NNCL_ARG(per_row), NNCL_ARG(has_bias));
}

/* Training-mode BatchNormalization: batch statistics into the workspace (and the running
   statistics outputs), then normalisation with them. */
static nncl_status enqueue_batch_train(struct op_call *c, struct norm_state *st, const size_t *g,
                                       const size_t *l) {
  const struct op_tensor *in = c->in;
  /* bit 0: running_mean wanted, bit 1: running_var wanted (absent ones point anywhere) */
  cl_int has_running = (c->n_out > 1 ? 1 : 0) | (c->n_out > 2 ? 2 : 0);
  cl_mem rm = c->n_out > 1 ? c->out[1].mem : c->workspace;
  cl_mem rv = c->n_out > 2 ? c->out[2].mem : c->workspace;
  size_t gs = (size_t)st->channels * st->local;
  NNCL_TRY(NNCL_LAUNCH(c->ctx, st->k_merge, "norm_batch_train_stats", 1, &gs, &st->local,
                       NNCL_ARG(in[0].mem), NNCL_ARG(in[3].mem), NNCL_ARG(in[4].mem),
                       NNCL_ARG(c->workspace), NNCL_ARG(rm), NNCL_ARG(rv), NNCL_ARG(st->row_len),
                       NNCL_ARG(st->channels), NNCL_ARG(st->batch), NNCL_ARG(has_running),
                       NNCL_ARG(st->beta), NNCL_LOCAL(st->local * sizeof(float))));
  return NNCL_LAUNCH(c->ctx, st->kernel, "norm_batch_train_apply", 3, g, l, NNCL_ARG(in[0].mem),
                     NNCL_ARG(in[1].mem), NNCL_ARG(in[2].mem), NNCL_ARG(c->workspace),
                     NNCL_ARG(c->out[0].mem), NNCL_ARG(st->row_len), NNCL_ARG(st->channels),
                     NNCL_ARG(st->batch), NNCL_ARG(st->eps));
}

static nncl_status enqueue(struct op_call *c) {
  struct norm_state *st = c->state;
  if (st->rows == 0 || st->row_len == 0) return NNCL_OK;
  if (st->split) return enqueue_split(c, st);
  const struct op_tensor *in = c->in;
  switch (st->kind) {
  case NORM_BATCH: {
    size_t g[3], l[3];
    if (st->rows_kernel) {
      size_t gr = op_round_up(st->rows, st->local);
      return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 1, &gr, &st->local, NNCL_ARG(in[0].mem),
                         NNCL_ARG(in[1].mem), NNCL_ARG(in[2].mem), NNCL_ARG(in[3].mem),
                         NNCL_ARG(in[4].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(st->row_len),
                         NNCL_ARG(st->channels), NNCL_ARG(st->rows), NNCL_ARG(st->eps));
    }
    grid_3d(c, st->row_len, st->channels, st->batch, g, l);
    if (st->training) return enqueue_batch_train(c, st, g, l);
    return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 3, g, l, NNCL_ARG(in[0].mem),
                       NNCL_ARG(in[1].mem), NNCL_ARG(in[2].mem), NNCL_ARG(in[3].mem),
                       NNCL_ARG(in[4].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(st->row_len),
                       NNCL_ARG(st->channels), NNCL_ARG(st->batch), NNCL_ARG(st->per_elem),
                       NNCL_ARG(st->eps));
  }
  case NORM_INSTANCE: {
    if (st->rows_kernel) {
      size_t gr = op_round_up(st->rows, st->local);
      return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 1, &gr, &st->local, NNCL_ARG(in[0].mem),
                         NNCL_ARG(in[1].mem), NNCL_ARG(in[2].mem), NNCL_ARG(c->out[0].mem),
                         NNCL_ARG(st->row_len), NNCL_ARG(st->channels), NNCL_ARG(st->eps),
                         NNCL_ARG(st->rows));
    }
    size_t g = (size_t)st->rows * st->local, lb = st->local * sizeof(float);
    return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 1, &g, &st->local, NNCL_ARG(in[0].mem),
                       NNCL_ARG(in[1].mem), NNCL_ARG(in[2].mem), NNCL_ARG(c->out[0].mem),
                       NNCL_ARG(st->row_len), NNCL_ARG(st->channels), NNCL_ARG(st->eps),
                       NNCL_LOCAL(lb));
  }
  case NORM_LAYER: {
    size_t g = (size_t)st->rows * st->local, lb = st->local * sizeof(float);
    /* bit 0: Mean output wanted, bit 1: InvStdDev output wanted */
    cl_int has_bias = op_has_input(c, 2), stats = (c->n_out > 1 ? 1 : 0) | (c->n_out > 2 ? 2 : 0);
    cl_mem bias = has_bias ? in[2].mem : in[1].mem; /* unused when !has_bias */
    cl_mem mean = stats & 1 ? c->out[1].mem : c->out[0].mem,
           inv = stats & 2 ? c->out[2].mem : c->out[0].mem;
    cl_int has_res = c->epi.has_residual != 0;
    cl_mem res = has_res ? c->res->mem : in[0].mem; /* unused when !has_res */
    if (st->rows_kernel) {
      size_t gr = op_round_up(st->rows, st->local);
      return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 1, &gr, &st->local, NNCL_ARG(in[0].mem),
                         NNCL_ARG(in[1].mem), NNCL_ARG(bias), NNCL_ARG(c->out[0].mem),
                         NNCL_ARG(mean), NNCL_ARG(inv), NNCL_ARG(st->row_len), NNCL_ARG(st->np),
                         NNCL_ARG(has_bias), NNCL_ARG(stats), NNCL_ARG(st->eps), NNCL_ARG(st->rows),
                         NNCL_ARG(res), NNCL_ARG(has_res));
    }
    return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 1, &g, &st->local, NNCL_ARG(in[0].mem),
                       NNCL_ARG(in[1].mem), NNCL_ARG(bias), NNCL_ARG(c->out[0].mem), NNCL_ARG(mean),
                       NNCL_ARG(inv), NNCL_ARG(st->row_len), NNCL_ARG(st->np), NNCL_ARG(has_bias),
                       NNCL_ARG(stats), NNCL_ARG(st->eps), NNCL_LOCAL(lb), NNCL_ARG(res),
                       NNCL_ARG(has_res));
  }
  case NORM_LRN: {
    size_t g[3], l[3];
    grid_3d(c, st->row_len, st->channels, st->batch, g, l);
    return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 3, g, l, NNCL_ARG(in[0].mem),
                       NNCL_ARG(c->out[0].mem), NNCL_ARG(st->row_len), NNCL_ARG(st->channels),
                       NNCL_ARG(st->batch), NNCL_ARG(st->lo), NNCL_ARG(st->hi),
                       NNCL_ARG(st->alpha_n), NNCL_ARG(st->beta), NNCL_ARG(st->bias));
  }
  }
  return NNCL_OK;
}

/* Each kind's backward rule (lib/train), NULL for none. */
#define NORM_BACKWARD_NORM_BATCH nncl__grad_batchnorm
#define NORM_BACKWARD_NORM_INSTANCE NULL
#define NORM_BACKWARD_NORM_LAYER NULL
#define NORM_BACKWARD_NORM_LRN NULL
#define NORM_DEF(name, kind, infer_fn, nin_min, nin_max, nout_max)                                 \
  static nncl_status plan_##name(struct op_call *c, size_t *ws) { return plan_kind(c, kind, ws); } \
  const struct op_def name = {.min_in = nin_min,                                                   \
                              .max_in = nin_max,                                                   \
                              .min_out = 1,                                                        \
                              .max_out = nout_max,                                                 \
                              .infer = infer_fn,                                                   \
                              .plan = plan_##name,                                                 \
                              .enqueue = enqueue,                                                  \
                              .release = op_release_state,                                         \
                              .backward = NORM_BACKWARD_##kind}
NORM_DEF(op_batch_normalization, NORM_BATCH, infer_batch, 5, 5, 5);
NORM_DEF(op_instance_normalization, NORM_INSTANCE, infer_instance, 3, 3, 1);
static nncl_status plan_layer(struct op_call *c, size_t *ws) {
  return plan_kind(c, NORM_LAYER, ws);
}
const struct op_def op_layer_normalization = {.min_in = 2,
                                              .max_in = 3,
                                              .min_out = 1,
                                              .max_out = 3,
                                              .infer = infer_layer,
                                              .plan = plan_layer,
                                              .enqueue = enqueue,
                                              .release = op_release_state,
                                              .backward = nncl__grad_layer_norm};
NORM_DEF(op_lrn, NORM_LRN, infer_lrn, 1, 1, 1);
