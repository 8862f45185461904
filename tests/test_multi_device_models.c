/* test_multi_device_models.c: real models (a CNN with residual branches, a GRU, attention) planned
   across two devices with forced placements give the single-device outputs, with transfer nodes
   exactly where the device changes. Runs under POCL_DEVICES="pthread pthread" only: PoCL 3.1
   hangs when a buffer written on a `basic` device is read on another device of its context
   (docs/DESIGN.md, "Several devices"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"
#include "place_cost.h"
#include "nncl/nncl.h"
#include "test_util.h"

static nncl_context *open_devices(const char *spec) {
  nncl_context *ctx = NULL;
  char msg[4096] = "";
  nncl_status st = nncl_context_create_devices(spec, &ctx, msg, sizeof msg);
  cr_assert_eq(st, NNCL_OK, "devices \"%s\": %s: %s", spec, nncl_status_string(st), msg);
  return ctx;
}

/* tests/models/<rel> (NNCL_TEST_DATA points at tests/data). */
static const char *model_path(const char *rel) {
  static char path[1024];
  const char *data = getenv("NNCL_TEST_DATA");
  cr_assert_not_null(data, "NNCL_TEST_DATA is not set");
  snprintf(path, sizeof path, "%s/../models/%s", data, rel);
  return path;
}

/* Loads <model>/model.onnx on ctx, runs it on test_data_set_0 and returns its outputs (up to 4). */
static nncl_graph *run_model(nncl_context *ctx, const char *model, nncl_array *out, int *n_out) {
  char rel[256];
  snprintf(rel, sizeof rel, "%s/model.onnx", model);
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_onnx_load(ctx, model_path(rel), &g), NNCL_OK, "%s: %s", model,
               nncl_context_last_error(ctx));
  for (int k = 0; k < nncl_graph_num_inputs(g); k++) {
    snprintf(rel, sizeof rel, "%s/test_data_set_0/input_%d.pb", model, k);
    nncl_array x;
    cr_assert_eq(nncl_onnx_load_tensor(ctx, model_path(rel), &x, NULL), NNCL_OK, "%s", rel);
    cr_assert_eq(nncl_graph_set_input(g, nncl_graph_input_name(g, k), &x), NNCL_OK, "%s: %s", model,
                 nncl_context_last_error(ctx));
    nncl_array_free(&x);
  }
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s: %s", model, nncl_context_last_error(ctx));
  *n_out = nncl_graph_num_outputs(g) < 4 ? nncl_graph_num_outputs(g) : 4;
  for (int i = 0; i < *n_out; i++)
    cr_assert_eq(nncl_graph_get_output(g, i, &out[i]), NNCL_OK, "%s output %d: %s", model, i,
                 nncl_context_last_error(ctx));
  return g;
}

/* Every value a node reads lives on the node's device, and transfer nodes exist exactly where
   a value is read on another device than its producer's: each moves one value once to one
   device that reads it, from the device that holds it. Returns the number of transfers. */
static int check_transfers(const nncl_graph *g, const char *model) {
  const struct plan *p = g->plan;
  int transfers = 0;
  for (int k = 0; k < p->n_order; k++) {
    const struct pnode *n = &p->n[p->order[k]];
    if (n->op == OP_TRANSFER) {
      transfers++;
      int from = p->v[n->in[0]].device, to = p->v[n->out[0]].device;
      cr_assert_neq(from, to, "%s: transfer '%s' stays on device %d", model, n->name, from);
      cr_assert_eq(to, n->device, "%s: transfer '%s'", model, n->name);
      int readers = 0;
      for (int j = 0; j < p->n_order; j++) {
        const struct pnode *m = &p->n[p->order[j]];
        for (int i = 0; i < m->n_in; i++) readers += m->in[i] == n->out[0] && m->device == to;
        readers += m->res == n->out[0] && m->device == to; /* a fused residual */
        if (m != n && m->op == OP_TRANSFER && m->in[0] == n->in[0])
          cr_assert_neq(m->device, to, "%s: value moved twice to device %d", model, to);
      }
      cr_assert_gt(readers, 0, "%s: transfer '%s' feeds nothing", model, n->name);
      continue;
    }
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] >= 0)
        cr_assert_eq(p->v[n->in[i]].device, n->device,
                     "%s: node '%s' on device %d reads input %d from device %d without a "
                     "transfer",
                     model, n->name, n->device, i, p->v[n->in[i]].device);
    if (n->res >= 0)
      cr_assert_eq(p->v[n->res].device, n->device, "%s: node '%s' reads its residual elsewhere",
                   model, n->name);
  }
  return transfers;
}

/* The model on two devices, with every other planned node forced onto device 1, gives exactly
   the single-device outputs (the two devices run the same PoCL kernels on the same CPU, and a
   node's arithmetic does not depend on which queue it runs on), and those outputs match the
   committed PyTorch fixture within the tolerance test_onnx_load uses (float32 summation order). */
