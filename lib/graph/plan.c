/* plan.c: turns the IR into a runnable plan: checks ops, orders nodes, then runs the pipeline
   (infer+fold, BatchNorm folding, LayerNorm fusion, attention fusion, RNN Y layout, epilogue
   fusion, element-wise chain fusion, scheduling, placement on devices, per-op planning, memory) and uploads pending inputs. Re-planning frees the old plan and starts
   again from the IR. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

static void free_pvalue_host(struct pvalue *v) {
  if (v->host_owned && v->host) {
    nncl_array_free(v->host);
    free(v->host);
  }
  v->host = NULL;
  v->host_owned = 0;
}

/* Header of a plan_alloc block; the union keeps the payload maximally aligned. */
struct plan_mem {
  union {
    struct plan_mem *next;
    max_align_t align;
  } h;
};

void *plan_alloc(struct plan *p, size_t bytes) {
  struct plan_mem *m = calloc(1, sizeof *m + bytes);
  if (!m) return NULL;
  m->h.next = p->mem;
  p->mem = m;
  return m + 1;
}

static void plan_free(struct plan *p) {
  if (!p) return;
  for (int i = 0; i < p->n_n; i++) {
    struct pnode *n = &p->n[i];
    if (n->def && n->def->release && n->call.ctx) n->def->release(&n->call);
  }
  /* buffers first: constants' buffers may be their host arrays (nncl__buffer_over_host) */
  for (int i = 0; i < p->n_st; i++) nncl__buffer_release(p->st[i].mem);
  for (int d = 0; d < NNCL_MAX_DEVICES; d++) nncl__buffer_release(p->arena[d]);
  for (int i = 0; i < p->n_v; i++) free_pvalue_host(&p->v[i]);
  free(p->v);
  free(p->n);
  free(p->order);
  free(p->st);
  free(p->input_storage);
  while (p->mem) {
    struct plan_mem *next = p->mem->h.next;
    free(p->mem);
    p->mem = next;
  }
  free(p);
}

void graph_plan_free(nncl_graph *g) {
  plan_free(g->plan);
  g->plan = NULL;
}

int plan_add_value(struct plan *p, nncl_dtype dt, const nncl_shape *shape) {
  if (p->n_v == p->cap_v) {
    int cap = p->cap_v ? p->cap_v * 2 : 64;
    struct pvalue *n = realloc(p->v, (size_t)cap * sizeof *n);
    if (!n) return -1;
    p->v = n;
    p->cap_v = cap;
  }
  struct pvalue *v = &p->v[p->n_v];
  memset(v, 0, sizeof *v);
  v->dtype = dt;
  if (shape) v->shape = *shape;
  v->producer = -1;
  v->storage = -1;
  return p->n_v++;
}

int plan_reserve_nodes(struct plan *p, int more) {
  if (p->n_n + more <= p->cap_n) return 0;
  int cap = (p->n_n + more) * 2;
  struct pnode *n = realloc(p->n, (size_t)cap * sizeof *n);
  if (!n) return -1;
  memset(n + p->cap_n, 0, (size_t)(cap - p->cap_n) * sizeof *n);
  p->n = n;
  p->cap_n = cap;
  return 0;
}

int plan_append_node(struct plan *p, const char *op, const char *name, struct nncl__attr attr,
                     int in, int out, int device) {
  if (plan_reserve_nodes(p, 1) != 0) return -1;
  struct pnode *t = &p->n[p->n_n];
  memset(t, 0, sizeof *t);
  t->cap_in = 4;
  t->cap_out = 1;
  t->in = plan_alloc(p, 4 * sizeof *t->in);
  t->out = plan_alloc(p, sizeof *t->out);
  t->t = plan_alloc(p, 6 * sizeof *t->t);
  struct nncl__attr *a = plan_alloc(p, sizeof *a);
  char *copy = plan_alloc(p, strlen(name) + 1);
  if (!t->in || !t->out || !t->t || !a || !copy) return -1;
  memcpy(copy, name, strlen(name) + 1);
  *a = attr;
  t->gnode = -1;
  t->op = op_lookup(op);
  t->def = op_get(t->op);
  t->op_type = op_name(t->op);
  t->name = copy;
  t->n_in = 1;
  t->n_out = 1;
  t->in[0] = in;
  t->out[0] = out;
  t->res = -1;
  t->alive = 1;
  t->attrs = a;
  t->n_attrs = 1;
  t->ws_storage = -1;
  t->device = device;
  p->v[out].producer = p->n_n;
  p->n_n++;
  return 0;
}

