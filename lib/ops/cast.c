/* cast.c: Cast and CastLike between float32, int64, int32, int8, uint8 and bool, on the generic
   unary kernel (C conversion: float to integer truncates toward zero, anything to bool is
   x != 0). A cast to the same type is a buffer copy. */
#include <stdlib.h>

#include "elementwise_util.h"

/* The conversion's expression, on the device and in host folding. */
static const char *cast_expr(nncl_dtype to) { return to == NNCL_BOOL ? "x!=0" : "x"; }

static nncl_status check_in(struct op_call *c) {
  if (!ew_cl_type(c->in[0].dtype))
    return op_error(c, NNCL_ERR_DTYPE, "input type %s is not supported",
                    nncl_dtype_name(c->in[0].dtype));
  return NNCL_OK;
}

static nncl_status infer_cast(struct op_call *c) {
  NNCL_TRY(check_in(c));
  int64_t to = op_attr_int(c, "to", -1);
  nncl_dtype t = nncl__dtype_from_onnx(to);
  if (to < 0) return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "attribute 'to' is missing");
  if (!ew_cl_type(t))
    return op_error(c, NNCL_ERR_UNSUPPORTED,
                    "to=%lld is not supported (float32, uint8, int8, int32, int64, bool)",
                    (long long)to);
  c->out[0].dtype = t;
  c->out[0].shape = c->in[0].shape;
  return ew_host_eval(c, cast_expr(t), "x", 0);
}

static nncl_status infer_cast_like(struct op_call *c) {
  NNCL_TRY(check_in(c));
  if (!ew_cl_type(c->in[1].dtype))
    return op_error(c, NNCL_ERR_UNSUPPORTED, "target type %s is not supported",
                    nncl_dtype_name(c->in[1].dtype));
  c->out[0].dtype = c->in[1].dtype;
  c->out[0].shape = c->in[0].shape;
  return ew_host_eval(c, cast_expr(c->out[0].dtype), "x", 0);
}

static nncl_status plan(struct op_call *c, size_t *ws) {
  (void)ws;
  nncl_dtype ti = c->in[0].dtype, to = c->out[0].dtype;
  if (ti == to) {
    c->algo = "copy";
    return NNCL_OK;
  }
  struct ew_unary *u = calloc(1, sizeof *u);
  if (!u) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "cast state");
  c->state = u;
  c->algo = "elementwise_unary";
  /* float16 here only at graph.precision's float16-storage edges (pass_precision.c) */
  return ew_unary_plan(c, cast_expr(to), ew_cl_storage_type(ti), ew_cl_storage_type(to), 0, 0, 0,
                       (size_t)nncl_shape_numel(&c->out[0].shape), u);
}

static nncl_status enqueue(struct op_call *c) {
  if (!c->state) {
    size_t bytes = (size_t)nncl_shape_numel(&c->out[0].shape) * nncl_dtype_size(c->out[0].dtype);
    return bytes ? nncl__buffer_copy(c->ctx, c->in[0].mem, 0, c->out[0].mem, 0, bytes) : NNCL_OK;
  }
  return ew_unary_enqueue(c, c->state, c->in[0].mem, c->out[0].mem, NULL, NULL);
}

const struct op_def op_cast = {.min_in = 1,
                               .max_in = 1,
                               .flags = OP_HALF_STORAGE,
                               .min_out = 1,
                               .max_out = 1,
                               .infer = infer_cast,
                               .plan = plan,
                               .enqueue = enqueue,
                               .release = op_release_state};
const struct op_def op_cast_like = {.min_in = 2,
                                    .max_in = 2,
                                    .min_out = 1,
                                    .max_out = 1,
                                    .infer = infer_cast_like,
                                    .plan = plan,
                                    .enqueue = enqueue,
                                    .release = op_release_state};
