/* pass_rnn.c: stacked bidirectional RNN/GRU/LSTM layers as PyTorch exports them pass Y
   [seq, dirs, batch, hidden] through Transpose(0, 2, 1, 3) and a Reshape to [seq, batch,
   dirs * hidden] into the next layer. The Reshape is a view; this pass removes the Transpose by
   asking the RNN node to write Y in the transposed order itself (the op's internal attribute
   nncl.y_layout = 1), so the next layer reads the previous one's Y with no copy in between. */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

static const struct nncl__attr *attr(const struct pnode *n, const char *name) {
  for (int i = 0; i < n->n_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
  return NULL;
}

static int is_rnn(const struct pnode *n) {
  return n->op == OP_LSTM || n->op == OP_GRU || n->op == OP_RNN;
}

/* Transpose node t swaps axes 1 and 2 of a rank-4 tensor. */
static int swaps_dirs_batch(const struct plan *p, const struct pnode *t) {
  if (t->op != OP_TRANSPOSE || t->n_in != 1 || t->n_out != 1 || t->in[0] < 0 ||
      p->v[t->in[0]].shape.rank != 4)
    return 0;
  const struct nncl__attr *a = attr(t, "perm");
  static const int64_t want[4] = {0, 2, 1, 3};
  if (!a || a->type != ATTR_INTS || a->n != 4) return 0;
  for (int d = 0; d < 4; d++)
    if (a->ints[d] != want[d] && a->ints[d] != want[d] - 4) return 0;
  return 1;
}

static int same_shape(const nncl_shape *a, const nncl_shape *b) {
  if (a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

static nncl_status rewrite(nncl_graph *g, struct plan *p, int i, int ti) {
  struct pnode *n = &p->n[i], *t = &p->n[ti];
  struct nncl__attr *attrs = plan_alloc(p, ((size_t)n->n_attrs + 1) * sizeof *attrs);
  if (!attrs) return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "RNN layout pass");
  /* shallow copies: the IR owns the attribute data and outlives the plan */
  if (n->n_attrs) memcpy(attrs, n->attrs, (size_t)n->n_attrs * sizeof *attrs);
  attrs[n->n_attrs] = A_INT("nncl.y_layout", 1);
  const struct nncl__attr *old_attrs = n->attrs;
  int old_n = n->n_attrs, old_y = n->out[0];
  n->attrs = attrs;
  n->n_attrs++;
  n->out[0] = t->out[0];
  /* infer must give the Transpose's output shape; otherwise leave the nodes as they were */
  plan_bind_call(g, p, i);
  nncl_status st = n->def->infer(&n->call);
  int same = st == NNCL_OK && same_shape(&n->call.out[0].shape, &p->v[t->out[0]].shape);
  if (n->def->release) n->def->release(&n->call);
  n->call.state = NULL;
  if (st != NNCL_OK) return st;
  if (!same) {
    n->attrs = old_attrs;
    n->n_attrs = old_n;
    n->out[0] = old_y;
    return NNCL_OK;
  }
  p->v[t->out[0]].producer = i;
  t->alive = 0;
  p->n_fused++;
  size_t l = strlen(n->fused);
  if (l + sizeof "+Transpose" <= sizeof n->fused) strcat(n->fused, l ? "+Transpose" : "Transpose");
  return NNCL_OK;
}

nncl_status pass_rnn_layout(nncl_graph *g, struct plan *p) {
  if (!nncl__option_on(&p->opts, NNCL__OPT_GRAPH_FUSION)) return NNCL_OK;
  for (int i = 0; i < p->n_n; i++) {
    struct pnode *n = &p->n[i];
    if (!n->alive || !is_rnn(n) || n->n_out < 1 || n->out[0] < 0) continue;
    const struct nncl__attr *layout = attr(n, "layout");
    if ((layout && (layout->type != ATTR_INT || layout->i != 0)) || attr(n, "nncl.y_layout"))
      continue;
    int ti = plan_sole_consumer(g, p, n->out[0], NULL);
    if (ti < 0 || !swaps_dirs_batch(p, &p->n[ti])) continue;
    NNCL_TRY(rewrite(g, p, i, ti));
  }
  return NNCL_OK;
}
