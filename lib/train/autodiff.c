/* autodiff.c: the reverse-mode pass. Walks the forward nodes that lie between a trainable value
   and the loss in reverse topological order, hands each its output gradients through the op's
   `backward` rule (op.h), sums gradients of values read more than once, and leaves ordinary
   nodes in the IR: saved activations are just values that backward nodes read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "grad.h"
#include "nncl/train.h"

struct autodiff {
  nncl_graph *g;
  int nv0;           /* values before the pass: shapes below are known for these */
  nncl_shape *shape; /* per value, from planning the forward graph */
  nncl_dtype *dtype; /* per value */
  nncl_array *host;  /* per value: small integer values planning folded (Slice bounds computed
                        from shapes), copied since adding nodes frees the plan; data NULL if none */
  const char **sum;  /* per value: its gradient so far (contributions already added up) */
  char **owned;      /* every name the pass made */
  int n_owned, cap_owned;
  int counter;
  const char *where; /* forward node the emitted nodes belong to (their name prefix) */
};

static nncl_status oom(struct autodiff *a) {
  return nncl__error(a->g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "autodiff: names");
}

/* A value or node name not yet used in the graph: "<forward node>/grad<k>". */
static const char *fresh(struct autodiff *a) {
  if (a->n_owned == a->cap_owned) {
    int cap = a->cap_owned ? a->cap_owned * 2 : 256;
    char **n = realloc(a->owned, (size_t)cap * sizeof *n);
    if (!n) return NULL;
    a->owned = n;
    a->cap_owned = cap;
  }
  size_t len = strlen(a->where) + 32;
  char *s = malloc(len);
  if (!s) return NULL;
  do snprintf(s, len, "%s/grad%d", a->where, a->counter++);
  while (graph_find_value(a->g, s) >= 0);
  a->owned[a->n_owned++] = s;
  return s;
}

nncl_status nncl__node_set_attr(nncl_graph *g, nncl_node *n, const struct nncl__attr *x) {
  switch (x->type) {
  case ATTR_INT: return nncl_node_set_int(g, n, x->name, x->i);
  case ATTR_FLOAT: return nncl_node_set_float(g, n, x->name, x->f);
  case ATTR_STRING: return nncl_node_set_string(g, n, x->name, x->s);
  case ATTR_INTS: return nncl_node_set_ints(g, n, x->name, x->ints, x->n);
  case ATTR_FLOATS: return nncl_node_set_floats(g, n, x->name, x->floats, x->n);
  case ATTR_STRINGS:
    return nncl_node_set_strings(g, n, x->name, (const char *const *)x->strs, x->n);
  case ATTR_TENSOR: return nncl_node_set_tensor(g, n, x->name, x->t);
  }
  return NNCL_ERR_INVALID_ARGUMENT;
}

nncl_status grad_emit(struct op_grad *gr, const char *op_type, int n_in, const char *const *in,
                      int n_out, const char **out, const struct nncl__attr *attrs, int n_attrs) {
  struct autodiff *a = gr->ad;
  for (int i = 0; i < n_out; i++)
    if (!(out[i] = fresh(a))) return oom(a);
  const char *name = fresh(a);
  if (!name) return oom(a);
  nncl_node *n;
  NNCL_TRY(nncl_graph_add_node(a->g, op_type, name, n_in, in, n_out, out, &n));
  for (int i = 0; i < n_attrs; i++) NNCL_TRY(nncl__node_set_attr(a->g, n, &attrs[i]));
  return NNCL_OK;
}

nncl_status grad_emit1(struct op_grad *gr, const char *op_type, int n_in, const char *const *in,
                       const struct nncl__attr *attrs, int n_attrs, const char **out) {
  return grad_emit(gr, op_type, n_in, in, 1, out, attrs, n_attrs);
}

nncl_status grad_const(struct op_grad *gr, const nncl_array *v, const char **out) {
  if (!(*out = fresh(gr->ad))) return oom(gr->ad);
  return nncl_graph_add_constant(gr->ad->g, *out, v);
}

nncl_status grad_const_i64(struct op_grad *gr, int n, const int64_t *v, const char **out) {
  nncl_array x = {.dtype = NNCL_INT64, .shape = {.rank = 1, .dims = {n}}, .data = (void *)v};
  return grad_const(gr, &x, out);
}

nncl_status grad_const_f32(struct op_grad *gr, float v, const char **out) {
  nncl_array x = {.dtype = NNCL_FLOAT32, .shape = {.rank = 0}, .data = &v};
  return grad_const(gr, &x, out);
}

