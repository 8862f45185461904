/* grad_softmax.c: backward rules of Softmax (dX = Y (dY - sum(dY Y))) and LogSoftmax
   (dX = dY - exp(Y) sum(dY)), sums over the softmax axis (from opset 13) or every axis from it
   on (before 13, where the input is read as a 2-D matrix), from the forward output Y. */
#include <string.h>

#include "grad.h"

nncl_status nncl__grad_softmax(struct op_grad *g) {
  const char *dy = g->dy[0], *y = g->y[0];
  if (!dy || !g->need[0]) return NNCL_OK;
  int r = g->fwd.in[0].shape.rank, n = 0;
  int64_t axis = op_attr_int(&g->fwd, "axis", g->fwd.opset >= 13 ? -1 : 1), axes[NNCL_MAX_RANK];
  if (axis < 0) axis += r;
  for (int64_t a = axis; a < (g->fwd.opset >= 13 ? axis + 1 : r); a++) axes[n++] = a;
  int log = !strcmp(g->fwd.op_type, "LogSoftmax");
  const char *s, *t, *d;
  if (log) {
    const char *e, *m;
    NNCL_TRY(grad_reduce_sum(g, dy, n, axes, 1, &s));
    NNCL_TRY(grad_emit1(g, "Exp", 1, &y, NULL, 0, &e));
    NNCL_TRY(grad_emit1(g, "Mul", 2, (const char *[]){e, s}, NULL, 0, &m));
    NNCL_TRY(grad_emit1(g, "Sub", 2, (const char *[]){dy, m}, NULL, 0, &d));
  } else {
    const char *p;
    NNCL_TRY(grad_emit1(g, "Mul", 2, (const char *[]){dy, y}, NULL, 0, &p));
    NNCL_TRY(grad_reduce_sum(g, p, n, axes, 1, &s));
    NNCL_TRY(grad_emit1(g, "Sub", 2, (const char *[]){dy, s}, NULL, 0, &t));
    NNCL_TRY(grad_emit1(g, "Mul", 2, (const char *[]){y, t}, NULL, 0, &d));
  }
  return grad_give(g, 0, d);
}
