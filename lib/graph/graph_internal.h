/* graph_internal.h: the graph IR (what was built or loaded, never changed by planning) and the
   plan derived from it (inferred shapes, folded constants, fused nodes, memory placement, op
   calls). Passes work on the plan; re-planning for new input shapes starts again from the IR. */
#ifndef NNCL_GRAPH_INTERNAL_H
#define NNCL_GRAPH_INTERNAL_H

#include "nncl/graph.h"
#include "op.h"

/* ---- IR ---- */
struct gvalue {
  char *name;
  nncl_dtype dtype; /* NNCL_UNDEFINED until known */
  nncl_shape shape; /* declared; dims < 0 unknown */
  int has_shape;
  nncl_array constant; /* data != NULL for constants (initializers) */
  int producer;        /* node index, -1 for inputs/constants */
  int is_input, is_output;
  int from_constant_node; /* an ONNX Constant node's value, not an initializer: never trained */
};

struct nncl_node {
  char *name;
  char *op_type;
  int op; /* enum op_id, -1 when unsupported */
  int n_in, n_out;
  int *in, *out; /* value indices; -1 for an absent optional input */
  struct nncl__attr *attrs;
  int n_attrs;
  int device; /* placement (multi-device later); 0 = the graph's context */
};

struct plan;

struct nncl_graph {
  nncl_context *ctx;
  int opset;
  struct gvalue *values;
  int n_values, cap_values;
  struct nncl_node **nodes; /* pointers stay valid while nodes are added */
  int n_nodes, cap_nodes;
  int *inputs, n_inputs;
  int *outputs, n_outputs;
  nncl_array *pending;      /* per graph input: host data set before planning (data NULL if none) */
  nncl_shape *input_shapes; /* per graph input: the shape the next plan uses */
  int *input_shape_set;     /* per graph input: data has been set (pending or on the device) */
  int *input_is_value; /* per graph input: feeds an op's value input (see op_def.value_inputs) */
  nncl_array *input_values; /* per graph input: the value the current plan was made with */
  /* the graph's own option values; unset ones follow the context */
  struct nncl__options options;
  struct plan *plan;
  int needs_plan;
  /* nncl_graph_set_device: 1 + the device that runs every node and holds the inputs (a replica
     of data-parallel runs); 0: placement decides */
  int pinned_device;
  /* nncl_graph_set_stages: contiguous pipeline stages, stage k on device k; 0: placement decides */
  int stages;
  /* nodes (by name) whose kernels failed to build on a device that placement chose without
     being told to: placement skips that device for them from then on (pass_place.c) */
  struct refused_build {
    char *node;
    int device;
  } * refused_builds;
  int n_refused_builds;
};

/* Value index by name, or -1. */
int graph_find_value(const nncl_graph *g, const char *name);
/* Value index for name, created (unknown dtype/shape) if absent; -1 when out of memory. */
int graph_value(nncl_graph *g, const char *name);
void graph_plan_free(nncl_graph *g);

/* ---- plan ---- */
/* ST_SLICE: bytes [offset, offset + bytes) of storage `parent` (a Concat input written in place) */
enum storage_kind { ST_ARENA, ST_INPUT, ST_CONST, ST_SCRATCH, ST_SLICE };

struct storage {
  enum storage_kind kind;
  size_t bytes;
  int first, last; /* schedule positions of first write and last read */
  int device;      /* index in the context's devices */
  size_t offset;   /* in the arena (ST_SLICE: in its parent) */
  int parent;      /* ST_SLICE only: the storage it lies in */
  cl_mem mem;      /* sub-buffer of the arena, or own buffer */
};

struct pvalue {
  nncl_dtype dtype;
  nncl_shape shape;
  nncl_array *host; /* constant value (IR-owned or plan-owned), NULL otherwise */
  int host_owned;
  int producer; /* pnode index, -1 */
  int n_uses;   /* alive consumers */
  int storage;  /* storage index, -1 */
  int device;   /* device holding it (pass_place.c), -1 before placement */
};

struct pnode {
  int gnode; /* IR node index, -1 for nodes made by passes */
  const char *op_type;
  const char *name;
  int op;
  const struct op_def *def;
  int n_in, n_out;
  int *in, *out; /* pvalue indices (-1 absent), plan_alloc'ed: cap_in >= n_in (passes may grow a
                    node to 4 inputs), max(n_out, 1) outputs */
  int cap_in, cap_out;
  int res; /* residual pvalue or -1 */
  struct op_epilogue epi;
  char fused[64]; /* "Relu", "Add+Relu", "BatchNormalization" */
  int alive;      /* 0 when folded, fused away or dead */
  int folded;
  struct op_call call;
  struct op_tensor *t; /* cap_in inputs, cap_out outputs, 1 residual (plan_alloc'ed) */
  size_t ws_bytes;
  int ws_storage;
  const struct nncl__attr *attrs;
  int n_attrs;
  int device; /* index in the context's devices (pass_place.c) */
  int forced; /* the device comes from the context's placement or a pinned graph */
};

