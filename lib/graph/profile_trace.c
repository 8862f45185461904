/* profile_trace.c: nncl_profile_write_trace, a profile as Chrome Trace Event JSON (the "JSON object
   format": opens in Perfetto and chrome://tracing), the one writer `nncl profile --trace` and the
   Python package share. Built with cJSON so names with quotes or control characters can never
   break the file. Times are microseconds on the profile's timeline (the median run). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/profile.h"
#include "runtime.h"

enum { PID = 1, TID_HOST = 1, TID_QUEUE = 2, TID_NODES = 3, TID_DEVICE = 3 /* + device >= 1 */ };

char *nncl_node_shapes_format(const nncl_node_info *n, int outputs, char *buf, size_t len) {
  if (!len) return buf;
  buf[0] = 0;
  int count = outputs ? n->n_out : n->n_in;
  int cap = outputs ? (int)(sizeof n->out_shapes / sizeof *n->out_shapes)
                    : (int)(sizeof n->in_shapes / sizeof *n->in_shapes);
  if (count > cap) count = cap;
  size_t used = 0;
  for (int i = 0; i < count && used + 1 < len; i++) {
    char s[160];
    nncl_shape_format(outputs ? &n->out_shapes[i] : &n->in_shapes[i], s, sizeof s);
    int w = snprintf(buf + used, len - used, "%s%s", i ? " " : "", s);
    if (w < 0) break;
    used += (size_t)w;
  }
  if (used >= len) buf[len - 1] = 0;
  return buf;
}

static cJSON *event(cJSON *events, const char *ph, const char *name, int tid, double ts_ns) {
  cJSON *e = cJSON_CreateObject();
  if (!e) return NULL;
  cJSON_AddStringToObject(e, "name", name);
  cJSON_AddStringToObject(e, "ph", ph);
  cJSON_AddNumberToObject(e, "pid", PID);
  cJSON_AddNumberToObject(e, "tid", tid);
  cJSON_AddNumberToObject(e, "ts", ts_ns * 1e-3);
  cJSON_AddItemToArray(events, e);
  return e;
}

static cJSON *slice(cJSON *events, const char *name, const char *cat, int tid, double ts_ns,
                    double dur_ns) {
  cJSON *e = event(events, "X", name, tid, ts_ns);
  if (!e) return NULL;
  cJSON_AddStringToObject(e, "cat", cat);
  cJSON_AddNumberToObject(e, "dur", dur_ns * 1e-3);
  return e;
}

static void metadata(cJSON *events, const char *what, int tid, const char *name, int sort) {
  cJSON *e = event(events, "M", what, tid, 0);
  if (!e) return;
  cJSON *args = cJSON_AddObjectToObject(e, "args");
  cJSON_AddStringToObject(args, "name", name);
  if (sort >= 0) {
    e = event(events, "M", "thread_sort_index", tid, 0);
    if (e) cJSON_AddNumberToObject(cJSON_AddObjectToObject(e, "args"), "sort_index", sort);
  }
}

/* The node's identity in args: what the table shows in its first columns. */
static void node_args(cJSON *args, const nncl_profile *p, int i) {
  const nncl_profile_node *n = &p->nodes[i];
  char buf[1024];
  cJSON_AddNumberToObject(args, "node", i);
  cJSON_AddStringToObject(args, "node_name", n->info.name ? n->info.name : "");
  cJSON_AddStringToObject(args, "op", n->info.op_type ? n->info.op_type : "");
  cJSON_AddStringToObject(args, "fused", n->info.fused ? n->info.fused : "");
  cJSON_AddStringToObject(args, "algo", n->info.algo ? n->info.algo : "");
  cJSON_AddStringToObject(args, "inputs", nncl_node_shapes_format(&n->info, 0, buf, sizeof buf));
  cJSON_AddStringToObject(args, "outputs", nncl_node_shapes_format(&n->info, 1, buf, sizeof buf));
}

