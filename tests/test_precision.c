/* test_precision.c: the graph.precision option: fp32 runs, fp16 is refused at plan time with a
   message naming the device and the reason (never a silent fp32 run), at graph and context level. */
#include <string.h>

#include "nncl/graph.h"
#include "test_util.h"

/* Random values with at least one negative and one positive: Relu's two branches. */
static nncl_array relu_input(void) {
  nncl_array x = TU_RAND(7, 2, 3);
  ((float *)x.data)[0] = -1.0f;
  ((float *)x.data)[1] = 1.0f;
  return x;
}

/* out = Relu(x), x of shape [2, 3]: the smallest graph with a real kernel. */
static nncl_graph *relu_graph(void) {
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  nncl_shape s = {.rank = 2, .dims = {2, 3}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  const char *in = "x", *out = "out";
  cr_assert_eq(nncl_graph_add_node(g, "Relu", "the_relu", 1, &in, 1, &out, NULL), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_graph_add_output(g, "out"), NNCL_OK);
  nncl_array x = relu_input();
  cr_assert_eq(nncl_graph_set_input(g, "x", &x), NNCL_OK);
  nncl_array_free(&x);
  return g;
}

/* st is NNCL_ERR_UNSUPPORTED and the last error says why: on a device without cl_khr_fp16 (PoCL's
   CPU device) it names the device and the extension; on one with it, the op that has no half
   kernel yet. Either way nothing ran in fp32. */
static void assert_refused(nncl_status st, const char *what) {
  nncl_context *ctx = tu_ctx();
  const char *msg = nncl_context_last_error(ctx);
  cr_assert_eq(st, NNCL_ERR_UNSUPPORTED, "%s: status %s, %s", what, nncl_status_string(st), msg);
  cr_assert(strstr(msg, "graph.precision=fp16"), "%s: '%s' does not name the option", what, msg);
  if (!nncl_context_device(ctx)->has_fp16) {
    cr_assert(strstr(msg, "cl_khr_fp16"), "%s: '%s' does not name the extension", what, msg);
    cr_assert(strstr(msg, nncl_context_device(ctx)->name), "%s: '%s' does not name device '%s'",
              what, msg, nncl_context_device(ctx)->name);
  } else {
    cr_assert(strstr(msg, "Relu") && strstr(msg, "the_relu"), "%s: '%s' does not name the op", what,
              msg);
  }
}

/* Relu of the input, checked exactly against the host (max is exact in float). */
static void assert_runs_fp32(nncl_graph *g) {
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  nncl_array out, x = relu_input();
  const float *xv = x.data, *got;
  cr_assert_eq(nncl_graph_get_output(g, 0, &out), NNCL_OK);
  cr_assert_eq(out.dtype, NNCL_FLOAT32, "fp32 output has dtype %d", (int)out.dtype);
  got = out.data;
  for (int i = 0; i < 6; i++) {
    float want = xv[i] > 0 ? xv[i] : 0.0f;
    cr_assert_eq(got[i], want, "element %d: %g, expected %g", i, (double)got[i], (double)want);
  }
  nncl_array_free(&out);
  nncl_array_free(&x);
}

Test(precision, default_is_fp32_and_runs) {
  nncl_graph *g = relu_graph();
  const char *v = NULL;
  cr_assert_eq(nncl_graph_get_option(g, "graph.precision", &v), NNCL_OK);
  cr_assert_str_eq(v, "fp32");
  assert_runs_fp32(g);
  nncl_graph_destroy(g);
}

Test(precision, graph_fp16_is_refused_by_plan_dry_plan_and_run) {
  nncl_graph *g = relu_graph();
  cr_assert_eq(nncl_graph_set_option(g, "graph.precision", "fp16"), NNCL_OK);
  assert_refused(nncl_graph_plan_dry(g), "plan_dry");
  assert_refused(nncl_graph_plan(g), "plan");
  assert_refused(nncl_graph_run(g), "run");
  /* back to fp32, the same graph plans and runs: the refusal left nothing behind */
  cr_assert_eq(nncl_graph_set_option(g, "graph.precision", "fp32"), NNCL_OK);
  assert_runs_fp32(g);
  nncl_graph_destroy(g);
}

Test(precision, context_fp16_is_refused_and_a_graph_fp32_overrides_it) {
  tu_set_option("graph.precision", "fp16");
  nncl_graph *g = relu_graph();
  assert_refused(nncl_graph_plan(g), "context fp16");
  cr_assert_eq(nncl_graph_set_option(g, "graph.precision", "fp32"), NNCL_OK);
  assert_runs_fp32(g);
  nncl_graph_destroy(g);
  tu_set_option("graph.precision", NULL);
}

Test(precision, unknown_value_lists_the_allowed_ones) {
  nncl_context *ctx = tu_ctx();
  cr_assert_eq(nncl_context_set_option(ctx, "graph.precision", "bf16"), NNCL_ERR_INVALID_ARGUMENT);
  const char *msg = nncl_context_last_error(ctx);
  cr_assert(strstr(msg, "fp32") && strstr(msg, "fp16"), "'%s' does not list fp32 and fp16", msg);
}
