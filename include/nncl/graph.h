/* nncl/graph.h: networks as graphs: build them (or load ONNX, nncl/onnx.h), plan, run, read. */
#ifndef NNCL_GRAPH_H
#define NNCL_GRAPH_H

#include "nncl/context.h"
#include "nncl/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nncl_graph nncl_graph;
typedef struct nncl_node nncl_node;

/* Ownership and lifetime:
   - A graph lives on one context (its errors go there) and must be destroyed before it (see
     nncl_context_destroy). A context is used by one thread at a time, with all its graphs.
   - The graph copies every name, attribute and constant it is given (except _move, which takes
     the array's data); callers may free theirs as soon as the call returns.
   - Strings and pointers the graph returns (input/output names, op_counts' op types,
     nncl_node_info's strings, nncl_node handles) belong to the graph and stay valid until it is
     destroyed; nncl_node_info's strings only until the next plan.
   - Arrays filled by get_output are the caller's (free with nncl_array_free).
   Bad arguments (NULL, rank outside 0..8, negative dims, missing data) return
   NNCL_ERR_INVALID_ARGUMENT or NNCL_ERR_SHAPE with a message on the context. */

/* ---- building ---- */
NNCL_API nncl_status nncl_graph_create(nncl_context *ctx, nncl_graph **out);
NNCL_API void nncl_graph_destroy(nncl_graph *g);
NNCL_API nncl_context *nncl_graph_context(const nncl_graph *g);
/* Default-domain opset the graph's nodes follow (ONNX semantics); default 17. */
NNCL_API void nncl_graph_set_opset(nncl_graph *g, int opset);
NNCL_API int nncl_graph_opset(const nncl_graph *g);

/* A graph input. Dims < 0 are unknown until an input of that shape is set (e.g. batch). */
NNCL_API nncl_status nncl_graph_add_input(nncl_graph *g, const char *name, nncl_dtype dtype,
                                          const nncl_shape *shape);
/* A constant (weights): copied into the graph. */
NNCL_API nncl_status nncl_graph_add_constant(nncl_graph *g, const char *name,
                                             const nncl_array *value);
/* Same, taking ownership of value->data (value is left empty). */
NNCL_API nncl_status nncl_graph_add_constant_move(nncl_graph *g, const char *name,
                                                  nncl_array *value);
/* A node by ONNX op type (default domain; "domain::Type" for others). inputs[i] may be "" for an
   absent optional input. Unknown op types are accepted here and reported, all at once, by
   nncl_graph_plan. *out (may be NULL) receives the node for setting attributes. */
NNCL_API nncl_status nncl_graph_add_node(nncl_graph *g, const char *op_type, const char *name,
                                         int n_in, const char *const *inputs, int n_out,
                                         const char *const *outputs, nncl_node **out);
NNCL_API nncl_status nncl_node_set_int(nncl_graph *g, nncl_node *n, const char *attr, int64_t v);
NNCL_API nncl_status nncl_node_set_float(nncl_graph *g, nncl_node *n, const char *attr, float v);
NNCL_API nncl_status nncl_node_set_string(nncl_graph *g, nncl_node *n, const char *attr,
                                          const char *v);
NNCL_API nncl_status nncl_node_set_ints(nncl_graph *g, nncl_node *n, const char *attr,
                                        const int64_t *v, int count);
NNCL_API nncl_status nncl_node_set_floats(nncl_graph *g, nncl_node *n, const char *attr,
                                          const float *v, int count);
NNCL_API nncl_status nncl_node_set_strings(nncl_graph *g, nncl_node *n, const char *attr,
                                           const char *const *v, int count);
NNCL_API nncl_status nncl_node_set_tensor(nncl_graph *g, nncl_node *n, const char *attr,
                                          const nncl_array *v);
/* Marks a value as a graph output (in call order). */
NNCL_API nncl_status nncl_graph_add_output(nncl_graph *g, const char *name);

/* Typed helpers for common layers; weights are copied. bias may be NULL. */
NNCL_API nncl_status nncl_graph_conv2d(nncl_graph *g, const char *name, const char *input,
                                       const char *output, const nncl_array *weight,
                                       const nncl_array *bias, int stride, int pad, int dilation,
                                       int groups);
