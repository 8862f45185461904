/* graph_import.h: what an importer (lib/onnx) tells the IR beyond the public builder API. */
#ifndef NNCL_GRAPH_IMPORT_H
#define NNCL_GRAPH_IMPORT_H

#include "nncl/graph.h"

/* Marks constant `name` as an ONNX Constant node's value (a scale, a shape): part of the
   computation, so the trainer never takes it for a parameter. */
nncl_status nncl__graph_mark_computed_constant(nncl_graph *g, const char *name);

#endif
