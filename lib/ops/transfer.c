/* transfer.c: nncl.Transfer, a copy of one tensor from the device that holds it (attribute
   "from") to the device the node is placed on. The copy runs on the source queue, in order after
   the producer; the destination queue waits for the copy's event with a barrier (never a host
   wait), so both devices keep running ahead. (A marker on the source queue waited for by a copy
   on the destination queue hangs PoCL 3.1 when a `basic` device is in the context, pocl#1177.) */
#include "op.h"

static nncl_status transfer_infer(struct op_call *c) {
  c->out[0].dtype = c->in[0].dtype;
  c->out[0].shape = c->in[0].shape;
  return NNCL_OK;
}

/* The context of the device the tensor comes from. */
static nncl_context *source(const struct op_call *c) {
  nncl_context *root = c->ctx->root ? c->ctx->root : c->ctx;
  return nncl__ctx_dev(root, (int)op_attr_int(c, "from", 0));
}

static nncl_status transfer_plan(struct op_call *c, size_t *ws) {
  *ws = 0;
  nncl_context *src = source(c);
  if (!src)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "source device %lld is not in the context",
                    (long long)op_attr_int(c, "from", 0));
  if (src->cl != c->ctx->cl)
    return op_error(c, NNCL_ERR_UNSUPPORTED,
                    "moving a tensor from %s to %s: devices of different OpenCL platforms do not "
                    "share buffers, and transfers through the host are not implemented; place "
                    "the graph on devices of one platform",
                    src->info.name, c->ctx->info.name);
  return NNCL_OK;
}

static nncl_status transfer_enqueue(struct op_call *c) {
  size_t bytes = (size_t)nncl_shape_numel(&c->in[0].shape) * nncl_dtype_size(c->in[0].dtype);
  if (!bytes) return NNCL_OK;
  nncl_context *src = source(c), *dst = c->ctx;
  cl_event own = NULL, *ev = nncl__prof_slot(src, "transfer"); /* profiled: the record owns it */
  cl_int err = clEnqueueCopyBuffer(src->queue, c->in[0].mem, c->out[0].mem, 0, 0, bytes, 0, NULL,
                                   ev ? ev : &own);
  nncl__prof_commit(src, ev, err);
  if (err != CL_SUCCESS)
    return nncl__cl_error(dst, err, "transfer node '%s': copy of %zu bytes from %s to %s",
                          c->node_name, bytes, src->info.name, dst->info.name);
  err = clEnqueueBarrierWithWaitList(dst->queue, 1, ev ? ev : &own, NULL);
  if (own) clReleaseEvent(own);
  if (err != CL_SUCCESS)
    return nncl__cl_error(dst, err, "transfer node '%s': barrier on %s", c->node_name,
                          dst->info.name);
  return NNCL_OK;
}

static void transfer_cost(const struct op_call *c, struct op_cost *out) {
  out->flops = 0;
  out->bytes =
      2.0 * (double)nncl_shape_numel(&c->in[0].shape) * (double)nncl_dtype_size(c->in[0].dtype);
}

const struct op_def op_transfer = {.min_in = 1,
                                   .max_in = 1,
                                   .min_out = 1,
                                   .max_out = 1,
                                   .infer = transfer_infer,
                                   .plan = transfer_plan,
                                   .enqueue = transfer_enqueue,
                                   .cost = transfer_cost};