NNCL_API nncl_status nncl_graph_pool2d(nncl_graph *g, const char *name,
                                       const char *op_type /* "MaxPool", "AveragePool" */,
                                       const char *input, const char *output, int kernel,
                                       int stride, int pad);
/* y = x W^T + b with W [out_features, in_features] (PyTorch nn.Linear layout). */
NNCL_API nncl_status nncl_graph_dense(nncl_graph *g, const char *name, const char *input,
                                      const char *output, const nncl_array *weight,
                                      const nncl_array *bias);
NNCL_API nncl_status nncl_graph_activation(nncl_graph *g, const char *name, const char *op_type,
                                           const char *input, const char *output);
/* ONNX LSTM (forward): W [1, 4H, I], R [1, 4H, H], B [1, 8H] or NULL. Outputs may be NULL. */
NNCL_API nncl_status nncl_graph_lstm(nncl_graph *g, const char *name, const char *input,
                                     const char *y, const char *y_h, const char *y_c,
                                     const nncl_array *W, const nncl_array *R, const nncl_array *B,
                                     int hidden_size);

/* ---- inspecting ---- */
NNCL_API int nncl_graph_num_inputs(const nncl_graph *g);
NNCL_API int nncl_graph_num_outputs(const nncl_graph *g);
/* Name, dtype and (current, possibly partly unknown) shape of input/output i. */
NNCL_API const char *nncl_graph_input_name(const nncl_graph *g, int i);
NNCL_API const char *nncl_graph_output_name(const nncl_graph *g, int i);
/* Nodes as loaded, in order: count, op type and first output's value name (NULL out of range),
   so that a tool can name and list the values a layer computes (nncl cam --layer). */
NNCL_API int nncl_graph_num_nodes(const nncl_graph *g);
NNCL_API const char *nncl_graph_node_op_type(const nncl_graph *g, int i);
NNCL_API const char *nncl_graph_node_output_name(const nncl_graph *g, int i);
NNCL_API nncl_status nncl_graph_input_info(const nncl_graph *g, int i, nncl_dtype *dtype,
                                           nncl_shape *shape);
NNCL_API nncl_status nncl_graph_output_info(const nncl_graph *g, int i, nncl_dtype *dtype,
                                            nncl_shape *shape);

/* ---- options (see nncl/context.h): a graph's value overrides its context's ---- */
/* Sets the graph's own value (NULL: follow the context again); the next run plans again. Errors as
   nncl_context_set_option's. */
NNCL_API nncl_status nncl_graph_set_option(nncl_graph *g, const char *key, const char *value);
/* The value the graph plans with: its own when set, else its context's. */
NNCL_API nncl_status nncl_graph_get_option(nncl_graph *g, const char *key, const char **value);

/* ---- planning and running ---- */
/* Infers shapes, folds constants, fuses, chooses algorithms, plans the memory arena and uploads
   weights. Called by nncl_graph_run when needed; unknown input dims must be set first. */
NNCL_API nncl_status nncl_graph_plan(nncl_graph *g);
/* Plans as nncl_graph_plan does (the same nodes, shapes, memory arena and workspace) but builds no
   kernel and launches none, for reading the plan (nncl_graph_summarize, nncl_graph_planned_node)
   on a cold cache: `nncl info`. Constant folding still runs the nodes it folds (their values
   decide shapes). Nothing is timed: GEMM and conv.autotune choices are the remembered or default
   ones. The plan cannot run: the next nncl_graph_run or nncl_graph_plan plans again. */
NNCL_API nncl_status nncl_graph_plan_dry(nncl_graph *g);
/* Copies host data into input `name`. A new shape re-plans at the next run. */
NNCL_API nncl_status nncl_graph_set_input(nncl_graph *g, const char *name, const nncl_array *value);
NNCL_API nncl_status nncl_graph_set_input_tensor(nncl_graph *g, const char *name,
                                                 const nncl_tensor *t);
