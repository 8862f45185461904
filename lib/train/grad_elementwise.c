/* grad_elementwise.c: backward rules of the element-wise family: Add/Sub/Mul/Div/Pow and Where
   with NumPy broadcasting (each input's gradient summed over the axes broadcasting stretched) and the
   activations, whose gradients are binary rows of the element-wise table (nncl.ReluGrad ...)
   reading the forward output, so no extra value is kept alive. */
#include <string.h>

#include "grad.h"

static nncl_status give_unbroadcast(struct op_grad *g, int i, const char *d) {
  const char *r;
  NNCL_TRY(grad_unbroadcast(g, d, &g->fwd.out[0].shape, &g->fwd.in[i].shape, &r));
  return grad_give(g, i, r);
}

static nncl_status bin(struct op_grad *g, const char *op, const char *a, const char *b,
                       const char **out) {
  return grad_emit1(g, op, 2, (const char *[]){a, b}, NULL, 0, out);
}

/* PRelu: dX = Where(X < 0, slope dY, dY); dSlope = dY min(X, 0) summed to the slope's shape. */
static nncl_status prelu(struct op_grad *g, const char *dy) {
  const char *zero, *neg, *d;
  NNCL_TRY(grad_const_f32(g, 0.0f, &zero));
  if (g->need[0]) {
    const char *scaled;
    NNCL_TRY(bin(g, "Less", g->x[0], zero, &neg));
    NNCL_TRY(bin(g, "Mul", dy, g->x[1], &scaled));
    NNCL_TRY(grad_emit1(g, "Where", 3, (const char *[]){neg, scaled, dy}, NULL, 0, &d));
    NNCL_TRY(give_unbroadcast(g, 0, d));
  }
  if (g->need[1]) {
    const char *m;
    NNCL_TRY(bin(g, "Min", g->x[0], zero, &m));
    NNCL_TRY(bin(g, "Mul", dy, m, &d));
    NNCL_TRY(give_unbroadcast(g, 1, d));
  }
  return NNCL_OK;
}

/* Pow(a, b): da = dY b a^(b - 1); db = dY y log(a) (a > 0 where it matters). */
static nncl_status pow_grad(struct op_grad *g, const char *dy) {
  const char *d;
  if (g->fwd.in[1].dtype != NNCL_FLOAT32) return grad_no_rule(g, "with a non-float exponent");
  if (g->need[0]) {
    const char *one, *bm1, *p, *q;
    NNCL_TRY(grad_const_f32(g, 1.0f, &one));
    NNCL_TRY(bin(g, "Sub", g->x[1], one, &bm1));
    NNCL_TRY(bin(g, "Pow", g->x[0], bm1, &p));
    NNCL_TRY(bin(g, "Mul", p, g->x[1], &q));
    NNCL_TRY(bin(g, "Mul", dy, q, &d));
    NNCL_TRY(give_unbroadcast(g, 0, d));
  }
  if (g->need[1]) {
    const char *l, *p;
    NNCL_TRY(grad_emit1(g, "Log", 1, &g->x[0], NULL, 0, &l));
    NNCL_TRY(bin(g, "Mul", dy, g->y[0], &p));
    NNCL_TRY(bin(g, "Mul", p, l, &d));
    NNCL_TRY(give_unbroadcast(g, 1, d));
  }
  return NNCL_OK;
}

/* Where(c, a, b): a gets dY where c holds, b where it does not, each summed to its shape. The
   condition is boolean and gets nothing. */
nncl_status nncl__grad_where(struct op_grad *g) {
  const char *dy = g->dy[0], *zero, *d;
  if (!dy || (!g->need[1] && !g->need[2])) return NNCL_OK;
  NNCL_TRY(grad_const_f32(g, 0.0f, &zero));
  for (int i = 1; i <= 2; i++) {
    if (!g->need[i]) continue;
    const char *in[3] = {g->x[0], i == 1 ? dy : zero, i == 1 ? zero : dy};
    NNCL_TRY(grad_emit1(g, "Where", 3, in, NULL, 0, &d));
    NNCL_TRY(give_unbroadcast(g, i, d));
  }
  return NNCL_OK;
}

