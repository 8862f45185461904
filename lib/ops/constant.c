/* constant.c: Constant, ConstantOfShape, Shape, Size and Range, whose outputs depend only on
   attributes, shapes or constant inputs.

   Choice: infer() computes the value on the host and sets out[0].host, so the executor can fold
   these nodes away (and shape subgraphs resolve during inference). They still run when
   enqueued, without host work on the hot path: plan() uploads the value once into a private
   buffer and enqueue() is a device-side copy (Constant, Shape, Size, Range), or a fill kernel
   (ConstantOfShape, whose output can be large: its host value is only made up to
   COS_HOST_MAX elements). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "shape_copy.h"

#define COS_HOST_MAX 1024

struct const_state {
  cl_mem value;   /* device copy of the host value */
  cl_kernel fill; /* ConstantOfShape */
  uint64_t bits;
};

static void release(struct op_call *c) {
  struct const_state *s = c->state;
  if (s) nncl__buffer_release(s->value);
  free(s);
  c->state = NULL;
}

static nncl_status state_alloc(struct op_call *c, struct const_state **out) {
  struct const_state *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s state", c->op_type);
  c->state = s;
  *out = s;
  return NNCL_OK;
}

/* Uploads out[0].host (set by infer) once; enqueue copies it. */
static nncl_status upload_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct const_state *s = NULL;
  NNCL_TRY(state_alloc(c, &s));
  const nncl_array *h = c->out[0].host;
  if (!h) return op_error(c, NNCL_ERR_STATE, "value was not computed by infer");
  size_t bytes = nncl_array_bytes(h);
  c->algo = "constant";
  return nncl__buffer_from_host(c->ctx, h->data, bytes ? bytes : 1, "constant value", &s->value);
}

static nncl_status copy_enqueue(struct op_call *c) {
  const struct const_state *s = c->state;
  size_t bytes = (size_t)nncl_shape_numel(&c->out[0].shape) * nncl_dtype_size(c->out[0].dtype);
  return nncl__buffer_copy(c->ctx, s->value, 0, c->out[0].mem, 0, bytes);
}

/* Sets out[0] to dtype/shape and, unless already known, allocates its host value. */
static nncl_status host_out(struct op_call *c, nncl_dtype dt, const nncl_shape *shape,
                            nncl_array **a) {
  c->out[0].dtype = dt;
  c->out[0].shape = *shape;
  return shape_host_alloc(c, 0, a);
}

/* ---- Constant ---- */
static nncl_status constant_infer(struct op_call *c) {
  const struct nncl__attr *t = op_attr(c, "value");
  nncl_array *a;
  if (t && t->type == ATTR_TENSOR && t->t) {
    NNCL_TRY(host_out(c, t->t->dtype, &t->t->shape, &a));
    if (a) memcpy(a->data, t->t->data, nncl_array_bytes(a));
    return NNCL_OK;
  }
  const int64_t *iv;
  const float *fv;
  int n;
  nncl_shape scalar = {.rank = 0}, vec = {.rank = 1};
  if ((t = op_attr(c, "value_float")) != NULL) {
    float f = op_attr_float(c, "value_float", 0);
    NNCL_TRY(host_out(c, NNCL_FLOAT32, &scalar, &a));
    if (a) memcpy(a->data, &f, sizeof f);
  } else if ((t = op_attr(c, "value_int")) != NULL) {
    int64_t i = op_attr_int(c, "value_int", 0);
    NNCL_TRY(host_out(c, NNCL_INT64, &scalar, &a));
    if (a) memcpy(a->data, &i, sizeof i);
  } else if ((n = op_attr_floats(c, "value_floats", &fv)) >= 0) {
    vec.dims[0] = n;
    NNCL_TRY(host_out(c, NNCL_FLOAT32, &vec, &a));
    if (a) memcpy(a->data, fv, (size_t)n * sizeof *fv);
  } else if ((n = op_attr_ints(c, "value_ints", &iv)) >= 0) {
    vec.dims[0] = n;
    NNCL_TRY(host_out(c, NNCL_INT64, &vec, &a));
    if (a) memcpy(a->data, iv, (size_t)n * sizeof *iv);
  } else {
    return op_error(c, NNCL_ERR_UNSUPPORTED,
                    "needs a value, value_float(s) or value_int(s) attribute (sparse and string "
                    "constants are not supported)");
  }
  return NNCL_OK;
}

