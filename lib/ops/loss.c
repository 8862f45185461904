/* loss.c: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opsets 12-17) on
   kernels/loss.cl: reduction none/sum/mean (default mean), ignore_index, optional class weights,
   and SoftmaxCrossEntropyLoss's optional log_prob output. Inputs [N, C] or [N, C, d1..dk] float32,
   targets [N] or [N, d1..dk] int32/int64. SoftmaxCrossEntropyLoss is log_softmax over the class
   axis (into log_prob, or the workspace when log_prob is not wanted) followed by the NLL kernels.
   Reductions are deterministic (one work-group, fixed tree order; see loss.cl). These losses
   are the starting point of the training work: a backward member can reuse the same layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

struct loss_plan {
  cl_kernel lsm, nll;
  cl_uint npos, C, D;
  cl_long ii;
  cl_int has_w, mean;
  int reduce;
  size_t ls;
};

/* 0 none, 1 sum, 2 mean. */
static nncl_status reduction(const struct op_call *c, int *out) {
  const char *r = op_attr_str(c, "reduction", "mean");
  if (!strcmp(r, "none"))
    *out = 0;
  else if (!strcmp(r, "sum"))
    *out = 1;
  else if (!strcmp(r, "mean"))
    *out = 2;
  else
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "reduction '%s' is not none, sum or mean", r);
  return NNCL_OK;
}

static nncl_status loss_infer(struct op_call *c) {
  const nncl_shape *x = &c->in[0].shape, *t = &c->in[1].shape;
  char sa[128], sb[128];
  if (c->in[0].dtype != NNCL_FLOAT32)
    return op_error(c, NNCL_ERR_DTYPE, "input must be float32, not %s",
                    nncl_dtype_name(c->in[0].dtype));
  if (c->in[1].dtype != NNCL_INT64 && c->in[1].dtype != NNCL_INT32)
    return op_error(c, NNCL_ERR_DTYPE, "target must be int32 or int64, not %s",
                    nncl_dtype_name(c->in[1].dtype));
  int ok = x->rank >= 2 && t->rank == x->rank - 1 && t->dims[0] == x->dims[0];
  for (int i = 2; ok && i < x->rank; i++) ok = t->dims[i - 1] == x->dims[i];
  if (!ok)
    return op_error(c, NNCL_ERR_SHAPE,
                    "target %s does not match input %s ([N, C, d...] and [N, d...])",
                    OP_SHAPE_STR(t, sa), OP_SHAPE_STR(x, sb));
  if (op_has_input(c, 2)) {
    const nncl_shape *w = &c->in[2].shape;
    if (c->in[2].dtype != NNCL_FLOAT32 || w->rank != 1 || w->dims[0] != x->dims[1])
      return op_error(c, NNCL_ERR_SHAPE, "weight must be float32 [C] with C = %lld, got %s %s",
                      (long long)x->dims[1], nncl_dtype_name(c->in[2].dtype), OP_SHAPE_STR(w, sa));
  }
  int red;
  NNCL_TRY(reduction(c, &red));
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = red ? (nncl_shape){.rank = 0} : *t;
  if (c->n_out > 1) {
    c->out[1].dtype = NNCL_FLOAT32;
    c->out[1].shape = *x;
  }
  return NNCL_OK;
}

static nncl_status loss_plan(struct op_call *c, size_t *ws) {
  struct loss_plan *p = calloc(1, sizeof *p);
  if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "loss plan");
  c->state = p;
  const nncl_shape *x = &c->in[0].shape;
  if (nncl_shape_numel(x) >= INT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "tensors of 2^31 elements or more are not supported");
  int red;
  NNCL_TRY(reduction(c, &red));
  p->C = (cl_uint)x->dims[1];
  p->D = 1;
  for (int i = 2; i < x->rank; i++) p->D *= (cl_uint)x->dims[i];
  p->npos = (cl_uint)x->dims[0] * p->D;
  p->ii = op_attr_int(c, "ignore_index", INT64_MIN);
  p->has_w = op_has_input(c, 2);
  p->mean = red == 2;
  p->reduce = red != 0;
  size_t ls = 1, lmax = op_local_1d(c);
  while (ls * 2 <= lmax && ls * 2 <= 256) ls *= 2;
  p->ls = ls;
  const char *isuf = c->in[1].dtype == NNCL_INT64 ? "i64" : "i32";
  char name[64];
  snprintf(name, sizeof name, "loss_nll_%s_%s", red ? "reduce" : "none", isuf);
  NNCL_TRY(nncl__kernel_get(c->ctx, "loss", NULL, name, &p->nll));
  if (!strcmp(c->op_type, "SoftmaxCrossEntropyLoss")) {
    /* log_prob goes to the workspace when the output is absent (known only at enqueue). */
    *ws = (size_t)nncl_shape_numel(x) * sizeof(float);
    NNCL_TRY(nncl__kernel_get(c->ctx, "loss", NULL, "loss_log_softmax", &p->lsm));
  }
  return NNCL_OK;
}