struct plan {
  struct pvalue *v;
  int n_v, cap_v;
  struct pnode *n;
  int n_n, cap_n;
  int *order; /* alive kernel and view nodes in execution order */
  int n_order;
  struct storage *st;
  int n_st, cap_st;
  cl_mem arena[NNCL_MAX_DEVICES]; /* one per device */
  size_t dev_arena_bytes[NNCL_MAX_DEVICES];
  size_t arena_bytes, intermediates_bytes, weight_bytes, workspace_bytes;
  int n_folded, n_fused;
  double plan_seconds;
  /* the context's options merged with the graph's: what passes and ops read */
  struct nncl__options opts;
  int has_run;          /* a run of this plan finished: outputs hold results, not garbage */
  int dry;              /* made by nncl_graph_plan_dry: read it, never run it (no kernels) */
  int *input_storage;   /* per graph input */
  int n_inputs;         /* graph inputs when planned (inputs added later have no storage here) */
  struct plan_mem *mem; /* blocks from plan_alloc, freed with the plan */
};

/* Plans g if needed and enqueues every node on its device's queue without waiting (after: as in
   nncl__graph_run_observed); the caller finishes the context. */
nncl_status nncl__graph_enqueue(nncl_graph *g, nncl_status (*after)(void *user, int k), void *user);
/* nncl_graph_run, calling after(user, k) once node order[k] is enqueued (a view node
   enqueues nothing and is skipped), then after(user, n_order) every 50 us until the device has
   run them all, so a caller can work on values as they become final (lib/dist all-reduces
   gradients while backward still runs). */
nncl_status nncl__graph_run_observed(nncl_graph *g, nncl_status (*after)(void *user, int k),
                                     void *user);

/* Pipeline steps (each in its own file). */
nncl_status plan_build(nncl_graph *g, struct plan *p);          /* plan.c */
nncl_status plan_infer_fold(nncl_graph *g, struct plan *p);     /* infer.c */
nncl_status pass_fold_batchnorm(nncl_graph *g, struct plan *p); /* pass_bn.c */
nncl_status pass_fuse_layernorm(nncl_graph *g, struct plan *p); /* pass_layernorm.c */
nncl_status pass_fuse_attention(nncl_graph *g, struct plan *p); /* pass_attention.c */
nncl_status pass_rnn_layout(nncl_graph *g, struct plan *p);     /* pass_rnn.c */
nncl_status pass_fuse_epilogues(nncl_graph *g, struct plan *p); /* pass_fuse.c */
nncl_status plan_schedule(nncl_graph *g, struct plan *p);       /* schedule.c: dead nodes, order */
nncl_status pass_place(nncl_graph *g, struct plan *p); /* pass_place.c: devices, transfers */
/* pass_place.c: node `failed` of p failed to build its kernel on its device (the context's last
   error holds the build log). NNCL_OK when it was placed there automatically and another device
   may take it (remembered in g->refused_builds: plan again), else an error naming the node, the
   device and the log's first line. */
nncl_status pass_place_build_failed(nncl_graph *g, const struct plan *p, int failed);
nncl_status plan_memory(nncl_graph *g, struct plan *p); /* memplan.c */
/* pass_fuse_elementwise.c: after pass_fuse_epilogues, so Conv/Gemm take an activation first */
nncl_status pass_fuse_elementwise(nncl_graph *g, struct plan *p);
/* pass_layernorm.c: after pass_fuse_epilogues, so a MatMul's epilogue takes a residual Add first */
nncl_status pass_fuse_add_layernorm(nncl_graph *g, struct plan *p);
/* pass_precision.c: graph.precision: float16 storage (Casts at the edges) or a refusal naming why */
nncl_status pass_precision(nncl_graph *g, struct plan *p);

/* Helpers shared by passes. */
int plan_add_value(struct plan *p, nncl_dtype dt, const nncl_shape *shape);
/* Room for `more` nodes in p->n (pointers into p->n are invalid afterwards); -1 when out of
   memory. */
int plan_reserve_nodes(struct plan *p, int more);
/* Appends a node the planner makes (a Transfer, a Cast): op `op` named `name` (copied), one
   attribute, reading value in and writing value out on `device`; -1 when out of memory. */
int plan_append_node(struct plan *p, const char *op, const char *name, struct nncl__attr attr,
                     int in, int out, int device);
/* Zeroed memory that lives as long as the plan (attributes and names of nodes made by passes);
   NULL when out of memory. */
void *plan_alloc(struct plan *p, size_t bytes);
/* Sets up pn->call/t from the plan's values (shapes, dtypes, host data; mem filled later). */
void plan_bind_call(nncl_graph *g, struct plan *p, int node);
/* The one consumer of value v among alive nodes, or -1 when it has none or several (or is a graph
   output). */
int plan_sole_consumer(nncl_graph *g, struct plan *p, int v, int *input_slot);
int plan_is_graph_output(const nncl_graph *g, int v);
/* Attribute `name` of plan node n, or NULL. */
const struct nncl__attr *plan_node_attr(const struct pnode *n, const char *name);
/* a and b have the same rank and dims. */
int plan_same_shape(const nncl_shape *a, const nncl_shape *b);

#endif
