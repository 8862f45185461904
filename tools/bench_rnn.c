/* bench_rnn.c: `nncl bench rnn [--all] [--seq S] [--input I] [--hidden H] [--runs R] [--json]`:
   LSTM and GRU time per sequence, per step, effective GFLOP/s and the same-run CLBlast SGEMM
   yardstick of the same shape. The default (--quick) table is short enough for a CPU device;
   --all runs the full table: input 512, hidden 512, sequence 100, batch 1 and 64, 1 and 2
   layers, uni- and bidirectional. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int bench_rnn_main(int argc, char **argv) {
  const char *device = NULL, *v;
  int all = 0, json = 0, runs = 3, seq = -1, input = 512, hidden = 512;
  long long x;
  for (int i = 1; i < argc; i++) {
    if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if ((v = cli_value(argc, argv, &i, "--seq"))) {
      if (cli_long("bench rnn", "--seq", v, 1, 1000000, &x)) return 2;
      seq = (int)x;
    } else if ((v = cli_value(argc, argv, &i, "--input"))) {
      if (cli_long("bench rnn", "--input", v, 1, 1000000, &x)) return 2;
      input = (int)x;
    } else if ((v = cli_value(argc, argv, &i, "--hidden"))) {
      if (cli_long("bench rnn", "--hidden", v, 1, 1000000, &x)) return 2;
      hidden = (int)x;
    } else if ((v = cli_value(argc, argv, &i, "--runs"))) {
      if (cli_long("bench rnn", "--runs", v, 1, 1000000, &x)) return 2;
      runs = (int)x;
    } else if (cli_is(argv[i], "--all"))
      all = 1;
    else if (cli_is(argv[i], "--quick"))
      all = 0;
    else if (cli_is(argv[i], "--json"))
      json = 1;
    else {
      return cli_unknown_option("bench rnn", argv[i]);
    }
  }
  if (seq <= 0) seq = all ? 100 : 10;
  nncl_context *ctx = cli_open_context(device);
  if (!ctx) return 1;
  static const char *cells[] = {"LSTM", "GRU"};
  static const int batches[] = {1, 64};
  cJSON *rows = json ? cJSON_CreateArray() : NULL;
  if (!json)
    printf("device %s\n%-5s %5s %6s %4s %5s %12s %10s %9s %12s %6s\n",
           nncl_context_device(ctx)->name, "cell", "batch", "layers", "dirs", "seq", "ms/sequence",
           "us/step", "GFLOP/s", "SGEMM GF/s", "ratio");
  int rc = 0;
  for (int ci = 0; ci < 2 && !rc; ci++)
    for (int bi = 0; bi < 2 && !rc; bi++)
      for (int layers = 1; layers <= (all ? 2 : 1) && !rc; layers++)
        for (int bidir = 0; bidir <= (all ? 1 : 0) && !rc; bidir++) {
          nncl_bench_rnn r = {.cell = cells[ci],
                              .input = input,
                              .hidden = hidden,
                              .seq = seq,
                              .batch = batches[bi],
                              .layers = layers,
                              .bidirectional = bidir};
          nncl_status st = nncl_bench_rnn_run(ctx, runs, &r);
          if (st != NNCL_OK) {
            rc = cli_fail(ctx, st, "bench rnn");
            break;
          }
          if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "cell", r.cell);
            cJSON_AddNumberToObject(o, "input", r.input);
            cJSON_AddNumberToObject(o, "hidden", r.hidden);
            cJSON_AddNumberToObject(o, "seq", r.seq);
            cJSON_AddNumberToObject(o, "batch", r.batch);
            cJSON_AddNumberToObject(o, "layers", r.layers);
            cJSON_AddNumberToObject(o, "directions", bidir ? 2 : 1);
            cJSON_AddNumberToObject(o, "seconds_per_sequence", r.seconds);
            cJSON_AddNumberToObject(o, "us_per_step", r.step_us);
            cJSON_AddNumberToObject(o, "gflops", r.gflops);
            cJSON_AddNumberToObject(o, "sgemm_gflops", r.yardstick_gflops);
            cJSON_AddNumberToObject(o, "ratio", r.ratio);
            cJSON_AddItemToArray(rows, o);
          } else {
            printf("%-5s %5d %6d %4d %5d %12.3f %10.1f %9.2f %12.2f %5.0f%%\n", r.cell, r.batch,
                   r.layers, bidir ? 2 : 1, r.seq, r.seconds * 1e3, r.step_us, r.gflops,
                   r.yardstick_gflops, r.ratio * 100);
            fflush(stdout);
          }
        }
  if (json && !rc) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "device", nncl_context_device(ctx)->name);
    cJSON_AddItemToObject(root, "rnn", rows);
    cli_print_json(root);
  } else if (rows) {
    cJSON_Delete(rows);
  }
  nncl_context_destroy(ctx);
  return rc;
}
