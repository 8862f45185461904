/* test_attention_pass.c: the attention fusion pass (lib/graph/pass_attention.c) on graphs built
   the way PyTorch exports attention: MatMul(Q, Transpose(K)) or a K that is already transposed,
   scalar Mul/Div scales on the scores, Q or K^T, an optional additive mask, Softmax over the last
   axis, MatMul with V; rank 2, 3 and 4 (multi-head). Each graph is run fused and with
   NNCL_NO_FUSION=1: the fused plan must hold one nncl.Attention node and the expected number of
   kernel nodes, and both must agree within rtol 1e-4, atol 1e-5. Chains whose intermediates are
   read elsewhere must stay unfused. */
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

static void input(nncl_graph *g, const char *name, int rank, const int64_t *dims) {
  nncl_shape s = {.rank = rank};
  for (int i = 0; i < rank; i++) s.dims[i] = dims[i];
  cr_assert_eq(nncl_graph_add_input(g, name, NNCL_FLOAT32, &s), NNCL_OK);
}
#define INPUT(g, name, ...)                                                                        \
  input((g), (name), (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),                    \
        (int64_t[]){__VA_ARGS__})

static void scalar(nncl_graph *g, const char *name, float v) {
  nncl_array a;
  nncl_shape s = {.rank = 0};
  cr_assert_eq(nncl_array_alloc(&a, NNCL_FLOAT32, &s), NNCL_OK);
  *(float *)a.data = v;
  cr_assert_eq(nncl_graph_add_constant_move(g, name, &a), NNCL_OK);
}

static void constant(nncl_graph *g, const char *name, nncl_array a) {
  cr_assert_eq(nncl_graph_add_constant_move(g, name, &a), NNCL_OK);
}

