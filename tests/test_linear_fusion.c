/* test_linear_fusion.c: a Linear layer's bias Add folded into the MatMul/Gemm before it
   (lib/graph/pass_fuse.c), with the activation and residual Add that follow, as PyTorch exports
   nn.Linear on a sequence: MatMul(x, W^T) -> Add(bias, .) [-> Add(., r)] [-> Relu]. The fused
   plan must be one kernel node whose fused list names the bias, and its output must match a
   double-precision naive reference within rtol 1e-5, atol 1e-5 (k = 24 float32 products summed:
   a few ulps of the largest partial sum, |x|,|w| <= 1), as must the unfused graph's. Patterns
   that must not fold (bias not a constant, a bias varying along another axis than the last, the
   product also read elsewhere, a Gemm that already has its C) keep the Add as its own node.
   Under graph.precision=fp16-storage the folded bias is read as half too: the reference then takes
   the operands rounded to half as the graph stores them, and the tolerance is two half roundings
   (the output's, and the unfused graph's product before its Add). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/graph.h"
#include "runtime.h"
#include "test_util.h"

#define B 2
#define S 5
#define K 24
#define N 20

enum bias_kind { BIAS_VEC, BIAS_VEC3, BIAS_INPUT, BIAS_ROWS, BIAS_NONE };

struct lin_case {
  const char *what;
  int gemm;              /* 2-D Gemm (transB) instead of a 3-D MatMul */
  int gemm_has_c;        /* the Gemm already adds its own C */
  enum bias_kind bias;   /* what the Add adds */
  int residual;          /* then Add(., r) with r of the output's shape */
  int relu;              /* then Relu */
  int product_output;    /* the product is a graph output too */
  int want_kernels;      /* with fusion on and the element-wise chain pass off */
  const char *want_fuse; /* substring of the product node's fused list, or NULL */
};

static void node(nncl_graph *g, const char *op, const char *name, int n_in, const char **in,
                 const char *out, nncl_node **n) {
  cr_assert_eq(nncl_graph_add_node(g, op, name, n_in, in, 1, &out, n), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
}

static void add_const(nncl_graph *g, const char *name, const nncl_array *a) {
  nncl_array c;
  cr_assert_eq(nncl_array_alloc(&c, a->dtype, &a->shape), NNCL_OK);
  memcpy(c.data, a->data, nncl_array_bytes(a));
  cr_assert_eq(nncl_graph_add_constant_move(g, name, &c), NNCL_OK);
}

/* rows of the product: B * S as [B, S, K] for MatMul, [B * S, K] for Gemm */
static nncl_graph *make(const struct lin_case *t, const nncl_array *w, const nncl_array *bias,
                        const nncl_array *c) {
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  nncl_graph_set_opset(g, 13);
  nncl_shape xs = t->gemm ? (nncl_shape){.rank = 2, .dims = {B * S, K}}
                          : (nncl_shape){.rank = 3, .dims = {B, S, K}};
  nncl_shape ys = t->gemm ? (nncl_shape){.rank = 2, .dims = {B * S, N}}
                          : (nncl_shape){.rank = 3, .dims = {B, S, N}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &xs), NNCL_OK);
  add_const(g, "w", w);
  if (t->gemm) {
    nncl_node *n;
    if (t->gemm_has_c) add_const(g, "c", c);
    node(g, "Gemm", "gemm", t->gemm_has_c ? 3 : 2, (const char *[]){"x", "w", "c"}, "p", &n);
    cr_assert_eq(nncl_node_set_int(g, n, "transB", 1), NNCL_OK);
  } else {
    node(g, "MatMul", "matmul", 2, (const char *[]){"x", "w"}, "p", NULL);
  }
  const char *cur = "p";
  if (t->bias != BIAS_NONE) {
    if (t->bias == BIAS_INPUT)
      cr_assert_eq(nncl_graph_add_input(g, "bias", NNCL_FLOAT32, &bias->shape), NNCL_OK);
    else
      add_const(g, "bias", bias);
    node(g, "Add", "add_bias", 2, (const char *[]){"bias", "p"}, "z", NULL); /* bias first */
    cur = "z";
  }
  if (t->residual) {
    cr_assert_eq(nncl_graph_add_input(g, "r", NNCL_FLOAT32, &ys), NNCL_OK);
    node(g, "Add", "add_res", 2, (const char *[]){cur, "r"}, "zr", NULL);
    cur = "zr";
  }
  if (t->relu) {
    node(g, "Relu", "relu", 1, (const char *[]){cur}, "y", NULL);
  } else {
    node(g, "Identity", "id", 1, (const char *[]){cur}, "y", NULL);
  }
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  if (t->product_output) cr_assert_eq(nncl_graph_add_output(g, "p"), NNCL_OK);
  return g;
}

