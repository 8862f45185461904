/* test_activation_fusion.c: every fusable activation (elementwise_table.h rows with EWF_EPI or
   EWF_GATE) gives the same bits fused as unfused. Inputs: NaN, +-Inf, +-1e30, +-88.7 and +-89
   (where exp overflows), tiny (1e-30), denormal (1e-40), +-0 and ordinary values, placed so they
   reach both the vector and the scalar stores of the kernels. Fused paths: the Conv epilogue
   (direct, depthwise, 1x1 through CLBlast), the Gemm epilogue and the RNN gate. The unfused side
   is the element-wise op applied to the same op's output without the epilogue (for the RNN, to
   the pre-activation read back through Affine(1, 0)), so both apply the activation to identical
   floats. Tolerance: none; equal bits, or NaN on both sides. The graph pass is checked to fuse
   activations with attributes and constant Clip bounds and to give the unfused graph's bits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/graph.h"
#include "test_util.h"

#define N 120 /* elements per run: rows of 60 give full 16- and 32-wide tiles and partial ones */

/* One fusable row of the table, with the attributes the test sets (alpha 0.75, beta 0.3 where the
   row has them, so non-default parameters travel too). */
struct act {
  const char *op;
  int fuse;
  const char *an, *bn;
};
static const struct act acts[] = {
#define ACT_ROW(id, name, fe, ie, kind, fuse, an, ad, bn, bd)                                      \
  EW_IF_EPI(fuse, {name, fuse, an, bn}, )
    EW_UNARY_TABLE(ACT_ROW)
#undef ACT_ROW
};
#define N_ACTS (sizeof acts / sizeof acts[0])

/* Variants per row: Gelu has two formulas (approximate none / tanh). */
static int n_variants(const struct act *a) { return strcmp(a->op, "Gelu") == 0 ? 2 : 1; }

static const float specials[] = {
    NAN,     INFINITY, -INFINITY, 1e30f, -1e30f, 88.7f,  -88.7f, 89.0f,          -89.0f, 1e-30f,
    -1e-30f, 1e-40f,   -1e-40f,   0.0f,  -0.0f,  1.0f,   -1.0f,  0.75f,          -0.75f, 0.3f,
    2.5f,    -2.5f,    6.0f,      -6.0f, 20.0f,  -20.0f, 3e-8f,  1.17549435e-38f};
#define N_SPECIALS (sizeof specials / sizeof specials[0])

/* Specials on even indices (so every tile and the tail get some), ordinary values between. */
static nncl_array inputs(int rank, const int64_t *dims) {
  nncl_array x = tu_rand(77, rank, dims);
  cr_assert_eq(nncl_shape_numel(&x.shape), N);
  float *p = x.data;
  tu_fill(p, N, 77, -8.0f, 8.0f);
  for (size_t i = 0; i < N; i += 2) p[i] = specials[(i / 2) % N_SPECIALS];
  return x;
}

static nncl_array scalar(float v) {
  nncl_array a = tu_zeros(NNCL_FLOAT32, 0, (int64_t[]){1});
  *(float *)a.data = v;
  return a;
}