int plan_is_graph_output(const nncl_graph *g, int v) {
  return v >= 0 && v < g->n_values && g->values[v].is_output;
}

const struct nncl__attr *plan_node_attr(const struct pnode *n, const char *name) {
  for (int i = 0; i < n->n_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
  return NULL;
}

int plan_same_shape(const nncl_shape *a, const nncl_shape *b) {
  if (a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

int plan_sole_consumer(nncl_graph *g, struct plan *p, int v, int *input_slot) {
  if (plan_is_graph_output(g, v)) return -1;
  int found = -1;
  for (int i = 0; i < p->n_n; i++) {
    struct pnode *n = &p->n[i];
    if (!n->alive) continue;
    int uses = n->res == v;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] == v) {
        uses++;
        if (input_slot) *input_slot = k;
      }
    if (!uses) continue;
    if (found >= 0 || uses > 1) return -1;
    found = i;
  }
  return found;
}

void plan_bind_call(nncl_graph *g, struct plan *p, int node) {
  struct pnode *n = &p->n[node];
  struct op_call *c = &n->call;
  void *state = c->state;
  const char *algo = c->algo;
  memset(n->t, 0, (size_t)(n->cap_in + n->cap_out + 1) * sizeof *n->t);
  *c = (struct op_call){.ctx = nncl__ctx_dev(g->ctx, n->device),
                        .def = n->def,
                        .op_type = n->op_type,
                        .node_name = n->name,
                        .opset = g->opset,
                        .attrs = n->attrs,
                        .n_attrs = n->n_attrs,
                        .n_in = n->n_in,
                        .n_out = n->n_out,
                        .in = n->t,
                        .out = n->t + n->n_in,
                        .epi = n->epi,
                        .opts = &p->opts,
                        .state = state,
                        .algo = algo};
  for (int i = 0; i < n->n_in; i++) {
    if (n->in[i] < 0) continue;
    struct pvalue *v = &p->v[n->in[i]];
    n->t[i].dtype = v->dtype;
    n->t[i].shape = v->shape;
    n->t[i].host = v->host;
  }
  for (int i = 0; i < n->n_out; i++) {
    if (n->out[i] < 0) continue;
    struct pvalue *v = &p->v[n->out[i]];
    c->out[i].dtype = v->dtype;
    c->out[i].shape = v->shape;
  }
  if (n->res >= 0) {
    struct op_tensor *r = &n->t[n->n_in + n->n_out];
    r->dtype = p->v[n->res].dtype;
    r->shape = p->v[n->res].shape;
    r->host = p->v[n->res].host;
    c->res = r;
  }
}

/* Every unsupported op type once, with the opset and the first node using it. */
static nncl_status check_ops(nncl_graph *g) {
  if (g->opset > OP_MAX_OPSET)
    return nncl__error(g->ctx, NNCL_ERR_UNSUPPORTED,
                       "the graph uses ONNX opset %d; nncl implements default-domain opsets 1..%d "
                       "(re-export the model with opset_version=%d or lower)",
                       g->opset, OP_MAX_OPSET, OP_MAX_OPSET);
  char msg[3000];
  size_t used = 0;
  int bad = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    struct nncl_node *n = g->nodes[i];
    int seen = 0;
    for (int j = 0; j < i && !seen; j++)
      seen = g->nodes[j]->op < 0 && strcmp(g->nodes[j]->op_type, n->op_type) == 0;
    if (n->op >= 0 || seen) continue;
    bad++;
    if (used < sizeof msg - 200) {
      int w = snprintf(msg + used, sizeof msg - used, "%s%s (opset %d, first used by node '%s')",
                       bad > 1 ? ", " : "", n->op_type, g->opset, n->name);
      if (w > 0) used += (size_t)w;
    }
  }
  if (bad)
    return nncl__error(g->ctx, NNCL_ERR_UNSUPPORTED, "%d unsupported op type%s: %s", bad,
                       bad > 1 ? "s" : "", msg);
  for (int i = 0; i < g->n_nodes; i++) {
    struct nncl_node *n = g->nodes[i];
    const struct op_def *d = op_get(n->op);
    if (n->n_in < d->min_in || n->n_in > d->max_in || n->n_out < d->min_out ||
        n->n_out > d->max_out)
      return nncl__error(
          g->ctx, NNCL_ERR_INVALID_ARGUMENT,
          "%s node '%s' has %d inputs and %d outputs; the op takes %d..%d and %d..%d", n->op_type,
          n->name, n->n_in, n->n_out, d->min_in, d->max_in, d->min_out, d->max_out);
  }
  return NNCL_OK;
}

