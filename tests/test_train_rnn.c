/* test_train_rnn.c: back-propagation through time (RNN, LSTM, GRU backward rule and their
   gradient ops) checked by central finite differences. Each case is one recurrent node with the
   loss sum(Y * rY) + sum(Y_h * rH) [+ sum(Y_c * rC)] for fixed random r; nncl's autodiff pass
   appends the backward node and the device computes the gradient of every float input (X, W, R,
   B, initial_h, initial_c, P) in float32. The reference is (L(x + h) - L(x - h)) / 2h evaluated in
   double by the naive recurrence of tests/ref/rnn_ref.c (h = 1e-4: truncation error ~1e-8).
   Cases cover every direction, sequence_lens (with a sequence of length 0 and one of full
   length), initial states, peepholes, clip, input_forget, linear_before_reset, both layouts,
   several steps, odd sizes and every gate activation ONNX allows.
   Tolerance: |got - fd| <= 1e-3 |fd| + 1e-4 max(1, max |fd|): float32 products over a few steps
   carry ~1e-5 relative error, so 1e-3 leaves a wide margin while a wrong index, sign, gate or
   step (errors of order 1) fails. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "nncl/graph.h"
#include "ref/rnn_ref.h"
#include "test_util.h"

/* rnn_ref.h's activation codes by name, with whether each takes alpha and beta */
static const struct {
  const char *name;
  int alpha, beta;
} acts[] = {{"Relu", 0, 0},       {"Tanh", 0, 0},        {"Sigmoid", 0, 0},
            {"Affine", 1, 1},     {"LeakyRelu", 1, 0},   {"ThresholdedRelu", 1, 0},
            {"ScaledTanh", 1, 1}, {"HardSigmoid", 1, 1}, {"Elu", 1, 0},
            {"Softsign", 0, 0},   {"Softplus", 0, 0}};

struct rc {
  int cell;
  const char *dir;
  int layout, seq, batch, in, hidden;
  int bias, h0, c0, peep;
  const int32_t *lens;
  float clip;
  int input_forget, lbr;
  int n_acts; /* 0: the cell's defaults; else one list per direction */
  int act[6];
  float alpha[6], beta[6];
  int use_y, use_yc; /* Y_h always feeds the loss */
};

enum { I_X, I_W, I_R, I_B, I_LENS, I_H0, I_C0, I_P, N_SLOTS };
static const char *slot_name[N_SLOTS] = {"X", "W", "R", "B", "lens", "h0", "c0", "P"};

struct rdata {
  const struct rc *t;
  struct rnn_ref cfg;
  int dirs, gates;
  size_t n[N_SLOTS];   /* element counts */
  float *f[N_SLOTS];   /* float inputs (NULL when absent) */
  double *d[N_SLOTS];  /* the same in double, perturbed by the finite differences */
  size_t ny, nh;       /* Y and state sizes */
  float *ry, *rh, *rc; /* loss weights */
};

