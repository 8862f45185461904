/* collapse.h: the one dimension collapse behind every kernel that walks a tensor by dims and
   strides (broadcast element-wise ops, strided copies, reductions, MeanVarianceNormalization):
   fewer, longer dims mean fewer div/mod per element and longer contiguous runs. */
#ifndef NNCL_COLLAPSE_H
#define NNCL_COLLAPSE_H

#include "../../kernels/common/dims_layout.h"
#include "op.h"

/* Operands one walk can carry (element-wise: A, B, C). */
#define COLLAPSE_MAX_OPERANDS 3

/* A collapsed walk, innermost dim first. rank 0: every dim had size 1 (a single element). */
struct collapse {
  int rank;
  int64_t dims[NNCL_MAX_RANK];
  int64_t strides[COLLAPSE_MAX_OPERANDS][NNCL_MAX_RANK];
  int kind[NNCL_MAX_RANK];
};

/* Collapses a walk over `rank` dims (outermost first, as shapes are written) read by n operands
   with strides[j][0..rank) (0 for a broadcast dim): size-1 dims are dropped, and a dim is merged
   into its inner neighbour when both have the same kind (kind NULL: all one kind) and every
   operand steps through the pair as one run (outer stride == inner stride * inner dim). strides
   is only read (not const: C11 cannot pass int64_t[][8] as a pointer to const rows). */
void collapse_dims(int rank, const int64_t *dims, int n, int64_t (*strides)[NNCL_MAX_RANK],
                   const int *kind, struct collapse *out);

/* collapse_dims of a contiguous tensor of `shape` whose dims are reduced where red[d] != 0. */
void collapse_reduction(const nncl_shape *shape, const int *red, struct collapse *out);

/* Writes a collapsed reduction as the SPLIT_* layout (kernels/common/dims_layout.h) and returns
   the number of kept and of reduced elements. */
void collapse_split(const struct collapse *c, cl_uint meta[SPLIT_LEN], size_t *kept,
                    size_t *reduced);

#endif
