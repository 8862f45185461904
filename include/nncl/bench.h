/* nncl/bench.h: benchmarks behind `nncl bench`: yardsticks measured on the same device in the same
   run (CLBlast SGEMM, copy bandwidth), and the per-family tables. Times are medians in seconds. */
#ifndef NNCL_BENCH_H
#define NNCL_BENCH_H

#include "nncl/context.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- yardsticks (lib/bench/yardstick.c) ---- */
/* CLBlast SGEMM C[m,n] = A[m,k] B[k,n], median of `runs`; GFLOP/s = 2mnk / time. */
NNCL_API nncl_status nncl_bench_sgemm(nncl_context *ctx, size_t m, size_t n, size_t k, int runs,
                                      double *seconds, double *gflops);
/* Device-to-device copy of `bytes`; GB/s counts bytes read + written (2 * bytes / time). */
NNCL_API nncl_status nncl_bench_copy(nncl_context *ctx, size_t bytes, int runs, double *seconds,
                                     double *gbps);

/* ---- conv (lib/bench/bench_conv.c) ---- */

/* ---- ops (lib/bench/bench_ops.c) ---- */

/* ---- rnn (lib/bench/bench_rnn.c) ---- */

/* ---- peak (lib/bench/bench_peak.c) ---- */

#ifdef __cplusplus
}
#endif
#endif
