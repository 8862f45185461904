/* bench_conv.c: `nncl bench conv [--all] [--batch N] [--runs R] [--net NAME] [--pick-only]
   [--compare-torch] [--torch-script PATH] [--json]`: the convolution layer table. Per layer:
   the heuristic's pick with its time and effective GFLOP/s, every eligible algorithm forced in
   turn, and the CLBlast SGEMM of the layer's implicit GEMM size measured in the same run. The
   default is a short subset (--quick) for CPU devices; --all runs every layer. --compare-torch
   runs tools/torch_conv_bench.py (PyTorch, same machine, same run) and prints its figures in a
   column of their own. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Runs the PyTorch script on the selected layers; fills torch_gf (or leaves -1). */
static int run_torch(const char *script, const nncl_bench_conv_layer *const *sel, int n, int batch,
                     int runs, double *torch_gf, char *version, size_t vlen) {
  size_t cap = 64 + (size_t)n * 64 + strlen(script);
  char *cmd = malloc(cap);
  if (!cmd) return -1;
  int off = snprintf(cmd, cap, "/usr/bin/python3 '%s' --batch %d --runs %d --layers '", script,
                     batch, runs);
  for (int i = 0; i < n; i++) {
    const nncl_bench_conv_layer *l = sel[i];
    off += snprintf(cmd + off, cap - (size_t)off, "%s%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d",
                    i ? ";" : "", l->C, l->H, l->W, l->K, l->R, l->S, l->stride, l->pad, l->groups,
                    l->transpose, l->output_padding);
  }
  snprintf(cmd + off, cap - (size_t)off, "'");
  FILE *p = popen(cmd, "r");
  free(cmd);
  if (!p) return -1;
  size_t len = 0, bcap = 1 << 16;
  char *buf = malloc(bcap);
  size_t got;
  while (buf && (got = fread(buf + len, 1, bcap - len - 1, p)) > 0) {
    len += got;
    if (len + 1 == bcap) {
      char *nb = realloc(buf, bcap * 2);
      if (!nb) break;
      buf = nb;
      bcap *= 2;
    }
  }
  int rc = pclose(p);
  if (!buf) return -1;
  buf[len] = 0;
  cJSON *j = cJSON_Parse(buf);
  free(buf);
  if (!j || rc != 0) {
    cJSON_Delete(j);
    return -1;
  }
  cJSON *ls = cJSON_GetObjectItem(j, "layers"), *v = cJSON_GetObjectItem(j, "torch");
  if (cJSON_IsString(v)) snprintf(version, vlen, "%s", v->valuestring);
  for (int i = 0; i < n && cJSON_IsArray(ls); i++) {
    cJSON *g = cJSON_GetObjectItem(cJSON_GetArrayItem(ls, i), "gflops");
    if (cJSON_IsNumber(g)) torch_gf[i] = g->valuedouble;
  }
  cJSON_Delete(j);
  return 0;
}

static const char *default_script(void) {
  static const char *const tries[] = {"tools/torch_conv_bench.py", "../tools/torch_conv_bench.py",
                                      "../../tools/torch_conv_bench.py"};
  const char *e = getenv("NNCL_TORCH_SCRIPT");
  if (e && *e) return e;
  for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++)
    if (access(tries[i], R_OK) == 0) return tries[i];
  return tries[0];
}

