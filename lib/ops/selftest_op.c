/* selftest_op.c: nncl.SelftestAdd, element-wise a + b of equal shapes. Exists so the op path
   (registry, infer, enqueue, op_run, device needs) is tested independently of any real op
   family. */
#include "op.h"

static nncl_status infer(struct op_call *c) {
  if (c->in[0].dtype != NNCL_FLOAT32 || c->in[1].dtype != NNCL_FLOAT32)
    return op_error(c, NNCL_ERR_DTYPE, "inputs must be float32");
  char a[128], b[128];
  if (nncl_shape_numel(&c->in[0].shape) != nncl_shape_numel(&c->in[1].shape) ||
      c->in[0].shape.rank != c->in[1].shape.rank)
    return op_error(c, NNCL_ERR_SHAPE, "input shapes %s and %s differ",
                    OP_SHAPE_STR(&c->in[0].shape, a), OP_SHAPE_STR(&c->in[1].shape, b));
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = c->in[0].shape;
  return NNCL_OK;
}

static nncl_status enqueue(struct op_call *c) {
  cl_kernel k;
  NNCL_TRY(nncl__kernel_get(c->ctx, "selftest", NULL, "selftest_vadd", &k));
  cl_uint n = (cl_uint)nncl_shape_numel(&c->out[0].shape);
  size_t l = op_local_1d(c), g = op_round_up(n, l);
  return NNCL_LAUNCH(c->ctx, k, "selftest_vadd", 1, &g, &l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->in[1].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(n));
}

/* The device needs the attributes "local_bytes" and "fp64" declare (default none): how tests
   drive placement's capability checks without a real op that needs them. */
static void needs(const struct op_call *c, struct op_needs *out) {
  int64_t local = op_attr_int(c, "local_bytes", 0);
  out->local_bytes = local > 0 ? (uint64_t)local : 0;
  out->fp64 = op_attr_int(c, "fp64", 0) != 0;
}

const struct op_def op_selftest_add = {.min_in = 2,
                                       .max_in = 2,
                                       .min_out = 1,
                                       .max_out = 1,
                                       .infer = infer,
                                       .enqueue = enqueue,
                                       .needs = needs};