static void check_model_split(const char *model, const char *transfer_path) {
  nncl_context *one = open_devices("0:0");
  nncl_array want[4], got[4];
  int n_want = 0, n_got = 0;
  nncl_graph *g1 = run_model(one, model, want, &n_want);
  nncl_context *two = open_devices("all");
  cr_assert_eq(nncl_context_set_option(two, "transfer.path", transfer_path), NNCL_OK);
  nncl_graph *probe = run_model(two, model, got, &n_got);
  cr_assert_eq(check_transfers(probe, model), 0, "%s: no placement, no transfers", model);
  for (int i = 0; i < n_got; i++) nncl_array_free(&got[i]);
  char spec[1024] = "";
  size_t used = 0;
  for (int k = 1; k < nncl_graph_num_planned_nodes(probe) && used < sizeof spec - 200; k += 2) {
    nncl_node_info info;
    cr_assert_eq(nncl_graph_planned_node(probe, k, &info), NNCL_OK);
    used += (size_t)snprintf(spec + used, sizeof spec - used, "%s%s:1", used ? "," : "", info.name);
  }
  nncl_graph_destroy(probe);
  cr_assert_eq(nncl_context_set_placement(two, spec), NNCL_OK, "%s", nncl_context_last_error(two));
  nncl_graph *g2 = run_model(two, model, got, &n_got);
  cr_assert_eq(n_got, n_want);
  int on1 = 0;
  for (int k = 0; k < nncl_graph_num_planned_nodes(g2); k++) {
    nncl_node_info info;
    cr_assert_eq(nncl_graph_planned_node(g2, k, &info), NNCL_OK);
    on1 += info.device == 1;
  }
  cr_assert_gt(on1, 0, "%s: placement %s put nothing on device 1", model, spec);
  cr_assert_gt(check_transfers(g2, model), 0, "%s: a split placement needs transfers", model);
  for (int i = 0; i < n_want; i++) {
    size_t n = (size_t)nncl_shape_numel(&want[i].shape);
    cr_assert_eq(memcmp(&got[i].shape, &want[i].shape, sizeof want[i].shape), 0);
    size_t worst = 0;
    double r = tu_close_ratio(got[i].data, want[i].data, n, 0, 0, &worst);
    cr_assert(r == 0, "%s output %d: element %zu is %.9g on two devices, %.9g on one", model, i,
              worst, (double)((float *)got[i].data)[worst], (double)((float *)want[i].data)[worst]);
    char rel[256];
    snprintf(rel, sizeof rel, "%s/test_data_set_0/output_%d.pb", model, i);
    nncl_array ref;
    cr_assert_eq(nncl_onnx_load_tensor(one, model_path(rel), &ref, NULL), NNCL_OK, "%s", rel);
    tu_assert_close((float *)got[i].data, (float *)ref.data, n, 1e-4, 1e-5, model);
    nncl_array_free(&ref);
    nncl_array_free(&got[i]);
    nncl_array_free(&want[i]);
  }
  nncl_graph_destroy(g2);
  nncl_graph_destroy(g1);
  nncl_context_destroy(two);
  nncl_context_destroy(one);
}

/* Everything on device 1: the one transfer is the graph input's (inputs live on device 0), and
   an op-type entry wins over "*". */
Test(multi_device, whole_model_on_device_1_moves_only_the_input) {
  nncl_context *two = open_devices("all");
  cr_assert_eq(nncl_context_set_placement(two, "*:1,Gemm:0"), NNCL_OK);
  nncl_array out[4];
  int n_out = 0;
  nncl_graph *g = run_model(two, "resnet_mini", out, &n_out);
  const struct plan *p = g->plan;
  int transfers = check_transfers(g, "resnet_mini"), gemm = 0;
  for (int k = 0; k < p->n_order; k++) {
    const struct pnode *n = &p->n[p->order[k]];
    if (n->op == OP_TRANSFER) continue;
    int want = n->op == OP_GEMM ? 0 : 1;
    gemm += n->op == OP_GEMM;
    cr_assert_eq(n->device, want, "node '%s' (%s) on device %d", n->name, n->op_type, n->device);
  }
  cr_assert_eq(gemm, 1);
  /* the input to device 1, the pooled features back to device 0 for the Gemm */
  cr_assert_eq(transfers, 2, "%d transfers", transfers);
  for (int i = 0; i < n_out; i++) nncl_array_free(&out[i]);
  nncl_graph_destroy(g);
  nncl_context_destroy(two);
}

Test(multi_device, cnn_with_branches_split_matches_one_device) {
  check_model_split("resnet_mini", "auto");
}
Test(multi_device, rnn_split_matches_one_device) { check_model_split("gru2", "auto"); }
Test(multi_device, attention_split_matches_one_device) { check_model_split("mha", "auto"); }
/* The path devices of different platforms take (host staging, a user event set by a callback),
   forced between two devices of one platform. */
Test(multi_device, split_through_host_matches_one_device) {
  check_model_split("resnet_mini", "host");
  check_model_split("gru2", "host");
}

/* Runs after the first neither allocate device memory nor build programs on any device, and the
   profiler records every device's queue: each command names the device that ran it (a node's
   kernels run where the node is placed; a transfer runs on its source queue). */
