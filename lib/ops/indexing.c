/* indexing.c: ops whose output depends on element positions (kernels/indexing.cl): Trilu,
   EyeLike and OneHot fill a pattern; CumSum, Hardmax and TopK work along one axis, seeing the
   input as [outer, n, inner].
   Scalar inputs that shape the output or pick the axis (Trilu's k, CumSum's axis, TopK's k,
   OneHot's depth) are read at plan time (value_inputs), so a graph input feeding them re-plans
   the node when its value changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elementwise_util.h"

struct idx_plan {
  cl_kernel k;
  cl_uint d0, d1, d2, k_out; /* launch dims (meaning per op), TopK's k */
  cl_long kk;                /* Trilu / EyeLike diagonal offset */
  cl_int f0, f1;             /* flags: upper; exclusive, reverse; largest */
  size_t numel;              /* 0: nothing to launch */
  size_t local;              /* TopK rounds / CumSum group: work-group size (0: per-item kernel) */
};

/* TopK lines longer than this use indexing_topk_rounds (k passes of a group arg-best) instead of
   ranking every element against its whole line (n reads each). */
#define TOPK_RANK_MAX_N 512
/* CumSum with few long lines scans each line with a work-group instead of one work-item. */
#define CUMSUM_GROUP_MIN_N 1024
#define CUMSUM_GROUP_MAX_LINES 256

static nncl_status new_plan(struct op_call *c, struct idx_plan **out) {
  struct idx_plan *p = calloc(1, sizeof *p);
  if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s plan", c->op_type);
  c->state = p;
  *out = p;
  return NNCL_OK;
}

/* The value of scalar (or one-element) input i, known at plan time; int32/int64/float32. */
static nncl_status scalar_input(const struct op_call *c, int i, const char *what, int64_t *v) {
  const nncl_array *h = c->in[i].host;
  if (!h) return op_error(c, NNCL_ERR_UNSUPPORTED, "%s must be known at plan time", what);
  if (nncl_shape_numel(&h->shape) != 1)
    return op_error(c, NNCL_ERR_SHAPE, "%s must hold one value, not %lld", what,
                    (long long)nncl_shape_numel(&h->shape));
  switch (h->dtype) {
  case NNCL_INT64: *v = *(const int64_t *)h->data; break;
  case NNCL_INT32: *v = *(const int32_t *)h->data; break;
  case NNCL_FLOAT32: *v = (int64_t) * (const float *)h->data; break;
  default:
    return op_error(c, NNCL_ERR_DTYPE, "%s has type %s (int32, int64 or float32 expected)", what,
                    nncl_dtype_name(h->dtype));
  }
  return NNCL_OK;
}

static nncl_status check_size(const struct op_call *c, const nncl_shape *s) {
  if (nncl_shape_numel(s) >= INT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "tensors of 2^31 elements or more are not supported");
  return NNCL_OK;
}

/* [outer, n, inner] around `axis`; with `flatten` (Hardmax < 13) n takes every dim from axis on. */
static void axis_view(const nncl_shape *s, int axis, int flatten, cl_uint *outer, cl_uint *n,
                      cl_uint *inner) {
  int64_t o = 1, m = 1, i = 1;
  for (int d = 0; d < s->rank; d++) {
    if (d < axis)
      o *= s->dims[d];
    else if (d == axis || flatten)
      m *= s->dims[d];
    else
      i *= s->dims[d];
  }
  *outer = (cl_uint)o;
  *n = (cl_uint)m;
  *inner = (cl_uint)i;
}

static nncl_status get_kernel(struct op_call *c, const char *t, const char *ti, const char *name,
                              cl_kernel *k) {
  char opts[96];
  snprintf(opts, sizeof opts, "-DT=%s -DTI=%s", t, ti ? ti : "long");
  return nncl__kernel_get(c->ctx, "indexing", opts, name, k);
}

static void local_2d(size_t n0, size_t local[3]) {
  local[0] = n0 <= 8 ? 8 : n0 <= 32 ? 32 : 64;
  local[1] = 64 / local[0];
  local[2] = 1;
}

/* ---- Trilu ---- */
static const char *raw_type(size_t es) {
  return es == 1 ? "uchar" : es == 2 ? "ushort" : es == 4 ? "uint" : "ulong";
}

