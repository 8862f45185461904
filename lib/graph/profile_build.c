/* profile_build.c: from raw timings of several profiled runs to the profile the table, CSV and
   trace show. Each command's time is its median over runs; a node's time is the sum of its
   commands', so the table adds up exactly and the trace (which lays the medians out on the median
   run's timeline) shows the same durations as the table. */
#include <stdlib.h>
#include <string.h>

#include "profile_build.h"

const char *nncl_bound_name(nncl_bound b) {
  switch (b) {
  case NNCL_BOUND_MEMORY: return "memory";
  case NNCL_BOUND_COMPUTE: return "compute";
  default: return "";
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v); the mean of the middle two for even n. */
static double median(double *v, int n) {
  if (n <= 0) return 0;
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double dur(const struct prof_timing *t) {
  return t->end_ns > t->start_ns ? t->end_ns - t->start_ns : 0;
}

static double run_busy(const struct profile_run *r) {
  double s = 0;
  for (size_t i = 0; i < r->n; i++) s += dur(&r->t[i]);
  return s;
}

static double run_span(const struct profile_run *r) {
  if (!r->n) return 0;
  double lo = r->t[0].start_ns, hi = r->t[0].end_ns;
  for (size_t i = 1; i < r->n; i++) {
    if (r->t[i].start_ns < lo) lo = r->t[i].start_ns;
    if (r->t[i].end_ns > hi) hi = r->t[i].end_ns;
  }
  return hi - lo;
}

/* Same command in another run: same position, label and node. */
static int same_command(const struct prof_timing *a, const struct prof_timing *b) {
  return a->node == b->node &&
         (a->kernel == b->kernel || (a->kernel && b->kernel && strcmp(a->kernel, b->kernel) == 0));
}

/* Roofline: the attainable throughput at intensity I is min(P, I * B). Below the ridge point
   (I < P / B) memory bounds the node and the figure is achieved bandwidth over B; above it,
   achieved FLOP/s over P. */
static void roofline(nncl_profile_node *n, const nncl_peak *peak) {
  n->gflops = n->device_ns > 0 ? n->info.flops / n->device_ns : 0;
  n->gbps = n->device_ns > 0 ? n->info.bytes / n->device_ns : 0;
  n->intensity = n->info.bytes > 0 ? n->info.flops / n->info.bytes : 0;
  n->bound = NNCL_BOUND_NONE;
  n->roof_pct = 0;
  if (!peak || peak->fma_gflops <= 0 || peak->mem_gbps <= 0 || n->device_ns <= 0) return;
  if (n->info.bytes <= 0 && n->info.flops <= 0) return;
  if (n->info.bytes > 0 && n->intensity < peak->fma_gflops / peak->mem_gbps) {
    n->bound = NNCL_BOUND_MEMORY;
    n->roof_pct = 100.0 * n->gbps / peak->mem_gbps;
  } else {
    n->bound = NNCL_BOUND_COMPUTE;
    n->roof_pct = 100.0 * n->gflops / peak->fma_gflops;
  }
}

static int cmp_op(const void *a, const void *b) {
  const nncl_profile_op *x = a, *y = b;
  if (x->device_ns != y->device_ns) return x->device_ns < y->device_ns ? 1 : -1;
  return strcmp(x->op_type, y->op_type);
}

static nncl_status build_ops(nncl_context *ctx, nncl_profile *p) {
  p->n_ops = 0;
  p->ops = p->n_nodes ? calloc((size_t)p->n_nodes, sizeof *p->ops) : NULL;
  if (p->n_nodes && !p->ops)
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "profile: op summary");
  for (int i = 0; i < p->n_nodes; i++) {
    const nncl_profile_node *n = &p->nodes[i];
    const char *type = n->info.op_type ? n->info.op_type : "?";
    int j = 0;
    while (j < p->n_ops && strcmp(p->ops[j].op_type, type) != 0) j++;
    if (j == p->n_ops) p->ops[p->n_ops++].op_type = type;
    p->ops[j].nodes++;
    p->ops[j].device_ns += n->device_ns;
    p->ops[j].flops += n->info.flops;
    p->ops[j].bytes += n->info.bytes;
  }
  for (int j = 0; j < p->n_ops; j++)
    p->ops[j].share = p->device_ns > 0 ? p->ops[j].device_ns / p->device_ns : 0;
  if (p->n_ops > 1) qsort(p->ops, (size_t)p->n_ops, sizeof *p->ops, cmp_op);
  return NNCL_OK;
}

/* Median, fastest and slowest time of command i of the reference run over the runs that
   enqueued the same command at that position. */
static void command_times(const struct profile_run *runs, int n_runs, const struct prof_timing *ref,
                          size_t i, double *scratch, nncl_profile_kernel *k) {
  int m = 0;
  for (int r = 0; r < n_runs; r++)
    if (runs[r].n > i && same_command(&runs[r].t[i], ref)) scratch[m++] = dur(&runs[r].t[i]);
  k->device_ns = median(scratch, m); /* sorted now */
  k->min_ns = m ? scratch[0] : 0;
  k->max_ns = m ? scratch[m - 1] : 0;
  m = 0;
  for (int r = 0; r < n_runs; r++)
    if (runs[r].n > i && same_command(&runs[r].t[i], ref))
      scratch[m++] = runs[r].t[i].host_enqueue_dur_ns;
  k->host_ns = median(scratch, m);
}

nncl_status profile_build(nncl_context *ctx, const struct profile_run *runs, int n_runs,
                          const nncl_node_info *nodes, int n_nodes, const nncl_peak *peak,
                          nncl_profile *out) {
  if (!runs || n_runs < 1 || n_nodes < 0 || (n_nodes && !nodes) || !out)
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "profile: no runs to build from");
  out->nodes = NULL;
  out->kernels = NULL;
  out->ops = NULL;
  out->n_nodes = out->n_kernels = out->n_ops = 0;

  double *busy = malloc((size_t)n_runs * sizeof *busy);
  double *scratch = malloc((size_t)n_runs * sizeof *scratch);
  if (!busy || !scratch) {
    free(busy);
    free(scratch);
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "profile: %d runs", n_runs);
  }
  /* The reference run is the one whose busy time is the median (the upper middle one for an
     even count): its sequence names the commands and its timeline lays out the trace. */
  for (int r = 0; r < n_runs; r++) busy[r] = run_busy(&runs[r]);
  for (int r = 0; r < n_runs; r++) scratch[r] = busy[r];
  qsort(scratch, (size_t)n_runs, sizeof *scratch, cmp_double);
  int ref = 0;
  while (ref < n_runs - 1 && busy[ref] != scratch[n_runs / 2]) ref++;
  out->busy_median_ns = median(busy, n_runs);
  out->busy_min_ns = busy[0]; /* sorted by median() */
  for (int r = 0; r < n_runs; r++) busy[r] = run_span(&runs[r]);
  out->span_ns = median(busy, n_runs);
  for (int r = 0; r < n_runs; r++) busy[r] = runs[r].wall_ns;
  out->wall_ns = median(busy, n_runs);
  free(busy);

  const struct profile_run *rr = &runs[ref];
  size_t nk = rr->n;
  out->nodes = n_nodes ? calloc((size_t)n_nodes, sizeof *out->nodes) : NULL;
  out->kernels = nk ? calloc(nk, sizeof *out->kernels) : NULL;
  if ((n_nodes && !out->nodes) || (nk && !out->kernels)) {
    free(scratch);
    free(out->nodes);
    free(out->kernels);
    out->nodes = NULL;
    out->kernels = NULL;
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "profile: %zu commands", nk);
  }
  out->n_nodes = n_nodes;
  out->n_kernels = (int)nk;
  for (int i = 0; i < n_nodes; i++) out->nodes[i].info = nodes[i];

  /* Host and device clocks differ; QUEUED is the device clock read inside the enqueue call whose
     host time we know, so the smallest QUEUED - host difference maps host onto device time. The
     timeline's zero is the session start (host time 0), just before nncl_graph_run began. */
  double off = 0, zero = 0;
  for (size_t i = 0; i < nk; i++) {
    double d = rr->t[i].queued_ns - rr->t[i].host_enqueue_ns;
    if (i == 0 || d < off) off = d;
  }
  zero = off;
  for (size_t i = 0; i < nk; i++)
    if (rr->t[i].start_ns < zero) zero = rr->t[i].start_ns;

  double prev_end = 0, dev_end[NNCL_MAX_DEVICES] = {0}; /* each queue is in order */
  out->nodes_ns = out->other_ns = 0;
  for (size_t i = 0; i < nk; i++) {
    const struct prof_timing *t = &rr->t[i];
    nncl_profile_kernel *k = &out->kernels[i];
    k->name = t->kernel ? t->kernel : "?";
    k->node = t->node >= 0 && t->node < n_nodes ? t->node : -1;
    command_times(runs, n_runs, t, i, scratch, k);
    k->device = t->device >= 0 && t->device < NNCL_MAX_DEVICES ? t->device : 0;
    k->start_ns = t->start_ns - zero;
    if (k->start_ns < dev_end[k->device]) k->start_ns = dev_end[k->device];
    prev_end = dev_end[k->device] = k->start_ns + k->device_ns;
    k->host_enqueue_ns = t->host_enqueue_ns + off - zero;
    k->host_enqueue_dur_ns = t->host_enqueue_dur_ns;
    if (k->node < 0) {
      out->other_ns += k->device_ns;
      continue;
    }
    nncl_profile_node *n = &out->nodes[k->node];
    if (n->n_kernels == 0 || k->start_ns < n->start_ns) n->start_ns = k->start_ns;
    if (n->n_kernels == 0 || prev_end > n->end_ns) n->end_ns = prev_end;
    n->n_kernels++;
    n->device_ns += k->device_ns;
    n->host_ns += k->host_ns;
  }
  free(scratch);
  out->trace_ns = prev_end;
  out->run_start_ns = off - zero;
  out->run_wall_ns = rr->wall_ns;
  if (rr->wall_ns + off - zero > out->trace_ns) out->trace_ns = rr->wall_ns + off - zero;

  /* Nodes that launched nothing (views, folded work) sit at the end of the node before them. */
  double at = 0;
  out->flops = out->bytes = 0;
  for (int i = 0; i < n_nodes; i++) {
    nncl_profile_node *n = &out->nodes[i];
    if (n->n_kernels == 0)
      n->start_ns = n->end_ns = at;
    else
      at = n->end_ns;
    out->nodes_ns += n->device_ns;
    out->flops += n->info.flops;
    out->bytes += n->info.bytes;
  }
  out->device_ns = out->nodes_ns + out->other_ns;
  for (int i = 0; i < n_nodes; i++) {
    nncl_profile_node *n = &out->nodes[i];
    n->share = out->device_ns > 0 ? n->device_ns / out->device_ns : 0;
    roofline(n, peak);
  }
  if (peak) {
    out->peak = *peak;
    out->have_peak = 1;
  }
  nncl_status st = build_ops(ctx, out);
  if (st != NNCL_OK) {
    free(out->nodes);
    free(out->kernels);
    out->nodes = NULL;
    out->kernels = NULL;
    out->n_nodes = out->n_kernels = 0;
  }
  return st;
}

void nncl_profile_free(nncl_profile *p) {
  if (!p) return;
  free(p->nodes);
  free(p->kernels);
  free(p->ops);
  p->nodes = NULL;
  p->kernels = NULL;
  p->ops = NULL;
  p->n_nodes = p->n_kernels = p->n_ops = 0;
}
