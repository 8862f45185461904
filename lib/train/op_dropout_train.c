/* op_dropout_train.c: nncl.DropoutTrain (X, step) -> (Y, scale): Dropout in training mode
   (kernels/train_dropout.cl). step is an int64 [1] tensor the trainer sets before each step, so a
   new mask is drawn per step without re-planning; attributes ratio (default 0.5) and seed.
   Its backward rule is dX = dY * scale. */
#include <stdlib.h>

#include "grad.h"
#include "op_train.h"

struct dt_state {
  cl_kernel k;
};

static nncl_status infer(struct op_call *c) {
  float r = op_attr_float(c, "ratio", 0.5f);
  if (c->in[0].dtype != NNCL_FLOAT32 || c->in[1].dtype != NNCL_INT64 ||
      nncl_shape_numel(&c->in[1].shape) != 1)
    return op_error(c, NNCL_ERR_DTYPE, "needs float32 X and an int64 step of one element");
  if (!(r >= 0.0f && r < 1.0f))
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "ratio %g is not in [0, 1)", (double)r);
  NNCL_TRY(op_train_int32(c, &c->in[0].shape));
  for (int i = 0; i < c->n_out; i++) {
    c->out[i].dtype = NNCL_FLOAT32;
    c->out[i].shape = c->in[0].shape;
  }
  return NNCL_OK;
}

static nncl_status plan(struct op_call *c, size_t *ws) {
  (void)ws;
  NNCL_TRY(op_train_state(c, sizeof(struct dt_state)));
  struct dt_state *s = c->state;
  c->algo = "counter_hash";
  return nncl__kernel_get(c->ctx, "train_dropout", NULL, "dropout_train", &s->k);
}

static nncl_status enqueue(struct op_call *c) {
  const struct dt_state *s = c->state;
  cl_uint n = (cl_uint)nncl_shape_numel(&c->in[0].shape);
  cl_ulong seed = (cl_ulong)op_attr_int(c, "seed", 0);
  float r = op_attr_float(c, "ratio", 0.5f), keep = 1.0f / (1.0f - r);
  size_t g = n, l = op_local_1d(c);
  if (!n) return NNCL_OK;
  return NNCL_LAUNCH(c->ctx, s->k, "dropout_train", 1, &g, &l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->in[1].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(c->out[1].mem),
                     NNCL_ARG(n), NNCL_ARG(seed), NNCL_ARG(r), NNCL_ARG(keep));
}

static nncl_status backward(struct op_grad *g) {
  const char *d;
  if (!g->dy[0] || !g->need[0]) return NNCL_OK;
  NNCL_TRY(grad_emit1(g, "Mul", 2, (const char *[]){g->dy[0], g->y[1]}, NULL, 0, &d));
  return grad_give(g, 0, d);
}

const struct op_def op_dropout_train = {.min_in = 2,
                                        .max_in = 2,
                                        .min_out = 2,
                                        .max_out = 2,
                                        .infer = infer,
                                        .plan = plan,
                                        .enqueue = enqueue,
                                        .release = op_release_state,
                                        .backward = backward};
