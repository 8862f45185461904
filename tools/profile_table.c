/* profile_table.c: the console report of `nncl profile`: per-node rows, a summary by op type,
   device time against wall time, memory and the one-time costs. */
#include <stdio.h>
#include <string.h>

#include "profile_write.h"

/* Copies s into buf, cut to `width` characters with a trailing '~' when longer. */
static const char *cut(const char *s, int width, char *buf, size_t len) {
  if (!s) s = "";
  size_t n = strlen(s), keep = n < len ? n : len - 1;
  memcpy(buf, s, keep);
  buf[keep] = 0;
  if ((int)keep > width && width > 1 && (size_t)width < len) {
    buf[width - 1] = '~';
    buf[width] = 0;
  }
  return buf;
}

static double mib(uint64_t b) { return (double)b / (1024.0 * 1024.0); }

static void print_nodes(FILE *f, const nncl_profile *p) {
  fprintf(f, "%4s  %-24s %-20s %-14s %10s %6s %9s %9s %-7s %6s %9s  %-28s %s\n", "#", "node",
          "op (+fused)", "algo", "time us", "%", "GFLOP/s", "GB/s", "bound", "%roof", "host us",
          "kernels", "inputs -> outputs");
  for (int i = 0; i < p->n_nodes; i++) {
    const nncl_profile_node *n = &p->nodes[i];
    char name[64], op[160], opc[64], algo[64], kernels[512] = "", kc[64], in[512], out[256];
    snprintf(op, sizeof op, "%s%s%s", n->info.op_type ? n->info.op_type : "?",
             n->info.fused && n->info.fused[0] ? "+" : "", n->info.fused ? n->info.fused : "");
    size_t used = 0;
    for (int k = 0; k < p->n_kernels && used + 1 < sizeof kernels; k++) {
      if (p->kernels[k].node != i) continue;
      int w = snprintf(kernels + used, sizeof kernels - used, "%s%s", used ? "," : "",
                       p->kernels[k].name);
      if (w > 0) used += (size_t)w;
    }
    if (!kernels[0]) snprintf(kernels, sizeof kernels, "-");
    char roof[16] = "", gf[16] = "", gb[16] = "";
    if (n->bound != NNCL_BOUND_NONE) snprintf(roof, sizeof roof, "%.1f", n->roof_pct);
    if (n->device_ns > 0) {
      snprintf(gf, sizeof gf, "%.2f", n->gflops);
      snprintf(gb, sizeof gb, "%.2f", n->gbps);
    }
    fprintf(f, "%4d  %-24s %-20s %-14s %10.2f %6.2f %9s %9s %-7s %6s %9.2f  %-28s %s -> %s\n", i,
            cut(n->info.name, 24, name, sizeof name), cut(op, 20, opc, sizeof opc),
            cut(n->info.algo, 14, algo, sizeof algo), n->device_ns * 1e-3, 100.0 * n->share, gf, gb,
            nncl_bound_name(n->bound), roof, n->host_ns * 1e-3, cut(kernels, 28, kc, sizeof kc),
            nncl_node_shapes_format(&n->info, 0, in, sizeof in),
            nncl_node_shapes_format(&n->info, 1, out, sizeof out));
  }
}

static void print_ops(FILE *f, const nncl_profile *p) {
  fprintf(f, "\nby op type\n%-24s %6s %12s %7s %12s %10s %10s\n", "op", "nodes", "time us", "%",
          "GFLOP", "GFLOP/s", "GB/s");
  for (int j = 0; j < p->n_ops; j++) {
    const nncl_profile_op *o = &p->ops[j];
    char name[64];
    double t = o->device_ns;
    fprintf(f, "%-24s %6d %12.2f %7.2f %12.4f %10.2f %10.2f\n",
            cut(o->op_type, 24, name, sizeof name), o->nodes, t * 1e-3, 100.0 * o->share,
            o->flops * 1e-9, t > 0 ? o->flops / t : 0.0, t > 0 ? o->bytes / t : 0.0);
  }
  if (p->other_ns > 0)
    fprintf(f, "%-24s %6s %12.2f %7.2f\n", "(outside nodes)", "-", p->other_ns * 1e-3,
            p->device_ns > 0 ? 100.0 * p->other_ns / p->device_ns : 0.0);
}

