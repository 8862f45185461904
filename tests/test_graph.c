/* test_graph.c: the builder, planner and executor, driven with the nncl.SelftestAdd op so they are
   tested independently of the real op families: values, folding, dead nodes, the arena plan,
   re-planning on new shapes, no allocation or build when re-running, and error messages. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/graph.h"
#include "test_util.h"

static nncl_graph *new_graph(void) {
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  return g;
}

static void add(nncl_graph *g, const char *a, const char *b, const char *out) {
  const char *in[] = {a, b};
  cr_assert_eq(nncl_graph_add_node(g, "nncl.SelftestAdd", NULL, 2, in, 1, &out, NULL), NNCL_OK,
               "%s", nncl_context_last_error(tu_ctx()));
}

static void set(nncl_graph *g, const char *name, const nncl_array *a) {
  cr_assert_eq(nncl_graph_set_input(g, name, a), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
}

static void run(nncl_graph *g) {
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
}

/* out = ((x + y) + x) + ((x + y) + x) */
static nncl_graph *diamond(void) {
  nncl_graph *g = new_graph();
  nncl_shape s = {.rank = 2, .dims = {-1, 5}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  cr_assert_eq(nncl_graph_add_input(g, "y", NNCL_FLOAT32, &s), NNCL_OK);
  add(g, "x", "y", "a");
  add(g, "a", "x", "b");
  add(g, "b", "b", "out");
  cr_assert_eq(nncl_graph_add_output(g, "out"), NNCL_OK);
  return g;
}

static void check_diamond(nncl_graph *g, const nncl_array *x, const nncl_array *y) {
  nncl_array out;
  cr_assert_eq(nncl_graph_get_output(g, 0, &out), NNCL_OK);
  int64_t n = nncl_shape_numel(&x->shape);
  cr_assert_eq(nncl_shape_numel(&out.shape), n);
  float *want = malloc((size_t)n * sizeof *want);
  const float *xv = x->data, *yv = y->data;
  for (int64_t i = 0; i < n; i++) want[i] = ((xv[i] + yv[i]) + xv[i]) * 2;
  tu_assert_close((float *)out.data, want, (size_t)n, 1e-6, 0, "diamond");
  free(want);
  nncl_array_free(&out);
}

Test(graph, runs_and_reruns_without_allocation_or_build) {
  nncl_graph *g = diamond();
  nncl_array x = TU_RAND(1, 3, 5), y = TU_RAND(2, 3, 5);
  set(g, "x", &x);
  set(g, "y", &y);
  run(g);
  check_diamond(g, &x, &y);
  nncl_stats before, after;
  nncl_context_stats(tu_ctx(), &before);
  nncl_array x2 = TU_RAND(3, 3, 5), y2 = TU_RAND(4, 3, 5);
  set(g, "x", &x2);
  set(g, "y", &y2);
  run(g);
  nncl_context_stats(tu_ctx(), &after);
  cr_assert_eq(after.device_allocs, before.device_allocs, "re-run allocated device memory");
  cr_assert_eq(after.program_builds, before.program_builds, "re-run built a program");
  cr_assert_eq(after.program_disk_hits, before.program_disk_hits, "re-run loaded a program");
  cr_assert_eq(after.kernel_launches - before.kernel_launches, 3);
  check_diamond(g, &x2, &y2);
  /* a new batch size re-plans by itself */
  nncl_array x3 = TU_RAND(5, 7, 5), y3 = TU_RAND(6, 7, 5);
  set(g, "x", &x3);
  set(g, "y", &y3);
  run(g);
  check_diamond(g, &x3, &y3);
  nncl_shape s;
  cr_assert_eq(nncl_graph_output_info(g, 0, NULL, &s), NNCL_OK);
  cr_assert_eq(s.dims[0], 7);
  /* setting one input keeps the other */
  set(g, "x", &x2);
  cr_assert_eq(nncl_graph_set_input(g, "x", &x3), NNCL_OK);
  run(g);
  check_diamond(g, &x3, &y3);
  nncl_array_free(&x);
  nncl_array_free(&y);
  nncl_array_free(&x2);
  nncl_array_free(&y2);
  nncl_array_free(&x3);
  nncl_array_free(&y3);
  nncl_graph_destroy(g);
}

Test(graph, arena_reuses_memory_along_a_chain) {
  nncl_graph *g = new_graph();
  nncl_shape s = {.rank = 1, .dims = {4096}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  char prev[16] = "x", cur[16];
  for (int i = 0; i < 12; i++) {
    snprintf(cur, sizeof cur, "t%d", i);
    add(g, prev, prev, cur);
    strcpy(prev, cur);
  }
  cr_assert_eq(nncl_graph_add_output(g, prev), NNCL_OK);
  nncl_array x = TU_RAND(9, 4096);
  set(g, "x", &x);
  run(g);
  nncl_graph_summary sum;
  cr_assert_eq(nncl_graph_summarize(g, &sum), NNCL_OK);
  cr_assert_eq(sum.intermediates_bytes, 12 * 4096 * 4);
  cr_assert_leq(sum.arena_bytes, 2 * 4096 * 4, "arena %llu bytes for a chain",
                (unsigned long long)sum.arena_bytes);
  nncl_array out;
  cr_assert_eq(nncl_graph_get_output_by_name(g, prev, &out), NNCL_OK);
  const float *xv = x.data;
  for (int i = 0; i < 4096; i++)
    cr_assert_float_eq(((float *)out.data)[i], xv[i] * 4096.0f, fabsf(xv[i]) * 1e-5f);
  nncl_array_free(&out);
  nncl_array_free(&x);
  nncl_graph_destroy(g);
}

Test(graph, constants_fold_and_dead_nodes_vanish) {
  nncl_graph *g = new_graph();
  nncl_shape s = {.rank = 1, .dims = {8}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  nncl_array c1 = TU_RAND(11, 8), c2 = TU_RAND(12, 8);
  cr_assert_eq(nncl_graph_add_constant(g, "c1", &c1), NNCL_OK);
  cr_assert_eq(nncl_graph_add_constant(g, "c2", &c2), NNCL_OK);
  add(g, "c1", "c2", "k");    /* folded at plan time */
  add(g, "x", "k", "out");    /* the only kernel */
  add(g, "x", "x", "unused"); /* dead */
  cr_assert_eq(nncl_graph_add_output(g, "out"), NNCL_OK);
  nncl_array x = TU_RAND(13, 8);
  set(g, "x", &x);
  run(g);
  nncl_graph_summary sum;
  cr_assert_eq(nncl_graph_summarize(g, &sum), NNCL_OK);
  cr_assert_eq(sum.n_folded, 1);
  cr_assert_eq(sum.n_kernel_nodes, 1);
  cr_assert_eq(nncl_graph_num_planned_nodes(g), 1);
  nncl_node_info info;
  cr_assert_eq(nncl_graph_planned_node(g, 0, &info), NNCL_OK);
  cr_assert_str_eq(info.op_type, "nncl.SelftestAdd");
  nncl_array out;
  cr_assert_eq(nncl_graph_get_output(g, 0, &out), NNCL_OK);
  for (int i = 0; i < 8; i++)
    cr_assert_float_eq(((float *)out.data)[i],
                       ((float *)x.data)[i] + (((float *)c1.data)[i] + ((float *)c2.data)[i]),
                       1e-6);
  nncl_array_free(&out);
  nncl_array_free(&x);
  nncl_array_free(&c1);
  nncl_array_free(&c2);
  nncl_graph_destroy(g);
}

Test(graph, unsupported_ops_are_listed_together) {
  nncl_graph *g = new_graph();
  nncl_shape s = {.rank = 1, .dims = {8}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  const char *in[] = {"x"};
  const char *o1[] = {"a"}, *o2[] = {"b"}, *o3[] = {"c"};
  cr_assert_eq(nncl_graph_add_node(g, "FancyOp", "first_fancy", 1, in, 1, o1, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_add_node(g, "FancyOp", "second_fancy", 1, o1, 1, o2, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_add_node(g, "com.acme::Other", "other", 1, o2, 1, o3, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "c"), NNCL_OK);
  nncl_array x = TU_RAND(1, 8);
  set(g, "x", &x);
  cr_assert_eq(nncl_graph_run(g), NNCL_ERR_UNSUPPORTED);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "2 unsupported op types") && strstr(msg, "FancyOp") &&
                strstr(msg, "first_fancy") && !strstr(msg, "second_fancy") &&
                strstr(msg, "com.acme::Other") && strstr(msg, "opset 17"),
            "%s", msg);
  nncl_array_free(&x);
  nncl_graph_destroy(g);
}

Test(graph, structural_errors_are_named) {
  nncl_graph *g = new_graph();
  nncl_shape s = {.rank = 1, .dims = {8}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_ERR_INVALID_ARGUMENT);
  add(g, "x", "ghost", "out");
  const char *in[] = {"x", "x"}, *out[] = {"out"};
  cr_assert_eq(nncl_graph_add_node(g, "nncl.SelftestAdd", "dup", 2, in, 1, out, NULL),
               NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "already produced"));
  cr_assert_eq(nncl_graph_add_output(g, "out"), NNCL_OK);
  /* input not set */
  cr_assert_eq(nncl_graph_run(g), NNCL_ERR_STATE);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "'x'"));
  nncl_array x = TU_RAND(1, 8), bad = TU_RAND(1, 2, 4), i64 = TU_I64(1, 2, 3, 4, 5, 6, 7, 8);
  cr_assert_eq(nncl_graph_set_input(g, "x", &bad), NNCL_ERR_SHAPE);
  cr_assert_eq(nncl_graph_set_input(g, "x", &i64), NNCL_ERR_DTYPE);
  cr_assert_eq(nncl_graph_set_input(g, "nope", &x), NNCL_ERR_NOT_FOUND);
  set(g, "x", &x);
  cr_assert_eq(nncl_graph_run(g), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "ghost"), "%s",
            nncl_context_last_error(tu_ctx()));
  nncl_array_free(&x);
  nncl_array_free(&bad);
  nncl_array_free(&i64);
  nncl_graph_destroy(g);
}

