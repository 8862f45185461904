/* trainer.c: nncl_trainer (nncl/train.h). Two copies of the model's IR share the parameters'
   names: `train` (forward, loss, and the backward nodes autodiff appends on the first step, once
   shapes are known) and `eval` (forward and loss only). Parameters are graph inputs of both, so
   planning never folds or transforms them; their values live in the train plan's input buffers,
   which the optimizer updates in place and evaluate copies device-to-device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "optim.h"
#include "trainer_internal.h"

void nncl_trainer_options_default(nncl_trainer_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->loss = NNCL_LOSS_CROSS_ENTROPY;
  nncl_optimizer_options_default(NNCL_OPTIM_SGD, &o->optim);
}

static int frozen(const nncl_trainer_options *o, const char *name) {
  for (int i = 0; i < o->n_freeze; i++)
    if (o->freeze[i] && !strcmp(o->freeze[i], name)) return 1;
  return 0;
}

/* Dropout's ratio: a float initializer that is a setting, not a weight. */
static int dropout_ratio(const nncl_graph *m, int v) {
  for (int i = 0; i < m->n_nodes; i++)
    if (!strcmp(m->nodes[i]->op_type, "Dropout") && m->nodes[i]->n_in >= 2 &&
        m->nodes[i]->in[1] == v)
      return 1;
  return 0;
}

/* v is read by a node or is a graph output. */
static int read_anywhere(const nncl_graph *m, int v) {
  for (int i = 0; i < m->n_outputs; i++)
    if (m->outputs[i] == v) return 1;
  for (int i = 0; i < m->n_nodes; i++)
    for (int k = 0; k < m->nodes[i]->n_in; k++)
      if (m->nodes[i]->in[k] == v) return 1;
  return 0;
}

static int used(const nncl_graph *m, int v) {
  for (int i = 0; i < m->n_nodes; i++)
    for (int k = 0; k < m->nodes[i]->n_in; k++)
      if (m->nodes[i]->in[k] == v) return 1;
  return 0;
}

/* Dropout in training mode: nncl.DropoutTrain(X, step) with the ratio of the model's node. */
static nncl_status dropout_training(nncl_trainer *t, nncl_graph *g, const nncl_graph *m,
                                    const struct nncl_node *n) {
  float ratio = 0.5f;
  for (int a = 0; a < n->n_attrs; a++)
    if (!strcmp(n->attrs[a].name, "ratio")) ratio = n->attrs[a].f;
  if (n->n_in > 1 && n->in[1] >= 0) {
    const nncl_array *r = &m->values[n->in[1]].constant;
    if (!r->data || r->dtype != NNCL_FLOAT32)
      return nncl__error(t->ctx, NNCL_ERR_UNSUPPORTED,
                         "trainer: Dropout node '%s' needs a constant float ratio", n->name);
    ratio = *(const float *)r->data;
  }
  if (n->n_out > 1 && n->out[1] >= 0)
    return nncl__error(t->ctx, NNCL_ERR_UNSUPPORTED, "trainer: Dropout node '%s' has a mask output",
                       n->name);
  if (!t->has_dropout) {
    nncl_shape s = {.rank = 1, .dims = {1}};
    NNCL_TRY(nncl_graph_add_input(g, TRAIN_STEP, NNCL_INT64, &s));
    t->has_dropout = 1;
  }
  size_t len = strlen(n->name) + 16;
  char *scale = malloc(len);
  if (!scale) return nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "trainer");
  snprintf(scale, len, "%s/scale", n->name);
  const char *in[] = {m->values[n->in[0]].name, TRAIN_STEP},
             *out[] = {m->values[n->out[0]].name, scale};
  nncl_node *d;
  nncl_status st = nncl_graph_add_node(g, "nncl.DropoutTrain", n->name, 2, in, 2, out, &d);
  if (st == NNCL_OK) st = nncl_node_set_float(g, d, "ratio", ratio);
  if (st == NNCL_OK) st = nncl_node_set_int(g, d, "seed", t->seed);
  free(scale);
  return st;
}

