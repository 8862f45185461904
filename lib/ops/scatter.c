/* scatter.c: GatherND (batch_dims), ScatterElements (and its opset 9-10 name Scatter)
   and ScatterND, with reduction none/add/mul (kernels/scatter.cl). int32 or int64 indices,
   negative ones counting from the end; constant indices are range-checked at plan time.
   Scatters copy data into the output, then apply updates without float atomics (scatter.cl):
   duplicate indices are applied serially in index order, so with reduction none the last
   duplicate wins and add/mul results are bit-identical run to run. With reduction none and too
   little parallelism in those lanes (ScatterND: short rows, many tuples; ScatterElements: few
   lines along a long axis) the "owner" algorithm lets the last update claim each target through
   an integer atomic_max in the workspace instead: parallel, same result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shape_copy.h"

struct sgnd_plan {
  cl_kernel k;
  cl_ulong n, slice, per_batch, bstride, nidx;
  cl_uint kk;
  cl_long8 ds, dd;
  /* ScatterElements */
  cl_uint nlines, rank, axis, ulen;
  cl_uint8 ud;
  cl_int8 eds;
  cl_int axis_dim;
  size_t bytes;
  /* ScatterND rows claimed by their last tuple (reduction none, short slices, many tuples) */
  cl_kernel init, claim;
  cl_uint nrows;
  cl_long8 rs;
  cl_uint nupd;
  cl_uint8 ud_full;
};

static nncl_status check_index_dtype(struct op_call *c) {
  if (c->in[1].dtype != NNCL_INT64 && c->in[1].dtype != NNCL_INT32)
    return op_error(c, NNCL_ERR_DTYPE, "indices must be int32 or int64, not %s",
                    nncl_dtype_name(c->in[1].dtype));
  return NNCL_OK;
}

static int64_t host_index(const nncl_array *h, int64_t i) {
  return h->dtype == NNCL_INT64 ? ((const int64_t *)h->data)[i] : ((const int32_t *)h->data)[i];
}

/* Constant index tuples of k entries checked against dims[0..k) (k = 1 with every index against
   one dim for ScatterElements). */
static nncl_status check_tuples(struct op_call *c, const int64_t *dims, int k, const char *what) {
  const nncl_array *h = c->in[1].host;
  if (!h || k == 0) return NNCL_OK;
  int64_t n = nncl_shape_numel(&h->shape);
  char sa[128];
  for (int64_t i = 0; i < n; i++) {
    int64_t v = host_index(h, i), d = dims[i % k];
    if (v < -d || v >= d)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                      "index %lld (element %lld) is out of range for %s of data %s", (long long)v,
                      (long long)i, what, OP_SHAPE_STR(&c->in[0].shape, sa));
  }
  return NNCL_OK;
}

static nncl_status check_size(struct op_call *c) {
  for (int i = 0; i < c->n_in; i++)
    if (nncl_shape_numel(&c->in[i].shape) >= INT32_MAX)
      return op_error(c, NNCL_ERR_UNSUPPORTED,
                      "tensors of 2^31 elements or more are not supported");
  return NNCL_OK;
}

static int same_shape(const nncl_shape *a, const nncl_shape *b) {
  if (a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

/* ---- GatherND ---- */
static nncl_status gnd_infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "data"));
  NNCL_TRY(check_index_dtype(c));
  const nncl_shape *d = &c->in[0].shape, *q = &c->in[1].shape;
  int64_t b = op_attr_int(c, "batch_dims", 0);
  char sa[128], sb[128];
  if (q->rank < 1 || b < 0 || b >= q->rank || b >= d->rank)
    return op_error(c, NNCL_ERR_SHAPE, "batch_dims %lld does not fit data %s and indices %s",
                    (long long)b, OP_SHAPE_STR(d, sa), OP_SHAPE_STR(q, sb));
  int64_t k = q->dims[q->rank - 1];
  int ok = k >= 1 && k <= d->rank - b && (q->rank - 1) + (d->rank - b - k) <= NNCL_MAX_RANK;
  for (int i = 0; ok && i < b; i++) ok = q->dims[i] == d->dims[i];
  if (!ok)
    return op_error(c, NNCL_ERR_SHAPE,
                    "indices %s (tuples of %lld) do not fit data %s with batch_dims %lld",
                    OP_SHAPE_STR(q, sa), (long long)k, OP_SHAPE_STR(d, sb), (long long)b);
  NNCL_TRY(check_tuples(c, d->dims + b, (int)k, "the indexed dims"));
  nncl_shape out = {.rank = q->rank - 1 + d->rank - (int)b - (int)k};
  int r = 0;
  for (int i = 0; i < q->rank - 1; i++) out.dims[r++] = q->dims[i];
  for (int i = (int)(b + k); i < d->rank; i++) out.dims[r++] = d->dims[i];
  c->out[0].dtype = c->in[0].dtype;
  c->out[0].shape = out;
  return NNCL_OK;
}

