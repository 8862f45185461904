/* reshape.c: Reshape, Flatten, Squeeze, Unsqueeze, Identity and Dropout (inference). All are
   views: the output is the input's memory under another shape, so no kernel runs (OP_VIEW,
   enqueue NULL), except Dropout's optional mask output, which is filled with "true".
   Small integer outputs whose input is known at plan time are also computed on the host
   (shape_copy.h) so PyTorch's shape subgraphs resolve during inference. */
#include <stdlib.h>
#include <string.h>

#include "shape_copy.h"

/* The view's output shape is set; copy the constant input's bytes when eligible. */
static nncl_status view_host(struct op_call *c) {
  if (!shape_host_eligible(c, 0, 1) || !c->in[0].host) return NNCL_OK;
  nncl_array *a;
  NNCL_TRY(shape_host_alloc(c, 0, &a));
  if (a) memcpy(a->data, c->in[0].host->data, nncl_array_bytes(a));
  return NNCL_OK;
}

static nncl_status view_common(struct op_call *c, const nncl_shape *out) {
  char a[128], b[128];
  if (nncl_shape_numel(out) != nncl_shape_numel(&c->in[0].shape))
    return op_error(c, NNCL_ERR_SHAPE, "cannot view input %s as %s (element counts differ)",
                    OP_SHAPE_STR(&c->in[0].shape, a), OP_SHAPE_STR(out, b));
  c->out[0].dtype = c->in[0].dtype;
  c->out[0].shape = *out;
  return view_host(c);
}

/* ---- Reshape ---- */
static nncl_status reshape_infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "data"));
  int64_t v[NNCL_MAX_RANK + 1];
  int n;
  const int64_t *attr;
  if (c->opset < 5 && (n = op_attr_ints(c, "shape", &attr)) >= 0) {
    if (n > NNCL_MAX_RANK)
      return op_error(c, NNCL_ERR_UNSUPPORTED, "shape has %d dims, at most %d supported", n,
                      NNCL_MAX_RANK);
    memcpy(v, attr, (size_t)n * sizeof *v);
  } else {
    n = shape_input_ints(c, 1, v, NNCL_MAX_RANK);
    if (n == -1)
      return op_error(c, NNCL_ERR_UNSUPPORTED,
                      "the shape input must be a constant (known when the graph is planned)");
    if (n < 0)
      return op_error(c, NNCL_ERR_SHAPE, "the shape input must be int64 with at most %d values",
                      NNCL_MAX_RANK);
  }
  int allowzero = (int)op_attr_int(c, "allowzero", 0);
  const nncl_shape *in = &c->in[0].shape;
  nncl_shape out = {.rank = n};
  int infer_at = -1;
  int64_t known = 1;
  char sa[128];
  for (int i = 0; i < n; i++) {
    if (v[i] == 0 && !allowzero) {
      if (i >= in->rank)
        return op_error(c, NNCL_ERR_SHAPE, "shape[%d] = 0 copies a dim the input %s lacks", i,
                        OP_SHAPE_STR(in, sa));
      out.dims[i] = in->dims[i];
    } else if (v[i] == -1) {
      if (infer_at >= 0)
        return op_error(c, NNCL_ERR_SHAPE, "shape has more than one -1 (at %d and %d)", infer_at,
                        i);
      infer_at = i;
      continue;
    } else if (v[i] < 0) {
      return op_error(c, NNCL_ERR_SHAPE, "shape[%d] = %lld is negative", i, (long long)v[i]);
    } else {
      out.dims[i] = v[i];
    }
    if (!nncl__mul_ok(known, out.dims[i], &known))
      return op_error(c, NNCL_ERR_SHAPE, "the product of shape[0..%d] overflows", i);
  }
  if (infer_at >= 0) {
    int64_t total = nncl_shape_numel(in);
    if (known == 0 || total % known)
      return op_error(c, NNCL_ERR_SHAPE, "cannot infer the -1 of shape[%d] for input %s", infer_at,
                      OP_SHAPE_STR(in, sa));
    out.dims[infer_at] = total / known;
  }
  return view_common(c, &out);
}

const struct op_def op_reshape = {.value_inputs = 1u << 1,
                                  .min_in = 1,
                                  .max_in = 2,
                                  .min_out = 1,
                                  .max_out = 1,
                                  .flags = OP_VIEW,
                                  .infer = reshape_infer,
                                  .backward = nncl__grad_reshape};