/* A shape contradicting a fixed declared dim is refused before anything is planned, naming the
   input, the axis, what was declared and what came; unknown (symbolic) dims take any size. */
Test(graph, input_shape_must_match_fixed_dims) {
  nncl_graph *g = new_graph();
  nncl_shape s = {.rank = 3, .dims = {-1, 3, 4}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  add(g, "x", "x", "out");
  cr_assert_eq(nncl_graph_add_output(g, "out"), NNCL_OK);
  nncl_array wrong = TU_RAND(1, 2, 3, 5), both = TU_RAND(2, 1, 2, 5), ok = TU_RAND(3, 7, 3, 4);
  cr_assert_eq(nncl_graph_set_input(g, "x", &wrong), NNCL_ERR_SHAPE);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "'x'") && strstr(msg, "axis 2: got 5, expected 4") &&
                !strstr(msg, "axis 0"),
            "%s", msg);
  cr_assert_eq(nncl_graph_set_input(g, "x", &both), NNCL_ERR_SHAPE);
  msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "axis 1: got 2, expected 3") && strstr(msg, "axis 2: got 5, expected 4"),
            "%s", msg);
  /* the unknown batch dim takes 7; the graph runs and doubles x */
  set(g, "x", &ok);
  run(g);
  nncl_array out;
  cr_assert_eq(nncl_graph_get_output(g, 0, &out), NNCL_OK);
  cr_assert_eq(out.shape.dims[0], 7);
  for (int i = 0; i < 7 * 3 * 4; i++)
    cr_assert_float_eq(((float *)out.data)[i], 2 * ((float *)ok.data)[i], 1e-6);
  nncl_array_free(&out);
  nncl_array_free(&wrong);
  nncl_array_free(&both);
  nncl_array_free(&ok);
  nncl_graph_destroy(g);
}

