/* pass_bn.c: folds inference BatchNormalization into the preceding Conv or Gemm's constant
   weights and bias: W' = W * s, B' = (B - mean) * s + beta with s = gamma / sqrt(var + eps). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

static const float *const_f32(const struct plan *p, int v) {
  return v >= 0 && p->v[v].host && p->v[v].dtype == NNCL_FLOAT32 ? p->v[v].host->data : NULL;
}

static float attr_f(const struct pnode *n, const char *name, float def) {
  for (int i = 0; i < n->n_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0)
      return n->attrs[i].type == ATTR_FLOAT ? n->attrs[i].f : (float)n->attrs[i].i;
  return def;
}

static int64_t attr_i(const struct pnode *n, const char *name, int64_t def) {
  for (int i = 0; i < n->n_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0 && n->attrs[i].type == ATTR_INT) return n->attrs[i].i;
  return def;
}

/* New plan-owned float constant of the given shape; returns its value index or -1. */
static int new_const(struct plan *p, const nncl_shape *shape, float **data) {
  int v = plan_add_value(p, NNCL_FLOAT32, shape);
  if (v < 0) return -1;
  nncl_array *a = malloc(sizeof *a);
  if (!a || nncl_array_alloc(a, NNCL_FLOAT32, shape) != NNCL_OK) {
    free(a);
    return -1;
  }
  p->v[v].host = a;
  p->v[v].host_owned = 1;
  *data = a->data;
  return v;
}

static nncl_status fold_one(nncl_graph *g, struct plan *p, struct pnode *bn, struct pnode *prod) {
  int64_t K = p->v[bn->out[0]].shape.dims[1];
  const float *gamma = const_f32(p, bn->in[1]), *beta = const_f32(p, bn->in[2]);
  const float *mean = const_f32(p, bn->in[3]), *var = const_f32(p, bn->in[4]);
  float eps = attr_f(bn, "epsilon", 1e-5f);
  int is_gemm = prod->op == OP_GEMM;
  int wv = prod->in[1];
  /* copies: new_const() may move p->v */
  const nncl_shape wshape = p->v[wv].shape, *ws = &wshape;
  const float *w = const_f32(p, wv); /* host arrays do not move with p->v */
  const float *b = prod->n_in > 2 ? const_f32(p, prod->in[2]) : NULL;
  int trans_b = is_gemm ? (int)attr_i(prod, "transB", 0) : 0;
  float *s = malloc((size_t)K * sizeof *s);
  if (!s) return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "BatchNorm folding");
  for (int64_t k = 0; k < K; k++) s[k] = gamma[k] / sqrtf(var[k] + eps);
  float *nw, *nb;
  nncl_shape bshape = {.rank = 1, .dims = {K}};
  int nwv = new_const(p, ws, &nw);
  int nbv = nwv >= 0 ? new_const(p, &bshape, &nb) : -1;
  if (nwv < 0 || nbv < 0) {
    free(s);
    return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "BatchNorm folding");
  }
  int64_t total = nncl_shape_numel(ws);
  if (!is_gemm) { /* Conv W [K, C/g, kh, kw] */
    int64_t per = total / K;
    for (int64_t k = 0; k < K; k++)
      for (int64_t j = 0; j < per; j++) nw[k * per + j] = w[k * per + j] * s[k];
  } else if (trans_b) { /* W [N, K_in] */
    int64_t per = total / K;
    for (int64_t k = 0; k < K; k++)
      for (int64_t j = 0; j < per; j++) nw[k * per + j] = w[k * per + j] * s[k];
  } else { /* W [K_in, N] */
    int64_t rows = total / K;
    for (int64_t r = 0; r < rows; r++)
      for (int64_t k = 0; k < K; k++) nw[r * K + k] = w[r * K + k] * s[k];
  }
  for (int64_t k = 0; k < K; k++) nb[k] = ((b ? b[k] : 0.0f) - mean[k]) * s[k] + beta[k];
  free(s);
  prod->in[1] = nwv;
  prod->in[2] = nbv;
  if (prod->n_in < 3) prod->n_in = 3;
  prod->out[0] = bn->out[0];
  p->v[bn->out[0]].producer = (int)(prod - p->n);
  bn->alive = 0;
  snprintf(prod->fused + strlen(prod->fused), sizeof prod->fused - strlen(prod->fused), "%s%s",
           prod->fused[0] ? "+" : "", "BatchNormalization");
  p->n_fused++;
  return NNCL_OK;
}

nncl_status pass_fold_batchnorm(nncl_graph *g, struct plan *p) {
  for (int i = 0; i < p->n_n; i++) {
    struct pnode *bn = &p->n[i];
    if (!bn->alive || bn->op != OP_BATCH_NORMALIZATION || bn->n_out != 1 || bn->n_in != 5 ||
        attr_i(bn, "training_mode", 0) != 0)
      continue; /* training mode normalises with batch statistics: nothing to fold */
    int x = bn->in[0];
    int pi = p->v[x].producer;
    if (pi < 0 || !p->n[pi].alive || p->n[pi].out[0] != x || p->v[x].dtype != NNCL_FLOAT32)
      continue;
    struct pnode *prod = &p->n[pi];
    int is_conv = prod->op == OP_CONV, is_gemm = prod->op == OP_GEMM;
    if (!is_conv && !is_gemm) continue;
    if (prod->fused[0] || prod->epi.act != OP_ACT_NONE) continue;
    if (plan_sole_consumer(g, p, x, NULL) != i) continue;
    if (!const_f32(p, prod->in[1]) ||
        (prod->n_in > 2 && prod->in[2] >= 0 && !const_f32(p, prod->in[2])))
      continue;
    int ok = 1;
    for (int k = 1; k < 5; k++) ok = ok && const_f32(p, bn->in[k]);
    if (!ok || p->v[bn->out[0]].shape.rank < 2) continue;
    if (is_gemm) {
      if (attr_i(prod, "transA", 0) || attr_f(prod, "beta", 1.0f) != 1.0f ||
          p->v[bn->out[0]].shape.rank != 2)
        continue;
      if (prod->n_in > 2 && prod->in[2] >= 0 &&
          nncl_shape_numel(&p->v[prod->in[2]].shape) != p->v[bn->out[0]].shape.dims[1])
        continue;
    }
    NNCL_TRY(fold_one(g, p, bn, prod));
  }
  return NNCL_OK;
}
