/* gemm_epilogue.cl: the pass after a CLBlast GEMM of Gemm/MatMul: y = epi(y + beta * C), where C
   is Gemm's bias broadcast through row/column strides (0 on a broadcast axis) and epi is the fused
   activation / residual of common/epilogue.cl. One read and one write of y.
   -D HAS_C=0|1   a bias tensor C is added (default 0)
   plus common/epilogue.cl's options (ACT_EXPR, ACT_ALPHA, ACT_BETA, HAS_RES, RES_AFTER_ACT). */
#include "common/epilogue.cl"
#include "common/index.cl"

#ifndef HAS_C
#define HAS_C 0
#endif

/* Global size (cols, rows); y is [rows, cols] row-major and so is res when HAS_RES. */
__kernel void gemm_epilogue_apply(__global float *y, __global const float *c,
                                  const int c_row_stride, const int c_col_stride, const float beta,
                                  __global const float *res, const uint rows, const uint cols) {
  const uint j = get_global_id(0), i = get_global_id(1);
  if (j >= cols || i >= rows) return;
  const size_t at = (size_t)i * cols + j;
  float v = y[at];
#if HAS_C
  v += beta * c[(size_t)i * (size_t)c_row_stride + (size_t)j * (size_t)c_col_stride];
#endif
#if HAS_RES
  v = epi_apply(v, res[at]);
#else
  v = epi_apply(v, 0.0f);
#endif
  y[at] = v;
}