/* Forward copy of the model with parameters as inputs, the target input and the loss. */
static nncl_status make_graph(nncl_trainer *t, const nncl_graph *m, int training,
                              nncl_graph **out) {
  nncl_graph *g;
  NNCL_TRY(nncl_graph_create(t->ctx, &g));
  nncl_graph_set_opset(g, m->opset);
  const struct gvalue *x = &m->values[m->inputs[0]], *y = &m->values[m->outputs[0]];
  nncl_status st = nncl_graph_add_input(g, x->name, x->dtype, &x->shape);
  nncl_shape ts = {.rank = 1, .dims = {-1}};
  if (t->loss == NNCL_LOSS_MSE) {
    ts = y->shape;
    for (int d = 0; d < ts.rank; d++) ts.dims[d] = -1;
  }
  if (st == NNCL_OK)
    st = nncl_graph_add_input(g, TRAIN_TARGET, t->loss == NNCL_LOSS_MSE ? NNCL_FLOAT32 : NNCL_INT64,
                              &ts);
  for (int v = 0; v < m->n_values && st == NNCL_OK; v++) {
    const struct gvalue *c = &m->values[v];
    if (!c->constant.data) continue;
    int p = -1;
    for (int i = 0; i < t->n_params && p < 0; i++)
      if (!strcmp(t->param[i], c->name)) p = i;
    /* parameters, and in eval the BatchNorm running statistics, are inputs the trainer sets */
    st = p >= 0 || (!training && nncl__bn_is_stat(m, v))
             ? nncl_graph_add_input(g, c->name, NNCL_FLOAT32, &c->constant.shape)
             : nncl_graph_add_constant(g, c->name, &c->constant);
  }
  for (int i = 0; i < m->n_nodes && st == NNCL_OK; i++) {
    const struct nncl_node *n = m->nodes[i];
    const char *in[16 + 1], *outs[8 + 1];
    if (n->n_in > 16 || n->n_out > 8) {
      st = nncl__error(t->ctx, NNCL_ERR_UNSUPPORTED, "trainer: node '%s' has too many inputs",
                       n->name);
      break;
    }
    int n_out = n->n_out;
    if (!strcmp(n->op_type, "BatchNormalization")) {
      /* exports in training mode add running/saved statistics outputs: fine while unread */
      for (int k = 1; k < n->n_out; k++)
        if (n->out[k] >= 0 && read_anywhere(m, n->out[k]))
          st = nncl__error(t->ctx, NNCL_ERR_UNSUPPORTED,
                           "trainer: BatchNormalization node '%s' has its statistics outputs read",
                           n->name);
      if (st != NNCL_OK) break;
      n_out = 1;
      if (training) {
        st = nncl__bn_emit_training(t, g, m, n);
        continue;
      }
    }
    if (training && !strcmp(n->op_type, "Dropout")) {
      st = dropout_training(t, g, m, n);
      continue;
    }
    for (int k = 0; k < n->n_in; k++) in[k] = n->in[k] >= 0 ? m->values[n->in[k]].name : "";
    for (int k = 0; k < n->n_out; k++) outs[k] = n->out[k] >= 0 ? m->values[n->out[k]].name : "";
    nncl_node *c;
    st = nncl_graph_add_node(g, n->op_type, n->name, n->n_in, in, n_out, outs, &c);
    for (int a = 0; a < n->n_attrs && st == NNCL_OK; a++)
      st = nncl__node_set_attr(g, c, &n->attrs[a]);
  }
  if (st == NNCL_OK && t->loss == NNCL_LOSS_CROSS_ENTROPY) {
    const char *in[] = {y->name, TRAIN_TARGET}, *o[] = {TRAIN_LOSS, "nncl.train.log_prob"};
    st = nncl_graph_add_node(g, "SoftmaxCrossEntropyLoss", "nncl.train.loss", 2, in, 2, o, NULL);
  } else if (st == NNCL_OK) {
    /* nn.MSELoss: mean over every element of (prediction - target)^2 */
    const char *in[] = {y->name, TRAIN_TARGET}, *d = "nncl.train.diff", *sq = "nncl.train.sq";
    const char *dd[] = {d, d}, *l = TRAIN_LOSS;
    nncl_node *r;
    st = nncl_graph_add_node(g, "Sub", "nncl.train.diff", 2, in, 1, &d, NULL);
    if (st == NNCL_OK) st = nncl_graph_add_node(g, "Mul", "nncl.train.sq", 2, dd, 1, &sq, NULL);
    if (st == NNCL_OK)
      st = nncl_graph_add_node(g, "ReduceMean", "nncl.train.loss", 1, &sq, 1, &l, &r);
    if (st == NNCL_OK) st = nncl_node_set_int(g, r, "keepdims", 0);
  }
  if (st == NNCL_OK) st = nncl_graph_add_output(g, TRAIN_LOSS);
  if (st == NNCL_OK) st = nncl_graph_add_output(g, y->name);
  for (int i = 0; training && i < t->n_bn && st == NNCL_OK; i++) {
    st = nncl_graph_add_output(g, t->bn[i].batch_mean);
    if (st == NNCL_OK) st = nncl_graph_add_output(g, t->bn[i].batch_var);
  }
  if (st != NNCL_OK) {
    nncl_graph_destroy(g);
    return st;
  }
  *out = g;
  return NNCL_OK;
}