Test(multi_device, profile_covers_every_device_queue) {
  nncl_context *two = open_devices("all");
  cr_assert_eq(nncl_context_set_placement(two, "Conv:1"), NNCL_OK);
  nncl_array out[4];
  int n_out = 0;
  nncl_graph *g = run_model(two, "resnet_mini", out, &n_out);
  for (int i = 0; i < n_out; i++) nncl_array_free(&out[i]);
  nncl_stats before, after;
  nncl_context_stats(two, &before);
  for (int r = 0; r < 3; r++)
    cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(two));
  nncl_context_stats(two, &after);
  cr_assert_eq(after.device_allocs, before.device_allocs, "runs allocated device memory");
  cr_assert_eq(after.program_builds + after.program_disk_hits,
               before.program_builds + before.program_disk_hits, "runs built programs");
  nncl_profile prof;
  cr_assert_eq(nncl_graph_profile(g, 3, 1, &prof), NNCL_OK, "%s", nncl_context_last_error(two));
  int per_device[2] = {0, 0}, transfers = 0;
  for (int i = 0; i < prof.n_kernels; i++) {
    const nncl_profile_kernel *k = &prof.kernels[i];
    cr_assert(k->device == 0 || k->device == 1, "command %d on device %d", i, k->device);
    per_device[k->device]++;
    if (strcmp(k->name, "transfer") == 0) {
      transfers++;
      continue;
    }
    if (k->node < 0) continue;
    const nncl_node_info *ni = &prof.nodes[k->node].info;
    cr_assert_eq(k->device, ni->device, "kernel %s of node '%s' ran on device %d, placed on %d",
                 k->name, ni->name, k->device, ni->device);
  }
  cr_assert_gt(per_device[0], 0);
  cr_assert_gt(per_device[1], 0);
  cr_assert_eq(transfers, check_transfers(g, "resnet_mini"), "one transfer command per node");
  nncl_profile_free(&prof);
  nncl_graph_destroy(g);
  nncl_context_destroy(two);
}

/* ---- automatic placement (place_cost.c) with injected costs: both devices here are equal ---- */

/* Injected figures: `cheap_op` ("*": every op) costs cheap_ns on device 1 and 1e4 ns elsewhere,
   other ops 1e4 ns everywhere; moving a byte costs byte_ns; device 1 refuses `refuse_op`. */
struct injected {
  const char *cheap_op, *refuse_op;
  double cheap_ns, byte_ns;
};
static int op_matches(const char *pattern, const struct pnode *n) {
  return pattern && (strcmp(pattern, "*") == 0 || strcmp(pattern, n->op_type) == 0);
}
static double injected_node_ns(const struct pnode *n, int d, void *user) {
  const struct injected *c = user;
  return d == 1 && op_matches(c->cheap_op, n) ? c->cheap_ns : 1e4;
}
static double injected_byte_ns(int from, int to, void *user) {
  (void)from, (void)to;
  return ((const struct injected *)user)->byte_ns;
}
static int injected_refuse(const struct pnode *n, int d, void *user) {
  return d == 1 && op_matches(((const struct injected *)user)->refuse_op, n);
}

/* Runs `model` on two devices with the injected figures (and placement spec, option value) and
   checks its outputs are exactly the single-device ones (same kernels on the same CPU). Returns
   the two-device graph; *two receives its context. */
static nncl_graph *run_injected(const char *model, struct injected *c, const char *spec,
                                const char *place_auto, nncl_context **two) {
  static const struct nncl__place_hooks hooks_template = {injected_node_ns, injected_byte_ns,
                                                          injected_refuse, NULL};
  static struct nncl__place_hooks hooks;
  hooks = hooks_template;
  hooks.user = c;
  nncl_context *one = open_devices("0:0");
  nncl_array want[4], got[4];
  int n_want = 0, n_got = 0;
  nncl_graph *g1 = run_model(one, model, want, &n_want);
  *two = open_devices("all");
  (*two)->place_hooks = &hooks;
  if (spec) cr_assert_eq(nncl_context_set_placement(*two, spec), NNCL_OK);
  if (place_auto)
    cr_assert_eq(nncl_context_set_option(*two, "placement.auto", place_auto), NNCL_OK);
  nncl_graph *g2 = run_model(*two, model, got, &n_got);
  cr_assert_eq(n_got, n_want);
  for (int i = 0; i < n_want; i++) {
    size_t worst = 0;
    double r = tu_close_ratio(got[i].data, want[i].data, (size_t)nncl_shape_numel(&want[i].shape),
                              0, 0, &worst);
    cr_assert(r == 0, "%s output %d: element %zu differs on two devices", model, i, worst);
    nncl_array_free(&got[i]);
    nncl_array_free(&want[i]);
  }
  nncl_graph_destroy(g1);
  nncl_context_destroy(one);
  return g2;
}

/* The device that produced node n's first non-constant input, looking through transfers. */
static int home_device(const struct plan *p, const struct pnode *n) {
  for (int j = 0; j < n->n_in; j++) {
    int v = n->in[j];
    if (v < 0 || (p->v[v].host && p->v[v].producer < 0)) continue;
    int prod = p->v[v].producer;
    if (prod >= 0 && p->n[prod].op == OP_TRANSFER) v = p->n[prod].in[0];
    return p->v[v].device;
  }
  return 0;
}

