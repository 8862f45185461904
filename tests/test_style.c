/* test_style.c: `nncl style`'s pieces against independent host code in double: the loss
   (random-filter network, Gram matrices, content and style terms; tools/style_net.c,
   tools/style_loss.c) and its gradient with respect to the picture (the library's autodiff)
   against central finite differences of a naive reimplementation; Adam's update of the picture as
   graph nodes (tools/style_adam.c) against PyTorch's formula with the clamp; L-BFGS's two-loop
   recursion (tools/style_lbfgs.c) against the secant equation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/style_adam.h"
#include "../tools/style_lbfgs.h"
#include "../tools/style_loss.h"
#include "../tools/style_net.h"
#include "test_util.h"

/* A 3 x 9 x 10 picture: odd sizes, so the 2x2 average pooling drops a row and a column (9 x 10 ->
   4 x 5 -> 2 x 2) as ONNX's floor mode says. */
#define C 3
#define H 9
#define W 10
#define N (C * H * W)
#define CONTENT_W 0.7
#define STYLE_W 3.0

static const int widths[STYLE_NET_LEVELS] = {4, 5, 6};

struct ref {
  style_net_spec spec;
  nncl_array filt[STYLE_NET_LEVELS];
  double fc[64 * H * W];                /* content target: level 2's features of the content */
  double gs[STYLE_NET_LEVELS][64 * 64]; /* style targets: Gram matrices of the style picture */
};

/* y [co, h, w] = relu(conv3x3_pad1(x [ci, h, w], f)) */
static void conv_relu(const double *x, int ci, int h, int w, const float *f, int co, double *y) {
  for (int o = 0; o < co; o++)
    for (int r = 0; r < h; r++)
      for (int c = 0; c < w; c++) {
        double s = 0;
        for (int i = 0; i < ci; i++)
          for (int dr = -1; dr <= 1; dr++)
            for (int dc = -1; dc <= 1; dc++) {
              int rr = r + dr, cc = c + dc;
              if (rr < 0 || rr >= h || cc < 0 || cc >= w) continue;
              s += x[(i * h + rr) * w + cc] * f[((o * ci + i) * 3 + dr + 1) * 3 + dc + 1];
            }
        y[(o * h + r) * w + c] = s > 0 ? s : 0;
      }
}

/* 2x2 average pooling, stride 2, floor */
static void pool2(const double *x, int c, int h, int w, double *y) {
  for (int k = 0; k < c; k++)
    for (int r = 0; r < h / 2; r++)
      for (int q = 0; q < w / 2; q++) {
        const double *p = x + (k * h + 2 * r) * w + 2 * q;
        y[(k * (h / 2) + r) * (w / 2) + q] = 0.25 * (p[0] + p[1] + p[w] + p[w + 1]);
      }
}

/* every level's features of picture x; sizes[l] = its h * w */
static void features(const struct ref *r, const double *x, double f[][64 * H * W], int *hw) {
  static double pooled[64 * H * W];
  int h = H, w = W, ci = C;
  const double *in = x;
  for (int l = 0; l < STYLE_NET_LEVELS; l++) {
    if (l > 0) {
      pool2(in, ci, h, w, pooled);
      h /= 2, w /= 2;
      in = pooled;
    }
    conv_relu(in, ci, h, w, r->filt[l].data, widths[l], f[l]);
    hw[l] = h * w;
    ci = widths[l];
    in = f[l];
  }
}

static void gram(const double *f, int c, int hw, double *g) {
  for (int i = 0; i < c; i++)
    for (int j = 0; j < c; j++) {
      double s = 0;
      for (int p = 0; p < hw; p++) s += f[i * hw + p] * f[j * hw + p];
      g[i * c + j] = s / (c * hw);
    }
}

static double mse(const double *a, const double *b, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s / n;
}

static double mean_sq(const double *a, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += a[i] * a[i];
  return s / n;
}

static double loss_ref(const struct ref *r, const double *x) {
  static double f[STYLE_NET_LEVELS][64 * H * W], g[64 * 64];
  int hw[STYLE_NET_LEVELS];
  features(r, x, f, hw);
  const int nc = widths[1] * hw[1];
  double loss = CONTENT_W * mse(f[1], r->fc, nc) / mean_sq(r->fc, nc);
  for (int l = 0; l < STYLE_NET_LEVELS; l++) {
    const int c = widths[l];
    gram(f[l], c, hw[l], g);
    loss += STYLE_W / STYLE_NET_LEVELS * mse(g, r->gs[l], c * c) / mean_sq(r->gs[l], c * c);
  }
  return loss;
}