void nncl_trainer_destroy(nncl_trainer *t) {
  if (!t) return;
  for (int i = 0; i < t->n_params; i++) {
    free(t->param[i]);
    if (t->grad) free(t->grad[i]);
    if (t->init) nncl_array_free(&t->init[i]);
  }
  free(t->param);
  free(t->grad);
  free(t->init);
  free(t->kind);
  free(t->fan_in);
  nncl_graph_destroy(t->train);
  nncl_graph_destroy(t->eval);
  nncl__bn_free(t);
  nncl__optim_destroy(t->opt);
  free(t);
}

/* What each parameter is for Kaiming initialisation: a Conv/Gemm/MatMul weight or bias, or an
   RNN/LSTM/GRU W, R or B, which PyTorch's recurrent layers draw from U(-1/sqrt(hidden),
   1/sqrt(hidden)): fan_in = hidden gives that bound. */
static void classify(nncl_trainer *t, const nncl_graph *m, int i, int v) {
  for (int k = 0; k < m->n_nodes; k++) {
    const struct nncl_node *n = m->nodes[k];
    if ((!strcmp(n->op_type, "RNN") || !strcmp(n->op_type, "LSTM") || !strcmp(n->op_type, "GRU")) &&
        n->n_in > 2 && n->in[2] >= 0 && m->values[n->in[2]].constant.shape.rank == 3)
      for (int s = 1; s <= 3 && s < n->n_in; s++)
        if (n->in[s] == v) {
          t->kind[i] = 1;
          t->fan_in[i] = m->values[n->in[2]].constant.shape.dims[2];
          return;
        }
    int conv = !strcmp(n->op_type, "Conv"), gemm = !strcmp(n->op_type, "Gemm"),
        mm = !strcmp(n->op_type, "MatMul");
    if (!conv && !gemm && !mm) continue;
    if (n->n_in < 2 || n->in[1] < 0) continue;
    const nncl_shape *w = &m->values[n->in[1]].constant.shape;
    if (!m->values[n->in[1]].constant.data) continue;
    int64_t fan = 1;
    if (conv) {
      for (int d = 1; d < w->rank; d++) fan *= w->dims[d];
    } else if (w->rank == 2) {
      int tb = 0;
      for (int a = 0; gemm && a < n->n_attrs; a++)
        if (!strcmp(n->attrs[a].name, "transB")) tb = (int)n->attrs[a].i;
      fan = tb ? w->dims[1] : w->dims[0];
    }
    if (n->in[1] == v)
      t->kind[i] = 1;
    else if (n->n_in > 2 && n->in[2] == v)
      t->kind[i] = 2;
    else
      continue;
    t->fan_in[i] = fan;
    return;
  }
}