static nncl_status gnd_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct sgnd_plan *p = calloc(1, sizeof *p);
  if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "GatherND plan");
  c->state = p;
  NNCL_TRY(check_size(c));
  const nncl_shape *d = &c->in[0].shape, *q = &c->in[1].shape;
  int b = (int)op_attr_int(c, "batch_dims", 0), k = (int)q->dims[q->rank - 1];
  int64_t st[NNCL_MAX_RANK];
  shape_strides(d, st);
  int64_t nbatch = 1;
  for (int i = 0; i < b; i++) nbatch *= d->dims[i];
  p->slice = (cl_ulong)(b + k < d->rank ? st[b + k - 1] : 1);
  p->nidx = (cl_ulong)(nncl_shape_numel(q) / k);
  p->per_batch = nbatch ? p->nidx / (cl_ulong)nbatch : 1;
  if (!p->per_batch) p->per_batch = 1;
  p->bstride = (cl_ulong)(b > 0 ? st[b - 1] : 0);
  p->kk = (cl_uint)k;
  for (int t = 0; t < k; t++) {
    p->ds.s[t] = st[b + t];
    p->dd.s[t] = d->dims[b + t];
  }
  p->n = (cl_ulong)nncl_shape_numel(&c->out[0].shape);
  char name[64];
  snprintf(name, sizeof name, "scatter_gather_nd_%s_%s",
           shape_esize_suffix(nncl_dtype_size(c->in[0].dtype)),
           c->in[1].dtype == NNCL_INT64 ? "i64" : "i32");
  return nncl__kernel_get(c->ctx, "scatter", NULL, name, &p->k);
}

static nncl_status gnd_enqueue(struct op_call *c) {
  const struct sgnd_plan *p = c->state;
  if (!p->n) return NNCL_OK;
  size_t l = op_local_1d(c), g = (size_t)p->n;
  return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 1, &g, &l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->in[1].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(p->n),
                     NNCL_ARG(p->slice), NNCL_ARG(p->per_batch), NNCL_ARG(p->bstride),
                     NNCL_ARG(p->kk), NNCL_ARG(p->ds), NNCL_ARG(p->dd));
}

const struct op_def op_gather_nd = {.min_in = 2,
                                    .max_in = 2,
                                    .min_out = 1,
                                    .max_out = 1,
                                    .infer = gnd_infer,
                                    .plan = gnd_plan,
                                    .enqueue = gnd_enqueue,
                                    .release = op_release_state,
                                    .cost = shape_cost_read_as_written};

/* ---- shared by the scatters ---- */
/* Kernel name part for the reduction and element type: "none_b4", "add_f32", ... */
static nncl_status red_suffix(struct op_call *c, char *buf, size_t len) {
  const char *red = op_attr_str(c, "reduction", "none");
  nncl_dtype dt = c->in[0].dtype;
  if (!strcmp(red, "none")) {
    NNCL_TRY(shape_check_dtype(c, dt, "data"));
    snprintf(buf, len, "none_%s", shape_esize_suffix(nncl_dtype_size(dt)));
    return NNCL_OK;
  }
  if (strcmp(red, "add") && strcmp(red, "mul"))
    return op_error(c, NNCL_ERR_UNSUPPORTED, "reduction '%s' is not supported (none, add, mul)",
                    red);
  const char *t = dt == NNCL_FLOAT32 ? "f32"
                  : dt == NNCL_INT32 ? "i32"
                  : dt == NNCL_INT64 ? "i64"
                                     : NULL;
  if (!t)
    return op_error(c, NNCL_ERR_DTYPE,
                    "reduction '%s' supports float32, int32 and int64 data, not %s", red,
                    nncl_dtype_name(dt));
  snprintf(buf, len, "%s_%s", red, t);
  return NNCL_OK;
}

