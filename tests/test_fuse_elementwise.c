/* test_fuse_elementwise.c: the element-wise chain fusion pass (pass_fuse_elementwise.c, op
   nncl.ElementwiseChain). Random chains of 2-6 unary and binary ops, some reading the chain's
   input again (a small DAG), with operands of the output's shape, a scalar, a per-channel [3,1,1]
   and a last-axis [7] vector, on inputs holding NaN, +-Inf, +-0, denormals and ordinary values:
   - fused and unfused (graph.fusion=0) outputs agree bit for bit (tolerance none: both sides
     evaluate the same float expressions in the same order; NaN must be NaN on both sides);
   - both agree with a naive C evaluation in float within rtol 1e-4 + atol 1e-4 (OpenCL allows
     exp, tanh, erf, pow... a few ulp where libm differs; a chain of six amplifies that at most a
     few times, far below 1e-4, while a wrong operand or order is off by O(1));
   - the fused graph launches one kernel per run where the unfused launches one per op.
   Fan-out, graph outputs inside a chain and the 16-step limit are checked to split groups. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/graph.h"
#include "test_util.h"

/* Two shapes: [2,3,5,7] (210 elements: 52 vector work-items and a tail of 2; the [7] vector takes
   the strided walk) and [3,2,5,8] (the [8] vector is read with vector loads). */
static int D0 = 2, D1 = 3, D2 = 5, D3 = 7;
#define NEL (D0 * D1 * D2 * D3)
#define NEL_MAX 240
static void use_shape(int second) {
  D0 = second ? 3 : 2;
  D1 = second ? 2 : 3;
  D3 = second ? 8 : 7;
}

static const float specials[] = {NAN,     INFINITY, -INFINITY, 0.0f, -0.0f, 1e-40f,
                                 -1e-40f, 1e30f,    -1e30f,    1.0f, -1.0f};
#define N_SPECIALS (sizeof specials / sizeof specials[0])

struct uop {
  const char *op;
  float (*ref)(float);
};
static float r_relu(float x) { return x < 0.0f ? 0.0f : x; }
static float r_leaky(float x) { return x < 0.0f ? x * 0.3f : x; }
static float r_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
static float r_tanh(float x) { return tanhf(x); }
static float r_exp(float x) { return expf(x); }
static float r_neg(float x) { return -x; }
static float r_abs(float x) { return fabsf(x); }
static float r_sqrt(float x) { return sqrtf(x); }
static float r_softplus(float x) { return x > 0.0f ? x + log1pf(expf(-x)) : log1pf(expf(x)); }
static float r_erf(float x) { return erff(x); }
static float r_hsig(float x) {
  float v = 0.2f * x + 0.5f;
  return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}
static float r_clip(float x) { return x < -1.5f ? -1.5f : (x > 2.0f ? 2.0f : x); }
static float r_recip(float x) { return 1.0f / x; }
static float r_log(float x) { return logf(x); }
static const struct uop uops[] = {
    {"Relu", r_relu},         {"LeakyRelu", r_leaky}, {"Sigmoid", r_sigmoid},  {"Tanh", r_tanh},
    {"Exp", r_exp},           {"Neg", r_neg},         {"Abs", r_abs},          {"Sqrt", r_sqrt},
    {"Softplus", r_softplus}, {"Erf", r_erf},         {"HardSigmoid", r_hsig}, {"Clip", r_clip},
    {"Reciprocal", r_recip},  {"Log", r_log}};
#define N_UOPS (sizeof uops / sizeof uops[0])

struct bop {
  const char *op;
  float (*ref)(float, float);
};
static float r_add(float a, float b) { return a + b; }
static float r_sub(float a, float b) { return a - b; }
static float r_mul(float a, float b) { return a * b; }
static float r_div(float a, float b) { return a / b; }
static float r_max(float a, float b) { return (a > b || isnan(a)) ? a : b; }
static float r_min(float a, float b) { return (a < b || isnan(a)) ? a : b; }
static float r_pow(float a, float b) { return b == 2.0f ? a * a : powf(a, b); }
static const struct bop bops[] = {{"Add", r_add}, {"Sub", r_sub}, {"Mul", r_mul}, {"Div", r_div},
                                  {"Max", r_max}, {"Min", r_min}, {"Pow", r_pow}};
#define N_BOPS (sizeof bops / sizeof bops[0])

/* Operands a binary op may take besides the running value. */
enum operand { OPD_X, OPD_Y, OPD_C, OPD_L, OPD_S, OPD_TWO, OPD_P, N_OPD };
static const char *const opd_name[N_OPD] = {"X", "Y", "C", "L", "S", "two", "P"};

struct data {
  nncl_array x, y, c, l, s, two, p;
};

