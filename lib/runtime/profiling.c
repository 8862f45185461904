/* profiling.c: starts and ends profiling sessions and turns the recorded events into timings. */
#include <stdlib.h>

#include "profiling.h"

static void drop_records(nncl_context *ctx) {
  for (size_t i = 0; i < ctx->prof_count; i++)
    if (ctx->prof[i].event) clReleaseEvent(ctx->prof[i].event);
  ctx->prof_count = 0;
}

nncl_status nncl__prof_begin(nncl_context *ctx) {
  if (!ctx) return NNCL_ERR_INVALID_ARGUMENT;
  if (ctx->prof_enabled)
    return nncl__error(ctx, NNCL_ERR_STATE, "a profiling session is already on");
  double t0 = nncl__now_ns();
  for (int d = 0; d < ctx->n_dev; d++) {
    drop_records(ctx->dev[d]);
    ctx->dev[d]->prof_t0_ns = t0; /* one timeline for every device's records */
    ctx->dev[d]->prof_enabled = true;
  }
  return NNCL_OK;
}

bool nncl__prof_active(const nncl_context *ctx) { return ctx && ctx->prof_enabled; }

static int by_enqueue(const void *a, const void *b) {
  double x = ((const struct prof_timing *)a)->host_enqueue_ns;
  double y = ((const struct prof_timing *)b)->host_enqueue_ns;
  return (x > y) - (x < y);
}

static nncl_status read_time(nncl_context *ctx, cl_event ev, cl_profiling_info what, double *out) {
  cl_ulong t = 0;
  cl_int err = clGetEventProfilingInfo(ev, what, sizeof t, &t, NULL);
  if (err != CL_SUCCESS) return nncl__cl_error(ctx, err, "reading a profiling event");
  *out = (double)t;
  return NNCL_OK;
}

nncl_status nncl__prof_end(nncl_context *ctx, struct prof_timing **out, size_t *count) {
  if (!ctx || !out || !count) return NNCL_ERR_INVALID_ARGUMENT;
  *out = NULL;
  *count = 0;
  if (!ctx->prof_enabled) return nncl__error(ctx, NNCL_ERR_STATE, "no profiling session is on");
  size_t total = 0, n = 0;
  for (int d = 0; d < ctx->n_dev; d++) {
    ctx->dev[d]->prof_enabled = false;
    total += ctx->dev[d]->prof_count;
  }
  nncl_status st = nncl_context_finish(ctx);
  struct prof_timing *t = NULL;
  if (st == NNCL_OK && total) {
    t = malloc(total * sizeof *t);
    if (!t) st = nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "profiling: %zu records", total);
  }
  for (int d = 0; d < ctx->n_dev; d++)
    for (size_t i = 0; st == NNCL_OK && i < ctx->dev[d]->prof_count; i++) {
      const struct prof_record *r = &ctx->dev[d]->prof[i];
      struct prof_timing *p = &t[n++];
      p->kernel = r->kernel;
      p->node = r->node;
      p->device = d;
      p->host_enqueue_ns = r->host_enqueue_ns;
      p->host_enqueue_dur_ns = r->host_enqueue_dur_ns;
      st = read_time(ctx, r->event, CL_PROFILING_COMMAND_QUEUED, &p->queued_ns);
      if (st == NNCL_OK) st = read_time(ctx, r->event, CL_PROFILING_COMMAND_SUBMIT, &p->submit_ns);
      if (st == NNCL_OK) st = read_time(ctx, r->event, CL_PROFILING_COMMAND_START, &p->start_ns);
      if (st == NNCL_OK) st = read_time(ctx, r->event, CL_PROFILING_COMMAND_END, &p->end_ns);
    }
  for (int d = 0; d < ctx->n_dev; d++) drop_records(ctx->dev[d]);
  if (st != NNCL_OK) {
    free(t);
    return st;
  }
  /* one device's records are already in enqueue order; several interleave by host time */
  if (t && ctx->n_dev > 1) qsort(t, total, sizeof *t, by_enqueue);
  *out = t;
  *count = t ? total : 0;
  return NNCL_OK;
}