/* A graph input that feeds a value slot (Reshape's shape, Resize's scales, ...) is planned with
   its current value as a constant; set_input re-plans when that value changes. */
static nncl_status expose_value_inputs(nncl_graph *g, struct plan *p) {
  for (int k = 0; k < g->n_inputs; k++) {
    int v = g->inputs[k];
    g->input_is_value[k] = 0;
    for (int i = 0; i < g->n_nodes && !g->input_is_value[k]; i++) {
      const struct nncl_node *n = g->nodes[i];
      unsigned mask = op_get(n->op)->value_inputs;
      for (int j = 0; j < n->n_in && j < 32; j++)
        if (n->in[j] == v && (mask >> j & 1u)) g->input_is_value[k] = 1;
    }
    if (!g->input_is_value[k]) continue;
    nncl_array *cur = &g->input_values[k], *pend = &g->pending[k];
    if (pend->data) {
      nncl_array_free(cur);
      if (nncl_array_alloc(cur, pend->dtype, &pend->shape) != NNCL_OK)
        return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "input '%s'", g->values[v].name);
      memcpy(cur->data, pend->data, nncl_array_bytes(pend));
    }
    if (!cur->data)
      return nncl__error(g->ctx, NNCL_ERR_STATE,
                         "graph input '%s' sets a shape or axes; set its value before planning",
                         g->values[v].name);
    p->v[v].host = cur;
  }
  return NNCL_OK;
}

/* Plan values mirror IR values; plan nodes are the IR nodes in a topological order. */
nncl_status plan_build(nncl_graph *g, struct plan *p) {
  NNCL_TRY(check_ops(g));
  for (int i = 0; i < g->n_values; i++) {
    struct gvalue *x = &g->values[i];
    if (plan_add_value(p, x->dtype, &x->shape) < 0)
      return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "plan values");
    if (x->constant.data) p->v[i].host = &x->constant;
  }
  for (int k = 0; k < g->n_inputs; k++) p->v[g->inputs[k]].shape = g->input_shapes[k];
  NNCL_TRY(expose_value_inputs(g, p));
  int *ready = calloc((size_t)g->n_values, sizeof *ready);
  int *done = calloc((size_t)g->n_nodes + 1, sizeof *done);
  p->n = calloc((size_t)g->n_nodes + 1, sizeof *p->n);
  if (!ready || !done || !p->n) {
    free(ready);
    free(done);
    return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "plan nodes");
  }
  p->cap_n = g->n_nodes + 1;
  for (int i = 0; i < g->n_values; i++)
    ready[i] = g->values[i].is_input || g->values[i].constant.data;
  nncl_status st = NNCL_OK;
  /* Kahn-style: repeatedly take the first node whose inputs are ready (keeps file order when the
     file is already sorted, as ONNX requires). */
  for (int placed = 0; placed < g->n_nodes && st == NNCL_OK;) {
    int progress = 0;
    for (int i = 0; i < g->n_nodes; i++) {
      if (done[i]) continue;
      struct nncl_node *n = g->nodes[i];
      int ok = 1;
      for (int k = 0; k < n->n_in && ok; k++) ok = n->in[k] < 0 || ready[n->in[k]];
      if (!ok) continue;
      done[i] = 1;
      for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0) ready[n->out[k]] = 1;
      struct pnode *pn = &p->n[p->n_n++];
      /* any number of inputs and outputs (Concat of 40, Split into 20): sized per node */
      pn->cap_in = n->n_in > 4 ? n->n_in : 4;
      pn->cap_out = n->n_out > 1 ? n->n_out : 1;
      pn->in = plan_alloc(p, (size_t)pn->cap_in * sizeof *pn->in);
      pn->out = plan_alloc(p, (size_t)pn->cap_out * sizeof *pn->out);
      pn->t = plan_alloc(p, (size_t)(pn->cap_in + pn->cap_out + 1) * sizeof *pn->t);
      if (!pn->in || !pn->out || !pn->t) {
        p->n_n--;
        st = nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "plan node '%s'", n->name);
        break;
      }
      pn->gnode = i;
      pn->op_type = n->op_type;
      pn->name = n->name;
      pn->op = n->op;
      pn->def = op_get(n->op);
      pn->n_in = n->n_in;
      pn->n_out = n->n_out;
      for (int k = 0; k < n->n_in; k++) pn->in[k] = n->in[k];
      for (int k = 0; k < n->n_out; k++) pn->out[k] = n->out[k];
      pn->res = -1;
      pn->alive = 1;
      pn->attrs = n->attrs;
      pn->n_attrs = n->n_attrs;
      pn->ws_storage = -1;
      placed++;
      progress = 1;
    }
    if (!progress) {
      /* name the first missing value */
      for (int i = 0; i < g->n_nodes && st == NNCL_OK; i++) {
        if (done[i]) continue;
        struct nncl_node *n = g->nodes[i];
        for (int k = 0; k < n->n_in; k++)
          if (n->in[k] >= 0 && !ready[n->in[k]]) {
            int prod = g->values[n->in[k]].producer;
            st = nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT,
                             prod < 0 ? "node '%s' (%s) reads '%s', which is not a graph input, a "
                                        "constant or any node's output"
                                      : "node '%s' (%s) reads '%s', which depends on a cycle",
                             n->name, n->op_type, g->values[n->in[k]].name);
            break;
          }
      }
      if (st == NNCL_OK) st = nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT, "graph has a cycle");
    }
  }
  for (int i = 0; i < g->n_outputs && st == NNCL_OK; i++)
    if (!ready[g->outputs[i]])
      st = nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT, "graph output '%s' is never produced",
                       g->values[g->outputs[i]].name);
  for (int i = 0; i < g->n_values; i++) p->v[i].producer = -1;
  for (int i = 0; i < p->n_n; i++)
    for (int k = 0; k < p->n[i].n_out; k++)
      if (p->n[i].out[k] >= 0) p->v[p->n[i].out[k]].producer = i;
  free(ready);
  free(done);
  return st;
}