static nncl_status trilu_infer(struct op_call *c) {
  char sa[128];
  if (c->in[0].shape.rank < 2)
    return op_error(c, NNCL_ERR_SHAPE, "input %s must have rank 2 or more",
                    OP_SHAPE_STR(&c->in[0].shape, sa));
  if (nncl_dtype_size(c->in[0].dtype) == 0)
    return op_error(c, NNCL_ERR_DTYPE, "input type %s is not supported",
                    nncl_dtype_name(c->in[0].dtype));
  c->out[0] = (struct op_tensor){.dtype = c->in[0].dtype, .shape = c->in[0].shape};
  return NNCL_OK;
}

static nncl_status trilu_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct idx_plan *p = NULL;
  NNCL_TRY(new_plan(c, &p));
  const nncl_shape *s = &c->in[0].shape;
  NNCL_TRY(check_size(c, s));
  int64_t k = 0;
  if (op_has_input(c, 1)) NNCL_TRY(scalar_input(c, 1, "k", &k));
  p->kk = k;
  p->f0 = op_attr_int(c, "upper", 1) != 0;
  p->d0 = (cl_uint)s->dims[s->rank - 1];
  p->d1 = (cl_uint)s->dims[s->rank - 2];
  p->d2 = p->d0 && p->d1 ? (cl_uint)(nncl_shape_numel(s) / ((int64_t)p->d0 * p->d1)) : 0;
  p->numel = (size_t)nncl_shape_numel(s);
  return get_kernel(c, raw_type(nncl_dtype_size(c->in[0].dtype)), NULL, "indexing_trilu", &p->k);
}

static nncl_status trilu_enqueue(struct op_call *c) {
  const struct idx_plan *p = c->state;
  if (!p->numel) return NNCL_OK;
  size_t g[3] = {p->d0, p->d1, p->d2}, l[3];
  local_2d(p->d0, l);
  return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 3, g, l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->out[0].mem), NNCL_ARG(p->d0), NNCL_ARG(p->d1), NNCL_ARG(p->d2),
                     NNCL_ARG(p->kk), NNCL_ARG(p->f0));
}

const struct op_def op_trilu = {.min_in = 1,
                                .max_in = 2,
                                .min_out = 1,
                                .max_out = 1,
                                .value_inputs = 1u << 1,
                                .infer = trilu_infer,
                                .plan = trilu_plan,
                                .enqueue = trilu_enqueue,
                                .release = op_release_state};

/* ---- EyeLike ---- */

static nncl_status eyelike_infer(struct op_call *c) {
  char sa[128];
  if (c->in[0].shape.rank != 2)
    return op_error(c, NNCL_ERR_SHAPE, "input %s must have rank 2",
                    OP_SHAPE_STR(&c->in[0].shape, sa));
  int64_t dt = op_attr_int(c, "dtype", -1);
  nncl_dtype t = dt < 0 ? c->in[0].dtype : nncl__dtype_from_onnx(dt);
  if (!ew_cl_type(t))
    return op_error(c, NNCL_ERR_UNSUPPORTED,
                    "output type %s (dtype=%lld) is not supported (float32, uint8, int8, int32, "
                    "int64, bool)",
                    nncl_dtype_name(t), (long long)dt);
  c->out[0] = (struct op_tensor){.dtype = t, .shape = c->in[0].shape};
  return NNCL_OK;
}

static nncl_status eyelike_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct idx_plan *p = NULL;
  NNCL_TRY(new_plan(c, &p));
  NNCL_TRY(check_size(c, &c->out[0].shape));
  p->kk = op_attr_int(c, "k", 0);
  p->d0 = (cl_uint)c->out[0].shape.dims[1];
  p->d1 = (cl_uint)c->out[0].shape.dims[0];
  p->numel = (size_t)nncl_shape_numel(&c->out[0].shape);
  return get_kernel(c, ew_cl_type(c->out[0].dtype), NULL, "indexing_eyelike", &p->k);
}

static nncl_status eyelike_enqueue(struct op_call *c) {
  const struct idx_plan *p = c->state;
  if (!p->numel) return NNCL_OK;
  size_t g[3] = {p->d0, p->d1, 1}, l[3];
  local_2d(p->d0, l);
  return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 2, g, l, NNCL_ARG(c->out[0].mem), NNCL_ARG(p->d0),
                     NNCL_ARG(p->d1), NNCL_ARG(p->kk));
}