/* Enqueues every kernel of the plan and waits for them. */
NNCL_API nncl_status nncl_graph_run(nncl_graph *g);
/* Reads output i (graph-output order) into a newly allocated host array. NNCL_ERR_STATE until a
   run of the current plan has finished (a plan alone holds no results). */
NNCL_API nncl_status nncl_graph_get_output(nncl_graph *g, int i, nncl_array *out);
NNCL_API nncl_status nncl_graph_get_output_by_name(nncl_graph *g, const char *name,
                                                   nncl_array *out);

/* Summary of a planned graph (nncl info). */
typedef struct nncl_graph_summary {
  int n_nodes;                  /* nodes as loaded */
  int n_kernel_nodes;           /* nodes left after folding/fusion that launch work */
  int n_fused;                  /* nodes absorbed by fusion */
  int n_folded;                 /* nodes evaluated at plan time */
  int64_t n_params;             /* elements of constant tensors */
  double flops;                 /* per run */
  uint64_t arena_bytes;         /* device arena holding every intermediate */
  uint64_t intermediates_bytes; /* sum of all intermediates, as if each had its own buffer */
  uint64_t weight_bytes;
  uint64_t workspace_bytes; /* one scratch buffer shared by all nodes, outside the arena */
  double plan_seconds;
} nncl_graph_summary;
NNCL_API nncl_status nncl_graph_summarize(nncl_graph *g, nncl_graph_summary *out);

/* Per-op-type node counts of the graph as loaded: op_types[i], counts[i] for i below the value
   returned (at most max; 0 when an argument is NULL). */
NNCL_API int nncl_graph_op_counts(const nncl_graph *g, const char **op_types, int *counts, int max);

/* One planned node, for info and the profiler. */
typedef struct nncl_node_info {
  const char *name;
  const char *op_type;
  const char *fused; /* "Relu", "Add+Relu", "" */
  const char *algo;  /* chosen algorithm or "" */
  int n_in, n_out;
  nncl_shape in_shapes[4];
  nncl_shape out_shapes[2];
  double flops, bytes;
  int device;      /* index among the context's devices (nncl_context_device_at) */
  int from_device; /* a transfer (op type nncl.Transfer): the device it copies from; else -1 */
} nncl_node_info;
NNCL_API int nncl_graph_num_planned_nodes(const nncl_graph *g);
NNCL_API nncl_status nncl_graph_planned_node(const nncl_graph *g, int i, nncl_node_info *out);

/* Data parallel over several devices (nncl_context_create_devices): pin each replica of a model
   (one graph per device, each given its slice of the batch) to its device, inputs included
   (device -1: placement decides again; the next run plans again), then run them together:
   nncl_graphs_run enqueues every graph before waiting once, so the devices work at the same
   time. Graphs must share one context. */
NNCL_API nncl_status nncl_graph_set_device(nncl_graph *g, int device);
NNCL_API nncl_status nncl_graphs_run(nncl_graph **graphs, int n);

/* Pipelined runs over several devices. nncl_graph_set_stages splits the graph's schedule into
   n_stages contiguous stages of about equal work, stage k on device k (n_stages <= the context's
   devices; 0: placement decides again); node names in the context's placement still win.
   nncl_graph_run_pipelined then pushes n_batches batches through them: inputs holds
   n_batches * nncl_graph_num_inputs(g) arrays, batch b's input k at [b * n_inputs + k], every
   batch with batch 0's dtypes and shapes; outputs receives n_batches * nncl_graph_num_outputs(g)
   arrays the same way (allocated here; free each with nncl_array_free; zeroed on error). Stage
   k of batch b runs while stage k + 1 runs batch b - 1: queues wait for each other through
   events, the host waits once at the end. Outputs equal nncl_graph_run's on each batch. */
NNCL_API nncl_status nncl_graph_set_stages(nncl_graph *g, int n_stages);
NNCL_API nncl_status nncl_graph_run_pipelined(nncl_graph *g, int n_batches,
                                              const nncl_array *inputs, nncl_array *outputs);

#ifdef __cplusplus
}
#endif
#endif