static nncl_status scatter_common_infer(struct op_call *c) {
  NNCL_TRY(check_index_dtype(c));
  if (c->in[2].dtype != c->in[0].dtype)
    return op_error(c, NNCL_ERR_DTYPE, "updates are %s but data is %s",
                    nncl_dtype_name(c->in[2].dtype), nncl_dtype_name(c->in[0].dtype));
  char suf[32];
  NNCL_TRY(red_suffix(c, suf, sizeof suf));
  c->out[0].dtype = c->in[0].dtype;
  c->out[0].shape = c->in[0].shape;
  return NNCL_OK;
}

static nncl_status scatter_copy(struct op_call *c, const struct sgnd_plan *p) {
  if (c->in[0].mem == c->out[0].mem || !p->bytes) return NNCL_OK;
  return nncl__buffer_copy(c->ctx, c->in[0].mem, 0, c->out[0].mem, 0, p->bytes);
}

/* ---- ScatterElements / Scatter ---- */
static nncl_status sel_infer(struct op_call *c) {
  NNCL_TRY(scatter_common_infer(c));
  const nncl_shape *d = &c->in[0].shape, *q = &c->in[1].shape, *u = &c->in[2].shape;
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", 0), d->rank, "axis", &axis));
  char sa[128], sb[128], sc[128];
  int ok = d->rank == q->rank && same_shape(q, u);
  for (int k = 0; ok && k < d->rank; k++) ok = k == axis || q->dims[k] <= d->dims[k];
  if (!ok)
    return op_error(c, NNCL_ERR_SHAPE,
                    "indices %s and updates %s must match and have the rank of data %s with no "
                    "larger dims outside axis %d",
                    OP_SHAPE_STR(q, sa), OP_SHAPE_STR(u, sb), OP_SHAPE_STR(d, sc), axis);
  return check_tuples(c, d->dims + axis, 1, "the axis");
}

static nncl_status sel_plan(struct op_call *c, size_t *ws) {
  struct sgnd_plan *p = calloc(1, sizeof *p);
  if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "ScatterElements plan");
  c->state = p;
  NNCL_TRY(check_size(c));
  const nncl_shape *d = &c->in[0].shape, *u = &c->in[2].shape;
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", 0), d->rank, "axis", &axis));
  int64_t st[NNCL_MAX_RANK];
  shape_strides(d, st);
  p->bytes = (size_t)nncl_shape_numel(d) * nncl_dtype_size(c->in[0].dtype);
  p->rank = (cl_uint)d->rank;
  p->axis = (cl_uint)(d->rank - 1 - axis);
  p->ulen = (cl_uint)u->dims[axis];
  p->axis_dim = (cl_int)d->dims[axis];
  p->nlines = p->ulen ? (cl_uint)(nncl_shape_numel(u) / p->ulen) : 0;
  for (int k = 0; k < d->rank; k++) {
    p->ud.s[k] = (cl_uint)(k == (int)p->axis ? 1 : u->dims[d->rank - 1 - k]);
    p->eds.s[k] = (cl_int)st[d->rank - 1 - k];
  }
  char suf[32], name[80];
  const char *isuf = c->in[1].dtype == NNCL_INT64 ? "i64" : "i32";
  NNCL_TRY(red_suffix(c, suf, sizeof suf));
  /* Few lines along a long axis leave the serial lanes idle: reduction none then lets each
     output element be claimed by its last update (same result, fully parallel). */
  if (!strncmp(suf, "none", 4) && p->nlines < 256 && p->ulen >= 64) {
    p->nupd = (cl_uint)nncl_shape_numel(u);
    p->nrows = (cl_uint)nncl_shape_numel(d);
    for (int k = 0; k < d->rank; k++) p->ud_full.s[k] = (cl_uint)u->dims[d->rank - 1 - k];
    *ws = (size_t)p->nrows * sizeof(cl_int);
    c->algo = "owner";
    snprintf(name, sizeof name, "scatter_elements_owner_claim_%s", isuf);
    NNCL_TRY(nncl__kernel_get(c->ctx, "scatter", NULL, "scatter_nd_owner_init", &p->init));
    NNCL_TRY(nncl__kernel_get(c->ctx, "scatter", NULL, name, &p->claim));
    snprintf(name, sizeof name, "scatter_elements_owner_apply_%s_%s", suf + 5, isuf);
    return nncl__kernel_get(c->ctx, "scatter", NULL, name, &p->k);
  }
  c->algo = "lanes";
  snprintf(name, sizeof name, "scatter_elements_%s_%s", suf, isuf);
  return nncl__kernel_get(c->ctx, "scatter", NULL, name, &p->k);
}

