/* cmd_profile.c: `nncl profile MODEL.onnx`: where a model's time goes on a device. Loads and
   plans the model, profiles it (nncl_graph_profile) and prints the per-node table; --trace writes
   a Chrome/Perfetto trace, --csv a spreadsheet. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "model_io.h"
#include "profile_inputs.h"
#include "profile_write.h"

#define MAX_SPECS 32

static int run(int argc, char **argv) {
  const char *device = NULL, *model = NULL, *trace = NULL, *csv = NULL, *v;
  const char *inputs[MAX_SPECS];
  int n_inputs = 0, runs = 10, warmup = 2, quiet = 0, json = 0;
  mi_sizes sz = {0};
  for (int i = 1; i < argc; i++) {
    int r = mi_parse_size_option(argc, argv, &i, &sz, "profile");
    if (r < 0) return 2;
    if (r > 0) continue;
    if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if ((v = cli_value(argc, argv, &i, "--runs"))) {
      long long k;
      if (cli_long("profile", "--runs", v, 1, 1000000, &k)) return 2;
      runs = (int)k;
    } else if ((v = cli_value(argc, argv, &i, "--warmup"))) {
      long long k;
      if (cli_long("profile", "--warmup", v, 0, 1000000, &k)) return 2;
      warmup = (int)k;
    } else if ((v = cli_value(argc, argv, &i, "--trace")))
      trace = v;
    else if ((v = cli_value(argc, argv, &i, "--csv")))
      csv = v;
    else if ((v = cli_value(argc, argv, &i, "--input"))) {
      if (n_inputs == MAX_SPECS) {
        fprintf(stderr, "nncl profile: more than %d --input options\n", MAX_SPECS);
        return 2;
      }
      inputs[n_inputs++] = v;
    } else if (cli_is(argv[i], "--quiet"))
      quiet = 1;
    else if (cli_is(argv[i], "--json"))
      json = quiet = 1; /* stdout holds the JSON alone */
    else if (argv[i][0] == '-')
      return cli_unknown_option("profile", argv[i]);
    else if (model) {
      fprintf(stderr, "nncl profile: unexpected argument %s (one model at a time)\n", argv[i]);
      return 2;
    } else
      model = argv[i];
  }
  if (!model) {
    fprintf(stderr, "usage: %s\n", cmd_profile.usage);
    return 2;
  }
  nncl_context *ctx = cli_open_context(device);
  if (!ctx) return 1;
  nncl_profile p;
  nncl_status st;
  nncl_graph *g = mi_load_model(ctx, model);
  int rc = g ? 0 : 1;
  if (!rc) rc = mi_check_sizes(g, &sz, "profile");
  if (!rc) rc = profile_set_inputs(ctx, g, inputs, n_inputs, &sz, !quiet);
  if (!rc && (st = nncl_graph_profile(g, runs, warmup, &p)) != NNCL_OK)
    rc = cli_fail(ctx, st, "profile");
  if (!rc) {
    char err[1400];
    if (!quiet) profile_print_table(stdout, &p, model);
    if (json) profile_print_json(&p, model);
    if (trace && (st = nncl_profile_write_trace(ctx, &p, trace, model)) != NNCL_OK) {
      rc = cli_fail(ctx, st, "profile --trace");
    } else if (trace && !quiet) {
      printf("\ntrace written to %s (open in https://ui.perfetto.dev or chrome://tracing)\n",
             trace);
    }
    if (csv && profile_write_csv(&p, csv, err, sizeof err) != 0) {
      fprintf(stderr, "nncl profile: cannot write the CSV file: %s\n", err);
      rc = 1;
    } else if (csv && !quiet) {
      printf("CSV written to %s\n", csv);
    }
    nncl_profile_free(&p);
  }
  nncl_graph_destroy(g);
  nncl_context_destroy(ctx);
  return rc;
}

const struct cli_command cmd_profile = {
    "profile", "per-node device times, roofline figures and a Chrome/Perfetto trace", run,
    "nncl profile MODEL.onnx [--runs N (10)] [--warmup K (2)] [--input [NAME=]FILE.npy|.pb]...\n"
    "       [--shape NAME=D0,D1,...]... [--batch N (1)] [--trace FILE.json] [--csv FILE]\n"
    "       [--device D] [--quiet] [--json (the figures as one JSON object, nothing else)]\n"
    "       [--option KEY=VALUE]... (nncl options)"};
