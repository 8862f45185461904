/* style_lbfgs.h: L-BFGS's memory and two-loop recursion (Nocedal and Wright, algorithm 7.4) on the
   host, over gradients the device computes: `nncl style --optimizer lbfgs`. */
#ifndef NNCL_STYLE_LBFGS_H
#define NNCL_STYLE_LBFGS_H

#include <stdint.h>

typedef struct style_lbfgs style_lbfgs;

/* Memory of the last `history` pairs for vectors of n floats; NULL when out of memory. */
style_lbfgs *style_lbfgs_create(int64_t n, int history);
void style_lbfgs_destroy(style_lbfgs *s);
/* d = -H g, H the inverse-Hessian estimate from the stored pairs, scaled initially by
   s.y / y.y of the newest pair (d = -g while none is stored). Sums in double. */
void style_lbfgs_direction(style_lbfgs *s, const float *g, float *d);
/* Stores the pair (dx = x' - x, dg = g' - g), dropping the oldest, when dx.dg > 0 (the curvature
   condition, which keeps H positive definite); returns whether it was stored. */
int style_lbfgs_push(style_lbfgs *s, const float *dx, const float *dg);

#endif
