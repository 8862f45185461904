/* bench_peak.c: measures the device's roofs with the microkernels of kernels/peak.cl: float32
   multiply-add throughput, global memory read/write/copy bandwidth, host<->device transfer
   bandwidth and kernel launch latency. Peaks are "best of a few" rounds: a peak is what the
   device can do, and on a shared machine the slowest rounds mostly measure the neighbours. */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nncl/bench.h"
#include "peak_cache.h"
#include "runtime.h"

#define PEAK_SOURCE "peak"
#define PEAK_READS 16  /* must match the kernel's default */
#define ROUNDS 5       /* timed rounds per figure, after one warm-up */
#define TARGET_NS 20e6 /* each throughput launch is calibrated to run about this long */

static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

/* Every peak kernel comes from one program. Hardware FMA makes fma() the fastest multiply-add;
   without it fma() is emulated and mad() is the fast one. */
static nncl_status peak_kernel(nncl_context *ctx, const char *name, cl_kernel *k) {
  cl_device_fp_config fp = 0;
  clGetDeviceInfo(ctx->device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL);
  const char *options =
      (fp & CL_FP_FMA) && !(fp & CL_FP_SOFT_FLOAT) ? "-D PEAK_FMA=1" : "-D PEAK_FMA=0";
  return nncl__kernel_get(ctx, PEAK_SOURCE, options, name, k);
}

/* Work-group size for a kernel: 256 or what the device and kernel allow. */
static size_t group_size(nncl_context *ctx, cl_kernel k) {
  size_t wg = 256, kmax = 0;
  if (ctx->info.max_work_group_size && ctx->info.max_work_group_size < wg)
    wg = ctx->info.max_work_group_size;
  if (clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kmax, &kmax,
                               NULL) == CL_SUCCESS &&
      kmax && kmax < wg)
    wg = kmax;
  return wg ? wg : 1;
}

/* Wall time of one launch-and-wait, in ns. */
typedef nncl_status (*launch_fn)(nncl_context *ctx, void *arg);
static nncl_status time_once(nncl_context *ctx, launch_fn fn, void *arg, double *ns) {
  double t0 = nncl__now_ns();
  NNCL_TRY(fn(ctx, arg));
  NNCL_TRY(nncl_context_finish(ctx));
  *ns = nncl__now_ns() - t0;
  return NNCL_OK;
}

/* Best of ROUNDS launches after one warm-up (which also builds the work-group function). */
static nncl_status time_best(nncl_context *ctx, launch_fn fn, void *arg, double *best) {
  double t;
  NNCL_TRY(time_once(ctx, fn, arg, &t));
  *best = 0;
  for (int r = 0; r < ROUNDS; r++) {
    NNCL_TRY(time_once(ctx, fn, arg, &t));
    if (*best == 0 || t < *best) *best = t;
  }
  return NNCL_OK;
}

/* ---- compute ---- */
struct fma_args {
  cl_kernel k;
  cl_mem out;
  size_t global, local;
  cl_uint n, iters;
};

static nncl_status fma_launch(nncl_context *ctx, void *p) {
  struct fma_args *a = p;
  const float mul = 0.999f, add = 0.001f, threshold = FLT_MAX; /* chains stay below 1: no store */
  return NNCL_LAUNCH(ctx, a->k, "peak_fma", 1, &a->global, &a->local, NNCL_ARG(a->out),
                     NNCL_ARG(a->n), NNCL_ARG(a->iters), NNCL_ARG(mul), NNCL_ARG(add),
                     NNCL_ARG(threshold));
}

/* GFLOP/s of one peak_fma_<type> kernel: iterations are doubled until a launch lasts about
   TARGET_NS, then the best of ROUNDS counts. */
static nncl_status measure_fma(nncl_context *ctx, const char *kernel, int width, cl_mem out,
                               size_t items, double *gflops) {
  struct fma_args a = {NULL, out, 0, 0, (cl_uint)items, 8};
  NNCL_TRY(peak_kernel(ctx, kernel, &a.k));
  a.local = group_size(ctx, a.k);
  a.global = round_up(items, a.local);
  double t = 0;
  NNCL_TRY(time_once(ctx, fma_launch, &a, &t)); /* warm-up */
  for (int i = 0; i < 24; i++) {
    NNCL_TRY(time_once(ctx, fma_launch, &a, &t));
    if (t >= TARGET_NS * 0.5 || a.iters >= (1u << 24)) break;
    double scale = t > 0 ? TARGET_NS / t : 16;
    if (scale > 16) scale = 16;
    if (scale < 2) scale = 2;
    a.iters = (cl_uint)((double)a.iters * scale);
  }
  double best;
  NNCL_TRY(time_best(ctx, fma_launch, &a, &best));
  /* PEAK_MAD64: 64 multiply-adds per iteration, 2 flops each, on `width` lanes. */
  double flops = (double)a.global * (double)a.iters * 128.0 * width;
  *gflops = flops / best;
  return NNCL_OK;
}

