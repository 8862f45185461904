/* pass_place.c: gives every scheduled node a device of the context and inserts a transfer node
   (nncl.Transfer) wherever a value is read on another device than the one that holds it. Graph
   inputs live on device 0 (a pinned graph's on its device); a constant is uploaded to each device whose nodes read it (one plan
   value per device); outputs stay where they are made (read back through their own device).
   A graph pinned to a device (nncl_graph_set_device: a data-parallel replica) has its inputs and
   every node there. Otherwise a node goes where the context's placement names it (node name first, then op type), a view
   where its input is, in a staged graph (nncl_graph_set_stages) to its stage's device, anything
   else (option placement.auto) where its measured time plus moving its inputs there is least
   (place_cost.c), or on device 0; a device that lacks what the node needs (fp16, op_def.needs)
   or failed to build its kernel before (pass_place_build_failed) is skipped for the next one
   that has it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "place_cost.h"

/* Device index the placement spec ("name:1,Conv:0,*:1") gives node n, or -1: a node name wins
   over an op type, which wins over "*". */
static int spec_device(const char *spec, const struct pnode *n) {
  int by_type = -1, any = -1;
  for (const char *p = spec; p && *p;) {
    const char *comma = strchr(p, ',');
    const char *colon = strchr(p, ':');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (colon && colon < p + len) {
      size_t klen = (size_t)(colon - p);
      int dev = atoi(colon + 1);
      if (strlen(n->name) == klen && strncmp(n->name, p, klen) == 0) return dev;
      if (strlen(n->op_type) == klen && strncmp(n->op_type, p, klen) == 0) by_type = dev;
      if (klen == 1 && *p == '*') any = dev;
    }
    p = comma ? comma + 1 : NULL;
  }
  return by_type >= 0 ? by_type : any;
}

/* What device d lacks of what node n needs (op_def.needs) into why (empty when nothing);
   returns 0 when it lacks something. */
static int device_has_needs(nncl_context *ctx, int d, const struct pnode *n, char *why,
                            size_t len) {
  struct op_needs need = {0, 0};
  if (why) why[0] = 0;
  if (n->def->needs) n->def->needs(&n->call, &need);
  const nncl_device_info *info = &nncl__ctx_dev(ctx, d)->info;
  if (need.local_bytes > info->local_mem_bytes) {
    if (why)
      snprintf(why, len, "%llu bytes of local memory (it has %llu)",
               (unsigned long long)need.local_bytes, (unsigned long long)info->local_mem_bytes);
    return 0;
  }
  if (need.fp64 && !info->has_fp64) {
    if (why) snprintf(why, len, "cl_khr_fp64 (double precision)");
    return 0;
  }
  return 1;
}

/* A device can run a node unless one of its tensors is float16 and the device has no fp16, it
   lacks what the op needs (op_def.needs: local memory, fp64), the node's kernel failed to build
   there in an earlier plan (g->refused_builds), or a test hook makes it refuse the node. */
static int device_can_run(const nncl_graph *g, int d, const struct plan *p, const struct pnode *n) {
  nncl_context *ctx = g->ctx;
  const struct nncl__place_hooks *h = ctx->place_hooks;
  if (h && h->refuse && h->refuse(n, d, h->user)) return 0;
  if (!device_has_needs(ctx, d, n, NULL, 0)) return 0;
  for (int i = 0; i < g->n_refused_builds; i++)
    if (g->refused_builds[i].device == d && strcmp(g->refused_builds[i].node, n->name) == 0)
      return 0;
  if (ctx->dev[d]->info.has_fp16) return 1;
  for (int k = 0; k < n->n_in; k++)
    if (n->in[k] >= 0 && p->v[n->in[k]].dtype == NNCL_FLOAT16) return 0;
  for (int k = 0; k < n->n_out; k++)
    if (n->out[k] >= 0 && p->v[n->out[k]].dtype == NNCL_FLOAT16) return 0;
  return 1;
}

/* Input j of n (j == n_in: its fused residual), or -1. */
static int input_at(const struct pnode *n, int j) { return j < n->n_in ? n->in[j] : n->res; }

