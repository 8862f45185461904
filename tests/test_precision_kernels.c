/* test_precision_kernels.c: graph.precision=fp16-storage kernel by kernel (direct Conv with a
   fused Relu and with the forced pack of a 1x1 conv, Gemm, MaxPool, AveragePool,
   GlobalAveragePool, a unary and a broadcast binary op) on awkward shapes, against the naive
   float32 references of tests/ref/ evaluated on the unrounded inputs.

   Tolerance, per element, from float16's relative rounding u = 2^-11 (round to nearest even):
   the inputs and weights are each stored rounded, so a sum of products sum(w x) moves by at most
   (2u + u^2) sum|w x| and a bias by u|b|; the stored output adds u|y|; float32 accumulation adds
   well under 1e-5 sum|w x| for these sizes. Pools (max, mean) and 1-Lipschitz activations (Relu,
   Tanh) move by at most u times their inputs' magnitude. So
     |got - want| <= (2u + u^2) * mag + u * |b| + u * |want| + 1e-5 * mag + 1e-7,
   where mag is the same reference run on |x| and |w| (the sum of the terms' magnitudes).
   Every output must also be exactly a float16 value: proof that it was stored as half, not run
   in float32 behind the option's back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/graph.h"
#include "ref/conv_ref.h"
#include "ref/gemm_ref.h"
#include "ref/pool_ref.h"
#include "runtime.h"
#include "test_util.h"

#define HALF_U (1.0 / 2048.0)

static nncl_array absolute(const nncl_array *a) {
  nncl_array r;
  cr_assert_eq(nncl_array_alloc(&r, NNCL_FLOAT32, &a->shape), NNCL_OK);
  const float *s = a->data;
  float *d = r.data;
  for (int64_t i = 0; i < nncl_shape_numel(&a->shape); i++) d[i] = fabsf(s[i]);
  return r;
}

/* got against want within the bound above (bias: per element |b| or NULL); names the worst. */
static void assert_half_close(const nncl_array *got, const float *want, const float *mag,
                              const float *bias_abs, int64_t n, const char *what) {
  cr_assert_eq(got->dtype, NNCL_FLOAT32, "%s: output dtype %s", what, nncl_dtype_name(got->dtype));
  cr_assert_eq(nncl_shape_numel(&got->shape), n, "%s: %lld outputs, expected %lld", what,
               (long long)nncl_shape_numel(&got->shape), (long long)n);
  const float *g = got->data;
  double worst = -1.0;
  int64_t wi = 0;
  for (int64_t i = 0; i < n; i++) {
    double tol = (2 * HALF_U + HALF_U * HALF_U + 1e-5) * mag[i] + HALF_U * fabs((double)want[i]) +
                 (bias_abs ? HALF_U * bias_abs[i] : 0.0) + 1e-7;
    double r = fabs((double)g[i] - (double)want[i]) / tol;
    if (r > worst || isnan(g[i])) {
      worst = isnan(g[i]) ? INFINITY : r;
      wi = i;
    }
    cr_assert_eq(nncl__half_to_float(nncl__half_from_float(g[i])), g[i],
                 "%s: element %lld = %.9g is not a float16 value: the output was not stored as "
                 "half",
                 what, (long long)i, (double)g[i]);
  }
  cr_assert(worst <= 1.0, "%s: element %lld is %.8g, expected %.8g (error %.3g of the half bound)",
            what, (long long)wi, (double)g[wi], (double)want[wi], worst);
  cr_log_info("%s: worst element %lld at %.3g of the float16 bound", what, (long long)wi, worst);
}

/* A graph with input "x" and output "y" planned under fp16-storage; add nodes between. */
static nncl_graph *graph_with_input(const nncl_array *x) {
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &x->shape), NNCL_OK);
  cr_assert_eq(nncl_graph_set_option(g, "graph.precision", "fp16-storage"), NNCL_OK);
  return g;
}

static nncl_array run_graph(nncl_graph *g, const nncl_array *x) {
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  cr_assert_eq(nncl_graph_set_input(g, "x", x), NNCL_OK);
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  nncl_array y;
  cr_assert_eq(nncl_graph_get_output(g, 0, &y), NNCL_OK);
  return y;
}