/* Conv is cheaper on device 1: every Conv goes there, every other node stays where its input
   is (equal cost: moving it would only add a transfer), so transfers appear only where the
   placement changes. */
Test(multi_device, automatic_placement_follows_measured_costs) {
  struct injected c = {.cheap_op = "Conv", .cheap_ns = 1e3, .byte_ns = 1e-3};
  nncl_context *two = NULL;
  nncl_graph *g = run_injected("resnet_mini", &c, NULL, NULL, &two);
  const struct plan *p = g->plan;
  int convs = 0;
  for (int k = 0; k < p->n_order; k++) {
    const struct pnode *n = &p->n[p->order[k]];
    if (n->op == OP_TRANSFER) continue;
    convs += n->op == OP_CONV;
    int want = n->op == OP_CONV ? 1 : home_device(p, n);
    cr_assert_eq(n->device, want, "node '%s' (%s) on device %d", n->name, n->op_type, n->device);
  }
  cr_assert_gt(convs, 0);
  /* the input to device 1, the pooled features' Gemm stays there too: one transfer */
  cr_assert_eq(check_transfers(g, "resnet_mini"), 1);
  nncl_graph_destroy(g);
  nncl_context_destroy(two);
}

/* Every op 10% cheaper on device 1: worth it when moving the input is free (everything but the
   input's transfer on device 1), not when moving a byte costs 1 us (any tensor costs more to
   move than the 1 us a node saves, so every node stays with its input on device 0); and
   placement.auto=off keeps everything on device 0 whatever the figures. */
Test(multi_device, automatic_placement_weighs_transfers) {
  const char *models[] = {"resnet_mini", "gru2", "mha"};
  for (int m = 0; m < 3; m++) {
    for (int variant = 0; variant < 3; variant++) {
      struct injected c = {.cheap_op = "*", .cheap_ns = 9e3, .byte_ns = variant == 1 ? 1e3 : 0};
      nncl_context *two = NULL;
      nncl_graph *g = run_injected(models[m], &c, NULL, variant == 2 ? "off" : NULL, &two);
      const struct plan *p = g->plan;
      int want = variant == 0 ? 1 : 0;
      for (int k = 0; k < p->n_order; k++) {
        const struct pnode *n = &p->n[p->order[k]];
        if (n->op == OP_TRANSFER || (n->def->flags & OP_VIEW)) continue; /* views follow input */
        cr_assert_eq(n->device, want, "%s variant %d: node '%s' (%s) on device %d", models[m],
                     variant, n->name, n->op_type, n->device);
      }
      int transfers = check_transfers(g, models[m]);
      if (want == 0)
        cr_assert_eq(transfers, 0, "%s variant %d", models[m], variant);
      else /* only graph inputs move (at most one transfer each) */
        cr_assert(transfers >= 1 && transfers <= nncl_graph_num_inputs(g), "%s: %d transfers",
                  models[m], transfers);
      nncl_graph_destroy(g);
      nncl_context_destroy(two);
    }
  }
}

/* Device 1 refuses Conv: a spec putting everything there and an automatic placement preferring
   it both send the Conv nodes to device 0 instead of failing. */
Test(multi_device, refused_node_goes_to_another_device) {
  for (int variant = 0; variant < 2; variant++) {
    struct injected c = {.cheap_op = "*", .refuse_op = "Conv", .cheap_ns = 9e3, .byte_ns = 0};
    nncl_context *two = NULL;
    nncl_graph *g = run_injected("resnet_mini", &c, variant == 0 ? "*:1" : NULL, NULL, &two);
    const struct plan *p = g->plan;
    int convs = 0, on1 = 0;
    for (int k = 0; k < p->n_order; k++) {
      const struct pnode *n = &p->n[p->order[k]];
      if (n->op == OP_TRANSFER) continue;
      if (n->op == OP_CONV) {
        convs++;
        cr_assert_eq(n->device, 0, "variant %d: Conv '%s' on the refusing device", variant,
                     n->name);
      }
      on1 += n->device == 1;
    }
    cr_assert_gt(convs, 0);
    cr_assert_gt(on1, 0, "variant %d: nothing left on device 1", variant);
    check_transfers(g, "resnet_mini");
    nncl_graph_destroy(g);
    nncl_context_destroy(two);
  }
}

/* The measured path: nncl_graph_profile remembers each node's device time under its device's key
   (cache folder), placement reads it back for both devices (two pthread devices share one key,
   so equal figures), and a graph planned with those equal figures keeps every node with its
   input: no transfers. */
