/* cmd_info.c: `nncl info MODEL.onnx [--shape NAME=DIMS] [--batch N] [--nodes]`: a model's inputs,
   outputs, op counts, and (planned at its own dims, unknown ones from --shape/--batch)
   parameters, FLOPs, kernels after folding and fusion, and the memory plan: the arena holding
   every intermediate next to the sum of the intermediates. --nodes lists every planned node. The
   plan is a dry one (nncl_graph_plan_dry): the same figures, no kernel compiled. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_io.h"

static const char *human_bytes(double b, char *buf, size_t len) {
  const char *unit[] = {"B", "KiB", "MiB", "GiB"};
  int u = 0;
  while (b >= 1024 && u < 3) b /= 1024, u++;
  snprintf(buf, len, u ? "%.2f %s" : "%.0f %s", b, unit[u]);
  return buf;
}

static void print_nodes(const nncl_graph *g) {
  int n = nncl_graph_num_planned_nodes(g);
  printf("\nplanned nodes (%d):\n  %-4s %-28s %-20s %-24s %-14s %-22s %10s\n", n, "#", "name", "op",
         "fused", "algo", "output", "MFLOP");
  for (int i = 0; i < n; i++) {
    nncl_node_info ni;
    if (nncl_graph_planned_node(g, i, &ni) != NNCL_OK) continue;
    char sb[128] = "";
    if (ni.n_out > 0) nncl_shape_format(&ni.out_shapes[0], sb, sizeof sb);
    printf("  %-4d %-28.28s %-20.20s %-24.24s %-14.14s %-22.22s %10.3f\n", i,
           ni.name ? ni.name : "", ni.op_type ? ni.op_type : "",
           ni.fused && *ni.fused ? ni.fused : "-", ni.algo && *ni.algo ? ni.algo : "-", sb,
           ni.flops / 1e6);
  }
}

/* Text lines, unless --json asked for the JSON object alone. */
#define TXT(...)                                                                                   \
  do {                                                                                             \
    if (!json) printf(__VA_ARGS__);                                                                \
  } while (0)

static cJSON *shape_json(const nncl_shape *s) {
  cJSON *a = cJSON_CreateArray();
  for (int d = 0; d < s->rank; d++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)s->dims[d]));
  return a;
}

/* --json: what the text shows, as one object; input shapes are those planned for. */
static void print_json(nncl_graph *g, const char *model, int planned, int nodes) {
  cJSON *j = cJSON_CreateObject(), *ins = cJSON_CreateArray(), *outs = cJSON_CreateArray(),
        *ops = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "model", model);
  cJSON_AddNumberToObject(j, "opset", nncl_graph_opset(g));
  for (int i = 0; i < nncl_graph_num_inputs(g); i++) {
    nncl_dtype dt = NNCL_UNDEFINED;
    nncl_shape s = {0};
    cJSON *e = cJSON_CreateObject();
    nncl_graph_input_info(g, i, &dt, &s);
    cJSON_AddStringToObject(e, "name", nncl_graph_input_name(g, i));
    cJSON_AddStringToObject(e, "dtype", nncl_dtype_name(dt));
    if (s.rank >= 0) cJSON_AddItemToObject(e, "shape", shape_json(&s));
    cJSON_AddItemToArray(ins, e);
  }
  for (int i = 0; i < nncl_graph_num_outputs(g); i++) {
    nncl_dtype dt = NNCL_UNDEFINED;
    nncl_shape s = {0};
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", nncl_graph_output_name(g, i));
    if (planned && nncl_graph_output_info(g, i, &dt, &s) == NNCL_OK) {
      cJSON_AddStringToObject(e, "dtype", nncl_dtype_name(dt));
      cJSON_AddItemToObject(e, "shape", shape_json(&s));
    }
    cJSON_AddItemToArray(outs, e);
  }
  const char *types[512];
  int counts[512], nt = nncl_graph_op_counts(g, types, counts, 512);
  for (int i = 0; i < nt; i++) cJSON_AddNumberToObject(ops, types[i], counts[i]);
  cJSON_AddItemToObject(j, "inputs", ins);
  cJSON_AddItemToObject(j, "outputs", outs);
  cJSON_AddItemToObject(j, "ops", ops);
  nncl_graph_summary sum;
  if (planned && nncl_graph_summarize(g, &sum) == NNCL_OK) {
    cJSON_AddNumberToObject(j, "params", (double)sum.n_params);
    cJSON_AddNumberToObject(j, "weight_bytes", (double)sum.weight_bytes);
    cJSON_AddNumberToObject(j, "flops", sum.flops);
    cJSON_AddNumberToObject(j, "kernel_nodes", sum.n_kernel_nodes);
    cJSON_AddNumberToObject(j, "fused", sum.n_fused);
    cJSON_AddNumberToObject(j, "folded", sum.n_folded);
    cJSON_AddNumberToObject(j, "arena_bytes", (double)sum.arena_bytes);
    cJSON_AddNumberToObject(j, "intermediates_bytes", (double)sum.intermediates_bytes);
    cJSON_AddNumberToObject(j, "workspace_bytes", (double)sum.workspace_bytes);
    cJSON_AddNumberToObject(j, "plan_ms", 1e3 * sum.plan_seconds);
  }
  if (planned && nodes) {
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; i < nncl_graph_num_planned_nodes(g); i++) {
      nncl_node_info ni;
      if (nncl_graph_planned_node(g, i, &ni) != NNCL_OK) continue;
      cJSON *e = cJSON_CreateObject();
      cJSON_AddStringToObject(e, "name", ni.name ? ni.name : "");
      cJSON_AddStringToObject(e, "op", ni.op_type ? ni.op_type : "");
      cJSON_AddStringToObject(e, "fused", ni.fused ? ni.fused : "");
      cJSON_AddStringToObject(e, "algo", ni.algo ? ni.algo : "");
      if (ni.n_out > 0) cJSON_AddItemToObject(e, "output_shape", shape_json(&ni.out_shapes[0]));
      cJSON_AddNumberToObject(e, "flops", ni.flops);
      cJSON_AddItemToArray(list, e);
    }
    cJSON_AddItemToObject(j, "nodes", list);
  }
  cli_print_json(j);
}

