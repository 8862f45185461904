/* pass_fuse_elementwise.c: merges chains (and small DAGs) of float32 element-wise nodes into one
   nncl.ElementwiseChain node (lib/ops/elementwise_chain.c), so a run launches one kernel where it
   launched one per op (each launch costs tens of microseconds on CPU devices). A node joins the
   group of the node reading its output when that value has no other reader, is not a graph
   output, and has the group's output shape; inputs from outside the group may broadcast to it.
   Each member's step is what unary.c and binary.c would run for it (op_*_chain_form), so the fused
   node computes the same floats. */
#include <stdio.h>
#include <string.h>

#include "elementwise_chain.h"
#include "graph_internal.h"

/* One member's step, as op_*_chain_form gives it. */
struct form {
  const char *expr;
  int n_ops; /* operand inputs read: 1 (unary, Pow by a special constant) or 2 */
  float alpha, beta;
};

static int form_of(nncl_graph *g, struct plan *p, int i, struct form *f) {
  struct pnode *n = &p->n[i];
  if (!n->alive || n->n_out != 1 || n->out[0] < 0 || n->res >= 0 ||
      p->v[n->out[0]].dtype != NNCL_FLOAT32 || n->def == NULL)
    return 0;
  plan_bind_call(g, p, i); /* attributes and constant inputs */
  int unary = 0;
  if (n->n_in >= 1 && op_unary_chain_form(&n->call, &f->expr, &f->alpha, &f->beta)) {
    f->n_ops = 1;
    return 1;
  }
  if (n->n_in == 2 && op_binary_chain_form(&n->call, &f->expr, &unary, &f->alpha, &f->beta)) {
    f->n_ops = unary ? 1 : 2;
    /* a unary form reads input 0 at the output's shape (Pow's exponent broadcast no further) */
    return !unary || plan_same_shape(&p->v[n->in[0]].shape, &p->v[n->out[0]].shape);
  }
  return 0;
}

struct group {
  int node[CHAIN_MAX_STEPS];
  struct form f[CHAIN_MAX_STEPS];
  int n;
  int ext[CHAIN_MAX_IN]; /* values read from outside, in first-use order */
  int n_ext;
};

static int member_of(const struct group *gr, int node) {
  for (int k = 0; k < gr->n; k++)
    if (gr->node[k] == node) return k;
  return -1;
}

/* Values the group reads from outside; -1 when more than CHAIN_MAX_IN. */
static int count_external(const struct plan *p, struct group *gr) {
  gr->n_ext = 0;
  for (int k = 0; k < gr->n; k++) {
    const struct pnode *n = &p->n[gr->node[k]];
    for (int o = 0; o < gr->f[k].n_ops; o++) {
      int v = n->in[o], pr = p->v[v].producer;
      if (pr >= 0 && member_of(gr, pr) >= 0) continue;
      int seen = 0;
      for (int e = 0; e < gr->n_ext; e++) seen |= gr->ext[e] == v;
      if (seen) continue;
      if (gr->n_ext == CHAIN_MAX_IN) return -1;
      gr->ext[gr->n_ext++] = v;
    }
  }
  return gr->n_ext;
}

/* Grows the group rooted at gr->node[0] upstream as far as the rules and limits allow. */
static void grow(nncl_graph *g, struct plan *p, struct group *gr, char *taken) {
  const nncl_shape *shape = &p->v[p->n[gr->node[0]].out[0]].shape;
  for (int k = 0; k < gr->n; k++) {
    const struct pnode *n = &p->n[gr->node[k]];
    for (int o = 0; o < gr->f[k].n_ops && gr->n < CHAIN_MAX_STEPS; o++) {
      int v = n->in[o], pr = v >= 0 ? p->v[v].producer : -1;
      if (pr < 0 || taken[pr] || member_of(gr, pr) >= 0 ||
          !plan_same_shape(&p->v[v].shape, shape) ||
          plan_sole_consumer(g, p, v, NULL) != gr->node[k] || !form_of(g, p, pr, &gr->f[gr->n]))
        continue;
      gr->node[gr->n++] = pr;
      if (count_external(p, gr) < 0) gr->n--; /* too many inputs: leave pr outside */
    }
  }
}

/* Step number (1-based) of member k, emitting its operands' producers first (post-order keeps
   every step after the steps it reads). */
