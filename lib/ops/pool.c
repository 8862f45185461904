/* pool.c: MaxPool (with optional Indices), AveragePool, LpPool, GlobalAveragePool, GlobalMaxPool,
   GlobalLpPool and MaxUnpool on NCHW float32 tensors with 1, 2 or 3 spatial axes
   (kernels/pool.cl). Window geometry (auto_pad, pads, strides, dilations, ceil_mode) is resolved
   once, in infer for the shapes and again in plan into the op's state, so enqueue only launches. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

enum pool_kind {
  POOL_MAX,
  POOL_AVG,
  POOL_LP,
  POOL_GLOBAL_AVG,
  POOL_GLOBAL_MAX,
  POOL_GLOBAL_LP,
  POOL_UNPOOL
};

/* Resolved geometry of a windowed pool, padded to 3 spatial axes (leading unit axes). */
struct pool_geom {
  int sr;       /* spatial rank of the tensor: 1..3 */
  int64_t rows; /* N * C */
  cl_int in[3], out[3], k[3], s[3], pb[3], pe[3], d[3];
};

struct pool_state {
  enum pool_kind kind;
  struct pool_geom g;
  cl_kernel kernel;
  int include_pad, col_major, has_idx;
  float p;
  size_t local, local3[3]; /* 1-D kernels; the windowed kernels' 3-D work-group */
  int rows_kernel;         /* MaxPool without indices, AveragePool: pool_*_rows (CPUs) */
  cl_uint row_len, lanes;  /* global pools: elements per (n, c) row, work-items per row */
};

/* Checks X is float32 (MaxPool: also uint8 / int8) with shape [N, C, spatial...] of spatial
   rank 1..3. */
static nncl_status check_x(const struct op_call *c, int allow_any_rank, int allow_int8) {
  const struct op_tensor *x = &c->in[0];
  char b[128];
  if (x->dtype != NNCL_FLOAT32 &&
      !(allow_int8 && (x->dtype == NNCL_UINT8 || x->dtype == NNCL_INT8)))
    return op_error(c, NNCL_ERR_DTYPE, "input X must be float32%s, got %s",
                    allow_int8 ? ", uint8 or int8" : "", nncl_dtype_name(x->dtype));
  if (x->shape.rank < 3 || (!allow_any_rank && x->shape.rank > 5))
    return op_error(c, x->shape.rank > 5 ? NNCL_ERR_UNSUPPORTED : NNCL_ERR_SHAPE,
                    "input X %s must be [N, C, D1 (, D2 (, D3))] with 1 to 3 spatial axes",
                    OP_SHAPE_STR(&x->shape, b));
  return NNCL_OK;
}

/* Reads an ints attribute of exactly n entries (or absent: every entry = def). */
static nncl_status ints_attr(const struct op_call *c, const char *name, int n, int64_t def,
                             int64_t lo, int64_t *out) {
  const int64_t *v;
  int m = op_attr_ints(c, name, &v);
  if (m < 0) {
    for (int i = 0; i < n; i++) out[i] = def;
    return NNCL_OK;
  }
  if (m != n)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "attribute %s has %d values, expected %d for %d spatial axes", name, m, n,
                    strcmp(name, "pads") ? n : n / 2);
  for (int i = 0; i < n; i++) {
    if (v[i] < lo || v[i] > INT32_MAX)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "attribute %s[%d] = %lld is out of range", name,
                      i, (long long)v[i]);
    out[i] = v[i];
  }
  return NNCL_OK;
}

