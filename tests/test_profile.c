/* test_profile.c: the profiler: profiling sessions (events only while on), the profile builder
   on synthetic runs (medians, node sums, timeline, roofline, op summary), the trace and CSV
   writers (the trace parsed back and checked against the table), and nncl_graph_profile on a
   small built network (per-node times add up to the run's device time within 5%). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tools/profile_write.h"
#include "nncl/profile.h"
#include "profile_build.h"
#include "test_util.h"

/* ---- sessions ---- */

static void launch_vadd(nncl_context *ctx, cl_mem a, cl_mem b, cl_mem c, cl_uint n) {
  cl_kernel k;
  cr_assert_eq(nncl__kernel_get(ctx, "selftest", NULL, "selftest_vadd", &k), NNCL_OK);
  size_t global = n, local = 64;
  cr_assert_eq(NNCL_LAUNCH(ctx, k, "vadd", 1, &global, &local, NNCL_ARG(a), NNCL_ARG(b),
                           NNCL_ARG(c), NNCL_ARG(n)),
               NNCL_OK);
}

Test(profiling, session_records_only_while_on) {
  nncl_context *ctx = tu_ctx();
  const cl_uint n = 4096;
  cl_mem a, b, c;
  cr_assert_eq(nncl__buffer_create(ctx, n * 4, "a", &a), NNCL_OK);
  cr_assert_eq(nncl__buffer_create(ctx, n * 4, "b", &b), NNCL_OK);
  cr_assert_eq(nncl__buffer_create(ctx, n * 4, "c", &c), NNCL_OK);
  cr_assert_eq(nncl__buffer_fill_zero(ctx, a, 0, n * 4), NNCL_OK);

  /* Off: no event is requested at all. */
  launch_vadd(ctx, a, b, c, n);
  cr_assert_eq(nncl_context_finish(ctx), NNCL_OK);
  cr_assert(!nncl__prof_active(ctx));
  cr_assert_eq(ctx->prof_count, 0, "profiling off recorded %zu events", ctx->prof_count);

  cr_assert_eq(nncl__prof_begin(ctx), NNCL_OK);
  cr_assert_eq(nncl__prof_begin(ctx), NNCL_ERR_STATE, "a second session is refused");
  ctx->current_node = 7;
  launch_vadd(ctx, a, b, c, n);
  ctx->current_node = -1;
  launch_vadd(ctx, a, b, c, n);
  cr_assert_eq(nncl__buffer_copy(ctx, a, 0, b, 0, n * 4), NNCL_OK);
  struct prof_timing *t = NULL;
  size_t count = 0;
  cr_assert_eq(nncl__prof_end(ctx, &t, &count), NNCL_OK, "%s", nncl_context_last_error(ctx));
  cr_assert_eq(count, 3);
  cr_assert_str_eq(t[0].kernel, "vadd");
  cr_assert_eq(t[0].node, 7);
  cr_assert_eq(t[1].node, -1);
  cr_assert_str_eq(t[2].kernel, "copy");
  for (size_t i = 0; i < count; i++) {
    cr_assert(t[i].queued_ns <= t[i].submit_ns && t[i].submit_ns <= t[i].start_ns &&
                  t[i].start_ns <= t[i].end_ns,
              "command %zu: queued %.0f submit %.0f start %.0f end %.0f", i, t[i].queued_ns,
              t[i].submit_ns, t[i].start_ns, t[i].end_ns);
    cr_assert(t[i].host_enqueue_ns >= 0 && t[i].host_enqueue_dur_ns >= 0);
    if (i) cr_assert(t[i].start_ns >= t[i - 1].end_ns, "an in-order queue runs commands in order");
    if (i) cr_assert(t[i].host_enqueue_ns >= t[i - 1].host_enqueue_ns);
  }
  free(t);
  cr_assert(!nncl__prof_active(ctx));
  cr_assert_eq(ctx->prof_count, 0, "events are released when the session ends");
  cr_assert_eq(nncl__prof_end(ctx, &t, &count), NNCL_ERR_STATE);

  /* Off again: nothing recorded. */
  launch_vadd(ctx, a, b, c, n);
  cr_assert_eq(nncl_context_finish(ctx), NNCL_OK);
  cr_assert_eq(ctx->prof_count, 0);
  nncl__buffer_release(a);
  nncl__buffer_release(b);
  nncl__buffer_release(c);
}

