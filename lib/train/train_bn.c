/* train_bn.c: BatchNormalization in training mode. In the train graph each BatchNormalization
   node becomes batch statistics built from ordinary ops (X viewed as [N, C, rest], ReduceMean
   over axes 0 and 2, Sub, Mul, Add, Sqrt, Reciprocal, Reshape back), so autodiff differentiates it like any
   other subgraph, and the batch mean and (biased) variance become graph outputs. After each step
   the trainer folds them into the running statistics as ONNX defines it (running = running *
   momentum + batch * (1 - momentum), which is PyTorch's rule with its momentum = 1 - ONNX's), the
   variance made unbiased first as PyTorch does; the eval graph keeps the inference-mode node and
   reads the running statistics as graph inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trainer_internal.h"

int nncl__bn_is_stat(const nncl_graph *m, int v) {
  for (int i = 0; i < m->n_nodes; i++) {
    const struct nncl_node *n = m->nodes[i];
    if (!strcmp(n->op_type, "BatchNormalization") && n->n_in >= 5 &&
        (n->in[3] == v || n->in[4] == v))
      return 1;
  }
  return 0;
}

static float attr_f(const struct nncl_node *n, const char *name, float def) {
  for (int a = 0; a < n->n_attrs; a++)
    if (!strcmp(n->attrs[a].name, name)) return n->attrs[a].f;
  return def;
}

/* Names of a BN's made values: "<node>/bn.<what>". */
static char *made(const struct nncl_node *n, const char *what) {
  size_t len = strlen(n->name) + strlen(what) + 8;
  char *s = malloc(len);
  if (s) snprintf(s, len, "%s/bn.%s", n->name, what);
  return s;
}

static nncl_status emit(nncl_graph *g, const char *op, const char *name, int n_in,
                        const char *const *in, const char *out, nncl_node **node) {
  return nncl_graph_add_node(g, op, name, n_in, in, 1, &out, node);
}

nncl_status nncl__bn_register(nncl_trainer *t, const nncl_graph *m) {
  for (int i = 0; i < m->n_nodes; i++) {
    const struct nncl_node *n = m->nodes[i];
    if (strcmp(n->op_type, "BatchNormalization") != 0) continue;
    if (n->n_in < 5 || n->in[3] < 0 || n->in[4] < 0 || !m->values[n->in[3]].constant.data ||
        !m->values[n->in[4]].constant.data || m->values[n->in[3]].constant.dtype != NNCL_FLOAT32)
      return nncl__error(t->ctx, NNCL_ERR_UNSUPPORTED,
                         "trainer: BatchNormalization node '%s' needs constant float32 mean and "
                         "variance initializers",
                         n->name);
    struct train_bn *b = realloc(t->bn, sizeof *b * (size_t)(t->n_bn + 1));
    if (!b) return nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "trainer");
    t->bn = b;
    b = &t->bn[t->n_bn];
    memset(b, 0, sizeof *b);
    t->n_bn++;
    b->mean_name = strdup(m->values[n->in[3]].name);
    b->var_name = strdup(m->values[n->in[4]].name);
    b->batch_mean = made(n, "mean");
    b->batch_var = made(n, "var");
    b->momentum = attr_f(n, "momentum", 0.9f);
    b->epsilon = attr_f(n, "epsilon", 1e-5f);
    if (!b->mean_name || !b->var_name || !b->batch_mean || !b->batch_var ||
        nncl_array_alloc(&b->mean, NNCL_FLOAT32, &m->values[n->in[3]].constant.shape) != NNCL_OK ||
        nncl_array_alloc(&b->var, NNCL_FLOAT32, &m->values[n->in[4]].constant.shape) != NNCL_OK)
      return nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "trainer");
    memcpy(b->mean.data, m->values[n->in[3]].constant.data, nncl_array_bytes(&b->mean));
    memcpy(b->var.data, m->values[n->in[4]].constant.data, nncl_array_bytes(&b->var));
  }
  return NNCL_OK;
}