Test(graph, nodes_out_of_order_are_sorted) {
  nncl_graph *g = new_graph();
  nncl_shape s = {.rank = 1, .dims = {16}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  add(g, "b", "a", "out"); /* added before its inputs' producers */
  add(g, "a", "x", "b");
  add(g, "x", "x", "a");
  cr_assert_eq(nncl_graph_add_output(g, "out"), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "x"), NNCL_OK); /* an input can also be an output */
  nncl_array x = TU_RAND(21, 16), out, xo;
  set(g, "x", &x);
  run(g);
  cr_assert_eq(nncl_graph_get_output(g, 0, &out), NNCL_OK);
  cr_assert_eq(nncl_graph_get_output(g, 1, &xo), NNCL_OK);
  for (int i = 0; i < 16; i++) {
    float v = ((float *)x.data)[i];
    cr_assert_float_eq(((float *)out.data)[i], 5 * v, 1e-5);
    cr_assert_eq(((float *)xo.data)[i], v);
  }
  nncl_array_free(&out);
  nncl_array_free(&xo);
  nncl_array_free(&x);
  nncl_graph_destroy(g);
}

/* A graph stamped with an opset newer than nncl implements is refused with the range it does
   implement (opset 999 used to plan and run without a word); the same graph at 17 runs. */
Test(graph, opset_beyond_the_implemented_range_is_named) {
  nncl_graph *g = diamond();
  nncl_graph_set_opset(g, 999);
  nncl_array x = TU_RAND(1, 2, 5), y = TU_RAND(2, 2, 5);
  set(g, "x", &x);
  set(g, "y", &y);
  cr_assert_eq(nncl_graph_run(g), NNCL_ERR_UNSUPPORTED);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "opset 999") && strstr(msg, "opsets 1..17"), "%s", msg);
  nncl_graph_set_opset(g, 17);
  run(g);
  check_diamond(g, &x, &y);
  nncl_array_free(&x);
  nncl_array_free(&y);
  nncl_graph_destroy(g);
}