/* ---- the builder on synthetic runs ---- */

/* Four nodes: 0 conv (two commands), 1 a view (none), 2 relu, 3 gemm; plus a fill outside any
   node. Durations in us per run; runs differ so the medians are checkable. */
static const char *const LABELS[] = {"conv_im2col", "fill", "sgemm", "relu", "gemm"};
static const int NODE_OF[] = {0, -1, 0, 2, 3};
static const double DUR_US[3][5] = {
    {10, 1, 40, 5, 20},
    {12, 3, 30, 4, 26},
    {11, 2, 35, 9, 21},
};
static const double GAP_US = 2; /* idle gap between commands */

static void synthetic_runs(struct profile_run runs[3], struct prof_timing store[3][5]) {
  for (int r = 0; r < 3; r++) {
    double dev = 1e9 * (r + 1), host = 500; /* each run: its own clocks */
    for (int i = 0; i < 5; i++) {
      struct prof_timing *t = &store[r][i];
      t->kernel = LABELS[i];
      t->node = NODE_OF[i];
      t->host_enqueue_ns = host;
      t->host_enqueue_dur_ns = 800 + 100 * r;
      t->queued_ns = dev - 1e6 + host + 100; /* device clock = host clock + dev - 1e6 */
      t->submit_ns = t->queued_ns + 50;
      t->start_ns = (i == 0 ? t->queued_ns + 3000 : store[r][i - 1].end_ns + GAP_US * 1e3);
      t->end_ns = t->start_ns + DUR_US[r][i] * 1e3;
      host += 1000;
    }
    runs[r].t = store[r];
    runs[r].n = 5;
    runs[r].wall_ns = 200e3 + r * 1e3;
  }
}

static nncl_node_info synth_node(const char *name, const char *op, double flops, double bytes) {
  nncl_node_info n;
  memset(&n, 0, sizeof n);
  n.name = name;
  n.op_type = op;
  n.fused = strcmp(op, "Conv") == 0 ? "Relu" : "";
  n.algo = strcmp(op, "Conv") == 0 ? "im2col" : "";
  n.n_in = 1;
  n.n_out = 1;
  n.in_shapes[0] = (nncl_shape){4, {1, 3, 8, 8}};
  n.out_shapes[0] = (nncl_shape){2, {1, 192}};
  n.flops = flops;
  n.bytes = bytes;
  return n;
}

static void synthetic_profile(nncl_profile *p) {
  static struct prof_timing store[3][5];
  struct profile_run runs[3];
  synthetic_runs(runs, store);
  /* Roofs: 100 GFLOP/s and 10 GB/s, ridge at 10 FLOP/byte. */
  nncl_peak peak;
  memset(&peak, 0, sizeof peak);
  peak.fma_gflops = 100;
  peak.mem_gbps = 10;
  nncl_node_info nodes[4] = {
      synth_node("conv, \"first\"", "Conv", 2e6, 1e5), /* 20 FLOP/B: compute-bound */
      synth_node("flatten", "Flatten", 0, 0),          /* a view: no time, no roof */
      synth_node("relu", "Relu", 1e3, 8e3),            /* memory-bound */
      synth_node("fc", "Gemm", 4e5, 1e5),              /* 4 FLOP/B: memory-bound */
  };
  memset(p, 0, sizeof *p);
  snprintf(p->device, sizeof p->device, "synthetic device");
  p->runs = 3;
  cr_assert_eq(profile_build(NULL, runs, 3, nodes, 4, &peak, p), NNCL_OK);
}