/* *failed: the node whose plan failed, -1 otherwise. */
static nncl_status plan_ops(nncl_graph *g, struct plan *p, int *failed) {
  p->workspace_bytes = 0;
  for (int k = 0; k < p->n_order; k++) {
    int i = p->order[k];
    struct pnode *n = &p->n[i];
    plan_bind_call(g, p, i);
    n->ws_bytes = 0;
    *failed = i;
    if (n->def->plan) NNCL_TRY(n->def->plan(&n->call, &n->ws_bytes));
    *failed = -1;
    if (n->ws_bytes > p->workspace_bytes) p->workspace_bytes = n->ws_bytes;
  }
  return NNCL_OK;
}

static nncl_status check_inputs_known(nncl_graph *g) {
  for (int k = 0; k < g->n_inputs; k++) {
    const nncl_shape *s = &g->input_shapes[k];
    char what[300];
    snprintf(what, sizeof what, "graph input '%s'", g->values[g->inputs[k]].name);
    int known = 1;
    for (int d = 0; d < s->rank; d++) known &= s->dims[d] >= 0;
    if (known)
      NNCL_TRY(nncl__shape_check(g->ctx, NNCL_ERR_SHAPE, s, g->values[g->inputs[k]].dtype, what));
    for (int d = 0; d < s->rank; d++)
      if (s->dims[d] < 0) {
        char buf[128];
        return nncl__error(g->ctx, NNCL_ERR_SHAPE,
                           "graph input '%s' has shape %s with unknown dims; set the input "
                           "(nncl_graph_set_input) before planning",
                           g->values[g->inputs[k]].name, nncl_shape_format(s, buf, sizeof buf));
      }
  }
  return NNCL_OK;
}

static nncl_status plan_passes(nncl_graph *g, struct plan *p, int dry, int *failed);

/* dry: plan ops and memory with ctx->plan_dry set (no kernel built or launched, nothing timed);
   folding before it still runs, as folded values decide shapes. */