static void print_totals(FILE *f, const nncl_profile *p) {
  double busy = p->busy_median_ns, dev = p->device_ns;
  fprintf(f, "\ntime per run (median of %d runs after %d warm-up)\n", p->runs, p->warmup);
  fprintf(f,
          "  device time, sum of the rows      %12.3f ms  (nodes %.3f ms, outside nodes %.3f ms)\n",
          dev * 1e-6, p->nodes_ns * 1e-6, p->other_ns * 1e-6);
  fprintf(f, "  device busy, median run           %12.3f ms  (rows differ by %+.2f%%)\n",
          busy * 1e-6, busy > 0 ? 100.0 * (dev - busy) / busy : 0.0);
  fprintf(f, "  device busy, fastest run          %12.3f ms\n", p->busy_min_ns * 1e-6);
  fprintf(f, "  device span, first start to end   %12.3f ms  (idle gaps %.3f ms)\n",
          p->span_ns * 1e-6, (p->span_ns - busy) * 1e-6);
  fprintf(
      f,
      "  wall time of nncl_graph_run       %12.3f ms  (host overhead and idle %.3f ms, %.1f%%)\n",
      p->wall_ns * 1e-6, (p->wall_ns - busy) * 1e-6,
      p->wall_ns > 0 ? 100.0 * (p->wall_ns - busy) / p->wall_ns : 0.0);
  if (p->wall_plain_ns > 0)
    fprintf(f, "  wall time without profiling       %12.3f ms  (events cost %+.3f ms per run)\n",
            p->wall_plain_ns * 1e-6, (p->wall_ns - p->wall_plain_ns) * 1e-6);
  fprintf(f,
          "  work                              %12.4f GFLOP, %.2f MB moved; %.2f GFLOP/s, %.2f "
          "GB/s over the device time\n",
          p->flops * 1e-9, p->bytes * 1e-6, dev > 0 ? p->flops / dev : 0.0,
          dev > 0 ? p->bytes / dev : 0.0);
  fprintf(f,
          "\nmemory\n  arena (every intermediate)        %12.2f MiB  (%.2f MiB without sharing)\n",
          mib(p->arena_bytes), mib(p->intermediates_bytes));
  fprintf(f,
          "  weights                           %12.2f MiB\n  workspace                         "
          "%12.2f MiB\n",
          mib(p->weight_bytes), mib(p->workspace_bytes));
  fprintf(f, "\none-time costs\n");
  if (!p->one_time) {
    fprintf(f, "  (the graph was already planned: not measured)\n");
  } else {
    fprintf(f, "  plan (infer, fuse, choose, upload) %11.3f ms\n", p->plan_seconds * 1e3);
    fprintf(f, "  programs compiled (cold)          %12llu  (%.3f s building and loading)\n",
            (unsigned long long)p->program_builds, p->build_seconds);
    fprintf(f, "  programs from the disk cache (warm) %10llu\n",
            (unsigned long long)p->program_disk_hits);
    fprintf(f, "  weight upload                     %12.3f ms device time in %d transfers\n",
            p->upload_ns * 1e-6, p->uploads);
  }
  if (p->first_run_ns > 0)
    fprintf(f, "  first run (cold)                  %12.3f ms wall\n", p->first_run_ns * 1e-6);
}

void profile_print_table(FILE *f, const nncl_profile *p, const char *title) {
  fprintf(f, "nncl profile: %s on %s\n", title ? title : "graph", p->device);
  if (p->have_peak)
    fprintf(f, "roofs: %.1f GFLOP/s FMA, %.2f GB/s memory (ridge %.2f FLOP/byte)%s\n\n",
            p->peak.fma_gflops, p->peak.mem_gbps, p->peak.fma_gflops / p->peak.mem_gbps,
            p->peak.from_cache ? ", from the peak cache" : ", measured now");
  else
    fprintf(f, "roofs: unknown (nncl bench peak failed), no roofline figures\n\n");
  print_nodes(f, p);
  print_ops(f, p);
  print_totals(f, p);
}
