/* test_layernorm_pass.c: the LayerNorm fusion pass (lib/graph/pass_layernorm.c) on graphs built
   as PyTorch exports nn.LayerNorm below opset 17: ReduceMean, Sub, Pow(2), ReduceMean, Add(eps),
   Sqrt, Div, [Mul(scale)], [Add(bias)] at opsets 11 and 13, one or two normalized axes, with and
   without the affine part. The fused plan must hold one
   LayerNormalization and one kernel node, and its output must match the double-precision
   reference (tests/ref/norm_ref.c) within rtol/atol 1e-4 (float32 statistics against double, as
   test_norm's layer norm), as must the unfused graph's. Patterns that must not fuse (an
   intermediate read elsewhere, exponent 3) keep every node; a scale over every axis of x keeps
   its Mul and Add. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/graph.h"
#include "ref/norm_ref.h"
#include "test_util.h"

struct ln_case {
  const char *what;
  int opset;
  int n_axes;                /* normalized trailing axes of x [3, 5, 37] */
  int affine;                /* 0: none, 1: Mul only, 2: Mul and Add */
  int scale_full;            /* scale of x's full shape (its Mul and Add stay) */
  float exponent;            /* 2 fuses */
  int d_output;              /* the deviation Sub(x, mean) is also a graph output (must not fuse) */
  int want_ln, want_kernels; /* with fusion on; fusion off keeps every node */
};

static const int64_t xd[3] = {3, 5, 37};

static void add_const(nncl_graph *g, const char *name, nncl_array a) {
  cr_assert_eq(nncl_graph_add_constant_move(g, name, &a), NNCL_OK);
}

static void node(nncl_graph *g, const char *op, const char *name, int n_in, const char **in,
                 const char *out, nncl_node **n) {
  cr_assert_eq(nncl_graph_add_node(g, op, name, n_in, in, 1, &out, n), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
}

/* ReduceMean over the last n_axes axes, keepdims, axes as attribute */
static void reduce_mean(nncl_graph *g, const struct ln_case *t, const char *name, const char *in,
                        const char *out) {
  int64_t axes[2] = {-1, -2};
  nncl_node *n;
  node(g, "ReduceMean", name, 1, &in, out, &n);
  cr_assert_eq(nncl_node_set_ints(g, n, "axes", axes, t->n_axes), NNCL_OK);
}

static nncl_array scalar(float v) {
  nncl_array a;
  nncl_shape s = {.rank = 0};
  cr_assert_eq(nncl_array_alloc(&a, NNCL_FLOAT32, &s), NNCL_OK);
  *(float *)a.data = v;
  return a;
}

static nncl_graph *make(const struct ln_case *t, nncl_array *scale, nncl_array *bias) {
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  nncl_graph_set_opset(g, t->opset);
  nncl_shape xs = {.rank = 3, .dims = {xd[0], xd[1], xd[2]}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &xs), NNCL_OK);
  add_const(g, "two", scalar(t->exponent));
  add_const(g, "eps", scalar(1e-5f));
  reduce_mean(g, t, "mean", "x", "m");
  node(g, "Sub", "sub", 2, (const char *[]){"x", "m"}, "d", NULL);
  node(g, "Pow", "pow", 2, (const char *[]){"d", "two"}, "d2", NULL);
  reduce_mean(g, t, "var", "d2", "v");
  node(g, "Add", "add_eps", 2, (const char *[]){"v", "eps"}, "ve", NULL);
  node(g, "Sqrt", "sqrt", 1, (const char *[]){"ve"}, "sd", NULL);
  const char *y = t->affine ? "n" : "y";
  node(g, "Div", "div", 2, (const char *[]){"d", "sd"}, y, NULL);
  if (t->affine) {
    add_const(g, "w", *scale);
    node(g, "Mul", "mul", 2, (const char *[]){"n", "w"}, t->affine == 2 ? "nw" : "y", NULL);
  }
  if (t->affine == 2) {
    add_const(g, "b", *bias);
    node(g, "Add", "add_b", 2, (const char *[]){"b", "nw"}, "y", NULL); /* bias first */
  }
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  if (t->d_output) cr_assert_eq(nncl_graph_add_output(g, "d"), NNCL_OK);
  return g;
}

