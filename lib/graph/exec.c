/* exec.c: running a planned graph: inputs in, every kernel enqueued without host round trips,
   outputs out; plus the planned-graph summaries that info and the profiler read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph_internal.h"

static int input_index(const nncl_graph *g, const char *name) {
  for (int k = 0; k < g->n_inputs; k++)
    if (strcmp(g->values[g->inputs[k]].name, name) == 0) return k;
  return -1;
}

static nncl_status check_input(nncl_graph *g, int k, nncl_dtype dt, const nncl_shape *s) {
  struct gvalue *x = &g->values[g->inputs[k]];
  char a[128], b[128];
  if (dt != x->dtype)
    return nncl__error(g->ctx, NNCL_ERR_DTYPE, "input '%s' is %s, got %s", x->name,
                       nncl_dtype_name(x->dtype), nncl_dtype_name(dt));
  if (s->rank != x->shape.rank)
    return nncl__error(g->ctx, NNCL_ERR_SHAPE, "input '%s' has rank %d (declared %s), got %s",
                       x->name, x->shape.rank, nncl_shape_format(&x->shape, a, sizeof a),
                       nncl_shape_format(s, b, sizeof b));
  /* A fixed declared dim is a promise the model's weights rely on (onnxruntime refuses a
     contradicting input too); unknown or symbolic dims (< 0) take any size. */
  char axes[160] = "";
  size_t off = 0;
  for (int d = 0; d < s->rank && off < sizeof axes; d++)
    if (x->shape.dims[d] >= 0 && s->dims[d] != x->shape.dims[d])
      off +=
          (size_t)snprintf(axes + off, sizeof axes - off, "%saxis %d: got %lld, expected %lld",
                           off ? "; " : "", d, (long long)s->dims[d], (long long)x->shape.dims[d]);
  if (off)
    return nncl__error(g->ctx, NNCL_ERR_SHAPE,
                       "input '%s' has invalid dimensions: %s (declared %s, got %s)", x->name, axes,
                       nncl_shape_format(&x->shape, a, sizeof a),
                       nncl_shape_format(s, b, sizeof b));
  return NNCL_OK;
}

nncl_status nncl_graph_set_input(nncl_graph *g, const char *name, const nncl_array *value) {
  if (!g) return NNCL_ERR_INVALID_ARGUMENT;
  if (!name || !value)
    return nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT, "nncl_graph_set_input: %s is NULL",
                       !name ? "name" : "value");
  NNCL_TRY(nncl__context_check_alive(g->ctx, "nncl_graph_set_input"));
  int k = input_index(g, name);
  if (k < 0) return nncl__error(g->ctx, NNCL_ERR_NOT_FOUND, "graph has no input named '%s'", name);
  char what[300];
  snprintf(what, sizeof what, "input '%s'", name);
  /* rank and dims first: the checks below format and copy the shape and its bytes */
  if (value->shape.rank < 0 || value->shape.rank > NNCL_MAX_RANK)
    return nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT, "%s: rank %d is outside 0..%d", what,
                       value->shape.rank, NNCL_MAX_RANK);
  NNCL_TRY(nncl__shape_check(g->ctx, NNCL_ERR_SHAPE, &value->shape, value->dtype, what));
  if (!value->data && nncl_array_bytes(value))
    return nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT, "%s: value has no data", what);
  NNCL_TRY(check_input(g, k, value->dtype, &value->shape));
  size_t bytes = nncl_array_bytes(value);
  int same = memcmp(&g->input_shapes[k], &value->shape, sizeof value->shape) == 0;
  /* an input that sets shapes: a new value means a new plan */
  if (g->input_is_value[k] && g->input_values[k].data &&
      (!same || memcmp(g->input_values[k].data, value->data, bytes) != 0))
    g->needs_plan = 1;
  if (g->plan && !g->needs_plan && same) {
    NNCL_TRY(nncl__buffer_upload(g->ctx, g->plan->st[g->plan->input_storage[k]].mem, 0, value->data,
                                 bytes));
    g->input_shape_set[k] = 1;
    return NNCL_OK;
  }
  nncl_array_free(&g->pending[k]);
  if (nncl_array_alloc(&g->pending[k], value->dtype, &value->shape) != NNCL_OK)
    return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "input '%s'", name);
  if (bytes) memcpy(g->pending[k].data, value->data, bytes);
  if (!same) {
    g->input_shapes[k] = value->shape;
    g->needs_plan = 1;
  }
  g->input_shape_set[k] = 1;
  return NNCL_OK;
}