/* y = relu?(x W^T [+ c] + bias [+ r]) in double; W is [N, K] (nn.Linear's layout; the MatMul
   graph reads its transpose, stored [K, N]). bias is [N], or [S, 1] for BIAS_ROWS. */
static void reference(const struct lin_case *t, const float *x, const float *w, const float *bias,
                      const float *c, const float *r, float *y) {
  for (int i = 0; i < B * S; i++)
    for (int j = 0; j < N; j++) {
      double acc = 0.0;
      for (int k = 0; k < K; k++) acc += (double)x[i * K + k] * w[j * K + k];
      if (t->gemm_has_c) acc += c[j];
      if (t->bias == BIAS_ROWS)
        acc += bias[i % S];
      else if (t->bias != BIAS_NONE)
        acc += bias[j];
      if (t->residual) acc += r[i * N + j];
      if (t->relu && acc < 0.0) acc = 0.0;
      y[i * N + j] = (float)acc;
    }
}

/* Every element of a rounded to the nearest float16 value, as half storage keeps it. */
static void round_half(nncl_array *a) {
  float *v = a->data;
  for (int64_t i = 0; i < nncl_shape_numel(&a->shape); i++)
    v[i] = nncl__half_to_float(nncl__half_from_float(v[i]));
}

/* half: run under graph.precision=fp16-storage */
static void run_case(const struct lin_case *t, int half) {
  const int64_t wd[2] = {N, K}, xd[3] = {B, S, K}, rd[3] = {B, S, N};
  nncl_array wn = tu_rand(71, 2, wd), x = tu_rand(72, 3, xd), r = tu_rand(73, 3, rd);
  nncl_array c = TU_RAND(74, N);
  nncl_array bias = t->bias == BIAS_ROWS   ? TU_RAND(75, S, 1)
                    : t->bias == BIAS_VEC3 ? TU_RAND(75, 1, 1, N)
                                           : TU_RAND(75, N);
  /* MatMul reads W^T [K, N]; Gemm reads W [N, K] with transB */
  if (half) {
    nncl_array *all[] = {&wn, &x, &r, &c, &bias};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) round_half(all[i]);
  }
  nncl_array wt = tu_zeros(NNCL_FLOAT32, 2, (int64_t[]){K, N});
  for (int j = 0; j < N; j++)
    for (int k = 0; k < K; k++) ((float *)wt.data)[k * N + j] = ((float *)wn.data)[j * K + k];
  float want[B * S * N];
  reference(t, x.data, wn.data, bias.data, c.data, r.data, want);
  if (t->gemm) {
    x.shape = (nncl_shape){.rank = 2, .dims = {B * S, K}};
    r.shape = (nncl_shape){.rank = 2, .dims = {B * S, N}};
  }
  for (int fuse = 1; fuse >= 0; fuse--) {
    nncl_graph *g = make(t, t->gemm ? &wn : &wt, &bias, &c);
    cr_assert_eq(nncl_graph_set_option(g, "graph.fusion", fuse ? "1" : "0"), NNCL_OK);
    /* the counts are this pass's: an Add left over stays its own node */
    cr_assert_eq(nncl_graph_set_option(g, "graph.fuse_elementwise", "0"), NNCL_OK);
    if (half) cr_assert_eq(nncl_graph_set_option(g, "graph.precision", "fp16-storage"), NNCL_OK);
    cr_assert_eq(nncl_graph_set_input(g, "x", &x), NNCL_OK);
    if (t->residual) cr_assert_eq(nncl_graph_set_input(g, "r", &r), NNCL_OK);
    if (t->bias == BIAS_INPUT) cr_assert_eq(nncl_graph_set_input(g, "bias", &bias), NNCL_OK);
    cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s: %s", t->what, nncl_context_last_error(tu_ctx()));
    char what[160];
    snprintf(what, sizeof what, "%s (fusion %s%s)", t->what, fuse ? "on" : "off",
             half ? ", fp16-storage" : "");
    nncl_graph_summary sum;
    cr_assert_eq(nncl_graph_summarize(g, &sum), NNCL_OK);
    const int unfused = 1 + (t->bias != BIAS_NONE) + t->residual + t->relu;
    /* half storage adds a Cast at each float32 graph input (x, r) and at the output */
    const int casts = half ? 2 + t->residual : 0;
    const int want_kernels = (fuse ? t->want_kernels : unfused) + casts;
    cr_assert_eq(sum.n_kernel_nodes, want_kernels, "%s: %d kernel nodes, expected %d", what,
                 sum.n_kernel_nodes, want_kernels);
    if (fuse && t->want_fuse) {
      int found = 0;
      for (int i = 0; i < nncl_graph_num_planned_nodes(g); i++) {
        nncl_node_info info;
        cr_assert_eq(nncl_graph_planned_node(g, i, &info), NNCL_OK);
        if (!strcmp(info.op_type, t->gemm ? "Gemm" : "MatMul"))
          found = strstr(info.fused, t->want_fuse) != NULL;
      }
      cr_assert(found, "%s: the product's fused list lacks %s", what, t->want_fuse);
    }
    nncl_array y;
    cr_assert_eq(nncl_graph_get_output_by_name(g, "y", &y), NNCL_OK);
    /* half: the output rounded to half (2^-11 relative) and, unfused, the product too before its
       Add (2^-11 of |product|, which is at most 24 and typically under 6, absolute) */
    if (half)
      tu_assert_close((float *)y.data, want, (size_t)(B * S * N), 1e-3, 3e-3, what);
    else
      tu_assert_close((float *)y.data, want, (size_t)(B * S * N), 1e-5, 1e-5, what);
    nncl_array_free(&y);
    nncl_graph_destroy(g);
  }
  nncl_array_free(&wn);
  nncl_array_free(&wt);
  nncl_array_free(&x);
  nncl_array_free(&r);
  nncl_array_free(&c);
  nncl_array_free(&bias);
}

