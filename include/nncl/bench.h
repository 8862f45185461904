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
/* The same product through one implementation of the matrix-product engine: "clblast", "ours"
   (our kernel for the shape: packed, gemv or local) or "auto" (what the planner picks). *picked
   (may be NULL, >= 16 bytes) gets the name of the implementation that ran. */
NNCL_API nncl_status nncl_bench_sgemm_impl(nncl_context *ctx, const char *impl, size_t m, size_t n,
                                           size_t k, int runs, double *seconds, double *gflops,
                                           char *picked);
/* Device-to-device copy of `bytes`; GB/s counts bytes read + written (2 * bytes / time). */
NNCL_API nncl_status nncl_bench_copy(nncl_context *ctx, size_t bytes, int runs, double *seconds,
                                     double *gbps);

/* ---- conv (lib/bench/bench_conv.c) ---- */
/* One layer of the fixed convolution table (ResNet-18, VGG-16 at 224x224, AlexNet conv1,
   MobileNetV2 depthwise 3x3, a DeconvNet-style stride-2 ConvTranspose). Square kernels' pads are
   symmetric. */
typedef struct nncl_bench_conv_layer {
  const char *net, *name;
  int transpose; /* ConvTranspose */
  int C, H, W, K, R, S, stride, pad, groups, output_padding;
  int quick; /* part of the default short run */
} nncl_bench_conv_layer;
/* The table; returns its length. */
NNCL_API int nncl_bench_conv_layers(const nncl_bench_conv_layer **out);

#define NNCL_BENCH_CONV_MAX_ALGOS 8
typedef struct nncl_bench_conv_algo {
  char name[32];
  double seconds, gflops; /* -1 when the algorithm failed on this layer (e.g. out of memory) */
} nncl_bench_conv_algo;
typedef struct nncl_bench_conv_result {
  int out_h, out_w;
  double flops;    /* 2 * N * K * (C/groups) * R * S * OH * OW (input pixels for ConvTranspose) */
  char picked[32]; /* the heuristic's choice (or the autotuner's, under NNCL_CONV_AUTOTUNE=1) */
  double picked_seconds, picked_gflops;
  int n_algos; /* every eligible algorithm, each forced in turn */
  nncl_bench_conv_algo algos[NNCL_BENCH_CONV_MAX_ALGOS];
  double sgemm_seconds,
      sgemm_gflops; /* CLBlast SGEMM of the layer's implicit GEMM size, same run */
} nncl_bench_conv_result;
/* Times one layer at `batch` (median of `runs`, ReLU fused, bias on): the pick, and when
   all_algos every eligible algorithm; then the SGEMM yardstick. */
NNCL_API nncl_status nncl_bench_conv_run(nncl_context *ctx, const nncl_bench_conv_layer *layer,
                                         int batch, int runs, int all_algos,
                                         nncl_bench_conv_result *out);

/* ---- ops (lib/bench/bench_ops.c) ---- */
/* Memory-bound ops (element-wise, broadcast, Softmax, reductions, pooling) on large tensors,
   read against the device copy bandwidth (nncl_bench_copy) of the same run. Rows whose op is
   not in this build's op table are reported unavailable, not run. */
typedef struct nncl_bench_op {
  const char *name; /* row label, e.g. "Add channel broadcast" */
  const char *op;   /* ONNX op type, looked up in the op table at run time */
} nncl_bench_op;
/* The table; returns its length. */
NNCL_API int nncl_bench_ops_table(const nncl_bench_op **out);

typedef struct nncl_bench_op_result {
  int available;   /* 0: the op is missing from the op table; nothing ran */
  char shape[128]; /* the inputs, e.g. "[64, 256, 32, 32] + [1, 256, 1, 1]" */
  char algo[32];   /* the algorithm the op picked */
  double seconds;  /* median of runs */
  double bytes;    /* bytes read + written, each once (inputs + outputs) */
  double gbps;     /* bytes / seconds * 1e-9 */
} nncl_bench_op_result;
/* Times row `index` with its big input holding about `elements` floats (1 << 24 is the
   reference size); median of `runs` after two warm-up runs. */
NNCL_API nncl_status nncl_bench_op_run(nncl_context *ctx, int index, size_t elements, int runs,
                                       nncl_bench_op_result *out);

/* ---- rnn (lib/bench/bench_rnn.c) ---- */
/* One recurrent network: `layers` stacked LSTM or GRU layers (uni- or bidirectional) over a
   sequence, timed as the ops run (CLBlast projections + per-step GEMM and fused gates). */
typedef struct nncl_bench_rnn {
  const char *cell;                                     /* "LSTM" or "GRU" (input) */
  int input, hidden, seq, batch, layers, bidirectional; /* input */
  double seconds; /* median time of one whole sequence through every layer */
  double
      gflops; /* effective: 2 * gates * hidden * (in + hidden) * seq * batch * dirs, all layers */
  double step_us;          /* seconds / seq: latency per time step */
  double yardstick_gflops; /* CLBlast SGEMM m = seq*batch, n = dirs*gates*hidden, k = input+hidden,
                              same run */
  double ratio;            /* gflops / yardstick_gflops */
} nncl_bench_rnn;
/* Runs one configuration; fills the output fields of *r. */
NNCL_API nncl_status nncl_bench_rnn_run(nncl_context *ctx, int runs, nncl_bench_rnn *r);

/* ---- peak (lib/bench/bench_peak.c, lib/bench/peak_cache.c) ---- */
/* What the device can do, measured by microkernels (kernels/peak.cl): the roofs the profiler
   reads every layer against. Bandwidths are in GB/s (1e9 bytes/s). */
typedef struct nncl_peak {
  char device[256]; /* device name and driver the figures belong to */
  char driver[128];
  double fma_gflops; /* best of the four below: the compute roof */
  double fma_gflops_float, fma_gflops_float4, fma_gflops_float8, fma_gflops_float16;
  /* multiply-add chains (fma() with hardware FMA, else mad()) */
  double read_gbps;          /* global memory, kernel reading */
  double write_gbps;         /* kernel writing */
  double copy_gbps;          /* kernel copying, read + written bytes */
  double mem_gbps;           /* the memory roof: best of read, write and copy */
  double h2d_gbps, d2h_gbps; /* clEnqueueWrite/ReadBuffer from/to pageable host memory */
  double launch_us;          /* one empty kernel, enqueue to clFinish return */
  double launch_b2b_us;      /* per empty kernel when many are enqueued back to back */
  double measure_seconds;    /* how long measuring took */
  double measured_unix;      /* when (seconds since the epoch) */
  int from_cache;            /* 1 when read from the cache file */
} nncl_peak;

/* Measures every figure now (a few seconds on a CPU device). */
NNCL_API nncl_status nncl_bench_peak_measure(nncl_context *ctx, nncl_peak *out);
/* The figures for this device: read from the cache file next to the program cache
   (nncl_context_cache_dir()/peak-<hash>.json, keyed by device name and driver) when present and
   `refresh` is 0; otherwise measured and stored there (best effort; no cache when the cache is
   off). */
NNCL_API nncl_status nncl_bench_peak(nncl_context *ctx, int refresh, nncl_peak *out);
/* Only the cache: NNCL_ERR_NOT_FOUND when this device has no valid cache file. */
NNCL_API nncl_status nncl_bench_peak_load(nncl_context *ctx, nncl_peak *out);
/* Path of this device's cache file into buf ("" when the cache is off); returns buf. */
NNCL_API char *nncl_bench_peak_path(nncl_context *ctx, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
