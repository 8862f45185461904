/* transfer.c: nncl.Transfer, a copy of one tensor from the device that holds it (attribute
   "from") to the device the node is placed on. Devices of one platform: the copy runs on the
   source queue, in order after the producer, and the destination queue waits for its event with
   a barrier. Devices of different platforms share neither buffers nor events: the source queue
   reads into host memory the plan set aside, and a callback on that read releases a user event
   the destination queue's write waits for. Neither path waits on the host, so both devices keep
   running ahead. In a pipelined run the first command also waits for the destination's
   batch_fence (the end of the previous batch there), so a batch never overwrites the copy, or
   the staging memory, that the batch before it still reads. */
#include <stdlib.h>
#include <string.h>

#include "op.h"

struct transfer_state {
  void *staging; /* host copy on the path through the host, else NULL */
};

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

static size_t transfer_bytes(const struct op_call *c) {
  return (size_t)nncl_shape_numel(&c->in[0].shape) * nncl_dtype_size(c->in[0].dtype);
}

static nncl_status transfer_plan(struct op_call *c, size_t *ws) {
  *ws = 0;
  nncl_context *src = source(c);
  if (!src)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "source device %lld is not in the context",
                    (long long)op_attr_int(c, "from", 0));
  struct transfer_state *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "transfer state");
  c->state = s;
  int host = src->cl != c->ctx->cl || strcmp(op_option(c, NNCL__OPT_TRANSFER_PATH), "host") == 0;
  if (host && transfer_bytes(c)) {
    s->staging = malloc(transfer_bytes(c));
    if (!s->staging)
      return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "%zu bytes of host staging",
                      transfer_bytes(c));
  }
  return NNCL_OK;
}

static void transfer_release(struct op_call *c) {
  struct transfer_state *s = c->state;
  if (s) free(s->staging);
  free(s);
  c->state = NULL;
}

/* Runs on the OpenCL runtime's thread when the read to the host ends: lets the write go. */
static void CL_CALLBACK read_done(cl_event ev, cl_int status, void *user) {
  (void)ev;
  cl_event go = user;
  clSetUserEventStatus(go, status < 0 ? status : CL_COMPLETE);
  clReleaseEvent(go);
}

static nncl_status through_host(struct op_call *c, nncl_context *src, size_t bytes) {
  struct transfer_state *s = c->state;
  nncl_context *dst = c->ctx;
  cl_event read = NULL, go = NULL;
  cl_uint n_wait = dst->batch_fence ? 1 : 0;
  cl_int err = clEnqueueReadBuffer(src->queue, c->in[0].mem, CL_FALSE, 0, bytes, s->staging, n_wait,
                                   n_wait ? &dst->batch_fence : NULL, &read);
  if (err != CL_SUCCESS)
    return nncl__cl_error(dst, err, "transfer node '%s': read from %s", c->node_name,
                          src->info.name);
  go = clCreateUserEvent(dst->cl, &err);
  if (err == CL_SUCCESS) {
    clRetainEvent(go); /* the callback's reference */
    err = clSetEventCallback(read, CL_COMPLETE, read_done, go);
    if (err != CL_SUCCESS) clReleaseEvent(go);
  }
  clReleaseEvent(read);
  if (err != CL_SUCCESS) {
    if (go) {
      clSetUserEventStatus(go, CL_COMPLETE);
      clReleaseEvent(go);
    }
    return nncl__cl_error(dst, err, "transfer node '%s': event for %s", c->node_name,
                          dst->info.name);
  }
  cl_event *ev = nncl__prof_slot(dst, "transfer");
  err = clEnqueueWriteBuffer(dst->queue, c->out[0].mem, CL_FALSE, 0, bytes, s->staging, 1, &go, ev);
  nncl__prof_commit(dst, ev, err);
  clReleaseEvent(go);
  if (err != CL_SUCCESS)
    return nncl__cl_error(dst, err, "transfer node '%s': write to %s", c->node_name,
                          dst->info.name);
  return NNCL_OK;
}

static nncl_status transfer_enqueue(struct op_call *c) {
  size_t bytes = transfer_bytes(c);
  if (!bytes) return NNCL_OK;
  nncl_context *src = source(c), *dst = c->ctx;
  if (((struct transfer_state *)c->state)->staging) return through_host(c, src, bytes);
  cl_event own = NULL, *ev = nncl__prof_slot(src, "transfer"); /* profiled: the record owns it */
  cl_uint n_wait = dst->batch_fence ? 1 : 0;
  cl_int err = clEnqueueCopyBuffer(src->queue, c->in[0].mem, c->out[0].mem, 0, 0, bytes, n_wait,
                                   n_wait ? &dst->batch_fence : NULL, ev ? ev : &own);
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
                                   .release = transfer_release,
                                   .cost = transfer_cost};