nncl_status nncl_trainer_create(nncl_graph *model, const nncl_trainer_options *o,
                                nncl_trainer **out) {
  if (!model || !out) return NNCL_ERR_INVALID_ARGUMENT;
  *out = NULL;
  nncl_trainer_options def;
  if (!o) {
    nncl_trainer_options_default(&def);
    o = &def;
  }
  nncl_context *ctx = model->ctx;
  if (model->n_inputs != 1 || model->n_outputs < 1)
    return nncl__error(ctx, NNCL_ERR_UNSUPPORTED,
                       "trainer: the model needs one input and at least one output (has %d and %d)",
                       model->n_inputs, model->n_outputs);
  if (o->loss != NNCL_LOSS_CROSS_ENTROPY && o->loss != NNCL_LOSS_MSE)
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "trainer: unknown loss %d", (int)o->loss);
  if (o->batch_axis < 0 || o->batch_axis >= NNCL_MAX_RANK)
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "trainer: batch axis %d is out of range",
                       o->batch_axis);
  for (int f = 0; f < o->n_freeze; f++) {
    int v = o->freeze[f] ? graph_find_value(model, o->freeze[f]) : -1;
    if (v < 0 || !model->values[v].constant.data)
      return nncl__error(ctx, NNCL_ERR_NOT_FOUND, "trainer: '%s' (to freeze) is no initializer",
                         o->freeze[f] ? o->freeze[f] : "(null)");
  }
  nncl_trainer *t = calloc(1, sizeof *t);
  if (!t) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "trainer");
  t->ctx = ctx;
  t->loss = o->loss;
  t->optim = o->optim;
  t->lr = o->optim.lr;
  t->clip_norm = o->clip_norm;
  t->seed = o->seed;
  t->batch_axis = o->batch_axis;
  int cap = model->n_values + 1;
  t->param = calloc((size_t)cap, sizeof *t->param);
  t->init = calloc((size_t)cap, sizeof *t->init);
  t->kind = calloc((size_t)cap, sizeof *t->kind);
  t->fan_in = calloc((size_t)cap, sizeof *t->fan_in);
  nncl_status st = t->param && t->init && t->kind && t->fan_in
                       ? NNCL_OK
                       : nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "trainer");
  for (int v = 0; v < model->n_values && st == NNCL_OK; v++) {
    const struct gvalue *c = &model->values[v];
    if (!c->constant.data || c->constant.dtype != NNCL_FLOAT32 || c->from_constant_node ||
        frozen(o, c->name) || !used(model, v) || nncl__bn_is_stat(model, v) ||
        dropout_ratio(model, v))
      continue;
    int i = t->n_params;
    t->param[i] = strdup(c->name);
    if (!t->param[i] || nncl_array_alloc(&t->init[i], NNCL_FLOAT32, &c->constant.shape) != NNCL_OK)
      st = nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "trainer parameters");
    else
      memcpy(t->init[i].data, c->constant.data, nncl_array_bytes(&c->constant));
    t->n_params++;
    classify(t, model, i, v);
  }
  if (st == NNCL_OK && !t->n_params)
    st = nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT,
                     "trainer: the model has no trainable tensor (no float initializer%s)",
                     o->n_freeze ? " left after freezing" : "");
  if (st == NNCL_OK) {
    int64_t *numel = malloc(sizeof *numel * (size_t)t->n_params);
    if (!numel) st = nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "trainer");
    for (int i = 0; numel && i < t->n_params; i++) numel[i] = nncl_shape_numel(&t->init[i].shape);
    if (st == NNCL_OK) st = nncl__optim_create(ctx, &o->optim, t->n_params, numel, &t->opt);
    free(numel);
  }
  if (st == NNCL_OK) st = nncl__bn_register(t, model);
  if (st == NNCL_OK) st = make_graph(t, model, 1, &t->train);
  if (st == NNCL_OK) st = make_graph(t, model, 0, &t->eval);
  if (st == NNCL_OK) st = nncl__bn_sync_eval(t);
  for (int i = 0; i < t->n_params && st == NNCL_OK; i++) {
    st = nncl_graph_set_input(t->train, t->param[i], &t->init[i]);
    if (st == NNCL_OK) st = nncl_graph_set_input(t->eval, t->param[i], &t->init[i]);
  }
  if (st != NNCL_OK) {
    nncl_trainer_destroy(t);
    return st;
  }
  *out = t;
  return NNCL_OK;
}

