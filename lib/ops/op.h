/* op.h: the contract between the graph executor and the op families in lib/ops/. An op sees
   shapes, attributes and device buffers, never the IR or protobuf. See ops.def for the table. */
#ifndef NNCL_OP_H
#define NNCL_OP_H

#include "elementwise_table.h"
#include "runtime.h"

/* ---- attributes: a neutral representation the ONNX importer and the builder API both fill ---- */
enum attr_type {
  ATTR_INT,
  ATTR_FLOAT,
  ATTR_STRING,
  ATTR_INTS,
  ATTR_FLOATS,
  ATTR_STRINGS,
  ATTR_TENSOR
};

struct nncl__attr {
  char *name;
  enum attr_type type;
  int64_t i;
  float f;
  char *s;
  int64_t *ints;
  float *floats;
  char **strs;
  int n; /* element count of ints / floats / strs */
  nncl_array *t;
};

/* Literal attributes for tests and typed builders: A_INTS("pads", 1, 1, 1, 1). */
#define A_INT(nm, v) ((struct nncl__attr){.name = (char *)(nm), .type = ATTR_INT, .i = (v)})
#define A_FLOAT(nm, v) ((struct nncl__attr){.name = (char *)(nm), .type = ATTR_FLOAT, .f = (v)})
#define A_STR(nm, v)                                                                               \
  ((struct nncl__attr){.name = (char *)(nm), .type = ATTR_STRING, .s = (char *)(v)})
#define A_INTS(nm, ...)                                                                            \
  ((struct nncl__attr){.name = (char *)(nm),                                                       \
                       .type = ATTR_INTS,                                                          \
                       .ints = (int64_t[]){__VA_ARGS__},                                           \
                       .n = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))})
#define A_FLOATS(nm, ...)                                                                          \
  ((struct nncl__attr){.name = (char *)(nm),                                                       \
                       .type = ATTR_FLOATS,                                                        \
                       .floats = (float[]){__VA_ARGS__},                                           \
                       .n = (int)(sizeof((float[]){__VA_ARGS__}) / sizeof(float))})

/* ---- what an op sees ---- */
struct op_tensor {
  nncl_dtype dtype; /* NNCL_UNDEFINED for an absent optional input */
  nncl_shape shape;
  cl_mem mem;       /* device data; set before enqueue (never during infer/plan) */
  nncl_array *host; /* host value when known at plan time (initializers, folded constants);
                        infer may set it on outputs that depend only on shapes (Shape, Size):
                        the executor then owns it */
};

/* Fused epilogue of Conv/ConvTranspose/Gemm/MatMul: y = act(acc + bias [+ res]) [+ res]. The
   activations are the element-wise table's rows with EWF_EPI (OP_ACT_RELU, OP_ACT_CLIP, ...),
   generated from it; the kernel compiles that row's expression. */
enum op_act {
  OP_ACT_NONE,
#define OP_ACT_ROW(id, name, fe, ie, kind, fuse, an, ad, bn, bd) EW_IF_EPI(fuse, OP_ACT_##id, )
  EW_UNARY_TABLE(OP_ACT_ROW)
#undef OP_ACT_ROW
};
struct op_epilogue {
  enum op_act act;
  float alpha, beta;      /* the activation's alpha and beta, as the unfused op derives them */
  int has_residual;       /* residual tensor is op_call.res */
  int residual_after_act; /* 0: act(acc + res) as in ResNet; 1: act(acc) + res */
};

struct op_def;
struct op_grad;

struct op_call {
  nncl_context *ctx;
  const struct op_def *def;
  const char *op_type;   /* ONNX op type, e.g. "Conv" */
  const char *node_name; /* for error messages; never NULL */
  int opset;             /* default-domain opset the model imports */
  const struct nncl__attr *attrs;
  int n_attrs;
  int n_in, n_out;
  struct op_tensor *in, *out;
  struct op_epilogue epi;
  struct op_tensor *res; /* residual input when epi.has_residual */
  void *state;           /* op-private: made by plan (or infer), freed by release */
  const char *algo;      /* static name of the chosen algorithm, for info and the profiler */
  cl_mem workspace;      /* scratch of the size plan asked for; valid during enqueue */
  /* the graph's options (read through op_option); NULL: the context's (op_instance) */
  const struct nncl__options *opts;
  /* set by constant folding (graph.fold_host): infer may compute outputs of at most
     OP_FOLD_HOST_MAX elements on the host (out[i].host) when every input is known */
  int host_fold;
};

/* The most elements a folded value computed on the host may have: a copy or integer arithmetic
   this small costs microseconds, while folding it on the device builds a program (0.1-1 s cold on
   PoCL). Larger folded values (weight transposes) run on the device. */
