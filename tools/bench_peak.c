/* bench_peak.c: `nncl bench peak [--json] [--refresh] [--device D]`: the device's roofs (FMA
   throughput, memory and transfer bandwidth, launch latency), from the per-device cache when it
   has them, measured (and cached) otherwise. */
#include <cjson/cJSON.h>
#include <stdio.h>

#include "cli.h"

int bench_peak_main(int argc, char **argv) {
  const char *device = NULL, *v;
  int json = 0, refresh = 0;
  for (int i = 1; i < argc; i++) {
    if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if (cli_is(argv[i], "--json"))
      json = 1;
    else if (cli_is(argv[i], "--refresh"))
      refresh = 1;
    else {
      return cli_unknown_option("bench peak", argv[i]);
    }
  }
  nncl_context *ctx = cli_open_context(device);
  if (!ctx) return 1;
  nncl_peak p;
  nncl_status st = nncl_bench_peak(ctx, refresh, &p);
  if (st != NNCL_OK) {
    int rc = cli_fail(ctx, st, "bench peak");
    nncl_context_destroy(ctx);
    return rc;
  }
  char path[1200];
  nncl_bench_peak_path(ctx, path, sizeof path);
  if (json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "device", p.device);
    cJSON_AddStringToObject(o, "driver", p.driver);
    cJSON_AddNumberToObject(o, "fma_gflops", p.fma_gflops);
    cJSON_AddNumberToObject(o, "fma_gflops_float", p.fma_gflops_float);
    cJSON_AddNumberToObject(o, "fma_gflops_float4", p.fma_gflops_float4);
    cJSON_AddNumberToObject(o, "fma_gflops_float8", p.fma_gflops_float8);
    cJSON_AddNumberToObject(o, "fma_gflops_float16", p.fma_gflops_float16);
    cJSON_AddNumberToObject(o, "read_gbps", p.read_gbps);
    cJSON_AddNumberToObject(o, "write_gbps", p.write_gbps);
    cJSON_AddNumberToObject(o, "copy_gbps", p.copy_gbps);
    cJSON_AddNumberToObject(o, "mem_gbps", p.mem_gbps);
    cJSON_AddNumberToObject(o, "h2d_gbps", p.h2d_gbps);
    cJSON_AddNumberToObject(o, "d2h_gbps", p.d2h_gbps);
    cJSON_AddNumberToObject(o, "launch_us", p.launch_us);
    cJSON_AddNumberToObject(o, "launch_b2b_us", p.launch_b2b_us);
    cJSON_AddNumberToObject(o, "measure_seconds", p.measure_seconds);
    cJSON_AddNumberToObject(o, "measured_unix", p.measured_unix);
    cJSON_AddBoolToObject(o, "from_cache", p.from_cache);
    cJSON_AddStringToObject(o, "cache_file", path);
    cli_print_json(o);
  } else {
    printf("device %s (driver %s)\n", p.device, p.driver);
    printf("%s\n", p.from_cache ? "from the cache (--refresh measures again)" : "measured now");
    if (path[0]) printf("cache file %s\n", path);
    printf("\n");
    printf("  %-34s %10.1f GFLOP/s\n", "FMA float", p.fma_gflops_float);
    printf("  %-34s %10.1f GFLOP/s\n", "FMA float4", p.fma_gflops_float4);
    printf("  %-34s %10.1f GFLOP/s\n", "FMA float8", p.fma_gflops_float8);
    printf("  %-34s %10.1f GFLOP/s\n", "FMA float16", p.fma_gflops_float16);
    printf("  %-34s %10.1f GFLOP/s\n", "compute roof", p.fma_gflops);
    printf("  %-34s %10.2f GB/s\n", "global memory read", p.read_gbps);
    printf("  %-34s %10.2f GB/s\n", "global memory write", p.write_gbps);
    printf("  %-34s %10.2f GB/s\n", "global memory copy (read + write)", p.copy_gbps);
    printf("  %-34s %10.2f GB/s\n", "memory roof", p.mem_gbps);
    printf("  %-34s %10.2f FLOP/byte\n", "ridge point", p.fma_gflops / p.mem_gbps);
    printf("  %-34s %10.2f GB/s\n", "host to device", p.h2d_gbps);
    printf("  %-34s %10.2f GB/s\n", "device to host", p.d2h_gbps);
    printf("  %-34s %10.2f us\n", "launch latency (enqueue + finish)", p.launch_us);
    printf("  %-34s %10.2f us\n", "launch back to back (per kernel)", p.launch_b2b_us);
    printf("\nmeasuring took %.2f s\n", p.measure_seconds);
  }
  nncl_context_destroy(ctx);
  return 0;
}