struct conv_case {
  int64_t n, c, h, w, k, r, s, stride, pads[4];
  int bias, relu;
};

static void check_conv(const struct conv_case *cc, uint32_t seed, const char *what) {
  nncl_array x = TU_RAND(seed, cc->n, cc->c, cc->h, cc->w);
  nncl_array w = TU_RAND(seed + 1, cc->k, cc->c, cc->r, cc->s);
  nncl_array b = TU_RAND(seed + 2, cc->k);
  nncl_graph *g = graph_with_input(&x);
  cr_assert_eq(nncl_graph_add_constant(g, "w", &w), NNCL_OK);
  cr_assert_eq(nncl_graph_add_constant(g, "b", &b), NNCL_OK);
  const char *in[3] = {"x", "w", "b"}, *mid = cc->relu ? "conv" : "y", *out = "y";
  nncl_node *node;
  cr_assert_eq(nncl_graph_add_node(g, "Conv", "the_conv", cc->bias ? 3 : 2, in, 1, &mid, &node),
               NNCL_OK);
  int64_t strides[2] = {cc->stride, cc->stride};
  cr_assert_eq(nncl_node_set_ints(g, node, "strides", strides, 2), NNCL_OK);
  cr_assert_eq(nncl_node_set_ints(g, node, "pads", cc->pads, 4), NNCL_OK);
  if (cc->relu) cr_assert_eq(nncl_graph_add_node(g, "Relu", "the_relu", 1, &mid, 1, &out, NULL), 0);
  nncl_array y = run_graph(g, &x);

  struct conv_ref_geom rg = {.N = cc->n,
                             .C = cc->c,
                             .H = cc->h,
                             .W = cc->w,
                             .K = cc->k,
                             .R = cc->r,
                             .S = cc->s,
                             .sh = cc->stride,
                             .sw = cc->stride,
                             .dh = 1,
                             .dw = 1,
                             .pt = cc->pads[0],
                             .pl = cc->pads[1],
                             .pb = cc->pads[2],
                             .pr = cc->pads[3],
                             .groups = 1};
  int64_t oh, ow;
  conv_ref_out_size(&rg, 0, &oh, &ow);
  int64_t n = cc->n * cc->k * oh * ow;
  float *want = malloc((size_t)n * sizeof *want), *mag = malloc((size_t)n * sizeof *mag);
  float *babs = malloc((size_t)n * sizeof *babs);
  cr_assert(want && mag && babs);
  struct op_epilogue relu = {.act = OP_ACT_RELU};
  conv_ref(&rg, x.data, w.data, cc->bias ? b.data : NULL, cc->relu ? &relu : NULL, NULL, want);
  nncl_array xa = absolute(&x), wa = absolute(&w);
  conv_ref(&rg, xa.data, wa.data, NULL, NULL, NULL, mag);
  for (int64_t i = 0; i < n; i++)
    babs[i] = cc->bias ? fabsf(((const float *)b.data)[(i / (oh * ow)) % cc->k]) : 0.0f;
  assert_half_close(&y, want, mag, babs, n, what);
  free(want);
  free(mag);
  free(babs);
  nncl_array_free(&xa);
  nncl_array_free(&wa);
  nncl_array_free(&x);
  nncl_array_free(&w);
  nncl_array_free(&b);
  nncl_array_free(&y);
  nncl_graph_destroy(g);
}

Test(precision_kernels, conv_stride2_asymmetric_pads_bias_relu) {
  struct conv_case cc = {.n = 2,
                         .c = 3,
                         .h = 9,
                         .w = 11,
                         .k = 5,
                         .r = 3,
                         .s = 3,
                         .stride = 2,
                         .pads = {1, 0, 2, 1},
                         .bias = 1,
                         .relu = 1};
  check_conv(&cc, 11, "Conv 3x3 stride 2 + bias + Relu");
}

/* 1x1, stride 1, no pads: the float32 path reads the input in place; half storage packs it */
Test(precision_kernels, conv_1x1_unpadded) {
  struct conv_case cc = {.n = 3, .c = 7, .h = 5, .w = 6, .k = 9, .r = 1, .s = 1, .stride = 1};
  check_conv(&cc, 21, "Conv 1x1");
}