void nncl__bn_free(nncl_trainer *t) {
  for (int i = 0; i < t->n_bn; i++) {
    struct train_bn *b = &t->bn[i];
    free(b->mean_name), free(b->var_name), free(b->batch_mean), free(b->batch_var);
    nncl_array_free(&b->mean), nncl_array_free(&b->var);
  }
  free(t->bn);
}

nncl_status nncl__bn_emit_training(nncl_trainer *t, nncl_graph *g, const nncl_graph *m,
                                   const struct nncl_node *n) {
  const struct gvalue *sc = &m->values[n->in[1]];
  if (!sc->constant.data || sc->constant.shape.rank != 1)
    return nncl__error(t->ctx, NNCL_ERR_UNSUPPORTED,
                       "trainer: BatchNormalization node '%s' needs a constant scale [C]", n->name);
  struct train_bn *b = NULL;
  for (int i = 0; i < t->n_bn && !b; i++)
    if (!strcmp(t->bn[i].mean_name, m->values[n->in[3]].name)) b = &t->bn[i];
  if (!b) return nncl__error(t->ctx, NNCL_ERR_STATE, "trainer: BatchNormalization not registered");
  /* X as [N, C, rest] (any rank >= 2, no shape needed): statistics over axes 0 and 2 */
  enum { X3, DIFF, SQ, VEPS, SD, INV, XHAT, SCALE, BIAS, SCALED, Y3, XSHAPE, S3, SC2, EPS, NM };
  const char *what[NM] = {"x3",   "diff",   "sq", "veps",   "sd",     "inv",    "xhat", "scale",
                          "bias", "scaled", "y3", "xshape", "shape3", "shapec", "eps"};
  char *nm[NM] = {0};
  nncl_status st = NNCL_OK;
  for (int k = 0; k < NM; k++)
    if (!(nm[k] = made(n, what[k]))) st = nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "bn");
  const char *X = m->values[n->in[0]].name, *S = sc->name, *B = m->values[n->in[2]].name,
             *Y = m->values[n->out[0]].name;
  int64_t s3[3] = {0, 0, -1}, sc2[2] = {sc->constant.shape.dims[0], 1}, axes[2] = {0, 2};
  float e = b->epsilon;
  nncl_array ea = {.dtype = NNCL_FLOAT32, .shape = {.rank = 0}, .data = &e};
  nncl_array a3 = {.dtype = NNCL_INT64, .shape = {.rank = 1, .dims = {3}}, .data = s3};
  nncl_array a2 = {.dtype = NNCL_INT64, .shape = {.rank = 1, .dims = {2}}, .data = sc2};
  nncl_node *node;
  if (st == NNCL_OK) st = nncl_graph_add_constant(g, nm[EPS], &ea);
  if (st == NNCL_OK) st = nncl_graph_add_constant(g, nm[S3], &a3);
  if (st == NNCL_OK) st = nncl_graph_add_constant(g, nm[SC2], &a2);
  if (st == NNCL_OK) st = emit(g, "Reshape", nm[X3], 2, (const char *[]){X, nm[S3]}, nm[X3], NULL);
  /* batch mean, x - mean, biased variance */
  if (st == NNCL_OK)
    st = emit(g, "ReduceMean", b->batch_mean, 1, (const char *[]){nm[X3]}, b->batch_mean, &node);
  if (st == NNCL_OK) st = nncl_node_set_ints(g, node, "axes", axes, 2);
  if (st == NNCL_OK)
    st = emit(g, "Sub", nm[DIFF], 2, (const char *[]){nm[X3], b->batch_mean}, nm[DIFF], NULL);
  if (st == NNCL_OK)
    st = emit(g, "Mul", nm[SQ], 2, (const char *[]){nm[DIFF], nm[DIFF]}, nm[SQ], NULL);
  if (st == NNCL_OK)
    st = emit(g, "ReduceMean", b->batch_var, 1, (const char *[]){nm[SQ]}, b->batch_var, &node);
  if (st == NNCL_OK) st = nncl_node_set_ints(g, node, "axes", axes, 2);
  /* (x - mean) / sqrt(var + eps) * scale + bias, back in X's shape */
  if (st == NNCL_OK)
    st = emit(g, "Add", nm[VEPS], 2, (const char *[]){b->batch_var, nm[EPS]}, nm[VEPS], NULL);
  if (st == NNCL_OK) st = emit(g, "Sqrt", nm[SD], 1, (const char *[]){nm[VEPS]}, nm[SD], NULL);
  if (st == NNCL_OK)
    st = emit(g, "Reciprocal", nm[INV], 1, (const char *[]){nm[SD]}, nm[INV], NULL);
  if (st == NNCL_OK)
    st = emit(g, "Mul", nm[XHAT], 2, (const char *[]){nm[DIFF], nm[INV]}, nm[XHAT], NULL);
  if (st == NNCL_OK)
    st = emit(g, "Reshape", nm[SCALE], 2, (const char *[]){S, nm[SC2]}, nm[SCALE], NULL);
  if (st == NNCL_OK)
    st = emit(g, "Reshape", nm[BIAS], 2, (const char *[]){B, nm[SC2]}, nm[BIAS], NULL);
  if (st == NNCL_OK)
    st = emit(g, "Mul", nm[SCALED], 2, (const char *[]){nm[XHAT], nm[SCALE]}, nm[SCALED], NULL);
  if (st == NNCL_OK)
    st = emit(g, "Add", nm[Y3], 2, (const char *[]){nm[SCALED], nm[BIAS]}, nm[Y3], NULL);
  if (st == NNCL_OK) st = emit(g, "Shape", nm[XSHAPE], 1, (const char *[]){X}, nm[XSHAPE], NULL);
  if (st == NNCL_OK)
    st = emit(g, "Reshape", n->name, 2, (const char *[]){nm[Y3], nm[XSHAPE]}, Y, NULL);
  for (int k = 0; k < NM; k++) free(nm[k]);
  return st;
}