/* Runs the activation unfused on x; *epi gets its fused form from the same call. */
static nncl_array unfused(const struct act *a, int variant, const nncl_array *x,
                          struct op_epilogue *epi) {
  struct nncl__attr attrs[3];
  int na = 0;
  if (a->an) attrs[na++] = A_FLOAT(a->an, 0.75f);
  if (a->bn) attrs[na++] = A_FLOAT(a->bn, 0.3f);
  if (variant == 1) attrs[na++] = A_STR("approximate", "tanh");
  nncl_array lo = scalar(-1.5f), hi = scalar(2.5f);
  int clip = strcmp(a->op, "Clip") == 0;
  const nncl_array *in[] = {x, &lo, &hi};
  struct op_instance *oi;
  nncl_status st =
      op_instance_create(tu_ctx(), a->op, 17, attrs, na, clip ? 3 : 1, in, 1, NULL, NULL, &oi);
  cr_assert_eq(st, NNCL_OK, "%s: %s", a->op, nncl_context_last_error(tu_ctx()));
  if (epi) {
    *epi = (struct op_epilogue){0};
    cr_assert(op_unary_epilogue(op_instance_call(oi), epi), "%s is not fusable", a->op);
  }
  nncl_array y;
  cr_assert_eq(op_instance_enqueue(oi), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_eq(op_instance_read(oi, &y), NNCL_OK);
  op_instance_destroy(oi);
  nncl_array_free(&lo);
  nncl_array_free(&hi);
  return y;
}

static uint32_t bits(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return u;
}

/* Distance in units in the last place (0 when equal bits or both NaN). */
static double ulps(float a, float b) {
  if (isnan(a) && isnan(b)) return 0;
  if (isnan(a) || isnan(b)) return INFINITY;
  int64_t ia = (int32_t)bits(a), ib = (int32_t)bits(b);
  if (ia < 0) ia = INT32_MIN - ia;
  if (ib < 0) ib = INT32_MIN - ib;
  return fabs((double)(ia - ib));
}

/* Asserts fused == unfused bit for bit, naming the worst element and its pre-activation value
   (pre may be NULL when unknown). */
static void assert_same(const char *what, const struct act *a, int variant, const float *pre,
                        const float *fused, const float *plain) {
  size_t worst = 0;
  double w = 0;
  for (size_t i = 0; i < N; i++) {
    double d = ulps(fused[i], plain[i]);
    int diff = d > 0 || (d == 0 && !isnan(fused[i]) && bits(fused[i]) != bits(plain[i]));
    if (diff && (d > w || w == 0)) {
      w = d > 0 ? d : 0.5; /* +0 vs -0 counts as half an ulp */
      worst = i;
    }
  }
  cr_assert(w == 0,
            "%s, %s%s: element %zu (pre-activation %a) fused %a, unfused %a (%g ulp); "
            "expected identical bits",
            what, a->op, variant ? " tanh" : "", worst, pre ? (double)pre[worst] : NAN,
            (double)fused[worst], (double)plain[worst], w);
}

/* The special inputs reach the activation: the pre-activation holds them bit for bit. */
static void assert_specials_reach(const char *what, const nncl_array *x, const float *pre) {
  const float *p = x->data;
  for (size_t i = 0; i < N; i++) {
    int same = (isnan(p[i]) && isnan(pre[i])) || bits(p[i]) == bits(pre[i]) ||
               (p[i] == 0 && pre[i] == 0); /* -0 + 0 is +0 */
    cr_assert(same, "%s: element %zu is %a before the activation, input %a", what, i,
              (double)pre[i], (double)p[i]);
  }
}

/* One Conv through algorithm algo (forced through the conv.algo option) with weights 1. */
static nncl_array conv(const char *algo, const nncl_array *x, int64_t c,
                       const struct op_epilogue *epi) {
  nncl_array w = TU_ZEROS(NNCL_FLOAT32, c, 1, 1, 1);
  for (int64_t i = 0; i < c; i++) ((float *)w.data)[i] = 1.0f;
  struct nncl__attr attrs[] = {A_INTS("kernel_shape", 1, 1), A_INT("group", c)};
  const nncl_array *in[] = {x, &w};
  struct op_instance *oi;
  tu_set_option("conv.algo", algo);
  nncl_status st = op_instance_create(tu_ctx(), "Conv", 17, attrs, 2, 2, in, 1, epi, NULL, &oi);
  tu_set_option("conv.algo", NULL);
  cr_assert_eq(st, NNCL_OK, "%s: %s", algo, nncl_context_last_error(tu_ctx()));
  cr_assert_str_eq(op_instance_call(oi)->algo, algo, "forced %s but %s ran", algo,
                   op_instance_call(oi)->algo);
  nncl_array y;
  cr_assert_eq(op_instance_enqueue(oi), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_eq(op_instance_read(oi, &y), NNCL_OK);
  op_instance_destroy(oi);
  nncl_array_free(&w);
  return y;
}

/* Conv (C channels of H rows of N / (C H) elements) fused vs Conv then the activation. */
static void check_conv(const char *algo, int64_t c, int64_t h) {
  nncl_array x = inputs(4, (int64_t[]){1, c, h, N / (c * h)});
  nncl_array pre = conv(algo, &x, c, NULL);
  assert_specials_reach(algo, &x, pre.data);
  for (size_t k = 0; k < N_ACTS; k++)
    for (int v = 0; v < n_variants(&acts[k]); v++) {
      struct op_epilogue epi;
      nncl_array plain = unfused(&acts[k], v, &pre, &epi);
      nncl_array fused = conv(algo, &x, c, &epi);
      assert_same(algo, &acts[k], v, pre.data, fused.data, plain.data);
      nncl_array_free(&plain);
      nncl_array_free(&fused);
    }
  nncl_array_free(&pre);
  nncl_array_free(&x);
}

/* rows of 60: the direct kernel stores a full 32-wide row tile as vectors, the rest by element */
Test(activation_fusion, conv_direct_epilogue) { check_conv("direct", 1, 2); }
Test(activation_fusion, conv_depthwise_epilogue) { check_conv("depthwise", 2, 1); }
Test(activation_fusion, conv_gemm_epilogue) { check_conv("gemm", 1, 1); }

static nncl_array gemm(const nncl_array *a, const struct op_epilogue *epi) {
  nncl_array b = TU_ZEROS(NNCL_FLOAT32, 1, 1);
  *(float *)b.data = 1.0f;
  const nncl_array *in[] = {a, &b};
  nncl_array y;
  nncl_status st = op_run(tu_ctx(), "Gemm", 13, NULL, 0, 2, in, 1, &y, epi, NULL);
  cr_assert_eq(st, NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  nncl_array_free(&b);
  return y;
}

Test(activation_fusion, gemm_epilogue) {
  nncl_array a = inputs(2, (int64_t[]){N, 1});
  nncl_array pre = gemm(&a, NULL);
  assert_specials_reach("Gemm", &a, pre.data);
  for (size_t k = 0; k < N_ACTS; k++)
    for (int v = 0; v < n_variants(&acts[k]); v++) {
      struct op_epilogue epi;
      nncl_array plain = unfused(&acts[k], v, &pre, &epi);
      nncl_array fused = gemm(&a, &epi);
      assert_same("Gemm", &acts[k], v, pre.data, fused.data, plain.data);
      nncl_array_free(&plain);
      nncl_array_free(&fused);
    }
  nncl_array_free(&pre);
  nncl_array_free(&a);
}

/* RNN with hidden size 1, W = 1, R = 0, no bias, one step over N batch rows: the gate's input is
   x + 0 + 0. activation_alpha / beta carry 0.75 / 0.3 to the activations that take them. */
static nncl_array rnn(const nncl_array *x, const char *act, int n_alpha, float alpha, int n_beta,
                      float beta) {
  nncl_array w = TU_ZEROS(NNCL_FLOAT32, 1, 1, 1), r = TU_ZEROS(NNCL_FLOAT32, 1, 1, 1);
  *(float *)w.data = 1.0f;
  char *names[] = {(char *)act};
  struct nncl__attr attrs[4] = {
      A_INT("hidden_size", 1),
      {.name = "activations", .type = ATTR_STRINGS, .strs = names, .n = 1}};
  int na = 2;
  float av[1] = {alpha}, bv[1] = {beta};
  if (n_alpha)
    attrs[na++] =
        (struct nncl__attr){.name = "activation_alpha", .type = ATTR_FLOATS, .floats = av, .n = 1};
  if (n_beta)
    attrs[na++] =
        (struct nncl__attr){.name = "activation_beta", .type = ATTR_FLOATS, .floats = bv, .n = 1};
  const nncl_array *in[] = {x, &w, &r};
  nncl_array y;
  nncl_status st = op_run(tu_ctx(), "RNN", 14, attrs, na, 3, in, 1, &y, NULL, NULL);
  cr_assert_eq(st, NNCL_OK, "%s: %s", act, nncl_context_last_error(tu_ctx()));
  nncl_array_free(&w);
  nncl_array_free(&r);
  return y;
}

Test(activation_fusion, rnn_gate) {
  /* the bits of the activation ops are promised under rnn.gates=exact; the default (vector) trades
     the last bit of PoCL's vector exp/tanh for speed (test_rnn checks it against the reference) */
  tu_set_option("rnn.gates", "exact");
  nncl_array x = inputs(3, (int64_t[]){1, N, 1});
  /* Affine(1, 0) is exact on x + 0 + 0, so it shows the gate's input */
  nncl_array pre = rnn(&x, "Affine", 1, 1.0f, 1, 0.0f);
  assert_specials_reach("RNN", &x, pre.data);
  int gates = 0;
  for (size_t k = 0; k < N_ACTS; k++) {
    const struct act *a = &acts[k];
    if (!(a->fuse & EWF_GATE)) continue;
    gates++;
    nncl_array plain = unfused(a, 0, &pre, NULL);
    nncl_array fused = rnn(&x, a->op, a->an != NULL, 0.75f, a->bn != NULL, 0.3f);
    assert_same("RNN gate", a, 0, pre.data, fused.data, plain.data);
    nncl_array_free(&plain);
    nncl_array_free(&fused);
  }
  cr_assert_eq(gates, 9, "ONNX RNN allows 9 activations that are also ops; the table has %d",
               gates);
  nncl_array_free(&pre);
  nncl_array_free(&x);
  tu_set_option("rnn.gates", NULL);
}

/* Graph x -> Conv(1x1, weight 1) -> act -> y, fused or not (the graph.fusion option). */
static nncl_array run_graph(const char *act, const struct nncl__attr *attr, int clip, int fuse,
                            int *n_fused) {
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  cr_assert_eq(nncl_graph_set_option(g, "graph.fusion", fuse ? "1" : "0"), NNCL_OK);
  nncl_shape s = {.rank = 4, .dims = {1, 1, 1, N}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  nncl_array w = TU_ZEROS(NNCL_FLOAT32, 1, 1, 1, 1);
  *(float *)w.data = 1.0f;
  cr_assert_eq(nncl_graph_conv2d(g, "conv", "x", "c", &w, NULL, 1, 0, 1, 1), NNCL_OK);
  nncl_array lo = scalar(-1.5f), hi = scalar(2.5f);
  cr_assert_eq(nncl_graph_add_constant(g, "lo", &lo), NNCL_OK);
  cr_assert_eq(nncl_graph_add_constant(g, "hi", &hi), NNCL_OK);
  const char *ins[] = {"c", "lo", "hi"}, *out = "y";
  nncl_node *n;
  cr_assert_eq(nncl_graph_add_node(g, act, "act", clip ? 3 : 1, ins, 1, &out, &n), NNCL_OK);
  if (attr && attr->type == ATTR_FLOAT)
    cr_assert_eq(nncl_node_set_float(g, n, attr->name, attr->f), NNCL_OK);
  if (attr && attr->type == ATTR_STRING)
    cr_assert_eq(nncl_node_set_string(g, n, attr->name, attr->s), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  nncl_array x = inputs(4, s.dims), y;
  cr_assert_eq(nncl_graph_set_input(g, "x", &x), NNCL_OK);
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s: %s", act, nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_graph_get_output(g, 0, &y), NNCL_OK);
  nncl_graph_summary sum;
  cr_assert_eq(nncl_graph_summarize(g, &sum), NNCL_OK);
  *n_fused = sum.n_fused;
  nncl_graph_destroy(g);
  nncl_array_free(&w);
  nncl_array_free(&lo);
  nncl_array_free(&hi);
  nncl_array_free(&x);
  return y;
}

Test(activation_fusion, graph_pass_fuses_with_parameters) {
  static const struct {
    const char *op;
    struct nncl__attr attr;
    int clip;
  } cases[] = {
      {"LeakyRelu", {.name = "alpha", .type = ATTR_FLOAT, .f = 0.75f}, 0},
      {"Clip", {0}, 1},
      {"Gelu", {.name = "approximate", .type = ATTR_STRING, .s = "tanh"}, 0},
      {"HardSigmoid", {.name = "beta", .type = ATTR_FLOAT, .f = 0.3f}, 0},
      {"Softplus", {0}, 0},
      {"Elu", {.name = "alpha", .type = ATTR_FLOAT, .f = 0.75f}, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct nncl__attr *attr = cases[i].attr.name ? &cases[i].attr : NULL;
    int nf, np;
    nncl_array f = run_graph(cases[i].op, attr, cases[i].clip, 1, &nf);
    nncl_array p = run_graph(cases[i].op, attr, cases[i].clip, 0, &np);
    cr_assert_eq(nf, 1, "%s: %d nodes fused, expected the activation", cases[i].op, nf);
    cr_assert_eq(np, 0, "%s: %d nodes fused with fusion off", cases[i].op, np);
    const struct act a = {cases[i].op, 0, NULL, NULL};
    assert_same("graph", &a, 0, NULL, f.data, p.data);
    nncl_array_free(&f);
    nncl_array_free(&p);
  }
}