int nncl_trainer_num_params(const nncl_trainer *t) { return t ? t->n_params : 0; }
const char *nncl_trainer_param_name(const nncl_trainer *t, int i) {
  return t && i >= 0 && i < t->n_params ? t->param[i] : NULL;
}
void nncl_trainer_set_lr(nncl_trainer *t, float lr) {
  if (t) t->lr = lr;
}
int64_t nncl_trainer_steps(const nncl_trainer *t) { return t ? nncl__optim_steps(t->opt) : 0; }

/* Device buffer of graph input `name` in g's current plan. */
static nncl_status input_mem(nncl_graph *g, const char *name, cl_mem *out) {
  NNCL_TRY(nncl_graph_plan(g));
  for (int k = 0; k < g->n_inputs; k++)
    if (!strcmp(g->values[g->inputs[k]].name, name) && g->plan->input_storage[k] >= 0) {
      *out = g->plan->st[g->plan->input_storage[k]].mem;
      return NNCL_OK;
    }
  return nncl__error(g->ctx, NNCL_ERR_STATE, "trainer: input '%s' has no buffer", name);
}

void nncl__trainer_set_grad_hook(nncl_trainer *t, const struct nncl__grad_hook *h) {
  if (t) t->hook = h ? *h : (struct nncl__grad_hook){0};
}

nncl_status nncl__trainer_param_mem(nncl_trainer *t, int i, cl_mem *out) {
  return input_mem(t->train, t->param[i], out);
}

nncl_status nncl_trainer_get_param(nncl_trainer *t, int i, nncl_array *out) {
  if (!t || !out || i < 0 || i >= t->n_params) return NNCL_ERR_INVALID_ARGUMENT;
  memset(out, 0, sizeof *out);
  if (nncl_array_alloc(out, NNCL_FLOAT32, &t->init[i].shape) != NNCL_OK)
    return nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "parameter '%s'", t->param[i]);
  nncl_status st = NNCL_OK;
  if (!t->built) {
    memcpy(out->data, t->init[i].data, nncl_array_bytes(out));
  } else {
    cl_mem m;
    st = nncl__trainer_param_mem(t, i, &m);
    if (st == NNCL_OK) st = nncl__buffer_download(t->ctx, m, 0, out->data, nncl_array_bytes(out));
  }
  if (st != NNCL_OK) nncl_array_free(out);
  return st;
}

nncl_status nncl_trainer_set_param(nncl_trainer *t, int i, const nncl_array *v) {
  if (!t || !v || i < 0 || i >= t->n_params) return NNCL_ERR_INVALID_ARGUMENT;
  char a[128], b[128];
  if (v->dtype != NNCL_FLOAT32 || memcmp(&v->shape, &t->init[i].shape, sizeof v->shape) != 0)
    return nncl__error(t->ctx, NNCL_ERR_SHAPE, "parameter '%s' is float32 %s, got %s %s",
                       t->param[i], nncl_shape_format(&t->init[i].shape, a, sizeof a),
                       nncl_dtype_name(v->dtype), nncl_shape_format(&v->shape, b, sizeof b));
  memcpy(t->init[i].data, v->data, nncl_array_bytes(v));
  if (!t->built) {
    NNCL_TRY(nncl_graph_set_input(t->train, t->param[i], v));
    return nncl_graph_set_input(t->eval, t->param[i], v);
  }
  cl_mem m;
  NNCL_TRY(nncl__trainer_param_mem(t, i, &m));
  return nncl__buffer_upload(t->ctx, m, 0, v->data, nncl_array_bytes(v));
}

/* splitmix64: a reproducible stream from the seed */
static double uniform01(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (double)(z >> 11) / 9007199254740992.0;
}

