/* yardstick.c: the same-run references every benchmark is read against: SGEMM throughput (CLBlast,
   or any implementation of the matrix-product engine) and device copy bandwidth, measured on the
   benchmark's own context. */
#include <stdio.h>
#include <string.h>

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

/* Times the product with the engine forced to `force` (NNCL_GEMM_AUTO: the planner's choice). */
static nncl_status time_sgemm(nncl_context *ctx, int force, size_t m, size_t n, size_t k, int runs,
                              double *seconds, double *gflops, char *picked) {
  if (!ctx || !m || !n || !k) return NNCL_ERR_INVALID_ARGUMENT;
  struct gemm_args g = {ctx, m, n, k, NULL, NULL, NULL};
  nncl_status st = nncl__buffer_create(ctx, m * k * 4, "yardstick A", &g.a);
  if (st == NNCL_OK) st = nncl__buffer_create(ctx, k * n * 4, "yardstick B", &g.b);
  if (st == NNCL_OK) st = nncl__buffer_create(ctx, m * n * 4, "yardstick C", &g.c);
  if (st == NNCL_OK) st = nncl__buffer_fill_zero(ctx, g.a, 0, m * k * 4);
  if (st == NNCL_OK) st = nncl__buffer_fill_zero(ctx, g.b, 0, k * n * 4);
  double t = 0;
  const char *saved = nncl__option_value(&ctx->options, NNCL__OPT_GEMM_IMPL);
  if (st == NNCL_OK)
    st = nncl_context_set_option(ctx, "gemm.impl", force ? nncl__gemm_impl_name(force) : "auto");
  struct nncl__gemm_choice ch = {0};
  const struct nncl__gemm shape = {.m = m, .n = n, .k = k, .lda = k, .ldb = n, .ldc = n};
  if (st == NNCL_OK) st = nncl__gemm_prepare(ctx, &shape, &ch);
  if (st == NNCL_OK) st = nncl__time_median(ctx, 1, runs, gemm_once, &g, &t);
  nncl_context_set_option(ctx, "gemm.impl", saved); /* restores what the caller had */
  nncl__buffer_release(g.a);
  nncl__buffer_release(g.b);
  nncl__buffer_release(g.c);
  if (st != NNCL_OK) return st;
  if (seconds) *seconds = t;
  if (gflops) *gflops = 2.0 * (double)m * (double)n * (double)k / t * 1e-9;
  if (picked) snprintf(picked, 16, "%s", nncl__gemm_impl_name(ch.impl));
  return NNCL_OK;
}

nncl_status nncl_bench_sgemm(nncl_context *ctx, size_t m, size_t n, size_t k, int runs,
                             double *seconds, double *gflops) {
  return time_sgemm(ctx, NNCL_GEMM_CLBLAST, m, n, k, runs, seconds, gflops, NULL);
}

nncl_status nncl_bench_sgemm_impl(nncl_context *ctx, const char *impl, size_t m, size_t n, size_t k,
                                  int runs, double *seconds, double *gflops, char *picked) {
  if (!ctx || !impl) return NNCL_ERR_INVALID_ARGUMENT;
  int force;
  if (strcmp(impl, "auto") == 0)
    force = NNCL_GEMM_AUTO;
  else if (strcmp(impl, "clblast") == 0)
    force = NNCL_GEMM_CLBLAST;
  else if (strcmp(impl, "ours") == 0)
    force = m <= 8 ? NNCL_GEMM_GEMV : ctx->info.is_gpu ? NNCL_GEMM_LOCAL : NNCL_GEMM_PACKED;
  else
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT,
                       "SGEMM implementation '%s': expected auto, clblast or ours", impl);
  return time_sgemm(ctx, force, m, n, k, runs, seconds, gflops, picked);
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