int bench_conv_main(int argc, char **argv) {
  const char *device = NULL, *net = NULL, *script = NULL, *v;
  int all = 0, json = 0, runs = 3, batch = 1, pick_only = 0, torch = 0;
  long long x;
  for (int i = 1; i < argc; i++) {
    if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if ((v = cli_value(argc, argv, &i, "--batch"))) {
      if (cli_long("bench conv", "--batch", v, 1, 1000000, &x)) return 2;
      batch = (int)x;
    } else if ((v = cli_value(argc, argv, &i, "--runs"))) {
      if (cli_long("bench conv", "--runs", v, 1, 1000000, &x)) return 2;
      runs = (int)x;
    } else if ((v = cli_value(argc, argv, &i, "--net")))
      net = v;
    else if ((v = cli_value(argc, argv, &i, "--torch-script")))
      script = v;
    else if (cli_is(argv[i], "--all"))
      all = 1;
    else if (cli_is(argv[i], "--quick"))
      all = 0;
    else if (cli_is(argv[i], "--pick-only"))
      pick_only = 1;
    else if (cli_is(argv[i], "--compare-torch"))
      torch = 1;
    else if (cli_is(argv[i], "--json"))
      json = 1;
    else {
      return cli_unknown_option("bench conv", argv[i]);
    }
  }
  if (batch < 1 || runs < 1) {
    fprintf(stderr, "nncl bench conv: --batch and --runs must be >= 1\n");
    return 2;
  }
  const nncl_bench_conv_layer *table;
  int nt = nncl_bench_conv_layers(&table), n = 0;
  const nncl_bench_conv_layer **sel = malloc((size_t)nt * sizeof *sel);
  double *tgf = malloc((size_t)nt * sizeof *tgf);
  if (!sel || !tgf) {
    free(sel);
    free(tgf);
    return 1;
  }
  for (int i = 0; i < nt; i++)
    if ((all || table[i].quick || net) && (!net || strcmp(net, table[i].net) == 0))
      sel[n++] = &table[i];
  for (int i = 0; i < n; i++) tgf[i] = -1;
  char tver[64] = "";
  if (torch && run_torch(script ? script : default_script(), sel, n, batch, runs, tgf, tver,
                         sizeof tver) != 0)
    fprintf(stderr, "nncl bench conv: PyTorch comparison failed (is /usr/bin/python3 with torch "
                    "there? --torch-script PATH)\n");
  nncl_context *ctx = cli_open_context(device);
  if (!ctx) {
    free(sel);
    free(tgf);
    return 1;
  }
  cJSON *rows = json ? cJSON_CreateArray() : NULL;
  if (!json) {
    printf("device %s, batch %d, median of %d, bias + ReLU fused%s%s\n",
           nncl_context_device(ctx)->name, batch, runs, torch ? ", PyTorch " : "", tver);
    printf("%-11s %-28s %-10s %9s %8s %8s%s  %s\n", "net", "layer", "picked", "ms", "GFLOP/s",
           "SGEMM", torch ? "   torch" : "", pick_only ? "" : "every eligible algorithm: GFLOP/s");
  }
  int rc = 0;
  for (int i = 0; i < n && !rc; i++) {
    nncl_bench_conv_result r;
    nncl_status st = nncl_bench_conv_run(ctx, sel[i], batch, runs, !pick_only, &r);
    if (st != NNCL_OK) {
      rc = cli_fail(ctx, st, sel[i]->name);
      break;
    }
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "net", sel[i]->net);
      cJSON_AddStringToObject(o, "layer", sel[i]->name);
      cJSON_AddNumberToObject(o, "batch", batch);
      cJSON_AddNumberToObject(o, "flops", r.flops);
      cJSON_AddStringToObject(o, "picked", r.picked);
      cJSON_AddNumberToObject(o, "picked_seconds", r.picked_seconds);
      cJSON_AddNumberToObject(o, "picked_gflops", r.picked_gflops);
      cJSON_AddNumberToObject(o, "sgemm_gflops", r.sgemm_gflops);
      if (torch) cJSON_AddNumberToObject(o, "torch_gflops", tgf[i]);
      cJSON *al = cJSON_AddObjectToObject(o, "algorithms");
      for (int a = 0; a < r.n_algos; a++) {
        cJSON *ao = cJSON_AddObjectToObject(al, r.algos[a].name);
        cJSON_AddNumberToObject(ao, "seconds", r.algos[a].seconds);
        cJSON_AddNumberToObject(ao, "gflops", r.algos[a].gflops);
      }
      cJSON_AddItemToArray(rows, o);
    } else {
      printf("%-11s %-28s %-10s %9.3f %8.1f %8.1f", sel[i]->net, sel[i]->name, r.picked,
             r.picked_seconds * 1e3, r.picked_gflops, r.sgemm_gflops);
      if (torch) printf(" %7.1f", tgf[i]);
      printf(" ");
      for (int a = 0; a < r.n_algos; a++) printf(" %s %.1f", r.algos[a].name, r.algos[a].gflops);
      printf("\n");
      fflush(stdout);
    }
  }
  if (json && !rc) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "device", nncl_context_device(ctx)->name);
    if (torch) cJSON_AddStringToObject(o, "torch", tver);
    cJSON_AddItemToObject(o, "layers", rows);
    cli_print_json(o);
  } else {
    cJSON_Delete(rows);
  }
  nncl_context_destroy(ctx);
  free(sel);
  free(tgf);
  return rc;
}