/* With several devices: how many nodes each runs, and every transfer between them. */
static void print_placement(nncl_context *ctx, const nncl_graph *g) {
  int nd = nncl_context_device_count(ctx), n = nncl_graph_num_planned_nodes(g), moved = 0;
  for (int d = 0; d < nd; d++) {
    int on = 0;
    nncl_node_info ni;
    for (int i = 0; i < n; i++)
      on += nncl_graph_planned_node(g, i, &ni) == NNCL_OK && ni.device == d && ni.from_device < 0;
    printf("device   %d: %s, %d nodes\n", d, nncl_context_device_at(ctx, d)->name, on);
  }
  for (int i = 0; i < n; i++) {
    nncl_node_info ni;
    if (nncl_graph_planned_node(g, i, &ni) != NNCL_OK || ni.from_device < 0) continue;
    char sb[128];
    printf("transfer %-40s %s  device %d -> %d\n", ni.name,
           nncl_shape_format(&ni.out_shapes[0], sb, sizeof sb), ni.from_device, ni.device);
    moved++;
  }
  printf("%d transfers\n", moved);
}

static int run(int argc, char **argv) {
  const char *device = NULL, *model = NULL, *v;
  mi_sizes sz = {0};
  int nodes = 0, json = 0;
  for (int i = 1; i < argc; i++) {
    int r = mi_parse_size_option(argc, argv, &i, &sz, "info");
    if (r < 0) return 2;
    if (r > 0) continue;
    if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if (cli_is(argv[i], "--nodes"))
      nodes = 1;
    else if (cli_is(argv[i], "--json"))
      json = 1;
    else if (argv[i][0] == '-' && argv[i][1] == '-')
      return cli_unknown_option("info", argv[i]);
    else if (!model)
      model = argv[i];
    else
      return cli_usage(&cmd_info);
  }
  if (!model) return cli_usage(&cmd_info);
  nncl_context *ctx = cli_open_context(device);
  if (!ctx) return 1;
  nncl_graph *g = mi_load_model(ctx, model);
  if (!g) {
    nncl_context_destroy(ctx);
    return 1;
  }
  char sb[128], b1[32], b2[32];
  TXT("model    %s (opset %d)\n", model, nncl_graph_opset(g));
  int rc = 0;
  for (int i = 0; i < nncl_graph_num_inputs(g); i++) {
    nncl_dtype dt = NNCL_UNDEFINED;
    nncl_shape s = {0};
    nncl_graph_input_info(g, i, &dt, &s);
    TXT("input    %-24s %-8s %s\n", nncl_graph_input_name(g, i), nncl_dtype_name(dt),
        s.rank >= 0 ? nncl_shape_format(&s, sb, sizeof sb) : "(shape unknown)");
  }
  /* Plan at the model's own dims; inputs with unknown dims get zero data of the shape --shape or
     --batch gives them (the rest 1). */
  char planned_at[256] = "";
  if (mi_check_sizes(g, &sz, "info")) rc = 1;
  for (int i = 0; i < nncl_graph_num_inputs(g) && !rc; i++) {
    nncl_dtype dt;
    nncl_shape s;
    char note[160];
    nncl_array a;
    const char *name = nncl_graph_input_name(g, i);
    if (nncl_graph_input_info(g, i, &dt, &s) != NNCL_OK ||
        mi_input_shape(g, i, &sz, &s, note, sizeof note) != NNCL_OK) {
      fprintf(stderr, "nncl info: input '%s' has an unknown rank; give it with --shape\n", name);
      rc = 1;
      break;
    }
    size_t off = strlen(planned_at);
    snprintf(planned_at + off, sizeof planned_at - off, "%s%s %s", off ? ", " : "", name,
             nncl_shape_format(&s, sb, sizeof sb));
    if (!*note) continue;
    if ((rc = mi_generate(ctx, "info", name, dt, &s, 0, &a)) != 0) break;
    nncl_status st = nncl_graph_set_input(g, name, &a);
    nncl_array_free(&a);
    if (st != NNCL_OK) rc = cli_fail(ctx, st, name);
  }
  /* dry: the figures of the plan a run would make, with no kernel compiled (a cold cache stays cold) */
  nncl_status st = rc ? NNCL_OK : nncl_graph_plan_dry(g);
  int planned = !rc && st == NNCL_OK;
  for (int i = 0; i < nncl_graph_num_outputs(g); i++) {
    nncl_dtype dt = NNCL_UNDEFINED;
    nncl_shape s = {0};
    int known = nncl_graph_output_info(g, i, &dt, &s) == NNCL_OK && planned;
    TXT("output   %-24s %-8s %s\n", nncl_graph_output_name(g, i), known ? nncl_dtype_name(dt) : "?",
        known ? nncl_shape_format(&s, sb, sizeof sb) : "(not planned)");
  }
  const char *types[512];
  int counts[512], total = 0;
  int nt = nncl_graph_op_counts(g, types, counts, 512);
  for (int i = 0; i < nt; i++) total += counts[i];
  TXT("ops      %d nodes:", total);
  for (int i = 0; i < nt; i++) TXT("%s %s x%d", i ? "," : "", types[i], counts[i]);
  TXT("\n");
  if (!rc && st != NNCL_OK) rc = cli_fail(ctx, st, "plan");
  nncl_graph_summary sum;
  if (planned && nncl_graph_summarize(g, &sum) == NNCL_OK) {
    TXT("planned  for %s\n", planned_at);
    TXT("params   %lld (%s of weights on the device)\n", (long long)sum.n_params,
        human_bytes((double)sum.weight_bytes, b1, sizeof b1));
    TXT("flops    %.3f GFLOP per run\n", sum.flops / 1e9);
    TXT("kernels  %d nodes launch work (%d fused away, %d folded at plan time)\n",
        sum.n_kernel_nodes, sum.n_fused, sum.n_folded);
    TXT("memory   arena %s for intermediates whose sum is %s (%.0f%%), workspace %s\n",
        human_bytes((double)sum.arena_bytes, b1, sizeof b1),
        human_bytes((double)sum.intermediates_bytes, b2, sizeof b2),
        sum.intermediates_bytes ? 100.0 * (double)sum.arena_bytes / (double)sum.intermediates_bytes
                                : 0.0,
        human_bytes((double)sum.workspace_bytes, sb, sizeof sb));
    TXT("plan     %.1f ms\n", 1e3 * sum.plan_seconds);
    if (nncl_context_device_count(ctx) > 1 && !json) print_placement(ctx, g);
    if (nodes && !json) print_nodes(g);
  }
  if (json && !rc) print_json(g, model, planned, nodes);
  nncl_graph_destroy(g);
  nncl_context_destroy(ctx);
  return rc;
}

const struct cli_command cmd_info = {
    "info", "an ONNX model's inputs, outputs, ops, parameters, FLOPs and memory plan", run,
    "nncl info MODEL.onnx [options]\n"
    "  Plans the model at its own input dims and prints its inputs, outputs, op counts, "
    "parameters,\n"
    "  FLOPs per run, kernels after folding and fusion, and the memory plan.\n"
    "  --shape NAME=D0,D1,...  plan with this shape for an input whose dims the model leaves open\n"
    "  --batch N               the batch dim of inputs where the model leaves it open: dim 0,\n"
    "                          else the first open dim (1)\n"
    "  --nodes                 lists every planned node (op, fused activation, algorithm, FLOPs)\n"
    "  --json                  the same as one JSON object\n"
    "  --option KEY=VALUE      a tuning or forcing switch, repeatable (nncl options lists them)\n"
    "  --device D              gpu, cpu, P:D or part of a device name (default: NNCL_DEVICE)\n"
    "  --devices LIST          several devices (all, P:D,P:D, gpu,cpu): prints the placement and "
    "transfers\n"
    "  --place SPEC            NODE_OR_OP_TYPE:DEVICE,... puts those nodes on those devices"};
