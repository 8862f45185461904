/* autodiff.h: reverse-mode differentiation as a graph pass: appends the backward nodes of a
   scalar loss to the same IR, so the planner, arena and executor serve training unchanged. */
#ifndef NNCL_AUTODIFF_H
#define NNCL_AUTODIFF_H

#include "graph_internal.h"

/* Appends to g the nodes computing d(sum of loss's elements)/d(wrt[i]) and writes the name of
   each gradient value to grad_names[i] (malloc'd; the caller frees them, also on error: entries
   not made are NULL). Plans g first to learn every shape, so every graph input must be set. A
   node on the path without a backward rule is an error naming the node and its op. */
nncl_status nncl__autodiff(nncl_graph *g, const char *loss, int n_wrt, const char *const *wrt,
                           char **grad_names);

/* Copies one attribute onto node n (any attribute type). */
nncl_status nncl__node_set_attr(nncl_graph *g, nncl_node *n, const struct nncl__attr *a);

#endif