Test(linear_fusion, folds_bias_activation_residual) {
  static const struct lin_case cases[] = {
      {"MatMul + bias", 0, 0, BIAS_VEC, 0, 0, 0, 1, "Add(bias)"},
      {"MatMul + bias + Relu", 0, 0, BIAS_VEC, 0, 1, 0, 1, "Add(bias)+Relu"},
      {"MatMul + bias + residual", 0, 0, BIAS_VEC, 1, 0, 0, 1, "Add(bias)+Add"},
      {"MatMul + bias + residual + Relu", 0, 0, BIAS_VEC, 1, 1, 0, 1, "Add(bias)+Add+Relu"},
      {"MatMul + [1, 1, N] bias", 0, 0, BIAS_VEC3, 0, 1, 0, 1, "Add(bias)"},
      {"Gemm + bias + Relu", 1, 0, BIAS_VEC, 0, 1, 0, 1, "Add(bias)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i], 0);
}

/* the same folds with every tensor stored as float16: the bias is read through the half path */
Test(linear_fusion, folds_under_half_storage) {
  static const struct lin_case cases[] = {
      {"MatMul + bias", 0, 0, BIAS_VEC, 0, 0, 0, 1, "Add(bias)"},
      {"MatMul + bias + residual + Relu", 0, 0, BIAS_VEC, 1, 1, 0, 1, "Add(bias)+Add+Relu"},
      {"Gemm + bias + Relu", 1, 0, BIAS_VEC, 0, 1, 0, 1, "Add(bias)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i], 1);
}

Test(linear_fusion, leaves_other_patterns) {
  static const struct lin_case cases[] = {
      /* the Add stays; the Relu after it is the Add's, not the product's */
      {"bias not a constant", 0, 0, BIAS_INPUT, 0, 1, 0, 3, NULL},
      {"bias along the sequence axis", 0, 0, BIAS_ROWS, 0, 1, 0, 3, NULL},
      {"product also a graph output", 0, 0, BIAS_VEC, 0, 1, 1, 3, NULL},
      /* Gemm with C: the Add stays, and nothing after it reaches the Gemm */
      {"Gemm that has its C", 1, 1, BIAS_VEC, 0, 1, 0, 3, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i], 0);
}
