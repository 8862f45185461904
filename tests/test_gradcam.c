/* test_gradcam.c: Grad-CAM of `nncl cam` (tools/gradcam.c, gradient by the library's autodiff) on
   a tiny conv net against a naive double-precision C Grad-CAM whose gradient comes from central
   finite differences of a naive forward pass. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/gradcam.h"
#include "test_util.h"

/* x [1, CI, S, S] -> Conv 3x3 pad 1 -> Relu = "act" [1, CA, S, S] -> Conv 3x3 pad 1 -> Relu
   -> Flatten -> Gemm -> logits [1, K]. The second conv and ReLU make the score non-linear in act,
   so the gradient differs from place to place and between classes. */
#define CI 2
#define CA 3
#define CB 2
#define S 6
#define K 4
#define HW (S * S)

struct net {
  nncl_array x, w1, b1, w2, b2, wf, bf;
};

static struct net make_net(void) {
  struct net n = {
      TU_RAND(1, 1, CI, S, S), TU_RAND(2, CA, CI, 3, 3), TU_RAND(3, CA), TU_RAND(4, CB, CA, 3, 3),
      TU_RAND(5, CB),          TU_RAND(6, K, CB * HW),   TU_RAND(7, K)};
  return n;
}

static void free_net(struct net *n) {
  nncl_array *a[] = {&n->x, &n->w1, &n->b1, &n->w2, &n->b2, &n->wf, &n->bf};
  for (int i = 0; i < 7; i++) nncl_array_free(a[i]);
}

static nncl_graph *build(const struct net *n) {
  nncl_graph *g = NULL;
  const nncl_shape xs = {4, {1, CI, S, S}};
  const char *fin[1] = {"h2"}, *fout[1] = {"flat"};
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &xs), NNCL_OK);
  cr_assert_eq(nncl_graph_conv2d(g, "conv1", "x", "c1", &n->w1, &n->b1, 1, 1, 1, 1), NNCL_OK);
  cr_assert_eq(nncl_graph_activation(g, "relu1", "Relu", "c1", "act"), NNCL_OK);
  cr_assert_eq(nncl_graph_conv2d(g, "conv2", "act", "c2", &n->w2, &n->b2, 1, 1, 1, 1), NNCL_OK);
  cr_assert_eq(nncl_graph_activation(g, "relu2", "Relu", "c2", "h2"), NNCL_OK);
  cr_assert_eq(nncl_graph_add_node(g, "Flatten", "flatten", 1, fin, 1, fout, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_dense(g, "fc", "flat", "logits", &n->wf, &n->bf), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "logits"), NNCL_OK);
  return g;
}

/* y [co, S, S] = relu(conv3x3_pad1(x [ci, S, S], w) + b), in double. */
static void conv_relu(const double *x, int ci, const float *w, const float *b, int co, double *y) {
  for (int o = 0; o < co; o++)
    for (int r = 0; r < S; r++)
      for (int c = 0; c < S; c++) {
        double s = b[o];
        for (int i = 0; i < ci; i++)
          for (int dr = -1; dr <= 1; dr++)
            for (int dc = -1; dc <= 1; dc++) {
              int rr = r + dr, cc = c + dc;
              if (rr < 0 || rr >= S || cc < 0 || cc >= S) continue;
              s += x[(i * S + rr) * S + cc] * w[((o * ci + i) * 3 + dr + 1) * 3 + dc + 1];
            }
        y[(o * S + r) * S + c] = s > 0 ? s : 0;
      }
}

/* The class-k logit as a function of the layer's activations act [CA, S, S]. */
static double score_of(const struct net *n, const double *act, int k) {
  double h2[CB * HW];
  conv_relu(act, CA, n->w2.data, n->b2.data, CB, h2);
  const float *wf = n->wf.data;
  double s = ((const float *)n->bf.data)[k];
  for (int j = 0; j < CB * HW; j++) s += wf[k * CB * HW + j] * h2[j];
  return s;
}

/* Naive Grad-CAM of class k: d score / d act by central differences (step 1e-4 in double: the
   truncation error of a piecewise-linear function is zero away from ReLU kinks and the rounding
   error about 1e-12), weights = spatial means, cam = ReLU(sum_c w_c act_c). */