nncl_status grad_reduce_sum(struct op_grad *gr, const char *x, int n_axes, const int64_t *axes,
                            int keepdims, const char **out) {
  struct nncl__attr kd = A_INT("keepdims", keepdims);
  if (gr->fwd.opset >= 13) {
    const char *ax;
    NNCL_TRY(grad_const_i64(gr, n_axes, axes, &ax));
    return grad_emit1(gr, "ReduceSum", 2, (const char *[]){x, ax}, &kd, 1, out);
  }
  struct nncl__attr at[2] = {
      kd, {.name = "axes", .type = ATTR_INTS, .ints = (int64_t *)axes, .n = n_axes}};
  return grad_emit1(gr, "ReduceSum", 1, &x, at, 2, out);
}

nncl_status grad_unsqueeze(struct op_grad *gr, const char *x, int n_axes, const int64_t *axes,
                           const char **out) {
  if (gr->fwd.opset >= 13) {
    const char *ax;
    NNCL_TRY(grad_const_i64(gr, n_axes, axes, &ax));
    return grad_emit1(gr, "Unsqueeze", 2, (const char *[]){x, ax}, NULL, 0, out);
  }
  struct nncl__attr at = {.name = "axes", .type = ATTR_INTS, .ints = (int64_t *)axes, .n = n_axes};
  return grad_emit1(gr, "Unsqueeze", 1, &x, &at, 1, out);
}

nncl_status grad_unbroadcast(struct op_grad *gr, const char *dy, const nncl_shape *from,
                             const nncl_shape *to, const char **out) {
  int64_t axes[NNCL_MAX_RANK];
  int n = 0, lead = from->rank - to->rank;
  for (int d = 0; d < from->rank; d++)
    if (d < lead || (to->dims[d - lead] == 1 && from->dims[d] != 1)) axes[n++] = d;
  if (!n) {
    *out = dy;
    return NNCL_OK;
  }
  const char *r;
  NNCL_TRY(grad_reduce_sum(gr, dy, n, axes, 1, &r));
  if (!lead) {
    *out = r;
    return NNCL_OK;
  }
  /* the leading dims are now 1: drop them with a constant shape (they are not the batch) */
  const char *shape;
  NNCL_TRY(grad_const_i64(gr, to->rank, to->dims, &shape));
  return grad_emit1(gr, "Reshape", 2, (const char *[]){r, shape}, NULL, 0, out);
}

nncl_status grad_reshape_like(struct op_grad *gr, const char *v, const char *like,
                              const char **out) {
  const char *s;
  NNCL_TRY(grad_emit1(gr, "Shape", 1, &like, NULL, 0, &s));
  return grad_emit1(gr, "Reshape", 2, (const char *[]){v, s}, NULL, 0, out);
}

/* Adds `name` into value v's gradient (an Add node when one is already there). */
static nncl_status accumulate(struct autodiff *a, struct op_grad *gr, int v, const char *name) {
  if (!a->sum[v]) {
    a->sum[v] = name;
    return NNCL_OK;
  }
  const char *s;
  NNCL_TRY(grad_emit1(gr, "Add", 2, (const char *[]){a->sum[v], name}, NULL, 0, &s));
  a->sum[v] = s;
  return NNCL_OK;
}

nncl_status grad_give(struct op_grad *gr, int i, const char *name) {
  if (!gr->need[i]) return NNCL_OK;
  return accumulate(gr->ad, gr, graph_find_value(gr->ad->g, gr->x[i]), name);
}

nncl_status grad_no_rule(struct op_grad *gr, const char *why) {
  return nncl__error(gr->fwd.ctx, NNCL_ERR_UNSUPPORTED,
                     "%s node '%s' has no backward rule%s%s, but the loss's gradient must flow "
                     "through it to a trainable tensor",
                     gr->fwd.op_type, gr->fwd.node_name, why ? " " : "", why ? why : "");
}

/* Fills gr with node n's view: shapes and dtypes of its inputs and outputs. */
static void describe(struct autodiff *a, const struct nncl_node *n, struct op_grad *gr) {
  memset(gr, 0, sizeof *gr);
  gr->ad = a;
  gr->fwd = (struct op_call){.ctx = a->g->ctx,
                             .def = op_get(n->op),
                             .op_type = n->op_type,
                             .node_name = n->name,
                             .opset = a->g->opset,
                             .attrs = n->attrs,
                             .n_attrs = n->n_attrs,
                             .n_in = n->n_in,
                             .n_out = n->n_out,
                             .in = gr->t,
                             .out = gr->t + n->n_in};
  for (int i = 0; i < n->n_in; i++) {
    int v = n->in[i];
    gr->x[i] = v >= 0 ? a->g->values[v].name : "";
    if (v < 0) continue;
    gr->t[i].dtype = a->dtype[v];
    gr->t[i].shape = a->shape[v];
    if (a->g->values[v].constant.data)
      gr->t[i].host = &a->g->values[v].constant;
    else if (a->host[v].data)
      gr->t[i].host = &a->host[v];
  }
  for (int i = 0; i < n->n_out; i++) {
    int v = n->out[i];
    gr->y[i] = v >= 0 ? a->g->values[v].name : "";
    if (v < 0) continue;
    gr->t[n->n_in + i].dtype = a->dtype[v];
    gr->t[n->n_in + i].shape = a->shape[v];
  }
}