static nncl_status sel_enqueue(struct op_call *c) {
  const struct sgnd_plan *p = c->state;
  NNCL_TRY(scatter_copy(c, p));
  if (!p->nlines) return NNCL_OK;
  size_t l = op_local_1d(c), g = p->nlines;
  if (p->claim) {
    size_t gr = p->nrows, gu = p->nupd;
    NNCL_TRY(NNCL_LAUNCH(c->ctx, p->init, c->op_type, 1, &gr, &l, NNCL_ARG(c->workspace),
                         NNCL_ARG(p->nrows)));
    NNCL_TRY(NNCL_LAUNCH(c->ctx, p->claim, c->op_type, 1, &gu, &l, NNCL_ARG(c->in[1].mem),
                         NNCL_ARG(c->workspace), NNCL_ARG(p->nupd), NNCL_ARG(p->ud_full),
                         NNCL_ARG(p->eds), NNCL_ARG(p->rank), NNCL_ARG(p->axis),
                         NNCL_ARG(p->axis_dim)));
    return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 1, &gu, &l, NNCL_ARG(c->in[1].mem),
                       NNCL_ARG(c->in[2].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(c->workspace),
                       NNCL_ARG(p->nupd), NNCL_ARG(p->ud_full), NNCL_ARG(p->eds), NNCL_ARG(p->rank),
                       NNCL_ARG(p->axis), NNCL_ARG(p->axis_dim));
  }
  return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 1, &g, &l, NNCL_ARG(c->in[1].mem),
                     NNCL_ARG(c->in[2].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(p->nlines),
                     NNCL_ARG(p->ud), NNCL_ARG(p->eds), NNCL_ARG(p->rank), NNCL_ARG(p->axis),
                     NNCL_ARG(p->ulen), NNCL_ARG(p->axis_dim));
}

const struct op_def op_scatter_elements = {.min_in = 3,
                                           .max_in = 3,
                                           .min_out = 1,
                                           .max_out = 1,
                                           .infer = sel_infer,
                                           .plan = sel_plan,
                                           .enqueue = sel_enqueue,
                                           .release = op_release_state};

/* ---- ScatterND ---- */
static nncl_status snd_infer(struct op_call *c) {
  NNCL_TRY(scatter_common_infer(c));
  const nncl_shape *d = &c->in[0].shape, *q = &c->in[1].shape, *u = &c->in[2].shape;
  char sa[128], sb[128], sc[128];
  int64_t k = q->rank >= 1 ? q->dims[q->rank - 1] : -1;
  int ok = k >= 1 && k <= d->rank && u->rank == q->rank - 1 + d->rank - k;
  for (int i = 0; ok && i < q->rank - 1; i++) ok = u->dims[i] == q->dims[i];
  for (int i = (int)k; ok && i < d->rank; i++) ok = u->dims[q->rank - 1 + i - k] == d->dims[i];
  if (!ok)
    return op_error(c, NNCL_ERR_SHAPE,
                    "updates %s must be indices %s without its last dim followed by data %s "
                    "after the indexed dims",
                    OP_SHAPE_STR(u, sa), OP_SHAPE_STR(q, sb), OP_SHAPE_STR(d, sc));
  return check_tuples(c, d->dims, (int)k, "the indexed dims");
}