Test(multi_device, profiled_times_drive_automatic_placement) {
  nncl_context *two = open_devices("all");
  nncl_array out[4];
  int n_out = 0;
  nncl_graph *g = run_model(two, "resnet_mini", out, &n_out);
  for (int i = 0; i < n_out; i++) nncl_array_free(&out[i]);
  nncl_profile prof;
  cr_assert_eq(nncl_graph_profile(g, 2, 1, &prof), NNCL_OK, "%s", nncl_context_last_error(two));
  const struct plan *p = g->plan;
  int checked = 0;
  for (int k = 0; k < p->n_order; k++) {
    const struct pnode *n = &p->n[p->order[k]];
    if (n->op != OP_CONV) continue;
    double t0 = place_node_ns(two, p, n, 0), t1 = place_node_ns(two, p, n, 1);
    cr_assert_gt(t0, 0, "Conv '%s' has no remembered time on device 0", n->name);
    cr_assert_eq(t0, t1, "Conv '%s': %.0f ns on device 0, %.0f on its twin", n->name, t0, t1);
    checked++;
  }
  cr_assert_gt(checked, 0);
  nncl_profile_free(&prof);
  nncl_graph_destroy(g);
  g = run_model(two, "resnet_mini", out, &n_out);
  for (int i = 0; i < n_out; i++) nncl_array_free(&out[i]);
  cr_assert_eq(check_transfers(g, "resnet_mini"), 0, "equal measured devices need no transfers");
  nncl_graph_destroy(g);
  nncl_context_destroy(two);
}

/* ---- data parallel (data_parallel.c) ---- */

static nncl_graph *load_model(nncl_context *ctx, const char *model) {
  char rel[256];
  snprintf(rel, sizeof rel, "%s/model.onnx", model);
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_onnx_load(ctx, model_path(rel), &g), NNCL_OK, "%s: %s", model,
               nncl_context_last_error(ctx));
  return g;
}

/* Two replicas of resnet_mini pinned to devices 0 and 1, each given half of a batch of 4 and run
   together, give the one-device batch-4 output rows: each replica runs wholly on its device (no
   transfers), and rows are independent in inference, so the same kernels on the same CPU give
   the same numbers except where a kernel's blocking depends on the batch (GEMM tiles over the
   rows): tolerance 1e-5 relative + 1e-6 absolute, float32 summation order. */
Test(multi_device, data_parallel_matches_one_device) {
  nncl_context *two = open_devices("all");
  nncl_graph *full = load_model(two, "resnet_mini");
  nncl_graph *rep[2] = {load_model(two, "resnet_mini"), load_model(two, "resnet_mini")};
  nncl_dtype dt;
  nncl_shape s;
  cr_assert_eq(nncl_graph_input_info(full, 0, &dt, &s), NNCL_OK);
  s.dims[0] = 4;
  nncl_array x;
  cr_assert_eq(nncl_array_alloc(&x, NNCL_FLOAT32, &s), NNCL_OK);
  size_t n = (size_t)nncl_shape_numel(&s);
  uint32_t seed = 12345;
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    ((float *)x.data)[i] = (float)(seed >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
  }
  const char *name = nncl_graph_input_name(full, 0);
  cr_assert_eq(nncl_graph_set_input(full, name, &x), NNCL_OK);
  cr_assert_eq(nncl_graph_run(full), NNCL_OK, "%s", nncl_context_last_error(two));
  nncl_array want;
  cr_assert_eq(nncl_graph_get_output(full, 0, &want), NNCL_OK);
  nncl_shape half = s;
  half.dims[0] = 2;
  for (int r = 0; r < 2; r++) {
    nncl_array slice = {.dtype = NNCL_FLOAT32, .shape = half};
    slice.data = (float *)x.data + (size_t)r * n / 2;
    cr_assert_eq(nncl_graph_set_input(rep[r], name, &slice), NNCL_OK);
    cr_assert_eq(nncl_graph_set_device(rep[r], r), NNCL_OK);
  }
  cr_assert_neq(nncl_graph_set_device(rep[0], 2), NNCL_OK, "device 2 of two accepted");
  cr_assert_eq(nncl_graphs_run(rep, 2), NNCL_OK, "%s", nncl_context_last_error(two));
  size_t row = (size_t)nncl_shape_numel(&want.shape) / 4;
  for (int r = 0; r < 2; r++) {
    cr_assert_eq(check_transfers(rep[r], "resnet_mini"), 0, "replica %d moves values", r);
    const struct plan *p = rep[r]->plan;
    for (int k = 0; k < p->n_order; k++)
      cr_assert_eq(p->n[p->order[k]].device, r, "replica %d: node '%s' on device %d", r,
                   p->n[p->order[k]].name, p->n[p->order[k]].device);
    nncl_array got;
    cr_assert_eq(nncl_graph_get_output(rep[r], 0, &got), NNCL_OK);
    cr_assert_eq(got.shape.dims[0], 2);
    tu_assert_close((float *)got.data, (float *)want.data + (size_t)r * 2 * row, 2 * row, 1e-5,
                    1e-6, "data-parallel replica rows");
    nncl_array_free(&got);
  }
  nncl_array_free(&want);
  nncl_array_free(&x);
  nncl_graph_destroy(rep[0]);
  nncl_graph_destroy(rep[1]);
  nncl_graph_destroy(full);
  nncl_context_destroy(two);
}

/* ---- pipelined runs (pipeline.c) ---- */

/* Batch b's copy of a float input: x * (1 + b / 4) + b / 100, so every batch differs; other
   dtypes (indices, lengths) stay as they are. */
