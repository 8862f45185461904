/* bench_gemm.c: `nncl bench gemm [--size N | --m M --n N --k K] [--runs R] [--json]`: the SGEMM
   yardstick alone, and the device copy bandwidth next to it. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int bench_gemm_main(int argc, char **argv) {
  const char *device = NULL, *v;
  size_t m = 1024, n = 1024, k = 1024, copy = 64u << 20;
  int runs = 5, json = 0;
  for (int i = 1; i < argc; i++) {
    if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if ((v = cli_value(argc, argv, &i, "--size")))
      m = n = k = (size_t)atol(v);
    else if ((v = cli_value(argc, argv, &i, "--m")))
      m = (size_t)atol(v);
    else if ((v = cli_value(argc, argv, &i, "--n")))
      n = (size_t)atol(v);
    else if ((v = cli_value(argc, argv, &i, "--k")))
      k = (size_t)atol(v);
    else if ((v = cli_value(argc, argv, &i, "--runs")))
      runs = atoi(v);
    else if (cli_is(argv[i], "--json"))
      json = 1;
    else {
      return cli_unknown_option("bench gemm", argv[i]);
    }
  }
  nncl_context *ctx = cli_open_context(device);
  if (!ctx) return 1;
  double t, gflops, ct, gbps;
  nncl_status st = nncl_bench_sgemm(ctx, m, n, k, runs, &t, &gflops);
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
    cJSON_AddNumberToObject(o, "copy_bytes", (double)copy);
    cJSON_AddNumberToObject(o, "copy_gbps", gbps);
    cli_print_json(o);
  } else {
    printf("device %s\n", nncl_context_device(ctx)->name);
    printf("CLBlast SGEMM %zux%zux%zu: %.3f ms, %.1f GFLOP/s\n", m, n, k, t * 1e3, gflops);
    printf("device copy %zu MiB: %.3f ms, %.1f GB/s (read + write)\n", copy >> 20, ct * 1e3, gbps);
  }
  nncl_context_destroy(ctx);
  return 0;
}