nncl_status nncl_graph_set_input_tensor(nncl_graph *g, const char *name, const nncl_tensor *t) {
  if (!g || !name || !t) return NNCL_ERR_INVALID_ARGUMENT;
  NNCL_TRY(nncl__context_check_alive(g->ctx, "nncl_graph_set_input_tensor"));
  int k = input_index(g, name);
  if (k < 0) return nncl__error(g->ctx, NNCL_ERR_NOT_FOUND, "graph has no input named '%s'", name);
  const nncl_shape *s = nncl_tensor_shape(t);
  NNCL_TRY(check_input(g, k, nncl_tensor_dtype(t), s));
  if (memcmp(&g->input_shapes[k], s, sizeof *s) != 0 || !g->plan || g->needs_plan ||
      g->input_is_value[k]) {
    nncl_array a;
    NNCL_TRY(nncl_tensor_to_array(t, &a));
    nncl_status st = nncl_graph_set_input(g, name, &a);
    nncl_array_free(&a);
    return st;
  }
  NNCL_TRY(nncl__buffer_copy(g->ctx, nncl__tensor_mem(t), 0,
                             g->plan->st[g->plan->input_storage[k]].mem, 0, nncl_tensor_bytes(t)));
  g->input_shape_set[k] = 1;
  return NNCL_OK;
}

nncl_status nncl_graph_run(nncl_graph *g) { return nncl__graph_run_observed(g, NULL, NULL); }

/* With an observer, the end of the run is polled rather than waited for, calling after(user,
   n_order) every 50 us until the device has run every kernel: the observer keeps working on
   values as they become final (lib/dist starts an all-reduce as each gradient bucket arrives). */
static nncl_status drain(nncl_context *ctx, nncl_status (*after)(void *user, int k), void *user,
                         int n_order) {
  cl_event done;
  cl_int err = clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, &done);
  if (err != CL_SUCCESS) return nncl__cl_error(ctx, err, "marker after the graph's kernels");
  clFlush(ctx->queue);
  nncl_status st = NNCL_OK;
  for (;;) {
    cl_int state = CL_QUEUED;
    err = clGetEventInfo(done, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof state, &state, NULL);
    if (err != CL_SUCCESS || state <= CL_COMPLETE) break; /* done, or failed: finish reports it */
    st = after(user, n_order);
    if (st != NNCL_OK) break;
    nanosleep(&(struct timespec){0, 50000}, NULL);
  }
  clReleaseEvent(done);
  return st;
}

nncl_status nncl__graph_enqueue(nncl_graph *g, nncl_status (*after)(void *user, int k),
                                void *user) {
  if (!g) return NNCL_ERR_INVALID_ARGUMENT;
  NNCL_TRY(nncl__context_check_alive(g->ctx, "nncl_graph_run"));
  for (int k = 0; k < g->n_inputs; k++)
    if (!g->input_shape_set[k])
      return nncl__error(g->ctx, NNCL_ERR_STATE, "graph input '%s' was not set before run",
                         g->values[g->inputs[k]].name);
  NNCL_TRY(nncl_graph_plan(g));
  struct plan *p = g->plan;
  nncl_context *ctx = g->ctx;
  nncl_status st = NNCL_OK;
  for (int k = 0; k < p->n_order && st == NNCL_OK; k++) {
    struct pnode *n = &p->n[p->order[k]];
    if (!n->def->enqueue) continue;
    n->call.ctx->current_node = k; /* the node's device: its profile records name the node */
    st = n->def->enqueue(&n->call);
    if (st == NNCL_OK && after) st = after(user, k);
  }
  for (int d = 0; d < ctx->n_dev; d++) ctx->dev[d]->current_node = -1;
  return st;
}

nncl_status nncl__graph_run_observed(nncl_graph *g, nncl_status (*after)(void *user, int k),
                                     void *user) {
  NNCL_TRY(nncl__graph_enqueue(g, after, user));
  struct plan *p = g->plan;
  nncl_context *ctx = g->ctx;
  nncl_status st = NNCL_OK;
  if (after) st = drain(ctx, after, user, p->n_order);
  if (st == NNCL_OK) st = nncl_context_finish(ctx);
  p->has_run = st == NNCL_OK;
  return st;
}

static nncl_status read_value(nncl_graph *g, int v, nncl_array *out) {
  memset(out, 0, sizeof *out);
  NNCL_TRY(nncl__context_check_alive(g->ctx, "reading a graph output"));
  if (!g->plan || g->needs_plan || !g->plan->has_run)
    return nncl__error(g->ctx, NNCL_ERR_STATE,
                       "output '%s': the graph has not been run since it was last planned or "
                       "changed (call nncl_graph_run first)",
                       g->values[v].name);
  struct pvalue *x = &g->plan->v[v];
  if (nncl_array_alloc(out, x->dtype, &x->shape) != NNCL_OK)
    return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "output '%s'", g->values[v].name);
  size_t bytes = nncl_array_bytes(out);
  nncl_status st = NNCL_OK;
  if (x->host)
    memcpy(out->data, x->host->data, bytes);
  else if (x->storage >= 0)
    st = nncl__buffer_download(nncl__ctx_dev(g->ctx, g->plan->st[x->storage].device),
                               g->plan->st[x->storage].mem, 0, out->data, bytes);
  else
    st = nncl__error(g->ctx, NNCL_ERR_STATE, "output '%s' has no storage", g->values[v].name);
  if (st != NNCL_OK) nncl_array_free(out);
  return st;
}

