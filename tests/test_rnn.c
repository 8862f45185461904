/* test_rnn.c: ONNX RNN, LSTM and GRU against the naive reference (tests/ref/rnn_ref.c) over
   directions, layouts, sequence_lens, initial states, peepholes, clip, input_forget,
   linear_before_reset, activation lists and odd sizes (hidden 1, 7, 33; batch 1 and 5), each on
   both step paths (rnn.step=fused: recurrent product and gates in one kernel over R's panels,
   including a partial last panel and batch groups; rnn.step=gemm), plus shape errors.
   Tolerance: rtol 1e-4, atol 2e-5 (float kernels vs double reference). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/rnn_ref.h"
#include "test_util.h"

#define RTOL 1e-4
#define ATOL 2e-5

struct tc {
  int cell;
  const char *dir;
  int layout, seq, batch, in, hidden;
  int bias, h0, c0, peep;
  const int32_t *lens;
  float clip;
  int input_forget, lbr;
  int n_acts;
  const char *acts[6];
  int n_alpha, n_beta;
  float alpha[6], beta[6];
  int n_out; /* 0: all */
  int y_sbd; /* nncl.y_layout = 1: Y as [seq, batch, dirs, hidden] */
};

static const char *cell_name[] = {"RNN", "LSTM", "GRU"};
static const char *act_names[] = {
    "Relu",       "Tanh",        "Sigmoid", "Affine",   "LeakyRelu", "ThresholdedRelu",
    "ScaledTanh", "HardSigmoid", "Elu",     "Softsign", "Softplus"};

static nncl_array rnd(uint32_t seed, float lo, float hi, int rank, const int64_t *dims) {
  nncl_array a = tu_rand(seed, rank, dims);
  tu_fill(a.data, (size_t)nncl_shape_numel(&a.shape), seed, lo, hi);
  return a;
}