/* ---- memory ---- */
struct mem_args {
  cl_kernel k;
  int which; /* 0 read, 1 write, 2 copy */
  const char *label;
  cl_mem a, b;
  cl_uint n4;
  size_t global, local;
};

static nncl_status mem_launch(nncl_context *ctx, void *p) {
  struct mem_args *m = p;
  const float threshold = FLT_MAX, value = 1.0f; /* no store */
  switch (m->which) {
  case 0:
    return NNCL_LAUNCH(ctx, m->k, m->label, 1, &m->global, &m->local, NNCL_ARG(m->a),
                       NNCL_ARG(m->b), NNCL_ARG(m->n4), NNCL_ARG(threshold));
  case 1:
    return NNCL_LAUNCH(ctx, m->k, m->label, 1, &m->global, &m->local, NNCL_ARG(m->b),
                       NNCL_ARG(m->n4), NNCL_ARG(value));
  default:
    return NNCL_LAUNCH(ctx, m->k, m->label, 1, &m->global, &m->local, NNCL_ARG(m->a),
                       NNCL_ARG(m->b), NNCL_ARG(m->n4));
  }
}

/* Best of the interleaved layout (GPUs coalesce it) and the blocked one (CPUs stream it). */
static nncl_status measure_mem(nncl_context *ctx, int which, cl_mem a, cl_mem b, size_t bytes,
                               double *gbps) {
  static const char *const names[2][3] = {
      {"peak_read", "peak_write", "peak_copy"},
      {"peak_read_blocked", "peak_write_blocked", "peak_copy_blocked"}};
  *gbps = 0;
  for (int layout = 0; layout < 2; layout++) {
    struct mem_args m = {NULL, which, names[layout][which], a, b, (cl_uint)(bytes / 16), 0, 0};
    NNCL_TRY(peak_kernel(ctx, names[layout][which], &m.k));
    m.local = group_size(ctx, m.k);
    m.global = round_up((m.n4 + PEAK_READS - 1) / PEAK_READS, m.local);
    double best;
    NNCL_TRY(time_best(ctx, mem_launch, &m, &best));
    double g = (double)bytes * (which == 2 ? 2.0 : 1.0) / best;
    if (g > *gbps) *gbps = g;
  }
  return NNCL_OK;
}

/* ---- transfers ---- */
struct xfer_args {
  cl_mem dev;
  void *host;
  size_t bytes;
  int to_device;
};

static nncl_status xfer_launch(nncl_context *ctx, void *p) {
  struct xfer_args *x = p;
  return x->to_device ? nncl__buffer_upload(ctx, x->dev, 0, x->host, x->bytes)
                      : nncl__buffer_download(ctx, x->dev, 0, x->host, x->bytes);
}

/* ---- launch latency ---- */
struct empty_args {
  cl_kernel k;
  cl_mem out;
  int count;
};

