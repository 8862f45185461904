/* grad_norm.c: backward rule of LayerNormalization (any axis, any epsilon, scale/bias broadcast as
   the forward allows). X's normalised form and 1/std are recomputed by one more
   LayerNormalization node (scale = ones, outputs Y, Mean, InvStdDev), so the rule needs no new
   kernel and keeps no statistic alive from the forward; the rest is element-wise ops and means. */
#include <stdlib.h>

#include "grad.h"

static nncl_status bin(struct op_grad *g, const char *op, const char *a, const char *b,
                       const char **out) {
  return grad_emit1(g, op, 2, (const char *[]){a, b}, NULL, 0, out);
}

/* ReduceMean over the normalised axes, kept (opsets up to 17 take axes as an attribute). */
static nncl_status row_mean(struct op_grad *g, const char *x, int n, const int64_t *axes,
                            const char **out) {
  struct nncl__attr at[2] = {A_INT("keepdims", 1),
                             {.name = "axes", .type = ATTR_INTS, .ints = (int64_t *)axes, .n = n}};
  return grad_emit1(g, "ReduceMean", 1, &x, at, 2, out);
}

/* With xh = (x - mean) r, r = 1 / sqrt(var + eps), y = xh s + b and g = dY s:
   dX = r (g - mean(g) - xh mean(g xh)) over the normalised axes; dS = sum of dY xh and dB = sum of
   dY over the axes the parameters were broadcast along. */
nncl_status nncl__grad_layer_norm(struct op_grad *g) {
  const char *dy = g->dy[0];
  if ((g->fwd.n_out > 1 && g->dy[1]) || (g->fwd.n_out > 2 && g->dy[2]))
    return grad_no_rule(g, "for gradients flowing into its Mean or InvStdDev outputs");
  if (!dy) return NNCL_OK;
  const nncl_shape *xs = &g->fwd.in[0].shape, *ss = &g->fwd.in[1].shape;
  int r = xs->rank, axis = (int)op_attr_int(&g->fwd, "axis", -1);
  if (axis < 0) axis += r;
  int64_t axes[NNCL_MAX_RANK];
  int n = 0;
  for (int a = axis; a < r; a++) axes[n++] = a;

  /* xh and r from the forward op itself, with unit scale */
  nncl_array ones;
  if (nncl_array_alloc(&ones, NNCL_FLOAT32, ss) != NNCL_OK)
    return nncl__error(g->fwd.ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "LayerNormalization gradient");
  for (int64_t k = 0; k < nncl_shape_numel(ss); k++) ((float *)ones.data)[k] = 1.0f;
  const char *one;
  nncl_status st = grad_const(g, &ones, &one);
  nncl_array_free(&ones);
  NNCL_TRY(st);
  const char *stats[3];
  struct nncl__attr at[2] = {A_INT("axis", axis),
                             A_FLOAT("epsilon", op_attr_float(&g->fwd, "epsilon", 1e-5f))};
  NNCL_TRY(grad_emit(g, "LayerNormalization", 2, (const char *[]){g->x[0], one}, 3, stats, at, 2));
  const char *xh = stats[0], *rstd = stats[2], *d;

  if (g->need[0]) {
    const char *gs, *m1, *gx, *m2, *t, *u, *v;
    NNCL_TRY(bin(g, "Mul", dy, g->x[1], &gs));
    NNCL_TRY(row_mean(g, gs, n, axes, &m1));
    NNCL_TRY(bin(g, "Mul", gs, xh, &gx));
    NNCL_TRY(row_mean(g, gx, n, axes, &m2));
    NNCL_TRY(bin(g, "Mul", xh, m2, &t));
    NNCL_TRY(bin(g, "Sub", gs, m1, &u));
    NNCL_TRY(bin(g, "Sub", u, t, &v));
    NNCL_TRY(bin(g, "Mul", v, rstd, &d));
    NNCL_TRY(grad_give(g, 0, d));
  }
  if (g->need[1]) {
    const char *p;
    NNCL_TRY(bin(g, "Mul", dy, xh, &p));
    NNCL_TRY(grad_unbroadcast(g, p, xs, ss, &d));
    NNCL_TRY(grad_give(g, 1, d));
  }
  if (g->fwd.n_in > 2 && g->x[2][0] && g->need[2]) {
    NNCL_TRY(grad_unbroadcast(g, dy, xs, &g->fwd.in[2].shape, &d));
    NNCL_TRY(grad_give(g, 2, d));
  }
  return NNCL_OK;
}