static void setup(struct rdata *r, const struct rc *t) {
  memset(r, 0, sizeof *r);
  r->t = t;
  const int D = strcmp(t->dir, "bidirectional") == 0 ? 2 : 1;
  const int G = t->cell == REF_LSTM ? 4 : t->cell == REF_GRU ? 3 : 1;
  const int per = t->cell == REF_LSTM ? 3 : t->cell == REF_GRU ? 2 : 1;
  const size_t S = (size_t)t->seq, B = (size_t)t->batch, I = (size_t)t->in, H = (size_t)t->hidden;
  r->dirs = D, r->gates = G;
  r->n[I_X] = S * B * I;
  r->n[I_W] = D * G * H * I;
  r->n[I_R] = D * G * H * H;
  r->n[I_B] = t->bias ? D * 2 * G * H : 0;
  r->n[I_H0] = t->h0 ? D * B * H : 0;
  r->n[I_C0] = t->c0 ? D * B * H : 0;
  r->n[I_P] = t->peep ? D * 3 * H : 0;
  static const float lo[N_SLOTS] = {-1, -0.6f, -0.6f, -0.5f, 0, -1, -1, -0.5f};
  for (int i = 0; i < N_SLOTS; i++) {
    if (!r->n[i]) continue;
    r->f[i] = malloc(r->n[i] * sizeof(float));
    r->d[i] = malloc(r->n[i] * sizeof(double));
    tu_fill(r->f[i], r->n[i], 501u + 37u * (uint32_t)i, lo[i], -lo[i]);
    for (size_t k = 0; k < r->n[i]; k++) r->d[i][k] = r->f[i][k];
  }
  r->ny = S * D * B * H;
  r->nh = D * B * H;
  r->ry = malloc(r->ny * sizeof(float));
  r->rh = malloc(r->nh * sizeof(float));
  r->rc = malloc(r->nh * sizeof(float));
  tu_fill(r->ry, r->ny, 977, -1, 1);
  tu_fill(r->rh, r->nh, 978, -1, 1);
  tu_fill(r->rc, r->nh, 979, -1, 1);
  struct rnn_ref *c = &r->cfg;
  c->cell = t->cell;
  c->dirs = D;
  c->reverse_only = strcmp(t->dir, "reverse") == 0;
  c->layout = t->layout;
  c->seq = t->seq, c->batch = t->batch, c->in = t->in, c->hidden = t->hidden;
  c->lens = t->lens;
  c->clip = t->clip;
  c->input_forget = t->input_forget;
  c->lbr = t->lbr;
  static const int defaults[3][3] = {{1}, {2, 1, 1}, {2, 1}}; /* Tanh; Sigmoid, Tanh, Tanh */
  for (int i = 0; i < 6; i++) {
    int k = i % per;
    int code = t->n_acts ? t->act[t->n_acts == per ? k : i % t->n_acts] : defaults[t->cell][k];
    c->act[i] = code;
    c->alpha[i] = t->n_acts ? t->alpha[t->n_acts == per ? k : i % t->n_acts] : 0;
    c->beta[i] = t->n_acts ? t->beta[t->n_acts == per ? k : i % t->n_acts] : 0;
  }
}

static void teardown(struct rdata *r) {
  for (int i = 0; i < N_SLOTS; i++) free(r->f[i]), free(r->d[i]);
  free(r->ry), free(r->rh), free(r->rc);
}

/* The loss in double at the current (perturbed) inputs. */
static double host_loss(struct rdata *r) {
  double *y = malloc(r->ny * sizeof *y), *yh = malloc(r->nh * sizeof *yh),
         *yc = malloc(r->nh * sizeof *yc);
  struct rnn_ref_data io = {.x = r->d[I_X],
                            .w = r->d[I_W],
                            .r = r->d[I_R],
                            .b = r->d[I_B],
                            .h0 = r->d[I_H0],
                            .c0 = r->d[I_C0],
                            .p = r->d[I_P],
                            .y = y,
                            .yh = yh,
                            .yc = yc};
  ref_rnn_double(&r->cfg, &io);
  double L = 0;
  for (size_t k = 0; r->t->use_y && k < r->ny; k++) L += y[k] * r->ry[k];
  for (size_t k = 0; k < r->nh; k++) L += yh[k] * r->rh[k];
  for (size_t k = 0; r->t->use_yc && k < r->nh; k++) L += yc[k] * r->rc[k];
  free(y), free(yh), free(yc);
  return L;
}

static double fd_loss(void *r) { return host_loss(r); }

static const char *const cell_name[] = {"RNN", "LSTM", "GRU"};

