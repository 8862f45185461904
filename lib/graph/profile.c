/* profile.c: nncl_graph_profile: plans (timing the one-time costs), warms up, then runs the graph
   with a profiling session around each run and hands the timings to profile_build. Uses only the
   public graph API and the profiling session, never executor internals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/profile.h"
#include "place_cost.h"
#include "profile_build.h"

static void free_runs(struct profile_run *runs, int n) {
  for (int r = 0; r < n; r++) free(runs[r].t);
  free(runs);
}

/* Plans the graph inside a profiling session so the transfers it makes (weights, inputs) and
   the programs it builds are counted as one-time costs. */
static nncl_status plan_measured(nncl_graph *g, nncl_profile *out) {
  nncl_context *ctx = nncl_graph_context(g);
  nncl_stats s0;
  nncl_context_stats(ctx, &s0);
  NNCL_TRY(nncl__prof_begin(ctx));
  double t0 = nncl__now_ns();
  nncl_status st = nncl_graph_plan(g);
  double t1 = nncl__now_ns();
  struct prof_timing *t = NULL;
  size_t n = 0;
  nncl_status end = nncl__prof_end(ctx, &t, &n);
  if (st == NNCL_OK) st = end;
  if (st != NNCL_OK) {
    free(t);
    return st;
  }
  out->one_time = 1;
  out->plan_seconds = (t1 - t0) * 1e-9;
  for (size_t i = 0; i < n; i++) {
    if (!t[i].kernel || strcmp(t[i].kernel, "upload") != 0) continue;
    out->uploads++;
    out->upload_ns += t[i].end_ns - t[i].start_ns;
  }
  free(t);
  nncl_stats s1;
  nncl_context_stats(ctx, &s1);
  out->program_builds = s1.program_builds - s0.program_builds;
  out->program_disk_hits = s1.program_disk_hits - s0.program_disk_hits;
  out->build_seconds = s1.build_seconds - s0.build_seconds;
  return NNCL_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median_of(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* One profiled run. */
static nncl_status run_profiled(nncl_graph *g, struct profile_run *r) {
  nncl_context *ctx = nncl_graph_context(g);
  NNCL_TRY(nncl__prof_begin(ctx));
  double t0 = nncl__now_ns();
  nncl_status st = nncl_graph_run(g);
  r->wall_ns = nncl__now_ns() - t0;
  nncl_status end = nncl__prof_end(ctx, &r->t, &r->n);
  return st != NNCL_OK ? st : end;
}

static nncl_status collect_nodes(nncl_graph *g, nncl_node_info **out, int *count) {
  int n = nncl_graph_num_planned_nodes(g);
  *out = NULL;
  *count = 0;
  if (n <= 0) return NNCL_OK;
  nncl_node_info *nodes = calloc((size_t)n, sizeof *nodes);
  if (!nodes)
    return nncl__error(nncl_graph_context(g), NNCL_ERR_OUT_OF_HOST_MEMORY, "profile: %d nodes", n);
  for (int i = 0; i < n; i++) {
    nncl_status st = nncl_graph_planned_node(g, i, &nodes[i]);
    if (st != NNCL_OK) {
      free(nodes);
      return nncl__error(nncl_graph_context(g), st, "profile: reading planned node %d of %d", i, n);
    }
  }
  *out = nodes;
  *count = n;
  return NNCL_OK;
}

nncl_status nncl_graph_profile(nncl_graph *g, int runs, int warmup, nncl_profile *out) {
  if (!g || !out) return NNCL_ERR_INVALID_ARGUMENT;
  memset(out, 0, sizeof *out);
  nncl_context *ctx = nncl_graph_context(g);
  if (runs < 1) runs = 1;
  if (warmup < 0) warmup = 0;
  if (nncl__prof_active(ctx))
    return nncl__error(ctx, NNCL_ERR_STATE,
                       "nncl_graph_profile: a profiling session is already on");
  out->runs = runs;
  out->warmup = warmup;
  snprintf(out->device, sizeof out->device, "%s", nncl_context_device(ctx)->name);

  /* Peaks first, so measuring them (first use on this device) stays out of the one-time costs. */
  nncl_peak peak;
  int have_peak = nncl_bench_peak(ctx, 0, &peak) == NNCL_OK;
  if (!have_peak)
    nncl__log(ctx, NNCL_LOG_WARN, "profile: device peaks unavailable (%s); no roofline figures",
              nncl_context_last_error(ctx));

  if (nncl_graph_num_planned_nodes(g) == 0) NNCL_TRY(plan_measured(g, out));
  nncl_stats s0;
  nncl_context_stats(ctx, &s0);
  for (int w = 0; w < warmup; w++) {
    double t0 = nncl__now_ns();
    NNCL_TRY(nncl_graph_run(g));
    if (w == 0) out->first_run_ns = nncl__now_ns() - t0;
  }
  /* Programs a node builds lazily on its first run are one-time costs too. */
  nncl_stats s1;
  nncl_context_stats(ctx, &s1);
  out->program_builds += s1.program_builds - s0.program_builds;
  out->program_disk_hits += s1.program_disk_hits - s0.program_disk_hits;
  out->build_seconds += s1.build_seconds - s0.build_seconds;

  struct profile_run *rs = calloc((size_t)runs, sizeof *rs);
  if (!rs) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "profile: %d runs", runs);
  double *plain = malloc((size_t)runs * sizeof *plain);
  nncl_status st = plain ? NNCL_OK : nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "profile");
  for (int r = 0; r < runs && st == NNCL_OK; r++) {
    st = run_profiled(g, &rs[r]);
    double t0 = nncl__now_ns();
    if (st == NNCL_OK) st = nncl_graph_run(g);
    if (st == NNCL_OK) plain[r] = nncl__now_ns() - t0;
  }
  if (st == NNCL_OK) out->wall_plain_ns = median_of(plain, runs);
  free(plain);
  nncl_node_info *nodes = NULL;
  int n_nodes = 0;
  if (st == NNCL_OK) st = collect_nodes(g, &nodes, &n_nodes);
  if (st == NNCL_OK)
    st = profile_build(ctx, rs, runs, nodes, n_nodes, have_peak ? &peak : NULL, out);
  free(nodes);
  free_runs(rs, runs);
  if (st != NNCL_OK) return st;
  /* each node's time on its device, for automatic placement on several devices */
  for (int i = 0; i < out->n_nodes; i++)
    place_remember(ctx, &out->nodes[i].info, out->nodes[i].device_ns);

  nncl_graph_summary sum;
  if (nncl_graph_summarize(g, &sum) == NNCL_OK) {
    out->arena_bytes = sum.arena_bytes;
    out->intermediates_bytes = sum.intermediates_bytes;
    out->weight_bytes = sum.weight_bytes;
    out->workspace_bytes = sum.workspace_bytes;
  }
  return NNCL_OK;
}