static void cost_write_only(const struct op_call *c, struct op_cost *o) {
  o->flops = 0;
  o->bytes = (double)nncl_shape_numel(&c->out[0].shape) * (double)nncl_dtype_size(c->out[0].dtype);
}

const struct op_def op_eyelike = {.min_in = 1,
                                  .max_in = 1,
                                  .min_out = 1,
                                  .max_out = 1,
                                  .infer = eyelike_infer,
                                  .plan = eyelike_plan,
                                  .enqueue = eyelike_enqueue,
                                  .release = op_release_state,
                                  .cost = cost_write_only};

/* ---- OneHot ---- */
static nncl_status onehot_infer(struct op_call *c) {
  const nncl_shape *s = &c->in[0].shape;
  nncl_dtype ti = c->in[0].dtype;
  if (ti != NNCL_FLOAT32 && ti != NNCL_INT32 && ti != NNCL_INT64)
    return op_error(c, NNCL_ERR_DTYPE, "indices have type %s (float32, int32 or int64 expected)",
                    nncl_dtype_name(ti));
  if (!ew_cl_type(c->in[2].dtype))
    return op_error(c, NNCL_ERR_DTYPE, "values type %s is not supported",
                    nncl_dtype_name(c->in[2].dtype));
  if (nncl_shape_numel(&c->in[2].shape) != 2)
    return op_error(c, NNCL_ERR_SHAPE, "values must hold 2 elements (off, on), not %lld",
                    (long long)nncl_shape_numel(&c->in[2].shape));
  if (s->rank + 1 > NNCL_MAX_RANK)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "output rank exceeds %d", NNCL_MAX_RANK);
  int64_t depth;
  NNCL_TRY(scalar_input(c, 1, "depth", &depth));
  if (depth < 1)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "depth %lld must be >= 1", (long long)depth);
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", -1), s->rank + 1, "axis", &axis));
  nncl_shape out = {.rank = s->rank + 1};
  for (int d = 0, r = 0; d < out.rank; d++) out.dims[d] = d == axis ? depth : s->dims[r++];
  c->out[0] = (struct op_tensor){.dtype = c->in[2].dtype, .shape = out};
  return NNCL_OK;
}

static nncl_status onehot_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct idx_plan *p = NULL;
  NNCL_TRY(new_plan(c, &p));
  const nncl_shape *s = &c->out[0].shape;
  NNCL_TRY(check_size(c, s));
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", -1), s->rank, "axis", &axis));
  axis_view(s, axis, 0, &p->d2, &p->d1, &p->d0);
  p->numel = (size_t)nncl_shape_numel(s);
  return get_kernel(c, ew_cl_type(c->out[0].dtype), ew_cl_type(c->in[0].dtype), "indexing_onehot",
                    &p->k);
}

static nncl_status onehot_enqueue(struct op_call *c) {
  const struct idx_plan *p = c->state;
  if (!p->numel) return NNCL_OK;
  size_t g[3] = {p->d0, p->d1, p->d2}, l[3];
  local_2d(p->d0, l);
  return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 3, g, l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->in[2].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(p->d0),
                     NNCL_ARG(p->d1), NNCL_ARG(p->d2));
}

const struct op_def op_onehot = {.min_in = 3,
                                 .max_in = 3,
                                 .min_out = 1,
                                 .max_out = 1,
                                 .value_inputs = 1u << 1,
                                 .infer = onehot_infer,
                                 .plan = onehot_plan,
                                 .enqueue = onehot_enqueue,
                                 .release = op_release_state,
                                 .cost = cost_write_only};

/* ---- CumSum and Hardmax ---- */
static nncl_status check_numeric(const struct op_call *c, int float_only) {
  nncl_dtype t = c->in[0].dtype;
  if (t == NNCL_FLOAT32 || (!float_only && (t == NNCL_INT32 || t == NNCL_INT64))) return NNCL_OK;
  return op_error(c, NNCL_ERR_DTYPE, "input type %s is not supported (%s)", nncl_dtype_name(t),
                  float_only ? "float32" : "float32, int32, int64");
}

static int is_hardmax(const struct op_call *c) { return strcmp(c->op_type, "Hardmax") == 0; }