#define OP_FOLD_HOST_MAX 4096

struct op_cost {
  double flops; /* multiply-add counts as 2 */
  double bytes; /* bytes read + written from device memory, ideal (each once) */
};

enum op_flags {
  OP_VIEW = 1 << 0,     /* output 0 is input 0's data with another shape: no kernel runs */
  OP_EPILOGUE = 1 << 1, /* accepts a fused epilogue (op_call.epi / res) */
  OP_INPLACE = 1 << 2,  /* output 0 may share input 0's memory (same size, element-wise) */
  /* plan and enqueue take float16 storage of its float tensors (graph.precision=fp16-storage,
     kernels/common/storage.cl); any other op with a float tensor refuses that precision by name
     (pass_precision.c). Views (OP_VIEW) need no flag: they run no kernel. */
  OP_HALF_STORAGE = 1 << 3,
};

/* What a node asks of a device beyond OpenCL 1.2's minimum (op_def.needs). */
struct op_needs {
  uint64_t local_bytes; /* local memory of the smallest work-group tile any algorithm uses */
  int fp64;             /* cl_khr_fp64 */
};

struct op_def {
  int min_in, max_in, min_out, max_out;
  unsigned flags;
  /* Bit i set: infer needs input i's value at plan time (a shape, axes, pads, scales). A graph
     input feeding such a slot is planned with its current value and re-planned when it changes. */
  unsigned value_inputs;
  /* Sets out[i].dtype/shape from inputs and attributes; validates (clear error naming the node
     and the shapes). Inputs' host values are available when constant. Must not touch the device. */
  nncl_status (*infer)(struct op_call *c);
  /* Optional, once per plan: parse attributes into c->state, choose the algorithm (c->algo),
     upload or transform weights, report scratch bytes needed at enqueue. */
  nncl_status (*plan)(struct op_call *c, size_t *workspace_bytes);
  /* Launches the kernels. Must not allocate, build, or wait on the host (hot path). NULL only for
     OP_VIEW ops. */
  nncl_status (*enqueue)(struct op_call *c);
  /* Optional: frees c->state; called even when infer or plan failed (state may be NULL). */
  void (*release)(struct op_call *c);
  /* Optional: FLOPs and bytes for the profiler; default counts inputs + outputs once. */
  void (*cost)(const struct op_call *c, struct op_cost *out);
  /* Optional (training): the backward rule. Given the forward node's shapes and attributes and the
     gradients flowing into its outputs (struct op_grad, lib/train/grad.h), it appends to the IR the
     nodes computing the gradient of each input that needs one, preferably existing ops (a conv's
     data gradient is a ConvTranspose). Rules never launch kernels. NULL (or a rule refusing a
     mode) makes autodiff fail with an error naming the node and op. See docs/TRAINING.md. */
  nncl_status (*backward)(struct op_grad *g);
  /* Optional: what the node needs of a device (from its inferred shapes and attributes); placement
     (lib/graph/pass_place.c) sends it to a device that has it, or fails naming the node and what
     no device has. NULL: nothing beyond the minimum. */
  void (*needs)(const struct op_call *c, struct op_needs *out);
};

/* Backward rules the op_defs name (lib/train/grad_*.c). */
#include "grad_rules.h"

/* ---- the op table (ops.def) ---- */
enum op_id {
#define OP(id, name, def) OP_##id,
#include "ops.def"
#undef OP
  OP_COUNT
};

/* ONNX op type -> id, or -1. */
int op_lookup(const char *op_type);
const struct op_def *op_get(int id);
const char *op_name(int id);