static void gradcam_ref(const struct net *n, int k, double *cam, int *top) {
  double x[CI * HW], act[CA * HW], grad[CA * HW];
  for (int i = 0; i < CI * HW; i++) x[i] = ((const float *)n->x.data)[i];
  conv_relu(x, CI, n->w1.data, n->b1.data, CA, act);
  *top = 0;
  for (int j = 1; j < K; j++)
    if (score_of(n, act, j) > score_of(n, act, *top)) *top = j;
  const double h = 1e-4;
  for (int i = 0; i < CA * HW; i++) {
    double keep = act[i];
    act[i] = keep + h;
    double up = score_of(n, act, k);
    act[i] = keep - h;
    double down = score_of(n, act, k);
    act[i] = keep;
    grad[i] = (up - down) / (2 * h);
  }
  for (int p = 0; p < HW; p++) cam[p] = 0;
  for (int c = 0; c < CA; c++) {
    double w = 0;
    for (int p = 0; p < HW; p++) w += grad[c * HW + p];
    w /= HW;
    for (int p = 0; p < HW; p++) cam[p] += w * act[c * HW + p];
  }
  for (int p = 0; p < HW; p++) cam[p] = cam[p] > 0 ? cam[p] : 0;
}

Test(gradcam, every_class_matches_finite_difference_grad_cam) {
  struct net n = make_net();
  int nonzero = 0;
  for (int k = -1; k < K; k++) {
    double ref[HW];
    int top;
    gradcam_ref(&n, k < 0 ? 0 : k, ref, &top);
    if (k < 0) gradcam_ref(&n, top, ref, &top); /* the default explains the top class */
    nncl_graph *g = build(&n);
    gradcam_map m;
    nncl_status st = gradcam_compute(g, "act", &n.x, k, &m);
    cr_assert_eq(st, NNCL_OK, "class %d: %s", k, nncl_status_string(st));
    cr_assert_eq(m.klass, k < 0 ? top : k, "explained class %d, expected %d", m.klass, top);
    cr_assert(m.h == S && m.w == S, "map %d x %d, expected %d x %d", m.h, m.w, S, S);
    /* float32 forward and backward against double: relative 1e-4 of the map's largest value
       (sums of about 60 products of values in [-1, 1]) */
    double peak = 0;
    for (int p = 0; p < HW; p++) peak = fmax(peak, ref[p]);
    nonzero += peak > 0;
    int worst = 0;
    double err = 0;
    for (int p = 0; p < HW; p++) {
      double e = fabs(m.cam[p] - ref[p]);
      if (e > err) err = e, worst = p;
    }
    cr_assert(err <= 1e-4 * peak + 1e-6,
              "class %d: cam[%d] = %.7g, finite differences give %.7g (peak %.4g)", k, worst,
              (double)m.cam[worst], ref[worst], peak);
    free(m.cam);
    nncl_graph_destroy(g);
  }
  cr_assert(nonzero >= 2, "only %d classes have a non-zero map: the comparison tests too little",
            nonzero);
  free_net(&n);
}

Test(gradcam, unknown_layer_and_class_are_errors) {
  struct net n = make_net();
  nncl_graph *g = build(&n);
  gradcam_map m;
  /* the getters the candidate list is made from: nodes as built, NULL out of range */
  cr_assert_eq(nncl_graph_num_nodes(g), 6);
  cr_assert_str_eq(nncl_graph_node_output_name(g, 1), "act");
  cr_assert_str_eq(nncl_graph_node_op_type(g, 1), "Relu");
  cr_assert_null(nncl_graph_node_output_name(g, 6));
  cr_assert_null(nncl_graph_node_op_type(g, -1));
  cr_assert_null(nncl_graph_node_output_name(NULL, 0));
  cr_assert_eq(gradcam_compute(g, "no_such_value", &n.x, -1, &m), NNCL_ERR_NOT_FOUND);
  cr_assert_null(m.cam);
  nncl_graph_destroy(g);
  g = build(&n);
  cr_assert_neq(gradcam_compute(g, "act", &n.x, K, &m), NNCL_OK, "class %d of %d accepted", K, K);
  cr_assert_null(m.cam);
  nncl_graph_destroy(g);
  free_net(&n);
}

Test(gradcam, resize_normalises_and_keeps_the_grid_values) {
  /* 2x2 -> 4x4, half-pixel: corners keep the source corners; values are min-max normalised */
  const float cam[4] = {0, 2, 4, 8};
  float out[16];
  gradcam_resize(cam, 2, 2, out, 4, 4);
  const float want_corner[4] = {0, 2.0f / 8, 4.0f / 8, 1};
  const int at[4] = {0, 3, 12, 15};
  for (int i = 0; i < 4; i++)
    cr_assert(fabsf(out[at[i]] - want_corner[i]) < 1e-5f, "out[%d] = %g, expected %g", at[i],
              (double)out[at[i]], (double)want_corner[i]);
  /* out[1]: source x = (1 + 0.5) / 2 - 0.5 = 0.25 between 0 and 2 on the first row */
  cr_assert(fabsf(out[1] - 0.5f / 8) < 1e-5f, "out[1] = %g, expected %g", (double)out[1], 0.5 / 8);
}
