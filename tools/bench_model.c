/* bench_model.c: `nncl bench model MODEL.onnx [--shape NAME=DIMS] [--batch N] [--runs K] [--json]`:
   whole-model inference latency and throughput. Load, planning and the first run (which builds
   the kernels) are reported apart from the steady state: the median (and min) of K timed runs
   after W warm-up runs, each nncl_graph_run enqueuing the whole model and waiting once. Device
   allocations and program builds during the timed runs are counted: both must be zero.
   tools/torch_model_bench.py runs the same model in PyTorch in the same run and prints the ratio. */
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

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int bench_model_main(int argc, char **argv) {
  const char *device = NULL, *model = NULL, *v;
  int runs = 20, warmup = 2, json = 0;
  mi_sizes sz = {0};
  for (int i = 1; i < argc; i++) {
    int r = mi_parse_size_option(argc, argv, &i, &sz, "bench model");
    if (r < 0) return 2;
    if (r > 0) continue;
    if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if ((v = cli_value(argc, argv, &i, "--runs")))
      runs = atoi(v);
    else if ((v = cli_value(argc, argv, &i, "--warmup")))
      warmup = atoi(v);
    else if (cli_is(argv[i], "--json"))
      json = 1;
    else if (argv[i][0] == '-' && argv[i][1] == '-')
      return cli_unknown_option("bench model", argv[i]);
    else if (!model)
      model = argv[i];
  }
  if (!model || runs < 1 || warmup < 0) {
    fprintf(stderr, "usage: nncl bench model MODEL.onnx [--shape NAME=D0,D1,...]... [--batch N] "
                    "[--runs K (20)] [--warmup W (2)] [--json] [--device D]"
                    " [--option KEY=VALUE]...\n");
    return 2;
  }
  nncl_context *ctx = cli_open_context(device);
  if (!ctx) return 1;
  double *times = malloc((size_t)runs * sizeof *times);
  double t0 = now_s();
  nncl_graph *g = times ? mi_load_model(ctx, model) : NULL;
  double t_load = now_s() - t0;
  int rc = g ? 0 : 1;
  if (!rc) rc = mi_check_sizes(g, &sz, "bench model");
  /* Inputs at the model's own dims, unknown ones from --shape / --batch; the batch reported is
     the batch dim (mi_batch_axis) of the first input that has one, none when the model fixes
     every dim (a [T, N, F] sequence with N fixed is not "batch T"): then throughput is runs/s. */
  int64_t batch = -1;
  int batch_axis = -1;
  char shapes[512] = "";
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
    nncl_array_free(&a);
    if (st != NNCL_OK) rc = cli_fail(ctx, st, name);
  }
  double t_plan = 0, t_first = 0;
  nncl_stats s0, s1, s2;
  if (!rc) {
    nncl_context_stats(ctx, &s0);
    t0 = now_s();
    nncl_status st = nncl_graph_plan(g);
    t_plan = now_s() - t0;
    if (st != NNCL_OK) rc = cli_fail(ctx, st, "plan");
  }
  if (!rc) {
    t0 = now_s();
    nncl_status st = nncl_graph_run(g);
    t_first = now_s() - t0;
    if (st != NNCL_OK) rc = cli_fail(ctx, st, "first run");
  }
  for (int i = 0; !rc && i < warmup; i++) {
    nncl_status st = nncl_graph_run(g);
    if (st != NNCL_OK) rc = cli_fail(ctx, st, "warm-up run");
  }
  if (!rc) nncl_context_stats(ctx, &s1);
  for (int i = 0; !rc && i < runs; i++) {
    t0 = now_s();
    nncl_status st = nncl_graph_run(g);
    times[i] = now_s() - t0;
    if (st != NNCL_OK) rc = cli_fail(ctx, st, "timed run");
  }
  nncl_graph_summary sum;
  if (!rc) {
    nncl_context_stats(ctx, &s2);
    qsort(times, (size_t)runs, sizeof *times, cmp_double);
    double med = runs % 2 ? times[runs / 2] : 0.5 * (times[runs / 2 - 1] + times[runs / 2]);
    int have_sum = nncl_graph_summarize(g, &sum) == NNCL_OK;
    double gflops = have_sum ? sum.flops / 1e9 : 0;
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
      cJSON_AddNumberToObject(j, "throughput_per_s", (double)(batch >= 0 ? batch : 1) / med);
      cJSON_AddNumberToObject(j, "gflop_per_run", gflops);
      cJSON_AddNumberToObject(j, "gflops", gflops / med);
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
        printf("throughput %.1f inferences/s", (double)batch / med);
      else
        printf("throughput %.1f runs/s", 1.0 / med);
      if (gflops > 0) printf(", %.2f GFLOP/s (%.3f GFLOP per run)", gflops / med, gflops);
      printf("\nsteady     %llu device allocations, %llu program builds during the timed runs\n",
             (unsigned long long)allocs, (unsigned long long)builds);
    }
  }
  free(times);
  nncl_graph_destroy(g);
  nncl_context_destroy(ctx);
  return rc;
}
