/* test_options.c: the options table through the C API: errors for unknown keys and bad values,
   boolean spellings, environment defaults at context creation, a graph's option overriding its
   context's, and every forced algorithm reaching the op that reads it. */
#include <stdlib.h>
#include <string.h>

#include "nncl/graph.h"
#include "test_util.h"

/* Asserts that msg names every key of the table. */
static void assert_lists_keys(const char *msg) {
  for (int i = 0; i < nncl_option_count(); i++)
    cr_assert(strstr(msg, nncl_option_get(i)->key), "'%s' does not list %s", msg,
              nncl_option_get(i)->key);
}

Test(options, table_is_well_formed) {
  cr_assert_gt(nncl_option_count(), 0);
  cr_assert_null(nncl_option_get(nncl_option_count()));
  cr_assert_null(nncl_option_get(-1));
  for (int i = 0; i < nncl_option_count(); i++) {
    const nncl_option_info *o = nncl_option_get(i);
    cr_assert(o->key && strchr(o->key, '.'), "option %d key", i);
    cr_assert(o->doc && *o->doc, "%s has no doc", o->key);
    cr_assert(o->values[0] && o->values[1], "%s allows fewer than two values", o->key);
    if (o->type == NNCL_OPTION_BOOL)
      cr_assert(!o->values[2] && (!strcmp(o->values[0], "0") || !strcmp(o->values[0], "1")),
                "boolean %s takes 0 and 1 only", o->key);
    for (int j = 0; j < i; j++) cr_assert_str_neq(o->key, nncl_option_get(j)->key);
    /* a fresh context holds the default unless the environment set one */
    const char *v = NULL;
    cr_assert_eq(nncl_context_get_option(tu_ctx(), o->key, &v), NNCL_OK);
    if (!o->env || !getenv(o->env) || !*getenv(o->env)) cr_assert_str_eq(v, o->values[0]);
  }
}

Test(options, unknown_key_lists_the_keys) {
  nncl_context *ctx = tu_ctx();
  cr_assert_eq(nncl_context_set_option(ctx, "conv.algorithm", "direct"), NNCL_ERR_INVALID_ARGUMENT);
  const char *msg = nncl_context_last_error(ctx);
  cr_assert(strstr(msg, "unknown option 'conv.algorithm'"), "%s", msg);
  assert_lists_keys(msg);
  const char *v = "unchanged";
  cr_assert_eq(nncl_context_get_option(ctx, "no.such", &v), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert_str_eq(v, "unchanged");
  assert_lists_keys(nncl_context_last_error(ctx));
  cr_assert_eq(nncl_context_set_option(ctx, NULL, "1"), NNCL_ERR_INVALID_ARGUMENT);
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(ctx, &g), NNCL_OK);
  cr_assert_eq(nncl_graph_set_option(g, "graph.fuse", "0"), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(ctx), "unknown option 'graph.fuse'"));
  assert_lists_keys(nncl_context_last_error(ctx));
  cr_assert_eq(nncl_graph_get_option(g, "graph.fuse", &v), NNCL_ERR_INVALID_ARGUMENT);
  nncl_graph_destroy(g);
}

Test(options, bad_value_lists_the_allowed_values) {
  nncl_context *ctx = tu_ctx();
  cr_assert_eq(nncl_context_set_option(ctx, "conv.algo", "fastest"), NNCL_ERR_INVALID_ARGUMENT);
  const char *msg = nncl_context_last_error(ctx);
  cr_assert(strstr(msg, "conv.algo") && strstr(msg, "'fastest'"), "%s", msg);
  cr_assert(strstr(msg, "auto|direct|winograd2|winograd4|gemm|im2col|depthwise"), "%s", msg);
  cr_assert_eq(nncl_context_set_option(ctx, "graph.fusion", "2"), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(ctx), "graph.fusion") &&
            strstr(nncl_context_last_error(ctx), "1|0"));
  /* a failed set leaves the value alone */
  const char *v;
  cr_assert_eq(nncl_context_get_option(ctx, "conv.algo", &v), NNCL_OK);
  cr_assert_str_eq(v, "auto");
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(ctx, &g), NNCL_OK);
  cr_assert_eq(nncl_graph_set_option(g, "pool.algo", "Rows"), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(ctx), "auto|direct|rows"), "%s",
            nncl_context_last_error(ctx));
  nncl_graph_destroy(g);
}

