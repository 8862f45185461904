/* pass_layernorm.c: finds layer normalization as PyTorch exports it below opset 17,
     m = ReduceMean(x, trailing axes); d = Sub(x, m); v = ReduceMean(Pow(d, 2), same axes);
     y = Div(d, Sqrt(Add(v, eps))) [* scale] [+ bias]
   and replaces it by one LayerNormalization node (one kernel, one read of x per row instead of
   nine launches and eight intermediate tensors). Anchored at the first ReduceMean; every
   intermediate must be read only inside the pattern (d by the Pow and the Div), eps a scalar
   constant and the exponent exactly 2. Scale and bias come from the Mul and Add when their other
   operand broadcasts over the normalized axes only; without a Mul the scale is a constant of
   ones. The new node must infer the shape the last replaced node had, or nothing changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

#define LN_NODES 9

static int is(const struct pnode *n, const char *type, int n_in) {
  return n && n->alive && strcmp(n->op_type, type) == 0 && n->n_in == n_in && n->n_out == 1 &&
         n->out[0] >= 0 && n->res < 0 && !n->fused[0];
}

/* The alive node reading value v when it is the only one (and v is no graph output), else -1. */
static struct pnode *sole(nncl_graph *g, struct plan *p, int v) {
  int i = plan_sole_consumer(g, p, v, NULL);
  return i >= 0 ? &p->n[i] : NULL;
}

/* v holds one float (float32 or float64 constant) or one int; its value in *out. */
static int scalar_const(const struct plan *p, int v, double *out) {
  const nncl_array *h = v >= 0 ? p->v[v].host : NULL;
  if (!h || nncl_shape_numel(&h->shape) != 1) return 0;
  switch (h->dtype) {
  case NNCL_FLOAT32: *out = *(const float *)h->data; return 1;
  case NNCL_INT64: *out = (double)*(const int64_t *)h->data; return 1;
  default: return 0;
  }
}

/* First normalized axis of a keepdims ReduceMean over the trailing axes [a, rank) of its
   input, or -1. */
static int trailing_axis(const struct plan *p, const struct pnode *r) {
  if (r->in[0] < 0 || p->v[r->in[0]].dtype != NNCL_FLOAT32) return -1;
  const int rank = p->v[r->in[0]].shape.rank;
  const struct nncl__attr *kd = plan_node_attr(r, "keepdims");
  if (kd && (kd->type != ATTR_INT || kd->i != 1)) return -1;
  /* axes from the attribute (opset < 18; nncl's ReduceMean takes no axes input yet) */
  const struct nncl__attr *a = plan_node_attr(r, "axes");
  if (r->n_in > 1 || !a || a->type != ATTR_INTS) return -1;
  const int64_t *axes = a->ints;
  const int n = a->n;
  if (n < 1 || n > rank) return -1;
  int mask[NNCL_MAX_RANK] = {0};
  for (int i = 0; i < n; i++) {
    int64_t x = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (x < 0 || x >= rank || mask[x]) return -1;
    mask[x] = 1;
  }
  for (int i = rank - n; i < rank; i++)
    if (!mask[i]) return -1;
  return rank - n;
}

/* The consumers of v among alive nodes (at most two kept); their count, -1 for a graph output. */
static int consumers(nncl_graph *g, struct plan *p, int v, int *out) {
  if (plan_is_graph_output(g, v)) return -1;
  int found = 0;
  for (int i = 0; i < p->n_n; i++) {
    const struct pnode *n = &p->n[i];
    if (!n->alive) continue;
    int uses = n->res == v;
    for (int k = 0; k < n->n_in; k++) uses += n->in[k] == v;
    if (!uses) continue;
    if (uses > 1 || found == 2) return 3;
    out[found++] = i;
  }
  return found;
}

struct ln_match {
  int x, scale, bias, axis;
  float eps;
  int nodes[LN_NODES], n_nodes; /* replaced nodes, the last one becomes LayerNormalization */
};

/* For Mul/Add node n with one operand `v` of x's shape: the other operand when it is float32 and
   broadcasts over the normalized axes [axis, rank) only, as LayerNormalization's Scale and B
   must (a trailing run of x's dims, leading 1s allowed), else -1. */
static int other_operand(const struct plan *p, const struct pnode *n, int v, int axis) {
  int o = n->in[0] == v ? n->in[1] : n->in[1] == v ? n->in[0] : -1;
  if (o < 0 || o == v || p->v[o].dtype != NNCL_FLOAT32 ||
      !plan_same_shape(&p->v[n->out[0]].shape, &p->v[v].shape))
    return -1;
  const nncl_shape *os = &p->v[o].shape, *xs = &p->v[v].shape;
  if (os->rank > xs->rank - axis) return -1;
  int k = 0; /* trailing dims equal to x's, then only 1s */
  while (k < os->rank && os->dims[os->rank - 1 - k] == xs->dims[xs->rank - 1 - k]) k++;
  for (; k < os->rank; k++)
    if (os->dims[os->rank - 1 - k] != 1) return -1;
  return o;
}

