/* op_loss_grad.c: nncl.SoftmaxCrossEntropyGrad (dL, log_prob, target) -> dX, the logits'
   gradient of SoftmaxCrossEntropyLoss without class weights (kernels/loss_grad.cl); attributes
   reduction and ignore_index as the forward's; nncl.nll = 1 makes it NegativeLogLikelihoodLoss's
   gradient (input 1 is then the NLL input, whose values are not read). Emitted by grad_loss.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_train.h"

struct lg_state {
  cl_kernel count, grad;
  cl_uint n, C, D, npos;
  cl_long ii;
  cl_int red;
  cl_int nll; /* attribute nncl.nll: NegativeLogLikelihoodLoss's gradient */
};

static nncl_status parse(const struct op_call *c, struct lg_state *s) {
  const nncl_shape *x = &c->in[1].shape, *t = &c->in[2].shape;
  char a[128], b[128];
  if (c->in[0].dtype != NNCL_FLOAT32 || c->in[1].dtype != NNCL_FLOAT32 ||
      (c->in[2].dtype != NNCL_INT64 && c->in[2].dtype != NNCL_INT32))
    return op_error(c, NNCL_ERR_DTYPE, "needs float32 dL and log_prob, int32/int64 target");
  int ok = x->rank >= 2 && t->rank == x->rank - 1 && t->dims[0] == x->dims[0];
  for (int i = 2; ok && i < x->rank; i++) ok = t->dims[i - 1] == x->dims[i];
  if (!ok)
    return op_error(c, NNCL_ERR_SHAPE, "target %s does not match log_prob %s", OP_SHAPE_STR(t, a),
                    OP_SHAPE_STR(x, b));
  NNCL_TRY(op_train_int32(c, x));
  const char *r = op_attr_str(c, "reduction", "mean");
  s->red = !strcmp(r, "none") ? 0 : !strcmp(r, "sum") ? 1 : !strcmp(r, "mean") ? 2 : -1;
  if (s->red < 0)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "reduction '%s' is not none, sum or mean", r);
  int64_t want = s->red ? 1 : nncl_shape_numel(t);
  if (nncl_shape_numel(&c->in[0].shape) != want)
    return op_error(c, NNCL_ERR_SHAPE, "dL %s does not match reduction '%s'",
                    OP_SHAPE_STR(&c->in[0].shape, a), r);
  s->C = (cl_uint)x->dims[1];
  s->D = 1;
  for (int i = 2; i < x->rank; i++) s->D *= (cl_uint)x->dims[i];
  s->n = (cl_uint)nncl_shape_numel(x);
  s->npos = (cl_uint)nncl_shape_numel(t);
  s->ii = op_attr_int(c, "ignore_index", INT64_MIN);
  s->nll = (cl_int)op_attr_int(c, "nncl.nll", 0);
  return NNCL_OK;
}

static nncl_status infer(struct op_call *c) {
  struct lg_state s;
  NNCL_TRY(parse(c, &s));
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = c->in[1].shape;
  return NNCL_OK;
}

static nncl_status plan(struct op_call *c, size_t *ws) {
  NNCL_TRY(op_train_state(c, sizeof(struct lg_state)));
  struct lg_state *s = c->state;
  NNCL_TRY(parse(c, s));
  *ws = sizeof(float);
  const char *it = c->in[2].dtype == NNCL_INT64 ? "long" : "int";
  char name[64];
  snprintf(name, sizeof name, "loss_grad_count_%s", it);
  NNCL_TRY(nncl__kernel_get(c->ctx, "loss_grad", NULL, name, &s->count));
  snprintf(name, sizeof name, "loss_grad_sce_%s", it);
  return nncl__kernel_get(c->ctx, "loss_grad", NULL, name, &s->grad);
}

static nncl_status enqueue(struct op_call *c) {
  const struct lg_state *s = c->state;
  if (!s->n) return NNCL_OK;
  size_t one = 1, l = op_local_1d(c), g = s->n;
  NNCL_TRY(NNCL_LAUNCH(c->ctx, s->count, "loss_grad_count", 1, &one, &one, NNCL_ARG(c->in[2].mem),
                       NNCL_ARG(c->workspace), NNCL_ARG(s->npos), NNCL_ARG(s->ii)));
  return NNCL_LAUNCH(c->ctx, s->grad, "loss_grad_sce", 1, &g, &l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->in[1].mem), NNCL_ARG(c->in[2].mem), NNCL_ARG(c->workspace),
                     NNCL_ARG(c->out[0].mem), NNCL_ARG(s->n), NNCL_ARG(s->C), NNCL_ARG(s->D),
                     NNCL_ARG(s->ii), NNCL_ARG(s->red), NNCL_ARG(s->nll));
}

const struct op_def op_softmax_ce_grad = {.min_in = 3,
                                          .max_in = 3,
                                          .min_out = 1,
                                          .max_out = 1,
                                          .infer = infer,
                                          .plan = plan,
                                          .enqueue = enqueue,
                                          .release = op_release_state};