static double med3(double a, double b, double c) { return fmax(fmin(a, b), fmin(fmax(a, b), c)); }

Test(profile_build, medians_sums_timeline_roofline) {
  nncl_profile p;
  synthetic_profile(&p);
  cr_assert_eq(p.n_nodes, 4);
  cr_assert_eq(p.n_kernels, 5);
  for (int i = 0; i < 5; i++) {
    double want = med3(DUR_US[0][i], DUR_US[1][i], DUR_US[2][i]) * 1e3;
    cr_assert_float_eq(p.kernels[i].device_ns, want, 1e-6, "command %d", i);
    cr_assert_eq(p.kernels[i].node, NODE_OF[i]);
    cr_assert_float_eq(p.kernels[i].min_ns,
                       fmin(DUR_US[0][i], fmin(DUR_US[1][i], DUR_US[2][i])) * 1e3, 1e-6);
    if (i)
      cr_assert(p.kernels[i].start_ns >=
                    p.kernels[i - 1].start_ns + p.kernels[i - 1].device_ns - 1e-6,
                "commands do not overlap on the timeline");
  }
  /* Node 0 holds commands 0 and 2: medians 11 + 35 us. */
  cr_assert_float_eq(p.nodes[0].device_ns, 46e3, 1e-6);
  cr_assert_eq(p.nodes[0].n_kernels, 2);
  cr_assert_eq(p.nodes[1].n_kernels, 0);
  cr_assert_eq(p.nodes[1].device_ns, 0);
  cr_assert_float_eq(p.kernels[0].host_ns, 900, 1e-6, "median of 800, 900, 1000");
  cr_assert_float_eq(p.nodes[0].host_ns, 1800, 1e-6, "host time of both its enqueue calls");
  cr_assert_float_eq(p.other_ns, 2e3, 1e-6);
  cr_assert_float_eq(p.nodes_ns, 46e3 + 5e3 + 21e3, 1e-6);
  cr_assert_float_eq(p.device_ns, p.nodes_ns + p.other_ns, 1e-6);
  /* Busy per run: 76, 75, 78 -> median 76 us; the per-command medians add to 74 us. */
  cr_assert_float_eq(p.busy_median_ns, 76e3, 1e-6);
  cr_assert_float_eq(p.busy_min_ns, 75e3, 1e-6);
  cr_assert(fabs(p.device_ns - p.busy_median_ns) / p.busy_median_ns < 0.05);
  cr_assert_float_eq(p.span_ns, 76e3 + 4 * GAP_US * 1e3, 1e-6);
  cr_assert_float_eq(p.wall_ns, 201e3, 1e-6);
  double share = 0;
  for (int i = 0; i < 4; i++) share += p.nodes[i].share;
  cr_assert_float_eq(share, p.nodes_ns / p.device_ns, 1e-12);

  /* Host enqueue aligned onto the device clock through QUEUED (a constant 100 ns after each host
     call began, absorbed into the clock offset); the timeline starts at the session start. The
     first command starts 3 us after it was queued. */
  cr_assert_float_eq(p.run_start_ns, 0, 1e-6);
  cr_assert_float_eq(p.kernels[0].host_enqueue_ns, 500, 1e-6);
  cr_assert_float_eq(p.kernels[0].start_ns, 500 + 3000, 1e-6);
  cr_assert_float_eq(p.kernels[1].host_enqueue_ns, 1500, 1e-6);
  cr_assert(p.kernels[0].start_ns > p.kernels[0].host_enqueue_ns,
            "a command starts after its enqueue");
  cr_assert(p.trace_ns >= p.kernels[4].start_ns + p.kernels[4].device_ns);

  /* Roofline: conv 2e6 FLOP in 46 us = 43.5 GFLOP/s of 100 (compute), relu 8e3 B in 5 us =
     1.6 GB/s of 10 (memory), fc 4 FLOP/B under the ridge of 10: memory. */
  cr_assert_eq(p.nodes[0].bound, NNCL_BOUND_COMPUTE);
  cr_assert_float_eq(p.nodes[0].roof_pct, 100.0 * (2e6 / 46e3) / 100.0, 1e-9);
  cr_assert_eq(p.nodes[1].bound, NNCL_BOUND_NONE);
  cr_assert_eq(p.nodes[2].bound, NNCL_BOUND_MEMORY);
  cr_assert_float_eq(p.nodes[2].roof_pct, 100.0 * (8e3 / 5e3) / 10.0, 1e-9);
  cr_assert_eq(p.nodes[3].bound, NNCL_BOUND_MEMORY);
  cr_assert_float_eq(p.nodes[3].gflops, 4e5 / 21e3, 1e-9);
  cr_assert_str_eq(nncl_bound_name(p.nodes[0].bound), "compute");

  /* By op type, largest first. */
  cr_assert_eq(p.n_ops, 4);
  cr_assert_str_eq(p.ops[0].op_type, "Conv");
  cr_assert_str_eq(p.ops[1].op_type, "Gemm");
  for (int j = 1; j < p.n_ops; j++) cr_assert(p.ops[j - 1].device_ns >= p.ops[j].device_ns);
  nncl_profile_free(&p);
  cr_assert_null(p.nodes);
}