/* Whether value v must be moved to reach device d: not a constant (uploaded where it is read),
   held elsewhere and not already moved there by an earlier transfer. */
static int needs_move(const struct plan *p, int v, int d, const int *moved) {
  if (p->v[v].host && p->v[v].producer < 0) return 0;
  if (p->v[v].device < 0 || p->v[v].device == d) return 0;
  for (int i = 0; i < p->n_v; i++)
    if (moved[i] == v && p->v[i].device == d) return 0;
  return 1;
}

/* Automatic placement (greedy, in schedule order): the device that can run n with the least
   measured time plus the time to move there the inputs it does not hold; ties stay on `home`
   (its first input's device). -1 when n was not measured on every device that can run it (no
   figures: the unmeasured rule, device 0, applies) or no device can run it. */
static int cheapest_device(const nncl_graph *g, const struct plan *p, const struct pnode *n,
                           int home, const int *moved) {
  nncl_context *ctx = g->ctx;
  int best = -1;
  double best_cost = 0;
  int measured = 1;
  for (int d = 0; d < ctx->n_dev && measured; d++)
    if (device_can_run(g, d, p, n) && place_node_ns(ctx, p, n, d) < 0) measured = 0;
  for (int i = 0; i < ctx->n_dev; i++) {
    int d = (home + i) % ctx->n_dev; /* home first: ties keep it */
    if (!device_can_run(g, d, p, n)) continue;
    if (!measured) return -1;
    double cost = place_node_ns(ctx, p, n, d);
    for (int j = 0; j <= n->n_in && cost >= 0; j++) {
      int v = input_at(n, j);
      if (v < 0 || !needs_move(p, v, d, moved)) continue;
      double per_byte = place_byte_ns(ctx, p->v[v].device, d);
      int64_t count = nncl_shape_numel(&p->v[v].shape);
      cost = per_byte < 0
                 ? -1
                 : cost + per_byte * (double)count * (double)nncl_dtype_size(p->v[v].dtype);
    }
    if (cost >= 0 && (best < 0 || cost < best_cost)) {
      best = d;
      best_cost = cost;
    }
  }
  return best;
}

/* *forced: the placement spec or a pinned graph chose the device (a build failure there is an
   error, not a reason to move the node). */
static int choose_device(nncl_graph *g, struct plan *p, const struct pnode *n, const int *moved,
                         int stage, int *forced) {
  nncl_context *ctx = g->ctx;
  int want = spec_device(ctx->placement, n);
  int home = 0;
  for (int j = 0; j <= n->n_in; j++) {
    int v = input_at(n, j);
    if (v >= 0 && p->v[v].device >= 0 && !(p->v[v].host && p->v[v].producer < 0)) {
      home = p->v[v].device;
      break;
    }
  }
  if (g->pinned_device > 0) want = g->pinned_device - 1; /* a data-parallel replica */
  *forced = want >= 0;
  if (want < 0 && (n->def->flags & OP_VIEW) && n->n_in > 0 && n->in[0] >= 0 &&
      p->v[n->in[0]].device >= 0)
    want = p->v[n->in[0]].device;
  if (want < 0) want = stage;
  if (want < 0 && nncl__option_on(&p->opts, NNCL__OPT_PLACEMENT_AUTO)) {
    int d = cheapest_device(g, p, n, home, moved);
    if (d >= 0) return d;
  }
  if (want < 0 || want >= ctx->n_dev) want = 0;
  for (int i = 0; i < ctx->n_dev; i++) {
    int d = (want + i) % ctx->n_dev;
    if (device_can_run(g, d, p, n)) {
      *forced = *forced && d == want; /* moved off a refusing device: placed automatically */
      return d;
    }
  }
  return want; /* no device has it: planning the op there reports what is missing */
}

/* A transfer node copying value v (held on device `from`) to a new value on device `to`;
   returns the new value, -1 when out of memory. */
static int add_transfer(nncl_graph *g, struct plan *p, int v, int from, int to) {
  int nv = plan_add_value(p, p->v[v].dtype, &p->v[v].shape);
  if (nv < 0) return -1;
  p->v[nv].device = to;
  char name[300];
  snprintf(name, sizeof name, "%s@%d", v < g->n_values ? g->values[v].name : "intermediate", to);
  struct nncl__attr a = {.name = (char *)"from", .type = ATTR_INT, .i = from};
  return plan_append_node(p, "nncl.Transfer", name, a, v, nv, to) != 0 ? -1 : nv;
}

