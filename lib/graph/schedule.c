/* schedule.c: drops nodes nothing needs and orders the rest. Fusion can make a node read a value
   produced later in file order (a residual), so the order is recomputed from the data flow. */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

static int node_reads(const struct pnode *n, int v) {
  if (n->res == v) return 1;
  for (int k = 0; k < n->n_in; k++)
    if (n->in[k] == v) return 1;
  return 0;
}

nncl_status plan_schedule(nncl_graph *g, struct plan *p) {
  /* dead nodes: outputs neither read by an alive node nor graph outputs (repeat to a fixpoint) */
  for (int changed = 1; changed;) {
    changed = 0;
    for (int i = 0; i < p->n_n; i++) {
      struct pnode *n = &p->n[i];
      if (!n->alive) continue;
      int needed = 0;
      for (int k = 0; k < n->n_out && !needed; k++) {
        int v = n->out[k];
        if (v < 0) continue;
        if (plan_is_graph_output(g, v)) needed = 1;
        for (int j = 0; j < p->n_n && !needed; j++)
          needed = j != i && p->n[j].alive && node_reads(&p->n[j], v);
      }
      if (!needed) {
        n->alive = 0;
        changed = 1;
      }
    }
  }
  for (int i = 0; i < p->n_v; i++) {
    p->v[i].n_uses = 0;
    p->v[i].producer = -1;
  }
  for (int i = 0; i < p->n_n; i++) {
    struct pnode *n = &p->n[i];
    if (!n->alive) continue;
    for (int k = 0; k < n->n_out; k++)
      if (n->out[k] >= 0) p->v[n->out[k]].producer = i;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] >= 0) p->v[n->in[k]].n_uses++;
    if (n->res >= 0) p->v[n->res].n_uses++;
  }
  free(p->order);
  p->order = malloc(((size_t)p->n_n + 1) * sizeof *p->order);
  char *done = calloc((size_t)p->n_n + 1, 1);
  if (!p->order || !done) {
    free(done);
    return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "schedule");
  }
  p->n_order = 0;
  int alive = 0;
  for (int i = 0; i < p->n_n; i++) alive += p->n[i].alive;
  while (p->n_order < alive) {
    int progress = 0;
    for (int i = 0; i < p->n_n; i++) {
      struct pnode *n = &p->n[i];
      if (!n->alive || done[i]) continue;
      int ready = 1;
      for (int k = 0; k < n->n_in + 1 && ready; k++) {
        int v = k < n->n_in ? n->in[k] : n->res;
        if (v < 0) continue;
        int prod = p->v[v].producer;
        ready = prod < 0 || done[prod];
      }
      if (!ready) continue;
      done[i] = 1;
      p->order[p->n_order++] = i;
      progress = 1;
    }
    if (!progress) {
      free(done);
      return nncl__error(g->ctx, NNCL_ERR_STATE, "internal: fused graph has a cycle");
    }
  }
  free(done);
  return NNCL_OK;
}