/* Resolves a windowed pool's geometry and output spatial extents from X and the attributes. */
static nncl_status window_geom(const struct op_call *c, struct pool_geom *g) {
  const nncl_shape *xs = &c->in[0].shape;
  const int sr = xs->rank - 2;
  char b[128];
  int64_t k[3], s[3], d[3], pads[6];
  if (op_attr_ints(c, "kernel_shape", &(const int64_t *){NULL}) < 0)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "attribute kernel_shape is required");
  NNCL_TRY(ints_attr(c, "kernel_shape", sr, 1, 1, k));
  NNCL_TRY(ints_attr(c, "strides", sr, 1, 1, s));
  NNCL_TRY(ints_attr(c, "dilations", sr, 1, 1, d));
  NNCL_TRY(ints_attr(c, "pads", 2 * sr, 0, 0, pads));
  const char *ap = op_attr_str(c, "auto_pad", "NOTSET");
  const int ceil_mode = (int)op_attr_int(c, "ceil_mode", 0);
  const int same_upper = !strcmp(ap, "SAME_UPPER"), same_lower = !strcmp(ap, "SAME_LOWER");
  const int valid = !strcmp(ap, "VALID");
  if (!same_upper && !same_lower && !valid && strcmp(ap, "NOTSET"))
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "auto_pad '%s' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID", ap);
  memset(g, 0, sizeof *g);
  g->sr = sr;
  g->rows = xs->dims[0] * xs->dims[1];
  for (int a = 0; a < 3; a++) {
    g->in[a] = g->out[a] = g->k[a] = g->s[a] = g->d[a] = 1;
  }
  for (int i = 0; i < sr; i++) {
    const int a = 3 - sr + i;
    const int64_t n = xs->dims[2 + i], ek = (k[i] - 1) * d[i] + 1;
    int64_t pb = pads[i], pe = pads[i + sr], o;
    if (n > INT32_MAX)
      return op_error(c, NNCL_ERR_UNSUPPORTED, "spatial axis %d of X %s is too large", i,
                      OP_SHAPE_STR(xs, b));
    if (same_upper || same_lower) {
      o = (n + s[i] - 1) / s[i];
      int64_t total = (o - 1) * s[i] + ek - n;
      if (total < 0) total = 0;
      pb = same_upper ? total / 2 : total - total / 2;
      pe = total - pb;
    } else {
      if (valid) pb = pe = 0;
      const int64_t span = n + pb + pe - ek;
      if (span < 0)
        return op_error(
            c, NNCL_ERR_SHAPE,
            "input X %s: spatial axis %d (%lld with pads %lld+%lld) is smaller than the "
            "dilated kernel %lld",
            OP_SHAPE_STR(xs, b), i, (long long)n, (long long)pb, (long long)pe, (long long)ek);
      o = (ceil_mode ? (span + s[i] - 1) / s[i] : span / s[i]) + 1;
      /* A last window starting inside the end padding is dropped (PyTorch, ONNX opset 19 text). */
      if (ceil_mode && o > 1 && (o - 1) * s[i] >= n + pb) o--;
    }
    if (o < 1 || o > INT32_MAX)
      return op_error(c, NNCL_ERR_SHAPE, "input X %s gives %lld outputs on spatial axis %d",
                      OP_SHAPE_STR(xs, b), (long long)o, i);
    g->in[a] = (cl_int)n;
    g->out[a] = (cl_int)o;
    g->k[a] = (cl_int)k[i];
    g->s[a] = (cl_int)s[i];
    g->d[a] = (cl_int)d[i];
    g->pb[a] = (cl_int)pb;
    g->pe[a] = (cl_int)pe;
  }
  return NNCL_OK;
}

/* MaxUnpool: the default unpooled shape from the pooling geometry, and the output shape (that one,
   or output_shape from constant input 2, which must not be smaller). */