static void batch_input(const nncl_array *x, int b, nncl_array *out) {
  cr_assert_eq(nncl_array_alloc(out, x->dtype, &x->shape), NNCL_OK);
  memcpy(out->data, x->data, nncl_array_bytes(x));
  if (x->dtype != NNCL_FLOAT32) return;
  for (int64_t i = 0; i < nncl_shape_numel(&x->shape); i++)
    ((float *)out->data)[i] =
        ((float *)out->data)[i] * (1.0f + 0.25f * (float)b) + 0.01f * (float)b;
}

/* Three different batches pushed through two stages (nncl_graph_set_stages) give, batch by
   batch, exactly the outputs nncl_graph_run gives on one device (same PoCL kernels on the same
   CPU, bit-identical as in check_model_split): a batch never reads a transfer the next batch
   overwrote. Kernel nodes run in schedule order on device 0 then 1 (a view stays with its
   input), transfers only go forward, and both devices get nodes. */
static void check_pipelined(const char *model, const char *transfer_path) {
  enum { B = 3 };
  nncl_context *one = open_devices("0:0");
  nncl_context *two = open_devices("all");
  cr_assert_eq(nncl_context_set_option(two, "transfer.path", transfer_path), NNCL_OK);
  nncl_graph *g1 = load_model(one, model), *g2 = load_model(two, model);
  int n_in = nncl_graph_num_inputs(g1), n_out = nncl_graph_num_outputs(g1);
  cr_assert_leq(n_in, 4);
  nncl_array in[B * 4], want[B * 4], got[B * 4];
  for (int k = 0; k < n_in; k++) {
    char rel[256];
    snprintf(rel, sizeof rel, "%s/test_data_set_0/input_%d.pb", model, k);
    nncl_array x;
    cr_assert_eq(nncl_onnx_load_tensor(one, model_path(rel), &x, NULL), NNCL_OK, "%s", rel);
    for (int b = 0; b < B; b++) batch_input(&x, b, &in[b * n_in + k]);
    nncl_array_free(&x);
  }
  for (int b = 0; b < B; b++) {
    for (int k = 0; k < n_in; k++)
      cr_assert_eq(nncl_graph_set_input(g1, nncl_graph_input_name(g1, k), &in[b * n_in + k]),
                   NNCL_OK, "%s", nncl_context_last_error(one));
    cr_assert_eq(nncl_graph_run(g1), NNCL_OK, "%s: %s", model, nncl_context_last_error(one));
    for (int i = 0; i < n_out; i++)
      cr_assert_eq(nncl_graph_get_output(g1, i, &want[b * n_out + i]), NNCL_OK);
  }
  cr_assert_neq(nncl_graph_set_stages(g2, 3), NNCL_OK, "3 stages on 2 devices accepted");
  cr_assert_eq(nncl_graph_set_stages(g2, 2), NNCL_OK);
  cr_assert_eq(nncl_graph_run_pipelined(g2, B, in, got), NNCL_OK, "%s: %s", model,
               nncl_context_last_error(two));
  const struct plan *p = g2->plan;
  int last = 0, on[2] = {0, 0};
  for (int k = 0; k < p->n_order; k++) {
    const struct pnode *n = &p->n[p->order[k]];
    on[n->device]++;
    if (n->op == OP_TRANSFER)
      cr_assert_lt(p->v[n->in[0]].device, n->device, "%s: transfer '%s' goes back", model, n->name);
    if (n->op == OP_TRANSFER || (n->def->flags & OP_VIEW)) continue; /* views follow input */
    cr_assert_geq(n->device, last, "%s: node '%s' on device %d after a node on %d", model, n->name,
                  n->device, last);
    last = n->device;
  }
  cr_assert(on[0] > 0 && on[1] > 0, "%s: %d nodes on device 0, %d on 1", model, on[0], on[1]);
  cr_assert_gt(check_transfers(g2, model), 0);
  for (int b = 0; b < B; b++)
    for (int i = 0; i < n_out; i++) {
      const nncl_array *w = &want[b * n_out + i], *o = &got[b * n_out + i];
      cr_assert_eq(memcmp(&o->shape, &w->shape, sizeof w->shape), 0);
      size_t worst = 0;
      double r =
          tu_close_ratio(o->data, w->data, (size_t)nncl_shape_numel(&w->shape), 0, 0, &worst);
      cr_assert(r == 0, "%s batch %d output %d: element %zu is %.9g pipelined, %.9g on one device",
                model, b, i, worst, (double)((float *)o->data)[worst],
                (double)((float *)w->data)[worst]);
    }
  for (int i = 0; i < B * n_out; i++) {
    nncl_array_free(&want[i]);
    nncl_array_free(&got[i]);
  }
  /* batch 1 with another shape: refused by name, no outputs left behind */
  nncl_array odd = in[n_in];
  odd.shape.dims[odd.shape.rank - 1] -= 1;
  nncl_array bad[2 * 4];
  for (int k = 0; k < n_in; k++) bad[k] = in[k], bad[n_in + k] = k == 0 ? odd : in[n_in + k];
  cr_assert_eq(nncl_graph_run_pipelined(g2, 2, bad, got), NNCL_ERR_SHAPE);
  cr_assert_not_null(strstr(nncl_context_last_error(two), "batch 1"), "%s",
                     nncl_context_last_error(two));
  for (int i = 0; i < 2 * n_out; i++) cr_assert_null(got[i].data);
  for (int i = 0; i < B * n_in; i++) nncl_array_free(&in[i]);
  nncl_graph_destroy(g2);
  nncl_graph_destroy(g1);
  nncl_context_destroy(two);
  nncl_context_destroy(one);
}