/* loss += sum(v * weights), as graph nodes; returns the new loss value's name in `acc`. */
static void add_term(nncl_graph *g, const char *v, const char *wname, const float *wdata,
                     const nncl_shape *s, const char **acc, char names[][32], int *k) {
  nncl_array a = {.dtype = NNCL_FLOAT32, .shape = *s, .data = (void *)wdata};
  cr_assert_eq(nncl_graph_add_constant(g, wname, &a), NNCL_OK);
  char *m = names[(*k)++], *sm = names[(*k)++];
  snprintf(m, 32, "%s.m", v);
  snprintf(sm, 32, "%s.s", v);
  const char *mi[] = {v, wname}, *mo = m, *so = sm;
  cr_assert_eq(nncl_graph_add_node(g, "Mul", NULL, 2, mi, 1, &mo, NULL), NNCL_OK);
  nncl_node *n;
  cr_assert_eq(nncl_graph_add_node(g, "ReduceSum", NULL, 1, &mo, 1, &so, &n), NNCL_OK);
  cr_assert_eq(nncl_node_set_int(g, n, "keepdims", 0), NNCL_OK);
  if (!*acc) {
    *acc = sm;
    return;
  }
  char *sum = names[(*k)++];
  snprintf(sum, 32, "%s.acc", v);
  const char *ai[] = {*acc, sm}, *ao = sum;
  cr_assert_eq(nncl_graph_add_node(g, "Add", NULL, 2, ai, 1, &ao, NULL), NNCL_OK);
  *acc = sum;
}

