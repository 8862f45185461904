/* bench_gemm.c: `nncl bench gemm [--size N | --m M --n N --k K] [--runs R] [--json]`: one SGEMM
   through our kernel, through CLBlast and through the planner's choice, against the FMA roof of
   `nncl bench peak` (from its cache, measured when absent), and the device copy bandwidth. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int bench_gemm_main(int argc, char **argv) {
  const char *device = NULL, *v;
  size_t m = 1024, n = 1024, k = 1024, copy = 64u << 20;
  int runs = 5, json = 0;
  long long x;
  for (int i = 1; i < argc; i++) {
    if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if ((v = cli_value(argc, argv, &i, "--size"))) {
      if (cli_long("bench gemm", "--size", v, 1, 1 << 20, &x)) return 2;
      m = n = k = (size_t)x;
    } else if ((v = cli_value(argc, argv, &i, "--m"))) {
      if (cli_long("bench gemm", "--m", v, 1, 1 << 24, &x)) return 2;
      m = (size_t)x;
    } else if ((v = cli_value(argc, argv, &i, "--n"))) {
      if (cli_long("bench gemm", "--n", v, 1, 1 << 24, &x)) return 2;
      n = (size_t)x;
    } else if ((v = cli_value(argc, argv, &i, "--k"))) {
      if (cli_long("bench gemm", "--k", v, 1, 1 << 24, &x)) return 2;
      k = (size_t)x;
    } else if ((v = cli_value(argc, argv, &i, "--runs"))) {
      if (cli_long("bench gemm", "--runs", v, 1, 1000000, &x)) return 2;
      runs = (int)x;
    } else if (cli_is(argv[i], "--json"))
      json = 1;
    else {
      return cli_unknown_option("bench gemm", argv[i]);
    }
  }
  nncl_context *ctx = cli_open_context(device);
  if (!ctx) return 1;
  double t, gflops, ot, ogflops, at, agflops, ct, gbps;
  char ours[16] = "", picked[16] = "";
  nncl_peak peak;
  nncl_status st = nncl_bench_peak(ctx, 0, &peak);
  if (st == NNCL_OK) st = nncl_bench_sgemm(ctx, m, n, k, runs, &t, &gflops);
  if (st == NNCL_OK) st = nncl_bench_sgemm_impl(ctx, "ours", m, n, k, runs, &ot, &ogflops, ours);
  if (st == NNCL_OK) st = nncl_bench_sgemm_impl(ctx, "auto", m, n, k, runs, &at, &agflops, picked);
  if (st == NNCL_OK) st = nncl_bench_copy(ctx, copy, runs, &ct, &gbps);
  if (st != NNCL_OK) {
    int rc = cli_fail(ctx, st, "bench gemm");
    nncl_context_destroy(ctx);
    return rc;
  }
  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "device", nncl_context_device(ctx)->name);
    cJSON_AddNumberToObject(o, "m", (double)m);
    cJSON_AddNumberToObject(o, "n", (double)n);
    cJSON_AddNumberToObject(o, "k", (double)k);
    cJSON_AddNumberToObject(o, "sgemm_seconds", t);
    cJSON_AddNumberToObject(o, "sgemm_gflops", gflops);
    cJSON_AddStringToObject(o, "ours_impl", ours);
    cJSON_AddNumberToObject(o, "ours_seconds", ot);
    cJSON_AddNumberToObject(o, "ours_gflops", ogflops);
    cJSON_AddStringToObject(o, "auto_impl", picked);
    cJSON_AddNumberToObject(o, "auto_seconds", at);
    cJSON_AddNumberToObject(o, "auto_gflops", agflops);
    cJSON_AddNumberToObject(o, "fma_roof_gflops", peak.fma_gflops);
    cJSON_AddNumberToObject(o, "copy_bytes", (double)copy);
    cJSON_AddNumberToObject(o, "copy_gbps", gbps);
    cli_print_json(o);
  } else {
    printf("device %s\n", nncl_context_device(ctx)->name);
    printf("FMA roof (nncl bench peak): %.1f GFLOP/s\n", peak.fma_gflops);
    printf("SGEMM %zux%zux%zu\n", m, n, k);
    printf("  ours (%s)%*s %9.3f ms %8.1f GFLOP/s  %5.1f%% of roof\n", ours,
           (int)(10 - strlen(ours)), "", ot * 1e3, ogflops, 100.0 * ogflops / peak.fma_gflops);
    printf("  CLBlast         %9.3f ms %8.1f GFLOP/s  %5.1f%% of roof\n", t * 1e3, gflops,
           100.0 * gflops / peak.fma_gflops);
    printf("  planner (%s)%*s %9.3f ms %8.1f GFLOP/s\n", picked, (int)(7 - strlen(picked)), "",
           at * 1e3, agflops);
    printf("device copy %zu MiB: %.3f ms, %.1f GB/s (read + write)\n", copy >> 20, ct * 1e3, gbps);
  }
  nncl_context_destroy(ctx);
  return 0;
}