/* The value that stands for v on device d: v itself, a per-device copy of a constant, or the
   output of a transfer node (made once per value and device, appended to *order). */
static int value_on(nncl_graph *g, struct plan *p, int v, int d, int *moved, int *order,
                    int *n_order) {
  if (p->v[v].device < 0) p->v[v].device = p->v[v].producer < 0 && !p->v[v].host ? 0 : d;
  if (p->v[v].device == d) return v;
  for (int i = 0; i < p->n_v; i++)
    if (moved[i] == v && p->v[i].device == d) return i;
  int nv;
  if (p->v[v].host && p->v[v].producer < 0) { /* constant: its own upload on this device */
    nv = plan_add_value(p, p->v[v].dtype, &p->v[v].shape);
    if (nv >= 0) {
      p->v[nv].host = p->v[v].host;
      p->v[nv].device = d;
    }
  } else {
    nv = add_transfer(g, p, v, p->v[v].device, d);
    if (nv >= 0) order[(*n_order)++] = p->n_n - 1;
  }
  if (nv >= 0) moved[nv] = v;
  return nv;
}

/* Pipeline stages (nncl_graph_set_stages): stage[k] for schedule position k, the schedule cut
   into n_stages contiguous runs of about equal estimated work (place_stage_work: measured times
   when every node has one, else FLOPs and bytes, never a mix); each node counts in the stage its
   work's midpoint falls in. Stages only grow along the schedule, so values only move to later
   stages. */
static void split_stages(nncl_graph *g, const struct plan *p, int n_stages, int *stage) {
  int measured = 1;
  for (int k = 0; k < p->n_order && measured; k++)
    measured = place_stage_work(g->ctx, p, &p->n[p->order[k]], 1) >= 0;
  double total = 0, before = 0;
  for (int k = 0; k < p->n_order; k++)
    total += place_stage_work(g->ctx, p, &p->n[p->order[k]], measured);
  for (int k = 0; k < p->n_order; k++) {
    double w = place_stage_work(g->ctx, p, &p->n[p->order[k]], measured);
    int s = total > 0 ? (int)((before + 0.5 * w) * n_stages / total) : 0;
    stage[k] = s < n_stages ? s : n_stages - 1;
    before += w;
  }
}