static nncl_status run_pass(struct autodiff *a, const char *loss, int n_wrt, const char *const *wrt,
                            char **grad_names) {
  nncl_graph *g = a->g;
  int nv = a->nv0, nn = g->n_nodes;
  int li = graph_find_value(g, loss);
  if (li < 0) return nncl__error(g->ctx, NNCL_ERR_NOT_FOUND, "autodiff: no value named '%s'", loss);
  /* forward topological order of the IR itself: the plan's order lacks the nodes its fusion
     passes replaced (an attention or LayerNorm pattern), whose own rules are needed here */
  int *order = malloc((size_t)(nn + 1) * sizeof *order);
  int *need = calloc((size_t)nv + 1, sizeof *need), *reach = calloc((size_t)nv + 1, sizeof *reach);
  char *placed = calloc((size_t)nn + 1, 1);
  nncl_status st = NNCL_OK;
  if (!order || !need || !reach || !placed) st = oom(a);
  int no = 0;
  for (int progress = 1; st == NNCL_OK && no < nn && progress;) {
    progress = 0; /* a pass over the nodes, placing those whose producers are placed */
    for (int k = 0; k < nn; k++) {
      const struct nncl_node *n = g->nodes[k];
      int ready = !placed[k];
      for (int i = 0; ready && i < n->n_in; i++) {
        int v = n->in[i], pr = v >= 0 && v < nv ? g->values[v].producer : -1;
        ready = pr < 0 || pr >= nn || placed[pr];
      }
      if (ready) placed[k] = 1, order[no++] = k, progress = 1;
    }
  }
  for (int i = 0; st == NNCL_OK && i < n_wrt; i++) {
    int v = graph_find_value(g, wrt[i]);
    if (v < 0)
      st = nncl__error(g->ctx, NNCL_ERR_NOT_FOUND, "autodiff: no value named '%s'", wrt[i]);
    else if (a->dtype[v] != NNCL_FLOAT32)
      st = nncl__error(g->ctx, NNCL_ERR_DTYPE, "autodiff: '%s' is %s; only float32 is trainable",
                       wrt[i], nncl_dtype_name(a->dtype[v]));
    else
      need[v] = 1;
  }
  for (int k = 0; st == NNCL_OK && k < no; k++) {
    const struct nncl_node *n = g->nodes[order[k]];
    int any = 0;
    for (int i = 0; i < n->n_in; i++) any |= n->in[i] >= 0 && need[n->in[i]];
    /* only float values carry gradients: a Shape, a mask's Equal or an index never does */
    for (int i = 0; i < n->n_out; i++)
      if (n->out[i] >= 0 && a->dtype[n->out[i]] == NNCL_FLOAT32) need[n->out[i]] |= any;
  }
  if (st == NNCL_OK) reach[li] = 1;
  for (int k = no - 1; st == NNCL_OK && k >= 0; k--) {
    const struct nncl_node *n = g->nodes[order[k]];
    int any = 0;
    for (int i = 0; i < n->n_out; i++) any |= n->out[i] >= 0 && reach[n->out[i]];
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] >= 0) reach[n->in[i]] |= any;
  }
  /* seed: d loss / d loss = 1 everywhere */
  struct op_grad *gr = calloc(1, sizeof *gr);
  if (!gr && st == NNCL_OK) st = oom(a);
  if (st == NNCL_OK) {
    nncl_array one;
    a->where = loss;
    st = nncl_array_alloc(&one, NNCL_FLOAT32, &a->shape[li]);
    if (st == NNCL_OK) {
      for (int64_t i = 0; i < nncl_shape_numel(&one.shape); i++) ((float *)one.data)[i] = 1.0f;
      gr->ad = a;
      st = grad_const(gr, &one, &a->sum[li]);
      nncl_array_free(&one);
    } else {
      st = oom(a);
    }
  }
  for (int k = no - 1; st == NNCL_OK && k >= 0; k--) {
    const struct nncl_node *n = g->nodes[order[k]];
    int flows = 0, wanted = 0;
    for (int i = 0; i < n->n_out; i++) flows |= n->out[i] >= 0 && a->sum[n->out[i]] != NULL;
    for (int i = 0; i < n->n_in; i++) wanted |= n->in[i] >= 0 && need[n->in[i]] && reach[n->in[i]];
    if (!flows || !wanted) continue;
    describe(a, n, gr);
    a->where = n->name;
    for (int i = 0; i < n->n_out; i++) gr->dy[i] = n->out[i] >= 0 ? a->sum[n->out[i]] : NULL;
    for (int i = 0; i < n->n_in; i++) gr->need[i] = n->in[i] >= 0 && need[n->in[i]];
    const struct op_def *d = op_get(n->op);
    st = d && d->backward ? d->backward(gr) : grad_no_rule(gr, NULL);
  }
  for (int i = 0; st == NNCL_OK && i < n_wrt; i++) {
    int v = graph_find_value(g, wrt[i]);
    if (!a->sum[v])
      st = nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT,
                       "autodiff: '%s' does not affect '%s', so it has no gradient", wrt[i], loss);
    else if (!(grad_names[i] = strdup(a->sum[v])))
      st = oom(a);
  }
  free(gr);
  free(placed);
  free(order);
  free(need);
  free(reach);
  return st;
}