static int emit(const struct plan *p, const struct group *gr, int k, int *step_of, int *n_steps,
                int64_t *ops, const char **steps, float *params) {
  if (step_of[k]) return step_of[k];
  const struct pnode *n = &p->n[gr->node[k]];
  int64_t code[2] = {0, 0};
  for (int o = 0; o < gr->f[k].n_ops; o++) {
    int v = n->in[o], pr = p->v[v].producer, m = pr >= 0 ? member_of(gr, pr) : -1;
    if (m >= 0) {
      code[o] = CHAIN_STEP_BASE + emit(p, gr, m, step_of, n_steps, ops, steps, params);
    } else {
      for (int e = 0; e < gr->n_ext; e++)
        if (gr->ext[e] == v) code[o] = e;
    }
  }
  int j = (*n_steps)++;
  steps[j] = gr->f[k].expr;
  ops[2 * j] = code[0];
  ops[2 * j + 1] = code[1];
  params[2 * j] = gr->f[k].alpha;
  params[2 * j + 1] = gr->f[k].beta;
  return step_of[k] = j + 1;
}

/* Turns the root (member 0) into the chain node and retires the other members. */
static nncl_status replace(nncl_graph *g, struct plan *p, struct group *gr) {
  struct pnode *r = &p->n[gr->node[0]];
  int cap_in = CHAIN_MAX_IN;
  struct nncl__attr *at = plan_alloc(p, 3 * sizeof *at);
  char **steps = plan_alloc(p, (size_t)gr->n * sizeof *steps);
  int64_t *ops = plan_alloc(p, 2 * (size_t)gr->n * sizeof *ops);
  float *params = plan_alloc(p, 2 * (size_t)gr->n * sizeof *params);
  int *in = plan_alloc(p, (size_t)cap_in * sizeof *in);
  struct op_tensor *t = plan_alloc(p, (size_t)(cap_in + r->cap_out + 1) * sizeof *t);
  if (!at || !steps || !ops || !params || !in || !t)
    return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "fusing element-wise node '%s'",
                       r->name);
  int step_of[CHAIN_MAX_STEPS] = {0}, n_steps = 0;
  emit(p, gr, 0, step_of, &n_steps, ops, (const char **)steps, params);
  at[0] = (struct nncl__attr){.name = "steps", .type = ATTR_STRINGS, .strs = steps, .n = gr->n};
  at[1] = (struct nncl__attr){.name = "operands", .type = ATTR_INTS, .ints = ops, .n = 2 * gr->n};
  at[2] =
      (struct nncl__attr){.name = "params", .type = ATTR_FLOATS, .floats = params, .n = 2 * gr->n};
  char fused[sizeof r->fused] = "";
  for (int j = 0; j < gr->n; j++) { /* op types in step order, for info and the profiler */
    for (int k = 0; k < gr->n; k++) {
      if (step_of[k] != j + 1) continue;
      size_t l = strlen(fused);
      snprintf(fused + l, sizeof fused - l, "%s%s", l ? "+" : "", p->n[gr->node[k]].op_type);
    }
  }
  for (int k = 1; k < gr->n; k++) {
    p->n[gr->node[k]].alive = 0;
    p->n_fused++;
  }
  for (int e = 0; e < gr->n_ext; e++) in[e] = gr->ext[e];
  r->in = in;
  r->n_in = gr->n_ext;
  r->cap_in = cap_in;
  r->t = t;
  r->op = OP_ELEMENTWISE_CHAIN;
  r->def = op_get(OP_ELEMENTWISE_CHAIN);
  r->op_type = op_name(OP_ELEMENTWISE_CHAIN);
  r->attrs = at;
  r->n_attrs = 3;
  memcpy(r->fused, fused, sizeof fused);
  return NNCL_OK;
}

nncl_status pass_fuse_elementwise(nncl_graph *g, struct plan *p) {
  if (!nncl__option_on(&p->opts, NNCL__OPT_GRAPH_FUSION) ||
      !nncl__option_on(&p->opts, NNCL__OPT_GRAPH_FUSE_ELEMENTWISE))
    return NNCL_OK;
  char *taken = calloc((size_t)p->n_n + 1, 1);
  if (!taken) return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "element-wise fusion");
  nncl_status st = NNCL_OK;
  /* From the last node back, so a group's root is the most downstream member. */
  for (int i = p->n_n - 1; i >= 0 && st == NNCL_OK; i--) {
    struct group gr = {.node = {i}, .n = 1};
    if (taken[i] || !form_of(g, p, i, &gr.f[0])) continue;
    grow(g, p, &gr, taken);
    for (int k = 0; k < gr.n; k++) taken[gr.node[k]] = 1;
    if (gr.n < 2) continue;
    count_external(p, &gr);
    st = replace(g, p, &gr);
  }
  free(taken);
  return st;
}
