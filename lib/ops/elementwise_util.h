/* elementwise_util.h: what the element-wise family (unary.c, binary.c, cast.c) shares: OpenCL
   type names of dtypes, the unary launch, and broadcast planning (collapsing a NumPy broadcast
   into the few dims kernels/elementwise.cl walks). */
#ifndef NNCL_ELEMENTWISE_UTIL_H
#define NNCL_ELEMENTWISE_UTIL_H

#include "collapse.h"

/* OpenCL C element type of a dtype ("float", "long", ...), NULL when kernels cannot take it. */
const char *ew_cl_type(nncl_dtype t);
/* The element type a kernel's buffer of dtype t is declared with: ew_cl_type's, or "half" for
   float16 storage of float values (graph.precision, kernels/common/storage.cl). */
const char *ew_cl_storage_type(nncl_dtype t);
/* True for the integer dtypes the kernels take (int8, uint8, bool, int32, int64). */
int ew_is_int(nncl_dtype t);

/* During constant folding (c->host_fold) computes out[0].host from the op's integer expression
   (the text its kernel compiles) when every input is known and of an integer type and the output
   has at most OP_FOLD_HOST_MAX elements. vars: the expression's variables in input order ("x",
   "ab", "abc"); chain: variadic, inputs after the second update the result as `a`. Leaves
   out[0].host NULL, so the node folds on the device, when any of that does not hold or the
   expression reads what the host evaluator does not know (elementwise_host.c). */
nncl_status ew_host_eval(struct op_call *c, const char *expr, const char *vars, int chain);

/* Scalar parameters alpha and beta: float for float kernels, int64 for integer ones (TP). */
struct ew_params {
  int is_long;
  float f[2];
  cl_long l[2];
};

/* elementwise_unary: kernel built in plan, launched in enqueue. */
struct ew_unary {
  cl_kernel k;
  cl_uint n;
  struct ew_params p;
};
/* Builds elementwise_unary for y = expr(x) with the given OpenCL types; dyn_lo/dyn_hi read alpha
   and beta from device scalars at run time. Errors name the op when n does not fit 32 bits. */
nncl_status ew_unary_plan(struct op_call *c, const char *expr, const char *ti, const char *to,
                          int tp_long, int dyn_lo, int dyn_hi, size_t n, struct ew_unary *u);
nncl_status ew_unary_enqueue(struct op_call *c, const struct ew_unary *u, cl_mem x, cl_mem y,
                             cl_mem lo, cl_mem hi);

/* A broadcast collapsed for elementwise_bcast: meta in the BCAST_* layout of
   kernels/common/dims_layout.h, kept on the device (kernel argument) and on the host (for
   messages). */
struct ew_bcast {
  cl_uint meta[BCAST_LEN];
  cl_mem meta_mem;
  size_t numel;
  size_t global[3], local[3];
};
/* Plans out = f(in[0..n-1]) (n <= 3) with each input broadcast to `out`; uploads the meta
   buffer (release it with ew_bcast_release). */
nncl_status ew_bcast_plan(const struct op_call *c, const nncl_shape *out, int n,
                          const nncl_shape *const *in, struct ew_bcast *b);
void ew_bcast_release(struct ew_bcast *b);
/* Launches elementwise_bcast (built with NIN = n) over the plan; C is ignored when n < 3. */
nncl_status ew_bcast_enqueue(struct op_call *c, cl_kernel k, const struct ew_bcast *b, int n,
                             cl_mem A, cl_mem B, cl_mem C, cl_mem Y, const struct ew_params *p);

/* Stores alpha and beta as float and as int64 (truncated); is_long says which pair the launch
   passes, matching the kernel's TP (float or long). */
void ew_params_set(struct ew_params *p, int is_long, double alpha, double beta);

#endif