/* ---- Flatten ---- */
static nncl_status flatten_infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "input"));
  const nncl_shape *in = &c->in[0].shape;
  int64_t axis = op_attr_int(c, "axis", 1);
  if (axis < -in->rank || axis > in->rank)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "axis %lld out of range for rank %d",
                    (long long)axis, in->rank);
  if (axis < 0) axis += in->rank;
  nncl_shape out = {.rank = 2, .dims = {1, 1}};
  for (int d = 0; d < in->rank; d++) out.dims[d < axis ? 0 : 1] *= in->dims[d];
  return view_common(c, &out);
}

const struct op_def op_flatten = {.min_in = 1,
                                  .max_in = 1,
                                  .min_out = 1,
                                  .max_out = 1,
                                  .flags = OP_VIEW,
                                  .infer = flatten_infer,
                                  .backward = nncl__grad_reshape};

/* Axes of Squeeze/Unsqueeze: the attribute before opset 13, the (constant) input from 13 on.
   Returns the count, or -1 when none were given; errors go through *st. */
static int read_axes(struct op_call *c, int64_t *v, nncl_status *st) {
  *st = NNCL_OK;
  const int64_t *a;
  int n = op_attr_ints(c, "axes", &a);
  if (n >= 0) {
    if (n > NNCL_MAX_RANK) {
      *st =
          op_error(c, NNCL_ERR_INVALID_ARGUMENT, "%d axes, at most %d supported", n, NNCL_MAX_RANK);
      return -1;
    }
    memcpy(v, a, (size_t)n * sizeof *v);
    return n;
  }
  n = shape_input_ints(c, 1, v, NNCL_MAX_RANK);
  if (n == -1 && op_has_input(c, 1))
    *st = op_error(c, NNCL_ERR_UNSUPPORTED, "the axes input must be a constant");
  else if (n == -2)
    *st = op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                   "the axes input must be int64 with at most %d values", NNCL_MAX_RANK);
  return n < 0 ? -1 : n;
}

/* Normalises axes against rank and rejects repeats. */
static nncl_status norm_axes(struct op_call *c, int64_t *v, int n, int rank, int *mark) {
  memset(mark, 0, sizeof(int) * NNCL_MAX_RANK);
  for (int i = 0; i < n; i++) {
    int ax;
    NNCL_TRY(op_axis(c, v[i], rank, "axis", &ax));
    if (mark[ax])
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "axis %lld is repeated", (long long)v[i]);
    mark[ax] = 1;
    v[i] = ax;
  }
  return NNCL_OK;
}

/* ---- Squeeze ---- */
static nncl_status squeeze_infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "data"));
  const nncl_shape *in = &c->in[0].shape;
  int64_t v[NNCL_MAX_RANK];
  int mark[NNCL_MAX_RANK];
  nncl_status st;
  int n = read_axes(c, v, &st);
  NNCL_TRY(st);
  char sa[128];
  if (n >= 0) {
    NNCL_TRY(norm_axes(c, v, n, in->rank, mark));
    for (int i = 0; i < n; i++)
      if (in->dims[v[i]] != 1)
        return op_error(c, NNCL_ERR_SHAPE, "axis %lld of input %s has size %lld, not 1",
                        (long long)v[i], OP_SHAPE_STR(in, sa), (long long)in->dims[v[i]]);
  } else {
    for (int d = 0; d < in->rank; d++) mark[d] = in->dims[d] == 1;
  }
  nncl_shape out = {.rank = 0};
  for (int d = 0; d < in->rank; d++)
    if (!mark[d]) out.dims[out.rank++] = in->dims[d];
  return view_common(c, &out);
}

const struct op_def op_squeeze = {.value_inputs = 1u << 1,
                                  .min_in = 1,
                                  .max_in = 2,
                                  .min_out = 1,
                                  .max_out = 1,
                                  .flags = OP_VIEW,
                                  .infer = squeeze_infer,
                                  .backward = nncl__grad_reshape};