static void add_kernels(cJSON *events, const nncl_profile *p) {
  for (int i = 0; i < p->n_kernels; i++) {
    const nncl_profile_kernel *k = &p->kernels[i];
    int transfer = !strcmp(k->name, "upload") || !strcmp(k->name, "download") ||
                   !strcmp(k->name, "copy") || !strcmp(k->name, "fill");
    transfer |= !strcmp(k->name, "transfer"); /* between devices (nncl.Transfer nodes) */
    int queue = k->device ? TID_DEVICE + k->device : TID_QUEUE; /* a track per device queue */
    cJSON *e =
        slice(events, k->name, transfer ? "transfer" : "kernel", queue, k->start_ns, k->device_ns);
    if (!e) continue;
    cJSON *args = cJSON_AddObjectToObject(e, "args");
    if (k->node >= 0)
      node_args(args, p, k->node);
    else
      cJSON_AddNumberToObject(args, "node", -1);
    cJSON_AddNumberToObject(args, "device_us", k->device_ns * 1e-3);
    cJSON_AddNumberToObject(args, "min_us", k->min_ns * 1e-3);
    cJSON_AddNumberToObject(args, "max_us", k->max_ns * 1e-3);
    cJSON_AddNumberToObject(args, "host_us", k->host_ns * 1e-3);
    cJSON_AddNumberToObject(args, "command", i);

    /* The host enqueue call, and an arrow from it to the command it started. */
    char name[160];
    snprintf(name, sizeof name, "enqueue %s", k->name);
    e = slice(events, name, "enqueue", TID_HOST, k->host_enqueue_ns, k->host_enqueue_dur_ns);
    if (e) cJSON_AddNumberToObject(cJSON_AddObjectToObject(e, "args"), "command", i);
    e = event(events, "s", "launch", TID_HOST, k->host_enqueue_ns);
    if (e) {
      cJSON_AddStringToObject(e, "cat", "launch");
      cJSON_AddNumberToObject(e, "id", i);
    }
    e = event(events, "f", "launch", queue, k->start_ns);
    if (e) {
      cJSON_AddStringToObject(e, "cat", "launch");
      cJSON_AddNumberToObject(e, "id", i);
      cJSON_AddStringToObject(e, "bp", "e");
    }
  }
}

static void add_nodes(cJSON *events, const nncl_profile *p) {
  for (int i = 0; i < p->n_nodes; i++) {
    const nncl_profile_node *n = &p->nodes[i];
    const char *name = n->info.name && n->info.name[0] ? n->info.name : n->info.op_type;
    cJSON *e =
        slice(events, name ? name : "?", "node", TID_NODES, n->start_ns, n->end_ns - n->start_ns);
    if (!e) continue;
    cJSON *args = cJSON_AddObjectToObject(e, "args");
    node_args(args, p, i);
    char kernels[1024] = "";
    size_t used = 0;
    for (int k = 0; k < p->n_kernels && used + 1 < sizeof kernels; k++) {
      if (p->kernels[k].node != i) continue;
      int w = snprintf(kernels + used, sizeof kernels - used, "%s%s", used ? ", " : "",
                       p->kernels[k].name);
      if (w > 0) used += (size_t)w;
    }
    cJSON_AddStringToObject(args, "kernels", kernels);
    cJSON_AddNumberToObject(args, "n_kernels", n->n_kernels);
    cJSON_AddNumberToObject(args, "device_us", n->device_ns * 1e-3);
    cJSON_AddNumberToObject(args, "share_pct", 100.0 * n->share);
    cJSON_AddNumberToObject(args, "flops", n->info.flops);
    cJSON_AddNumberToObject(args, "bytes", n->info.bytes);
    cJSON_AddNumberToObject(args, "gflops", n->gflops);
    cJSON_AddNumberToObject(args, "gbps", n->gbps);
    cJSON_AddNumberToObject(args, "intensity", n->intensity);
    cJSON_AddStringToObject(args, "bound", nncl_bound_name(n->bound));
    cJSON_AddNumberToObject(args, "roof_pct", n->roof_pct);
    cJSON_AddNumberToObject(args, "host_us", n->host_ns * 1e-3);
  }
}