static struct data make_data(uint32_t seed) {
  struct data d;
  d.x = TU_RAND(seed, D0, D1, D2, D3);
  d.y = TU_RAND(seed + 1, D0, D1, D2, D3);
  d.c = TU_RAND(seed + 2, D1, 1, 1);
  d.l = TU_RAND(seed + 3, D3);
  d.s = TU_RAND(seed + 4, 1);
  d.two = TU_ZEROS(NNCL_FLOAT32, 1);
  d.p = TU_RAND(seed + 5, D3);
  tu_fill(d.x.data, NEL, seed, -3.0f, 3.0f);
  tu_fill(d.y.data, NEL, seed + 1, -3.0f, 3.0f);
  tu_fill(d.p.data, D3, seed + 5, 0.5f, 2.5f);
  float *x = d.x.data, *y = d.y.data;
  for (int i = 0; i < NEL; i += 5) x[i] = specials[(i / 5) % N_SPECIALS];
  for (int i = 2; i < NEL; i += 7) y[i] = specials[(i / 7) % N_SPECIALS];
  ((float *)d.two.data)[0] = 2.0f;
  return d;
}

static void free_data(struct data *d) {
  nncl_array *a[] = {&d->x, &d->y, &d->c, &d->l, &d->s, &d->two, &d->p};
  for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) nncl_array_free(a[i]);
}

/* Element e of operand o broadcast to [D0, D1, D2, D3]. */
static float at(const struct data *d, enum operand o, int e) {
  switch (o) {
  case OPD_X: return ((const float *)d->x.data)[e];
  case OPD_Y: return ((const float *)d->y.data)[e];
  case OPD_C: return ((const float *)d->c.data)[(e / (D2 * D3)) % D1];
  case OPD_L: return ((const float *)d->l.data)[e % D3];
  case OPD_S: return ((const float *)d->s.data)[0];
  case OPD_TWO: return 2.0f;
  default: return ((const float *)d->p.data)[e % D3];
  }
}

/* A chain: step k is unary uop[k] or binary bop[k] of the running value and operand opd[k]
   (running value first unless swap[k]). */
struct chain {
  int n;
  int binary[20], which[20], opd[20], swap[20];
};

static struct chain random_chain(uint32_t *r, int n) {
  struct chain c = {.n = n};
  for (int k = 0; k < n; k++) {
    c.binary[k] = tu_xorshift(r) % 2;
    if (!c.binary[k]) {
      c.which[k] = (int)(tu_xorshift(r) % N_UOPS);
      continue;
    }
    c.which[k] = (int)(tu_xorshift(r) % N_BOPS);
    if (strcmp(bops[c.which[k]].op, "Pow") == 0) {
      c.opd[k] = tu_xorshift(r) % 2 ? OPD_TWO : OPD_P; /* special and general exponents */
    } else {
      c.opd[k] = (int)(tu_xorshift(r) % (OPD_S + 1));
      c.swap[k] = (int)(tu_xorshift(r) % 2);
    }
  }
  return c;
}

static void ref_chain(const struct chain *c, const struct data *d, float *out) {
  for (int e = 0; e < NEL; e++) {
    float v = at(d, OPD_X, e);
    for (int k = 0; k < c->n; k++) {
      if (!c->binary[k]) {
        v = uops[c->which[k]].ref(v);
      } else {
        float o = at(d, (enum operand)c->opd[k], e);
        v = c->swap[k] ? bops[c->which[k]].ref(o, v) : bops[c->which[k]].ref(v, o);
      }
    }
    out[e] = v;
  }
}

static void check(nncl_status st, const char *what) {
  cr_assert_eq(st, NNCL_OK, "%s: %s", what, nncl_context_last_error(tu_ctx()));
}

/* Builds the chain as a graph with inputs X, Y, C, L and constants S, two, P; out_every marks
   every intermediate a graph output too (nothing may fuse then). */
