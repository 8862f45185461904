/* pipeline.c: pipelined runs over several devices: nncl_graph_set_stages cuts the graph into
   stages (pass_place.c places them) and nncl_graph_run_pipelined pushes a sequence of batches
   through them, each queue running its stage of one batch while the next queue runs its stage of
   the batch before. */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

nncl_status nncl_graph_set_stages(nncl_graph *g, int n_stages) {
  if (!g) return NNCL_ERR_INVALID_ARGUMENT;
  if (n_stages < 0 || n_stages > g->ctx->n_dev)
    return nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT,
                       "nncl_graph_set_stages: %d stages for %d devices (0 turns stages off)",
                       n_stages, g->ctx->n_dev);
  if (g->stages != n_stages) g->needs_plan = 1;
  g->stages = n_stages;
  return NNCL_OK;
}

/* Batch b's input k has batch 0's dtype and shape (one plan serves every batch), and an input
   that sets shapes (op_def.value_inputs) batch 0's very values. */
static nncl_status check_batch_input(nncl_graph *g, int b, int k, const nncl_array *a,
                                     const nncl_array *first) {
  const char *name = g->values[g->inputs[k]].name;
  int same = a->dtype == first->dtype && a->shape.rank == first->shape.rank;
  for (int d = 0; same && d < a->shape.rank; d++) same = a->shape.dims[d] == first->shape.dims[d];
  char sa[128], sb[128];
  if (!same)
    return nncl__error(
        g->ctx, NNCL_ERR_SHAPE, "pipelined run: input '%s' of batch %d is %s %s, batch 0's %s %s",
        name, b, nncl_dtype_name(a->dtype), nncl_shape_format(&a->shape, sa, sizeof sa),
        nncl_dtype_name(first->dtype), nncl_shape_format(&first->shape, sb, sizeof sb));
  size_t bytes = nncl_array_bytes(a);
  if (bytes && !a->data)
    return nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT,
                       "pipelined run: input '%s' of batch %d has no data", name, b);
  if (g->input_is_value[k] && bytes && memcmp(a->data, first->data, bytes) != 0)
    return nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT,
                       "pipelined run: input '%s' sets shapes, so every batch must give batch "
                       "0's values (batch %d differs)",
                       name, b);
  return NNCL_OK;
}

/* Batch b's inputs into their device buffers without waiting: each write is queued behind the
   previous batch's kernels on the input's device (in-order queue), and the caller's arrays stay
   valid until the run's final wait. */
static nncl_status write_inputs(nncl_graph *g, const nncl_array *in) {
  struct plan *p = g->plan;
  for (int k = 0; k < g->n_inputs; k++) {
    int s = p->input_storage[k];
    size_t bytes = nncl_array_bytes(&in[k]);
    if (s < 0 || !bytes) continue;
    nncl_context *dc = nncl__ctx_dev(g->ctx, p->st[s].device);
    cl_int err = clEnqueueWriteBuffer(dc->queue, p->st[s].mem, CL_FALSE, 0, bytes, in[k].data, 0,
                                      NULL, NULL);
    if (err != CL_SUCCESS)
      return nncl__cl_error(g->ctx, err, "pipelined run: writing input '%s' to %s",
                            g->values[g->inputs[k]].name, dc->info.name);
  }
  return NNCL_OK;
}

/* Batch b's outputs, read without waiting through the queue of the device that holds each, in
   order after that batch's kernels there and before the next batch's. */