static void to_double(const nncl_array *a, double *d) {
  for (int i = 0; i < N; i++) d[i] = ((const float *)a->data)[i];
}

Test(style, loss_and_picture_gradient_match_finite_differences) {
  struct ref r;
  r.spec.in_channels = C;
  memcpy(r.spec.width, widths, sizeof widths);
  r.spec.seed = 5;
  for (int l = 0; l < STYLE_NET_LEVELS; l++)
    cr_assert_eq(style_net_filters(&r.spec, l, &r.filt[l]), NNCL_OK);
  nncl_array content = TU_RAND(11, 1, C, H, W), style = TU_RAND(12, 1, C, H, W),
             x = TU_RAND(13, 1, C, H, W);
  static double f[STYLE_NET_LEVELS][64 * H * W], xd[N];
  int hw[STYLE_NET_LEVELS];
  to_double(&content, xd);
  features(&r, xd, f, hw);
  memcpy(r.fc, f[1], sizeof r.fc);
  to_double(&style, xd);
  features(&r, xd, f, hw);
  for (int l = 0; l < STYLE_NET_LEVELS; l++) gram(f[l], widths[l], hw[l], r.gs[l]);

  nncl_graph *g = NULL;
  const nncl_shape xs = {4, {1, C, H, W}};
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &xs), NNCL_OK);
  cr_assert_eq(style_net_build(g, &r.spec, "x"), NNCL_OK);
  const char *layers[STYLE_NET_LEVELS] = {style_net_layer(0), style_net_layer(1),
                                          style_net_layer(2)};
  const style_loss_spec s = {"x", style_net_layer(1), layers, STYLE_NET_LEVELS, CONTENT_W, STYLE_W};
  nncl_status st = style_loss_build(g, &s, &content, &style);
  cr_assert_eq(st, NNCL_OK, "style_loss_build: %s", nncl_context_last_error(tu_ctx()));
  nncl_array loss = {0}, grad = {0};
  cr_assert_eq(nncl_graph_set_input(g, "x", &x), NNCL_OK);
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_graph_get_output_by_name(g, STYLE_LOSS, &loss), NNCL_OK);
  cr_assert_eq(nncl_graph_get_output_by_name(g, STYLE_GRAD, &grad), NNCL_OK);
  cr_assert_eq(nncl_shape_numel(&grad.shape), N);

  /* the device computes the host's function: float32 against double, sums of a few hundred
     products, relative 1e-4 */
  to_double(&x, xd);
  const double want = loss_ref(&r, xd), got = ((const float *)loss.data)[0];
  cr_assert(fabs(got - want) <= 1e-4 * fabs(want), "loss %.8g, host double %.8g", got, want);
  cr_assert(want > 0.1, "loss %.4g: the picture should be far from both targets", want);

  /* central differences in double, h = 1e-5: truncation error ~h^2 |f'''| away from ReLU kinks,
     rounding ~1e-16 / h; tolerance as test_train_grad's: 1e-3 relative + 1e-4 x max|fd| for the
     float32 backward pass */
  static double fd[N];
  double peak = 0;
  const double h = 1e-5;
  for (int i = 0; i < N; i++) {
    const double keep = xd[i];
    xd[i] = keep + h;
    const double up = loss_ref(&r, xd);
    xd[i] = keep - h;
    const double down = loss_ref(&r, xd);
    xd[i] = keep;
    fd[i] = (up - down) / (2 * h);
    peak = fmax(peak, fabs(fd[i]));
  }
  const float *an = grad.data;
  int worst = 0;
  double ratio = 0;
  for (int i = 0; i < N; i++) {
    const double e = fabs(an[i] - fd[i]) / (1e-3 * fabs(fd[i]) + 1e-4 * peak);
    if (e > ratio) ratio = e, worst = i;
  }
  cr_assert(peak > 1e-3, "gradient peak %.3g: the check would be empty", peak);
  cr_assert(ratio <= 1.0, "d loss / d x[%d] = %.7g, finite differences %.7g (max |fd| %.4g)", worst,
            (double)an[worst], fd[worst], peak);
  nncl_array_free(&loss);
  nncl_array_free(&grad);
  nncl_array_free(&content);
  nncl_array_free(&style);
  nncl_array_free(&x);
  for (int l = 0; l < STYLE_NET_LEVELS; l++) nncl_array_free(&r.filt[l]);
  nncl_graph_destroy(g);
}