static nncl_status unpool_shapes(const struct op_call *c, nncl_shape *def, nncl_shape *out) {
  const nncl_shape *xs = &c->in[0].shape;
  const int sr = xs->rank - 2;
  char b[128], b2[128];
  if (c->in[1].dtype != NNCL_INT64)
    return op_error(c, NNCL_ERR_DTYPE, "input I must be int64, got %s",
                    nncl_dtype_name(c->in[1].dtype));
  if (c->in[1].shape.rank != xs->rank ||
      memcmp(c->in[1].shape.dims, xs->dims, (size_t)xs->rank * sizeof xs->dims[0]))
    return op_error(c, NNCL_ERR_SHAPE, "indices I %s must have the shape of X %s",
                    OP_SHAPE_STR(&c->in[1].shape, b), OP_SHAPE_STR(xs, b2));
  int64_t k[3], s[3], pads[6];
  if (op_attr_ints(c, "kernel_shape", &(const int64_t *){NULL}) < 0)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "attribute kernel_shape is required");
  NNCL_TRY(ints_attr(c, "kernel_shape", sr, 1, 1, k));
  NNCL_TRY(ints_attr(c, "strides", sr, 1, 1, s));
  NNCL_TRY(ints_attr(c, "pads", 2 * sr, 0, 0, pads));
  *def = *xs;
  for (int i = 0; i < sr; i++) {
    int64_t o = (xs->dims[2 + i] - 1) * s[i] + k[i] - pads[i] - pads[i + sr];
    if (o < 0 || o > INT32_MAX)
      return op_error(
          c, NNCL_ERR_SHAPE,
          "X %s with these kernel_shape/strides/pads gives size %lld on spatial axis %d",
          OP_SHAPE_STR(xs, b), (long long)o, i);
    def->dims[2 + i] = o;
  }
  *out = *def;
  if (!op_has_input(c, 2)) return NNCL_OK;
  const int64_t *v;
  int n = op_input_ints(c, 2, &v);
  if (n < 0)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "output_shape must be a constant int64 tensor");
  if (n != xs->rank)
    return op_error(c, NNCL_ERR_SHAPE, "output_shape has %d values, X %s has rank %d", n,
                    OP_SHAPE_STR(xs, b), xs->rank);
  for (int i = 0; i < n; i++) {
    if (v[i] < def->dims[i] || v[i] > INT32_MAX || (i < 2 && v[i] != xs->dims[i]))
      return op_error(c, NNCL_ERR_SHAPE,
                      "output_shape[%d] = %lld: must match X %s on N and C and be at "
                      "least the unpooled size %s",
                      i, (long long)v[i], OP_SHAPE_STR(xs, b), OP_SHAPE_STR(def, b2));
    out->dims[i] = v[i];
  }
  return NNCL_OK;
}

static nncl_status infer_kind(struct op_call *c, enum pool_kind kind) {
  const int global = kind == POOL_GLOBAL_AVG || kind == POOL_GLOBAL_MAX || kind == POOL_GLOBAL_LP;
  NNCL_TRY(check_x(c, global, kind == POOL_MAX));
  const nncl_shape *xs = &c->in[0].shape;
  c->out[0].dtype = c->in[0].dtype;
  c->out[0].shape = *xs;
  if (global) {
    for (int i = 2; i < xs->rank; i++) c->out[0].shape.dims[i] = 1;
    return NNCL_OK;
  }
  if (kind == POOL_UNPOOL) {
    nncl_shape def;
    return unpool_shapes(c, &def, &c->out[0].shape);
  }
  if (kind == POOL_LP && op_attr_float(c, "p", 2.0f) <= 0.0f)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "attribute p = %g must be positive",
                    (double)op_attr_float(c, "p", 2.0f));
  if (c->n_out > 1 && kind != POOL_MAX)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "has %d outputs, expected 1", c->n_out);
  int64_t so = op_attr_int(c, "storage_order", 0);
  if (so != 0 && so != 1)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "storage_order %lld must be 0 or 1",
                    (long long)so);
  struct pool_geom g;
  NNCL_TRY(window_geom(c, &g));
  for (int i = 0; i < g.sr; i++) c->out[0].shape.dims[2 + i] = g.out[3 - g.sr + i];
  if (c->n_out > 1) {
    c->out[1].dtype = NNCL_INT64;
    c->out[1].shape = c->out[0].shape;
  }
  return NNCL_OK;
}

