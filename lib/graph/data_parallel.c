/* data_parallel.c: running one model on several devices at once, each replica a graph pinned to
   one device and fed its slice of the batch: nncl_graph_set_device and nncl_graphs_run. */
#include "graph_internal.h"

nncl_status nncl_graph_set_device(nncl_graph *g, int device) {
  if (!g) return NNCL_ERR_INVALID_ARGUMENT;
  if (device < -1 || device >= g->ctx->n_dev)
    return nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT,
                       "nncl_graph_set_device: device %d outside 0..%d (or -1)", device,
                       g->ctx->n_dev - 1);
  if (g->pinned_device != device + 1) g->needs_plan = 1;
  g->pinned_device = device + 1;
  return NNCL_OK;
}

nncl_status nncl_graphs_run(nncl_graph **graphs, int n) {
  if (!graphs || n < 1 || !graphs[0]) return NNCL_ERR_INVALID_ARGUMENT;
  nncl_context *ctx = graphs[0]->ctx;
  for (int i = 1; i < n; i++)
    if (!graphs[i] || graphs[i]->ctx != ctx)
      return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT,
                         "nncl_graphs_run: graph %d is missing or of another context", i);
  /* Plan every graph first: planning waits on queues (uploads, measured choices), which would
     stall the replicas already enqueued. */
  for (int i = 0; i < n; i++) {
    NNCL_TRY(nncl_graph_plan(graphs[i]));
    graphs[i]->plan->has_run = 0;
  }
  nncl_status st = NNCL_OK;
  for (int i = 0; i < n && st == NNCL_OK; i++) st = nncl__graph_enqueue(graphs[i], NULL, NULL);
  nncl_status fin = nncl_context_finish(ctx); /* also after a failed enqueue: nothing in flight */
  if (st == NNCL_OK) st = fin;
  for (int i = 0; i < n; i++) graphs[i]->plan->has_run = st == NNCL_OK;
  return st;
}