Test(precision_kernels, conv_5x5_wide_rows) {
  struct conv_case cc = {.n = 1,
                         .c = 2,
                         .h = 28,
                         .w = 37,
                         .k = 17,
                         .r = 5,
                         .s = 5,
                         .stride = 1,
                         .pads = {2, 2, 2, 2},
                         .bias = 1};
  check_conv(&cc, 31, "Conv 5x5 on 37-wide rows");
}

/* Gemm: y = x B^T + c, B a constant [n, k] (the fully connected layer's form), odd sizes. */
Test(precision_kernels, gemm_trans_b_bias) {
  const int64_t m = 5, k = 37, nn = 19;
  nncl_array x = TU_RAND(41, m, k), w = TU_RAND(42, nn, k), c = TU_RAND(43, nn);
  nncl_graph *g = graph_with_input(&x);
  cr_assert_eq(nncl_graph_add_constant(g, "w", &w), NNCL_OK);
  cr_assert_eq(nncl_graph_add_constant(g, "c", &c), NNCL_OK);
  const char *in[3] = {"x", "w", "c"}, *out = "y";
  nncl_node *node;
  cr_assert_eq(nncl_graph_add_node(g, "Gemm", "the_gemm", 3, in, 1, &out, &node), NNCL_OK);
  cr_assert_eq(nncl_node_set_int(g, node, "transB", 1), NNCL_OK);
  nncl_array y = run_graph(g, &x);
  float want[5 * 19], mag[5 * 19], babs[5 * 19];
  ref_gemm(x.data, w.data, &c, want, m, nn, k, 0, 1, 1.0f, 1.0f);
  nncl_array xa = absolute(&x), wa = absolute(&w);
  ref_gemm(xa.data, wa.data, NULL, mag, m, nn, k, 0, 1, 1.0f, 1.0f);
  for (int64_t i = 0; i < m * nn; i++) babs[i] = fabsf(((const float *)c.data)[i % nn]);
  assert_half_close(&y, want, mag, babs, m * nn, "Gemm transB + bias");
  nncl_array_free(&xa);
  nncl_array_free(&wa);
  nncl_array_free(&x);
  nncl_array_free(&w);
  nncl_array_free(&c);
  nncl_array_free(&y);
  nncl_graph_destroy(g);
}

/* MaxPool (is_max) or AveragePool 3x3 stride 2, pads 1, on [2, 3, 9, 27], through pool.algo
   algo: rows (a work-item per output row, eight outputs a step) or direct (the 3-D grid). */
static void check_pool(const char *op, int is_max, const char *algo, uint32_t seed) {
  nncl_array x = TU_RAND(seed, 2, 3, 9, 27);
  nncl_graph *g = graph_with_input(&x);
  cr_assert_eq(nncl_graph_set_option(g, "pool.algo", algo), NNCL_OK);
  const char *in = "x", *out = "y";
  nncl_node *node;
  cr_assert_eq(nncl_graph_add_node(g, op, "the_pool", 1, &in, 1, &out, &node), NNCL_OK);
  int64_t k[2] = {3, 3}, s[2] = {2, 2}, pads[4] = {1, 1, 1, 1};
  cr_assert_eq(nncl_node_set_ints(g, node, "kernel_shape", k, 2), NNCL_OK);
  cr_assert_eq(nncl_node_set_ints(g, node, "strides", s, 2), NNCL_OK);
  cr_assert_eq(nncl_node_set_ints(g, node, "pads", pads, 4), NNCL_OK);
  nncl_array y = run_graph(g, &x);
  struct pool_ref_geom rg = {
      .sr = 2, .n = 2, .c = 3, .in = {9, 27}, .k = {3, 3}, .s = {2, 2}, .d = {1, 1}};
  cr_assert(pool_ref_geom_init(&rg, pads, REF_NOTSET, 0));
  int64_t n = pool_ref_out_numel(&rg);
  float *want = malloc((size_t)n * sizeof *want), *mag = malloc((size_t)n * sizeof *mag);
  cr_assert(want && mag);
  nncl_array xa = absolute(&x);
  if (is_max) {
    pool_ref_max(x.data, &rg, want, NULL, 0);
    pool_ref_max(xa.data, &rg, mag, NULL, 0);
  } else {
    pool_ref_avg(x.data, &rg, 0, want);
    pool_ref_avg(xa.data, &rg, 0, mag);
  }
  /* a pool takes no product: the input's rounding is u * mag, the bound's 2u covers it */
  char what[64];
  snprintf(what, sizeof what, "%s (pool.algo=%s)", op, algo);
  assert_half_close(&y, want, mag, NULL, n, what);
  free(want);
  free(mag);
  nncl_array_free(&xa);
  nncl_array_free(&x);
  nncl_array_free(&y);
  nncl_graph_destroy(g);
}