nncl_status nncl_trainer_init_kaiming(nncl_trainer *t, uint64_t seed) {
  if (!t) return NNCL_ERR_INVALID_ARGUMENT;
  uint64_t s = seed;
  for (int i = 0; i < t->n_params; i++) {
    if (!t->kind[i] || t->fan_in[i] <= 0) continue;
    nncl_array a;
    if (nncl_array_alloc(&a, NNCL_FLOAT32, &t->init[i].shape) != NNCL_OK)
      return nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "initialisation");
    /* kaiming_uniform_(a=sqrt(5)) and the bias rule of nn.Conv2d / nn.Linear: both give
       U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
    double bound = 1.0 / sqrt((double)t->fan_in[i]);
    float *d = a.data;
    for (int64_t k = 0; k < nncl_shape_numel(&a.shape); k++)
      d[k] = (float)((2.0 * uniform01(&s) - 1.0) * bound);
    nncl_status st = nncl_trainer_set_param(t, i, &a);
    nncl_array_free(&a);
    NNCL_TRY(st);
  }
  return NNCL_OK;
}

/* Label k of int64 or int32 labels y. */
static int64_t label_at(const nncl_array *y, int64_t k) {
  return y->dtype == NNCL_INT32 ? ((const int32_t *)y->data)[k] : ((const int64_t *)y->data)[k];
}

/* Sets the targets: int32 labels are widened on the host to the graph's int64 input (a batch of
   labels is small; the loss ops read either, but one input dtype keeps one plan). */
static nncl_status set_targets(nncl_trainer *t, nncl_graph *g, const nncl_array *y) {
  if (y->dtype != NNCL_INT32) return nncl_graph_set_input(g, TRAIN_TARGET, y);
  nncl_array w;
  if (nncl_array_alloc(&w, NNCL_INT64, &y->shape) != NNCL_OK)
    return nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "trainer: labels");
  for (int64_t k = 0; k < nncl_shape_numel(&y->shape); k++) ((int64_t *)w.data)[k] = label_at(y, k);
  nncl_status st = nncl_graph_set_input(g, TRAIN_TARGET, &w);
  nncl_array_free(&w);
  return st;
}

/* Sets x and y on g, plans, and checks the targets against the output. */
static nncl_status set_batch(nncl_trainer *t, nncl_graph *g, const nncl_array *x,
                             const nncl_array *y) {
  char a[128], b[128];
  if (!x || !y) return nncl__error(t->ctx, NNCL_ERR_INVALID_ARGUMENT, "trainer: no batch");
  /* integer inputs are token ids (an Embedding's Gather) */
  const int x_ok = x->dtype == NNCL_FLOAT32 || x->dtype == NNCL_INT64 || x->dtype == NNCL_INT32;
  const int ax = t->batch_axis;
  if (!x_ok || x->shape.rank <= ax || y->shape.rank < 1 || y->shape.dims[0] != x->shape.dims[ax])
    return nncl__error(t->ctx, NNCL_ERR_SHAPE,
                       "trainer: inputs %s %s (batch axis %d) and targets %s do not have one "
                       "batch size",
                       nncl_dtype_name(x->dtype), nncl_shape_format(&x->shape, a, sizeof a), ax,
                       nncl_shape_format(&y->shape, b, sizeof b));
  if (t->loss == NNCL_LOSS_CROSS_ENTROPY &&
      ((y->dtype != NNCL_INT64 && y->dtype != NNCL_INT32) || y->shape.rank != 1))
    return nncl__error(t->ctx, NNCL_ERR_SHAPE,
                       "trainer: cross-entropy needs int64 or int32 labels [N], got %s %s",
                       nncl_dtype_name(y->dtype), nncl_shape_format(&y->shape, b, sizeof b));
  if (t->loss == NNCL_LOSS_MSE && y->dtype != NNCL_FLOAT32)
    return nncl__error(t->ctx, NNCL_ERR_DTYPE, "trainer: MSE needs float32 targets, got %s",
                       nncl_dtype_name(y->dtype));
  NNCL_TRY(nncl_graph_set_input(g, g->values[g->inputs[0]].name, x));
  NNCL_TRY(set_targets(t, g, y));
  NNCL_TRY(nncl_graph_plan(g));
  nncl_shape os;
  NNCL_TRY(nncl_graph_output_info(g, 1, NULL, &os));
  if (t->loss == NNCL_LOSS_CROSS_ENTROPY) {
    if (os.rank != 2 || os.dims[0] != x->shape.dims[ax])
      return nncl__error(t->ctx, NNCL_ERR_SHAPE,
                         "trainer: cross-entropy needs logits [N, C] with N = %lld, the model "
                         "gives %s",
                         (long long)x->shape.dims[ax], nncl_shape_format(&os, a, sizeof a));
    for (int64_t k = 0; k < y->shape.dims[0]; k++)
      if (label_at(y, k) < 0 || label_at(y, k) >= os.dims[1])
        return nncl__error(t->ctx, NNCL_ERR_INVALID_ARGUMENT,
                           "trainer: label %lld of sample %lld is outside [0, %lld)",
                           (long long)label_at(y, k), (long long)k, (long long)os.dims[1]);
  } else if (memcmp(&os, &y->shape, sizeof os) != 0) {
    return nncl__error(t->ctx, NNCL_ERR_SHAPE, "trainer: targets %s do not match the output %s",
                       nncl_shape_format(&y->shape, b, sizeof b),
                       nncl_shape_format(&os, a, sizeof a));
  }
  return NNCL_OK;
}