static nncl_graph *build(const struct chain *c, const struct data *d, int out_every) {
  nncl_graph *g;
  check(nncl_graph_create(tu_ctx(), &g), "graph");
  check(nncl_graph_add_input(g, "X", NNCL_FLOAT32, &d->x.shape), "X");
  check(nncl_graph_add_input(g, "Y", NNCL_FLOAT32, &d->y.shape), "Y");
  check(nncl_graph_add_input(g, "C", NNCL_FLOAT32, &d->c.shape), "C");
  check(nncl_graph_add_input(g, "L", NNCL_FLOAT32, &d->l.shape), "L");
  check(nncl_graph_add_constant(g, "S", &d->s), "S");
  check(nncl_graph_add_constant(g, "two", &d->two), "two");
  check(nncl_graph_add_constant(g, "P", &d->p), "P");
  nncl_array lo = TU_ZEROS(NNCL_FLOAT32, 1), hi = TU_ZEROS(NNCL_FLOAT32, 1);
  ((float *)lo.data)[0] = -1.5f;
  ((float *)hi.data)[0] = 2.0f;
  check(nncl_graph_add_constant(g, "lo", &lo), "lo");
  check(nncl_graph_add_constant(g, "hi", &hi), "hi");
  nncl_array_free(&lo);
  nncl_array_free(&hi);
  char cur[16] = "X", next[16], name[16];
  for (int k = 0; k < c->n; k++) {
    snprintf(next, sizeof next, k == c->n - 1 ? "out" : "t%d", k);
    snprintf(name, sizeof name, "n%d", k);
    nncl_node *node;
    if (!c->binary[k]) {
      const char *op = uops[c->which[k]].op;
      int clip = strcmp(op, "Clip") == 0;
      const char *in[] = {cur, "lo", "hi"};
      const char *outs[] = {next};
      check(nncl_graph_add_node(g, op, name, clip ? 3 : 1, in, 1, outs, &node), op);
      if (strcmp(op, "LeakyRelu") == 0) check(nncl_node_set_float(g, node, "alpha", 0.3f), "alpha");
    } else {
      const char *o = opd_name[c->opd[k]];
      const char *in[] = {c->swap[k] ? o : cur, c->swap[k] ? cur : o};
      const char *outs[] = {next};
      check(nncl_graph_add_node(g, bops[c->which[k]].op, name, 2, in, 1, outs, &node), name);
    }
    if (out_every && k < c->n - 1) check(nncl_graph_add_output(g, next), "output");
    snprintf(cur, sizeof cur, "%s", next);
  }
  check(nncl_graph_add_output(g, "out"), "out");
  check(nncl_graph_set_input(g, "X", &d->x), "set X");
  check(nncl_graph_set_input(g, "Y", &d->y), "set Y");
  check(nncl_graph_set_input(g, "C", &d->c), "set C");
  check(nncl_graph_set_input(g, "L", &d->l), "set L");
  return g;
}

/* Plans, runs once and returns the kernels that run launched; *out gets output `i`. */
static uint64_t run(nncl_graph *g, int i, nncl_array *out) {
  check(nncl_graph_plan(g), "plan");
  nncl_stats a, b;
  nncl_context_stats(tu_ctx(), &a);
  check(nncl_graph_run(g), "run");
  nncl_context_stats(tu_ctx(), &b);
  check(nncl_graph_get_output(g, i, out), "output");
  return b.kernel_launches - a.kernel_launches;
}

/* Bit equality (NaN matches NaN), naming the first differing element. */
static void assert_same_bits(const float *got, const float *want, int n, const char *what) {
  for (int e = 0; e < n; e++) {
    if (isnan(got[e]) && isnan(want[e])) continue;
    cr_assert(memcmp(&got[e], &want[e], sizeof(float)) == 0,
              "%s: element %d is %a fused, %a unfused", what, e, (double)got[e], (double)want[e]);
  }
}

static void describe(const struct chain *c, char *buf, size_t n) {
  size_t l = 0;
  buf[0] = 0;
  for (int k = 0; k < c->n && l < n; k++)
    l += (size_t)snprintf(buf + l, n - l, "%s%s%s%s", k ? "," : "",
                          c->binary[k] ? bops[c->which[k]].op : uops[c->which[k]].op,
                          c->binary[k] ? ":" : "", c->binary[k] ? opd_name[c->opd[k]] : "");
}

Test(fuse_elementwise, random_chains_match_unfused_bits_and_naive_c) {
  uint32_t r = 2024;
  for (int t = 0; t < 40; t++) {
    use_shape(t % 2);
    struct chain c = random_chain(&r, 2 + (int)(tu_xorshift(&r) % 5));
    struct data d = make_data(100 + (uint32_t)t * 11);
    char what[256];
    describe(&c, what, sizeof what);
    nncl_graph *gf = build(&c, &d, 0), *gu = build(&c, &d, 0);
    check(nncl_graph_set_option(gu, "graph.fusion", "0"), "option");
    nncl_array yf, yu;
    uint64_t lf = run(gf, 0, &yf), lu = run(gu, 0, &yu);
    cr_assert_eq(lu, (uint64_t)c.n, "%s: unfused launched %llu kernels for %d ops", what,
                 (unsigned long long)lu, c.n);
    cr_assert_eq(lf, 1, "%s: fused launched %llu kernels, expected 1", what,
                 (unsigned long long)lf);
    assert_same_bits(yf.data, yu.data, NEL, what);
    float want[NEL_MAX];
    ref_chain(&c, &d, want);
    size_t worst = 0;
    double ratio = tu_close_ratio(yf.data, want, NEL, 1e-4, 1e-4, &worst);
    cr_assert(ratio <= 1.0, "%s: element %zu is %g, naive C %g (ratio %g)", what, worst,
              (double)((float *)yf.data)[worst], (double)want[worst], ratio);
    nncl_array_free(&yf);
    nncl_array_free(&yu);
    nncl_graph_destroy(gf);
    nncl_graph_destroy(gu);
    free_data(&d);
  }
}