Test(precision_kernels, max_pool_rows) { check_pool("MaxPool", 1, "rows", 51); }

Test(precision_kernels, max_pool_grid) { check_pool("MaxPool", 1, "direct", 53); }

Test(precision_kernels, average_pool_rows) { check_pool("AveragePool", 0, "rows", 52); }

Test(precision_kernels, average_pool_grid) { check_pool("AveragePool", 0, "direct", 54); }

Test(precision_kernels, global_average_pool) {
  nncl_array x = TU_RAND(61, 3, 5, 7, 9);
  nncl_graph *g = graph_with_input(&x);
  const char *in = "x", *out = "y";
  cr_assert_eq(nncl_graph_add_node(g, "GlobalAveragePool", "the_gap", 1, &in, 1, &out, NULL), 0);
  nncl_array y = run_graph(g, &x);
  float want[15], mag[15];
  nncl_array xa = absolute(&x);
  pool_ref_global(x.data, 15, 63, 0, 2.0, want);
  pool_ref_global(xa.data, 15, 63, 0, 2.0, mag);
  assert_half_close(&y, want, mag, NULL, 15, "GlobalAveragePool");
  nncl_array_free(&xa);
  nncl_array_free(&x);
  nncl_array_free(&y);
  nncl_graph_destroy(g);
}

/* Tanh on its own (not fused): the element-wise kernel reads and writes half, 1-Lipschitz. An odd
   element count exercises the kernel's scalar tail. */
Test(precision_kernels, unary_tanh) {
  nncl_array x = TU_RAND(71, 3, 37);
  float *xv = x.data;
  for (int i = 0; i < 111; i++) xv[i] *= 3.0f;
  nncl_graph *g = graph_with_input(&x);
  const char *in = "x", *out = "y";
  cr_assert_eq(nncl_graph_add_node(g, "Tanh", "the_tanh", 1, &in, 1, &out, NULL), NNCL_OK);
  nncl_array y = run_graph(g, &x);
  float want[111], mag[111];
  for (int i = 0; i < 111; i++) {
    want[i] = (float)tanh((double)xv[i]);
    mag[i] = fabsf(xv[i]);
  }
  assert_half_close(&y, want, mag, NULL, 111, "Tanh");
  nncl_array_free(&x);
  nncl_array_free(&y);
  nncl_graph_destroy(g);
}

/* Mul with a broadcast constant [5, 1] over [3, 5, 7]: both operands stored rounded, so a product
   moves by (2u + u^2)|a b|: mag = |a b|. The element-wise broadcast kernel reads and writes half. */
Test(precision_kernels, binary_mul_broadcast) {
  nncl_array x = TU_RAND(81, 3, 5, 7), b = TU_RAND(82, 5, 1);
  nncl_graph *g = graph_with_input(&x);
  cr_assert_eq(nncl_graph_add_constant(g, "b", &b), NNCL_OK);
  const char *in[2] = {"x", "b"}, *out = "y";
  cr_assert_eq(nncl_graph_add_node(g, "Mul", "the_mul", 2, in, 1, &out, NULL), NNCL_OK);
  nncl_array y = run_graph(g, &x);
  float want[105], mag[105];
  const float *xv = x.data, *bv = b.data;
  for (int i = 0; i < 105; i++) {
    want[i] = xv[i] * bv[(i / 7) % 5];
    mag[i] = fabsf(want[i]);
  }
  assert_half_close(&y, want, mag, NULL, 105, "Mul broadcast");
  nncl_array_free(&x);
  nncl_array_free(&b);
  nncl_array_free(&y);
  nncl_graph_destroy(g);
}