/* ---- Unsqueeze ---- */
static nncl_status unsqueeze_infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "data"));
  const nncl_shape *in = &c->in[0].shape;
  int64_t v[NNCL_MAX_RANK];
  int mark[NNCL_MAX_RANK];
  nncl_status st;
  int n = read_axes(c, v, &st);
  NNCL_TRY(st);
  if (n < 0) return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "axes are required");
  int r = in->rank + n;
  char sa[128];
  if (r > NNCL_MAX_RANK)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "%d axes on input %s exceed rank %d", n,
                    OP_SHAPE_STR(in, sa), NNCL_MAX_RANK);
  NNCL_TRY(norm_axes(c, v, n, r, mark));
  nncl_shape out = {.rank = r};
  for (int d = 0, k = 0; d < r; d++) out.dims[d] = mark[d] ? 1 : in->dims[k++];
  return view_common(c, &out);
}

const struct op_def op_unsqueeze = {.value_inputs = 1u << 1,
                                    .min_in = 1,
                                    .max_in = 2,
                                    .min_out = 1,
                                    .max_out = 1,
                                    .flags = OP_VIEW,
                                    .infer = unsqueeze_infer,
                                    .backward = nncl__grad_reshape};

/* ---- Identity ---- */
static nncl_status identity_infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "input"));
  return view_common(c, &c->in[0].shape);
}

const struct op_def op_identity = {.min_in = 1,
                                   .max_in = 1,
                                   .min_out = 1,
                                   .max_out = 1,
                                   .flags = OP_VIEW,
                                   .infer = identity_infer,
                                   .backward = nncl__grad_identity};

/* ---- Dropout: identity at inference; the mask says every element was kept ---- */
struct dropout_state {
  cl_kernel fill;
  uint64_t one; /* bit pattern of 1 (true, or 1.0 in the data type before opset 10) */
};

static nncl_status dropout_infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "data"));
  float ratio = op_attr_float(c, "ratio", 0.5f);
  if (op_has_input(c, 1)) {
    if (!c->in[1].host || c->in[1].host->dtype != NNCL_FLOAT32)
      ratio = 0.5f; /* only matters in training mode, checked below */
    else
      ratio = *(const float *)c->in[1].host->data;
  }
  if (op_has_input(c, 2)) {
    const nncl_array *t = c->in[2].host;
    if (!t) return op_error(c, NNCL_ERR_UNSUPPORTED, "training_mode must be a constant");
    if (*(const uint8_t *)t->data && ratio != 0.0f)
      return op_error(c, NNCL_ERR_UNSUPPORTED,
                      "training mode (random dropout, ratio %g) is not supported", (double)ratio);
  }
  NNCL_TRY(view_common(c, &c->in[0].shape));
  if (c->n_out > 1) {
    c->out[1].dtype = c->opset < 10 ? c->in[0].dtype : NNCL_BOOL;
    c->out[1].shape = c->in[0].shape;
  }
  return NNCL_OK;
}

static uint64_t one_bits(nncl_dtype dt) {
  uint64_t b = 0;
  float f = 1.0f;
  uint32_t u;
  switch (dt) {
  case NNCL_FLOAT32:
    memcpy(&u, &f, 4);
    b = u;
    break;
  case NNCL_FLOAT16: b = 0x3c00; break;
  default: b = 1; break;
  }
  return b;
}

static nncl_status dropout_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  if (c->n_out < 2 || c->out[1].dtype == NNCL_UNDEFINED) return NNCL_OK;
  struct dropout_state *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "dropout state");
  c->state = s;
  s->one = one_bits(c->out[1].dtype);
  return shape_fill_kernel(c, c->out[1].dtype, &s->fill);
}

static nncl_status dropout_enqueue(struct op_call *c) {
  const struct dropout_state *s = c->state;
  if (!s) return NNCL_OK;
  return shape_fill_enqueue(c, s->fill, c->out[1].mem, nncl_shape_numel(&c->out[1].shape), s->one);
}

const struct op_def op_dropout = {.value_inputs = (1u << 1) | (1u << 2),
                                  .min_in = 1,
                                  .max_in = 3,
                                  .min_out = 1,
                                  .max_out = 2,
                                  .flags = OP_VIEW,
                                  .infer = dropout_infer,
                                  .plan = dropout_plan,
                                  .enqueue = dropout_enqueue,
                                  .release = op_release_state,
                                  .backward = nncl__grad_identity};