/* Intermediates that are graph outputs stay materialised: nothing fuses. */
Test(fuse_elementwise, graph_outputs_are_not_fused) {
  struct chain c = {.n = 3, .binary = {0, 1, 0}, .which = {0, 0, 2}, .opd = {0, OPD_C, 0}};
  struct data d = make_data(7);
  nncl_graph *g = build(&c, &d, 1);
  nncl_array y;
  uint64_t l = run(g, 2, &y);
  cr_assert_eq(l, 3, "launched %llu, expected one per op", (unsigned long long)l);
  float want[NEL_MAX];
  ref_chain(&c, &d, want);
  tu_assert_close((const float *)y.data, want, NEL, 1e-4, 1e-4, "Relu,Add:C,Sigmoid");
  nncl_array_free(&y);
  nncl_graph_destroy(g);
  free_data(&d);
}

/* a = Relu(X) read by Exp and Tanh (fan-out): a stays its own kernel, Exp+Tanh+Add fuse. */
Test(fuse_elementwise, fan_out_splits_groups) {
  struct data d = make_data(9);
  nncl_graph *gs[2];
  nncl_array y[2];
  uint64_t l[2];
  for (int f = 0; f < 2; f++) {
    nncl_graph *g;
    check(nncl_graph_create(tu_ctx(), &g), "graph");
    check(nncl_graph_add_input(g, "X", NNCL_FLOAT32, &d.x.shape), "X");
    const char *ops[][4] = {{"Relu", "X", NULL, "a"},
                            {"Exp", "a", NULL, "b"},
                            {"Tanh", "a", NULL, "c"},
                            {"Add", "b", "c", "out"}};
    for (int k = 0; k < 4; k++) {
      const char *in[] = {ops[k][1], ops[k][2]};
      const char *out[] = {ops[k][3]};
      check(nncl_graph_add_node(g, ops[k][0], ops[k][3], ops[k][2] ? 2 : 1, in, 1, out, NULL),
            ops[k][0]);
    }
    check(nncl_graph_add_output(g, "out"), "out");
    check(nncl_graph_set_input(g, "X", &d.x), "set X");
    if (f) check(nncl_graph_set_option(g, "graph.fuse_elementwise", "0"), "option");
    l[f] = run(g, 0, &y[f]);
    gs[f] = g;
  }
  cr_assert_eq(l[0], 2, "fused launched %llu, expected Relu and one chain",
               (unsigned long long)l[0]);
  cr_assert_eq(l[1], 4, "graph.fuse_elementwise=0 launched %llu, expected 4",
               (unsigned long long)l[1]);
  assert_same_bits(y[0].data, y[1].data, NEL, "Relu -> (Exp, Tanh) -> Add");
  float want[NEL_MAX];
  for (int e = 0; e < NEL; e++) {
    float a = r_relu(((float *)d.x.data)[e]);
    want[e] = expf(a) + tanhf(a);
  }
  tu_assert_close((const float *)y[0].data, want, NEL, 1e-4, 1e-4, "Relu -> (Exp, Tanh) -> Add");
  for (int f = 0; f < 2; f++) {
    nncl_array_free(&y[f]);
    nncl_graph_destroy(gs[f]);
  }
  free_data(&d);
}

/* 20 steps exceed one kernel's 16: two chains, still the unfused bits. */
Test(fuse_elementwise, long_chain_splits_at_the_step_limit) {
  struct chain c = {.n = 20};
  for (int k = 0; k < 20; k++) {
    c.binary[k] = k % 2;
    c.which[k] = k % 2 ? 0 /* Add */ : 1 /* LeakyRelu */;
    c.opd[k] = k % 4 == 1 ? OPD_L : OPD_S;
  }
  struct data d = make_data(13);
  nncl_graph *gf = build(&c, &d, 0), *gu = build(&c, &d, 0);
  check(nncl_graph_set_option(gu, "graph.fusion", "0"), "option");
  nncl_array yf, yu;
  uint64_t lf = run(gf, 0, &yf), lu = run(gu, 0, &yu);
  cr_assert_eq(lf, 2, "fused launched %llu, expected 2", (unsigned long long)lf);
  cr_assert_eq(lu, 20, "unfused launched %llu, expected 20", (unsigned long long)lu);
  assert_same_bits(yf.data, yu.data, NEL, "20 steps");
  nncl_array_free(&yf);
  nncl_array_free(&yu);
  nncl_graph_destroy(gf);
  nncl_graph_destroy(gu);
  free_data(&d);
}