/* Largest power of two <= n (n >= 1). */
static size_t pow2_floor(size_t n) {
  size_t p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

static nncl_status plan_kind(struct op_call *c, enum pool_kind kind) {
  struct pool_state *st = calloc(1, sizeof *st);
  if (!st) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "pool state");
  c->state = st;
  st->kind = kind;
  const nncl_shape *xs = &c->in[0].shape;
  const char *kname;
  switch (st->kind) {
  case POOL_GLOBAL_AVG:
  case POOL_GLOBAL_MAX:
  case POOL_GLOBAL_LP: {
    int64_t n = 1;
    for (int i = 2; i < xs->rank; i++) n *= xs->dims[i];
    if (n > UINT32_MAX)
      return op_error(c, NNCL_ERR_UNSUPPORTED, "spatial size %lld too large", (long long)n);
    st->row_len = (cl_uint)n;
    st->g.rows = xs->dims[0] * xs->dims[1];
    st->p = st->kind == POOL_GLOBAL_LP ? op_attr_float(c, "p", 2.0f) : 2.0f;
    /* lanes work-items per row: one on CPUs (a sequential, vectorizable sum per work-item, no
         barriers) unless rows are too few to occupy the cores; on GPUs enough that each
         work-item sums about 8 elements, up to a whole work-group for long rows. */
    const size_t l = pow2_floor(op_local_1d(c)); /* lanes must divide it */
    size_t lanes = 1;
    const size_t want =
        c->ctx->info.is_cpu
            ? (st->g.rows >= 8 * (int64_t)(c->ctx->info.compute_units + 1) ? 1 : (size_t)n / 1024)
            : ((size_t)n + 7) / 8;
    while (lanes < want && lanes < l) lanes *= 2;
    st->lanes = (cl_uint)lanes;
    st->local = l;
    kname = "pool_global";
    c->algo = lanes == 1 ? "global_row_per_item" : "global_lanes_reduce";
    break;
  }
  case POOL_UNPOOL: {
    nncl_shape def, out;
    NNCL_TRY(unpool_shapes(c, &def, &out));
    const int sr = xs->rank - 2;
    for (int a = 0; a < 3; a++) st->g.in[a] = st->g.out[a] = 1;
    for (int i = 0; i < sr; i++) {
      st->g.in[3 - sr + i] = (cl_int)def.dims[2 + i]; /* default unpooled extents */
      st->g.out[3 - sr + i] = (cl_int)out.dims[2 + i];
    }
    st->g.rows = xs->dims[0] * xs->dims[1];
    st->local = op_local_1d(c);
    kname = "pool_unpool";
    c->algo = "scatter";
    break;
  }
  default:
    NNCL_TRY(window_geom(c, &st->g));
    {
      /* 3-D work-group along (ow, oh): rows of up to 32 outputs, the rest stacked along oh */
      const size_t l = op_local_1d(c), ow = (size_t)st->g.out[2], oh = (size_t)st->g.out[1];
      size_t l0 = 1, l1 = 1;
      while (l0 < ow && l0 < 32 && l0 < l) l0 *= 2;
      while (l1 < oh && l0 * l1 * 2 <= l) l1 *= 2;
      st->local3[0] = l0;
      st->local3[1] = l1;
      st->local3[2] = l / (l0 * l1) > 64 ? 64 : l / (l0 * l1); /* NVIDIA caps dim 2 at 64 */
    }
    st->include_pad = (int)op_attr_int(c, "count_include_pad", 0) != 0;
    st->col_major = op_attr_int(c, "storage_order", 0) == 1;
    st->has_idx = c->n_out > 1 && c->out[1].dtype == NNCL_INT64;
    st->p = op_attr_float(c, "p", 2.0f);
    kname = st->kind == POOL_MAX   ? (st->has_idx ? "pool_max" : "pool_max_noidx")
            : st->kind == POOL_AVG ? "pool_avg"
                                   : "pool_lp";
    c->algo = "direct";
    if ((st->kind == POOL_MAX && !st->has_idx) || st->kind == POOL_AVG) {
      /* CPUs: a work-item per output row reads contiguously (pool_max_rows, pool_avg_rows);
           the 3-D per-output grid suits GPUs. The option pool.algo forces one. */
      const char *f = op_option(c, NNCL__OPT_POOL_ALGO);
      st->rows_kernel = (c->in[0].dtype == NNCL_FLOAT32 || c->in[0].dtype == NNCL_FLOAT16) &&
                        (strcmp(f, "auto") ? strcmp(f, "rows") == 0 : c->ctx->info.is_cpu);
      if (st->rows_kernel) {
        kname = st->kind == POOL_MAX ? "pool_max_rows" : "pool_avg_rows";
        c->algo = "rows";
        st->local = op_local_1d(c);
      }
    }
    if (nncl_shape_numel(&c->out[0].shape) > UINT32_MAX)
      return op_error(c, NNCL_ERR_UNSUPPORTED, "output of %lld elements is too large",
                      (long long)nncl_shape_numel(&c->out[0].shape));
    break;
  }
  /* integer MaxPool: the max kernels built for that element type (see pool.cl) */
  const char *opt = c->in[0].dtype == NNCL_UINT8     ? "-D T=uchar -D T_LOWEST=0"
                    : c->in[0].dtype == NNCL_INT8    ? "-D T=char -D T_LOWEST=(-128)"
                    : c->in[0].dtype == NNCL_FLOAT16 ? "-D NNCL_HALF_STORE"
                                                     : NULL;
  return nncl__kernel_get(c->ctx, "pool", opt, kname, &st->kernel);
}