const struct op_def op_constant = {.min_in = 0,
                                   .max_in = 0,
                                   .min_out = 1,
                                   .max_out = 1,
                                   .infer = constant_infer,
                                   .plan = upload_plan,
                                   .enqueue = copy_enqueue,
                                   .release = release,
                                   .cost = shape_cost_write_only};

/* ---- ConstantOfShape ---- */
static nncl_status cos_value(struct op_call *c, nncl_dtype *dt, uint64_t *bits) {
  const struct nncl__attr *t = op_attr(c, "value");
  *dt = NNCL_FLOAT32;
  *bits = 0;
  if (!t) return NNCL_OK;
  if (t->type != ATTR_TENSOR || !t->t || nncl_shape_numel(&t->t->shape) != 1)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "value must be a one-element tensor");
  *dt = t->t->dtype;
  NNCL_TRY(shape_check_dtype(c, *dt, "value"));
  switch (nncl_dtype_size(*dt)) { /* the fill kernel takes the low bytes of the pattern */
  case 1: *bits = *(const uint8_t *)t->t->data; break;
  case 2: *bits = *(const uint16_t *)t->t->data; break;
  case 4: *bits = *(const uint32_t *)t->t->data; break;
  default: *bits = *(const uint64_t *)t->t->data; break;
  }
  return NNCL_OK;
}

static nncl_status cos_infer(struct op_call *c) {
  nncl_dtype dt;
  uint64_t bits;
  NNCL_TRY(cos_value(c, &dt, &bits));
  int64_t v[NNCL_MAX_RANK];
  int n = shape_input_ints(c, 0, v, NNCL_MAX_RANK);
  if (n == -1) return op_error(c, NNCL_ERR_UNSUPPORTED, "the shape input must be a constant");
  if (n < 0)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "the shape input must be int64 with at most %d values", NNCL_MAX_RANK);
  nncl_shape s = {.rank = n};
  for (int i = 0; i < n; i++) {
    if (v[i] < 0)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "shape[%d] = %lld is negative", i,
                      (long long)v[i]);
    s.dims[i] = v[i];
  }
  c->out[0].dtype = dt;
  c->out[0].shape = s;
  int64_t numel = nncl_shape_numel(&s);
  if (numel > COS_HOST_MAX) return NNCL_OK;
  nncl_array *a;
  NNCL_TRY(shape_host_alloc(c, 0, &a));
  size_t es = nncl_dtype_size(dt);
  for (int64_t i = 0; a && i < numel; i++) memcpy((char *)a->data + (size_t)i * es, &bits, es);
  return NNCL_OK;
}

static nncl_status cos_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct const_state *s = NULL;
  NNCL_TRY(state_alloc(c, &s));
  nncl_dtype dt;
  NNCL_TRY(cos_value(c, &dt, &s->bits));
  c->algo = "fill";
  return shape_fill_kernel(c, dt, &s->fill);
}

static nncl_status cos_enqueue(struct op_call *c) {
  const struct const_state *s = c->state;
  return shape_fill_enqueue(c, s->fill, c->out[0].mem, nncl_shape_numel(&c->out[0].shape), s->bits);
}

const struct op_def op_constant_of_shape = {.value_inputs = 1u << 0,
                                            .min_in = 1,
                                            .max_in = 1,
                                            .min_out = 1,
                                            .max_out = 1,
                                            .infer = cos_infer,
                                            .plan = cos_plan,
                                            .enqueue = cos_enqueue,
                                            .release = release,
                                            .cost = shape_cost_write_only};