Test(profile_build, rejects_no_runs) {
  nncl_profile p;
  memset(&p, 0, sizeof p);
  cr_assert_eq(profile_build(tu_ctx(), NULL, 0, NULL, 0, NULL, &p), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert_null(p.nodes);
}

/* ---- writers ---- */

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  cr_assert(f, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *s = calloc((size_t)n + 1, 1);
  cr_assert(fread(s, 1, (size_t)n, f) == (size_t)n);
  fclose(f);
  return s;
}

static double num(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  cr_assert(cJSON_IsNumber(v), "missing number \"%s\"", key);
  return v->valuedouble;
}

/* Parses a trace and checks it against the profile: valid JSON, every node on the nodes track
   once and in order, slices on each track ordered and not overlapping, the commands' durations
   adding up per node to the table's device time. */
static void check_trace(const char *path, const nncl_profile *p) {
  char *text = read_file(path);
  cJSON *root = cJSON_Parse(text);
  cr_assert(root, "the trace is not valid JSON near: %.40s", cJSON_GetErrorPtr());
  free(text);
  const cJSON *events = cJSON_GetObjectItemCaseSensitive(root, "traceEvents");
  cr_assert(cJSON_IsArray(events));
  double *node_sum = calloc((size_t)p->n_nodes + 1, sizeof *node_sum);
  int *node_seen = calloc((size_t)p->n_nodes + 1, sizeof *node_seen);
  double last_end[4] = {-1, -1, -1, -1};
  int next_node = 0, n_queue = 0, n_enqueue = 0, n_run = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, events) {
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(e, "ph");
    cr_assert(cJSON_IsString(ph));
    cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "name")));
    if (strcmp(ph->valuestring, "X") != 0) continue;
    int tid = (int)num(e, "tid");
    double ts = num(e, "ts"), dur = num(e, "dur");
    cr_assert(dur >= 0 && ts >= -1e-9, "slice at %g lasting %g", ts, dur);
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(e, "args");
    const char *cat = cJSON_GetObjectItemCaseSensitive(e, "cat")->valuestring;
    if (tid == 2 || tid == 3) {
      cr_assert(ts >= last_end[tid] - 1e-6, "track %d: slice at %g us starts before %g us", tid, ts,
                last_end[tid]);
      last_end[tid] = ts + dur;
    }
    if (tid == 2) {
      n_queue++;
      int node = (int)num(args, "node");
      cr_assert(node >= -1 && node < p->n_nodes);
      node_sum[node + 1] += dur;
    } else if (tid == 3) {
      int node = (int)num(args, "node");
      cr_assert_eq(node, next_node, "nodes track out of order: %d after %d", node, next_node - 1);
      next_node++;
      node_seen[node + 1]++;
      cr_assert(fabs(num(args, "device_us") - p->nodes[node].device_ns * 1e-3) <=
                1e-9 * (1 + p->nodes[node].device_ns));
      const cJSON *op = cJSON_GetObjectItemCaseSensitive(args, "op");
      cr_assert(cJSON_IsString(op) && strcmp(op->valuestring, p->nodes[node].info.op_type) == 0);
    } else if (tid == 1) {
      if (strcmp(cat, "run") == 0)
        n_run++;
      else
        n_enqueue++;
    }
  }
  cr_assert_eq(n_queue, p->n_kernels, "one slice per command");
  cr_assert_eq(n_enqueue, p->n_kernels, "one host enqueue slice per command");
  cr_assert_eq(n_run, 1);
  cr_assert_eq(next_node, p->n_nodes, "every node is on the nodes track");
  for (int i = 0; i < p->n_nodes; i++) {
    cr_assert_eq(node_seen[i + 1], 1);
    double want = p->nodes[i].device_ns * 1e-3;
    cr_assert(fabs(node_sum[i + 1] - want) <= 1e-6 * (1 + want),
              "node %d: trace slices add to %.6f us, the table says %.6f us", i, node_sum[i + 1],
              want);
  }
  cr_assert(fabs(node_sum[0] - p->other_ns * 1e-3) <= 1e-6 * (1 + p->other_ns * 1e-3));
  const cJSON *other = cJSON_GetObjectItemCaseSensitive(root, "otherData");
  cr_assert(fabs(num(other, "device_us") - p->device_ns * 1e-3) < 1e-6 * (1 + p->device_ns));
  free(node_sum);
  free(node_seen);
  cJSON_Delete(root);
}

