/* place_cost.c: the measured figures automatic placement weighs: a node's device time on each
   device (remembered by nncl_graph_profile in node_times.txt, one line per device, op type and
   output shape) and the bandwidth between devices (the `nncl bench peak` cache). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/bench.h"
#include "place_cost.h"

#define TIMES_FILE "node_times.txt"

/* "<device key>|<op type>|<output dims>": a node kind as both the planner and the profiler see
   it (the op type is the planned one, fusions included, so a Conv+Relu is timed as a Conv). */
static void node_key(nncl_context *dc, const char *op_type, const nncl_shape *out, char *buf,
                     size_t len) {
  char dev[600];
  nncl__tune_device_key(dc, dev, sizeof dev);
  int used = snprintf(buf, len, "%s|%s|", dev, op_type);
  for (int i = 0; i < out->rank && used > 0 && (size_t)used < len; i++)
    used +=
        snprintf(buf + used, len - (size_t)used, "%s%lld", i ? "x" : "", (long long)out->dims[i]);
}

double place_node_ns(nncl_context *ctx, const struct plan *p, const struct pnode *n, int d) {
  const struct nncl__place_hooks *h = ctx->place_hooks;
  if (h && h->node_ns) return h->node_ns(n, d, h->user);
  nncl_context *dc = nncl__ctx_dev(ctx, d);
  if (!dc || n->n_out < 1 || n->out[0] < 0) return -1;
  char key[1000], value[64];
  node_key(dc, n->op_type, &p->v[n->out[0]].shape, key, sizeof key);
  if (!nncl__tune_lookup(dc, TIMES_FILE, key, value, sizeof value)) return -1;
  double ns = strtod(value, NULL);
  return ns > 0 ? ns : -1;
}

double place_stage_work(nncl_context *ctx, const struct plan *p, const struct pnode *n,
                        int measured) {
  if ((n->def->flags & OP_VIEW) || !n->def->enqueue) return 0;
  if (measured) return place_node_ns(ctx, p, n, 0);
  struct op_cost c = {0, 0};
  if (n->def->cost) n->def->cost(&n->call, &c);
  return c.flops + 4.0 * c.bytes;
}

/* The device's host bandwidths from the peak cache, measured (and cached) when absent. */
static int device_peak(nncl_context *dc, nncl_peak *pk) {
  if (nncl_bench_peak_load(dc, pk) == NNCL_OK) return 1;
  return nncl_bench_peak(dc, 0, pk) == NNCL_OK;
}

double place_byte_ns(nncl_context *ctx, int from, int to) {
  const struct nncl__place_hooks *h = ctx->place_hooks;
  if (h && h->byte_ns) return h->byte_ns(from, to, h->user);
  nncl_context *a = nncl__ctx_dev(ctx, from), *b = nncl__ctx_dev(ctx, to);
  nncl_peak pa, pb;
  if (!a || !b || !device_peak(a, &pa) || !device_peak(b, &pb)) return -1;
  if (pa.d2h_gbps <= 0 || pb.h2d_gbps <= 0) return -1;
  return 1.0 / pa.d2h_gbps + 1.0 / pb.h2d_gbps; /* GB/s is bytes per ns */
}

void place_remember(nncl_context *ctx, const nncl_node_info *info, double device_ns) {
  nncl_context *dc = nncl__ctx_dev(ctx, info->device);
  if (!dc || info->n_out < 1 || device_ns <= 0 || strcmp(info->op_type, "nncl.Transfer") == 0)
    return;
  char key[1000], value[64];
  node_key(dc, info->op_type, &info->out_shapes[0], key, sizeof key);
  snprintf(value, sizeof value, "%.0f", device_ns);
  nncl__tune_store(dc, TIMES_FILE, key, value);
}
