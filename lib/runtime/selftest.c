/* selftest.c: proves the device compiles and runs nncl's kernels correctly: vector add,
   -D options with scalars, local-memory reduction, and a CLBlast SGEMM, each against C. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/selftest.h"
#include "runtime.h"

#define N_ELEMS (1u << 20)
#define GEMM_N 67 /* deliberately not a multiple of any tile size */

static float frand(unsigned *s) {
  *s = *s * 1664525u + 1013904223u;
  return (float)((*s >> 8) & 0xffff) / 65536.0f - 0.5f;
}

static nncl_selftest_check *begin(nncl_selftest_report *r, const char *name, double *t0) {
  nncl_selftest_check *c = &r->checks[r->count++];
  memset(c, 0, sizeof *c);
  snprintf(c->name, sizeof c->name, "%s", name);
  *t0 = nncl__now_ns();
  return c;
}

static void finish(nncl_selftest_report *r, nncl_selftest_check *c, double t0, double err,
                   double tol) {
  c->seconds = (nncl__now_ns() - t0) * 1e-9;
  c->max_abs_error = err;
  c->passed = err <= tol;
  if (c->passed) r->passed++;
  snprintf(c->detail, sizeof c->detail, "max |error| %.3g (tolerance %.3g)", err, tol);
}

struct bufs {
  cl_mem a, b, c;
  float *ha, *hb, *hc;
};

static void free_bufs(struct bufs *b) {
  nncl__buffer_release(b->a);
  nncl__buffer_release(b->b);
  nncl__buffer_release(b->c);
  free(b->ha);
  free(b->hb);
  free(b->hc);
}

static nncl_status run_checks(nncl_context *ctx, nncl_selftest_report *r, struct bufs *b) {
  const cl_uint n = N_ELEMS;
  const size_t bytes = n * sizeof(float);
  b->ha = malloc(bytes);
  b->hb = malloc(bytes);
  b->hc = malloc(bytes);
  if (!b->ha || !b->hb || !b->hc)
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "selftest buffers");
  unsigned seed = 12345;
  for (cl_uint i = 0; i < n; i++) {
    b->ha[i] = frand(&seed);
    b->hb[i] = frand(&seed);
  }
  NNCL_TRY(nncl__buffer_from_host(ctx, b->ha, bytes, "selftest a", &b->a));
  NNCL_TRY(nncl__buffer_from_host(ctx, b->hb, bytes, "selftest b", &b->b));
  NNCL_TRY(nncl__buffer_create(ctx, bytes, "selftest c", &b->c));
  double t0;
  size_t local = 64, global = n;

  /* 1. vector add */
  nncl_selftest_check *c = begin(r, "vector add (1M floats)", &t0);
  cl_kernel k;
  NNCL_TRY(nncl__kernel_get(ctx, "selftest", NULL, "selftest_vadd", &k));
  NNCL_TRY(NNCL_LAUNCH(ctx, k, "selftest_vadd", 1, &global, &local, NNCL_ARG(b->a), NNCL_ARG(b->b),
                       NNCL_ARG(b->c), NNCL_ARG(n)));
  NNCL_TRY(nncl__buffer_download(ctx, b->c, 0, b->hc, bytes));
  double err = 0;
  for (cl_uint i = 0; i < n; i++) err = fmax(err, fabs((double)b->hc[i] - (b->ha[i] + b->hb[i])));
  finish(r, c, t0, err, 0);

  /* 2. -D option and scalar argument: y = 2 * (0.5 x + y) */
  c = begin(r, "axpby with -D SCALE=2", &t0);
  NNCL_TRY(nncl__kernel_get(ctx, "selftest", "-DSCALE=2.0f", "selftest_axpby", &k));
  NNCL_TRY(nncl__buffer_copy(ctx, b->b, 0, b->c, 0, bytes));
  float alpha = 0.5f;
  NNCL_TRY(NNCL_LAUNCH(ctx, k, "selftest_axpby", 1, &global, &local, NNCL_ARG(alpha),
                       NNCL_ARG(b->a), NNCL_ARG(b->c), NNCL_ARG(n)));
  NNCL_TRY(nncl__buffer_download(ctx, b->c, 0, b->hc, bytes));
  err = 0;
  for (cl_uint i = 0; i < n; i++)
    err = fmax(err, fabs((double)b->hc[i] - 2.0 * (0.5 * b->ha[i] + b->hb[i])));
  finish(r, c, t0, err, 1e-6);

  /* 3. local-memory reduction with a partial last group (n2 not a multiple of 128) */
  c = begin(r, "work-group sum in local memory", &t0);
  const cl_uint n2 = 100003;
  size_t l2 = 128, g2 = n2;
  size_t groups = (n2 + l2 - 1) / l2;
  NNCL_TRY(nncl__kernel_get(ctx, "selftest", NULL, "selftest_group_sum", &k));
  NNCL_TRY(NNCL_LAUNCH(ctx, k, "selftest_group_sum", 1, &g2, &l2, NNCL_ARG(b->a), NNCL_ARG(b->c),
                       NNCL_LOCAL(l2 * sizeof(float)), NNCL_ARG(n2)));
  NNCL_TRY(nncl__buffer_download(ctx, b->c, 0, b->hc, groups * sizeof(float)));
  err = 0;
  for (size_t g = 0; g < groups; g++) {
    double s = 0;
    for (size_t i = g * l2; i < (g + 1) * l2 && i < n2; i++) s += b->ha[i];
    err = fmax(err, fabs(s - b->hc[g]));
  }
  finish(r, c, t0, err, 1e-4);

  /* 4. CLBlast SGEMM, 67x67x67 */
  c = begin(r, "CLBlast SGEMM 67x67x67", &t0);
  const size_t m = GEMM_N;
  NNCL_TRY(nncl__sgemm(ctx, false, true, m, m, m, 1.0f, b->a, 0, m, b->b, 0, m, 0.0f, b->c, 0, m));
  NNCL_TRY(nncl__buffer_download(ctx, b->c, 0, b->hc, m * m * sizeof(float)));
  err = 0;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < m; j++) {
      double s = 0;
      for (size_t p = 0; p < m; p++) s += (double)b->ha[i * m + p] * b->hb[j * m + p];
      err = fmax(err, fabs(s - b->hc[i * m + j]));
    }
  finish(r, c, t0, err, 1e-4);
  return NNCL_OK;
}

nncl_status nncl_selftest(nncl_context *ctx, nncl_selftest_report *report) {
  if (!ctx || !report) return NNCL_ERR_INVALID_ARGUMENT;
  memset(report, 0, sizeof *report);
  struct bufs b = {0};
  nncl_status st = run_checks(ctx, report, &b);
  free_bufs(&b);
  return st;
}