static nncl_status plan_graph(nncl_graph *g, int dry) {
  if (!g) return NNCL_ERR_INVALID_ARGUMENT;
  NNCL_TRY(nncl__context_check_alive(g->ctx, dry ? "nncl_graph_plan_dry" : "nncl_graph_plan"));
  if (g->plan && !g->needs_plan && (dry || !g->plan->dry)) return NNCL_OK;
  /* Inputs set earlier whose shape is unchanged survive re-planning: fetch them back first. */
  for (int k = 0; g->plan && k < g->plan->n_inputs; k++) {
    int s = g->plan->input_storage[k];
    struct pvalue *v = &g->plan->v[g->inputs[k]];
    if (g->pending[k].data || !g->input_shape_set[k] || s < 0 ||
        memcmp(&v->shape, &g->input_shapes[k], sizeof v->shape) != 0)
      continue;
    if (nncl_array_alloc(&g->pending[k], v->dtype, &v->shape) != NNCL_OK)
      return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "saving input '%s' for re-planning",
                         g->values[g->inputs[k]].name);
    NNCL_TRY(nncl__buffer_download(g->ctx, g->plan->st[s].mem, 0, g->pending[k].data,
                                   nncl_array_bytes(&g->pending[k])));
  }
  graph_plan_free(g);
  NNCL_TRY(check_inputs_known(g));
  double t0 = nncl__now_ns();
  struct plan *p = NULL;
  nncl_status st;
  /* a kernel that fails to build on the device placement chose sends its node elsewhere
     (pass_place_build_failed) and planning starts again: at most once per node and device */
  for (int failed = -1;; failed = -1) {
    p = calloc(1, sizeof *p);
    if (!p) return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "plan");
    st = plan_passes(g, p, dry, &failed);
    if (st != NNCL_ERR_BUILD_FAILED || failed < 0) break;
    st = pass_place_build_failed(g, p, failed);
    plan_free(p);
    if (st != NNCL_OK) return st;
  }
  for (int k = 0; k < g->n_inputs && st == NNCL_OK; k++) {
    nncl_array *a = &g->pending[k];
    if (!a->data) continue;
    int s = p->input_storage[k];
    if (s >= 0) st = nncl__buffer_upload(g->ctx, p->st[s].mem, 0, a->data, nncl_array_bytes(a));
    nncl_array_free(a);
  }
  if (st != NNCL_OK) {
    plan_free(p);
    return st;
  }
  p->plan_seconds = (nncl__now_ns() - t0) * 1e-9;
  g->plan = p;
  g->needs_plan = 0;
  return NNCL_OK;
}

/* Every pass, per-op planning and the memory plan into p (*failed: as plan_ops). */
static nncl_status plan_passes(nncl_graph *g, struct plan *p, int dry, int *failed) {
  nncl__options_merge(&g->ctx->options, &g->options, &p->opts);
  nncl_status st = plan_build(g, p);
  if (st == NNCL_OK) st = plan_infer_fold(g, p);
  if (st == NNCL_OK) st = pass_fold_batchnorm(g, p);
  if (st == NNCL_OK) st = pass_fuse_layernorm(g, p);
  if (st == NNCL_OK) st = pass_fuse_attention(g, p);
  if (st == NNCL_OK) st = pass_rnn_layout(g, p);
  if (st == NNCL_OK) st = pass_fuse_epilogues(g, p);
  if (st == NNCL_OK) st = pass_fuse_add_layernorm(g, p);
  if (st == NNCL_OK) st = pass_fuse_elementwise(g, p);
  if (st == NNCL_OK) st = plan_schedule(g, p);
  if (st == NNCL_OK) st = pass_place(g, p);
  if (st == NNCL_OK) st = pass_precision(g, p);
  for (int d = 0; d < g->ctx->n_dev; d++) nncl__ctx_dev(g->ctx, d)->plan_dry = dry;
  if (st == NNCL_OK) st = plan_ops(g, p, failed);
  if (st == NNCL_OK) st = plan_memory(g, p);
  for (int d = 0; d < g->ctx->n_dev; d++) nncl__ctx_dev(g->ctx, d)->plan_dry = false;
  p->dry = dry;
  return st;
}

nncl_status nncl_graph_plan(nncl_graph *g) { return plan_graph(g, 0); }

nncl_status nncl_graph_plan_dry(nncl_graph *g) { return plan_graph(g, 1); }