nncl_status nncl__grad_binary(struct op_grad *g) {
  const char *t = g->fwd.op_type, *dy = g->dy[0], *d;
  if (!dy) return NNCL_OK;
  if (!strcmp(t, "PRelu")) return prelu(g, dy);
  if (!strcmp(t, "Pow")) return pow_grad(g, dy);
  int add = !strcmp(t, "Add"), sub = !strcmp(t, "Sub"), mul = !strcmp(t, "Mul"),
      div = !strcmp(t, "Div");
  if (!add && !sub && !mul && !div) return grad_no_rule(g, NULL);
  if (g->need[0]) {
    if (add || sub)
      d = dy;
    else
      NNCL_TRY(bin(g, mul ? "Mul" : "Div", dy, g->x[1], &d));
    NNCL_TRY(give_unbroadcast(g, 0, d));
  }
  if (g->need[1]) {
    if (add) {
      d = dy;
    } else if (sub) {
      NNCL_TRY(grad_emit1(g, "Neg", 1, &dy, NULL, 0, &d));
    } else if (mul) {
      NNCL_TRY(bin(g, "Mul", dy, g->x[0], &d));
    } else { /* d(a/b)/db = -(a/b)/b */
      const char *m, *q;
      NNCL_TRY(bin(g, "Mul", dy, g->y[0], &m));
      NNCL_TRY(bin(g, "Div", m, g->x[1], &q));
      NNCL_TRY(grad_emit1(g, "Neg", 1, &q, NULL, 0, &d));
    }
    NNCL_TRY(give_unbroadcast(g, 1, d));
  }
  return NNCL_OK;
}

/* LeakyRelu: dY where X >= 0, alpha dY below (Where(Less(X, 0), alpha dY, dY)). */
static nncl_status leaky(struct op_grad *g, const char *dy, const char **out) {
  const char *zero, *alpha, *neg, *scaled;
  NNCL_TRY(grad_const_f32(g, 0.0f, &zero));
  NNCL_TRY(grad_const_f32(g, op_attr_float(&g->fwd, "alpha", 0.01f), &alpha));
  NNCL_TRY(bin(g, "Less", g->x[0], zero, &neg));
  NNCL_TRY(bin(g, "Mul", dy, alpha, &scaled));
  return grad_emit1(g, "Where", 3, (const char *[]){neg, scaled, dy}, NULL, 0, out);
}

/* Elu and Selu from the forward output: for x <= 0, Y = gamma alpha (e^x - 1), so dY/dx =
   Y + gamma alpha (gamma = 1 for Elu); above 0 the slope is gamma. Where(X > 0, gamma dY,
   (Y + gamma alpha) dY). */
static nncl_status elu(struct op_grad *g, const char *dy, int selu, const char **out) {
  double alpha = op_attr_float(&g->fwd, "alpha", selu ? 1.67326319217681884765625f : 1.0f);
  double gamma = selu ? op_attr_float(&g->fwd, "gamma", 1.05070102214813232421875f) : 1.0;
  const char *zero, *ga, *gm, *pos, *slope, *below, *above;
  NNCL_TRY(grad_const_f32(g, 0.0f, &zero));
  NNCL_TRY(grad_const_f32(g, (float)(gamma * alpha), &ga));
  NNCL_TRY(grad_const_f32(g, (float)gamma, &gm));
  NNCL_TRY(bin(g, "Greater", g->x[0], zero, &pos));
  NNCL_TRY(bin(g, "Add", g->y[0], ga, &slope));
  NNCL_TRY(bin(g, "Mul", dy, slope, &below));
  NNCL_TRY(bin(g, "Mul", dy, gm, &above));
  return grad_emit1(g, "Where", 3, (const char *[]){pos, above, below}, NULL, 0, out);
}

