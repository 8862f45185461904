/* pass_fuse.c: folds what follows a Conv/ConvTranspose/Gemm/MatMul into its epilogue so it costs no
   extra pass over memory: for Gemm/MatMul without a bias, an Add of a constant vector over the last
   axis (a Linear layer's bias) becomes the engine's bias; then a residual Add of an equally shaped
   tensor, then one activation (any element-wise table row with EWF_EPI whose parameters are known
   at plan time; unary.c's op_unary_epilogue decides and gives them). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "graph_internal.h"

static void note(struct pnode *n, const char *what) {
  size_t l = strlen(n->fused);
  snprintf(n->fused + l, sizeof n->fused - l, "%s%s", l ? "+" : "", what);
}

static int same_shape(const nncl_shape *a, const nncl_shape *b) {
  if (a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

/* Moves node c's output onto p (c is absorbed). */
static void absorb(struct plan *pl, struct pnode *p, struct pnode *c) {
  p->out[0] = c->out[0];
  pl->v[c->out[0]].producer = (int)(p - pl->n);
  c->alive = 0;
  pl->n_fused++;
}

/* A constant float32 vector broadcast over out's last axis only: [N] or [1, .., 1, N]. */
static int last_axis_vector(const struct pvalue *b, const nncl_shape *out) {
  const nncl_shape *s = &b->shape;
  if (!b->host || b->dtype != NNCL_FLOAT32 || s->rank < 1 || s->rank > out->rank) return 0;
  for (int i = 0; i + 1 < s->rank; i++)
    if (s->dims[i] != 1) return 0;
  return s->dims[s->rank - 1] == out->dims[out->rank - 1];
}

/* Node n (Gemm or MatMul, no bias yet) takes the bias of Add node c when c adds a constant vector
   over the last axis to n's output: Gemm as its C (beta 1), MatMul as its internal input 2
   (nncl.bias marks it, since an ONNX MatMul has two inputs). Returns 1 when it did. */
static int fold_bias(struct plan *p, struct pnode *n, struct pnode *c) {
  if (c->op != OP_ADD || c->n_in != 2 || n->epi.has_residual || n->epi.act != OP_ACT_NONE) return 0;
  if (n->op == OP_GEMM) {
    const struct nncl__attr *beta = plan_node_attr(n, "beta");
    if ((n->n_in > 2 && n->in[2] >= 0) || (beta && beta->f != 1.0f)) return 0;
  } else if (n->op != OP_MATMUL || n->n_in != 2) {
    return 0;
  }
  int b = c->in[0] == n->out[0] ? c->in[1] : c->in[0];
  const nncl_shape *y = &p->v[n->out[0]].shape;
  if (b < 0 || b == n->out[0] || !last_axis_vector(&p->v[b], y) ||
      !same_shape(&p->v[c->out[0]].shape, y) || n->cap_in < 3)
    return 0;
  if (n->op == OP_MATMUL) {
    struct nncl__attr *a = plan_alloc(p, (size_t)(n->n_attrs + 1) * sizeof *a);
    if (!a) return 0; /* out of memory: the Add simply stays a node */
    if (n->n_attrs) memcpy(a, n->attrs, (size_t)n->n_attrs * sizeof *a);
    a[n->n_attrs] = A_INT("nncl.bias", 1);
    n->attrs = a;
    n->n_attrs++;
  }
  n->in[2] = b;
  n->n_in = 3;
  absorb(p, n, c);
  note(n, "Add(bias)");
  return 1;
}

nncl_status pass_fuse_epilogues(nncl_graph *g, struct plan *p) {
  if (!nncl__option_on(&p->opts, NNCL__OPT_GRAPH_FUSION)) return NNCL_OK;
  for (int i = 0; i < p->n_n; i++) {
    struct pnode *n = &p->n[i];
    if (!n->alive || !(n->def->flags & OP_EPILOGUE) || n->n_out != 1) continue;
    if (p->v[n->out[0]].dtype != NNCL_FLOAT32) continue;
    int ci = plan_sole_consumer(g, p, n->out[0], NULL);
    if (ci < 0) continue;
    struct pnode *c = &p->n[ci];
    if (fold_bias(p, n, c)) {
      ci = plan_sole_consumer(g, p, n->out[0], NULL);
      if (ci < 0) continue;
      c = &p->n[ci];
    }
    if (c->op == OP_ADD && c->n_in == 2 && !n->epi.has_residual && n->epi.act == OP_ACT_NONE) {
      int r = c->in[0] == n->out[0] ? c->in[1] : c->in[0];
      if (r >= 0 && r != n->out[0] && p->v[r].dtype == NNCL_FLOAT32 &&
          same_shape(&p->v[r].shape, &p->v[n->out[0]].shape) &&
          same_shape(&p->v[c->out[0]].shape, &p->v[n->out[0]].shape)) {
        n->epi.has_residual = 1;
        n->res = r;
        absorb(p, n, c);
        note(n, "Add");
        ci = plan_sole_consumer(g, p, n->out[0], NULL);
        if (ci < 0) continue;
        c = &p->n[ci];
      }
    }
    struct op_epilogue e = n->epi;
    plan_bind_call(g, p, ci); /* the activation's attributes and constant inputs */
    if (n->epi.act == OP_ACT_NONE && c->n_out == 1 && op_unary_epilogue(&c->call, &e) &&
        same_shape(&p->v[c->out[0]].shape, &p->v[n->out[0]].shape)) {
      n->epi = e;
      absorb(p, n, c);
      note(n, c->op_type);
    }
  }
  return NNCL_OK;
}
