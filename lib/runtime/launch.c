/* launch.c: the one place kernels are enqueued. It rounds global sizes up to the work-group size,
   counts launches, and records a profiling event only while a profiling session is on, so
   profiling off costs nothing. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime.h"

double nncl__now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

cl_event *nncl__prof_slot(nncl_context *ctx, const char *label) {
  if (!ctx->prof_enabled) return NULL;
  if (ctx->prof_count == ctx->prof_cap) {
    size_t cap = ctx->prof_cap ? ctx->prof_cap * 2 : 256;
    struct prof_record *n = realloc(ctx->prof, cap * sizeof *n);
    if (!n) return NULL; /* profiling degrades to no record; the launch itself still happens */
    ctx->prof = n;
    ctx->prof_cap = cap;
  }
  struct prof_record *r = &ctx->prof[ctx->prof_count];
  memset(r, 0, sizeof *r);
  r->kernel = label;
  r->node = ctx->current_node;
  r->host_enqueue_ns = nncl__now_ns() - ctx->prof_t0_ns;
  return &r->event;
}

void nncl__prof_commit(nncl_context *ctx, cl_event *slot, cl_int enqueue_status) {
  if (!slot) return;
  struct prof_record *r = &ctx->prof[ctx->prof_count];
  if (enqueue_status != CL_SUCCESS || !*slot) return;
  r->host_enqueue_dur_ns = nncl__now_ns() - ctx->prof_t0_ns - r->host_enqueue_ns;
  ctx->prof_count++;
}

nncl_status nncl__launch_args(nncl_context *ctx, cl_kernel k, const char *label, cl_uint dims,
                              const size_t *global, const size_t *local, size_t nargs,
                              const struct nncl__karg *args) {
  if (ctx->plan_dry) return NNCL_OK; /* k is NULL: nncl__kernel_get built nothing */
  for (size_t i = 0; i < nargs; i++) {
    cl_int err = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].ptr);
    if (err != CL_SUCCESS) {
      char name[128] = "?";
      clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
      return nncl__cl_error(ctx, err, "setting argument %zu of kernel %s", i, name);
    }
  }
  size_t g[3];
  for (cl_uint d = 0; d < dims; d++) {
    g[d] = global[d];
    if (g[d] == 0) return NNCL_OK; /* empty tensor: nothing to do */
    if (local && local[d]) g[d] = (g[d] + local[d] - 1) / local[d] * local[d];
  }
  if (!label) {
    static const char unnamed[] = "kernel";
    label = unnamed;
  }
  cl_event *ev = nncl__prof_slot(ctx, label);
  cl_int err = clEnqueueNDRangeKernel(ctx->queue, k, dims, NULL, g, local, 0, NULL, ev);
  nncl__prof_commit(ctx, ev, err);
  if (err != CL_SUCCESS) {
    char name[128] = "?";
    clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
    return nncl__cl_error(ctx, err, "enqueue of kernel %s (%s)", name, label);
  }
  ctx->stats.kernel_launches++;
  return NNCL_OK;
}