static int match(nncl_graph *g, struct plan *p, int r1i, struct ln_match *m) {
  memset(m, 0, sizeof *m);
  m->scale = m->bias = -1;
  struct pnode *r1 = &p->n[r1i];
  m->x = r1->in[0];
  if ((m->axis = trailing_axis(p, r1)) < 0) return 0;
  m->nodes[m->n_nodes++] = r1i;
  struct pnode *sub = sole(g, p, r1->out[0]);
  if (!is(sub, "Sub", 2) || sub->in[0] != m->x || sub->in[1] != r1->out[0]) return 0;
  m->nodes[m->n_nodes++] = (int)(sub - p->n);
  const int d = sub->out[0];
  int c[2];
  if (consumers(g, p, d, c) != 2) return 0;
  struct pnode *pw = &p->n[c[0]], *div = &p->n[c[1]];
  if (strcmp(pw->op_type, "Pow") != 0) {
    struct pnode *t = pw;
    pw = div;
    div = t;
  }
  double e;
  if (!is(pw, "Pow", 2) || pw->in[0] != d || !scalar_const(p, pw->in[1], &e) || e != 2.0) return 0;
  if (!is(div, "Div", 2) || div->in[0] != d) return 0;
  m->nodes[m->n_nodes++] = (int)(pw - p->n);
  struct pnode *r2 = sole(g, p, pw->out[0]);
  if (!is(r2, "ReduceMean", 1) || trailing_axis(p, r2) != m->axis) return 0;
  m->nodes[m->n_nodes++] = (int)(r2 - p->n);
  struct pnode *add = sole(g, p, r2->out[0]);
  if (!is(add, "Add", 2)) return 0;
  const int ev = add->in[0] == r2->out[0] ? add->in[1] : add->in[0];
  if (!scalar_const(p, ev, &e) || e < 0) return 0;
  m->eps = (float)e;
  m->nodes[m->n_nodes++] = (int)(add - p->n);
  struct pnode *sq = sole(g, p, add->out[0]);
  if (!is(sq, "Sqrt", 1) || sole(g, p, sq->out[0]) != div || div->in[1] != sq->out[0]) return 0;
  m->nodes[m->n_nodes++] = (int)(sq - p->n);
  if (!plan_same_shape(&p->v[div->out[0]].shape, &p->v[m->x].shape)) return 0;
  m->nodes[m->n_nodes++] = (int)(div - p->n);
  /* optional affine part: Mul by scale, then Add of bias */
  struct pnode *mul = sole(g, p, div->out[0]);
  if (is(mul, "Mul", 2) && (m->scale = other_operand(p, mul, div->out[0], m->axis)) >= 0) {
    m->nodes[m->n_nodes++] = (int)(mul - p->n);
    struct pnode *ab = sole(g, p, mul->out[0]);
    if (is(ab, "Add", 2) && (m->bias = other_operand(p, ab, mul->out[0], m->axis)) >= 0 &&
        nncl_shape_numel(&p->v[m->bias].shape) == nncl_shape_numel(&p->v[m->scale].shape))
      m->nodes[m->n_nodes++] = (int)(ab - p->n);
    else
      m->bias = -1;
  } else {
    m->scale = -1;
  }
  return 1;
}

/* A constant of ones over the normalized axes of x: the scale when the pattern has no Mul. */
static int ones_scale(struct plan *p, const struct ln_match *m) {
  const nncl_shape *xs = &p->v[m->x].shape;
  nncl_shape s = {.rank = xs->rank - m->axis};
  for (int i = 0; i < s.rank; i++) s.dims[i] = xs->dims[m->axis + i];
  int v = plan_add_value(p, NNCL_FLOAT32, &s);
  if (v < 0) return -1;
  nncl_array *a = malloc(sizeof *a);
  if (!a || nncl_array_alloc(a, NNCL_FLOAT32, &s) != NNCL_OK) {
    free(a);
    return -1;
  }
  for (int64_t i = 0; i < nncl_shape_numel(&s); i++) ((float *)a->data)[i] = 1.0f;
  p->v[v].host = a;
  p->v[v].host_owned = 1;
  return v;
}

