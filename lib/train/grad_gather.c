/* grad_gather.c: backward rule of Gather (any axis, indices of any rank, negative indices): the
   data's gradient is dY scattered back and summed per index, nncl.GatherGrad (op_gather_grad.c),
   deterministic with no atomics. An Embedding's weight gradient is this with axis 0. */
#include "grad.h"

nncl_status nncl__grad_gather(struct op_grad *g) {
  if (!g->dy[0] || !g->need[0]) return NNCL_OK;
  const char *s, *d;
  struct nncl__attr ax = A_INT("axis", op_attr_int(&g->fwd, "axis", 0));
  NNCL_TRY(grad_emit1(g, "Shape", 1, &g->x[0], NULL, 0, &s));
  NNCL_TRY(grad_emit1(g, "nncl.GatherGrad", 3, (const char *[]){g->dy[0], g->x[1], s}, &ax, 1, &d));
  return grad_give(g, 0, d);
}