static void run_case(const struct tc *t, uint32_t seed) {
  const int G = t->cell == REF_LSTM ? 4 : t->cell == REF_GRU ? 3 : 1;
  const int per = t->cell == REF_LSTM ? 3 : t->cell == REF_GRU ? 2 : 1;
  const int D = strcmp(t->dir, "bidirectional") == 0 ? 2 : 1;
  const int64_t S = t->seq, B = t->batch, I = t->in, H = t->hidden;
  nncl_array x = t->layout ? rnd(seed, -1, 1, 3, (int64_t[]){B, S, I})
                           : rnd(seed, -1, 1, 3, (int64_t[]){S, B, I});
  nncl_array w = rnd(seed + 1, -0.6f, 0.6f, 3, (int64_t[]){D, G * H, I});
  nncl_array r = rnd(seed + 2, -0.6f, 0.6f, 3, (int64_t[]){D, G * H, H});
  nncl_array b = rnd(seed + 3, -0.5f, 0.5f, 2, (int64_t[]){D, 2 * G * H});
  const int64_t sd[3] = {t->layout ? B : D, t->layout ? D : B, H};
  nncl_array h0 = rnd(seed + 4, -1, 1, 3, sd), c0 = rnd(seed + 5, -1, 1, 3, sd);
  nncl_array p = rnd(seed + 6, -0.5f, 0.5f, 2, (int64_t[]){D, 3 * H});
  nncl_array lens = tu_zeros(NNCL_INT32, 1, (int64_t[]){B});
  if (t->lens) memcpy(lens.data, t->lens, (size_t)B * 4);
  const nncl_array *in[8] = {&x,
                             &w,
                             &r,
                             t->bias ? &b : NULL,
                             t->lens ? &lens : NULL,
                             t->h0 ? &h0 : NULL,
                             t->c0 ? &c0 : NULL,
                             t->peep ? &p : NULL};
  int n_in = t->cell == REF_LSTM ? 8 : 6;
  while (n_in > 3 && !in[n_in - 1]) n_in--;

  struct nncl__attr attrs[12];
  int na = 0;
  attrs[na++] = A_INT("hidden_size", H);
  attrs[na++] = A_STR("direction", t->dir);
  if (t->layout) attrs[na++] = A_INT("layout", 1);
  if (t->y_sbd) attrs[na++] = A_INT("nncl.y_layout", 1);
  if (t->clip > 0) attrs[na++] = A_FLOAT("clip", t->clip);
  if (t->input_forget) attrs[na++] = A_INT("input_forget", 1);
  if (t->lbr) attrs[na++] = A_INT("linear_before_reset", 1);
  if (t->n_acts)
    attrs[na++] = (struct nncl__attr){
        .name = "activations", .type = ATTR_STRINGS, .strs = (char **)t->acts, .n = t->n_acts};
  if (t->n_alpha)
    attrs[na++] = (struct nncl__attr){.name = "activation_alpha",
                                      .type = ATTR_FLOATS,
                                      .floats = (float *)t->alpha,
                                      .n = t->n_alpha};
  if (t->n_beta)
    attrs[na++] = (struct nncl__attr){
        .name = "activation_beta", .type = ATTR_FLOATS, .floats = (float *)t->beta, .n = t->n_beta};

  int n_out = t->n_out ? t->n_out : t->cell == REF_LSTM ? 3 : 2;

  /* reference */
  struct rnn_ref ref = {.cell = t->cell,
                        .dirs = D,
                        .reverse_only = strcmp(t->dir, "reverse") == 0,
                        .layout = t->layout,
                        .seq = (int)S,
                        .batch = (int)B,
                        .in = (int)I,
                        .hidden = (int)H,
                        .x = x.data,
                        .w = w.data,
                        .r = r.data,
                        .b = t->bias ? b.data : NULL,
                        .h0 = t->h0 ? h0.data : NULL,
                        .c0 = t->c0 ? c0.data : NULL,
                        .p = t->peep ? p.data : NULL,
                        .lens = t->lens,
                        .clip = t->clip,
                        .input_forget = t->input_forget,
                        .lbr = t->lbr};
  static const int defaults[3][3] = {
      {RA_TANH}, {RA_SIGMOID, RA_TANH, RA_TANH}, {RA_SIGMOID, RA_TANH}};
  static const float dalpha[] = {0, 0, 0, 1, 0.01f, 1, 1, 0.2f, 1, 0, 0};
  static const float dbeta[] = {0, 0, 0, 0, 0, 0, 1, 0.5f, 0, 0, 0};
  int ai = 0, bi = 0;
  for (int i = 0; i < per * D; i++) {
    int code = defaults[t->cell][i % per];
    if (t->n_acts)
      for (int k = 0; k < 11; k++)
        if (strcmp(t->acts[i], act_names[k]) == 0) code = k;
    ref.act[i] = code;
    ref.alpha[i] = dalpha[code];
    ref.beta[i] = dbeta[code];
    int ua = code == RA_AFFINE || code == RA_LEAKY || code == RA_THRESH || code == RA_STANH ||
             code == RA_HSIG || code == RA_ELU;
    int ub = code == RA_AFFINE || code == RA_STANH || code == RA_HSIG;
    if (ua && ai < t->n_alpha) ref.alpha[i] = t->alpha[ai++];
    if (ub && bi < t->n_beta) ref.beta[i] = t->beta[bi++];
  }
  size_t ny = (size_t)(S * D * B * H), ns = (size_t)(D * B * H);
  float *y = malloc(ny * 4), *yh = malloc(ns * 4), *yc = malloc(ns * 4);
  ref.y = y;
  ref.yh = yh;
  ref.yc = t->cell == REF_LSTM ? yc : NULL;
  ref_rnn(&ref);
  if (t->y_sbd) { /* [S, D, B, H] -> [S, B, D, H] */
    float *p2 = malloc(ny * 4);
    for (int64_t s_ = 0; s_ < S; s_++)
      for (int64_t d = 0; d < D; d++)
        for (int64_t b_ = 0; b_ < B; b_++)
          memcpy(p2 + ((s_ * B + b_) * D + d) * H, y + ((s_ * D + d) * B + b_) * H, (size_t)H * 4);
    free(y);
    y = p2;
  }

  /* both step paths (GRU without linear_before_reset has only the GEMM one), the fused one also
     with its gates on whole vectors (rnn.gates=vector: last-bit differences from the scalar
     built-ins, far inside the tolerance) */
  static const char *paths[] = {"fused", "gemm", "fused"}, *gates[] = {"exact", "exact", "vector"};
  for (int pi = 0; pi < 3; pi++) {
    nncl_array out[3];
    tu_set_option("rnn.step", paths[pi]);
    tu_set_option("rnn.gates", gates[pi]);
    tu_run_op(cell_name[t->cell], 14, attrs, na, n_in, in, n_out, out);
    tu_set_option("rnn.step", NULL);
    tu_set_option("rnn.gates", NULL);
    char what[220];
    snprintf(what, sizeof what, "%s %s layout=%d%s S=%d B=%d I=%d H=%d lens=%d step=%s gates=%s",
             cell_name[t->cell], t->dir, t->layout, t->y_sbd ? " y_layout=1" : "", (int)S, (int)B,
             (int)I, (int)H, t->lens != NULL, paths[pi], gates[pi]);
    cr_assert_eq((size_t)nncl_shape_numel(&out[0].shape), ny, "%s: Y size", what);
    if (t->layout)
      cr_assert(out[0].shape.dims[0] == B && out[0].shape.dims[1] == S &&
                out[0].shape.dims[2] == D);
    else if (t->y_sbd)
      cr_assert(out[0].shape.dims[0] == S && out[0].shape.dims[1] == B &&
                out[0].shape.dims[2] == D);
    else
      cr_assert(out[0].shape.dims[0] == S && out[0].shape.dims[1] == D &&
                out[0].shape.dims[2] == B);
    tu_assert_close((float *)out[0].data, y, ny, RTOL, ATOL, what);
    if (n_out > 1) tu_assert_close((float *)out[1].data, yh, ns, RTOL, ATOL, what);
    if (n_out > 2) tu_assert_close((float *)out[2].data, yc, ns, RTOL, ATOL, what);
    cr_log_info("%s: max rel error Y %.2e", what, tu_max_rel_error(out[0].data, y, ny));
    for (int i = 0; i < n_out; i++) nncl_array_free(&out[i]);
  }
  free(y);
  free(yh);
  free(yc);
  nncl_array *all[] = {&x, &w, &r, &b, &h0, &c0, &p, &lens};
  for (int i = 0; i < 8; i++) nncl_array_free(all[i]);
}