/* ---- Shape ---- */
static nncl_status shape_infer(struct op_call *c) {
  const nncl_shape *in = &c->in[0].shape;
  int64_t r = in->rank;
  int64_t start = op_attr_int(c, "start", 0), end = op_attr_int(c, "end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = start < 0 ? 0 : start > r ? r : start;
  end = end < 0 ? 0 : end > r ? r : end;
  nncl_shape s = {.rank = 1, .dims = {end > start ? end - start : 0}};
  nncl_array *a;
  NNCL_TRY(host_out(c, NNCL_INT64, &s, &a));
  if (a) memcpy(a->data, in->dims + start, (size_t)s.dims[0] * sizeof(int64_t));
  return NNCL_OK;
}

const struct op_def op_shape = {.min_in = 1,
                                .max_in = 1,
                                .min_out = 1,
                                .max_out = 1,
                                .infer = shape_infer,
                                .plan = upload_plan,
                                .enqueue = copy_enqueue,
                                .release = release,
                                .cost = shape_cost_write_only};

/* ---- Size ---- */
static nncl_status size_infer(struct op_call *c) {
  nncl_shape s = {.rank = 0};
  nncl_array *a;
  NNCL_TRY(host_out(c, NNCL_INT64, &s, &a));
  if (a) *(int64_t *)a->data = nncl_shape_numel(&c->in[0].shape);
  return NNCL_OK;
}

const struct op_def op_size = {.min_in = 1,
                               .max_in = 1,
                               .min_out = 1,
                               .max_out = 1,
                               .infer = size_infer,
                               .plan = upload_plan,
                               .enqueue = copy_enqueue,
                               .release = release,
                               .cost = shape_cost_write_only};

/* ---- Range ---- */
static int64_t int_at(const nncl_array *a) {
  return a->dtype == NNCL_INT32 ? *(const int32_t *)a->data : *(const int64_t *)a->data;
}

static nncl_status range_infer(struct op_call *c) {
  nncl_dtype dt = c->in[0].dtype;
  if (dt != NNCL_FLOAT32 && dt != NNCL_INT32 && dt != NNCL_INT64)
    return op_error(c, NNCL_ERR_DTYPE, "inputs must be float32, int32 or int64, not %s",
                    nncl_dtype_name(dt));
  for (int i = 0; i < 3; i++) {
    if (c->in[i].dtype != dt)
      return op_error(c, NNCL_ERR_DTYPE, "input %d is %s, start is %s", i,
                      nncl_dtype_name(c->in[i].dtype), nncl_dtype_name(dt));
    if (!c->in[i].host) return op_error(c, NNCL_ERR_UNSUPPORTED, "input %d must be a constant", i);
    if (nncl_shape_numel(&c->in[i].shape) != 1)
      return op_error(c, NNCL_ERR_SHAPE, "input %d must be a scalar", i);
  }
  const nncl_array *hs = c->in[0].host, *hl = c->in[1].host, *hd = c->in[2].host;
  int64_t n;
  if (dt == NNCL_FLOAT32) {
    double start = *(const float *)hs->data, limit = *(const float *)hl->data,
           delta = *(const float *)hd->data;
    if (delta == 0) return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "delta is 0");
    double q = ceil((limit - start) / delta);
    n = q > 0 ? (q < (double)INT32_MAX ? (int64_t)q : INT32_MAX) : 0; /* no float-to-int UB */
  } else {
    int64_t start = int_at(hs), limit = int_at(hl), delta = int_at(hd);
    if (delta == 0) return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "delta is 0");
    /* ceil(span / delta) without negating or adding anything that may overflow */
    int64_t span;
    if (!nncl__sub_ok(limit, start, &span))
      return op_error(c, NNCL_ERR_UNSUPPORTED, "limit - start overflows int64");
    n = delta > 0 ? (span > 0 ? (span - 1) / delta + 1 : 0)
                  : (span < 0 ? (span + 1) / delta + 1 : 0);
  }
  if (n >= INT32_MAX) return op_error(c, NNCL_ERR_UNSUPPORTED, "%lld elements", (long long)n);
  nncl_shape s = {.rank = 1, .dims = {n}};
  nncl_array *a;
  NNCL_TRY(host_out(c, dt, &s, &a));
  if (!a) return NNCL_OK;
  for (int64_t i = 0; i < n; i++) {
    if (dt == NNCL_FLOAT32)
      ((float *)a->data)[i] = *(const float *)hs->data + (float)i * *(const float *)hd->data;
    else if (dt == NNCL_INT32)
      ((int32_t *)a->data)[i] =
          (int32_t)(*(const int32_t *)hs->data + i * *(const int32_t *)hd->data);
    else
      ((int64_t *)a->data)[i] = *(const int64_t *)hs->data + i * *(const int64_t *)hd->data;
  }
  return NNCL_OK;
}

const struct op_def op_range = {.value_inputs = 0x7u,
                                .min_in = 3,
                                .max_in = 3,
                                .min_out = 1,
                                .max_out = 1,
                                .infer = range_infer,
                                .plan = upload_plan,
                                .enqueue = copy_enqueue,
                                .release = release,
                                .cost = shape_cost_write_only};