static nncl_status snd_plan(struct op_call *c, size_t *ws) {
  struct sgnd_plan *p = calloc(1, sizeof *p);
  if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "ScatterND plan");
  c->state = p;
  NNCL_TRY(check_size(c));
  const nncl_shape *d = &c->in[0].shape, *q = &c->in[1].shape;
  int k = (int)q->dims[q->rank - 1];
  int64_t st[NNCL_MAX_RANK];
  shape_strides(d, st);
  p->bytes = (size_t)nncl_shape_numel(d) * nncl_dtype_size(c->in[0].dtype);
  p->slice = (cl_ulong)st[k - 1];
  p->nidx = (cl_ulong)(nncl_shape_numel(q) / k);
  p->kk = (cl_uint)k;
  for (int t = 0; t < k; t++) {
    p->ds.s[t] = st[t];
    p->dd.s[t] = d->dims[t];
  }
  char suf[32], name[80];
  const char *isuf = c->in[1].dtype == NNCL_INT64 ? "i64" : "i32";
  NNCL_TRY(red_suffix(c, suf, sizeof suf));
  /* One serial lane per slice element leaves most of the device idle when slices are short and
     tuples many; reduction none then claims rows instead (same last-wins result). */
  if (!strncmp(suf, "none", 4) && p->slice < 64 && p->nidx >= 256) {
    p->nrows = (cl_uint)(nncl_shape_numel(d) / (int64_t)p->slice);
    for (int t = 0; t < k; t++) p->rs.s[t] = st[t] / (int64_t)p->slice;
    *ws = (size_t)p->nrows * sizeof(cl_int);
    c->algo = "owner";
    snprintf(name, sizeof name, "scatter_nd_owner_claim_%s", isuf);
    NNCL_TRY(nncl__kernel_get(c->ctx, "scatter", NULL, "scatter_nd_owner_init", &p->init));
    NNCL_TRY(nncl__kernel_get(c->ctx, "scatter", NULL, name, &p->claim));
    snprintf(name, sizeof name, "scatter_nd_owner_apply_%s_%s", suf + 5, isuf);
    return nncl__kernel_get(c->ctx, "scatter", NULL, name, &p->k);
  }
  c->algo = "lanes";
  snprintf(name, sizeof name, "scatter_nd_%s_%s", suf, isuf);
  return nncl__kernel_get(c->ctx, "scatter", NULL, name, &p->k);
}

static nncl_status snd_enqueue(struct op_call *c) {
  const struct sgnd_plan *p = c->state;
  NNCL_TRY(scatter_copy(c, p));
  if (!p->nidx || !p->slice) return NNCL_OK;
  size_t l = op_local_1d(c), g = (size_t)p->slice;
  if (p->claim) {
    cl_uint slice = (cl_uint)p->slice, nidx = (cl_uint)p->nidx;
    size_t gr = p->nrows, gi = nidx, local[3], global[3] = {slice, nidx, 1};
    NNCL_TRY(NNCL_LAUNCH(c->ctx, p->init, c->op_type, 1, &gr, &l, NNCL_ARG(c->workspace),
                         NNCL_ARG(p->nrows)));
    NNCL_TRY(NNCL_LAUNCH(c->ctx, p->claim, c->op_type, 1, &gi, &l, NNCL_ARG(c->in[1].mem),
                         NNCL_ARG(c->workspace), NNCL_ARG(nidx), NNCL_ARG(p->kk), NNCL_ARG(p->rs),
                         NNCL_ARG(p->dd)));
    shape_local_2d(c, slice, nidx, local);
    return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 3, global, local, NNCL_ARG(c->in[1].mem),
                       NNCL_ARG(c->in[2].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(c->workspace),
                       NNCL_ARG(slice), NNCL_ARG(nidx), NNCL_ARG(p->kk), NNCL_ARG(p->rs),
                       NNCL_ARG(p->dd));
  }
  return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 1, &g, &l, NNCL_ARG(c->in[1].mem),
                     NNCL_ARG(c->in[2].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(p->slice),
                     NNCL_ARG(p->nidx), NNCL_ARG(p->kk), NNCL_ARG(p->ds), NNCL_ARG(p->dd));
}

const struct op_def op_scatter_nd = {.min_in = 3,
                                     .max_in = 3,
                                     .min_out = 1,
                                     .max_out = 1,
                                     .infer = snd_infer,
                                     .plan = snd_plan,
                                     .enqueue = snd_enqueue,
                                     .release = op_release_state};
