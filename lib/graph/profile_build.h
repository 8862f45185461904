/* profile_build.h: turns the raw timings of profiled runs into an nncl_profile (medians, the trace
   timeline, roofline figures, the per-op summary). Separate from the graph driver (profile.c) so
   that tests can feed it synthetic runs. */
#ifndef NNCL_PROFILE_BUILD_H
#define NNCL_PROFILE_BUILD_H
#include "nncl/profile.h"
#include "profiling.h"

/* One profiled run: its commands (nncl__prof_end) and nncl_graph_run's host wall time. */
struct profile_run {
  struct prof_timing *t;
  size_t n;
  double wall_ns;
};

/* Fills out->nodes, kernels, ops and the per-run totals from runs[0 .. n_runs) and the planned
   nodes; peak may be NULL (no roofline figures). Fields it does not own (memory, one-time costs,
   device, runs, warmup) are left as they are. On failure nothing is left allocated. */
nncl_status profile_build(nncl_context *ctx, const struct profile_run *runs, int n_runs,
                          const nncl_node_info *nodes, int n_nodes, const nncl_peak *peak,
                          nncl_profile *out);
#endif