static void temp_path(char *buf, size_t len, const char *name) {
  snprintf(buf, len, "%s/profile-test-%ld-%s",
           getenv("NNCL_CACHE_DIR") ? getenv("NNCL_CACHE_DIR") : "/tmp", (long)getpid(), name);
}

Test(profile_writers, trace_matches_table) {
  nncl_profile p;
  synthetic_profile(&p);
  nncl_context *ctx = tu_ctx();
  char path[1200];
  temp_path(path, sizeof path, "trace.json");
  cr_assert_eq(nncl_profile_write_trace(ctx, &p, path, "synthetic \"model\"\n"), NNCL_OK, "%s",
               nncl_context_last_error(ctx));
  check_trace(path, &p);
  remove(path);
  cr_assert_eq(nncl_profile_write_trace(ctx, &p, "/nonexistent-dir/x.json", "t"), NNCL_ERR_IO);
  cr_assert(strstr(nncl_context_last_error(ctx), "/nonexistent-dir/x.json"), "%s",
            nncl_context_last_error(ctx));
  nncl_profile_free(&p);
}

Test(profile_writers, csv_one_quoted_row_per_node) {
  nncl_profile p;
  synthetic_profile(&p);
  char path[1200], err[1400];
  temp_path(path, sizeof path, "table.csv");
  cr_assert_eq(profile_write_csv(&p, path, err, sizeof err), 0, "%s", err);
  char *text = read_file(path);
  remove(path);
  int lines = 0;
  for (const char *c = text; *c; c++) lines += *c == '\n';
  cr_assert_eq(lines, 1 + p.n_nodes, "%s", text);
  cr_assert(strncmp(text, "index,name,op_type,", 19) == 0);
  cr_assert(strstr(text, "\n0,\"conv, \"\"first\"\"\",Conv,Relu,im2col,conv_im2col sgemm,2,\"[1, "
                         "3, 8, 8]\",\"[1, 192]\",46.000,"),
            "%s", text);
  cr_assert(strstr(text, "\n1,flatten,Flatten,,,,0,"), "%s", text);
  cr_assert(strstr(text, ",compute,43.478,1.800\n"),
            "node 0 ends with bound, %% of roof, host us: %s", text);
  free(text);
  nncl_profile_free(&p);
}

