/* infer.c: shape and type inference over the plan in topological order, folding every node whose
   inputs are all known at plan time (constants, shapes): small values are computed by the op's
   infer on the host (op_call.host_fold, graph.fold_host), the rest by running the node once on
   the device through op_run, so shape subgraphs (Shape -> Gather -> Concat -> Reshape) become
   constants without building kernels. */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

static int all_inputs_constant(const struct plan *p, const struct pnode *n) {
  for (int k = 0; k < n->n_in; k++)
    if (n->in[k] >= 0 && !p->v[n->in[k]].host) return 0;
  return 1;
}

static nncl_status fold(nncl_graph *g, struct plan *p, struct pnode *n) {
  const nncl_array **in = malloc((size_t)(n->n_in + 1) * sizeof *in);
  nncl_array *out = calloc((size_t)n->n_out, sizeof *out);
  if (!in || !out) {
    free(in);
    free(out);
    return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "folding node '%s'", n->name);
  }
  for (int k = 0; k < n->n_in; k++) in[k] = n->in[k] >= 0 ? p->v[n->in[k]].host : NULL;
  nncl_status st = op_run(g->ctx, n->op_type, g->opset, n->attrs, n->n_attrs, n->n_in, in, n->n_out,
                          out, NULL, NULL);
  free(in);
  if (st != NNCL_OK) {
    free(out);
    return st;
  }
  for (int k = 0; k < n->n_out; k++) {
    /* an output infer already computed on the host (Split with one small part) keeps that */
    if (n->out[k] < 0 || !out[k].data || p->v[n->out[k]].host) {
      nncl_array_free(&out[k]);
      continue;
    }
    struct pvalue *v = &p->v[n->out[k]];
    nncl_array *h = malloc(sizeof *h);
    if (!h) {
      for (int j = k; j < n->n_out; j++) nncl_array_free(&out[j]);
      free(out);
      return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "folded constant");
    }
    *h = out[k];
    v->host = h;
    v->host_owned = 1;
  }
  free(out);
  return NNCL_OK;
}

nncl_status plan_infer_fold(nncl_graph *g, struct plan *p) {
  const int host_fold = nncl__option_on(&p->opts, NNCL__OPT_GRAPH_FOLD_HOST);
  for (int i = 0; i < p->n_n; i++) {
    struct pnode *n = &p->n[i];
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] >= 0 && p->v[n->in[k]].dtype == NNCL_UNDEFINED)
        return nncl__error(g->ctx, NNCL_ERR_DTYPE, "%s node '%s': input '%s' has no known type",
                           n->op_type, n->name, g->values[n->in[k]].name);
    plan_bind_call(g, p, i);
    n->call.host_fold = host_fold;
    nncl_status st = n->def->infer(&n->call);
    if (st != NNCL_OK) return st;
    NNCL_TRY(op_check_outputs(&n->call));
    int outputs_known = 1;
    for (int k = 0; k < n->n_out; k++) {
      if (n->out[k] < 0) continue;
      struct pvalue *v = &p->v[n->out[k]];
      struct op_tensor *t = &n->call.out[k];
      v->dtype = t->dtype;
      v->shape = t->shape;
      if (t->host) {
        v->host = t->host;
        v->host_owned = 1;
        t->host = NULL;
      } else {
        outputs_known = 0;
      }
    }
    if (n->def->release) n->def->release(&n->call);
    n->call.state = NULL;
    if (!outputs_known && all_inputs_constant(p, n)) NNCL_TRY(fold(g, p, n));
    if (outputs_known || all_inputs_constant(p, n)) {
      n->alive = 0;
      n->folded = 1;
      p->n_folded++;
    }
  }
  return NNCL_OK;
}