static void check(const struct rc *t) {
  nncl_context *ctx = tu_ctx();
  struct rdata r;
  setup(&r, t);
  const int D = r.dirs, per = t->cell == REF_LSTM ? 3 : t->cell == REF_GRU ? 2 : 1;
  const int64_t S = t->seq, B = t->batch, I = t->in, H = t->hidden, G = r.gates;
  const nncl_shape shapes[N_SLOTS] = {t->layout ? (nncl_shape){.rank = 3, .dims = {B, S, I}}
                                                : (nncl_shape){.rank = 3, .dims = {S, B, I}},
                                      {.rank = 3, .dims = {D, G * H, I}},
                                      {.rank = 3, .dims = {D, G * H, H}},
                                      {.rank = 2, .dims = {D, 2 * G * H}},
                                      {.rank = 1, .dims = {B}},
                                      t->layout ? (nncl_shape){.rank = 3, .dims = {B, D, H}}
                                                : (nncl_shape){.rank = 3, .dims = {D, B, H}},
                                      t->layout ? (nncl_shape){.rank = 3, .dims = {B, D, H}}
                                                : (nncl_shape){.rank = 3, .dims = {D, B, H}},
                                      {.rank = 2, .dims = {D, 3 * H}}};
  double L = host_loss(&r);

  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(ctx, &g), NNCL_OK);
  const char *in[N_SLOTS], *wrt[N_SLOTS];
  int n_wrt = 0, slot_of[N_SLOTS];
  for (int i = 0; i < N_SLOTS; i++) {
    in[i] = "";
    if (i == I_LENS) {
      if (!t->lens) continue;
      nncl_array a = {.dtype = NNCL_INT32, .shape = shapes[i], .data = (void *)t->lens};
      cr_assert_eq(nncl_graph_add_constant(g, "lens", &a), NNCL_OK);
      in[i] = "lens";
      continue;
    }
    if (!r.n[i]) continue;
    in[i] = slot_name[i];
    cr_assert_eq(nncl_graph_add_input(g, in[i], NNCL_FLOAT32, &shapes[i]), NNCL_OK);
    slot_of[n_wrt] = i;
    wrt[n_wrt++] = in[i];
  }
  int n_in = t->cell == REF_LSTM ? 8 : 6;
  while (!in[n_in - 1][0]) n_in--;
  const char *outs[3] = {"Y", "Y_h", "Y_c"};
  nncl_node *n;
  cr_assert_eq(nncl_graph_add_node(g, cell_name[t->cell], "rnn", n_in, in,
                                   t->cell == REF_LSTM ? 3 : 2, outs, &n),
               NNCL_OK, "%s", nncl_context_last_error(ctx));
  cr_assert_eq(nncl_node_set_int(g, n, "hidden_size", H), NNCL_OK);
  cr_assert_eq(nncl_node_set_string(g, n, "direction", t->dir), NNCL_OK);
  if (t->layout) cr_assert_eq(nncl_node_set_int(g, n, "layout", 1), NNCL_OK);
  if (t->clip > 0) cr_assert_eq(nncl_node_set_float(g, n, "clip", t->clip), NNCL_OK);
  if (t->input_forget) cr_assert_eq(nncl_node_set_int(g, n, "input_forget", 1), NNCL_OK);
  if (t->lbr) cr_assert_eq(nncl_node_set_int(g, n, "linear_before_reset", 1), NNCL_OK);
  if (t->n_acts) {
    const char *names[6];
    float al[6], be[6];
    int na = 0, nb = 0;
    for (int i = 0; i < t->n_acts; i++) {
      names[i] = acts[t->act[i]].name;
      if (acts[t->act[i]].alpha) al[na++] = t->alpha[i];
      if (acts[t->act[i]].beta) be[nb++] = t->beta[i];
    }
    cr_assert_eq(nncl_node_set_strings(g, n, "activations", names, t->n_acts), NNCL_OK);
    if (na) cr_assert_eq(nncl_node_set_floats(g, n, "activation_alpha", al, na), NNCL_OK);
    if (nb) cr_assert_eq(nncl_node_set_floats(g, n, "activation_beta", be, nb), NNCL_OK);
  }
  (void)per;
  char names[12][32];
  int k = 0;
  const char *loss = NULL;
  nncl_shape ys = t->layout ? (nncl_shape){.rank = 4, .dims = {B, S, D, H}}
                            : (nncl_shape){.rank = 4, .dims = {S, D, B, H}};
  if (t->use_y) add_term(g, "Y", "rY", r.ry, &ys, &loss, names, &k);
  add_term(g, "Y_h", "rH", r.rh, &shapes[I_H0], &loss, names, &k);
  if (t->use_yc) add_term(g, "Y_c", "rC", r.rc, &shapes[I_H0], &loss, names, &k);
  cr_assert_eq(nncl_graph_add_output(g, loss), NNCL_OK);
  for (int i = 0; i < n_wrt; i++) {
    nncl_array a = {.dtype = NNCL_FLOAT32, .shape = shapes[slot_of[i]], .data = r.f[slot_of[i]]};
    cr_assert_eq(nncl_graph_set_input(g, wrt[i], &a), NNCL_OK);
  }
  char *grads[N_SLOTS];
  nncl_status st = nncl__autodiff(g, loss, n_wrt, wrt, grads);
  cr_assert_eq(st, NNCL_OK, "autodiff: %s", nncl_context_last_error(ctx));
  for (int i = 0; i < n_wrt; i++) cr_assert_eq(nncl_graph_add_output(g, grads[i]), NNCL_OK);
  st = nncl_graph_run(g);
  cr_assert_eq(st, NNCL_OK, "run: %s", nncl_context_last_error(ctx));

  /* the device's forward agrees with the reference (so the reference is the right function) */
  nncl_array lv;
  cr_assert_eq(nncl_graph_get_output(g, 0, &lv), NNCL_OK);
  float lf = ((float *)lv.data)[0];
  cr_assert(fabs(lf - L) <= 1e-4 * (1.0 + fabs(L)), "loss %.8g on the device, %.8g on the host",
            (double)lf, L);
  nncl_array_free(&lv);

  for (int i = 0; i < n_wrt; i++) {
    int s = slot_of[i];
    nncl_array ga;
    cr_assert_eq(nncl_graph_get_output(g, 1 + i, &ga), NNCL_OK);
    size_t nel = r.n[s];
    cr_assert_eq((size_t)nncl_shape_numel(&ga.shape), nel, "gradient of %s has %lld elements",
                 slot_name[s], (long long)nncl_shape_numel(&ga.shape));
    char what[96];
    snprintf(what, sizeof what, "%s %s: d loss / d %s", cell_name[t->cell], t->dir, slot_name[s]);
    tu_assert_fd_gradient((const float *)ga.data, r.d[s], nel, fd_loss, &r, what);
    nncl_array_free(&ga);
    free(grads[i]);
  }
  nncl_graph_destroy(g);
  teardown(&r);
}

/* activation codes (rnn_ref.h) */
enum { RELU, TANH, SIGMOID, AFFINE, LEAKY, THRESH, STANH, HSIG, ELU, SOFTSIGN, SOFTPLUS };

static const int32_t lens3[3] = {4, 1, 3};
static const int32_t lens5[5] = {5, 0, 3, 5, 2};

