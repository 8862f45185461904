/* test_precision.c: the graph.precision option: fp32 runs; fp16 is refused at plan time on a device
   without cl_khr_fp16 with a message naming the device and the extension (never a silent fp32
   run), at graph and context level; fp16-storage runs anywhere, exactly as the host rounds, and
   refuses an op without a half-storage kernel by op and node. The kernels' accuracy is
   test_precision_kernels.c's, the demo CNN's test_precision_demo.c's. */
#include <string.h>

#include "nncl/graph.h"
#include "runtime.h"
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

/* Relu of the input stored as float16: exactly max(half(x), 0), half rounding done on the host
   as vstore_half does (nearest even), and every value a float16 one. */
static void assert_runs_half(nncl_graph *g) {
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  nncl_array out, x = relu_input();
  const float *xv = x.data, *got;
  cr_assert_eq(nncl_graph_get_output(g, 0, &out), NNCL_OK);
  cr_assert_eq(out.dtype, NNCL_FLOAT32, "the caller sees float32, got dtype %d", (int)out.dtype);
  got = out.data;
  int inexact = 0;
  for (int i = 0; i < 6; i++) {
    float h = nncl__half_to_float(nncl__half_from_float(xv[i]));
    float want = h > 0 ? h : 0.0f;
    inexact += h != xv[i];
    cr_assert_eq(got[i], want, "element %d: %.9g, expected %.9g (x = %.9g)", i, (double)got[i],
                 (double)want, (double)xv[i]);
  }
  cr_assert(inexact > 0, "every input was a float16 value: the test would not see an fp32 run");
  nncl_array_free(&out);
  nncl_array_free(&x);
}

/* fp16 on a device without cl_khr_fp16 (PoCL's CPU device): NNCL_ERR_UNSUPPORTED, the last error
   naming the option, the device and the extension; nothing ran in fp32. On a device with the
   extension fp16 is fp16-storage's path and runs. */
static void assert_fp16_refused_or_runs(nncl_graph *g, nncl_status st, const char *what) {
  nncl_context *ctx = tu_ctx();
  const char *msg = nncl_context_last_error(ctx);
  if (nncl_context_device(ctx)->has_fp16) {
    cr_assert_eq(st, NNCL_OK, "%s: status %s, %s", what, nncl_status_string(st), msg);
    assert_runs_half(g);
    return;
  }
  cr_assert_eq(st, NNCL_ERR_UNSUPPORTED, "%s: status %s, %s", what, nncl_status_string(st), msg);
  cr_assert(strstr(msg, "graph.precision=fp16"), "%s: '%s' does not name the option", what, msg);
  cr_assert(strstr(msg, "cl_khr_fp16"), "%s: '%s' does not name the extension", what, msg);
  cr_assert(strstr(msg, nncl_context_device(ctx)->name), "%s: '%s' does not name device '%s'", what,
            msg, nncl_context_device(ctx)->name);
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
  assert_fp16_refused_or_runs(g, nncl_graph_plan_dry(g), "plan_dry");
  assert_fp16_refused_or_runs(g, nncl_graph_plan(g), "plan");
  assert_fp16_refused_or_runs(g, nncl_graph_run(g), "run");
  /* back to fp32, the same graph plans and runs: the refusal left nothing behind */
  cr_assert_eq(nncl_graph_set_option(g, "graph.precision", "fp32"), NNCL_OK);
  assert_runs_fp32(g);
  nncl_graph_destroy(g);
}

Test(precision, context_fp16_is_refused_and_a_graph_fp32_overrides_it) {
  tu_set_option("graph.precision", "fp16");
  nncl_graph *g = relu_graph();
  assert_fp16_refused_or_runs(g, nncl_graph_plan(g), "context fp16");
  cr_assert_eq(nncl_graph_set_option(g, "graph.precision", "fp32"), NNCL_OK);
  assert_runs_fp32(g);
  nncl_graph_destroy(g);
  tu_set_option("graph.precision", NULL);
}

Test(precision, unknown_value_lists_the_allowed_ones) {
  nncl_context *ctx = tu_ctx();
  cr_assert_eq(nncl_context_set_option(ctx, "graph.precision", "bf16"), NNCL_ERR_INVALID_ARGUMENT);
  const char *msg = nncl_context_last_error(ctx);
  cr_assert(strstr(msg, "fp32") && strstr(msg, "fp16-storage"), "'%s' does not list the values",
            msg);
}

Test(precision, fp16_storage_runs_on_any_device_and_back_to_fp32) {
  nncl_graph *g = relu_graph();
  cr_assert_eq(nncl_graph_set_option(g, "graph.precision", "fp16-storage"), NNCL_OK);
  assert_runs_half(g);
  cr_assert_eq(nncl_graph_set_option(g, "graph.precision", "fp32"), NNCL_OK);
  assert_runs_fp32(g);
  nncl_graph_destroy(g);
}

/* Softmax has no half-storage kernel: refused naming the op and the node, by every entry point
   that plans, and nothing ran. */
Test(precision, fp16_storage_refuses_an_op_without_a_half_kernel) {
  nncl_context *ctx = tu_ctx();
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_graph_create(ctx, &g), NNCL_OK);
  nncl_shape s = {.rank = 2, .dims = {2, 3}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  const char *in = "x", *mid = "r", *out = "out";
  cr_assert_eq(nncl_graph_add_node(g, "Relu", "the_relu", 1, &in, 1, &mid, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_add_node(g, "Softmax", "the_softmax", 1, &mid, 1, &out, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "out"), NNCL_OK);
  nncl_array x = relu_input();
  cr_assert_eq(nncl_graph_set_input(g, "x", &x), NNCL_OK);
  nncl_array_free(&x);
  cr_assert_eq(nncl_graph_set_option(g, "graph.precision", "fp16-storage"), NNCL_OK);
  for (int i = 0; i < 3; i++) {
    nncl_status st = i == 0   ? nncl_graph_plan_dry(g)
                     : i == 1 ? nncl_graph_plan(g)
                              : nncl_graph_run(g);
    const char *msg = nncl_context_last_error(ctx);
    cr_assert_eq(st, NNCL_ERR_UNSUPPORTED, "call %d: status %s, %s", i, nncl_status_string(st),
                 msg);
    cr_assert(strstr(msg, "graph.precision=fp16-storage") && strstr(msg, "Softmax") &&
                  strstr(msg, "the_softmax"),
              "call %d: '%s' does not name the option, the op and the node", i, msg);
  }
  nncl_graph_destroy(g);
}