Test(options, booleans_take_common_spellings) {
  nncl_context *ctx = tu_ctx();
  const char *const off[] = {"0", "off", "false", "No"}, *const on[] = {"1", "on", "TRUE", "yes"};
  const char *v;
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(nncl_context_set_option(ctx, "graph.inplace", off[i]), NNCL_OK, "%s", off[i]);
    cr_assert_eq(nncl_context_get_option(ctx, "graph.inplace", &v), NNCL_OK);
    cr_assert_str_eq(v, "0", "%s", off[i]);
    cr_assert_eq(nncl_context_set_option(ctx, "graph.inplace", on[i]), NNCL_OK, "%s", on[i]);
    cr_assert_eq(nncl_context_get_option(ctx, "graph.inplace", &v), NNCL_OK);
    cr_assert_str_eq(v, "1", "%s", on[i]);
  }
  /* choices are not booleans: "on" is no conv.blas value */
  cr_assert_eq(nncl_context_set_option(ctx, "conv.blas", "on"), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert_eq(nncl_context_set_option(ctx, "graph.inplace", NULL), NNCL_OK);
}

Test(options, environment_gives_context_defaults) {
  setenv("NNCL_NO_FUSION", "1", 1); /* set to anything: the option's env_value, 0 */
  setenv("NNCL_CONV_ALGO", "im2col", 1);
  nncl_context *ctx;
  char msg[2048] = "";
  cr_assert_eq(nncl_context_create(NULL, &ctx, msg, sizeof msg), NNCL_OK, "%s", msg);
  const char *v;
  cr_assert_eq(nncl_context_get_option(ctx, "graph.fusion", &v), NNCL_OK);
  cr_assert_str_eq(v, "0");
  cr_assert_eq(nncl_context_get_option(ctx, "conv.algo", &v), NNCL_OK);
  cr_assert_str_eq(v, "im2col");
  /* the API overrides the environment; NULL goes back to the table's default, not the env's */
  cr_assert_eq(nncl_context_set_option(ctx, "conv.algo", "direct"), NNCL_OK);
  cr_assert_eq(nncl_context_get_option(ctx, "conv.algo", &v), NNCL_OK);
  cr_assert_str_eq(v, "direct");
  cr_assert_eq(nncl_context_set_option(ctx, "conv.algo", NULL), NNCL_OK);
  cr_assert_eq(nncl_context_get_option(ctx, "conv.algo", &v), NNCL_OK);
  cr_assert_str_eq(v, "auto");
  nncl_context_destroy(ctx);
  /* a value the option does not allow stops context creation, naming the variable */
  setenv("NNCL_CONV_ALGO", "fastest", 1);
  cr_assert_eq(nncl_context_create(NULL, &ctx, msg, sizeof msg), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert_null(ctx);
  cr_assert(strstr(msg, "NNCL_CONV_ALGO=fastest") && strstr(msg, "conv.algo") &&
                strstr(msg, "auto|direct"),
            "%s", msg);
  unsetenv("NNCL_CONV_ALGO");
  unsetenv("NNCL_NO_FUSION");
}

/* x -> Conv -> Relu -> y: fusion makes it one kernel node. */
static nncl_graph *conv_relu(nncl_context *ctx) {
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(ctx, &g), NNCL_OK);
  nncl_shape xs = {4, {1, 3, 8, 8}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &xs), NNCL_OK);
  nncl_array w = TU_RAND(2, 4, 3, 3, 3), b = TU_RAND(3, 4);
  cr_assert_eq(nncl_graph_conv2d(g, "conv", "x", "c", &w, &b, 1, 1, 1, 1), NNCL_OK);
  cr_assert_eq(nncl_graph_activation(g, "relu", "Relu", "c", "y"), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  nncl_array_free(&w);
  nncl_array_free(&b);
  nncl_array x = TU_RAND(1, 1, 3, 8, 8);
  cr_assert_eq(nncl_graph_set_input(g, "x", &x), NNCL_OK);
  nncl_array_free(&x);
  return g;
}

static int kernel_nodes(nncl_graph *g) {
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(nncl_graph_context(g)));
  nncl_graph_summary s;
  cr_assert_eq(nncl_graph_summarize(g, &s), NNCL_OK);
  return s.n_kernel_nodes;
}