nncl_status nncl__bn_update(nncl_trainer *t) {
  for (int i = 0; i < t->n_bn; i++) {
    struct train_bn *b = &t->bn[i];
    nncl_array m, v;
    NNCL_TRY(nncl_graph_get_output_by_name(t->train, b->batch_mean, &m));
    nncl_status st = nncl_graph_get_output_by_name(t->train, b->batch_var, &v);
    if (st != NNCL_OK) {
      nncl_array_free(&m);
      return st;
    }
    /* elements per channel: the input's size over the channel count */
    int vi = graph_find_value(t->train, b->batch_mean);
    int prod = t->train->values[vi].producer;
    int xv = t->train->nodes[prod]->in[0];
    const nncl_shape *xs = &t->train->plan->v[xv].shape;
    int64_t count = nncl_shape_numel(xs) / (xs->rank > 1 ? xs->dims[1] : 1);
    double unbias = count > 1 ? (double)count / (double)(count - 1) : 1.0;
    float *rm = b->mean.data, *rv = b->var.data;
    const float *bm = m.data, *bv = v.data;
    for (int64_t c = 0; c < nncl_shape_numel(&b->mean.shape); c++) {
      rm[c] = (float)(rm[c] * (double)b->momentum + bm[c] * (1.0 - (double)b->momentum));
      rv[c] = (float)(rv[c] * (double)b->momentum + bv[c] * unbias * (1.0 - (double)b->momentum));
    }
    nncl_array_free(&m);
    nncl_array_free(&v);
  }
  t->bn_dirty = t->n_bn > 0;
  return NNCL_OK;
}

nncl_status nncl__bn_sync_eval(nncl_trainer *t) {
  for (int i = 0; i < t->n_bn; i++) {
    NNCL_TRY(nncl_graph_set_input(t->eval, t->bn[i].mean_name, &t->bn[i].mean));
    NNCL_TRY(nncl_graph_set_input(t->eval, t->bn[i].var_name, &t->bn[i].var));
  }
  t->bn_dirty = 0;
  return NNCL_OK;
}
