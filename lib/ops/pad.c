/* pad.c: Pad, modes constant / reflect / edge (and wrap, opset 19's, at no cost). Pads come from
   the attribute before opset 11 and from a constant int64 input from 11 on, as
   [x1_begin, x2_begin, ..., x1_end, x2_end, ...]; negative pads crop. One kernel pass writes every
   output element (kernels/shape.cl shape_pad_*), reading the input through per-dim coordinate
   maps, so there is no separate fill + copy. */
#include <stdlib.h>
#include <string.h>

#include "shape_copy.h"

struct pad_args {
  int64_t begin[NNCL_MAX_RANK];
  enum shape_pad_mode mode;
  uint64_t value;
};

/* Bit pattern of a float value converted to dtype dt (Pad before opset 11). */
static uint64_t float_bits(nncl_dtype dt, float v) {
  uint32_t u;
  switch (dt) {
  case NNCL_FLOAT32: memcpy(&u, &v, 4); return u;
  case NNCL_BOOL: return v != 0.0f;
  case NNCL_UINT8: return (uint8_t)v;
  case NNCL_INT8: return (uint8_t)(int8_t)v;
  case NNCL_INT32: return (uint32_t)(int32_t)v;
  case NNCL_INT64: return (uint64_t)(int64_t)v;
  default: return 0; /* float16 from a float attribute is not produced by exporters */
  }
}

/* Bit pattern of element 0 of a host array, zero-extended from its size. */
static uint64_t elem_bits(const nncl_array *a) {
  switch (nncl_dtype_size(a->dtype)) {
  case 1: return *(const uint8_t *)a->data;
  case 2: return *(const uint16_t *)a->data;
  case 4: return *(const uint32_t *)a->data;
  default: return *(const uint64_t *)a->data;
  }
}

static nncl_status resolve(struct op_call *c, struct pad_args *p, nncl_shape *out) {
  const nncl_shape *in = &c->in[0].shape;
  int r = in->rank;
  int64_t pads[2 * NNCL_MAX_RANK];
  int n;
  nncl_dtype dt = c->in[0].dtype;
  p->value = 0;
  if (c->opset < 11) {
    const int64_t *a;
    n = op_attr_ints(c, "pads", &a);
    if (n < 0) n = op_attr_ints(c, "paddings", &a);
    if (n < 0) return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "the pads attribute is required");
    if (n > 2 * NNCL_MAX_RANK)
      n = 2 * NNCL_MAX_RANK + 1;
    else
      memcpy(pads, a, (size_t)n * sizeof *pads);
    p->value = float_bits(dt, op_attr_float(c, "value", 0.0f));
  } else {
    n = shape_input_ints(c, 1, pads, 2 * NNCL_MAX_RANK);
    if (n == -1) return op_error(c, NNCL_ERR_UNSUPPORTED, "the pads input must be a constant");
    if (n == -2) n = 2 * NNCL_MAX_RANK + 1;
    if (op_has_input(c, 2)) {
      const nncl_array *v = c->in[2].host;
      if (!v) return op_error(c, NNCL_ERR_UNSUPPORTED, "constant_value must be a constant");
      if (v->dtype != dt)
        return op_error(c, NNCL_ERR_DTYPE, "constant_value is %s, data is %s",
                        nncl_dtype_name(v->dtype), nncl_dtype_name(dt));
      if (nncl_shape_numel(&v->shape) >= 1) p->value = elem_bits(v);
    }
  }
  if (op_has_input(c, 3))
    return op_error(c, NNCL_ERR_UNSUPPORTED, "the axes input (opset 18) is not supported");
  char sa[128];
  if (n != 2 * r)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "%d pads for input %s of rank %d (need %d)", n,
                    OP_SHAPE_STR(in, sa), r, 2 * r);
  const char *mode = op_attr_str(c, "mode", "constant");
  if (strcmp(mode, "constant") == 0)
    p->mode = SHAPE_PAD_CONSTANT;
  else if (strcmp(mode, "reflect") == 0)
    p->mode = SHAPE_PAD_REFLECT;
  else if (strcmp(mode, "edge") == 0)
    p->mode = SHAPE_PAD_EDGE;
  else if (strcmp(mode, "wrap") == 0)
    p->mode = SHAPE_PAD_WRAP;
  else
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "unknown mode '%s'", mode);
  *out = *in;
  for (int d = 0; d < r; d++) {
    p->begin[d] = pads[d];
    if (!nncl__add_ok(in->dims[d], pads[d], &out->dims[d]) ||
        !nncl__add_ok(out->dims[d], pads[d + r], &out->dims[d]))
      return op_error(c, NNCL_ERR_SHAPE, "pads %lld and %lld on axis %d of input %s overflow",
                      (long long)pads[d], (long long)pads[d + r], d, OP_SHAPE_STR(in, sa));
    if (out->dims[d] < 0)
      return op_error(c, NNCL_ERR_SHAPE, "pads %lld and %lld crop axis %d of input %s below zero",
                      (long long)pads[d], (long long)pads[d + r], d, OP_SHAPE_STR(in, sa));
    if (p->mode != SHAPE_PAD_CONSTANT && in->dims[d] == 0 && out->dims[d] > 0)
      return op_error(c, NNCL_ERR_SHAPE, "%s padding of empty axis %d of input %s", mode, d,
                      OP_SHAPE_STR(in, sa));
  }
  return NNCL_OK;
}

static nncl_status infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "data"));
  struct pad_args p;
  c->out[0].dtype = c->in[0].dtype;
  return resolve(c, &p, &c->out[0].shape);
}

static nncl_status plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct shape_pad *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "pad plan");
  c->state = s;
  struct pad_args p;
  nncl_shape out;
  NNCL_TRY(resolve(c, &p, &out));
  c->algo = "direct";
  return shape_pad_plan(c, s, c->in[0].dtype, &c->in[0].shape, &out, p.begin, p.mode, p.value);
}

static nncl_status enqueue(struct op_call *c) {
  return shape_pad_enqueue(c, c->state, c->in[0].mem, c->out[0].mem);
}

const struct op_def op_pad = {.value_inputs = (1u << 1) | (1u << 2) | (1u << 3),
                              .min_in = 1,
                              .max_in = 4,
                              .min_out = 1,
                              .max_out = 1,
                              .infer = infer,
                              .plan = plan,
                              .enqueue = enqueue,
                              .release = op_release_state,
                              .backward = nncl__grad_pad};
