/* bench_model.c: `nncl bench model MODEL.onnx [--shape NAME=DIMS] [--batch N] [--runs K] [--json]`:
   whole-model inference latency and throughput. Load, planning and the first run (which builds
   the kernels) are reported apart from the steady state: the median (and min) of K timed runs
   after W warm-up runs, each nncl_graph_run enqueuing the whole model and waiting once. Device
   allocations and program builds during the timed runs are counted: both must be zero.
   tools/torch_model_bench.py runs the same model in PyTorch in the same run and prints the ratio.
   --mode data (with --devices): one replica per device, each pinned to it with its slice of the
   batch, run together (nncl_graphs_run); each timed run alternates with the whole batch pinned
   to device 0, so the ratio of the two throughputs comes from one stretch of machine load.
   --mode pipe (with --devices): the model cut into one stage per device (nncl_graph_set_stages)
   and --batches B copies of the input pushed through them (nncl_graph_run_pipelined); each timed
   run alternates with the same B batches pipelined through one copy pinned to device 0. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "model_io.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Rows [start, start + len) of a along axis into out (allocated here). */
static nncl_status batch_slice(const nncl_array *a, int axis, int64_t start, int64_t len,
                               nncl_array *out) {
  nncl_shape s = a->shape;
  s.dims[axis] = len;
  nncl_status st = nncl_array_alloc(out, a->dtype, &s);
  if (st != NNCL_OK) return st;
  size_t inner = nncl_dtype_size(a->dtype), outer = 1;
  for (int d = axis + 1; d < s.rank; d++) inner *= (size_t)s.dims[d];
  for (int d = 0; d < axis; d++) outer *= (size_t)s.dims[d];
  for (size_t o = 0; o < outer; o++)
    memcpy((char *)out->data + o * (size_t)len * inner,
           (const char *)a->data + (o * (size_t)a->shape.dims[axis] + (size_t)start) * inner,
           (size_t)len * inner);
  return NNCL_OK;
}

/* B batches of the same inputs (shallow copies of in[0..n_in)) through nncl_graph_run_pipelined;
   the outputs are dropped. */