static nncl_status read_loss(nncl_trainer *t, nncl_graph *g, float *loss) {
  nncl_array l;
  NNCL_TRY(nncl_graph_get_output(g, 0, &l));
  float v = ((float *)l.data)[0];
  nncl_array_free(&l);
  if (loss) *loss = v;
  if (isnan(v) || isinf(v))
    return nncl__error(t->ctx, NNCL_ERR_STATE,
                       "trainer: the loss is %s after %lld steps (diverged: lower the learning "
                       "rate?); parameters were not updated",
                       isnan(v) ? "NaN" : "infinite", (long long)nncl__optim_steps(t->opt));
  return NNCL_OK;
}

/* Samples of the batch whose arg-max logit (g's output 1) is the label; 0 for MSE. */
static nncl_status count_correct(nncl_trainer *t, nncl_graph *g, const nncl_array *y,
                                 int64_t *correct) {
  *correct = 0;
  if (t->loss != NNCL_LOSS_CROSS_ENTROPY) return NNCL_OK;
  nncl_array o;
  NNCL_TRY(nncl_graph_get_output(g, 1, &o));
  int64_t n = o.shape.dims[0], c = o.shape.dims[1];
  const float *z = o.data;
  for (int64_t i = 0; i < n; i++) {
    int64_t best = 0;
    for (int64_t k = 1; k < c; k++)
      if (z[i * c + k] > z[i * c + best]) best = k;
    *correct += best == label_at(y, i);
  }
  nncl_array_free(&o);
  return NNCL_OK;
}

/* First step: autodiff appends the backward pass now that shapes are known. */
static nncl_status build(nncl_trainer *t) {
  /* after a failed attempt the array is still there (autodiff leaves its entries NULL) */
  if (!t->grad) t->grad = calloc((size_t)t->n_params, sizeof *t->grad);
  if (!t->grad) return nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "trainer");
  for (int i = 0; i < t->n_params; i++) {
    free(t->grad[i]);
    t->grad[i] = NULL;
  }
  NNCL_TRY(
      nncl__autodiff(t->train, TRAIN_LOSS, t->n_params, (const char *const *)t->param, t->grad));
  for (int i = 0; i < t->n_params; i++) NNCL_TRY(nncl_graph_add_output(t->train, t->grad[i]));
  t->built = 1;
  return NNCL_OK;
}

