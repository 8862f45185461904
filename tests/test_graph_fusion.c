/* test_graph_fusion.c: the rewriting passes on real ops. A ResNet-style net (residual blocks of
   Conv -> BatchNorm -> Relu -> Conv -> BatchNorm -> Add(skip) -> Relu, then a Gemm -> BatchNorm ->
   Relu head) must fold and fuse to one launch per conv and one for the head, give the same numbers
   as the unfused graph, and need an arena at most half the sum of its intermediates. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/graph.h"
#include "test_util.h"

#define C 8
#define HW 9

static void bn_constants(nncl_graph *g, const char *prefix, int ch, uint32_t seed) {
  const char *names[] = {"scale", "bias", "mean", "var"};
  for (int i = 0; i < 4; i++) {
    nncl_array a = TU_RAND(seed + (uint32_t)i, ch);
    if (i == 0 || i == 3)
      for (int k = 0; k < ch; k++) ((float *)a.data)[k] = 0.5f + fabsf(((float *)a.data)[k]);
    char n[64];
    snprintf(n, sizeof n, "%s.%s", prefix, names[i]);
    cr_assert_eq(nncl_graph_add_constant_move(g, n, &a), NNCL_OK);
  }
}

static void bn(nncl_graph *g, const char *prefix, const char *in, const char *out) {
  char s[64], b[64], m[64], v[64];
  snprintf(s, sizeof s, "%s.scale", prefix);
  snprintf(b, sizeof b, "%s.bias", prefix);
  snprintf(m, sizeof m, "%s.mean", prefix);
  snprintf(v, sizeof v, "%s.var", prefix);
  const char *ins[] = {in, s, b, m, v};
  nncl_node *n;
  cr_assert_eq(nncl_graph_add_node(g, "BatchNormalization", prefix, 5, ins, 1, &out, &n), NNCL_OK);
  cr_assert_eq(nncl_node_set_float(g, n, "epsilon", 1e-3f), NNCL_OK);
}

/* One residual block: conv -> BN -> relu -> conv -> BN -> add(in) -> relu. */
static void add_block(nncl_graph *g, int b, const char *in, const char *out) {
  char n[16][64];
  for (int i = 0; i < 16; i++) snprintf(n[i], sizeof n[i], "b%d.%d", b, i);
  nncl_array w1 = TU_RAND(101 + 10 * (uint32_t)b, C, C, 3, 3),
             w2 = TU_RAND(102 + 10 * (uint32_t)b, C, C, 3, 3),
             b1 = TU_RAND(103 + 10 * (uint32_t)b, C);
  for (int i = 0; i < C * C * 9; i++) {
    ((float *)w1.data)[i] *= 0.3f;
    ((float *)w2.data)[i] *= 0.3f;
  }
  cr_assert_eq(nncl_graph_conv2d(g, n[0], in, n[1], &w1, &b1, 1, 1, 1, 1), NNCL_OK);
  bn_constants(g, n[2], C, 200 + 10 * (uint32_t)b);
  bn(g, n[2], n[1], n[3]);
  cr_assert_eq(nncl_graph_activation(g, n[4], "Relu", n[3], n[5]), NNCL_OK);
  cr_assert_eq(nncl_graph_conv2d(g, n[6], n[5], n[7], &w2, NULL, 1, 1, 1, 1), NNCL_OK);
  bn_constants(g, n[8], C, 300 + 10 * (uint32_t)b);
  bn(g, n[8], n[7], n[9]);
  const char *add_in[] = {n[9], in}, *add_out = n[10];
  cr_assert_eq(nncl_graph_add_node(g, "Add", n[11], 2, add_in, 1, &add_out, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_activation(g, n[12], "Relu", n[10], out), NNCL_OK);
  nncl_array_free(&w1);
  nncl_array_free(&w2);
  nncl_array_free(&b1);
}

#define BLOCKS 6

static nncl_graph *block(void) {
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  nncl_shape s = {.rank = 4, .dims = {2, C, HW, HW}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  char prev[32] = "x", cur[32];
  for (int b = 0; b < BLOCKS; b++) {
    snprintf(cur, sizeof cur, "block%d", b);
    add_block(g, b, prev, cur);
    strcpy(prev, cur);
  }
  /* head: flatten -> dense -> BN -> relu */
  const char *fl_in = prev, *fl_out = "flat";
  cr_assert_eq(nncl_graph_add_node(g, "Flatten", "flatten", 1, &fl_in, 1, &fl_out, NULL), NNCL_OK);
  nncl_array wd = TU_RAND(104, 10, C * HW * HW), bd = TU_RAND(105, 10);
  cr_assert_eq(nncl_graph_dense(g, "fc", "flat", "d", &wd, &bd), NNCL_OK);
  bn_constants(g, "bn3", 10, 400);
  bn(g, "bn3", "d", "n3");
  cr_assert_eq(nncl_graph_activation(g, "relu3", "Relu", "n3", "y"), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  nncl_array_free(&wd);
  nncl_array_free(&bd);
  return g;
}

static nncl_array run_block(int fuse, nncl_graph_summary *sum) {
  nncl_graph *g = block();
  cr_assert_eq(nncl_graph_set_option(g, "graph.fusion", fuse ? "1" : "0"), NNCL_OK);
  nncl_array x = TU_RAND(7, 2, C, HW, HW), y;
  cr_assert_eq(nncl_graph_set_input(g, "x", &x), NNCL_OK);
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_graph_get_output(g, 0, &y), NNCL_OK);
  cr_assert_eq(nncl_graph_summarize(g, sum), NNCL_OK);
  nncl_array_free(&x);
  nncl_graph_destroy(g);
  return y;
}

Test(fusion, resnet_block_folds_fuses_and_matches_unfused) {
  nncl_graph_summary fused, plain;
  nncl_array a = run_block(1, &fused), b = run_block(0, &plain);
  cr_assert_eq(a.shape.rank, 2);
  cr_assert_eq(a.shape.dims[1], 10);
  /* per block conv1+bn+relu, conv2+bn+add+relu; then fc+bn+relu; Flatten is a view */
  cr_assert_eq(fused.n_kernel_nodes, 2 * BLOCKS + 1, "kernel nodes %d", fused.n_kernel_nodes);
  cr_assert_eq(fused.n_fused, 5 * BLOCKS + 2, "fused %d", fused.n_fused);
  cr_assert_gt(plain.n_kernel_nodes, fused.n_kernel_nodes);
  tu_assert_close((float *)a.data, (float *)b.data, 20, 1e-4, 1e-5, "fused vs unfused");
  cr_assert_leq(fused.arena_bytes * 2, fused.intermediates_bytes + 0ull,
                "arena %llu vs intermediates %llu", (unsigned long long)fused.arena_bytes,
                (unsigned long long)fused.intermediates_bytes);
  nncl_array_free(&a);
  nncl_array_free(&b);
}