nncl_status nncl__autodiff(nncl_graph *g, const char *loss, int n_wrt, const char *const *wrt,
                           char **grad_names) {
  if (!g || !loss || n_wrt < 0 || (n_wrt && (!wrt || !grad_names)))
    return NNCL_ERR_INVALID_ARGUMENT;
  for (int i = 0; i < n_wrt; i++) grad_names[i] = NULL;
  NNCL_TRY(nncl_graph_plan(g));
  struct autodiff a = {.g = g, .nv0 = g->n_values};
  a.shape = malloc((size_t)(a.nv0 + 1) * sizeof *a.shape);
  a.dtype = malloc((size_t)(a.nv0 + 1) * sizeof *a.dtype);
  a.sum = calloc((size_t)a.nv0 + 1, sizeof *a.sum);
  a.host = calloc((size_t)a.nv0 + 1, sizeof *a.host);
  nncl_status st = NNCL_OK;
  if (!a.shape || !a.dtype || !a.sum || !a.host) st = oom(&a);
  for (int v = 0; st == NNCL_OK && v < a.nv0; v++) {
    const struct pvalue *pv = &g->plan->v[v];
    a.shape[v] = pv->shape;
    a.dtype[v] = pv->dtype;
    if (pv->host && !g->values[v].constant.data && pv->dtype == NNCL_INT64 &&
        nncl_shape_numel(&pv->shape) <= 64) {
      if (nncl_array_alloc(&a.host[v], NNCL_INT64, &pv->shape) != NNCL_OK)
        st = oom(&a);
      else
        memcpy(a.host[v].data, pv->host->data, (size_t)nncl_shape_numel(&pv->shape) * 8);
    }
  }
  if (st == NNCL_OK) st = run_pass(&a, loss, n_wrt, wrt, grad_names);
  if (st != NNCL_OK)
    for (int i = 0; i < n_wrt; i++) {
      free(grad_names[i]);
      grad_names[i] = NULL;
    }
  for (int i = 0; i < a.n_owned; i++) free(a.owned[i]);
  free(a.owned);
  for (int v = 0; a.host && v < a.nv0; v++) nncl_array_free(&a.host[v]);
  free(a.host);
  free(a.shape);
  free(a.dtype);
  free(a.sum);
  return st;
}

nncl_status nncl_graph_add_gradients(nncl_graph *g, const char *loss, int n_wrt,
                                     const char *const *wrt, const char *const *grad_names) {
  if (!g || !loss || n_wrt < 1 || !wrt) return NNCL_ERR_INVALID_ARGUMENT;
  char **made = calloc((size_t)n_wrt, sizeof *made);
  if (!made) return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "gradients");
  nncl_status st = nncl__autodiff(g, loss, n_wrt, wrt, made);
  /* each gradient under its public name: an Identity (a view, no copy) */
  for (int i = 0; i < n_wrt && st == NNCL_OK; i++) {
    char def[512];
    const char *name = grad_names && grad_names[i] ? grad_names[i] : def;
    snprintf(def, sizeof def, "%s.grad", wrt[i]);
    if (graph_find_value(g, name) >= 0) {
      st = nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT,
                       "gradients: the graph already has a value named '%s'", name);
      break;
    }
    const char *in = made[i];
    st = nncl_graph_add_node(g, "Identity", name, 1, &in, 1, &name, NULL);
    if (st == NNCL_OK) st = nncl_graph_add_output(g, name);
  }
  for (int i = 0; i < n_wrt; i++) free(made[i]);
  free(made);
  return st;
}