Test(multi_device, pipelined_cnn_matches_one_device) { check_pipelined("resnet_mini", "auto"); }
Test(multi_device, pipelined_rnn_matches_one_device) { check_pipelined("gru2", "auto"); }
Test(multi_device, pipelined_attention_matches_one_device) { check_pipelined("mha", "auto"); }
/* the host path's staging memory is reused by every batch: the fence keeps them apart */
Test(multi_device, pipelined_through_host_matches_one_device) {
  check_pipelined("resnet_mini", "host");
}

/* ---- kernels that do not build on the device placement chose (pass_place_build_failed) ---- */

/* The build hook: every program fails to build on the devices whose bit is set in *user. */
static int fail_builds_on(const nncl_context *dev, const char *source, void *user) {
  (void)source;
  return (*(const unsigned *)user >> dev->dev_index) & 1u;
}

/* Automatic placement prefers device 1 for every node (injected costs), but no kernel builds
   there: each node whose plan builds a program goes back to device 0 (remembered per node, so
   the graph plans once more per such node), the plan succeeds and the outputs are exactly the
   single-device ones. */
Test(multi_device, node_whose_kernel_fails_to_build_moves_to_another_device) {
  struct injected c = {.cheap_op = "*", .cheap_ns = 9e3, .byte_ns = 0};
  static const struct nncl__place_hooks hooks_template = {injected_node_ns, injected_byte_ns,
                                                          injected_refuse, NULL};
  struct nncl__place_hooks hooks = hooks_template;
  hooks.user = &c;
  unsigned failing = 1u << 1;
  nncl_context *one = open_devices("0:0");
  nncl_array want[4], got[4];
  int n_want = 0, n_got = 0;
  nncl_graph *g1 = run_model(one, "resnet_mini", want, &n_want);
  nncl_context *two = open_devices("all");
  two->place_hooks = &hooks;
  two->build_fail_hook = fail_builds_on;
  two->build_fail_user = &failing;
  nncl_graph *g2 = run_model(two, "resnet_mini", got, &n_got);
  cr_assert_gt(g2->n_refused_builds, 0, "no build failed on device 1");
  const struct plan *p = g2->plan;
  for (int r = 0; r < g2->n_refused_builds; r++) {
    cr_assert_eq(g2->refused_builds[r].device, 1);
    int found = 0;
    for (int k = 0; k < p->n_order; k++) {
      const struct pnode *n = &p->n[p->order[k]];
      if (strcmp(n->name, g2->refused_builds[r].node) != 0) continue;
      found = 1;
      cr_assert_eq(n->device, 0, "node '%s' stayed on the device that cannot build it", n->name);
    }
    cr_assert(found, "refused node '%s' is not in the plan", g2->refused_builds[r].node);
  }
  check_transfers(g2, "resnet_mini");
  cr_assert_eq(n_got, n_want);
  for (int i = 0; i < n_want; i++) {
    size_t worst = 0;
    double r = tu_close_ratio(got[i].data, want[i].data, (size_t)nncl_shape_numel(&want[i].shape),
                              0, 0, &worst);
    cr_assert(r == 0, "output %d: element %zu differs after the fallback", i, worst);
    nncl_array_free(&got[i]);
    nncl_array_free(&want[i]);
  }
  nncl_graph_destroy(g2);
  nncl_graph_destroy(g1);
  nncl_context_destroy(two);
  nncl_context_destroy(one);
}

/* A forced placement onto the failing device is an error naming the node, the device and the
   build log's first line; with builds failing on every device, automatic placement reports that
   the node builds nowhere. Neither leaves a plan behind. */
Test(multi_device, build_failure_on_forced_or_every_device_is_an_error) {
  for (int variant = 0; variant < 2; variant++) {
    unsigned failing = variant == 0 ? 1u << 1 : 3u;
    nncl_context *two = open_devices("all");
    two->build_fail_hook = fail_builds_on;
    two->build_fail_user = &failing;
    if (variant == 0) cr_assert_eq(nncl_context_set_placement(two, "*:1"), NNCL_OK);
    nncl_graph *g = load_model(two, "resnet_mini");
    nncl_dtype dt;
    nncl_shape s;
    cr_assert_eq(nncl_graph_input_info(g, 0, &dt, &s), NNCL_OK);
    s.dims[0] = 1;
    nncl_array x;
    cr_assert_eq(nncl_array_alloc(&x, dt, &s), NNCL_OK);
    memset(x.data, 0, nncl_array_bytes(&x));
    cr_assert_eq(nncl_graph_set_input(g, nncl_graph_input_name(g, 0), &x), NNCL_OK);
    nncl_array_free(&x);
    cr_assert_eq(nncl_graph_plan(g), NNCL_ERR_BUILD_FAILED, "variant %d planned", variant);
    const char *msg = nncl_context_last_error(two);
    cr_assert_not_null(strstr(msg, "node '"), "variant %d: %s", variant, msg);
    cr_assert_not_null(strstr(msg, "error: build failure injected by a test hook"), "%s", msg);
    cr_assert_not_null(strstr(msg, variant == 0 ? "by the placement" : "builds on no device"), "%s",
                       msg);
    cr_assert_not_null(strstr(msg, nncl__ctx_dev(two, variant == 0 ? 1 : 0)->info.name), "%s", msg);
    cr_assert_null(g->plan);
    nncl_graph_destroy(g);
    nncl_context_destroy(two);
  }
}