static cl_int4 v4(const cl_int *a) { return (cl_int4){{a[0], a[1], a[2], 0}}; }

static nncl_status enqueue(struct op_call *c) {
  struct pool_state *st = c->state;
  const struct pool_geom *g = &st->g;
  const int64_t total = nncl_shape_numel(&c->out[0].shape);
  if (total == 0) return NNCL_OK;
  switch (st->kind) {
  case POOL_GLOBAL_AVG:
  case POOL_GLOBAL_MAX:
  case POOL_GLOBAL_LP: {
    cl_int op = st->kind == POOL_GLOBAL_AVG ? 0 : st->kind == POOL_GLOBAL_MAX ? 1 : 2;
    cl_uint rows = (cl_uint)g->rows;
    size_t gsz = op_round_up((size_t)g->rows * st->lanes, st->local);
    return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 1, &gsz, &st->local, NNCL_ARG(c->in[0].mem),
                       NNCL_ARG(c->out[0].mem), NNCL_LOCAL(st->local * sizeof(float)),
                       NNCL_ARG(st->row_len), NNCL_ARG(rows), NNCL_ARG(st->lanes), NNCL_ARG(op),
                       NNCL_ARG(st->p));
  }
  case POOL_UNPOOL: {
    cl_uint n = (cl_uint)nncl_shape_numel(&c->in[0].shape);
    cl_ulong rows = (cl_ulong)g->rows;
    cl_int4 dd = v4(g->in), od = v4(g->out);
    NNCL_TRY(nncl__buffer_fill_zero(c->ctx, c->out[0].mem, 0, (size_t)total * sizeof(float)));
    if (n == 0) return NNCL_OK;
    size_t gsz = op_round_up(n, st->local);
    return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 1, &gsz, &st->local, NNCL_ARG(c->in[0].mem),
                       NNCL_ARG(c->in[1].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(n), NNCL_ARG(rows),
                       NNCL_ARG(dd), NNCL_ARG(od));
  }
  default: break;
  }
  cl_uint n = (cl_uint)(g->rows * g->out[0]); /* dim 2 of the range: (row, od) */
  size_t gsz[3] = {op_round_up((size_t)g->out[2], st->local3[0]),
                   op_round_up((size_t)g->out[1], st->local3[1]), op_round_up(n, st->local3[2])};
  const size_t *lsz = st->local3;
  cl_int4 in = v4(g->in), out = v4(g->out), k = v4(g->k), s = v4(g->s), p = v4(g->pb), d = v4(g->d),
          pe = v4(g->pe);
  if (st->rows_kernel) {
    cl_uint items = n * (cl_uint)g->out[1];
    size_t g1 = op_round_up(items, st->local);
    if (st->kind == POOL_AVG) {
      cl_int inc = st->include_pad;
      return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 1, &g1, &st->local, NNCL_ARG(c->in[0].mem),
                         NNCL_ARG(c->out[0].mem), NNCL_ARG(items), NNCL_ARG(inc), NNCL_ARG(in),
                         NNCL_ARG(out), NNCL_ARG(k), NNCL_ARG(s), NNCL_ARG(p), NNCL_ARG(d),
                         NNCL_ARG(pe));
    }
    return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 1, &g1, &st->local, NNCL_ARG(c->in[0].mem),
                       NNCL_ARG(c->out[0].mem), NNCL_ARG(items), NNCL_ARG(in), NNCL_ARG(out),
                       NNCL_ARG(k), NNCL_ARG(s), NNCL_ARG(p), NNCL_ARG(d));
  }
  if (st->kind == POOL_MAX && !st->has_idx)
    return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 3, gsz, lsz, NNCL_ARG(c->in[0].mem),
                       NNCL_ARG(c->out[0].mem), NNCL_ARG(n), NNCL_ARG(in), NNCL_ARG(out),
                       NNCL_ARG(k), NNCL_ARG(s), NNCL_ARG(p), NNCL_ARG(d));
  if (st->kind == POOL_MAX) {
    cl_int has_idx = st->has_idx, col = st->col_major;
    cl_mem idx = st->has_idx ? c->out[1].mem : c->out[0].mem; /* unused when !has_idx */
    return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 3, gsz, lsz, NNCL_ARG(c->in[0].mem),
                       NNCL_ARG(c->out[0].mem), NNCL_ARG(idx), NNCL_ARG(n), NNCL_ARG(has_idx),
                       NNCL_ARG(col), NNCL_ARG(in), NNCL_ARG(out), NNCL_ARG(k), NNCL_ARG(s),
                       NNCL_ARG(p), NNCL_ARG(d));
  }
  if (st->kind == POOL_AVG) {
    cl_int inc = st->include_pad;
    return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 3, gsz, lsz, NNCL_ARG(c->in[0].mem),
                       NNCL_ARG(c->out[0].mem), NNCL_ARG(n), NNCL_ARG(inc), NNCL_ARG(in),
                       NNCL_ARG(out), NNCL_ARG(k), NNCL_ARG(s), NNCL_ARG(p), NNCL_ARG(d),
                       NNCL_ARG(pe));
  }
  return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 3, gsz, lsz, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->out[0].mem), NNCL_ARG(n), NNCL_ARG(st->p), NNCL_ARG(in),
                     NNCL_ARG(out), NNCL_ARG(k), NNCL_ARG(s), NNCL_ARG(p), NNCL_ARG(d));
}