static nncl_status run_batches(nncl_graph *g, const nncl_array *in, int n_in, int batches) {
  int n_out = nncl_graph_num_outputs(g);
  nncl_array *all = malloc((size_t)batches * (size_t)(n_in + n_out) * sizeof *all + 1);
  if (!all) return NNCL_ERR_OUT_OF_HOST_MEMORY;
  for (int b = 0; b < batches; b++)
    for (int k = 0; k < n_in; k++) all[b * n_in + k] = in[k];
  nncl_array *out = all + (size_t)batches * (size_t)n_in;
  nncl_status st = nncl_graph_run_pipelined(g, batches, all, out);
  if (st == NNCL_OK)
    for (int i = 0; i < batches * n_out; i++) nncl_array_free(&out[i]);
  free(all);
  return st;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int bench_model_main(int argc, char **argv) {
  const char *device = NULL, *model = NULL, *v;
  int runs = 20, warmup = 2, json = 0, data = 0, pipe = 0, batches = 8;
  mi_sizes sz = {0};
  long long x;
  for (int i = 1; i < argc; i++) {
    int r = mi_parse_size_option(argc, argv, &i, &sz, "bench model");
    if (r < 0) return 2;
    if (r > 0) continue;
    if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if ((v = cli_value(argc, argv, &i, "--runs"))) {
      if (cli_long("bench model", "--runs", v, 1, 1000000, &x)) return 2;
      runs = (int)x;
    } else if ((v = cli_value(argc, argv, &i, "--warmup"))) {
      if (cli_long("bench model", "--warmup", v, 0, 1000000, &x)) return 2;
      warmup = (int)x;
    } else if ((v = cli_value(argc, argv, &i, "--batches"))) {
      if (cli_long("bench model", "--batches", v, 1, 1000000, &x)) return 2;
      batches = (int)x;
    } else if ((v = cli_value(argc, argv, &i, "--mode"))) {
      data = strcmp(v, "data") == 0;
      pipe = strcmp(v, "pipe") == 0;
      if (!data && !pipe && strcmp(v, "place") != 0)
        return cli_unknown_option("bench model --mode", v);
    } else if (cli_is(argv[i], "--json"))
      json = 1;
    else if (argv[i][0] == '-' && argv[i][1] == '-')
      return cli_unknown_option("bench model", argv[i]);
    else if (!model)
      model = argv[i];
  }
  if (!model || runs < 1 || warmup < 0 || batches < 1) {
    fprintf(stderr, "usage: nncl bench model MODEL.onnx [--shape NAME=D0,D1,...]... [--batch N] "
                    "[--runs K (20)] [--warmup W (2)] [--json] [--device D | --devices LIST "
                    "[--mode place|data|pipe [--batches B (8)]]]"
                    " [--option KEY=VALUE]...\n");
    return 2;
  }
  nncl_context *ctx = cli_open_context(device);
  if (!ctx) return 1;
  double *times = malloc((size_t)runs * sizeof *times);
  double *times_one = malloc((size_t)runs * sizeof *times_one);
  double t0 = now_s();
  nncl_graph *g = times && times_one ? mi_load_model(ctx, model) : NULL;
  double t_load = now_s() - t0;
  int rc = g ? 0 : 1;
  /* data parallel: one replica per device; g, pinned to device 0, is the one-device yardstick */
  int n_rep = data || pipe ? nncl_context_device_count(ctx) : 0;
  nncl_graph *rep[16] = {0};
  nncl_array pin[16] = {0}; /* pipe: the inputs every batch repeats */
  if (!rc && (data || pipe) && (n_rep < 2 || n_rep > 16)) {
    fprintf(stderr, "nncl bench model: --mode %s needs 2..16 devices (--devices), got %d\n",
            data ? "data" : "pipe", n_rep);
    rc = 2;
  }
  /* pipe: g is cut into one stage per device, rep[0] (pinned to device 0) is the yardstick */
  if (!rc && pipe && nncl_graph_set_stages(g, n_rep) != NNCL_OK)
    rc = cli_fail(ctx, NNCL_ERR_STATE, "stages");
  if (pipe) n_rep = 1;
  for (int r = 0; !rc && r < n_rep; r++) {
    rep[r] = mi_load_model(ctx, model);
    if (!rep[r])
      rc = 1;
    else if (nncl_graph_set_device(rep[r], r) != NNCL_OK)
      rc = cli_fail(ctx, NNCL_ERR_STATE, "pin");
  }
  if (!rc && data && nncl_graph_set_device(g, 0) != NNCL_OK)
    rc = cli_fail(ctx, NNCL_ERR_STATE, "pin");
  if (!rc) rc = mi_check_sizes(g, &sz, "bench model");
  /* Inputs at the model's own dims, unknown ones from --shape / --batch; the batch reported is
     the batch dim (mi_batch_axis) of the first input that has one, none when the model fixes
     every dim (a [T, N, F] sequence with N fixed is not "batch T"): then throughput is runs/s. */
  int64_t batch = -1;
  int batch_axis = -1;
  char shapes[512] = "";
  if (!rc && pipe && nncl_graph_num_inputs(g) > 16) {
    fprintf(stderr, "nncl bench model: --mode pipe takes models of at most 16 inputs\n");
    rc = 2;
  }
  for (int i = 0; !rc && i < nncl_graph_num_inputs(g); i++) {
    nncl_dtype dt;
    nncl_shape s;
    const char *name = nncl_graph_input_name(g, i);
    if (nncl_graph_input_info(g, i, &dt, &s) != NNCL_OK ||
        mi_input_shape(g, i, &sz, &s, NULL, 0) != NNCL_OK) {
      fprintf(stderr, "nncl bench model: input '%s' has an unknown rank: give it with --shape\n",
              name);
      rc = 1;
      break;
    }
    nncl_shape declared;
    nncl_graph_input_info(g, i, &dt, &declared);
    size_t off = strlen(shapes);
    char sb[128];
    snprintf(shapes + off, sizeof shapes - off, "%s'%s' %s", off ? ", " : "", name,
             nncl_shape_format(&s, sb, sizeof sb));
    if (batch < 0 && mi_batch_axis(&declared) >= 0)
      batch_axis = mi_batch_axis(&declared), batch = s.dims[batch_axis];
    nncl_array a;
    if ((rc = mi_generate(ctx, "bench model", name, dt, &s, (uint32_t)i + 1, &a)) != 0) break;
    nncl_status st = nncl_graph_set_input(g, name, &a);
    if (pipe && st == NNCL_OK) st = nncl_graph_set_input(rep[0], name, &a);
    if (data && st == NNCL_OK && (batch_axis < 0 || batch < n_rep)) {
      fprintf(stderr, "nncl bench model: --mode data needs a batch of at least %d (--batch)\n",
              n_rep);
      nncl_array_free(&a);
      rc = 2;
      break;
    }
    for (int r = 0, start = 0; data && st == NNCL_OK && r < n_rep; r++) {
      int64_t len = batch / n_rep + (r < batch % n_rep); /* uneven batches: first replicas +1 */
      nncl_array part;
      st = batch_slice(&a, batch_axis, start, len, &part);
      if (st == NNCL_OK) st = nncl_graph_set_input(rep[r], name, &part);
      nncl_array_free(&part);
      start += (int)len;
    }
    if (pipe)
      pin[i] = a;
    else
      nncl_array_free(&a);
    if (st != NNCL_OK) rc = cli_fail(ctx, st, name);
  }
  double t_plan = 0, t_first = 0;
  nncl_stats s0, s1, s2;
  if (!rc) {
    nncl_context_stats(ctx, &s0);
    t0 = now_s();
    nncl_status st = nncl_graph_plan(g);
    for (int r = 0; st == NNCL_OK && r < n_rep; r++) st = nncl_graph_plan(rep[r]);
    t_plan = now_s() - t0;
    if (st != NNCL_OK) rc = cli_fail(ctx, st, "plan");
  }
  int n_in = nncl_graph_num_inputs(g);
  if (!rc) {
    t0 = now_s();
    nncl_status st = pipe ? run_batches(rep[0], pin, n_in, batches) : nncl_graph_run(g);
    if (st == NNCL_OK && data) st = nncl_graphs_run(rep, n_rep);
    if (st == NNCL_OK && pipe) st = run_batches(g, pin, n_in, batches);
    t_first = now_s() - t0;
    if (st != NNCL_OK) rc = cli_fail(ctx, st, "first run");
  }
  for (int i = 0; !rc && i < warmup; i++) {
    nncl_status st = pipe ? run_batches(rep[0], pin, n_in, batches) : nncl_graph_run(g);
    if (st == NNCL_OK && data) st = nncl_graphs_run(rep, n_rep);
    if (st == NNCL_OK && pipe) st = run_batches(g, pin, n_in, batches);
    if (st != NNCL_OK) rc = cli_fail(ctx, st, "warm-up run");
  }
  if (!rc) nncl_context_stats(ctx, &s1);
  for (int i = 0; !rc && i < runs; i++) {
    t0 = now_s();
    nncl_status st = pipe ? run_batches(rep[0], pin, n_in, batches) : nncl_graph_run(g);
    times[i] = now_s() - t0;
    if (st == NNCL_OK && (data || pipe)) {
      times_one[i] = times[i];
      t0 = now_s();
      st = data ? nncl_graphs_run(rep, n_rep) : run_batches(g, pin, n_in, batches);
      times[i] = now_s() - t0;
    }
    if (st != NNCL_OK) rc = cli_fail(ctx, st, "timed run");
  }
  nncl_graph_summary sum;
  if (!rc) {
    nncl_context_stats(ctx, &s2);
    qsort(times, (size_t)runs, sizeof *times, cmp_double);
    double med = runs % 2 ? times[runs / 2] : 0.5 * (times[runs / 2 - 1] + times[runs / 2]);
    double med_one = 0;
    double reps = pipe ? batches : 1; /* a pipe run is B batches */
    if (data || pipe) {
      qsort(times_one, (size_t)runs, sizeof *times_one, cmp_double);
      med_one =
          runs % 2 ? times_one[runs / 2] : 0.5 * (times_one[runs / 2 - 1] + times_one[runs / 2]);
    }
    int have_sum = nncl_graph_summarize(g, &sum) == NNCL_OK;
    double gflops = have_sum ? reps * sum.flops / 1e9 : 0;
    uint64_t allocs = s2.device_allocs - s1.device_allocs,
             builds = s2.program_builds - s1.program_builds;
    if (json) {
      cJSON *j = cJSON_CreateObject();
      cJSON_AddStringToObject(j, "model", model);
      cJSON_AddStringToObject(j, "device", nncl_context_device(ctx)->name);
      if (batch >= 0) {
        cJSON_AddNumberToObject(j, "batch", (double)batch);
        cJSON_AddNumberToObject(j, "batch_axis", batch_axis);
      }
      cJSON_AddStringToObject(j, "inputs", shapes);
      cJSON_AddNumberToObject(j, "runs", runs);
      cJSON_AddNumberToObject(j, "load_ms", 1e3 * t_load);
      cJSON_AddNumberToObject(j, "plan_ms", 1e3 * t_plan);
      cJSON_AddNumberToObject(j, "first_run_ms", 1e3 * t_first);
      cJSON_AddNumberToObject(j, "setup_program_builds",
                              (double)(s1.program_builds - s0.program_builds));
      cJSON_AddNumberToObject(j, "setup_program_disk_hits",
                              (double)(s1.program_disk_hits - s0.program_disk_hits));
      cJSON_AddNumberToObject(j, "median_ms", 1e3 * med);
      cJSON_AddNumberToObject(j, "min_ms", 1e3 * times[0]);
      cJSON_AddNumberToObject(j, "max_ms", 1e3 * times[runs - 1]);
      cJSON_AddNumberToObject(j, "throughput_per_s", reps * (double)(batch >= 0 ? batch : 1) / med);
      cJSON_AddNumberToObject(j, "gflop_per_run", gflops);
      cJSON_AddNumberToObject(j, "gflops", gflops / med);
      if (data) {
        cJSON_AddStringToObject(j, "mode", "data");
        cJSON_AddNumberToObject(j, "devices", n_rep);
        cJSON_AddNumberToObject(j, "one_device_median_ms", 1e3 * med_one);
        cJSON_AddNumberToObject(j, "speedup_vs_one_device", med_one / med);
      }
      if (pipe) {
        cJSON_AddStringToObject(j, "mode", "pipe");
        cJSON_AddNumberToObject(j, "devices", nncl_context_device_count(ctx));
        cJSON_AddNumberToObject(j, "batches", batches);
        cJSON_AddNumberToObject(j, "one_device_median_ms", 1e3 * med_one);
        cJSON_AddNumberToObject(j, "speedup_vs_one_device", med_one / med);
      }
      cJSON_AddNumberToObject(j, "steady_device_allocs", (double)allocs);
      cJSON_AddNumberToObject(j, "steady_program_builds", (double)builds);
      cli_print_json(j);
    } else {
      printf("model      %s, device %s\n", model, nncl_context_device(ctx)->name);
      if (batch >= 0)
        printf("inputs     %s (batch %lld: dim %d of the first input with an open dim)\n", shapes,
               (long long)batch, batch_axis);
      else
        printf("inputs     %s (the model fixes every dim: no batch dim)\n", shapes);
      printf("load       %.1f ms\n", 1e3 * t_load);
      printf("plan       %.1f ms\n", 1e3 * t_plan);
      printf("first run  %.1f ms (plan and first run: %llu programs compiled, %llu from the disk "
             "cache)\n",
             1e3 * t_first, (unsigned long long)(s1.program_builds - s0.program_builds),
             (unsigned long long)(s1.program_disk_hits - s0.program_disk_hits));
      printf("latency    median %.3f ms, min %.3f ms, max %.3f ms over %d runs\n", 1e3 * med,
             1e3 * times[0], 1e3 * times[runs - 1], runs);
      if (batch >= 0)
        printf("throughput %.1f inferences/s", reps * (double)batch / med);
      else
        printf("throughput %.1f runs/s", reps / med);
      if (gflops > 0) printf(", %.2f GFLOP/s (%.3f GFLOP per run)", gflops / med, gflops);
      if (data)
        printf("\ndata       %d devices, each its slice of the batch: median %.3f ms against %.3f "
               "ms for the whole batch on device 0 (alternating runs): %.2fx",
               n_rep, 1e3 * med, 1e3 * med_one, med_one / med);
      if (pipe)
        printf("\npipe       %d stages on %d devices, %d batches per run: median %.3f ms against "
               "%.3f ms for the same batches pipelined on device 0 alone (alternating runs): %.2fx",
               nncl_context_device_count(ctx), nncl_context_device_count(ctx), batches, 1e3 * med,
               1e3 * med_one, med_one / med);
      printf("\nsteady     %llu device allocations, %llu program builds during the timed runs\n",
             (unsigned long long)allocs, (unsigned long long)builds);
    }
  }
  free(times);
  free(times_one);
  for (int i = 0; i < 16; i++) nncl_array_free(&pin[i]);
  for (int r = 0; r < n_rep; r++) nncl_graph_destroy(rep[r]);
  nncl_graph_destroy(g);
  nncl_context_destroy(ctx);
  return rc;
}
