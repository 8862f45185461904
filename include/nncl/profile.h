/* nncl/profile.h: where a network's time goes on a device. nncl_graph_profile runs a planned graph
   with OpenCL profiling events and returns, per planned node, its kernels, device time, FLOPs and
   bytes, achieved throughput and how close it comes to the device's roofs (nncl_bench_peak); then
   a summary by op type, device time against wall time, memory and one-time costs. `nncl profile`
   prints the same records as a table, a CSV file and a Chrome/Perfetto trace. */
#ifndef NNCL_PROFILE_H
#define NNCL_PROFILE_H

#include "nncl/bench.h"
#include "nncl/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which roof bounds a node (roofline model): its arithmetic intensity (FLOPs per byte) against
   the device's ridge point peak.fma_gflops / peak.mem_gbps. */
typedef enum nncl_bound { NNCL_BOUND_NONE, NNCL_BOUND_MEMORY, NNCL_BOUND_COMPUTE } nncl_bound;
NNCL_API const char *nncl_bound_name(nncl_bound b); /* "", "memory", "compute" */

/* One command (kernel, CLBlast call or transfer) a run enqueues, in enqueue order. Every run of a
   planned graph enqueues the same sequence, so each command is the same position across runs. */
typedef struct nncl_profile_kernel {
  const char *name;      /* launch label: kernel function or CLBlast routine (static string) */
  int node;              /* index into nncl_profile.nodes, -1 for work outside any node */
  double device_ns;      /* median over runs of END - START */
  double min_ns, max_ns; /* fastest and slowest run */
  double host_ns;        /* median over runs of the host enqueue call's duration */
  /* The trace timeline (ns from its zero), built from the median run: each command starts where it
     started in that run (later if the previous one has not ended) and lasts device_ns. */
  double start_ns;
  double host_enqueue_ns;     /* host-side enqueue call of the median run, same timeline */
  double host_enqueue_dur_ns; /* how long the enqueue call took on the host */
  int device;                 /* the device whose queue ran it (nncl_context_device_at) */
} nncl_profile_kernel;

/* One planned node. */
typedef struct nncl_profile_node {
  nncl_node_info info;     /* name, op, fused ops, algorithm, shapes, flops, bytes (strings are
                              the graph's: valid while it lives and is not re-planned) */
  int n_kernels;           /* commands it enqueued per run */
  double device_ns;        /* the sum of its commands' device_ns */
  double host_ns;          /* the sum of its commands' host_ns: host time spent enqueuing it */
  double share;            /* device_ns / nncl_profile.device_ns */
  double gflops, gbps;     /* achieved: info.flops / device_ns, info.bytes / device_ns */
  double intensity;        /* info.flops / info.bytes (0 when bytes is 0) */
  nncl_bound bound;        /* the roof at this intensity (NONE without peaks or cost figures) */
  double roof_pct;         /* achieved as a percentage of that roof */
  double start_ns, end_ns; /* first command start and last command end on the trace timeline */
} nncl_profile_node;

/* Nodes grouped by op type, largest device time first. */
typedef struct nncl_profile_op {
  const char *op_type;
  int nodes;
  double device_ns, flops, bytes, share;
} nncl_profile_op;

typedef struct nncl_profile {
  char device[256];
  int runs, warmup;
  nncl_profile_node *nodes;
  int n_nodes;
  nncl_profile_kernel *kernels;
  int n_kernels;
  nncl_profile_op *ops;
  int n_ops;

  /* Per run. device_ns is what the table adds up: every node's device_ns plus other_ns. */
  double device_ns;      /* sum of every command's device_ns */
  double nodes_ns;       /* sum over nodes */
  double other_ns;       /* commands outside any node */
  double busy_median_ns; /* median over runs of the run's summed command time (a cross-check
                             of device_ns, which sums per-command medians) */
  double busy_min_ns;    /* the same for the fastest run. A loaded machine preempts single
                             commands: per-command medians shed that, the median run keeps its
                             share, so device_ns lies between busy_min_ns and busy_median_ns */
  double span_ns;        /* median over runs of first START to last END: busy plus idle gaps */
  double wall_ns;        /* median over runs of nncl_graph_run's host wall time */
  double wall_plain_ns;  /* the same for as many runs without profiling, interleaved with the
                             profiled ones: wall_ns - wall_plain_ns is what the events cost */
  double flops, bytes;   /* sum over nodes */
  double trace_ns;       /* length of the trace timeline */
  double run_start_ns, run_wall_ns; /* the median run's nncl_graph_run call on that timeline */

  /* Memory (nncl_graph_summarize). */
  uint64_t arena_bytes, intermediates_bytes, weight_bytes, workspace_bytes;

  /* One-time costs, measured when nncl_graph_profile planned the graph itself (one_time is 0
     when the graph came in planned): planning wall time, programs compiled (cold) or loaded from
     the disk cache (warm) during planning and the warm-up runs, weight uploads, first run. */
  int one_time;
  double plan_seconds;
  uint64_t program_builds, program_disk_hits;
  double build_seconds;
  int uploads;
  double upload_ns;    /* device time of the transfers made while planning */
  double first_run_ns; /* wall time of the first warm-up run (0 without warm-up) */

  int have_peak; /* roofs below are valid */
  nncl_peak peak;
} nncl_profile;

/* Plans g when needed (set inputs first), runs it `warmup` times unprofiled, then `runs` times
   (at least 1) with profiling events, each followed by one run without, and fills *out (free
   with nncl_profile_free). Peaks come from nncl_bench_peak (cached per device; measured and
   cached on first use). */
NNCL_API nncl_status nncl_graph_profile(nncl_graph *g, int runs, int warmup, nncl_profile *out);
NNCL_API void nncl_profile_free(nncl_profile *p);

/* Writes *p as Chrome Trace Event JSON (opens in https://ui.perfetto.dev and chrome://tracing):
   a host track (nncl_graph_run and each enqueue call, with an arrow to the command it started),
   one track per device queue (a slice per command; transfers in category "transfer"), a
   graph-nodes track (a slice per node); each slice's args hold the profile's figures, otherData
   the totals and `title` (what was profiled). Needs the graph that made *p unchanged (node
   names are its strings). NNCL_ERR_IO names the file when it cannot be written. */
NNCL_API nncl_status nncl_profile_write_trace(nncl_context *ctx, const nncl_profile *p,
                                              const char *path, const char *title);
/* "[1, 3, 224, 224] [64, 3, 7, 7]": a node's input (outputs = 0) or output shapes, into buf. */
NNCL_API char *nncl_node_shapes_format(const nncl_node_info *n, int outputs, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