nncl_status pass_place(nncl_graph *g, struct plan *p) {
  for (int v = 0; v < p->n_v; v++) p->v[v].device = -1;
  int input_device =
      g->pinned_device > 0 && g->pinned_device <= g->ctx->n_dev ? g->pinned_device - 1 : 0;
  for (int k = 0; k < g->n_inputs; k++) p->v[g->inputs[k]].device = input_device;
  /* at most one transfer or constant copy per (value, device) */
  size_t most = (size_t)p->n_v * (size_t)g->ctx->n_dev + (size_t)p->n_v + 1;
  int *moved = malloc(most * sizeof *moved);
  int *order = malloc(((size_t)p->n_order * 2 + most) * sizeof *order);
  int n_stages = g->pinned_device ? 0 : g->stages < g->ctx->n_dev ? g->stages : g->ctx->n_dev;
  int *stage = n_stages > 1 ? malloc((size_t)p->n_order * sizeof *stage + 1) : NULL;
  if (!moved || !order || (n_stages > 1 && !stage) ||
      plan_reserve_nodes(p, p->n_v * (g->ctx->n_dev - 1) + 1) != 0) {
    free(moved);
    free(order);
    free(stage);
    return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "placement");
  }
  if (stage) split_stages(g, p, n_stages, stage);
  for (size_t i = 0; i < most; i++) moved[i] = -1;
  /* plan values only grow here, so their array may move: re-read pointers after each add */
  if ((size_t)p->cap_v < most) {
    struct pvalue *nvv = realloc(p->v, most * sizeof *nvv);
    if (!nvv) {
      free(moved);
      free(order);
      free(stage);
      return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "placement");
    }
    p->v = nvv;
    p->cap_v = (int)most;
  }
  int n_order = 0;
  nncl_status st = NNCL_OK;
  for (int k = 0; k < p->n_order && st == NNCL_OK; k++) {
    int i = p->order[k];
    int forced = 0;
    int d = g->ctx->n_dev > 1 ? choose_device(g, p, &p->n[i], moved, stage ? stage[k] : -1, &forced)
                              : 0;
    p->n[i].device = d;
    p->n[i].forced = forced;
    char why[160];
    if (!device_has_needs(g->ctx, d, &p->n[i], why, sizeof why))
      st = nncl__error(g->ctx, NNCL_ERR_UNSUPPORTED,
                       "node '%s' (%s) needs %s, which no device of the context has (device %d: "
                       "%s)",
                       p->n[i].name, p->n[i].op_type, why, d, nncl__ctx_dev(g->ctx, d)->info.name);
    int n_in = p->n[i].n_in;
    for (int j = 0; j <= n_in && st == NNCL_OK; j++) {
      int v = j < n_in ? p->n[i].in[j] : p->n[i].res;
      if (v < 0) continue;
      int nv = value_on(g, p, v, d, moved, order, &n_order);
      if (nv < 0) st = nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "placement");
      if (j < n_in)
        p->n[i].in[j] = nv;
      else
        p->n[i].res = nv;
    }
    for (int j = 0; j < p->n[i].n_out; j++)
      if (p->n[i].out[j] >= 0) p->v[p->n[i].out[j]].device = d;
    order[n_order++] = i;
  }
  free(moved);
  free(stage);
  if (st != NNCL_OK) {
    free(order);
    return st;
  }
  free(p->order);
  p->order = order;
  p->n_order = n_order;
  return NNCL_OK;
}

/* The first non-empty line of the build log in the context's last error (the log follows the
   first line of a build failure's message), or the whole message when it has no log. */
static void build_log_line(nncl_context *ctx, char *out, size_t len) {
  const char *msg = nncl_context_last_error(ctx);
  const char *line = strchr(msg, '\n');
  while (line && (*line == '\n' || *line == ' ')) line++;
  if (!line || !*line) line = msg;
  size_t n = strcspn(line, "\n");
  snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), line);
}

nncl_status pass_place_build_failed(nncl_graph *g, const struct plan *p, int failed) {
  nncl_context *ctx = g->ctx;
  const struct pnode *n = &p->n[failed];
  nncl_context *dc = nncl__ctx_dev(ctx, n->device);
  if (ctx->n_dev < 2 || !dc) return NNCL_ERR_BUILD_FAILED; /* one device: the build's own error */
  char first[300];
  build_log_line(ctx, first, sizeof first);
  if (n->forced)
    return nncl__error(ctx, NNCL_ERR_BUILD_FAILED,
                       "node '%s' (%s) is placed on device %d (%s) by %s, and its kernel does not "
                       "build there: %s",
                       n->name, n->op_type, n->device, dc->info.name,
                       g->pinned_device ? "nncl_graph_set_device" : "the placement", first);
  for (int i = 0; i < g->n_refused_builds; i++)
    if (g->refused_builds[i].device == n->device && strcmp(g->refused_builds[i].node, n->name) == 0)
      return nncl__error(ctx, NNCL_ERR_BUILD_FAILED,
                         "node '%s' (%s): its kernel builds on no device of the context; on "
                         "device %d (%s): %s",
                         n->name, n->op_type, n->device, dc->info.name, first);
  struct refused_build *r =
      realloc(g->refused_builds, (size_t)(g->n_refused_builds + 1) * sizeof *r);
  char *name = strdup(n->name);
  if (r) g->refused_builds = r;
  if (!r || !name) {
    free(name);
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "placement: node '%s'", n->name);
  }
  r[g->n_refused_builds++] = (struct refused_build){name, n->device};
  nncl__log(ctx, NNCL_LOG_INFO,
            "node '%s' (%s): its kernel does not build on device %d (%s), placing it elsewhere: %s",
            n->name, n->op_type, n->device, dc->info.name, first);
  return NNCL_OK;
}