/* HardSigmoid: alpha dY where the output is strictly inside (0, 1), else 0. */
static nncl_status hard_sigmoid(struct op_grad *g, const char *dy, const char **out) {
  const char *zero, *one, *alpha, *lo, *hi, *in, *scaled;
  NNCL_TRY(grad_const_f32(g, 0.0f, &zero));
  NNCL_TRY(grad_const_f32(g, 1.0f, &one));
  NNCL_TRY(grad_const_f32(g, op_attr_float(&g->fwd, "alpha", 0.2f), &alpha));
  NNCL_TRY(bin(g, "Greater", g->y[0], zero, &lo));
  NNCL_TRY(bin(g, "Less", g->y[0], one, &hi));
  NNCL_TRY(bin(g, "And", lo, hi, &in));
  NNCL_TRY(bin(g, "Mul", dy, alpha, &scaled));
  return grad_emit1(g, "Where", 3, (const char *[]){in, scaled, zero}, NULL, 0, out);
}

nncl_status nncl__grad_unary(struct op_grad *g) {
  const char *t = g->fwd.op_type, *dy = g->dy[0], *d;
  if (!dy || !g->need[0]) return NNCL_OK;
  if (!strcmp(t, "Relu"))
    NNCL_TRY(bin(g, "nncl.ReluGrad", dy, g->y[0], &d));
  else if (!strcmp(t, "Sigmoid"))
    NNCL_TRY(bin(g, "nncl.SigmoidGrad", dy, g->y[0], &d));
  else if (!strcmp(t, "Tanh"))
    NNCL_TRY(bin(g, "nncl.TanhGrad", dy, g->y[0], &d));
  else if (!strcmp(t, "Softplus"))
    NNCL_TRY(bin(g, "nncl.SoftplusGrad", dy, g->x[0], &d));
  else if (!strcmp(t, "HardSwish"))
    NNCL_TRY(bin(g, "nncl.HardSwishGrad", dy, g->x[0], &d));
  else if (!strcmp(t, "Gelu") && !strcmp(op_attr_str(&g->fwd, "approximate", "none"), "none"))
    NNCL_TRY(bin(g, "nncl.GeluGrad", dy, g->x[0], &d));
  else if (!strcmp(t, "Gelu") && !strcmp(op_attr_str(&g->fwd, "approximate", "none"), "tanh"))
    NNCL_TRY(bin(g, "nncl.GeluTanhGrad", dy, g->x[0], &d));
  else if (!strcmp(t, "Elu") || !strcmp(t, "Selu"))
    NNCL_TRY(elu(g, dy, t[0] == 'S', &d));
  else if (!strcmp(t, "HardSigmoid"))
    NNCL_TRY(hard_sigmoid(g, dy, &d));
  else if (!strcmp(t, "LeakyRelu"))
    NNCL_TRY(leaky(g, dy, &d));
  else if (!strcmp(t, "Sqrt")) { /* dY / (2 Y) */
    const char *h, *q;
    NNCL_TRY(grad_const_f32(g, 0.5f, &h));
    NNCL_TRY(bin(g, "Div", dy, g->y[0], &q));
    NNCL_TRY(bin(g, "Mul", q, h, &d));
  } else if (!strcmp(t, "Reciprocal")) { /* -dY Y^2 */
    const char *a, *b;
    NNCL_TRY(bin(g, "Mul", dy, g->y[0], &a));
    NNCL_TRY(bin(g, "Mul", a, g->y[0], &b));
    NNCL_TRY(grad_emit1(g, "Neg", 1, &b, NULL, 0, &d));
  } else if (!strcmp(t, "Exp"))
    NNCL_TRY(bin(g, "Mul", dy, g->y[0], &d));
  else if (!strcmp(t, "Neg"))
    NNCL_TRY(grad_emit1(g, "Neg", 1, &dy, NULL, 0, &d));
  else if (!strcmp(t, "Erf")) { /* dY 2 / sqrt(pi) exp(-x^2) */
    const char *sq, *ng, *e, *k, *p;
    NNCL_TRY(bin(g, "Mul", g->x[0], g->x[0], &sq));
    NNCL_TRY(grad_emit1(g, "Neg", 1, &sq, NULL, 0, &ng));
    NNCL_TRY(grad_emit1(g, "Exp", 1, &ng, NULL, 0, &e));
    NNCL_TRY(grad_const_f32(g, 1.1283791670955126f, &k));
    NNCL_TRY(bin(g, "Mul", e, k, &p));
    NNCL_TRY(bin(g, "Mul", dy, p, &d));
  } else
    return grad_no_rule(g, NULL);
  return grad_give(g, 0, d);
}