static void cost(const struct op_call *c, struct op_cost *out) {
  const struct pool_state *st = c->state;
  double in = (double)nncl_shape_numel(&c->in[0].shape),
         o = (double)nncl_shape_numel(&c->out[0].shape);
  double taps = 1;
  if (st && (st->kind == POOL_MAX || st->kind == POOL_AVG || st->kind == POOL_LP))
    taps = (double)st->g.k[0] * st->g.k[1] * st->g.k[2];
  else if (st && st->kind != POOL_UNPOOL)
    taps = o > 0 ? in / o : 0;
  out->flops = o * taps;
  out->bytes = 4.0 * (in + o);
  if (c->n_out > 1) out->bytes += 8.0 * o;
  if (st && st->kind == POOL_UNPOOL) out->bytes += 8.0 * in;
}

/* One op_def per op type; the kind is bound here rather than looked up from the type string. */
#define POOL_DEF(name, kind, nin_min, nin_max, nout_max)                                           \
  static nncl_status infer_##name(struct op_call *c) { return infer_kind(c, kind); }               \
  static nncl_status plan_##name(struct op_call *c, size_t *ws) {                                  \
    (void)ws;                                                                                      \
    return plan_kind(c, kind);                                                                     \
  }                                                                                                \
  const struct op_def name = {.min_in = nin_min,                                                   \
                              .max_in = nin_max,                                                   \
                              .min_out = 1,                                                        \
                              .value_inputs = (kind) == POOL_UNPOOL ? 1u << 2 : 0u,                \
                              .flags = (kind) == POOL_UNPOOL ? 0u : (unsigned)OP_HALF_STORAGE,     \
                              .max_out = nout_max,                                                 \
                              .infer = infer_##name,                                               \
                              .plan = plan_##name,                                                 \
                              .enqueue = enqueue,                                                  \
                              .release = op_release_state,                                         \
                              .cost = cost,                                                        \
                              .backward = nncl__grad_pool}
POOL_DEF(op_max_pool, POOL_MAX, 1, 1, 2);
POOL_DEF(op_average_pool, POOL_AVG, 1, 1, 1);
POOL_DEF(op_lp_pool, POOL_LP, 1, 1, 1);
POOL_DEF(op_global_average_pool, POOL_GLOBAL_AVG, 1, 1, 1);
POOL_DEF(op_global_max_pool, POOL_GLOBAL_MAX, 1, 1, 1);
POOL_DEF(op_global_lp_pool, POOL_GLOBAL_LP, 1, 1, 1);
POOL_DEF(op_max_unpool, POOL_UNPOOL, 2, 3, 1);