static const int32_t lens5[] = {4, 1, 3, 2, 4};

Test(lstm, directions_layouts_lengths) {
  run_case(&(struct tc){.cell = REF_LSTM,
                        .dir = "forward",
                        .layout = 0,
                        .seq = 4,
                        .batch = 5,
                        .in = 3,
                        .hidden = 7,
                        .bias = 1,
                        .h0 = 1,
                        .c0 = 1,
                        .peep = 1},
           100);
  run_case(&(struct tc){.cell = REF_LSTM,
                        .dir = "reverse",
                        .layout = 0,
                        .seq = 5,
                        .batch = 5,
                        .in = 4,
                        .hidden = 1},
           101);
  run_case(&(struct tc){.cell = REF_LSTM,
                        .dir = "bidirectional",
                        .layout = 1,
                        .seq = 4,
                        .batch = 5,
                        .in = 6,
                        .hidden = 33,
                        .bias = 1,
                        .h0 = 1,
                        .c0 = 1,
                        .peep = 1,
                        .lens = lens5},
           102);
  run_case(&(struct tc){.cell = REF_LSTM,
                        .dir = "bidirectional",
                        .layout = 0,
                        .seq = 3,
                        .batch = 1,
                        .in = 2,
                        .hidden = 7,
                        .bias = 1,
                        .h0 = 0,
                        .c0 = 1,
                        .peep = 0},
           103);
  run_case(&(struct tc){.cell = REF_LSTM,
                        .dir = "reverse",
                        .layout = 1,
                        .seq = 4,
                        .batch = 5,
                        .in = 3,
                        .hidden = 7,
                        .bias = 1,
                        .h0 = 1,
                        .c0 = 0,
                        .peep = 1,
                        .lens = lens5},
           104);
}

Test(lstm, clip_input_forget_and_outputs) {
  run_case(&(struct tc){.cell = REF_LSTM,
                        .dir = "forward",
                        .layout = 0,
                        .seq = 4,
                        .batch = 5,
                        .in = 3,
                        .hidden = 7,
                        .bias = 1,
                        .h0 = 1,
                        .c0 = 1,
                        .peep = 1,
                        .lens = NULL,
                        .clip = 0.3f,
                        .input_forget = 1},
           110);
  run_case(&(struct tc){.cell = REF_LSTM,
                        .dir = "forward",
                        .seq = 3,
                        .batch = 2,
                        .in = 3,
                        .hidden = 7,
                        .bias = 1,
                        .n_out = 1},
           111);
  run_case(&(struct tc){.cell = REF_LSTM,
                        .dir = "bidirectional",
                        .seq = 3,
                        .batch = 2,
                        .in = 3,
                        .hidden = 7,
                        .bias = 1,
                        .n_out = 2},
           112);
}