Test(profile_writers, table_prints_every_node) {
  nncl_profile p;
  synthetic_profile(&p);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  profile_print_table(f, &p, "synthetic");
  fclose(f);
  cr_assert(strstr(buf, "conv_im2col,sgemm"), "%s", buf);
  cr_assert(strstr(buf, "Conv+Relu"), "%s", buf);
  cr_assert(strstr(buf, "compute"), "%s", buf);
  cr_assert(strstr(buf, "by op type"), "%s", buf);
  cr_assert(strstr(buf, "[1, 3, 8, 8] -> [1, 192]"), "%s", buf);
  free(buf);
  nncl_profile_free(&p);
}

/* ---- a real graph ---- */

/* input [2, 3, 18, 18] -> conv 3x3 (8) -> Relu -> MaxPool 2 -> Flatten -> Gemm (10) */
static nncl_graph *small_net(void) {
  nncl_context *ctx = tu_ctx();
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_graph_create(ctx, &g), NNCL_OK);
  nncl_shape in = {4, {2, 3, 18, 18}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &in), NNCL_OK);
  nncl_array w = TU_RAND(11, 8, 3, 3, 3), b = TU_RAND(12, 8), fw = TU_RAND(13, 10, 8 * 8 * 8),
             fb = TU_RAND(14, 10);
  cr_assert_eq(nncl_graph_conv2d(g, "conv1", "x", "c1", &w, &b, 1, 0, 1, 1), NNCL_OK, "%s",
               nncl_context_last_error(ctx));
  cr_assert_eq(nncl_graph_activation(g, "relu1", "Relu", "c1", "r1"), NNCL_OK);
  cr_assert_eq(nncl_graph_pool2d(g, "pool1", "MaxPool", "r1", "p1", 2, 2, 0), NNCL_OK);
  const char *fin[] = {"p1"}, *fout[] = {"f1"};
  cr_assert_eq(nncl_graph_add_node(g, "Flatten", "flat", 1, fin, 1, fout, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_dense(g, "fc", "f1", "y", &fw, &fb), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  nncl_array_free(&w);
  nncl_array_free(&b);
  nncl_array_free(&fw);
  nncl_array_free(&fb);
  nncl_array x = TU_RAND(15, 2, 3, 18, 18);
  cr_assert_eq(nncl_graph_set_input(g, "x", &x), NNCL_OK);
  nncl_array_free(&x);
  return g;
}

/* How far (relative) the table's total lies outside [fastest run, median run] device busy time. */
static double outside_runs(const nncl_profile *p) {
  double total = p->nodes_ns + p->other_ns;
  if (total < p->busy_min_ns) return (p->busy_min_ns - total) / p->busy_min_ns;
  if (total > p->busy_median_ns) return (total - p->busy_median_ns) / p->busy_median_ns;
  return 0;
}

Test(graph_profile, small_net_adds_up_and_traces, .timeout = 300) {
  nncl_context *ctx = tu_ctx();
  nncl_graph *g = small_net();
  nncl_profile p;
  nncl_status st = nncl_graph_profile(g, 5, 1, &p);
  cr_assert_eq(st, NNCL_OK, "%s", nncl_context_last_error(ctx));
  /* The per-node times add up to the run's device time within 5%: between the fastest and the
     median run (per-command medians shed the preemptions a loaded shared CPU inflicts on single
     commands, the median run keeps its share). A noisy profile is retried; three in a row
     outside are not noise. */
  double err = outside_runs(&p);
  for (int attempt = 1; attempt < 3 && err > 0.05; attempt++) {
    cr_log_info("profile %d: %.2f%% apart, profiling again", attempt, 100 * err);
    nncl_profile_free(&p);
    cr_assert_eq(nncl_graph_profile(g, 9, 0, &p), NNCL_OK, "%s", nncl_context_last_error(ctx));
    err = outside_runs(&p);
  }
  cr_assert(err <= 0.05, "nodes %.1f us + other %.1f us against %.1f-%.1f us busy: %.2f%% outside",
            p.nodes_ns * 1e-3, p.other_ns * 1e-3, p.busy_min_ns * 1e-3, p.busy_median_ns * 1e-3,
            100 * err);
  cr_assert(!nncl__prof_active(ctx));
  cr_assert_eq(p.n_nodes, nncl_graph_num_planned_nodes(g));
  cr_assert(p.n_nodes >= 3, "conv, pool and fc at least: %d", p.n_nodes);
  cr_assert(p.n_kernels >= 3);
  if (p.runs == 5) { /* the first profile planned the graph; a retry did not */
    cr_assert(p.one_time, "the graph was planned inside nncl_graph_profile");
    cr_assert(p.program_builds + p.program_disk_hits > 0, "programs were built or loaded");
    cr_assert(p.uploads > 0, "weights went to the device while planning");
  }
  cr_assert(p.have_peak && p.peak.fma_gflops > 0 && p.peak.mem_gbps > 0);
  cr_assert(p.arena_bytes > 0);
  for (int i = 0; i < p.n_nodes; i++) {
    const nncl_profile_node *n = &p.nodes[i];
    cr_assert(n->device_ns >= 0);
    if (n->n_kernels) cr_assert(n->device_ns > 0, "node %d (%s) ran in no time", i, n->info.name);
  }
  for (int k = 0; k < p.n_kernels; k++) cr_assert(p.kernels[k].device_ns > 0);
  cr_assert(p.span_ns >= p.busy_median_ns * 0.999);
  cr_assert(p.wall_ns > 0 && p.wall_plain_ns > 0);
  cr_log_info(
      "small net: %d nodes, %d commands, device %.1f us (busy %.1f, span %.1f), wall %.1f us "
      "(%.1f us without profiling)",
      p.n_nodes, p.n_kernels, p.device_ns * 1e-3, p.busy_median_ns * 1e-3, p.span_ns * 1e-3,
      p.wall_ns * 1e-3, p.wall_plain_ns * 1e-3);

  char path[1200];
  temp_path(path, sizeof path, "graph-trace.json");
  cr_assert_eq(nncl_profile_write_trace(ctx, &p, path, "small net"), NNCL_OK, "%s",
               nncl_context_last_error(ctx));
  check_trace(path, &p);
  remove(path);

  /* Profiling changes no result, and once it is over no event is requested. */
  nncl_array profiled, plain;
  cr_assert_eq(nncl_graph_get_output(g, 0, &profiled), NNCL_OK);
  cr_assert_eq(nncl_graph_run(g), NNCL_OK);
  cr_assert_eq(ctx->prof_count, 0, "a plain run recorded %zu events", ctx->prof_count);
  cr_assert_eq(nncl_graph_get_output(g, 0, &plain), NNCL_OK);
  tu_assert_close((float *)profiled.data, (float *)plain.data, 20, 0, 0, "profiled vs plain");
  nncl_array_free(&profiled);
  nncl_array_free(&plain);

  /* Profiling a planned graph again: one-time costs are not re-measured. */
  nncl_profile q;
  cr_assert_eq(nncl_graph_profile(g, 1, 0, &q), NNCL_OK);
  cr_assert_eq(q.one_time, 0);
  cr_assert_eq(q.n_nodes, p.n_nodes);
  nncl_profile_free(&q);
  nncl_profile_free(&p);
  nncl_graph_destroy(g);
}
