/* test_plan_dry.c: nncl_graph_plan_dry (what `nncl info` prints) builds and launches nothing on a
   cold cache, and its figures are those of the plan a run then makes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nncl/nncl.h"
#include "test_util.h"

/* A context whose program cache is a new empty folder: every kernel would be a build. */
static nncl_context *cold_context(char *cache, size_t len) {
  snprintf(cache, len, "/tmp/nncl-dry-XXXXXX");
  cr_assert(mkdtemp(cache));
  setenv("NNCL_CACHE_DIR", cache, 1);
  nncl_context *ctx = NULL;
  char msg[1024];
  cr_assert_eq(nncl_context_create(getenv("NNCL_DEVICE"), &ctx, msg, sizeof msg), NNCL_OK, "%s",
               msg);
  return ctx;
}

static void remove_folder(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

/* Every input set to zeros of its declared shape, open dims 1. */
static void set_inputs(nncl_graph *g, const char *model) {
  for (int i = 0; i < nncl_graph_num_inputs(g); i++) {
    nncl_dtype dt;
    nncl_shape s;
    cr_assert_eq(nncl_graph_input_info(g, i, &dt, &s), NNCL_OK);
    for (int d = 0; d < s.rank; d++)
      if (s.dims[d] < 0) s.dims[d] = 1;
    nncl_array a;
    cr_assert_eq(nncl_array_alloc(&a, dt, &s), NNCL_OK);
    memset(a.data, 0, nncl_array_bytes(&a));
    cr_assert_eq(nncl_graph_set_input(g, nncl_graph_input_name(g, i), &a), NNCL_OK, "%s: %s", model,
                 nncl_context_last_error(nncl_graph_context(g)));
    nncl_array_free(&a);
  }
}

static void check_model(const char *rel) {
  const char *data = getenv("NNCL_TEST_DATA");
  cr_assert(data, "NNCL_TEST_DATA is not set (meson test sets it)");
  char path[4096], cache[64];
  snprintf(path, sizeof path, "%s/%s", data, rel);
  nncl_context *ctx = cold_context(cache, sizeof cache);
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_onnx_load(ctx, path, &g), NNCL_OK, "%s: %s", rel, nncl_context_last_error(ctx));
  set_inputs(g, rel);

  nncl_stats s0, s1, s2;
  nncl_context_stats(ctx, &s0);
  cr_assert_eq(nncl_graph_plan_dry(g), NNCL_OK, "%s: %s", rel, nncl_context_last_error(ctx));
  nncl_context_stats(ctx, &s1);
  nncl_graph_summary dry, real;
  cr_assert_eq(nncl_graph_summarize(g, &dry), NNCL_OK);
  /* Cold cache: any kernel fetched would be a build. Constant folding computes the PyTorch
     exports' shape subgraphs (Shape -> Gather -> Add/Div/Mul -> Concat, Equal/Where masks, Expand
     of initial states) on the host, so no model here fetches or launches anything. */
  const uint64_t builds = s1.program_builds - s0.program_builds;
  cr_assert_eq(builds, 0, "%s: the dry plan built %llu programs (%d nodes folded)", rel,
               (unsigned long long)builds, dry.n_folded);
  cr_assert_eq(s1.program_disk_hits + s1.program_memory_hits,
               s0.program_disk_hits + s0.program_memory_hits, "%s: the dry plan fetched kernels",
               rel);
  cr_assert_eq(s1.kernel_launches - s0.kernel_launches, 0, "%s: the dry plan launched kernels",
               rel);
  /* summarize reads the dry plan, it does not re-plan it for real */
  nncl_context_stats(ctx, &s2);
  cr_assert_eq(s2.program_builds, s1.program_builds, "%s: summarize planned again", rel);
  int n_dry = nncl_graph_num_planned_nodes(g);
  cr_assert_gt(n_dry, 0, "%s", rel);
  char(*ops)[64] = calloc((size_t)n_dry, sizeof *ops);
  nncl_shape *shapes = calloc((size_t)n_dry, sizeof *shapes);
  cr_assert(ops && shapes);
  for (int i = 0; i < n_dry; i++) {
    nncl_node_info ni;
    cr_assert_eq(nncl_graph_planned_node(g, i, &ni), NNCL_OK);
    snprintf(ops[i], sizeof ops[i], "%s", ni.op_type);
    shapes[i] = ni.out_shapes[0];
  }

  /* a run plans again for real (and so compiles), then works */
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s: %s", rel, nncl_context_last_error(ctx));
  nncl_context_stats(ctx, &s2);
  cr_assert_gt(s2.program_builds, s1.program_builds, "%s: the run after a dry plan built nothing",
               rel);
  cr_assert_eq(nncl_graph_summarize(g, &real), NNCL_OK);
  /* exact: the same nodes over the same shapes are packed by the same planner */
  cr_assert_eq(dry.arena_bytes, real.arena_bytes, "%s: arena %llu dry, %llu run", rel,
               (unsigned long long)dry.arena_bytes, (unsigned long long)real.arena_bytes);
  cr_assert_eq(dry.intermediates_bytes, real.intermediates_bytes, "%s: intermediates", rel);
  cr_assert_eq(dry.workspace_bytes, real.workspace_bytes, "%s: workspace %llu dry, %llu run", rel,
               (unsigned long long)dry.workspace_bytes, (unsigned long long)real.workspace_bytes);
  cr_assert_eq(dry.weight_bytes, real.weight_bytes, "%s: weights", rel);
  cr_assert_eq(dry.n_kernel_nodes, real.n_kernel_nodes, "%s: kernel nodes", rel);
  cr_assert_eq(dry.n_fused, real.n_fused, "%s: fused", rel);
  cr_assert_eq(dry.n_folded, real.n_folded, "%s: folded", rel);
  cr_assert_eq(dry.flops, real.flops, "%s: flops", rel);
  cr_assert_eq(nncl_graph_num_planned_nodes(g), n_dry, "%s: planned nodes", rel);
  for (int i = 0; i < n_dry; i++) {
    nncl_node_info ni;
    cr_assert_eq(nncl_graph_planned_node(g, i, &ni), NNCL_OK);
    cr_assert_str_eq(ni.op_type, ops[i], "%s: node %d", rel, i);
    cr_assert(memcmp(&ni.out_shapes[0], &shapes[i], sizeof shapes[i]) == 0,
              "%s: node %d (%s) output shape differs", rel, i, ni.op_type);
  }
  free(ops);
  free(shapes);
  nncl_graph_destroy(g);
  nncl_context_destroy(ctx);
  remove_folder(cache);
}

Test(plan_dry, cnn_builds_nothing_and_plans_the_run_memory) {
  check_model("../../models/fashion_cnn.onnx");
}

Test(plan_dry, resnet_builds_nothing_and_plans_the_run_memory) {
  check_model("../models/resnet_mini/model.onnx");
}

Test(plan_dry, attention_builds_nothing_and_plans_the_run_memory) {
  check_model("../models/mha/model.onnx");
}

Test(plan_dry, lstm_builds_nothing_and_plans_the_run_memory) {
  check_model("../models/lstm2_bidir/model.onnx");
}

Test(plan_dry, mobilenet_builds_nothing_and_plans_the_run_memory) {
  check_model("../models/mobilenet_mini/model.onnx");
}
