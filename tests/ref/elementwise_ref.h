/* elementwise_ref.h: naive double-precision C references for the element-wise, softmax and
   reduce ops, written from the ONNX spec independently of the kernels' expressions. */
#ifndef NNCL_ELEMENTWISE_REF_H
#define NNCL_ELEMENTWISE_REF_H

#include <stddef.h>
#include <stdint.h>

#include "nncl/tensor.h"

/* y = op(x) for the ONNX unary op `op` with parameters alpha, beta (attribute meaning per op:
   LeakyRelu/Elu/Celu/ThresholdedRelu alpha; Selu alpha, gamma; HardSigmoid alpha, beta; Clip min,
   max; Gelu alpha != 0 for the tanh form). Returns 0 for an unknown op. */
int ref_unary(const char *op, double x, double alpha, double beta, double *y);
/* y = op(a, b) for Add..Xor, PRelu, Max/Min/Sum (a pair), Mean is not here (sum then divide). */
int ref_binary(const char *op, double a, double b, double *y);

/* Linear index into an input of shape `in` broadcast to `out` for the output's linear index i. */
size_t ref_bcast_index(const nncl_shape *out, const nncl_shape *in, size_t i);

/* Softmax / LogSoftmax over the middle dim of [outer, len, inner]. */
void ref_softmax(const float *x, float *y, size_t outer, size_t len, size_t inner, int log);

/* Reduce over the axes with mask[axis] != 0 of x (shape s); y has the kept dims in order (as with
   keepdims=1 flattened). op: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1,
   ReduceL2, ReduceLogSumExp, ReduceSumSquare, ReduceLogSum. */
void ref_reduce(const char *op, const float *x, const nncl_shape *s, const int *mask, float *y);
/* Integer version (ReduceSum, ReduceMax, ReduceMin, ReduceProd). */
void ref_reduce_i64(const char *op, const int64_t *x, const nncl_shape *s, const int *mask,
                    int64_t *y);
/* ArgMax (is_min 0) / ArgMin over the middle dim of [outer, len, inner]. */
void ref_arg(const float *x, int64_t *y, size_t outer, size_t len, size_t inner, int is_min,
             int last);

#endif