/* ---- helpers for op implementations (op_util.c) ---- */
/* Error naming the op and node: "Conv node 'conv1': <message>". */
nncl_status op_error(const struct op_call *c, nncl_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const struct nncl__attr *op_attr(const struct op_call *c, const char *name);
int64_t op_attr_int(const struct op_call *c, const char *name, int64_t def);
float op_attr_float(const struct op_call *c, const char *name, float def);
const char *op_attr_str(const struct op_call *c, const char *name, const char *def);
/* Element count, or -1 when absent; *v points into the attribute. */
int op_attr_ints(const struct op_call *c, const char *name, const int64_t **v);
int op_attr_floats(const struct op_call *c, const char *name, const float **v);
/* The value of an option (options.def) this op runs under: its graph's, else its context's. */
static inline const char *op_option(const struct op_call *c, enum nncl__option id) {
  return nncl__option_value(c->opts ? c->opts : &c->ctx->options, id);
}
/* True when input i is present (optional inputs may be absent). */
static inline int op_has_input(const struct op_call *c, int i) {
  return i < c->n_in && c->in[i].dtype != NNCL_UNDEFINED;
}
/* Host values of a constant int64 input (e.g. Reshape's shape); -1 when not constant. */
int op_input_ints(const struct op_call *c, int i, const int64_t **v);
/* op_epilogue.c: "-DACT_EXPR=... -DHAS_RES=..." for kernels/common/epilogue.cl. A buffer of
   OP_EPILOGUE_OPTIONS_MAX bytes always holds it; a shorter one that truncates gets an option
   the kernel rejects with #error (never a silently wrong activation). */
#define OP_EPILOGUE_OPTIONS_MAX 256
void op_epilogue_options(const struct op_epilogue *e, char *buf, size_t len);
/* unary.c: the epilogue form of node c when it is a fusable activation (EWF_EPI) on float32 with
   alpha and beta known at plan time (Clip's bounds constant): sets e->act, alpha, beta exactly
   as the unfused op would use them and returns 1; else 0. */
int op_unary_epilogue(const struct op_call *c, struct op_epilogue *e);
/* The form a step of a fused element-wise chain (elementwise_chain.c) takes for node c, exactly as
   its unfused kernel computes it: the table row's float expression (unary: in x; binary: in a, b)
   and alpha, beta. Returns 0 when c is not such an op on float32 with parameters known at plan
   time. op_binary_chain_form sets *unary for Pow by a special constant (an expression in x). */
int op_unary_chain_form(const struct op_call *c, const char **expr, float *alpha, float *beta);
int op_binary_chain_form(const struct op_call *c, const char **expr, int *unary, float *alpha,
                         float *beta);
/* Shape text for messages; returns a static-per-call buffer owned by the caller's array. */
/* NNCL_OK when every output shape infer produced is valid and its byte size fits (checked.h);
   otherwise a shape error naming the node, the output and its shape. The planner and op_instance
   call it after every infer, so no op has to repeat the check. */
nncl_status op_check_outputs(const struct op_call *c);
#define OP_SHAPE_STR(shape, buf) nncl_shape_format((shape), (buf), sizeof(buf))
/* NumPy/ONNX multidirectional broadcast of a and b into out; error when incompatible. */
nncl_status op_broadcast_shape(const struct op_call *c, const nncl_shape *a, const nncl_shape *b,
                               nncl_shape *out);
/* Normalises a possibly negative axis against rank; error naming the attribute when out of range. */
nncl_status op_axis(const struct op_call *c, int64_t axis, int rank, const char *what, int *out);
/* Work-group size helper: a 1-D global size for n items with the context's preferred local size. */
size_t op_local_1d(const struct op_call *c);
/* op_def.release for ops whose state is one malloc'd block holding no device objects. */
void op_release_state(struct op_call *c);
static inline size_t op_round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

/* ---- running one op on host arrays (op_exec.c): constant folding, op tests, benchmarks ---- */
/* Newest default-domain (ai.onnx) opset whose semantics the ops implement: ONNX 1.12's, which
   the conformance data cover. Opset 18 changed ops read here (Reduce* axes as inputs, Split's
   num_outputs, Pad's axes), so a newer model is refused rather than misread. */
#define OP_MAX_OPSET 17

/* One op with its own device buffers. op_instance_create uploads the inputs (NULL entries are
   absent optional inputs), runs infer and plan and allocates the outputs and workspace, so the
   instance can be enqueued as often as wanted; op_type and attrs are borrowed and must outlive
   it. On error it frees what it made and leaves *out NULL. */
struct op_instance;
nncl_status op_instance_create(nncl_context *ctx, const char *op_type, int opset,
                               const struct nncl__attr *attrs, int n_attrs, int n_in,
                               const nncl_array *const *in, int n_out,
                               const struct op_epilogue *epi, const nncl_array *res,
                               struct op_instance **out);
nncl_status op_instance_enqueue(struct op_instance *oi);
/* Median wall time of `runs` enqueue+finish rounds after `warmup` rounds, in seconds. */
nncl_status op_instance_time(struct op_instance *oi, int warmup, int runs, double *median_s);
/* The call (shapes, algo, buffers) behind the instance. */
struct op_call *op_instance_call(struct op_instance *oi);
/* Downloads every output into out[] (allocated here). */
nncl_status op_instance_read(struct op_instance *oi, nncl_array *out);
void op_instance_destroy(struct op_instance *oi);

/* Uploads inputs (NULL entries are absent optional inputs), infers, plans, runs and downloads
   every output into out[] (allocated here; the caller frees with nncl_array_free). */
nncl_status op_run(nncl_context *ctx, const char *op_type, int opset,
                   const struct nncl__attr *attrs, int n_attrs, int n_in,
                   const nncl_array *const *in, int n_out, nncl_array *out,
                   const struct op_epilogue *epi, const nncl_array *res);

#endif
