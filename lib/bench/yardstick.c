/* yardstick.c: the same-run references every benchmark is read against: CLBlast SGEMM throughput
   and device copy bandwidth, measured on the benchmark's own context. */
#include "nncl/bench.h"
#include "runtime.h"

struct gemm_args {
  nncl_context *ctx;
  size_t m, n, k;
  cl_mem a, b, c;
};

static nncl_status gemm_once(void *p) {
  struct gemm_args *g = p;
  return nncl__sgemm(g->ctx, false, false, g->m, g->n, g->k, 1.0f, g->a, 0, g->k, g->b, 0, g->n,
                     0.0f, g->c, 0, g->n);
}

nncl_status nncl_bench_sgemm(nncl_context *ctx, size_t m, size_t n, size_t k, int runs,
                             double *seconds, double *gflops) {
  if (!ctx || !m || !n || !k) return NNCL_ERR_INVALID_ARGUMENT;
  struct gemm_args g = {ctx, m, n, k, NULL, NULL, NULL};
  nncl_status st = nncl__buffer_create(ctx, m * k * 4, "yardstick A", &g.a);
  if (st == NNCL_OK) st = nncl__buffer_create(ctx, k * n * 4, "yardstick B", &g.b);
  if (st == NNCL_OK) st = nncl__buffer_create(ctx, m * n * 4, "yardstick C", &g.c);
  if (st == NNCL_OK) st = nncl__buffer_fill_zero(ctx, g.a, 0, m * k * 4);
  if (st == NNCL_OK) st = nncl__buffer_fill_zero(ctx, g.b, 0, k * n * 4);
  double t = 0;
  if (st == NNCL_OK) st = nncl__time_median(ctx, 1, runs, gemm_once, &g, &t);
  nncl__buffer_release(g.a);
  nncl__buffer_release(g.b);
  nncl__buffer_release(g.c);
  if (st != NNCL_OK) return st;
  if (seconds) *seconds = t;
  if (gflops) *gflops = 2.0 * (double)m * (double)n * (double)k / t * 1e-9;
  return NNCL_OK;
}

struct copy_args {
  nncl_context *ctx;
  size_t bytes;
  cl_mem a, b;
};

static nncl_status copy_once(void *p) {
  struct copy_args *c = p;
  return nncl__buffer_copy(c->ctx, c->a, 0, c->b, 0, c->bytes);
}

nncl_status nncl_bench_copy(nncl_context *ctx, size_t bytes, int runs, double *seconds,
                            double *gbps) {
  if (!ctx || !bytes) return NNCL_ERR_INVALID_ARGUMENT;
  struct copy_args c = {ctx, bytes, NULL, NULL};
  nncl_status st = nncl__buffer_create(ctx, bytes, "copy yardstick source", &c.a);
  if (st == NNCL_OK) st = nncl__buffer_create(ctx, bytes, "copy yardstick destination", &c.b);
  if (st == NNCL_OK) st = nncl__buffer_fill_zero(ctx, c.a, 0, bytes);
  double t = 0;
  if (st == NNCL_OK) st = nncl__time_median(ctx, 1, runs, copy_once, &c, &t);
  nncl__buffer_release(c.a);
  nncl__buffer_release(c.b);
  if (st != NNCL_OK) return st;
  if (seconds) *seconds = t;
  if (gbps) *gbps = 2.0 * (double)bytes / t * 1e-9;
  return NNCL_OK;
}
