/* graph_options.c: a graph's own option values (options.def), which override its context's. */
#include "graph_internal.h"

nncl_status nncl_graph_set_option(nncl_graph *g, const char *key, const char *value) {
  if (!g) return NNCL_ERR_INVALID_ARGUMENT;
  char why[1024];
  int id, code;
  nncl_status st = nncl__option_parse(key, value, &id, &code, why, sizeof why);
  if (st != NNCL_OK) return nncl__error(g->ctx, st, "%s", why);
  /* passes and algorithm choices read options while planning */
  if (g->options.v[id] != code) g->needs_plan = 1;
  g->options.v[id] = (unsigned char)code;
  return NNCL_OK;
}

nncl_status nncl_graph_get_option(nncl_graph *g, const char *key, const char **value) {
  if (!g || !value) return NNCL_ERR_INVALID_ARGUMENT;
  char why[1024];
  int id, code;
  nncl_status st = nncl__option_parse(key, NULL, &id, &code, why, sizeof why);
  if (st != NNCL_OK) return nncl__error(g->ctx, st, "%s", why);
  struct nncl__options merged;
  nncl__options_merge(&g->ctx->options, &g->options, &merged);
  *value = nncl__option_value(&merged, (enum nncl__option)id);
  return NNCL_OK;
}
