/* grad_loss.c: backward rules of SoftmaxCrossEntropyLoss (nncl.SoftmaxCrossEntropyGrad from the
   forward's log_prob output; a LogSoftmax node is added when the loss node has none) and
   NegativeLogLikelihoodLoss (the same op with nncl.nll = 1: -onehot * scale). */
#include <string.h>

#include "grad.h"

nncl_status nncl__grad_softmax_ce_loss(struct op_grad *g) {
  if (!g->dy[0] || !g->need[0]) return NNCL_OK;
  if (g->fwd.n_in > 2 && g->x[2][0]) return grad_no_rule(g, "with class weights");
  int nll = !strcmp(g->fwd.op_type, "NegativeLogLikelihoodLoss");
  const char *lp = nll ? g->x[0] : g->fwd.n_out > 1 && g->y[1][0] ? g->y[1] : NULL, *d;
  if (!lp) {
    if (g->fwd.in[0].shape.rank != 2 && g->fwd.opset < 13)
      return grad_no_rule(g, "without a log_prob output before opset 13 for rank > 2");
    struct nncl__attr ax = A_INT("axis", 1);
    NNCL_TRY(grad_emit1(g, "LogSoftmax", 1, &g->x[0], &ax, 1, &lp));
  }
  struct nncl__attr at[3] = {
      A_STR("reduction", op_attr_str(&g->fwd, "reduction", "mean")), A_INT("nncl.nll", nll),
      A_INT("ignore_index", op_attr_int(&g->fwd, "ignore_index", INT64_MIN))};
  int n_at = op_attr(&g->fwd, "ignore_index") ? 3 : 2;
  NNCL_TRY(grad_emit1(g, "nncl.SoftmaxCrossEntropyGrad", 3, (const char *[]){g->dy[0], lp, g->x[1]},
                      at, n_at, &d));
  return grad_give(g, 0, d);
}