static nncl_status empty_launch(nncl_context *ctx, void *p) {
  struct empty_args *e = p;
  const size_t one = 1;
  for (int i = 0; i < e->count; i++)
    NNCL_TRY(NNCL_LAUNCH(ctx, e->k, "peak_empty", 1, &one, &one, NNCL_ARG(e->out)));
  return NNCL_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static nncl_status measure_launch(nncl_context *ctx, cl_mem out, double *single_us,
                                  double *b2b_us) {
  struct empty_args e = {NULL, out, 1};
  NNCL_TRY(peak_kernel(ctx, "peak_empty", &e.k));
  enum { SINGLE = 101, BATCH = 256 };
  double t[SINGLE];
  NNCL_TRY(time_once(ctx, empty_launch, &e, &t[0])); /* warm-up */
  for (int i = 0; i < SINGLE; i++) NNCL_TRY(time_once(ctx, empty_launch, &e, &t[i]));
  qsort(t, SINGLE, sizeof *t, cmp_double);
  *single_us = t[SINGLE / 2] * 1e-3; /* a latency is what a typical call sees: the median */
  e.count = BATCH;
  double best;
  NNCL_TRY(time_best(ctx, empty_launch, &e, &best));
  *b2b_us = best / BATCH * 1e-3;
  return NNCL_OK;
}

nncl_status nncl_bench_peak_measure(nncl_context *ctx, nncl_peak *out) {
  if (!ctx || !out) return NNCL_ERR_INVALID_ARGUMENT;
  memset(out, 0, sizeof *out);
  snprintf(out->device, sizeof out->device, "%s", ctx->info.name);
  snprintf(out->driver, sizeof out->driver, "%s", ctx->info.driver_version);
  double t0 = nncl__now_ns();

  /* Buffers: 64 MiB each (well past any CPU's last-level cache), less when the device's largest
     allocation is smaller. */
  size_t bytes = (size_t)64 << 20;
  if (ctx->info.max_alloc_bytes && bytes > ctx->info.max_alloc_bytes / 2)
    bytes = (size_t)(ctx->info.max_alloc_bytes / 2);
  bytes = bytes / (16 * PEAK_READS) * (16 * PEAK_READS);
  size_t items = (size_t)(ctx->info.compute_units ? ctx->info.compute_units : 1) * 2048;

  cl_mem a = NULL, b = NULL, small = NULL;
  void *host = NULL;
  nncl_status st = nncl__buffer_create(ctx, bytes, "peak buffer A", &a);
  if (st == NNCL_OK) st = nncl__buffer_create(ctx, bytes, "peak buffer B", &b);
  /* One float per work-item of the FMA and read grids (stored only by tests, never here). */
  size_t outs = round_up(items, 256);
  if (outs < bytes / (16 * PEAK_READS) + 256) outs = bytes / (16 * PEAK_READS) + 256;
  if (st == NNCL_OK) st = nncl__buffer_create(ctx, outs * 4, "peak output", &small);
  if (st == NNCL_OK) st = nncl__buffer_fill_zero(ctx, a, 0, bytes);
  if (st == NNCL_OK) st = nncl__buffer_fill_zero(ctx, b, 0, bytes);
  if (st == NNCL_OK && !(host = malloc(bytes)))
    st = nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "peak: %zu bytes of host memory", bytes);
  if (st == NNCL_OK) memset(host, 1, bytes); /* touch every page before timing transfers */

  if (st == NNCL_OK)
    st = measure_fma(ctx, "peak_fma_float", 1, small, items, &out->fma_gflops_float);
  if (st == NNCL_OK)
    st = measure_fma(ctx, "peak_fma_float4", 4, small, items, &out->fma_gflops_float4);
  if (st == NNCL_OK)
    st = measure_fma(ctx, "peak_fma_float8", 8, small, items, &out->fma_gflops_float8);
  if (st == NNCL_OK)
    st = measure_fma(ctx, "peak_fma_float16", 16, small, items, &out->fma_gflops_float16);
  if (st == NNCL_OK) st = measure_mem(ctx, 0, a, small, bytes, &out->read_gbps);
  if (st == NNCL_OK) st = measure_mem(ctx, 1, a, b, bytes, &out->write_gbps);
  if (st == NNCL_OK) st = measure_mem(ctx, 2, a, b, bytes, &out->copy_gbps);
  if (st == NNCL_OK) {
    struct xfer_args x = {a, host, bytes, 1};
    double best;
    st = time_best(ctx, xfer_launch, &x, &best);
    if (st == NNCL_OK) out->h2d_gbps = (double)bytes / best;
    x.to_device = 0;
    if (st == NNCL_OK) st = time_best(ctx, xfer_launch, &x, &best);
    if (st == NNCL_OK) out->d2h_gbps = (double)bytes / best;
  }
  if (st == NNCL_OK) st = measure_launch(ctx, small, &out->launch_us, &out->launch_b2b_us);

  free(host);
  nncl__buffer_release(a);
  nncl__buffer_release(b);
  nncl__buffer_release(small);
  if (st != NNCL_OK) return st;

  out->fma_gflops = out->fma_gflops_float;
  if (out->fma_gflops_float4 > out->fma_gflops) out->fma_gflops = out->fma_gflops_float4;
  if (out->fma_gflops_float8 > out->fma_gflops) out->fma_gflops = out->fma_gflops_float8;
  if (out->fma_gflops_float16 > out->fma_gflops) out->fma_gflops = out->fma_gflops_float16;
  out->mem_gbps = out->read_gbps;
  if (out->write_gbps > out->mem_gbps) out->mem_gbps = out->write_gbps;
  if (out->copy_gbps > out->mem_gbps) out->mem_gbps = out->copy_gbps;
  out->measure_seconds = (nncl__now_ns() - t0) * 1e-9;
  out->measured_unix = (double)time(NULL);
  return NNCL_OK;
}

nncl_status nncl_bench_peak(nncl_context *ctx, int refresh, nncl_peak *out) {
  if (!ctx || !out) return NNCL_ERR_INVALID_ARGUMENT;
  if (!refresh && peak_cache_load(ctx, out) == NNCL_OK) return NNCL_OK;
  NNCL_TRY(nncl_bench_peak_measure(ctx, out));
  peak_cache_store(ctx, out);
  return NNCL_OK;
}

nncl_status nncl_bench_peak_load(nncl_context *ctx, nncl_peak *out) {
  if (!ctx || !out) return NNCL_ERR_INVALID_ARGUMENT;
  return peak_cache_load(ctx, out);
}