static nncl_status loss_enqueue(struct op_call *c) {
  const struct loss_plan *p = c->state;
  cl_mem x = c->in[0].mem;
  if (p->lsm) {
    cl_mem lp = c->n_out > 1 && c->out[1].mem ? c->out[1].mem : c->workspace;
    if (p->npos) {
      size_t l = op_local_1d(c), g = p->npos;
      NNCL_TRY(NNCL_LAUNCH(c->ctx, p->lsm, c->op_type, 1, &g, &l, NNCL_ARG(x), NNCL_ARG(lp),
                           NNCL_ARG(p->npos), NNCL_ARG(p->C), NNCL_ARG(p->D)));
    }
    x = lp;
  }
  cl_mem w = p->has_w ? c->in[2].mem : x;
  if (!p->reduce) {
    if (!p->npos) return NNCL_OK;
    size_t l = op_local_1d(c), g = p->npos;
    return NNCL_LAUNCH(c->ctx, p->nll, c->op_type, 1, &g, &l, NNCL_ARG(x), NNCL_ARG(c->in[1].mem),
                       NNCL_ARG(w), NNCL_ARG(c->out[0].mem), NNCL_ARG(p->has_w), NNCL_ARG(p->npos),
                       NNCL_ARG(p->C), NNCL_ARG(p->D), NNCL_ARG(p->ii));
  }
  size_t g = p->ls;
  return NNCL_LAUNCH(c->ctx, p->nll, c->op_type, 1, &g, &p->ls, NNCL_ARG(x), NNCL_ARG(c->in[1].mem),
                     NNCL_ARG(w), NNCL_ARG(c->out[0].mem), NNCL_ARG(p->has_w), NNCL_ARG(p->npos),
                     NNCL_ARG(p->C), NNCL_ARG(p->D), NNCL_ARG(p->ii), NNCL_ARG(p->mean),
                     NNCL_LOCAL(2 * p->ls * sizeof(float)));
}

static void loss_cost(const struct op_call *c, struct op_cost *out) {
  double n = (double)nncl_shape_numel(&c->in[0].shape),
         pos = (double)nncl_shape_numel(&c->in[1].shape);
  int sce = !strcmp(c->op_type, "SoftmaxCrossEntropyLoss");
  out->flops = sce ? 4.0 * n + 2.0 * pos : 2.0 * pos;
  out->bytes = (sce ? 3.0 * n : 0.0) + pos * (4.0 + (double)nncl_dtype_size(c->in[1].dtype)) * 2.0;
}

const struct op_def op_nll_loss = {.min_in = 2,
                                   .max_in = 3,
                                   .min_out = 1,
                                   .max_out = 1,
                                   .infer = loss_infer,
                                   .plan = loss_plan,
                                   .enqueue = loss_enqueue,
                                   .release = op_release_state,
                                   .cost = loss_cost,
                                   .backward = nncl__grad_softmax_ce_loss};
const struct op_def op_softmax_cross_entropy_loss = {.min_in = 2,
                                                     .max_in = 3,
                                                     .min_out = 1,
                                                     .max_out = 2,
                                                     .infer = loss_infer,
                                                     .plan = loss_plan,
                                                     .enqueue = loss_enqueue,
                                                     .release = op_release_state,
                                                     .cost = loss_cost,
                                                     .backward = nncl__grad_softmax_ce_loss};
