/* shape_copy.h: machinery shared by the shape family (lib/ops/{reshape,transpose,concat_split,
   slice,pad,gather,expand_tile,constant}.c): the strided N-d copy behind Transpose, Concat,
   Split, Slice and Expand (simplified on the host, launched on kernels/shape.cl, or evaluated
   on the host), the pad/tile launch, fills, and host evaluation of small integer tensors.

   Host evaluation: PyTorch exports compute shapes with chains such as Shape -> Gather ->
   Unsqueeze -> Concat -> Reshape. When every input of such an op is known at plan time and the
   output is a small integer tensor, infer() computes it on the host and sets out[i].host, so the
   whole chain resolves during shape inference with no device round trip. The op still works
   when enqueued (tests check that both paths agree). */
#ifndef NNCL_SHAPE_COPY_H
#define NNCL_SHAPE_COPY_H

#include "collapse.h"

/* Integer outputs up to this many elements are computed on the host by infer(). */
#define SHAPE_HOST_MAX 64

/* out[ooff + sum c_d * os_d] = in[ioff + sum c_d * is_d] for every coordinate c in dims.
   Strides and offsets count elements of esize bytes; dims are outermost first. */
struct shape_copy {
  int rank;
  int64_t dims[NNCL_MAX_RANK];
  int64_t is[NNCL_MAX_RANK], os[NNCL_MAX_RANK];
  int64_t ioff, ooff;
  size_t esize;
  /* set by shape_copy_plan */
  int empty; /* nothing to copy */
  int tiled; /* local-memory transpose of dims ta (input-contiguous) and rank-1 */
  int ta;
  int blocked; /* tiled on a CPU: 8x8 register blocks (shape_transpose8) instead of a tile */
  cl_kernel k;
};

/* A copy of every element of `shape` from a source with strides is[] (set by the caller) into a
   contiguous destination of that shape. */
void shape_copy_init(struct shape_copy *s, nncl_dtype dt, const nncl_shape *shape);
/* Contiguous (C-order) strides of a shape in elements. */
void shape_strides(const nncl_shape *shape, int64_t *strides);
/* Simplifies (drops size-1 dims, merges contiguous runs, widens elements to up to 16 bytes),
   picks the kernel and fetches it (first build happens here, not at enqueue). in_numel and
   out_numel bound the buffers so 32-bit indexing can be checked. */
nncl_status shape_copy_plan(const struct op_call *c, struct shape_copy *s, int64_t in_numel,
                            int64_t out_numel);
nncl_status shape_copy_enqueue(const struct op_call *c, const struct shape_copy *s, cl_mem in,
                               cl_mem out);
/* The same copy on host memory (either before or after shape_copy_plan). */
void shape_copy_host(const struct shape_copy *s, const void *in, void *out);

/* Pad / Tile through shape_pad_*: modes as in kernels/shape.cl. */
enum shape_pad_mode { SHAPE_PAD_CONSTANT, SHAPE_PAD_REFLECT, SHAPE_PAD_EDGE, SHAPE_PAD_WRAP };
struct shape_pad {
  int rank; /* >= 2 */
  cl_uint8 od;
  cl_int8 id, is, pb;
  cl_uint n2;
  cl_int mode;
  cl_ulong value;
  int empty;
  cl_kernel k;
};
/* pb: begin pads per dim (may be negative), out: output shape. */
nncl_status shape_pad_plan(const struct op_call *c, struct shape_pad *p, nncl_dtype dt,
                           const nncl_shape *in, const nncl_shape *out, const int64_t *pb,
                           enum shape_pad_mode mode, uint64_t value_bits);
nncl_status shape_pad_enqueue(const struct op_call *c, const struct shape_pad *p, cl_mem in,
                              cl_mem out);

/* Fill of n elements of dt with a bit pattern (low bytes of value_bits). */
nncl_status shape_fill_kernel(const struct op_call *c, nncl_dtype dt, cl_kernel *k);
nncl_status shape_fill_enqueue(const struct op_call *c, cl_kernel k, cl_mem out, int64_t n,
                               uint64_t value_bits);

/* "shape_copy_b4" style names; NULL for an element size with no kernel. */
const char *shape_esize_suffix(size_t esize);
/* Error unless dt is a dtype the byte-moving kernels handle. */
nncl_status shape_check_dtype(const struct op_call *c, nncl_dtype dt, const char *what);

/* Reads constant input i (int32 or int64) into v[0..max). Returns the count, -1 when the input
   is absent or not constant, -2 when it has more than max elements or another dtype. */
int shape_input_ints(const struct op_call *c, int i, int64_t *v, int max);
/* True when output `o` should be computed on the host: integer dtype and at most SHAPE_HOST_MAX
   elements (while folding, c->host_fold: any dtype, at most OP_FOLD_HOST_MAX), and inputs
   [0, n_in) all known at plan time (absent optional inputs are fine). */
int shape_host_eligible(const struct op_call *c, int o, int n_in);
/* Allocates c->out[o].host for the output's dtype and shape (left NULL if already set, which
   returns NNCL_OK with *out NULL). */
nncl_status shape_host_alloc(const struct op_call *c, int o, nncl_array **out);

/* Profiler costs where the default (every input and output once) is wrong: ops that read only
   what they write (Slice, Gather, GatherElements: output twice plus inputs 1..n), and ops that
   read no input data (Shape, Size, constants: output once). */
void shape_cost_read_as_written(const struct op_call *c, struct op_cost *out);
void shape_cost_write_only(const struct op_call *c, struct op_cost *out);

/* 2-D/3-D local sizes for a grid of n0 x n1 items (dim 2 gets 1). */
void shape_local_2d(const struct op_call *c, size_t n0, size_t n1, size_t local[3]);

#endif
