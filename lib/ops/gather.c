/* gather.c: Gather and GatherElements (kernels/gather.cl), int32 or int64 indices, negative
   indices counting from the end. Gather sees data as [outer, axis_dim, inner]; rows of `inner`
   elements are moved as wide words (up to 16 bytes) when their byte size allows, which is what
   makes embedding lookups run at copy speed. Constant indices are range-checked at plan time;
   indices computed at run time that fall outside produce zeros instead of reading past the
   buffer (a device cannot report an error without a host round trip). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shape_copy.h"

struct gather_plan {
  cl_kernel k;
  cl_uint inner, nidx, outer;
  cl_int axis_dim;
  /* GatherElements */
  cl_uint n, rank, axis;
  cl_uint8 id;
  cl_int8 ds;
};

static nncl_status check_indices(struct op_call *c, int64_t axis_dim, int axis) {
  if (c->in[1].dtype != NNCL_INT64 && c->in[1].dtype != NNCL_INT32)
    return op_error(c, NNCL_ERR_DTYPE, "indices must be int32 or int64, not %s",
                    nncl_dtype_name(c->in[1].dtype));
  const nncl_array *h = c->in[1].host;
  if (!h) return NNCL_OK;
  int64_t n = nncl_shape_numel(&h->shape);
  char sa[128];
  for (int64_t i = 0; i < n; i++) {
    int64_t v =
        h->dtype == NNCL_INT64 ? ((const int64_t *)h->data)[i] : ((const int32_t *)h->data)[i];
    if (v < -axis_dim || v >= axis_dim)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                      "index %lld (element %lld) is out of range for axis %d of data %s",
                      (long long)v, (long long)i, axis, OP_SHAPE_STR(&c->in[0].shape, sa));
  }
  return NNCL_OK;
}

static int64_t index_at(const nncl_array *h, int64_t i, int64_t axis_dim) {
  int64_t v =
      h->dtype == NNCL_INT64 ? ((const int64_t *)h->data)[i] : ((const int32_t *)h->data)[i];
  return v < 0 ? v + axis_dim : v;
}

/* ---- Gather ---- */
static void gather_dims(const struct op_call *c, int axis, int64_t *outer, int64_t *inner) {
  const nncl_shape *d = &c->in[0].shape;
  *outer = *inner = 1;
  for (int k = 0; k < axis; k++) *outer *= d->dims[k];
  for (int k = axis + 1; k < d->rank; k++) *inner *= d->dims[k];
}

static nncl_status gather_infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "data"));
  const nncl_shape *d = &c->in[0].shape, *q = &c->in[1].shape;
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", 0), d->rank, "axis", &axis));
  NNCL_TRY(check_indices(c, d->dims[axis], axis));
  char sa[128], sb[128];
  if (d->rank + q->rank - 1 > NNCL_MAX_RANK)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "data %s with indices %s exceeds rank %d",
                    OP_SHAPE_STR(d, sa), OP_SHAPE_STR(q, sb), NNCL_MAX_RANK);
  nncl_shape out = {.rank = d->rank + q->rank - 1};
  int r = 0;
  for (int k = 0; k < axis; k++) out.dims[r++] = d->dims[k];
  for (int k = 0; k < q->rank; k++) out.dims[r++] = q->dims[k];
  for (int k = axis + 1; k < d->rank; k++) out.dims[r++] = d->dims[k];
  c->out[0].dtype = c->in[0].dtype;
  c->out[0].shape = out;
  if (shape_host_eligible(c, 0, 2)) {
    nncl_array *a;
    NNCL_TRY(shape_host_alloc(c, 0, &a));
    if (!a) return NNCL_OK;
    int64_t outer, inner, nidx = nncl_shape_numel(q), ad = d->dims[axis];
    gather_dims(c, axis, &outer, &inner);
    size_t es = nncl_dtype_size(c->in[0].dtype);
    const char *src = c->in[0].host->data;
    char *dst = a->data;
    for (int64_t o = 0; o < outer; o++)
      for (int64_t j = 0; j < nidx; j++)
        memcpy(dst + (size_t)((o * nidx + j) * inner) * es,
               src + (size_t)((o * ad + index_at(c->in[1].host, j, ad)) * inner) * es,
               (size_t)inner * es);
  }
  return NNCL_OK;
}

static nncl_status gather_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct gather_plan *p = calloc(1, sizeof *p);
  if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "gather plan");
  c->state = p;
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", 0), c->in[0].shape.rank, "axis", &axis));
  int64_t outer, inner, nidx = nncl_shape_numel(&c->in[1].shape);
  gather_dims(c, axis, &outer, &inner);
  if (nncl_shape_numel(&c->in[0].shape) >= INT32_MAX ||
      nncl_shape_numel(&c->out[0].shape) >= INT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "tensors of 2^31 elements or more are not supported");
  size_t es = nncl_dtype_size(c->in[0].dtype);
  for (size_t w = 16; w > es; w /= 2)
    if (((size_t)inner * es) % w == 0) {
      inner = (int64_t)((size_t)inner * es / w);
      es = w;
      break;
    }
  p->inner = (cl_uint)inner;
  p->nidx = (cl_uint)nidx;
  p->outer = (cl_uint)outer;
  p->axis_dim = (cl_int)c->in[0].shape.dims[axis];
  char name[64];
  snprintf(name, sizeof name, "gather_%s_%s", shape_esize_suffix(es),
           c->in[1].dtype == NNCL_INT64 ? "i64" : "i32");
  return nncl__kernel_get(c->ctx, "gather", NULL, name, &p->k);
}