/* filters: N(0, 2 / fan_in), a function of the seed alone */
Test(style, filters_have_he_scale_and_depend_on_the_seed_only) {
  style_net_spec a, b;
  style_net_default(&a, 3);
  style_net_default(&b, 3);
  nncl_array fa = {0}, fb = {0};
  cr_assert_eq(style_net_filters(&a, 1, &fa), NNCL_OK);
  b.width[0] = 7; /* level 1's fan-in changes, so its values do too; same seed */
  b.seed = a.seed;
  cr_assert_eq(style_net_filters(&b, 1, &fb), NNCL_OK);
  cr_assert_eq(fa.shape.dims[1], 32);
  const int64_t n = nncl_shape_numel(&fa.shape);
  double s2 = 0;
  for (int64_t i = 0; i < n; i++) s2 += (double)((float *)fa.data)[i] * ((float *)fa.data)[i];
  /* 64 x 32 x 9 = 18432 samples: the variance's standard error is sqrt(2 / n) = 1% */
  const double var = s2 / (double)n, want = 2.0 / (32 * 9);
  cr_assert(fabs(var / want - 1) < 0.05, "filter variance %.5g, He's %.5g", var, want);
  nncl_array_free(&fa);
  nncl_array_free(&fb);
  cr_assert_eq(style_net_filters(&a, 1, &fa), NNCL_OK);
  cr_assert_eq(style_net_filters(&a, 1, &fb), NNCL_OK);
  cr_assert_eq(memcmp(fa.data, fb.data, nncl_array_bytes(&fa)), 0, "same seed, other filters");
  nncl_array_free(&fa);
  nncl_array_free(&fb);
}

/* Adam as graph nodes against torch.optim.Adam's formula in double, with the clamp, 5 steps */
Test(style, adam_nodes_follow_pytorch_and_keep_the_range) {
  enum { AN = 2 * 3 * 4 };
  const nncl_shape xs = {4, {1, 2, 3, 4}};
  const float lr[2] = {0.05f, 0.2f}, lo[2] = {-0.8f, -1.0f}, hi[2] = {0.7f, 0.9f};
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &xs), NNCL_OK);
  cr_assert_eq(nncl_graph_add_input(g, "g", NNCL_FLOAT32, &xs), NNCL_OK);
  /* planned and run before Adam's inputs are added, as nncl style's graph is (a re-plan must not
     read the old plan's inputs past its own count) */
  const char *gin = "g", *gout = "g_copy";
  cr_assert_eq(nncl_graph_add_node(g, "Identity", "copy", 1, &gin, 1, &gout, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "g_copy"), NNCL_OK);
  nncl_array x0 = TU_RAND(20, 1, 2, 3, 4);
  cr_assert_eq(nncl_graph_set_input(g, "x", &x0), NNCL_OK);
  cr_assert_eq(nncl_graph_set_input(g, "g", &x0), NNCL_OK);
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  nncl_array_free(&x0);
  const style_adam_spec a = {"x", "g", 2, lr, lo, hi, 0.9, 0.999, 1e-8};
  cr_assert_eq(style_adam_build(g, &a), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  nncl_array x = TU_RAND(21, 1, 2, 3, 4), m = TU_ZEROS(NNCL_FLOAT32, 1, 2, 3, 4),
             v = TU_ZEROS(NNCL_FLOAT32, 1, 2, 3, 4);
  double xr[AN], mr[AN] = {0}, vr[AN] = {0};
  for (int i = 0; i < AN; i++) xr[i] = ((float *)x.data)[i];
  int clamped = 0;
  for (int t = 1; t <= 5; t++) {
    nncl_array grad = TU_RAND(30 + t, 1, 2, 3, 4);
    cr_assert_eq(nncl_graph_set_input(g, "x", &x), NNCL_OK);
    cr_assert_eq(nncl_graph_set_input(g, "g", &grad), NNCL_OK);
    cr_assert_eq(nncl_graph_set_input(g, STYLE_ADAM_M, &m), NNCL_OK);
    cr_assert_eq(nncl_graph_set_input(g, STYLE_ADAM_V, &v), NNCL_OK);
    cr_assert_eq(style_adam_set_step(g, &a, t), NNCL_OK);
    cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
    nncl_array_free(&x);
    nncl_array_free(&m);
    nncl_array_free(&v);
    cr_assert_eq(nncl_graph_get_output_by_name(g, STYLE_ADAM_IMAGE_OUT, &x), NNCL_OK);
    cr_assert_eq(nncl_graph_get_output_by_name(g, STYLE_ADAM_M_OUT, &m), NNCL_OK);
    cr_assert_eq(nncl_graph_get_output_by_name(g, STYLE_ADAM_V_OUT, &v), NNCL_OK);
    const double b1 = 0.9, b2 = 0.999;
    for (int i = 0; i < AN; i++) {
      const int c = i / 12;
      const double gi = ((float *)grad.data)[i];
      mr[i] += (1 - b1) * (gi - mr[i]);
      vr[i] = b2 * vr[i] + (1 - b2) * gi * gi;
      const double denom = sqrt(vr[i]) / sqrt(1 - pow(b2, t)) + 1e-8;
      const double next = xr[i] - lr[c] / (1 - pow(b1, t)) * mr[i] / denom;
      xr[i] = fmin(fmax(next, lo[c]), hi[c]);
      clamped += next < lo[c] || next > hi[c];
    }
    nncl_array_free(&grad);
    /* float32 against double: each step moves by at most lr, rounding ~1e-7 per step */
    float want[AN];
    for (int i = 0; i < AN; i++) want[i] = (float)xr[i];
    tu_assert_close((const float *)x.data, want, AN, 2e-6, 2e-6, "picture after Adam steps");
    for (int i = 0; i < AN; i++) want[i] = (float)mr[i];
    tu_assert_close((const float *)m.data, want, AN, 2e-6, 1e-7, "first moment");
    for (int i = 0; i < AN; i++) want[i] = (float)vr[i];
    tu_assert_close((const float *)v.data, want, AN, 2e-6, 1e-9, "second moment");
  }
  cr_assert(clamped > 0, "no element reached the range's ends: the clamp is untested");
  nncl_array_free(&x);
  nncl_array_free(&m);
  nncl_array_free(&v);
  nncl_graph_destroy(g);
}

