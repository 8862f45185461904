/* gemm_ref.h: naive C references for Gemm and MatMul, written straight from the ONNX equations. */
#ifndef NNCL_GEMM_REF_H
#define NNCL_GEMM_REF_H

#include "nncl/tensor.h"

/* Y[m,n] = alpha * op(A) op(B) + beta * C, C unidirectionally broadcast (c may be NULL). A is
   [m,k] ([k,m] when ta), B is [k,n] ([n,k] when tb). */
void ref_gemm(const float *a, const float *b, const nncl_array *c, float *y, int64_t m, int64_t n,
              int64_t k, int ta, int tb, float alpha, float beta);
/* numpy.matmul semantics (1-D promotion, broadcast batch dims); allocates *y. */
void ref_matmul(const nncl_array *a, const nncl_array *b, nncl_array *y);

#endif