nncl_status nncl_graph_get_output(nncl_graph *g, int i, nncl_array *out) {
  if (!g || !out || i < 0 || i >= g->n_outputs) return NNCL_ERR_INVALID_ARGUMENT;
  return read_value(g, g->outputs[i], out);
}

nncl_status nncl_graph_get_output_by_name(nncl_graph *g, const char *name, nncl_array *out) {
  if (!g || !name || !out) return NNCL_ERR_INVALID_ARGUMENT;
  for (int i = 0; i < g->n_outputs; i++)
    if (strcmp(g->values[g->outputs[i]].name, name) == 0) return read_value(g, g->outputs[i], out);
  return nncl__error(g->ctx, NNCL_ERR_NOT_FOUND, "graph has no output named '%s'", name);
}

static nncl_status value_info(const nncl_graph *g, int v, nncl_dtype *dt, nncl_shape *s) {
  const struct pvalue *x = g->plan && !g->needs_plan ? &g->plan->v[v] : NULL;
  if (dt) *dt = x ? x->dtype : g->values[v].dtype;
  if (s) *s = x ? x->shape : g->values[v].shape;
  return NNCL_OK;
}

nncl_status nncl_graph_input_info(const nncl_graph *g, int i, nncl_dtype *dtype,
                                  nncl_shape *shape) {
  if (!g || i < 0 || i >= g->n_inputs) return NNCL_ERR_INVALID_ARGUMENT;
  if (dtype) *dtype = g->values[g->inputs[i]].dtype;
  if (shape) *shape = g->input_shapes[i];
  return NNCL_OK;
}

nncl_status nncl_graph_output_info(const nncl_graph *g, int i, nncl_dtype *dtype,
                                   nncl_shape *shape) {
  if (!g || i < 0 || i >= g->n_outputs) return NNCL_ERR_INVALID_ARGUMENT;
  return value_info(g, g->outputs[i], dtype, shape);
}

static void node_cost(const struct pnode *n, struct op_cost *c) {
  memset(c, 0, sizeof *c);
  if (n->def->cost) {
    n->def->cost(&n->call, c);
    return;
  }
  if (n->def->flags & OP_VIEW) return;
  for (int i = 0; i < n->n_in + n->n_out; i++)
    if (n->t[i].dtype != NNCL_UNDEFINED)
      c->bytes += (double)nncl_shape_numel(&n->t[i].shape) * (double)nncl_dtype_size(n->t[i].dtype);
}

nncl_status nncl_graph_summarize(nncl_graph *g, nncl_graph_summary *out) {
  if (!g || !out) return NNCL_ERR_INVALID_ARGUMENT;
  memset(out, 0, sizeof *out);
  if (!g->plan || g->needs_plan) NNCL_TRY(nncl_graph_plan(g)); /* a dry plan is summarized too */
  struct plan *p = g->plan;
  out->n_nodes = g->n_nodes;
  for (int k = 0; k < p->n_order; k++) {
    const struct pnode *n = &p->n[p->order[k]];
    if (n->def->enqueue) out->n_kernel_nodes++;
    struct op_cost c;
    node_cost(n, &c);
    out->flops += c.flops;
  }
  out->n_fused = p->n_fused;
  out->n_folded = p->n_folded;
  for (int v = 0; v < g->n_values; v++)
    if (g->values[v].constant.data) out->n_params += nncl_shape_numel(&g->values[v].constant.shape);
  out->arena_bytes = p->arena_bytes;
  out->intermediates_bytes = p->intermediates_bytes;
  out->weight_bytes = p->weight_bytes;
  out->workspace_bytes = p->workspace_bytes;
  out->plan_seconds = p->plan_seconds;
  return NNCL_OK;
}

int nncl_graph_num_planned_nodes(const nncl_graph *g) {
  return g && g->plan && !g->needs_plan ? g->plan->n_order : 0;
}

nncl_status nncl_graph_planned_node(const nncl_graph *g, int i, nncl_node_info *out) {
  if (!g || !out || !g->plan || g->needs_plan || i < 0 || i >= g->plan->n_order)
    return NNCL_ERR_INVALID_ARGUMENT;
  const struct pnode *n = &g->plan->n[g->plan->order[i]];
  memset(out, 0, sizeof *out);
  out->name = n->name;
  out->op_type = n->op_type;
  out->fused = n->fused;
  out->algo = n->call.algo ? n->call.algo : (n->def->flags & OP_VIEW) ? "view" : "";
  out->n_in = n->n_in < 4 ? n->n_in : 4;
  out->n_out = n->n_out < 2 ? n->n_out : 2;
  for (int k = 0; k < out->n_in; k++) out->in_shapes[k] = n->t[k].shape;
  for (int k = 0; k < out->n_out; k++) out->out_shapes[k] = n->call.out[k].shape;
  struct op_cost c;
  node_cost(n, &c);
  out->flops = c.flops;
  out->bytes = c.bytes;
  out->device = n->device;
  const struct nncl__attr *from = n->op == OP_TRANSFER ? plan_node_attr(n, "from") : NULL;
  out->from_device = from ? (int)from->i : -1;
  return NNCL_OK;
}