nncl_status nncl_trainer_step(nncl_trainer *t, const nncl_array *x, const nncl_array *y,
                              float *loss) {
  if (!t) return NNCL_ERR_INVALID_ARGUMENT;
  if (t->has_dropout) {
    int64_t step = nncl__optim_steps(t->opt);
    nncl_array s = {.dtype = NNCL_INT64, .shape = {.rank = 1, .dims = {1}}, .data = &step};
    NNCL_TRY(nncl_graph_set_input(t->train, TRAIN_STEP, &s));
  }
  NNCL_TRY(set_batch(t, t->train, x, y));
  if (!t->built) NNCL_TRY(build(t));
  if (t->hook.begin) NNCL_TRY(t->hook.begin(t->hook.user, t));
  NNCL_TRY(nncl__graph_run_observed(t->train, t->hook.enqueued, t->hook.user));
  NNCL_TRY(read_loss(t, t->train, loss));
  NNCL_TRY(count_correct(t, t->train, y, &t->last_correct));
  cl_mem *pm = malloc(sizeof *pm * 2 * (size_t)t->n_params);
  if (!pm) return nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "trainer");
  cl_mem *gm = pm + t->n_params;
  struct plan *p = t->train->plan;
  nncl_status st = NNCL_OK;
  for (int i = 0; i < t->n_params && st == NNCL_OK; i++) {
    st = nncl__trainer_param_mem(t, i, &pm[i]);
    const struct pvalue *v = &p->v[graph_find_value(t->train, t->grad[i])];
    if (st == NNCL_OK && v->storage < 0)
      st = nncl__error(t->ctx, NNCL_ERR_STATE, "trainer: the gradient of '%s' has no buffer",
                       t->param[i]);
    if (st == NNCL_OK) gm[i] = p->st[v->storage].mem;
  }
  if (st == NNCL_OK && t->hook.ready) st = t->hook.ready(t->hook.user, t, gm);
  float gscale = 1.0f;
  if (st == NNCL_OK && t->clip_norm > 0.0f) {
    /* torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when below 1 */
    st = nncl__optim_grad_norm(t->opt, gm, &t->last_norm);
    double coef = (double)t->clip_norm / (t->last_norm + 1e-6);
    if (coef < 1.0) gscale = (float)coef;
  }
  if (st == NNCL_OK) st = nncl__optim_step(t->opt, pm, gm, t->lr, gscale);
  if (st == NNCL_OK) st = nncl__bn_update(t);
  if (st == NNCL_OK) st = nncl_context_finish(t->ctx);
  free(pm);
  return st;
}

nncl_status nncl_trainer_evaluate(nncl_trainer *t, const nncl_array *x, const nncl_array *y,
                                  float *loss, int64_t *correct) {
  if (!t) return NNCL_ERR_INVALID_ARGUMENT;
  if (t->bn_dirty) NNCL_TRY(nncl__bn_sync_eval(t));
  NNCL_TRY(set_batch(t, t->eval, x, y));
  for (int i = 0; t->built && i < t->n_params; i++) {
    cl_mem from, to;
    NNCL_TRY(nncl__trainer_param_mem(t, i, &from));
    NNCL_TRY(input_mem(t->eval, t->param[i], &to));
    NNCL_TRY(nncl__buffer_copy(t->ctx, from, 0, to, 0, nncl_array_bytes(&t->init[i])));
  }
  NNCL_TRY(nncl_graph_run(t->eval));
  float l;
  nncl_status st = read_loss(t, t->eval, &l);
  if (loss) *loss = l;
  if (st != NNCL_OK && st != NNCL_ERR_STATE) return st;
  if (correct) NNCL_TRY(count_correct(t, t->eval, y, correct));
  return st;
}

nncl_status nncl_trainer_memory_use(nncl_trainer *t, nncl_trainer_memory *out) {
  if (!t || !out) return NNCL_ERR_INVALID_ARGUMENT;
  memset(out, 0, sizeof *out);
  for (int i = 0; i < t->n_params; i++) out->param_bytes += nncl_array_bytes(&t->init[i]);
  out->optimizer_bytes = (uint64_t)nncl__optim_state_count(t->opt) * out->param_bytes;
  if (!t->built) return NNCL_OK;
  nncl_graph_summary s;
  NNCL_TRY(nncl_graph_summarize(t->train, &s));
  out->arena_bytes = s.arena_bytes;
  out->workspace_bytes = s.workspace_bytes;
  return NNCL_OK;
}

nncl_status nncl_trainer_profile(nncl_trainer *t, int runs, nncl_profile *out) {
  if (!t || !out) return NNCL_ERR_INVALID_ARGUMENT;
  if (!t->built) return nncl__error(t->ctx, NNCL_ERR_STATE, "trainer: profile needs a step first");
  return nncl_graph_profile(t->train, runs, 0, out);
}

int64_t nncl_trainer_last_correct(const nncl_trainer *t) { return t ? t->last_correct : 0; }
double nncl_trainer_last_grad_norm(const nncl_trainer *t) { return t ? t->last_norm : 0.0; }