static nncl_status line_axis(const struct op_call *c, int *axis) {
  int64_t a;
  if (is_hardmax(c))
    a = op_attr_int(c, "axis", c->opset >= 13 ? -1 : 1);
  else
    NNCL_TRY(scalar_input(c, 1, "axis", &a));
  return op_axis(c, a, c->in[0].shape.rank, "axis", axis);
}

static nncl_status line_infer(struct op_call *c) {
  NNCL_TRY(check_numeric(c, is_hardmax(c)));
  int axis;
  if (c->in[0].shape.rank == 0)
    return op_error(c, NNCL_ERR_SHAPE, "input must have rank 1 or more, not a scalar");
  NNCL_TRY(line_axis(c, &axis));
  c->out[0] = (struct op_tensor){.dtype = c->in[0].dtype, .shape = c->in[0].shape};
  return NNCL_OK;
}

static nncl_status line_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct idx_plan *p = NULL;
  NNCL_TRY(new_plan(c, &p));
  NNCL_TRY(check_size(c, &c->in[0].shape));
  int axis;
  NNCL_TRY(line_axis(c, &axis));
  axis_view(&c->in[0].shape, axis, is_hardmax(c) && c->opset < 13, &p->d2, &p->d1, &p->d0);
  p->f0 = op_attr_int(c, "exclusive", 0) != 0;
  p->f1 = op_attr_int(c, "reverse", 0) != 0;
  p->numel = (size_t)nncl_shape_numel(&c->in[0].shape);
  if (!is_hardmax(c) && p->d1 >= CUMSUM_GROUP_MIN_N &&
      (size_t)p->d0 * p->d2 <= CUMSUM_GROUP_MAX_LINES) {
    size_t l = op_local_1d(c), pow2 = 1;
    while (pow2 * 2 <= l) pow2 *= 2;
    p->local = pow2;
    c->algo = "cumsum_group";
    return get_kernel(c, ew_cl_type(c->in[0].dtype), NULL, "indexing_cumsum_group", &p->k);
  }
  return get_kernel(c, ew_cl_type(c->in[0].dtype), NULL,
                    is_hardmax(c) ? "indexing_hardmax" : "indexing_cumsum", &p->k);
}

static nncl_status line_enqueue(struct op_call *c) {
  const struct idx_plan *p = c->state;
  if (!p->numel) return NNCL_OK;
  size_t g[3] = {p->d0, p->d2, 1}, l[3];
  local_2d(p->d0, l);
  if (is_hardmax(c))
    return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 2, g, l, NNCL_ARG(c->in[0].mem),
                       NNCL_ARG(c->out[0].mem), NNCL_ARG(p->d0), NNCL_ARG(p->d1), NNCL_ARG(p->d2));
  if (p->local) {
    size_t gg = (size_t)p->d0 * p->d2 * p->local, ll = p->local;
    return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 1, &gg, &ll, NNCL_ARG(c->in[0].mem),
                       NNCL_ARG(c->out[0].mem), NNCL_ARG(p->d0), NNCL_ARG(p->d1), NNCL_ARG(p->d2),
                       NNCL_ARG(p->f0), NNCL_ARG(p->f1),
                       NNCL_LOCAL(p->local * nncl_dtype_size(c->in[0].dtype)));
  }
  return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 2, g, l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->out[0].mem), NNCL_ARG(p->d0), NNCL_ARG(p->d1), NNCL_ARG(p->d2),
                     NNCL_ARG(p->f0), NNCL_ARG(p->f1));
}

const struct op_def op_cumsum = {.min_in = 2,
                                 .max_in = 2,
                                 .min_out = 1,
                                 .max_out = 1,
                                 .value_inputs = 1u << 1,
                                 .infer = line_infer,
                                 .plan = line_plan,
                                 .enqueue = line_enqueue,
                                 .release = op_release_state};
const struct op_def op_hardmax = {.min_in = 1,
                                  .max_in = 1,
                                  .min_out = 1,
                                  .max_out = 1,
                                  .infer = line_infer,
                                  .plan = line_plan,
                                  .enqueue = line_enqueue,
                                  .release = op_release_state};

/* ---- TopK ---- */
static nncl_status topk_k(const struct op_call *c, int64_t *k) {
  if (c->opset < 10) {
    *k = op_attr_int(c, "k", -1);
    return NNCL_OK;
  }
  if (!op_has_input(c, 1)) return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "input K is missing");
  return scalar_input(c, 1, "K", k);
}