static void run_case(const struct ln_case *t) {
  int64_t len = 1, rows = 1, pd[3], np = 1;
  for (int i = 0; i < 3; i++) *(i < 3 - t->n_axes ? &rows : &len) *= xd[i];
  const int p_rank = t->scale_full ? 3 : t->n_axes;
  for (int i = 0; i < p_rank; i++) np *= (pd[i] = xd[3 - p_rank + i]);
  nncl_array x = tu_rand(61, 3, xd);
  for (int64_t i = 0; i < rows * len; i++) ((float *)x.data)[i] += 3.0f; /* off zero mean */
  float *want = malloc((size_t)(rows * len) * sizeof *want);
  float *wm = malloc((size_t)rows * sizeof *wm), *wi = malloc((size_t)rows * sizeof *wi);
  nncl_array sc = tu_rand(62, p_rank, pd), b = tu_rand(63, p_rank, pd);
  float *ones = malloc((size_t)np * sizeof *ones);
  for (int64_t i = 0; i < np; i++) ones[i] = 1.0f;
  if (!t->scale_full && t->exponent == 2.0f)
    norm_ref_layer(x.data, rows, len, t->affine ? sc.data : ones, t->affine == 2 ? b.data : NULL,
                   np, 1e-5, want, wm, wi);
  for (int fuse = 1; fuse >= 0; fuse--) {
    nncl_array s2, b2;
    cr_assert_eq(nncl_array_alloc(&s2, NNCL_FLOAT32, &sc.shape), NNCL_OK);
    cr_assert_eq(nncl_array_alloc(&b2, NNCL_FLOAT32, &b.shape), NNCL_OK);
    memcpy(s2.data, sc.data, nncl_array_bytes(&sc));
    memcpy(b2.data, b.data, nncl_array_bytes(&b));
    nncl_graph *g = make(t, &s2, &b2);
    cr_assert_eq(nncl_graph_set_option(g, "graph.fusion", fuse ? "1" : "0"), NNCL_OK);
    /* the counts are this pass's: leftover element-wise nodes stay unmerged */
    cr_assert_eq(nncl_graph_set_option(g, "graph.fuse_elementwise", "0"), NNCL_OK);
    if (t->affine < 1) nncl_array_free(&s2);
    if (t->affine < 2) nncl_array_free(&b2);
    cr_assert_eq(nncl_graph_set_input(g, "x", &x), NNCL_OK);
    cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s: %s", t->what, nncl_context_last_error(tu_ctx()));
    nncl_graph_summary sum;
    cr_assert_eq(nncl_graph_summarize(g, &sum), NNCL_OK);
    int n_ln = 0;
    for (int i = 0; i < nncl_graph_num_planned_nodes(g); i++) {
      nncl_node_info info;
      cr_assert_eq(nncl_graph_planned_node(g, i, &info), NNCL_OK);
      if (strcmp(info.op_type, "LayerNormalization") == 0) {
        n_ln++;
        cr_assert(strstr(info.fused, "ReduceMean+Sub+Pow") == info.fused, "%s: fused '%s'", t->what,
                  info.fused);
      }
    }
    const int want_ln = fuse ? t->want_ln : 0,
              want_kernels = fuse ? t->want_kernels : 7 + t->affine;
    cr_assert_eq(n_ln, want_ln, "%s (fusion %s): %d LayerNormalization nodes", t->what,
                 fuse ? "on" : "off", n_ln);
    cr_assert_eq(sum.n_kernel_nodes, want_kernels, "%s (fusion %s): %d kernel nodes, expected %d",
                 t->what, fuse ? "on" : "off", sum.n_kernel_nodes, want_kernels);
    if (!t->scale_full && t->exponent == 2.0f) {
      nncl_array y;
      cr_assert_eq(nncl_graph_get_output_by_name(g, "y", &y), NNCL_OK);
      char what[128];
      snprintf(what, sizeof what, "%s (fusion %s)", t->what, fuse ? "on" : "off");
      tu_assert_close((float *)y.data, want, (size_t)(rows * len), 1e-4, 1e-4, what);
      nncl_array_free(&y);
    }
    nncl_graph_destroy(g);
  }
  free(ones);
  free(want);
  free(wm);
  free(wi);
  nncl_array_free(&sc);
  nncl_array_free(&b);
  nncl_array_free(&x);
}

