/* slice.c: Slice (attributes starts/ends/axes before opset 10, constant inputs starts/ends/
   axes/steps from 10 on). A slice is a strided copy: the start moves the input offset and the
   step scales the input stride (negative for reversed slices), so it shares shape_copy's
   simplification and widening. Indices follow ONNX: negative values count from the end, then
   clamp to [0, dim] (step > 0) or [-1, dim - 1] (step < 0). */
#include <stdlib.h>
#include <string.h>

#include "shape_copy.h"

/* Per input dim: first index and step (step 1 and start 0 for untouched dims). */
struct slice_plan {
  int64_t start[NNCL_MAX_RANK], step[NNCL_MAX_RANK];
};

static nncl_status read_param(struct op_call *c, const char *name, int input, int64_t *v, int *n,
                              int required) {
  if (c->opset < 10) {
    const int64_t *a;
    *n = op_attr_ints(c, name, &a);
    if (*n > NNCL_MAX_RANK)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "%s has %d entries, at most %d", name, *n,
                      NNCL_MAX_RANK);
    if (*n >= 0) memcpy(v, a, (size_t)*n * sizeof *v);
  } else {
    *n = shape_input_ints(c, input, v, NNCL_MAX_RANK);
    if (*n == -1 && op_has_input(c, input))
      return op_error(c, NNCL_ERR_UNSUPPORTED, "the %s input must be a constant", name);
    if (*n == -2)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                      "%s must be int32 or int64 with at most %d entries", name, NNCL_MAX_RANK);
  }
  if (*n < 0 && required) return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "%s is required", name);
  return NNCL_OK;
}

static nncl_status slice_resolve(struct op_call *c, struct slice_plan *p, nncl_shape *out) {
  const nncl_shape *in = &c->in[0].shape;
  int64_t starts[NNCL_MAX_RANK], ends[NNCL_MAX_RANK], axes[NNCL_MAX_RANK], steps[NNCL_MAX_RANK];
  int ns, ne, na, nt;
  NNCL_TRY(read_param(c, "starts", 1, starts, &ns, 1));
  NNCL_TRY(read_param(c, "ends", 2, ends, &ne, 1));
  NNCL_TRY(read_param(c, "axes", 3, axes, &na, 0));
  nt = -1;
  if (c->opset >= 10) NNCL_TRY(read_param(c, "steps", 4, steps, &nt, 0));
  if (ne != ns || (na >= 0 && na != ns) || (nt >= 0 && nt != ns))
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "starts, ends, axes and steps differ in length (%d, %d, %d, %d)", ns, ne, na,
                    nt);
  *out = *in;
  for (int d = 0; d < in->rank; d++) {
    p->start[d] = 0;
    p->step[d] = 1;
  }
  int seen[NNCL_MAX_RANK] = {0};
  char sa[128];
  for (int i = 0; i < ns; i++) {
    int ax;
    NNCL_TRY(op_axis(c, na >= 0 ? axes[i] : i, in->rank, "axis", &ax));
    if (seen[ax]) return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "axis %d is repeated", ax);
    seen[ax] = 1;
    int64_t step = nt >= 0 ? steps[i] : 1, d = in->dims[ax], s = starts[i], e = ends[i];
    if (step == 0)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "step of axis %d is 0 (input %s)", ax,
                      OP_SHAPE_STR(in, sa));
    /* a step longer than the dim takes one element either way; capping it keeps -step and the
       input strides (stride * step) from overflowing for steps such as INT64_MIN */
    if (step > d) step = d > 0 ? d : 1;
    if (step < -d) step = d > 0 ? -d : -1;
    /* starts and ends may be any int64 (INT64_MAX means "to the end"): clamp before adding d */
    if (s < -d) s = -d;
    if (e < -d - 1) e = -d - 1;
    if (s < 0) s += d;
    if (e < 0) e += d;
    int64_t len;
    if (step > 0) {
      s = s < 0 ? 0 : s > d ? d : s;
      e = e < 0 ? 0 : e > d ? d : e;
      len = e > s ? (e - s + step - 1) / step : 0;
    } else {
      s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
      e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
      len = s > e ? (s - e - step - 1) / -step : 0;
    }
    if (d == 0) len = 0;
    out->dims[ax] = len;
    p->start[ax] = len ? s : 0;
    p->step[ax] = step;
  }
  return NNCL_OK;
}

static void slice_copy(const struct op_call *c, const struct slice_plan *p, struct shape_copy *s) {
  const nncl_shape *in = &c->in[0].shape;
  int64_t st[NNCL_MAX_RANK];
  shape_strides(in, st);
  shape_copy_init(s, c->in[0].dtype, &c->out[0].shape);
  for (int d = 0; d < in->rank; d++) {
    s->is[d] = st[d] * p->step[d];
    s->ioff += st[d] * p->start[d];
  }
}

static nncl_status infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "data"));
  struct slice_plan p;
  nncl_shape out;
  NNCL_TRY(slice_resolve(c, &p, &out));
  c->out[0].dtype = c->in[0].dtype;
  c->out[0].shape = out;
  if (shape_host_eligible(c, 0, 1)) {
    nncl_array *a;
    NNCL_TRY(shape_host_alloc(c, 0, &a));
    if (a) {
      struct shape_copy s;
      slice_copy(c, &p, &s);
      shape_copy_host(&s, c->in[0].host->data, a->data);
    }
  }
  return NNCL_OK;
}

static nncl_status plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct shape_copy *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "slice plan");
  c->state = s;
  struct slice_plan p;
  nncl_shape out;
  NNCL_TRY(slice_resolve(c, &p, &out));
  slice_copy(c, &p, s);
  return shape_copy_plan(c, s, nncl_shape_numel(&c->in[0].shape), nncl_shape_numel(&out));
}

static nncl_status enqueue(struct op_call *c) {
  return shape_copy_enqueue(c, c->state, c->in[0].mem, c->out[0].mem);
}

const struct op_def op_slice = {.value_inputs = 0x1eu,
                                .min_in = 1,
                                .max_in = 5,
                                .min_out = 1,
                                .max_out = 1,
                                .infer = infer,
                                .plan = plan,
                                .enqueue = enqueue,
                                .release = op_release_state,
                                .cost = shape_cost_read_as_written,
                                .backward = nncl__grad_slice};