static nncl_status topk_infer(struct op_call *c) {
  NNCL_TRY(check_numeric(c, 0));
  const nncl_shape *s = &c->in[0].shape;
  char sa[128];
  if (s->rank == 0) return op_error(c, NNCL_ERR_SHAPE, "input must have rank 1 or more");
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", -1), s->rank, "axis", &axis));
  int64_t k;
  NNCL_TRY(topk_k(c, &k));
  if (k < 0 || k > s->dims[axis])
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "k %lld is outside [0, %lld] for input %s axis %d", (long long)k,
                    (long long)s->dims[axis], OP_SHAPE_STR(s, sa), axis);
  nncl_shape out = *s;
  out.dims[axis] = k;
  c->out[0] = (struct op_tensor){.dtype = c->in[0].dtype, .shape = out};
  if (c->n_out > 1) c->out[1] = (struct op_tensor){.dtype = NNCL_INT64, .shape = out};
  return NNCL_OK;
}

static nncl_status topk_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct idx_plan *p = NULL;
  NNCL_TRY(new_plan(c, &p));
  NNCL_TRY(check_size(c, &c->in[0].shape));
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", -1), c->in[0].shape.rank, "axis", &axis));
  axis_view(&c->in[0].shape, axis, 0, &p->d2, &p->d1, &p->d0);
  p->k_out = (cl_uint)c->out[0].shape.dims[axis];
  p->f0 = op_attr_int(c, "largest", 1) != 0;
  p->numel = p->k_out ? (size_t)nncl_shape_numel(&c->in[0].shape) : 0;
  if (p->d1 > TOPK_RANK_MAX_N) {
    size_t l = op_local_1d(c), pow2 = 1;
    while (pow2 * 2 <= l) pow2 *= 2;
    p->local = pow2;
    c->algo = "topk_rounds";
    return get_kernel(c, ew_cl_type(c->in[0].dtype), NULL, "indexing_topk_rounds", &p->k);
  }
  c->algo = "topk_rank";
  return get_kernel(c, ew_cl_type(c->in[0].dtype), NULL, "indexing_topk", &p->k);
}

static nncl_status topk_enqueue(struct op_call *c) {
  const struct idx_plan *p = c->state;
  if (!p->numel) return NNCL_OK;
  if (p->local) {
    size_t g = (size_t)p->d0 * p->d2 * p->local, l = p->local;
    size_t es = nncl_dtype_size(c->in[0].dtype);
    return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 1, &g, &l, NNCL_ARG(c->in[0].mem),
                       NNCL_ARG(c->out[0].mem), NNCL_ARG(c->out[1].mem), NNCL_ARG(p->d0),
                       NNCL_ARG(p->d1), NNCL_ARG(p->d2), NNCL_ARG(p->k_out), NNCL_ARG(p->f0),
                       NNCL_LOCAL(p->local * es), NNCL_LOCAL(p->local * sizeof(cl_uint)));
  }
  size_t g[3] = {p->d1, (size_t)p->d0 * p->d2, 1}, l[3];
  local_2d(p->d1, l);
  return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 2, g, l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->out[0].mem), NNCL_ARG(c->out[1].mem), NNCL_ARG(p->d0),
                     NNCL_ARG(p->d1), NNCL_ARG(p->d2), NNCL_ARG(p->k_out), NNCL_ARG(p->f0));
}

static void topk_cost(const struct op_call *c, struct op_cost *o) {
  double n = (double)nncl_shape_numel(&c->in[0].shape);
  int axis = 0;
  int64_t a = op_attr_int(c, "axis", -1);
  axis = (int)(a < 0 ? a + c->in[0].shape.rank : a);
  double line = axis >= 0 && axis < c->in[0].shape.rank ? (double)c->in[0].shape.dims[axis] : 1;
  o->flops = n * line;
  o->bytes = n * (double)nncl_dtype_size(c->in[0].dtype) +
             (double)nncl_shape_numel(&c->out[0].shape) * (nncl_dtype_size(c->in[0].dtype) + 8.0);
}

const struct op_def op_topk = {.min_in = 1,
                               .max_in = 2,
                               .min_out = 2,
                               .max_out = 2,
                               .value_inputs = 1u << 1,
                               .infer = topk_infer,
                               .plan = topk_plan,
                               .enqueue = topk_enqueue,
                               .release = op_release_state,
                               .cost = topk_cost};