Test(train_rnn, rnn_forward_lens_initial_state) {
  check(&(struct rc){.cell = REF_RNN,
                     .dir = "forward",
                     .seq = 4,
                     .batch = 3,
                     .in = 3,
                     .hidden = 5,
                     .bias = 1,
                     .h0 = 1,
                     .lens = lens3,
                     .use_y = 1});
}

Test(train_rnn, rnn_reverse_relu_clip) {
  check(&(struct rc){.cell = REF_RNN,
                     .dir = "reverse",
                     .seq = 5,
                     .batch = 5,
                     .in = 2,
                     .hidden = 3,
                     .bias = 1,
                     .h0 = 1,
                     .lens = lens5,
                     .clip = 0.9f,
                     .n_acts = 1,
                     .act = {RELU},
                     .use_y = 1});
}

Test(train_rnn, rnn_bidirectional_activations) {
  /* direction 0 LeakyRelu, direction 1 Softsign; then Softplus / ThresholdedRelu / Affine */
  check(&(struct rc){.cell = REF_RNN,
                     .dir = "bidirectional",
                     .seq = 4,
                     .batch = 3,
                     .in = 4,
                     .hidden = 7,
                     .bias = 1,
                     .h0 = 1,
                     .lens = lens3,
                     .n_acts = 2,
                     .act = {LEAKY, SOFTSIGN},
                     .alpha = {0.2f},
                     .use_y = 1});
  check(&(struct rc){.cell = REF_RNN,
                     .dir = "bidirectional",
                     .seq = 3,
                     .batch = 2,
                     .in = 3,
                     .hidden = 4,
                     .bias = 1,
                     .n_acts = 2,
                     .act = {SOFTPLUS, AFFINE},
                     .alpha = {0, 0.7f},
                     .beta = {0, 0.1f},
                     .use_y = 1});
  check(&(struct rc){.cell = REF_RNN,
                     .dir = "forward",
                     .seq = 3,
                     .batch = 2,
                     .in = 3,
                     .hidden = 4,
                     .bias = 1,
                     .h0 = 1,
                     .n_acts = 1,
                     .act = {THRESH},
                     .alpha = {0.1f},
                     .use_y = 1});
}

Test(train_rnn, lstm_forward_peephole_states) {
  check(&(struct rc){.cell = REF_LSTM,
                     .dir = "forward",
                     .seq = 4,
                     .batch = 3,
                     .in = 3,
                     .hidden = 5,
                     .bias = 1,
                     .h0 = 1,
                     .c0 = 1,
                     .peep = 1,
                     .lens = lens3,
                     .use_y = 1,
                     .use_yc = 1});
}

Test(train_rnn, lstm_bidirectional_activations_lens) {
  check(&(struct rc){.cell = REF_LSTM,
                     .dir = "bidirectional",
                     .seq = 5,
                     .batch = 5,
                     .in = 2,
                     .hidden = 3,
                     .bias = 1,
                     .h0 = 1,
                     .c0 = 1,
                     .peep = 1,
                     .lens = lens5,
                     .n_acts = 6,
                     .act = {SIGMOID, TANH, TANH, HSIG, ELU, STANH},
                     .alpha = {0, 0, 0, 0.25f, 0.8f, 1.3f},
                     .beta = {0, 0, 0, 0.45f, 0, 0.6f},
                     .use_y = 1,
                     .use_yc = 1});
}

Test(train_rnn, lstm_reverse_input_forget_clip_no_bias) {
  check(&(struct rc){.cell = REF_LSTM,
                     .dir = "reverse",
                     .seq = 4,
                     .batch = 3,
                     .in = 4,
                     .hidden = 6,
                     .c0 = 1,
                     .peep = 1,
                     .lens = lens3,
                     .clip = 1.1f,
                     .input_forget = 1,
                     .use_y = 1,
                     .use_yc = 1});
}

Test(train_rnn, gru_forward_lens_initial_state) {
  check(&(struct rc){.cell = REF_GRU,
                     .dir = "forward",
                     .seq = 4,
                     .batch = 3,
                     .in = 3,
                     .hidden = 5,
                     .bias = 1,
                     .h0 = 1,
                     .lens = lens3,
                     .use_y = 1});
}