static nncl_status gather_enqueue(struct op_call *c) {
  const struct gather_plan *p = c->state;
  size_t local[3], global[3] = {p->inner, p->nidx, p->outer};
  shape_local_2d(c, p->inner, p->nidx, local);
  return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 3, global, local, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->in[1].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(p->inner),
                     NNCL_ARG(p->nidx), NNCL_ARG(p->outer), NNCL_ARG(p->axis_dim));
}

const struct op_def op_gather = {.min_in = 2,
                                 .max_in = 2,
                                 .min_out = 1,
                                 .max_out = 1,
                                 .infer = gather_infer,
                                 .plan = gather_plan,
                                 .enqueue = gather_enqueue,
                                 .release = op_release_state,
                                 .cost = shape_cost_read_as_written,
                                 .backward = nncl__grad_gather};

/* ---- GatherElements ---- */
static nncl_status gel_infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "data"));
  const nncl_shape *d = &c->in[0].shape, *q = &c->in[1].shape;
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", 0), d->rank, "axis", &axis));
  char sa[128], sb[128];
  int ok = d->rank == q->rank;
  for (int k = 0; ok && k < d->rank; k++) ok = k == axis || q->dims[k] <= d->dims[k];
  if (!ok)
    return op_error(c, NNCL_ERR_SHAPE,
                    "indices %s must have the rank of data %s and no larger dims outside axis %d",
                    OP_SHAPE_STR(q, sa), OP_SHAPE_STR(d, sb), axis);
  NNCL_TRY(check_indices(c, d->dims[axis], axis));
  c->out[0].dtype = c->in[0].dtype;
  c->out[0].shape = *q;
  if (shape_host_eligible(c, 0, 2)) {
    nncl_array *a;
    NNCL_TRY(shape_host_alloc(c, 0, &a));
    if (!a) return NNCL_OK;
    int64_t st[NNCL_MAX_RANK], cc[NNCL_MAX_RANK] = {0}, n = nncl_shape_numel(q);
    shape_strides(d, st);
    size_t es = nncl_dtype_size(c->in[0].dtype);
    for (int64_t i = 0; i < n; i++) {
      int64_t off = 0;
      for (int k = 0; k < q->rank; k++)
        off += (k == axis ? index_at(c->in[1].host, i, d->dims[axis]) : cc[k]) * st[k];
      memcpy((char *)a->data + (size_t)i * es, (const char *)c->in[0].host->data + (size_t)off * es,
             es);
      for (int k = q->rank - 1; k >= 0; k--) {
        if (++cc[k] < q->dims[k]) break;
        cc[k] = 0;
      }
    }
  }
  return NNCL_OK;
}

static nncl_status gel_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct gather_plan *p = calloc(1, sizeof *p);
  if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "gather plan");
  c->state = p;
  const nncl_shape *d = &c->in[0].shape, *q = &c->in[1].shape;
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", 0), d->rank, "axis", &axis));
  if (nncl_shape_numel(d) >= INT32_MAX || nncl_shape_numel(q) >= INT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "tensors of 2^31 elements or more are not supported");
  int64_t st[NNCL_MAX_RANK];
  shape_strides(d, st);
  p->n = (cl_uint)nncl_shape_numel(q);
  p->rank = (cl_uint)d->rank;
  p->axis = (cl_uint)(d->rank - 1 - axis);
  p->axis_dim = (cl_int)d->dims[axis];
  for (int k = 0; k < d->rank; k++) {
    p->id.s[k] = (cl_uint)q->dims[d->rank - 1 - k];
    p->ds.s[k] = (cl_int)st[d->rank - 1 - k];
  }
  char name[64];
  snprintf(name, sizeof name, "gather_elements_%s_%s",
           shape_esize_suffix(nncl_dtype_size(c->in[0].dtype)),
           c->in[1].dtype == NNCL_INT64 ? "i64" : "i32");
  return nncl__kernel_get(c->ctx, "gather", NULL, name, &p->k);
}

static nncl_status gel_enqueue(struct op_call *c) {
  const struct gather_plan *p = c->state;
  size_t l = op_local_1d(c), g = p->n;
  return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 1, &g, &l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->in[1].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(p->n),
                     NNCL_ARG(p->id), NNCL_ARG(p->ds), NNCL_ARG(p->rank), NNCL_ARG(p->axis),
                     NNCL_ARG(p->axis_dim));
}

const struct op_def op_gather_elements = {.min_in = 2,
                                          .max_in = 2,
                                          .min_out = 1,
                                          .max_out = 1,
                                          .infer = gel_infer,
                                          .plan = gel_plan,
                                          .enqueue = gel_enqueue,
                                          .release = op_release_state,
                                          .cost = shape_cost_read_as_written};