static nncl_status read_outputs(nncl_graph *g, nncl_array *out) {
  struct plan *p = g->plan;
  for (int i = 0; i < g->n_outputs; i++) {
    const struct pvalue *x = &p->v[g->outputs[i]];
    const char *name = g->values[g->outputs[i]].name;
    if (nncl_array_alloc(&out[i], x->dtype, &x->shape) != NNCL_OK)
      return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "pipelined run: output '%s'", name);
    size_t bytes = nncl_array_bytes(&out[i]);
    if (x->host) {
      memcpy(out[i].data, x->host->data, bytes);
      continue;
    }
    if (x->storage < 0)
      return nncl__error(g->ctx, NNCL_ERR_STATE, "pipelined run: output '%s' has no storage", name);
    if (!bytes) continue;
    nncl_context *dc = nncl__ctx_dev(g->ctx, p->st[x->storage].device);
    cl_int err = clEnqueueReadBuffer(dc->queue, p->st[x->storage].mem, CL_FALSE, 0, bytes,
                                     out[i].data, 0, NULL, NULL);
    if (err != CL_SUCCESS)
      return nncl__cl_error(g->ctx, err, "pipelined run: reading output '%s' from %s", name,
                            dc->info.name);
  }
  return NNCL_OK;
}

/* Marks the end of the batch just enqueued on every queue: the next batch's transfers into a
   device wait for its marker there (transfer.c), which is the only wait between stages that
   in-order queues do not already give. */
static nncl_status fence_batch(nncl_context *ctx, cl_event *fence) {
  for (int d = 0; d < ctx->n_dev; d++) {
    nncl_context *dc = ctx->dev[d];
    cl_event ev = NULL;
    cl_int err = clEnqueueMarkerWithWaitList(dc->queue, 0, NULL, &ev);
    if (err != CL_SUCCESS)
      return nncl__cl_error(ctx, err, "pipelined run: marker on %s", dc->info.name);
    if (fence[d]) clReleaseEvent(fence[d]);
    fence[d] = ev;
    dc->batch_fence = ev;
    clFlush(dc->queue); /* start the batch now: the host keeps enqueueing the next one */
  }
  return NNCL_OK;
}

nncl_status nncl_graph_run_pipelined(nncl_graph *g, int n_batches, const nncl_array *inputs,
                                     nncl_array *outputs) {
  if (!g) return NNCL_ERR_INVALID_ARGUMENT;
  if (n_batches < 1 || !inputs || !outputs)
    return nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT, "nncl_graph_run_pipelined: %s",
                       n_batches < 1 ? "no batches"
                       : !inputs     ? "inputs is NULL"
                                     : "outputs is NULL");
  NNCL_TRY(nncl__context_check_alive(g->ctx, "nncl_graph_run_pipelined"));
  int n_in = g->n_inputs, n_out = g->n_outputs;
  memset(outputs, 0, (size_t)n_batches * (size_t)n_out * sizeof *outputs);
  for (int b = 1; b < n_batches; b++)
    for (int k = 0; k < n_in; k++)
      NNCL_TRY(check_batch_input(g, b, k, &inputs[(size_t)b * n_in + k], &inputs[k]));
  for (int k = 0; k < n_in; k++) /* batch 0 sets shapes and plans as nncl_graph_run would */
    NNCL_TRY(nncl_graph_set_input(g, g->values[g->inputs[k]].name, &inputs[k]));
  NNCL_TRY(nncl_graph_plan(g));
  nncl_context *ctx = g->ctx;
  cl_event fence[NNCL_MAX_DEVICES] = {0};
  nncl_status st = NNCL_OK;
  for (int b = 0; b < n_batches && st == NNCL_OK; b++) {
    if (b > 0) st = write_inputs(g, &inputs[(size_t)b * n_in]); /* batch 0's: set above */
    if (st == NNCL_OK) st = nncl__graph_enqueue(g, NULL, NULL);
    if (st == NNCL_OK) st = read_outputs(g, &outputs[(size_t)b * n_out]);
    if (st == NNCL_OK) st = fence_batch(ctx, fence);
  }
  nncl_status fin = nncl_context_finish(ctx); /* also after a failure: nothing left in flight */
  if (st == NNCL_OK) st = fin;
  for (int d = 0; d < ctx->n_dev; d++) {
    ctx->dev[d]->batch_fence = NULL;
    if (fence[d]) clReleaseEvent(fence[d]);
  }
  g->plan->has_run = st == NNCL_OK;
  if (st != NNCL_OK)
    for (size_t i = 0; i < (size_t)n_batches * (size_t)n_out; i++) nncl_array_free(&outputs[i]);
  return st;
}
