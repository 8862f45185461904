/* grad_batchnorm.c: backward rule of inference-mode BatchNormalization, whose running statistics
   are constants of the forward (Y = (X - mean) k + bias, k = scale / sqrt(var + eps) per channel):
   what Grad-CAM needs through a network in eval mode. Training-mode BatchNormalization never
   reaches autodiff: the trainer rewrites it into ordinary ops (train_bn.c). */
#include <string.h>

#include "grad.h"

/* v [C] viewed as [C, 1, ..., 1] so that it broadcasts against [N, C, spatial...]. */
static nncl_status per_channel(struct op_grad *g, const char *v, int rank, const char **out) {
  int64_t axes[NNCL_MAX_RANK];
  for (int k = 0; k < rank - 2; k++) axes[k] = k + 1;
  if (rank <= 2) {
    *out = v;
    return NNCL_OK;
  }
  return grad_unsqueeze(g, v, rank - 2, axes, out);
}

static nncl_status bin(struct op_grad *g, const char *op, const char *a, const char *b,
                       const char **out) {
  return grad_emit1(g, op, 2, (const char *[]){a, b}, NULL, 0, out);
}

nncl_status nncl__grad_batchnorm(struct op_grad *g) {
  const char *dy = g->dy[0];
  if (op_attr_int(&g->fwd, "training_mode", 0) != 0)
    return grad_no_rule(g, "in training mode (nncl_trainer rewrites it; autodiff does not)");
  if (!dy) return NNCL_OK;
  int r = g->fwd.in[0].shape.rank;
  if (r < 2) return grad_no_rule(g, "on an input of rank below 2");
  int64_t axes[NNCL_MAX_RANK]; /* every axis but the channels */
  axes[0] = 0;
  for (int k = 2; k < r; k++) axes[k - 1] = k;
  const char *eps, *ve, *sd, *rs, *k, *ku, *d;
  NNCL_TRY(grad_const_f32(g, op_attr_float(&g->fwd, "epsilon", 1e-5f), &eps));
  NNCL_TRY(bin(g, "Add", g->x[4], eps, &ve));
  NNCL_TRY(grad_emit1(g, "Sqrt", 1, &ve, NULL, 0, &sd));
  NNCL_TRY(grad_emit1(g, "Reciprocal", 1, &sd, NULL, 0, &rs));
  NNCL_TRY(bin(g, "Mul", g->x[1], rs, &k));
  if (g->need[0]) { /* dX = dY k */
    NNCL_TRY(per_channel(g, k, r, &ku));
    NNCL_TRY(bin(g, "Mul", dy, ku, &d));
    NNCL_TRY(grad_give(g, 0, d));
  }
  const char *sum_dy = NULL;
  if (g->need[2] || g->need[3]) NNCL_TRY(grad_reduce_sum(g, dy, r - 1, axes, 0, &sum_dy));
  if (g->need[2]) NNCL_TRY(grad_give(g, 2, sum_dy)); /* dBias = sum dY */
  if (g->need[3]) {                                  /* dMean = -k sum dY */
    const char *m;
    NNCL_TRY(bin(g, "Mul", sum_dy, k, &m));
    NNCL_TRY(grad_emit1(g, "Neg", 1, &m, NULL, 0, &d));
    NNCL_TRY(grad_give(g, 3, d));
  }
  if (g->need[1] || g->need[4]) { /* with xhat = (X - mean) / sqrt(var + eps): */
    const char *mu, *xc, *rsu, *xhat, *p, *s;
    NNCL_TRY(per_channel(g, g->x[3], r, &mu));
    NNCL_TRY(bin(g, "Sub", g->x[0], mu, &xc));
    NNCL_TRY(per_channel(g, rs, r, &rsu));
    NNCL_TRY(bin(g, "Mul", xc, rsu, &xhat));
    NNCL_TRY(bin(g, "Mul", dy, xhat, &p));
    NNCL_TRY(grad_reduce_sum(g, p, r - 1, axes, 0, &s));
    if (g->need[1]) NNCL_TRY(grad_give(g, 1, s)); /* dScale = sum dY xhat */
    if (g->need[4]) {                             /* dVar = -1/2 sum(dY xhat) k / sqrt(var + eps) */
      const char *half, *a, *b;
      NNCL_TRY(grad_const_f32(g, -0.5f, &half));
      NNCL_TRY(bin(g, "Mul", s, k, &a));
      NNCL_TRY(bin(g, "Mul", a, rs, &b));
      NNCL_TRY(bin(g, "Mul", b, half, &d));
      NNCL_TRY(grad_give(g, 4, d));
    }
  }
  return NNCL_OK;
}
