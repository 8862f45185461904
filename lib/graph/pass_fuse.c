/* pass_fuse.c: folds what follows a Conv/ConvTranspose/Gemm/MatMul into its epilogue so it costs no
   extra pass over memory: a residual Add of an equally shaped tensor, then one activation
   (Relu, LeakyRelu, Clip with constant bounds, Sigmoid, Tanh). */
#include <float.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "graph_internal.h"

static const struct nncl__attr *attr(const struct pnode *n, const char *name) {
  for (int i = 0; i < n->n_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
  return NULL;
}

static int const_scalar(const struct plan *p, int v, float *out) {
  if (v < 0) return 1; /* absent: keep the default */
  const nncl_array *h = p->v[v].host;
  if (!h || h->dtype != NNCL_FLOAT32 || nncl_shape_numel(&h->shape) != 1) return 0;
  *out = *(const float *)h->data;
  return 1;
}

/* Epilogue activation for node c, or 0 when c is not a fusable activation. */
static int activation_of(const struct plan *p, const struct pnode *c, struct op_epilogue *e) {
  const char *t = c->op_type;
  if (strcmp(t, "Relu") == 0) {
    e->act = OP_ACT_RELU;
  } else if (strcmp(t, "Sigmoid") == 0) {
    e->act = OP_ACT_SIGMOID;
  } else if (strcmp(t, "Tanh") == 0) {
    e->act = OP_ACT_TANH;
  } else if (strcmp(t, "LeakyRelu") == 0) {
    const struct nncl__attr *a = attr(c, "alpha");
    e->act = OP_ACT_LEAKY_RELU;
    e->alpha = a ? (a->type == ATTR_FLOAT ? a->f : (float)a->i) : 0.01f;
  } else if (strcmp(t, "Clip") == 0) {
    float lo = -FLT_MAX, hi = FLT_MAX;
    const struct nncl__attr *a;
    if ((a = attr(c, "min")) && a->type == ATTR_FLOAT) lo = a->f;
    if ((a = attr(c, "max")) && a->type == ATTR_FLOAT) hi = a->f;
    if (c->n_in > 1 && !const_scalar(p, c->in[1], &lo)) return 0;
    if (c->n_in > 2 && !const_scalar(p, c->in[2], &hi)) return 0;
    e->act = OP_ACT_CLIP;
    e->alpha = lo;
    e->beta = hi;
  } else {
    return 0;
  }
  return 1;
}

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

nncl_status pass_fuse_epilogues(nncl_graph *g, struct plan *p) {
  if (!nncl__option_on(&p->opts, NNCL__OPT_GRAPH_FUSION)) return NNCL_OK;
  for (int i = 0; i < p->n_n; i++) {
    struct pnode *n = &p->n[i];
    if (!n->alive || !(n->def->flags & OP_EPILOGUE) || n->n_out != 1) continue;
    if (p->v[n->out[0]].dtype != NNCL_FLOAT32) continue;
    int ci = plan_sole_consumer(g, p, n->out[0], NULL);
    if (ci < 0) continue;
    struct pnode *c = &p->n[ci];
    if (strcmp(c->op_type, "Add") == 0 && c->n_in == 2 && !n->epi.has_residual &&
        n->epi.act == OP_ACT_NONE) {
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
    if (n->epi.act == OP_ACT_NONE && c->n_out == 1 && activation_of(p, c, &e) &&
        same_shape(&p->v[c->out[0]].shape, &p->v[n->out[0]].shape)) {
      n->epi = e;
      absorb(p, n, c);
      note(n, c->op_type);
    }
  }
  return NNCL_OK;
}