static cJSON *other_data(const nncl_profile *p, const char *title) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "title", title ? title : "");
  cJSON_AddStringToObject(o, "device", p->device);
  cJSON_AddNumberToObject(o, "runs", p->runs);
  cJSON_AddNumberToObject(o, "warmup", p->warmup);
  cJSON_AddNumberToObject(o, "device_us", p->device_ns * 1e-3);
  cJSON_AddNumberToObject(o, "nodes_us", p->nodes_ns * 1e-3);
  cJSON_AddNumberToObject(o, "other_us", p->other_ns * 1e-3);
  cJSON_AddNumberToObject(o, "busy_median_us", p->busy_median_ns * 1e-3);
  cJSON_AddNumberToObject(o, "busy_min_us", p->busy_min_ns * 1e-3);
  cJSON_AddNumberToObject(o, "span_us", p->span_ns * 1e-3);
  cJSON_AddNumberToObject(o, "wall_us", p->wall_ns * 1e-3);
  cJSON_AddNumberToObject(o, "wall_plain_us", p->wall_plain_ns * 1e-3);
  cJSON_AddNumberToObject(o, "arena_bytes", (double)p->arena_bytes);
  cJSON_AddNumberToObject(o, "weight_bytes", (double)p->weight_bytes);
  if (p->have_peak) {
    cJSON_AddNumberToObject(o, "peak_fma_gflops", p->peak.fma_gflops);
    cJSON_AddNumberToObject(o, "peak_mem_gbps", p->peak.mem_gbps);
  }
  return o;
}

nncl_status nncl_profile_write_trace(nncl_context *ctx, const nncl_profile *p, const char *path,
                                     const char *title) {
  if (!p || !path)
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "nncl_profile_write_trace: %s is NULL",
                       p ? "path" : "profile");
  cJSON *root = cJSON_CreateObject();
  cJSON *events = root ? cJSON_AddArrayToObject(root, "traceEvents") : NULL;
  if (!events) {
    cJSON_Delete(root);
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "trace '%s': out of memory", path);
  }
  char pname[400];
  snprintf(pname, sizeof pname, "nncl on %s", p->device);
  metadata(events, "process_name", TID_HOST, pname, -1);
  metadata(events, "thread_name", TID_HOST, "host: nncl_graph_run and enqueue calls", 0);
  metadata(events, "thread_name", TID_QUEUE, "device queue 0", 1);
  metadata(events, "thread_name", TID_NODES, "graph nodes", 2);
  int last_device = 0;
  for (int i = 0; i < p->n_kernels; i++)
    if (p->kernels[i].device > last_device) last_device = p->kernels[i].device;
  for (int d = 1; d <= last_device; d++) {
    char qname[64];
    snprintf(qname, sizeof qname, "device queue %d", d);
    metadata(events, "thread_name", TID_DEVICE + d, qname, 2 + d);
  }
  cJSON *run = slice(events, "nncl_graph_run", "run", TID_HOST, p->run_start_ns, p->run_wall_ns);
  if (run)
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(run, "args"), "wall_us_median",
                            p->wall_ns * 1e-3);
  add_kernels(events, p);
  add_nodes(events, p);
  cJSON_AddStringToObject(root, "displayTimeUnit", "ns");
  cJSON_AddItemToObject(root, "otherData", other_data(p, title));
  char *text = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (!text)
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "trace '%s': out of memory", path);
  FILE *f = fopen(path, "w");
  int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
  int saved = errno;
  if (f && fclose(f) != 0) ok = 0;
  free(text);
  if (!ok)
    return nncl__error(ctx, NNCL_ERR_IO, "cannot write the trace '%s': %s", path,
                       strerror(saved ? saved : EIO));
  return NNCL_OK;
}