Test(layernorm_pass, fuses_torch_pattern) {
  static const struct ln_case cases[] = {
      {"affine, last axis, opset 13", 13, 1, 2, 0, 2.0f, 0, 1, 1},
      {"affine, two axes, opset 13", 13, 2, 2, 0, 2.0f, 0, 1, 1},
      {"Mul only", 13, 1, 1, 0, 2.0f, 0, 1, 1},
      {"no affine part (scale of ones)", 13, 1, 0, 0, 2.0f, 0, 1, 1},
      {"affine, opset 11", 11, 1, 2, 0, 2.0f, 0, 1, 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
}

Test(layernorm_pass, leaves_other_patterns) {
  static const struct ln_case cases[] = {
      {"deviation also a graph output", 13, 1, 2, 0, 2.0f, 1, 0, 9},
      {"exponent 3", 13, 1, 2, 0, 3.0f, 0, 0, 9},
      /* the normalization fuses; the Mul and Add by a full-shape scale stay */
      {"scale over every axis", 13, 1, 2, 1, 2.0f, 0, 1, 3},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
}

/* ---- Add + LayerNormalization: the residual Add folds into the norm (pass_fuse_add_layernorm) ---- */

enum res_kind { RES_FUSE, RES_SUM_OUTPUT, RES_SUM_READ, RES_BROADCAST };

/* LayerNormalization(Add(a, r)) over the last axis of [3, 5, 37]; kind says what else the sum
   does (is a graph output, feeds a Relu that is one) or whether r broadcasts ([37]). */
static nncl_graph *make_res(enum res_kind kind, const nncl_array *sc, const nncl_array *b) {
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  nncl_graph_set_opset(g, 17);
  nncl_shape xs = {.rank = 3, .dims = {xd[0], xd[1], xd[2]}};
  nncl_shape rs = kind == RES_BROADCAST ? (nncl_shape){.rank = 1, .dims = {xd[2]}} : xs;
  cr_assert_eq(nncl_graph_add_input(g, "a", NNCL_FLOAT32, &xs), NNCL_OK);
  cr_assert_eq(nncl_graph_add_input(g, "r", NNCL_FLOAT32, &rs), NNCL_OK);
  nncl_array s2, b2;
  cr_assert_eq(nncl_array_alloc(&s2, NNCL_FLOAT32, &sc->shape), NNCL_OK);
  cr_assert_eq(nncl_array_alloc(&b2, NNCL_FLOAT32, &b->shape), NNCL_OK);
  memcpy(s2.data, sc->data, nncl_array_bytes(sc));
  memcpy(b2.data, b->data, nncl_array_bytes(b));
  add_const(g, "w", s2);
  add_const(g, "b", b2);
  node(g, "Add", "add_res", 2, (const char *[]){"a", "r"}, "s", NULL);
  node(g, "LayerNormalization", "ln", 3, (const char *[]){"s", "w", "b"}, "y", NULL);
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  if (kind == RES_SUM_OUTPUT) cr_assert_eq(nncl_graph_add_output(g, "s"), NNCL_OK);
  if (kind == RES_SUM_READ) {
    node(g, "Relu", "relu", 1, (const char *[]){"s"}, "q", NULL);
    cr_assert_eq(nncl_graph_add_output(g, "q"), NNCL_OK);
  }
  return g;
}

/* The sum is formed in float32 as the Add would (so fused and unfused normalize the same row),
   then normalized by the double reference: rtol/atol 1e-4 as the cases above. Both kernels of
   the op run (layernorm.algo rows and group); the fused plan holds the LayerNormalization alone,
   its fused list naming the Add, and a pattern that must keep the sum keeps its Add. */
static void run_res_case(enum res_kind kind, const char *what, int want_kernels_fused) {
  const int64_t rows = xd[0] * xd[1], len = xd[2];
  nncl_array a = tu_rand(81, 3, xd),
             r = kind == RES_BROADCAST ? tu_rand(82, 1, &xd[2]) : tu_rand(82, 3, xd);
  nncl_array sc = tu_rand(83, 1, &xd[2]), b = tu_rand(84, 1, &xd[2]);
  float *s = malloc((size_t)(rows * len) * sizeof *s),
        *want = malloc((size_t)(rows * len) * sizeof *want);
  for (int64_t i = 0; i < rows * len; i++)
    s[i] = ((float *)a.data)[i] + ((float *)r.data)[kind == RES_BROADCAST ? i % len : i];
  norm_ref_layer(s, rows, len, sc.data, b.data, len, 1e-5, want, NULL, NULL);
  const char *algos[] = {"rows", "group"};
  for (int al = 0; al < 2; al++)
    for (int fuse = 1; fuse >= 0; fuse--) {
      nncl_graph *g = make_res(kind, &sc, &b);
      cr_assert_eq(nncl_graph_set_option(g, "graph.fusion", fuse ? "1" : "0"), NNCL_OK);
      cr_assert_eq(nncl_graph_set_option(g, "graph.fuse_elementwise", "0"), NNCL_OK);
      cr_assert_eq(nncl_graph_set_option(g, "layernorm.algo", algos[al]), NNCL_OK);
      cr_assert_eq(nncl_graph_set_input(g, "a", &a), NNCL_OK);
      cr_assert_eq(nncl_graph_set_input(g, "r", &r), NNCL_OK);
      char w[160];
      snprintf(w, sizeof w, "%s (fusion %s, layernorm.algo %s)", what, fuse ? "on" : "off",
               algos[al]);
      cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s: %s", w, nncl_context_last_error(tu_ctx()));
      nncl_graph_summary sum;
      cr_assert_eq(nncl_graph_summarize(g, &sum), NNCL_OK);
      const int want_kernels = fuse ? want_kernels_fused : 2 + (kind == RES_SUM_READ);
      cr_assert_eq(sum.n_kernel_nodes, want_kernels, "%s: %d kernel nodes, expected %d", w,
                   sum.n_kernel_nodes, want_kernels);
      for (int i = 0; i < nncl_graph_num_planned_nodes(g); i++) {
        nncl_node_info info;
        cr_assert_eq(nncl_graph_planned_node(g, i, &info), NNCL_OK);
        if (!strcmp(info.op_type, "LayerNormalization"))
          cr_assert_eq(strstr(info.fused, "Add(residual)") != NULL, fuse && want_kernels == 1,
                       "%s: fused '%s'", w, info.fused);
      }
      nncl_array y;
      cr_assert_eq(nncl_graph_get_output_by_name(g, "y", &y), NNCL_OK);
      tu_assert_close((float *)y.data, want, (size_t)(rows * len), 1e-4, 1e-4, w);
      nncl_array_free(&y);
      if (kind == RES_SUM_OUTPUT) {
        cr_assert_eq(nncl_graph_get_output_by_name(g, "s", &y), NNCL_OK);
        tu_assert_close((float *)y.data, s, (size_t)(rows * len), 0.0, 0.0, w);
        nncl_array_free(&y);
      }
      nncl_graph_destroy(g);
    }
  free(s);
  free(want);
  nncl_array_free(&a);
  nncl_array_free(&r);
  nncl_array_free(&sc);
  nncl_array_free(&b);
}

Test(layernorm_pass, fuses_residual_add) { run_res_case(RES_FUSE, "Add + LayerNormalization", 1); }

Test(layernorm_pass, keeps_needed_sum) {
  run_res_case(RES_SUM_OUTPUT, "sum also a graph output", 2);
  run_res_case(RES_SUM_READ, "sum also read by a Relu", 3);
  run_res_case(RES_BROADCAST, "residual broadcast over rows", 2);
}