/* ---- what a node needs of a device (op_def.needs), with injected device facts ---- */

/* x + y through one nncl.SelftestAdd node that declares its needs (attributes local_bytes,
   fp64), on a two-device context; returns the graph with inputs set. */
static nncl_graph *needs_graph(nncl_context *ctx, const char *node, int64_t local, int fp64) {
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_graph_create(ctx, &g), NNCL_OK);
  nncl_shape s = {.rank = 2, .dims = {2, 8}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  cr_assert_eq(nncl_graph_add_input(g, "y", NNCL_FLOAT32, &s), NNCL_OK);
  const char *in[] = {"x", "y"}, *out = "z";
  nncl_node *n = NULL;
  cr_assert_eq(nncl_graph_add_node(g, "nncl.SelftestAdd", node, 2, in, 1, &out, &n), NNCL_OK);
  cr_assert_eq(nncl_node_set_int(g, n, "local_bytes", local), NNCL_OK);
  cr_assert_eq(nncl_node_set_int(g, n, "fp64", fp64), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "z"), NNCL_OK);
  nncl_array a;
  cr_assert_eq(nncl_array_alloc(&a, NNCL_FLOAT32, &s), NNCL_OK);
  for (int k = 0; k < 2; k++) {
    for (int i = 0; i < 16; i++) ((float *)a.data)[i] = (float)(i * (k + 1)) - 3.5f;
    cr_assert_eq(nncl_graph_set_input(g, in[k], &a), NNCL_OK);
  }
  nncl_array_free(&a);
  return g;
}

/* Device 0 made to report 1 KiB of local memory: a node needing 4 KiB goes to device 1 even
   when the placement names device 0 (as for a refusing device), and computes x + y there
   (exact: one float addition per element). */
Test(multi_device, node_needing_more_local_memory_goes_to_a_device_that_has_it) {
  nncl_context *two = open_devices("all");
  cr_assert_eq(nncl_context_set_placement(two, "*:0"), NNCL_OK);
  nncl__ctx_dev(two, 0)->info.local_mem_bytes = 1024;
  cr_assert_geq(nncl__ctx_dev(two, 1)->info.local_mem_bytes, 4096);
  nncl_graph *g = needs_graph(two, "tiles", 4096, 0);
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(two));
  nncl_node_info info;
  int found = 0;
  for (int k = 0; k < nncl_graph_num_planned_nodes(g); k++) {
    cr_assert_eq(nncl_graph_planned_node(g, k, &info), NNCL_OK);
    if (strcmp(info.name, "tiles") != 0) continue;
    found = 1;
    cr_assert_eq(info.device, 1, "node 'tiles' on device %d, which lacks its local memory",
                 info.device);
  }
  cr_assert(found);
  nncl_array z;
  cr_assert_eq(nncl_graph_get_output(g, 0, &z), NNCL_OK);
  for (int i = 0; i < 16; i++)
    cr_assert_eq(((float *)z.data)[i], (float)i - 3.5f + (float)(2 * i) - 3.5f, "element %d", i);
  nncl_array_free(&z);
  nncl_graph_destroy(g);
  nncl_context_destroy(two);
}

/* No device with fp64 (both made to report none): planning fails naming the node and fp64;
   with local memory no device has, naming the bytes. */
Test(multi_device, node_needing_what_no_device_has_is_an_error) {
  for (int variant = 0; variant < 2; variant++) {
    nncl_context *two = open_devices("all");
    for (int d = 0; d < 2; d++) nncl__ctx_dev(two, d)->info.has_fp64 = 0;
    int64_t local = variant ? (int64_t)nncl__ctx_dev(two, 0)->info.local_mem_bytes * 2 : 0;
    nncl_graph *g = needs_graph(two, "dbl", local, variant == 0);
    cr_assert_eq(nncl_graph_plan(g), NNCL_ERR_UNSUPPORTED, "variant %d planned", variant);
    const char *msg = nncl_context_last_error(two);
    cr_assert_not_null(strstr(msg, "node 'dbl'"), "%s", msg);
    cr_assert_not_null(strstr(msg, variant == 0 ? "cl_khr_fp64" : "bytes of local memory"), "%s",
                       msg);
    nncl_graph_destroy(g);
    nncl_context_destroy(two);
  }
}