static nncl_status rewrite(nncl_graph *g, struct plan *p, struct ln_match *m) {
  struct owned {
    struct nncl__attr att[2];
  } *o = plan_alloc(p, sizeof *o);
  if (!o) return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "LayerNorm fusion");
  o->att[0] = A_INT("axis", m->axis);
  o->att[1] = A_FLOAT("epsilon", m->eps);
  if (m->scale < 0 && (m->scale = ones_scale(p, m)) < 0)
    return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "LayerNorm fusion");
  const int last = m->nodes[m->n_nodes - 1];
  struct pnode *n = &p->n[last], saved = *n;
  const int op = op_lookup("LayerNormalization");
  n->gnode = -1;
  n->op = op;
  n->op_type = op_name(op);
  n->def = op_get(op);
  n->n_in = m->bias >= 0 ? 3 : 2;
  n->in[0] = m->x;
  n->in[1] = m->scale;
  n->in[2] = m->bias;
  n->attrs = o->att;
  n->n_attrs = 2;
  /* the node must give the replaced output's shape; otherwise leave the graph as it was */
  plan_bind_call(g, p, last);
  nncl_status st = n->def->infer(&n->call);
  int same = st == NNCL_OK && n->call.out[0].dtype == NNCL_FLOAT32 &&
             plan_same_shape(&n->call.out[0].shape, &p->v[n->out[0]].shape);
  if (n->def->release) n->def->release(&n->call);
  n->call.state = NULL;
  if (!same) {
    *n = saved;
    return NNCL_OK;
  }
  for (int i = 0; i < m->n_nodes - 1; i++) {
    p->n[m->nodes[i]].alive = 0;
    p->n_fused++;
  }
  /* the replaced op types, as the profiler shows fused nodes ("ReduceMean+Sub+...+Add") */
  size_t used = 0;
  for (int i = 0; i < m->n_nodes; i++) {
    const char *t = i < m->n_nodes - 1 ? p->n[m->nodes[i]].op_type : saved.op_type;
    int w = snprintf(n->fused + used, sizeof n->fused - used, "%s%s", i ? "+" : "", t);
    if (w < 0 || (size_t)w >= sizeof n->fused - used) break;
    used += (size_t)w;
  }
  return NNCL_OK;
}

nncl_status pass_fuse_layernorm(nncl_graph *g, struct plan *p) {
  if (!nncl__option_on(&p->opts, NNCL__OPT_GRAPH_FUSION)) return NNCL_OK;
  if (op_lookup("LayerNormalization") < 0) return NNCL_OK;
  for (int i = 0; i < p->n_n; i++) {
    struct ln_match m;
    if (!p->n[i].alive || strcmp(p->n[i].op_type, "ReduceMean") != 0 || p->n[i].n_out != 1)
      continue;
    if (match(g, p, i, &m)) NNCL_TRY(rewrite(g, p, &m));
  }
  return NNCL_OK;
}

/* The residual Add in front of a LayerNormalization (a Transformer's norm(x + sublayer(x))) folds
   into it: the node reads both addends (input 0 and its residual) and its kernel writes the sum
   into its output row before normalizing it, so the sum costs no tensor and no launch. Only when
   the Add adds two float32 tensors of X's shape (no broadcast) and the LayerNormalization is the
   sum's only reader (another reader, or a graph output, needs the sum written: left alone). Runs
   after pass_fuse_epilogues, so a MatMul's epilogue takes a residual Add before this does. */
nncl_status pass_fuse_add_layernorm(nncl_graph *g, struct plan *p) {
  if (!nncl__option_on(&p->opts, NNCL__OPT_GRAPH_FUSION)) return NNCL_OK;
  for (int i = 0; i < p->n_n; i++) {
    struct pnode *n = &p->n[i];
    if (!n->alive || n->op != OP_LAYER_NORMALIZATION || n->res >= 0 || n->in[0] < 0) continue;
    const int x = n->in[0], ai = p->v[x].producer;
    if (ai < 0 || !p->n[ai].alive) continue;
    struct pnode *a = &p->n[ai];
    if (a->op != OP_ADD || a->n_in != 2 || a->n_out != 1 || a->res >= 0 || a->fused[0]) continue;
    const int l = a->in[0], r = a->in[1];
    if (l < 0 || r < 0 || p->v[x].dtype != NNCL_FLOAT32 || p->v[l].dtype != NNCL_FLOAT32 ||
        p->v[r].dtype != NNCL_FLOAT32 || !plan_same_shape(&p->v[l].shape, &p->v[x].shape) ||
        !plan_same_shape(&p->v[r].shape, &p->v[x].shape))
      continue;
    int slot = -1;
    if (plan_sole_consumer(g, p, x, &slot) != i || slot != 0) continue;
    n->in[0] = l;
    n->res = r;
    n->epi.has_residual = 1;
    a->alive = 0;
    p->n_fused++;
    const size_t used = strlen(n->fused);
    snprintf(n->fused + used, sizeof n->fused - used, "%sAdd(residual)", used ? "+" : "");
  }
  return NNCL_OK;
}