Test(options, graph_option_overrides_context) {
  nncl_context *ctx = tu_ctx();
  tu_set_option("graph.fusion", "0");
  nncl_graph *follows = conv_relu(ctx), *own = conv_relu(ctx);
  cr_assert_eq(nncl_graph_set_option(own, "graph.fusion", "1"), NNCL_OK);
  const char *v;
  cr_assert_eq(nncl_graph_get_option(follows, "graph.fusion", &v), NNCL_OK);
  cr_assert_str_eq(v, "0");
  cr_assert_eq(nncl_graph_get_option(own, "graph.fusion", &v), NNCL_OK);
  cr_assert_str_eq(v, "1");
  cr_assert_eq(kernel_nodes(follows), 2, "unfused: conv and relu");
  cr_assert_eq(kernel_nodes(own), 1, "fused: conv+relu");
  /* setting a graph option plans again; NULL follows the context again */
  cr_assert_eq(nncl_graph_set_option(own, "graph.fusion", NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_get_option(own, "graph.fusion", &v), NNCL_OK);
  cr_assert_str_eq(v, "0");
  cr_assert_eq(kernel_nodes(own), 2);
  tu_set_option("graph.fusion", NULL);
  cr_assert_eq(nncl_graph_set_option(own, "graph.fusion", "0"), NNCL_OK);
  cr_assert_eq(kernel_nodes(own), 2, "graph's 0 over the context's 1");
  nncl_graph_destroy(follows);
  nncl_graph_destroy(own);
}

/* The algorithm a planned MaxPool node reports, with pool.algo set on the graph. */
static void graph_pool_algo(const char *graph_value, const char *want) {
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  nncl_shape xs = {4, {1, 2, 9, 9}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &xs), NNCL_OK);
  cr_assert_eq(nncl_graph_pool2d(g, "pool", "MaxPool", "x", "y", 2, 2, 0), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  cr_assert_eq(nncl_graph_set_option(g, "pool.algo", graph_value), NNCL_OK);
  cr_assert_eq(nncl_graph_plan(g), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  nncl_node_info info;
  cr_assert_eq(nncl_graph_num_planned_nodes(g), 1);
  cr_assert_eq(nncl_graph_planned_node(g, 0, &info), NNCL_OK);
  cr_assert_str_eq(info.algo, want, "graph pool.algo %s", graph_value ? graph_value : "(unset)");
  nncl_graph_destroy(g);
}

Test(options, graph_option_reaches_the_op) {
  tu_set_option("pool.algo", "rows");
  graph_pool_algo(NULL, "rows");
  graph_pool_algo("direct", "direct");
  tu_set_option("pool.algo", "direct");
  graph_pool_algo("rows", "rows");
  tu_set_option("pool.algo", NULL);
}

/* Every value the op tests force reaches its op: the algorithm that planned is the one asked
   for, so the strict tests that force it do check that path. */
Test(options, forced_algorithms_run) {
  const struct {
    const char *op, *key, *value, *algo;
    int opset, rank;
    int64_t dims[4];
    struct nncl__attr attr;
  } cases[] = {
      {"MaxPool",
       "pool.algo",
       "direct",
       "direct",
       12,
       4,
       {1, 2, 8, 8},
       A_INTS("kernel_shape", 2, 2)},
      {"MaxPool", "pool.algo", "rows", "rows", 12, 4, {1, 2, 8, 8}, A_INTS("kernel_shape", 2, 2)},
      {"Softmax",
       "softmax.algo",
       "softmax_rows",
       "softmax_rows",
       13,
       2,
       {6, 80},
       A_INT("axis", -1)},
      {"Softmax",
       "softmax.algo",
       "softmax_rows_item",
       "softmax_rows_item",
       13,
       2,
       {6, 80},
       A_INT("axis", -1)},
      {"ReduceSum", "reduce.algo", "reduce_rows", "reduce_rows", 11, 2, {5, 37}, A_INTS("axes", 1)},
      {"ReduceSum",
       "reduce.algo",
       "reduce_rows_item",
       "reduce_rows_item",
       11,
       2,
       {5, 37},
       A_INTS("axes", 1)},
      {"ReduceSum",
       "reduce.algo",
       "reduce_cols",
       "reduce_cols",
       11,
       2,
       {300, 70},
       A_INTS("axes", 0)},
      {"ReduceSum",
       "reduce.algo",
       "reduce_cols_span",
       "reduce_cols_span",
       11,
       2,
       {300, 70},
       A_INTS("axes", 0)},
      {"ArgMax",
       "reduce.algo",
       "reduce_rows",
       "reduce_arg_rows",
       13,
       2,
       {4, 500},
       A_INT("axis", 1)},
      {"ArgMax",
       "reduce.algo",
       "reduce_rows_item",
       "reduce_arg_rows_item",
       13,
       2,
       {4, 500},
       A_INT("axis", 1)},
      {"Transpose", "transpose.algo", "tiled", "tiled", 13, 2, {40, 24}, A_INTS("perm", 1, 0)},
      {"Transpose", "transpose.algo", "blocked", "blocked", 13, 2, {40, 24}, A_INTS("perm", 1, 0)},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    nncl_array x = tu_rand((uint32_t)i + 1, cases[i].rank, cases[i].dims);
    const nncl_array *in[] = {&x};
    tu_set_option(cases[i].key, cases[i].value);
    struct op_instance *oi;
    nncl_status st = op_instance_create(tu_ctx(), cases[i].op, cases[i].opset, &cases[i].attr, 1, 1,
                                        in, 1, NULL, NULL, &oi);
    tu_set_option(cases[i].key, NULL);
    cr_assert_eq(st, NNCL_OK, "%s: %s", cases[i].op, nncl_context_last_error(tu_ctx()));
    cr_assert_str_eq(op_instance_call(oi)->algo, cases[i].algo, "%s %s=%s", cases[i].op,
                     cases[i].key, cases[i].value);
    op_instance_destroy(oi);
    nncl_array_free(&x);
  }
  /* norm.algo: BatchNorm (5 inputs) and InstanceNorm (3), both values each */
  static const char *const norms[][4] = {{"BatchNormalization", "rows", "plane_per_item", "5"},
                                         {"BatchNormalization", "direct", "elementwise", "5"},
                                         {"InstanceNormalization", "rows", "row_per_item", "3"},
                                         {"InstanceNormalization", "direct", "wg_two_pass", "3"}};
  nncl_array nx = TU_RAND(4, 2, 3, 5, 5), np = TU_RAND(5, 3);
  for (int i = 0; i < 4; i++) {
    const nncl_array *in[] = {&nx, &np, &np, &np, &np}; /* only the planned algorithm is read */
    tu_set_option("norm.algo", norms[i][1]);
    struct op_instance *oi;
    nncl_status st = op_instance_create(tu_ctx(), norms[i][0], 15, NULL, 0, norms[i][3][0] - '0',
                                        in, 1, NULL, NULL, &oi);
    tu_set_option("norm.algo", NULL);
    cr_assert_eq(st, NNCL_OK, "%s: %s", norms[i][0], nncl_context_last_error(tu_ctx()));
    cr_assert_str_eq(op_instance_call(oi)->algo, norms[i][2], "%s norm.algo=%s", norms[i][0],
                     norms[i][1]);
    op_instance_destroy(oi);
  }
  nncl_array_free(&nx);
  nncl_array_free(&np);
  /* attention: both algorithms on one shape */
  static const char *const att[][2] = {{"fused", "fused_online_softmax"},
                                       {"gemm", "gemm_softmax_gemm"}};
  nncl_array q = TU_RAND(1, 1, 2, 8, 16), k = TU_RAND(2, 1, 2, 8, 16), v = TU_RAND(3, 1, 2, 8, 16);
  const nncl_array *qkv[] = {&q, &k, &v};
  for (int a = 0; a < 2; a++) {
    tu_set_option("attention.algo", att[a][0]);
    struct op_instance *oi;
    nncl_status st =
        op_instance_create(tu_ctx(), "nncl.Attention", 17, NULL, 0, 3, qkv, 1, NULL, NULL, &oi);
    tu_set_option("attention.algo", NULL);
    cr_assert_eq(st, NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
    cr_assert_str_eq(op_instance_call(oi)->algo, att[a][1]);
    op_instance_destroy(oi);
  }
  nncl_array_free(&q);
  nncl_array_free(&k);
  nncl_array_free(&v);
}