Test(train_rnn, gru_bidirectional_linear_before_reset) {
  check(&(struct rc){.cell = REF_GRU,
                     .dir = "bidirectional",
                     .seq = 5,
                     .batch = 5,
                     .in = 2,
                     .hidden = 3,
                     .bias = 1,
                     .h0 = 1,
                     .lens = lens5,
                     .lbr = 1,
                     .n_acts = 4,
                     .act = {SIGMOID, TANH, HSIG, SOFTSIGN},
                     .alpha = {0, 0, 0.3f},
                     .beta = {0, 0, 0.5f},
                     .use_y = 1});
}

Test(train_rnn, gru_reverse_batch_major_clip) {
  check(&(struct rc){.cell = REF_GRU,
                     .dir = "reverse",
                     .layout = 1,
                     .seq = 4,
                     .batch = 3,
                     .in = 4,
                     .hidden = 7,
                     .bias = 1,
                     .h0 = 1,
                     .lens = lens3,
                     .clip = 1.2f,
                     .use_y = 1});
  check(&(struct rc){.cell = REF_GRU,
                     .dir = "bidirectional",
                     .layout = 1,
                     .seq = 3,
                     .batch = 3,
                     .in = 2,
                     .hidden = 4,
                     .bias = 1,
                     .h0 = 1,
                     .lbr = 1,
                     .use_y = 1});
}

Test(train_rnn, gru_classifier_last_state_only) {
  /* the classifier's use: only Y_h feeds the loss, no initial state, many steps */
  check(&(struct rc){.cell = REF_GRU,
                     .dir = "forward",
                     .seq = 9,
                     .batch = 2,
                     .in = 5,
                     .hidden = 6,
                     .bias = 1,
                     .lbr = 1});
  check(&(struct rc){
      .cell = REF_LSTM, .dir = "forward", .seq = 9, .batch = 2, .in = 5, .hidden = 6, .bias = 1});
}

/* The gradient ops refuse bad inputs with messages naming the input: a dY whose shape is not Y's,
   LSTM-only slots on a GRU, and the forward's own shape errors (W of the wrong gate count). */
Test(train_rnn, gradient_op_bad_inputs_are_clear_errors) {
  const int64_t S = 3, B = 2, I = 4, H = 5;
  nncl_array x = TU_RAND(1, S, B, I), w = TU_RAND(2, 1, 3 * H, I), r = TU_RAND(3, 1, 3 * H, H);
  nncl_array w_bad = TU_RAND(4, 1, 4 * H, I), dy_bad = TU_RAND(5, S, 1, B, H + 1);
  nncl_array dyh = TU_RAND(6, 1, B, H), c0 = TU_RAND(7, 1, B, H);
  struct nncl__attr at[] = {A_INT("hidden_size", H)};
  nncl_array out[5];
  const nncl_array *in[11] = {&x, &w, &r, NULL, NULL, NULL, NULL, NULL, &dy_bad, &dyh, NULL};
  nncl_status st = tu_try_op("nncl.GRUGrad", 13, at, 1, 11, in, 5, out);
  cr_assert_eq(st, NNCL_ERR_SHAPE);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "dY is float32 [3, 1, 2, 6], expected float32 [3, 1, 2, 5]"), "%s", msg);
  in[8] = NULL;
  in[6] = &c0;
  cr_assert_eq(tu_try_op("nncl.GRUGrad", 13, at, 1, 11, in, 5, out), NNCL_ERR_INVALID_ARGUMENT);
  msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "belong to LSTM only"), "%s", msg);
  in[6] = NULL;
  in[1] = &w_bad;
  cr_assert_eq(tu_try_op("nncl.GRUGrad", 13, at, 1, 11, in, 5, out), NNCL_ERR_SHAPE);
  msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "W has shape [1, 20, 4], expected [1, 15, 4]"), "%s", msg);
  nncl_array *all[] = {&x, &w, &r, &w_bad, &dy_bad, &dyh, &c0};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) nncl_array_free(all[i]);
}