Test(lstm, activation_lists) {
  run_case(
      &(struct tc){.cell = REF_LSTM,
                   .dir = "bidirectional",
                   .seq = 3,
                   .batch = 5,
                   .in = 4,
                   .hidden = 7,
                   .bias = 1,
                   .h0 = 1,
                   .c0 = 1,
                   .n_acts = 6,
                   .acts = {"HardSigmoid", "ScaledTanh", "Softsign", "Sigmoid", "Affine", "Elu"},
                   .n_alpha = 4,
                   .alpha = {0.3f, 0.9f, 1.5f, 0.7f},
                   .n_beta = 3,
                   .beta = {0.45f, 1.1f, 0.1f}},
      120);
  run_case(&(struct tc){.cell = REF_LSTM,
                        .dir = "forward",
                        .seq = 3,
                        .batch = 5,
                        .in = 4,
                        .hidden = 7,
                        .bias = 1,
                        .n_acts = 3,
                        .acts = {"Sigmoid", "Softplus", "Tanh"}},
           121);
}

Test(gru, both_reset_modes) {
  run_case(&(struct tc){.cell = REF_GRU,
                        .dir = "forward",
                        .layout = 0,
                        .seq = 4,
                        .batch = 5,
                        .in = 3,
                        .hidden = 7,
                        .bias = 1,
                        .h0 = 1},
           200);
  run_case(&(struct tc){.cell = REF_GRU,
                        .dir = "bidirectional",
                        .layout = 1,
                        .seq = 4,
                        .batch = 5,
                        .in = 6,
                        .hidden = 33,
                        .bias = 1,
                        .h0 = 1,
                        .lens = lens5,
                        .lbr = 1},
           201);
  run_case(&(struct tc){.cell = REF_GRU,
                        .dir = "reverse",
                        .seq = 5,
                        .batch = 5,
                        .in = 3,
                        .hidden = 1,
                        .bias = 1,
                        .lens = lens5},
           202);
  run_case(&(struct tc){.cell = REF_GRU,
                        .dir = "bidirectional",
                        .seq = 4,
                        .batch = 1,
                        .in = 5,
                        .hidden = 33,
                        .bias = 1,
                        .h0 = 1},
           203);
  run_case(&(struct tc){.cell = REF_GRU,
                        .dir = "forward",
                        .seq = 4,
                        .batch = 5,
                        .in = 3,
                        .hidden = 7,
                        .lbr = 1,
                        .clip = 0.4f,
                        .n_acts = 2,
                        .acts = {"HardSigmoid", "LeakyRelu"},
                        .n_alpha = 2,
                        .alpha = {0.25f, 0.2f},
                        .n_beta = 1,
                        .beta = {0.4f}},
           204);
}

/* The recurrent products on the packed GEMM with R packed once at plan time (forced: small
   products might take another GEMM kernel; run_case forces rnn.step=gemm for it): LSTM both directions, GRU's two products per step (reset before the
   h-gate product: R's z,r rows and h rows packed apart) and GRU's one. Same references. */
Test(rnn, recurrent_weights_packed_once) {
  tu_set_option("gemm.impl", "packed");
  run_case(&(struct tc){.cell = REF_LSTM,
                        .dir = "bidirectional",
                        .seq = 4,
                        .batch = 5,
                        .in = 6,
                        .hidden = 33,
                        .bias = 1,
                        .h0 = 1,
                        .c0 = 1,
                        .lens = lens5},
           400);
  run_case(&(struct tc){.cell = REF_GRU,
                        .dir = "bidirectional",
                        .seq = 4,
                        .batch = 6,
                        .in = 5,
                        .hidden = 17,
                        .bias = 1,
                        .h0 = 1},
           401);
  run_case(&(struct tc){.cell = REF_GRU,
                        .dir = "forward",
                        .seq = 5,
                        .batch = 7,
                        .in = 3,
                        .hidden = 9,
                        .bias = 1,
                        .lbr = 1},
           402);
  tu_set_option("gemm.impl", NULL);
}

