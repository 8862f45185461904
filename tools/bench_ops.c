/* bench_ops.c: `nncl bench ops [--elements N] [--runs R] [--json]`: memory-bound ops (element-
   wise, broadcast, Softmax, reductions, pooling, normalisation, batch-1 FC) on large tensors in
   GB/s, next to the device copy bandwidth and the percentage of it each op reaches. The copy is
   measured again right before each row, because a shared machine's bandwidth swings by 2x within
   one run; the first figure heads the table. Rows whose op this build lacks are listed as
   skipped. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int bench_ops_main(int argc, char **argv) {
  const char *device = NULL, *v;
  size_t elements = (size_t)1 << 24;
  int runs = 10, json = 0;
  long long x;
  for (int i = 1; i < argc; i++) {
    if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if ((v = cli_value(argc, argv, &i, "--elements"))) {
      if (cli_long("bench ops", "--elements", v, 4096, 1LL << 40, &x)) return 2;
      elements = (size_t)x;
    } else if ((v = cli_value(argc, argv, &i, "--runs"))) {
      if (cli_long("bench ops", "--runs", v, 1, 1000000, &x)) return 2;
      runs = (int)x;
    } else if (cli_is(argv[i], "--json"))
      json = 1;
    else {
      return cli_unknown_option("bench ops", argv[i]);
    }
  }
  if (elements < 4096 || runs < 1) {
    fprintf(stderr, "nncl bench ops: --elements must be >= 4096 and --runs >= 1\n");
    return 2;
  }
  nncl_context *ctx = cli_open_context(device);
  if (!ctx) return 1;
  double copy_s, copy_gbps;
  nncl_status st = nncl_bench_copy(ctx, elements * sizeof(float), runs, &copy_s, &copy_gbps);
  if (st != NNCL_OK) {
    int rc = cli_fail(ctx, st, "bench ops: copy yardstick");
    nncl_context_destroy(ctx);
    return rc;
  }
  const double copy0_s = copy_s, copy0_gbps = copy_gbps; /* the table's heading figure */
  const nncl_bench_op *table;
  int n = nncl_bench_ops_table(&table);
  cJSON *rows = json ? cJSON_CreateArray() : NULL;
  if (!json) {
    printf("device %s\n", nncl_context_device(ctx)->name);
    printf("copy yardstick: %zu MiB in %.3f ms, %.1f GB/s (read + write)\n",
           elements * sizeof(float) >> 20, copy_s * 1e3, copy_gbps);
    printf("%-34s %-34s %-22s %9s %7s %9s %7s\n", "op", "input", "algorithm", "ms", "GB/s",
           "copy GB/s", "% copy");
  }
  int rc = 0;
  for (int i = 0; i < n && !rc; i++) {
    nncl_bench_op_result r;
    if (i > 0) st = nncl_bench_copy(ctx, elements * sizeof(float), runs, &copy_s, &copy_gbps);
    if (st == NNCL_OK) st = nncl_bench_op_run(ctx, i, elements, runs, &r);
    if (st != NNCL_OK) {
      rc = cli_fail(ctx, st, table[i].name);
      break;
    }
    double pct = copy_gbps > 0 ? r.gbps / copy_gbps * 100 : 0;
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "name", table[i].name);
      cJSON_AddStringToObject(o, "op", table[i].op);
      cJSON_AddBoolToObject(o, "available", r.available);
      if (r.available) {
        cJSON_AddStringToObject(o, "input", r.shape);
        cJSON_AddStringToObject(o, "algorithm", r.algo);
        cJSON_AddNumberToObject(o, "seconds", r.seconds);
        cJSON_AddNumberToObject(o, "bytes", r.bytes);
        cJSON_AddNumberToObject(o, "gbps", r.gbps);
        cJSON_AddNumberToObject(o, "copy_gbps", copy_gbps);
        cJSON_AddNumberToObject(o, "percent_of_copy", pct);
      }
      cJSON_AddItemToArray(rows, o);
    } else if (!r.available) {
      printf("%-34s skipped: %s is not in this build's op table\n", table[i].name, table[i].op);
    } else {
      printf("%-34s %-34s %-22s %9.3f %7.1f %9.1f %6.0f%%\n", table[i].name, r.shape, r.algo,
             r.seconds * 1e3, r.gbps, copy_gbps, pct);
      fflush(stdout);
    }
  }
  if (json && !rc) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "device", nncl_context_device(ctx)->name);
    cJSON_AddNumberToObject(root, "elements", (double)elements);
    cJSON_AddNumberToObject(root, "copy_seconds", copy0_s);
    cJSON_AddNumberToObject(root, "copy_gbps", copy0_gbps);
    cJSON_AddItemToObject(root, "ops", rows);
    cli_print_json(root);
  } else if (rows) {
    cJSON_Delete(rows);
  }
  nncl_context_destroy(ctx);
  return rc;
}
