/* gemm_ref.h: naive C references for Gemm and MatMul, written straight from the ONNX equations. */
#ifndef NNCL_GEMM_REF_H
#define NNCL_GEMM_REF_H

#include "nncl/tensor.h"

/* Y[m,n] = alpha * op(A) op(B) + beta * C, C unidirectionally broadcast (c may be NULL). A is
   [m,k] ([k,m] when ta), B is [k,n] ([n,k] when tb). */
void ref_gemm(const float *a, const float *b, const nncl_array *c, float *y, int64_t m, int64_t n,
              int64_t k, int ta, int tb, float alpha, float beta);
/* The engine's contract (nncl__gemm_run without epilogue), in double: for every batch item z,
   C_z = alpha * op(A_z) op(B_z) + beta * C_z over the m x n corner of each C_z, where
   X_z = x + z * stride_x and op(A)(i, k) = ta ? a[k * lda + i] : a[i * lda + k] (B likewise).
   beta == 0 never reads C. */
void ref_gemm_batched(int ta, int tb, int64_t m, int64_t n, int64_t k, int64_t batch, float alpha,
                      const float *a, int64_t lda, int64_t sa, const float *b, int64_t ldb,
                      int64_t sb, float beta, float *c, int64_t ldc, int64_t sc);
/* numpy.matmul semantics (1-D promotion, broadcast batch dims); allocates *y. */
void ref_matmul(const nncl_array *a, const nncl_array *b, nncl_array *y);

#endif
