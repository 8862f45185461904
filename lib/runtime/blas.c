/* blas.c: CLBlast's SGEMM routines with nncl errors and profiling events, one of the engines
   behind nncl__gemm_run (gemm_engine.c). Row-major throughout. */
#include "runtime.h"

#include <clblast_c.h>

static nncl_status blas_status(nncl_context *ctx, CLBlastStatusCode s, const char *what, size_t m,
                               size_t n, size_t k) {
  if (s == CLBlastSuccess) return NNCL_OK;
  if (s == CLBlastOpenCLOutOfResources || s == CLBlastTempBufferAllocFailure ||
      s == CLBlastOpenCLOutOfHostMemory)
    return nncl__error(ctx, NNCL_ERR_OUT_OF_DEVICE_MEMORY,
                       "CLBlast %s (m=%zu n=%zu k=%zu): out of memory (%d)", what, m, n, k, (int)s);
  ctx->last_cl_error = (cl_int)s;
  return nncl__error(ctx, NNCL_ERR_BLAS, "CLBlast %s (m=%zu n=%zu k=%zu) failed with status %d%s%s",
                     what, m, n, k, (int)s, s > -1024 ? " " : "",
                     s > -1024 ? nncl_cl_error_name((int)s) : "");
}

nncl_status nncl__clblast_sgemm(nncl_context *ctx, bool trans_a, bool trans_b, size_t m, size_t n,
                                size_t k, float alpha, cl_mem a, size_t a_off, size_t lda,
                                size_t a_stride, cl_mem b, size_t b_off, size_t ldb,
                                size_t b_stride, float beta, cl_mem c, size_t c_off, size_t ldc,
                                size_t c_stride, size_t batch) {
  if (m == 0 || n == 0 || batch == 0) return NNCL_OK;
  const CLBlastTranspose ta = trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
  const CLBlastTranspose tb = trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
  if (batch == 1) {
    cl_event *ev = nncl__prof_slot(ctx, "clblast_sgemm");
    CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, m, n, k, alpha, a, a_off, lda,
                                       b, b_off, ldb, beta, c, c_off, ldc, &ctx->queue, ev);
    nncl__prof_commit(ctx, ev, s == CLBlastSuccess ? CL_SUCCESS : -1);
    if (s == CLBlastSuccess) ctx->stats.kernel_launches++;
    return blas_status(ctx, s, "Sgemm", m, n, k);
  }
  cl_event *ev = nncl__prof_slot(ctx, "clblast_sgemm_strided_batched");
  CLBlastStatusCode s = CLBlastSgemmStridedBatched(
      CLBlastLayoutRowMajor, ta, tb, m, n, k, alpha, a, a_off, lda, a_stride, b, b_off, ldb,
      b_stride, beta, c, c_off, ldc, c_stride, batch, &ctx->queue, ev);
  nncl__prof_commit(ctx, ev, s == CLBlastSuccess ? CL_SUCCESS : -1);
  if (s == CLBlastSuccess) ctx->stats.kernel_launches++;
  return blas_status(ctx, s, "SgemmStridedBatched", m, n, k);
}
