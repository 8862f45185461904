/* pass_precision.c: the precision option at plan time; fp16 is refused with its reason, never run
   as fp32 silently. */
#include <string.h>

#include "graph_internal.h"

/* float16 storage with float32 accumulation is the option's meaning; what is missing to run it is
   said in the error, in this order: a device of the graph without cl_khr_fp16 (the lasting reason
   on CPU devices such as PoCL's), then the half kernels themselves, which are not written yet
   (docs/DESIGN.md, "Precision"). Runs after pass_place, so every node knows its device. */
nncl_status pass_precision(nncl_graph *g, struct plan *p) {
  if (strcmp(nncl__option_value(&p->opts, NNCL__OPT_PRECISION), "fp16") != 0) return NNCL_OK;
  const struct pnode *first = NULL;
  /* device 0 holds the graph's inputs and outputs even when no node runs there */
  nncl_context *d0 = nncl__ctx_dev(g->ctx, 0);
  if (!d0->info.has_fp16)
    return nncl__error(g->ctx, NNCL_ERR_UNSUPPORTED,
                       "graph.precision=fp16: device '%s' lacks the OpenCL extension cl_khr_fp16 "
                       "(float16 storage needs it); use graph.precision=fp32",
                       d0->info.name);
  for (int i = 0; i < p->n_n; i++) {
    const struct pnode *n = &p->n[i];
    if (!n->alive) continue;
    nncl_context *dc = nncl__ctx_dev(g->ctx, n->device);
    if (dc && !dc->info.has_fp16)
      return nncl__error(g->ctx, NNCL_ERR_UNSUPPORTED,
                         "graph.precision=fp16: device %d '%s' (node '%s', %s) lacks the OpenCL "
                         "extension cl_khr_fp16; use graph.precision=fp32",
                         n->device, dc->info.name, n->name ? n->name : "", n->op_type);
    if (!first) first = n;
  }
  if (first)
    return nncl__error(
        g->ctx, NNCL_ERR_UNSUPPORTED,
        "graph.precision=fp16: op %s (node '%s') has no float16-storage kernel yet; use "
        "graph.precision=fp32",
        first->op_type, first->name ? first->name : "");
  return nncl__error(
      g->ctx, NNCL_ERR_UNSUPPORTED,
      "graph.precision=fp16: float16 storage of the graph's inputs and outputs (Cast at "
      "the edges) is not built yet; use graph.precision=fp32");
}
