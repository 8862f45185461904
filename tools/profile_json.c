/* profile_json.c: `nncl profile --json`: the table's figures (per node, per op type, totals,
   memory, one-time costs) as one JSON object; times in milliseconds per run. */
#include <cjson/cJSON.h>

#include "profile_write.h"

static cJSON *node_json(const nncl_profile_node *n) {
  cJSON *e = cJSON_CreateObject();
  cJSON_AddStringToObject(e, "name", n->info.name ? n->info.name : "");
  cJSON_AddStringToObject(e, "op", n->info.op_type ? n->info.op_type : "");
  cJSON_AddStringToObject(e, "fused", n->info.fused ? n->info.fused : "");
  cJSON_AddStringToObject(e, "algo", n->info.algo ? n->info.algo : "");
  cJSON_AddNumberToObject(e, "kernels", n->n_kernels);
  cJSON_AddNumberToObject(e, "device_ms", n->device_ns / 1e6);
  cJSON_AddNumberToObject(e, "host_ms", n->host_ns / 1e6);
  cJSON_AddNumberToObject(e, "share", n->share);
  cJSON_AddNumberToObject(e, "flops", n->info.flops);
  cJSON_AddNumberToObject(e, "bytes", n->info.bytes);
  cJSON_AddNumberToObject(e, "gflops", n->gflops);
  cJSON_AddNumberToObject(e, "gbps", n->gbps);
  if (n->bound != NNCL_BOUND_NONE) cJSON_AddNumberToObject(e, "roof_pct", n->roof_pct);
  return e;
}

void profile_print_json(const nncl_profile *p, const char *title) {
  cJSON *j = cJSON_CreateObject(), *nodes = cJSON_CreateArray(), *ops = cJSON_CreateArray();
  cJSON_AddStringToObject(j, "model", title);
  cJSON_AddStringToObject(j, "device", p->device);
  cJSON_AddNumberToObject(j, "runs", p->runs);
  cJSON_AddNumberToObject(j, "warmup", p->warmup);
  cJSON_AddNumberToObject(j, "device_ms", p->device_ns / 1e6);
  cJSON_AddNumberToObject(j, "nodes_ms", p->nodes_ns / 1e6);
  cJSON_AddNumberToObject(j, "other_ms", p->other_ns / 1e6);
  cJSON_AddNumberToObject(j, "wall_ms", p->wall_ns / 1e6);
  cJSON_AddNumberToObject(j, "wall_unprofiled_ms", p->wall_plain_ns / 1e6);
  cJSON_AddNumberToObject(j, "flops", p->flops);
  cJSON_AddNumberToObject(j, "bytes", p->bytes);
  cJSON_AddNumberToObject(j, "arena_bytes", (double)p->arena_bytes);
  cJSON_AddNumberToObject(j, "weight_bytes", (double)p->weight_bytes);
  cJSON_AddNumberToObject(j, "workspace_bytes", (double)p->workspace_bytes);
  if (p->one_time) {
    cJSON_AddNumberToObject(j, "plan_ms", 1e3 * p->plan_seconds);
    cJSON_AddNumberToObject(j, "program_builds", (double)p->program_builds);
    cJSON_AddNumberToObject(j, "program_disk_hits", (double)p->program_disk_hits);
    cJSON_AddNumberToObject(j, "first_run_ms", p->first_run_ns / 1e6);
  }
  for (int i = 0; i < p->n_nodes; i++) cJSON_AddItemToArray(nodes, node_json(&p->nodes[i]));
  for (int i = 0; i < p->n_ops; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "op", p->ops[i].op_type);
    cJSON_AddNumberToObject(e, "nodes", p->ops[i].nodes);
    cJSON_AddNumberToObject(e, "device_ms", p->ops[i].device_ns / 1e6);
    cJSON_AddNumberToObject(e, "share", p->ops[i].share);
    cJSON_AddItemToArray(ops, e);
  }
  cJSON_AddItemToObject(j, "nodes", nodes);
  cJSON_AddItemToObject(j, "ops", ops);
  char *text = cJSON_Print(j);
  if (text) {
    fputs(text, stdout);
    fputc('\n', stdout);
    cJSON_free(text);
  }
  cJSON_Delete(j);
}