static nncl_node *node(nncl_graph *g, const char *op, const char *a, const char *b,
                       const char *out) {
  const char *in[] = {a, b};
  nncl_node *n;
  cr_assert_eq(nncl_graph_add_node(g, op, out, b ? 2 : 1, in, 1, &out, &n), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  return n;
}

static void transpose(nncl_graph *g, const char *in, const char *out, int rank,
                      const int64_t *perm) {
  cr_assert_eq(nncl_node_set_ints(g, node(g, "Transpose", in, NULL, out), "perm", perm, rank),
               NNCL_OK);
}
#define TRANSPOSE(g, in, out, ...)                                                                 \
  transpose((g), (in), (out), (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),           \
            (int64_t[]){__VA_ARGS__})

static void softmax(nncl_graph *g, const char *in, const char *out, int64_t axis) {
  cr_assert_eq(nncl_node_set_int(g, node(g, "Softmax", in, NULL, out), "axis", axis), NNCL_OK);
}

/* Mask values: mostly small negatives, some keys switched off with -1e4 (never a whole row). */
static nncl_array mask(uint32_t seed, int rank, const int64_t *dims) {
  nncl_array m = tu_rand(seed, rank, dims);
  float *x = m.data;
  int64_t n = nncl_shape_numel(&m.shape), lk = dims[rank - 1];
  for (int64_t i = 0; i < n; i++)
    if (i % lk != 0 && (i * 7) % 5 == 0) x[i] = -1e4f;
  return m;
}
#define MASK(seed, ...)                                                                            \
  mask((seed), (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__})

/* ---- the graphs ---- */

/* Rank 3: Q [2,5,8] . Transpose(K [2,7,8]) / sqrt(8) + mask [5,7], V [2,7,6]. The Transpose only
   swaps the last two axes, so the whole chain becomes one launch. */
static nncl_graph *g_rank3_mask(void) {
  nncl_graph *g = new_graph();
  INPUT(g, "q", 2, 5, 8);
  INPUT(g, "k", 2, 7, 8);
  INPUT(g, "v", 2, 7, 6);
  INPUT(g, "mask", 5, 7);
  scalar(g, "sqrt_d", sqrtf(8.0f));
  TRANSPOSE(g, "k", "kt", 0, 2, 1);
  node(g, "MatMul", "q", "kt", "s");
  node(g, "Div", "s", "sqrt_d", "s2");
  node(g, "Add", "s2", "mask", "s3");
  softmax(g, "s3", "p", -1);
  node(g, "MatMul", "p", "v", "y");
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  return g;
}

/* nn.MultiheadAttention (PyTorch 1.13) style: Q scaled before the product (Mul(c, q)), K as
   [Lk, B*H, D] made [B*H, D, Lk] by Transpose(1, 2, 0), mask (on the left of the Add) after a
   Mul by 1. The Transpose becomes Transpose(1, 0, 2), which the fused node reads through strides
   (nncl.seq_first), so no copy of K is left. */
static nncl_graph *g_mha_rank3(void) {
  nncl_graph *g = new_graph();
  INPUT(g, "q", 6, 5, 8);
  INPUT(g, "k", 9, 6, 8);
  INPUT(g, "v", 6, 9, 8);
  INPUT(g, "mask", 6, 1, 9);
  scalar(g, "c", 0.35f);
  scalar(g, "one", 1.0f);
  node(g, "Mul", "c", "q", "qs");
  TRANSPOSE(g, "k", "kt", 1, 2, 0);
  node(g, "MatMul", "qs", "kt", "s");
  node(g, "Mul", "s", "one", "s2");
  node(g, "Add", "mask", "s2", "s3");
  softmax(g, "s3", "p", -1);
  node(g, "MatMul", "p", "v", "y");
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  return g;
}

/* nn.MultiheadAttention's whole rank-3 export (PyTorch 1.13, sequence first): x [L 6, B 2, 16],
   projections, Reshape to [6, 8 (B * 4 heads), 4], Transpose(1, 0, 2) for Q and V and (1, 2, 0)
   for K, Div on Q, Softmax, . V, Transpose(1, 0, 2) back and Reshape [12, 16]. Every Transpose
   becomes a stride of the fused node (nncl.seq_first): 3 projections and 1 attention. With
   `shared`, Q's heads are also a graph output, so their Transpose stays. */
static nncl_graph *mha_heads(int shared) {
  nncl_graph *g = new_graph();
  INPUT(g, "x", 6, 2, 16);
  const char *w[] = {"wq", "wk", "wv"}, *proj[] = {"xq", "xk", "xv"}, *heads[] = {"hq", "hk", "hv"};
  for (int i = 0; i < 3; i++) {
    nncl_array a = TU_RAND(50 + (uint32_t)i, 16, 16);
    for (int j = 0; j < 256; j++) ((float *)a.data)[j] *= 0.5f;
    constant(g, w[i], a);
    node(g, "MatMul", "x", w[i], proj[i]);
    node(g, "Reshape", proj[i], "heads_shape", heads[i]);
  }
  constant(g, "heads_shape", TU_I64(6, 8, 4));
  constant(g, "merged_shape", TU_I64(12, 16));
  scalar(g, "two", 2.0f);
  TRANSPOSE(g, "hq", "q", 1, 0, 2);
  TRANSPOSE(g, "hk", "kt", 1, 2, 0);
  TRANSPOSE(g, "hv", "v", 1, 0, 2);
  node(g, "Div", "q", "two", "qs");
  node(g, "MatMul", "qs", "kt", "s");
  softmax(g, "s", "p", -1);
  node(g, "MatMul", "p", "v", "o");
  TRANSPOSE(g, "o", "om", 1, 0, 2);
  node(g, "Reshape", "om", "merged_shape", "y");
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  if (shared) cr_assert_eq(nncl_graph_add_output(g, "q"), NNCL_OK);
  return g;
}
static nncl_graph *g_mha_heads(void) { return mha_heads(0); }
static nncl_graph *g_mha_heads_shared_q(void) { return mha_heads(1); }

/* Multi-head self-attention on x [2,6,16], 4 heads of 4: projections, Reshape to heads,
   Transpose(0,2,1,3) for Q and V and Transpose(0,2,3,1) for K (already transposed), scores * 0.5 +
   key padding mask [2,1,1,6], Softmax(axis 3), . V, heads merged back. */
static nncl_graph *g_mha_rank4(void) {
  nncl_graph *g = new_graph();
  INPUT(g, "x", 2, 6, 16);
  INPUT(g, "mask", 2, 1, 1, 6);
  const char *w[] = {"wq", "wk", "wv"}, *proj[] = {"xq", "xk", "xv"}, *heads[] = {"hq", "hk", "hv"};
  for (int i = 0; i < 3; i++) {
    nncl_array a = TU_RAND(40 + (uint32_t)i, 16, 16);
    for (int j = 0; j < 256; j++) ((float *)a.data)[j] *= 0.5f;
    constant(g, w[i], a);
    node(g, "MatMul", "x", w[i], proj[i]);
    node(g, "Reshape", proj[i], "heads_shape", heads[i]);
  }
  constant(g, "heads_shape", TU_I64(2, 6, 4, 4));
  constant(g, "merged_shape", TU_I64(2, 6, 16));
  scalar(g, "half", 0.5f);
  TRANSPOSE(g, "hq", "q", 0, 2, 1, 3);
  TRANSPOSE(g, "hk", "kt", 0, 2, 3, 1);
  TRANSPOSE(g, "hv", "v", 0, 2, 1, 3);
  node(g, "MatMul", "q", "kt", "s");
  node(g, "Mul", "s", "half", "s2");
  node(g, "Add", "s2", "mask", "s3");
  softmax(g, "s3", "p", 3);
  node(g, "MatMul", "p", "v", "o");
  TRANSPOSE(g, "o", "om", 0, 2, 1, 3);
  node(g, "Reshape", "om", "merged_shape", "y");
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  return g;
}

/* scaled_dot_product_attention export style: sqrt(scale) on Q and on K^T, K^T [2,3,8,5] a graph
   input (no Transpose to undo: the pass adds one), no mask. */
static nncl_graph *g_sdpa_rank4(void) {
  nncl_graph *g = new_graph();
  INPUT(g, "q", 2, 3, 4, 8);
  INPUT(g, "kt", 2, 3, 8, 5);
  INPUT(g, "v", 2, 3, 5, 8);
  scalar(g, "sq", 0.6f);
  scalar(g, "sk", 0.6f);
  node(g, "Mul", "q", "sq", "qs");
  node(g, "Mul", "kt", "sk", "ks");
  node(g, "MatMul", "qs", "ks", "s");
  softmax(g, "s", "p", -1);
  node(g, "MatMul", "p", "v", "y");
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  return g;
}

/* Rank 2 attention over learned keys: K^T [8,11] and V [11,6] are constants, Div by 4. K is made
   once at plan time. */
static nncl_graph *g_rank2_const_keys(void) {
  nncl_graph *g = new_graph();
  INPUT(g, "q", 5, 8);
  constant(g, "kt", TU_RAND(60, 8, 11));
  constant(g, "v", TU_RAND(61, 11, 6));
  scalar(g, "four", 4.0f);
  node(g, "MatMul", "q", "kt", "s");
  node(g, "Div", "s", "four", "s2");
  softmax(g, "s2", "p", 1);
  node(g, "MatMul", "p", "v", "y");
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  return g;
}

/* The attention weights are a graph output too (need_weights=True): nothing may be fused. */
static nncl_graph *g_weights_output(void) {
  nncl_graph *g = g_rank3_mask();
  cr_assert_eq(nncl_graph_add_output(g, "p"), NNCL_OK);
  return g;
}

/* A scale between the mask Add and the Softmax would scale the mask too: not fused. */
static nncl_graph *g_scale_after_mask(void) {
  nncl_graph *g = new_graph();
  INPUT(g, "q", 2, 5, 8);
  INPUT(g, "k", 2, 7, 8);
  INPUT(g, "v", 2, 7, 6);
  INPUT(g, "mask", 5, 7);
  scalar(g, "c", 0.3f);
  TRANSPOSE(g, "k", "kt", 0, 2, 1);
  node(g, "MatMul", "q", "kt", "s");
  node(g, "Add", "s", "mask", "s2");
  node(g, "Mul", "s2", "c", "s3");
  softmax(g, "s3", "p", -1);
  node(g, "MatMul", "p", "v", "y");
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  return g;
}

/* ---- running ---- */

struct result {
  nncl_array y[2];
  int n_out;
  nncl_graph_summary sum;
  int n_attention;
  char fused[64];
};

static void set_inputs(nncl_graph *g) {
  for (int i = 0; i < nncl_graph_num_inputs(g); i++) {
    const char *name = nncl_graph_input_name(g, i);
    nncl_dtype dt;
    nncl_shape s;
    cr_assert_eq(nncl_graph_input_info(g, i, &dt, &s), NNCL_OK);
    nncl_array a = strcmp(name, "mask") == 0 ? mask(90 + (uint32_t)i, s.rank, s.dims)
                                             : tu_rand(80 + (uint32_t)i, s.rank, s.dims);
    cr_assert_eq(nncl_graph_set_input(g, name, &a), NNCL_OK);
    nncl_array_free(&a);
  }
}

static struct result run(nncl_graph *(*make)(void), int fuse) {
  struct result r;
  memset(&r, 0, sizeof r);
  nncl_graph *g = make();
  cr_assert_eq(nncl_graph_set_option(g, "graph.fusion", fuse ? "1" : "0"), NNCL_OK);
  /* the counts are this pass's: leftover element-wise nodes stay unmerged */
  cr_assert_eq(nncl_graph_set_option(g, "graph.fuse_elementwise", "0"), NNCL_OK);
  set_inputs(g);
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  r.n_out = nncl_graph_num_outputs(g);
  for (int i = 0; i < r.n_out; i++) cr_assert_eq(nncl_graph_get_output(g, i, &r.y[i]), NNCL_OK);
  cr_assert_eq(nncl_graph_summarize(g, &r.sum), NNCL_OK);
  for (int i = 0; i < nncl_graph_num_planned_nodes(g); i++) {
    nncl_node_info info;
    cr_assert_eq(nncl_graph_planned_node(g, i, &info), NNCL_OK);
    if (strcmp(info.op_type, "nncl.Attention") == 0) {
      r.n_attention++;
      snprintf(r.fused, sizeof r.fused, "%s", info.fused);
    }
  }
  nncl_graph_destroy(g);
  return r;
}

/* Runs make() fused and unfused; checks the attention count, the fused kernel count and the
   numbers. */
static void check(const char *what, nncl_graph *(*make)(void), int want_attention,
                  int want_kernels) {
  struct result f = run(make, 1), u = run(make, 0);
  cr_assert_eq(u.n_attention, 0, "%s: unfused plan has nncl.Attention", what);
  cr_assert_eq(f.n_attention, want_attention, "%s: %d nncl.Attention nodes, expected %d", what,
               f.n_attention, want_attention);
  cr_assert_eq(f.sum.n_kernel_nodes, want_kernels,
               "%s: %d kernel nodes fused, expected %d (%d unfused)", what, f.sum.n_kernel_nodes,
               want_kernels, u.sum.n_kernel_nodes);
  if (want_attention) {
    cr_assert_lt(f.sum.n_kernel_nodes, u.sum.n_kernel_nodes, "%s", what);
    cr_assert(strstr(f.fused, "Softmax") != NULL, "%s: fused note '%s'", what, f.fused);
  } else {
    cr_assert_eq(f.sum.n_kernel_nodes, u.sum.n_kernel_nodes, "%s", what);
  }
  cr_assert_eq(f.n_out, u.n_out);
  for (int i = 0; i < f.n_out; i++) {
    size_t n = (size_t)nncl_shape_numel(&u.y[i].shape);
    cr_assert_eq((size_t)nncl_shape_numel(&f.y[i].shape), n, "%s: output sizes differ", what);
    tu_assert_close((float *)f.y[i].data, (float *)u.y[i].data, n, 1e-4, 1e-5, what);
    cr_log_info("%s (%s): %d -> %d kernel nodes, max rel error %.2e", what, f.fused,
                u.sum.n_kernel_nodes, f.sum.n_kernel_nodes,
                tu_max_rel_error(f.y[i].data, u.y[i].data, n));
    nncl_array_free(&f.y[i]);
    nncl_array_free(&u.y[i]);
  }
}

Test(attention_pass, rank3_transpose_div_mask) {
  check("rank 3, Transpose(0,2,1), Div, mask", g_rank3_mask, 1, 1);
}

Test(attention_pass, multihead_attention_rank3_export) {
  check("rank 3, Mul on Q, Transpose(1,2,0), Mul 1, mask on the left", g_mha_rank3, 1, 1);
}

Test(attention_pass, multihead_attention_head_transposes_become_strides) {
  check("rank 3 heads, Transposes around Q, K, V and the output", g_mha_heads, 1, 4);
  check("rank 3 heads, Q's Transpose also a graph output", g_mha_heads_shared_q, 1, 5);
}

Test(attention_pass, multihead_rank4_with_mask) {
  /* 3 projections, 3 head transposes (K's rewritten), attention, merge transpose */
  check("rank 4 heads, K Transpose(0,2,3,1), Mul, padding mask", g_mha_rank4, 1, 8);
}

Test(attention_pass, sdpa_scales_on_q_and_k) {
  check("rank 4, sqrt scales on Q and K^T, no mask", g_sdpa_rank4, 1, 2);
}

Test(attention_pass, rank2_constant_keys) {
  check("rank 2, constant K^T and V", g_rank2_const_keys, 1, 1);
}

Test(attention_pass, shared_intermediates_stay_unfused) {
  check("weights also a graph output", g_weights_output, 0, 6);
  check("scale after the mask", g_scale_after_mask, 0, 6);
}