Test(rnn, simple) {
  run_case(&(struct tc){.cell = REF_RNN,
                        .dir = "forward",
                        .layout = 0,
                        .seq = 4,
                        .batch = 1,
                        .in = 3,
                        .hidden = 33,
                        .bias = 1,
                        .h0 = 1},
           300);
  run_case(&(struct tc){.cell = REF_RNN,
                        .dir = "bidirectional",
                        .layout = 1,
                        .seq = 5,
                        .batch = 5,
                        .in = 2,
                        .hidden = 7,
                        .bias = 1,
                        .h0 = 1,
                        .lens = lens5,
                        .n_acts = 2,
                        .acts = {"Relu", "ThresholdedRelu"},
                        .n_alpha = 1,
                        .alpha = {0.1f}},
           301);
  run_case(&(struct tc){.cell = REF_RNN,
                        .dir = "reverse",
                        .seq = 3,
                        .batch = 5,
                        .in = 2,
                        .hidden = 1,
                        .bias = 1,
                        .clip = 0.5f},
           302);
}

/* Sizes that split the fused step's work: hidden past one k block (64) with a partial last
   panel of 8 units, and batches past 16 rows per work-item (several batch groups, a partial
   register tile), for every cell with a fused path. */
Test(rnn, fused_blocks_and_batch_groups) {
  run_case(&(struct tc){.cell = REF_LSTM,
                        .dir = "bidirectional",
                        .seq = 3,
                        .batch = 19,
                        .in = 5,
                        .hidden = 70,
                        .bias = 1,
                        .h0 = 1,
                        .c0 = 1,
                        .peep = 1},
           500);
  run_case(&(struct tc){.cell = REF_GRU,
                        .dir = "reverse",
                        .seq = 3,
                        .batch = 18,
                        .in = 4,
                        .hidden = 66,
                        .bias = 1,
                        .h0 = 1,
                        .lbr = 1},
           501);
  run_case(&(struct tc){.cell = REF_RNN,
                        .dir = "forward",
                        .layout = 1,
                        .seq = 3,
                        .batch = 17,
                        .in = 3,
                        .hidden = 129,
                        .bias = 1,
                        .h0 = 1},
           502);
}

Test(rnn, shape_errors) {
  nncl_array x = TU_RAND(1, 4, 2, 3), w = TU_RAND(2, 1, 28, 4), r = TU_RAND(3, 1, 28, 7), out[3];
  const nncl_array *in[] = {&x, &w, &r};
  struct nncl__attr a[] = {A_INT("hidden_size", 7)};
  cr_assert_eq(tu_try_op("LSTM", 14, a, 1, 3, in, 3, out), NNCL_ERR_SHAPE);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "LSTM") && strstr(msg, "W") && strstr(msg, "[1, 28, 4]") &&
                strstr(msg, "[1, 28, 3]"),
            "%s", msg);
  struct nncl__attr bad[] = {A_INT("hidden_size", 7), A_STR("direction", "sideways")};
  cr_assert_eq(tu_try_op("LSTM", 14, bad, 2, 3, in, 3, out), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "sideways"));
  nncl_array_free(&x);
  nncl_array_free(&w);
  nncl_array_free(&r);
}

/* nncl.y_layout = 1 (set by the graph pass for stacked bidirectional layers): the same numbers,
   with Y stored [seq, batch, dirs, hidden]; every step path (fused, GEMM, GRU reset) and lengths. */
Test(rnn, y_layout_seq_batch_dirs) {
  run_case(&(struct tc){.cell = REF_LSTM,
                        .dir = "bidirectional",
                        .seq = 4,
                        .batch = 5,
                        .in = 6,
                        .hidden = 9,
                        .bias = 1,
                        .h0 = 1,
                        .c0 = 1,
                        .lens = lens5,
                        .y_sbd = 1},
           400);
  run_case(&(struct tc){.cell = REF_LSTM,
                        .dir = "bidirectional",
                        .seq = 5,
                        .batch = 2,
                        .in = 3,
                        .hidden = 7,
                        .bias = 1,
                        .y_sbd = 1},
           401);
  run_case(&(struct tc){.cell = REF_GRU,
                        .dir = "bidirectional",
                        .seq = 4,
                        .batch = 5,
                        .in = 3,
                        .hidden = 7,
                        .bias = 1,
                        .h0 = 1,
                        .y_sbd = 1},
           402);
  run_case(&(struct tc){.cell = REF_RNN,
                        .dir = "forward",
                        .seq = 3,
                        .batch = 1,
                        .in = 2,
                        .hidden = 5,
                        .bias = 1,
                        .y_sbd = 1},
           403);
  nncl_array x = TU_RAND(1, 2, 4, 3), w = TU_RAND(2, 1, 28, 3), r = TU_RAND(3, 1, 28, 7), out[3];
  const nncl_array *in[] = {&x, &w, &r};
  struct nncl__attr a[] = {A_INT("hidden_size", 7), A_INT("layout", 1), A_INT("nncl.y_layout", 1)};
  cr_assert_eq(tu_try_op("LSTM", 14, a, 3, 3, in, 3, out), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "nncl.y_layout"), "%s",
            nncl_context_last_error(tu_ctx()));
  nncl_array_free(&x);
  nncl_array_free(&w);
  nncl_array_free(&r);
}