/* L-BFGS's two-loop recursion: H satisfies the secant equation of the newest pair, H dg = dx,
   whatever came before (BFGS's defining property), and with no pair d = -g. A quadratic with a
   random symmetric positive definite A gives the pairs dg = A dx. */
Test(style, lbfgs_direction_satisfies_the_secant_equation) {
  enum { LN = 6, PAIRS = 4 };
  float a[LN * LN], m[LN * LN], dx[PAIRS][LN], dg[PAIRS][LN], d[LN];
  tu_fill(m, LN * LN, 41, -1.0f, 1.0f);
  for (int i = 0; i < LN; i++) /* A = M M^T + I */
    for (int j = 0; j < LN; j++) {
      double s = i == j;
      for (int k = 0; k < LN; k++) s += (double)m[i * LN + k] * m[j * LN + k];
      a[i * LN + j] = (float)s;
    }
  style_lbfgs *s = style_lbfgs_create(LN, 3); /* fewer slots than pairs: the ring wraps */
  cr_assert_not_null(s);
  tu_fill(dx[0], PAIRS * LN, 42, -1.0f, 1.0f);
  style_lbfgs_direction(s, dx[0], d);
  for (int i = 0; i < LN; i++) cr_assert_eq(d[i], -dx[0][i], "no history: d = -g");
  for (int p = 0; p < PAIRS; p++) {
    for (int i = 0; i < LN; i++) {
      double v = 0;
      for (int j = 0; j < LN; j++) v += (double)a[i * LN + j] * dx[p][j];
      dg[p][i] = (float)v;
    }
    cr_assert(style_lbfgs_push(s, dx[p], dg[p]), "pair %d has positive curvature", p);
    style_lbfgs_direction(s, dg[p], d);
    float want[LN];
    for (int i = 0; i < LN; i++) want[i] = -dx[p][i];
    /* float storage, double sums over 6 elements and up to 3 pairs: 1e-4 */
    tu_assert_close(d, want, LN, 1e-4, 1e-4, "H dg of the newest pair");
  }
  float neg[LN];
  for (int i = 0; i < LN; i++) neg[i] = -dx[0][i];
  cr_assert(!style_lbfgs_push(s, dx[0], neg), "a pair with negative curvature is refused");
  style_lbfgs_destroy(s);
}