/* The ONNX backend node tests, converted to .npy by scripts/make_rnn_node_data.py: ONNX's own
   expected outputs. y_given: the test names output Y (else only Y_h, stored as out0). */
static void node_case(const char *test, const char *op, int hidden, int layout, int n_in,
                      int y_given) {
  const char *root = getenv("NNCL_TEST_DATA");
  cr_assert(root, "NNCL_TEST_DATA is not set");
  nncl_array in[8], want[2];
  const nncl_array *inp[8];
  char path[1024];
  for (int i = 0; i < n_in; i++) {
    snprintf(path, sizeof path, "%s/rnn_node/%s/in%d.npy", root, test, i);
    cr_assert_eq(nncl_npy_load(NULL, path, &in[i]), NNCL_OK, "cannot load %s", path);
    if (in[i].dtype == NNCL_INT64) { /* sequence_lens: int32 in ONNX */
      nncl_array l = tu_zeros(NNCL_INT32, 1, in[i].shape.dims);
      for (int64_t k = 0; k < in[i].shape.dims[0]; k++)
        ((int32_t *)l.data)[k] = (int32_t)((int64_t *)in[i].data)[k];
      nncl_array_free(&in[i]);
      in[i] = l;
    }
    inp[i] = &in[i];
  }
  for (int i = 0; i < 1 + y_given; i++) {
    snprintf(path, sizeof path, "%s/rnn_node/%s/out%d.npy", root, test, i);
    cr_assert_eq(nncl_npy_load(NULL, path, &want[i]), NNCL_OK, "cannot load %s", path);
  }
  struct nncl__attr a[] = {A_INT("hidden_size", hidden), A_INT("layout", layout)};
  nncl_array out[2];
  tu_run_op(op, 14, a, 2, n_in, inp, 2, out);
  const nncl_array *yh = y_given ? &want[1] : &want[0];
  size_t n = (size_t)nncl_shape_numel(&yh->shape);
  cr_assert_eq((size_t)nncl_shape_numel(&out[1].shape), n, "%s: Y_h size", test);
  tu_assert_close((float *)out[1].data, (float *)yh->data, n, 1e-4, 1e-5, test);
  if (y_given) {
    n = (size_t)nncl_shape_numel(&want[0].shape);
    cr_assert_eq((size_t)nncl_shape_numel(&out[0].shape), n, "%s: Y size", test);
    tu_assert_close((float *)out[0].data, (float *)want[0].data, n, 1e-4, 1e-5, test);
  }
  for (int i = 0; i < n_in; i++) nncl_array_free(&in[i]);
  for (int i = 0; i < 1 + y_given; i++) nncl_array_free(&want[i]);
  nncl_array_free(&out[0]);
  nncl_array_free(&out[1]);
}

Test(onnx_node, rnn_lstm_gru) {
  node_case("test_gru_batchwise", "GRU", 6, 1, 3, 1);
  node_case("test_gru_defaults", "GRU", 5, 0, 3, 0);
  node_case("test_gru_seq_length", "GRU", 5, 0, 4, 0);
  node_case("test_gru_with_initial_bias", "GRU", 3, 0, 4, 0);
  node_case("test_lstm_batchwise", "LSTM", 7, 1, 3, 1);
  node_case("test_lstm_defaults", "LSTM", 3, 0, 3, 0);
  node_case("test_lstm_with_initial_bias", "LSTM", 4, 0, 4, 0);
  node_case("test_lstm_with_peepholes", "LSTM", 3, 0, 8, 0);
  node_case("test_rnn_seq_length", "RNN", 5, 0, 4, 0);
  node_case("test_simple_rnn_batchwise", "RNN", 4, 1, 3, 1);
  node_case("test_simple_rnn_defaults", "RNN", 4, 0, 3, 0);
  node_case("test_simple_rnn_with_initial_bias", "RNN", 5, 0, 4, 0);
}
