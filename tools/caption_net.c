/* caption_net.c: the captioning network's parameters and graph (see caption_net.h). */
#include "caption_net.h"
#include "rand_stream.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Returns the status of a failing builder call (the graph keeps the message). */
#define TRY(x)                                                                                     \
  do {                                                                                             \
    nncl_status try_st_ = (x);                                                                     \
    if (try_st_ != NNCL_OK) return try_st_;                                                        \
  } while (0)

#define H CAPTION_HIDDEN
#define C CAPTION_FEATURES
#define L (CAPTION_GRID * CAPTION_GRID)
#define V CAPTION_VOCAB
#define D CAPTION_EMBED
#define ENC1 8 /* channels of the first conv (at full resolution: kept narrow, it is the dearest) */
#define ENC2 16 /* channels of the second conv */

/* Parameter i's name, shape and fan-in (0: the embedding, drawn from N(0, 1)). */
static const struct {
  const char *name;
  nncl_shape shape;
  int fan_in;
} spec[CAPTION_NUM_PARAMS] = {
    {"enc1.weight", {4, {ENC1, 1, 3, 3}}, 9},
    {"enc1.bias", {1, {ENC1}}, 9},
    {"enc2.weight", {4, {ENC2, ENC1, 3, 3}}, ENC1 * 9},
    {"enc2.bias", {1, {ENC2}}, ENC1 * 9},
    {"enc3.weight", {4, {C, ENC2, 3, 3}}, ENC2 * 9},
    {"enc3.bias", {1, {C}}, ENC2 * 9},
    {"init_h.weight", {2, {H, C}}, C},
    {"init_h.bias", {1, {H}}, C},
    {"init_c.weight", {2, {H, C}}, C},
    {"init_c.bias", {1, {H}}, C},
    {"embed", {2, {V, D}}, 0},
    {"grid.position", {3, {1, L, C}}, C},
    /* the LSTM cell's input weights [word; context] -> gates (i, f, g, o, PyTorch's order), its
       recurrent weights and bias; U(-1/sqrt(hidden), 1/sqrt(hidden)) as PyTorch's LSTMCell */
    {"cell.input", {2, {D + C, 4 * H}}, H},
    {"cell.recurrent", {2, {H, 4 * H}}, H},
    {"cell.bias", {1, {4 * H}}, H},
    {"attn.weight", {2, {C, H}}, C},
    {"out.weight", {2, {V, H + C}}, H + C},
    {"out.bias", {1, {V}}, H + C},
};

enum {
  ENC1_W,
  ENC1_B,
  ENC2_W,
  ENC2_B,
  ENC3_W,
  ENC3_B,
  IH_W,
  IH_B,
  IC_W,
  IC_B,
  EMBED,
  POSITION,
  CELL_IN,
  CELL_REC,
  CELL_B,
  ATTN_W,
  OUT_W,
  OUT_B
};

nncl_status caption_params_init(uint64_t seed, caption_params *p) {
  memset(p, 0, sizeof *p);
  uint64_t state = seed;
  for (int i = 0; i < CAPTION_NUM_PARAMS; i++) {
    p->name[i] = spec[i].name;
    nncl_status st = nncl_array_alloc(&p->value[i], NNCL_FLOAT32, &spec[i].shape);
    if (st != NNCL_OK) {
      caption_params_free(p);
      return st;
    }
    float *w = p->value[i].data;
    const int64_t n = nncl_shape_numel(&spec[i].shape);
    /* the convs get He's bound sqrt(6 / fan_in) and zero biases (ReLU follows them): with
       PyTorch's default bound the grid's features start ~10x smaller and the garment words stay at
       chance for epochs (measured: token loss flat at 0.66 for 5 epochs) */
    const int conv = i <= ENC3_B, is_bias = conv && (i == ENC1_B || i == ENC2_B || i == ENC3_B);
    const double bound = !spec[i].fan_in ? 0.0
                         : is_bias       ? 0.0
                         : conv          ? sqrt(6.0 / (double)spec[i].fan_in)
                                         : 1.0 / sqrt((double)spec[i].fan_in);
    for (int64_t k = 0; k < n; k++)
      w[k] = spec[i].fan_in ? (float)((2.0 * rand_stream_unit(&state) - 1.0) * bound)
                            : (float)(sqrt(-2.0 * log(rand_stream_unit(&state))) *
                                      cos(6.283185307179586 * rand_stream_unit(&state)));
  }
  return NNCL_OK;
}

void caption_params_free(caption_params *p) {
  for (int i = 0; i < CAPTION_NUM_PARAMS; i++) nncl_array_free(&p->value[i]);
}

/* An int64 constant vector (shapes, axes, Slice bounds). */
static nncl_status ints(nncl_graph *g, const char *name, int n, const int64_t *v) {
  const nncl_array a = {NNCL_INT64, {1, {n}}, (void *)v};
  return nncl_graph_add_constant(g, name, &a);
}

static nncl_status node(nncl_graph *g, const char *op, const char *name, int n_in,
                        const char *const *in, const char *out, nncl_node **n) {
  return nncl_graph_add_node(g, op, name, n_in, in, 1, &out, n);
}

/* A two-input node whose output is named as the node. */
static nncl_status node2(nncl_graph *g, const char *op, const char *name, const char *a,
                         const char *b) {
  const char *in[] = {a, b};
  return node(g, op, name, 2, in, name, NULL);
}

static nncl_status node1(nncl_graph *g, const char *op, const char *name, const char *a) {
  return node(g, op, name, 1, &a, name, NULL);
}

static nncl_status reshape(nncl_graph *g, const char *name, const char *in, int rank,
                           const int64_t *dims, const char *out) {
  char shape[64];
  snprintf(shape, sizeof shape, "%s.shape", name);
  TRY(ints(g, shape, rank, dims));
  const char *ins[] = {in, shape};
  return node(g, "Reshape", name, 2, ins, out, NULL);
}

static nncl_status transpose(nncl_graph *g, const char *name, const char *in, int rank,
                             const int64_t *perm, const char *out) {
  nncl_node *n;
  TRY(node(g, "Transpose", name, 1, &in, out, &n));
  return nncl_node_set_ints(g, n, "perm", perm, rank);
}

/* out = in[starts:ends] along `axes`. */
static nncl_status slice(nncl_graph *g, const char *name, const char *in, int n_axes,
                         const int64_t *starts, const int64_t *ends, const int64_t *axes,
                         const char *out) {
  char s[64], e[64], a[64];
  snprintf(s, sizeof s, "%s.starts", name);
  snprintf(e, sizeof e, "%s.ends", name);
  snprintf(a, sizeof a, "%s.axes", name);
  TRY(ints(g, s, n_axes, starts));
  TRY(ints(g, e, n_axes, ends));
  TRY(ints(g, a, n_axes, axes));
  const char *ins[] = {in, s, e, a};
  return node(g, "Slice", name, 4, ins, out, NULL);
}

static nncl_status concat(nncl_graph *g, const char *name, int n_in, const char *const *in,
                          int axis) {
  nncl_node *n;
  TRY(node(g, "Concat", name, n_in, in, name, &n));
  return nncl_node_set_int(g, n, "axis", axis);
}

static nncl_status conv_block(nncl_graph *g, const caption_params *p, int w, const char *in,
                              const char *prefix, const char *out) {
  char conv[64], relu[64], node_name[64];
  snprintf(conv, sizeof conv, "%s/conv", prefix);
  snprintf(relu, sizeof relu, "%s/relu", prefix);
  snprintf(node_name, sizeof node_name, "%s", prefix);
  /* nncl_graph_conv2d names its constants "<name>.weight" and "<name>.bias": spec's names */
  TRY(nncl_graph_conv2d(g, node_name, in, conv, &p->value[w], &p->value[w + 1], 1, 1, 1, 1));
  TRY(nncl_graph_activation(g, relu, "Relu", conv, relu));
  return nncl_graph_pool2d(g, out, "MaxPool", relu, out, 2, 2, 0);
}

/* Decoder initial state [N, H]: tanh(mean of the grid W^T + b). */
static nncl_status init_state(nncl_graph *g, const caption_params *p, int w, const char *mean,
                              const char *out) {
  char lin[64];
  snprintf(lin, sizeof lin, "%s/linear", out);
  /* nncl_graph_dense would name its constants after the node: "init_h.weight" */
  TRY(nncl_graph_dense(g, w == IH_W ? "init_h" : "init_c", mean, lin, &p->value[w],
                       &p->value[w + 1]));
  return nncl_graph_activation(g, out, "Tanh", lin, out);
}

/* Decoder step t (input feeding): the LSTM cell reads [word t; context t-1] and state t-1, then
   attends over the grid with its new state. Values are named "s<t>/...": s<t>/h, s<t>/c,
   s<t>/context [N, C], s<t>/attention [N, 1, L], s<t>/joined [N, 1, H + C]. */
static nncl_status decoder_step(nncl_graph *g, int t) {
  char name[32][48], h_prev[48], c_prev[48], ctx_prev[48];
  int k = 0;
#define NAME(fmt) (snprintf(name[k], sizeof name[k], "s%d/" fmt, t), name[k++])
  snprintf(h_prev, sizeof h_prev, t ? "s%d/h" : "h0", t - 1);
  snprintf(c_prev, sizeof c_prev, t ? "s%d/c" : "c0", t - 1);
  /* the first step's context is the grid's mean: what the initial state was made from */
  snprintf(ctx_prev, sizeof ctx_prev, t ? "s%d/context" : "grid_mean", t - 1);
  const int64_t ws[] = {t}, we[] = {t + 1}, wa[] = {1}, row[] = {-1, D};
  const char *word3 = NAME("word3"), *word = NAME("word");
  TRY(slice(g, word3, "embedded", 1, ws, we, wa, word3));
  TRY(reshape(g, word, word3, 2, row, word));
  const char *x_in[] = {word, ctx_prev}, *x = NAME("x");
  TRY(concat(g, x, 2, x_in, 1));
  const char *zx = NAME("zx"), *zh = NAME("zh"), *zs = NAME("zsum"), *z = NAME("z");
  TRY(node2(g, "MatMul", zx, x, "cell.input"));
  TRY(node2(g, "MatMul", zh, h_prev, "cell.recurrent"));
  TRY(node2(g, "Add", zs, zx, zh));
  TRY(node2(g, "Add", z, zs, "cell.bias"));
  const char *gi = NAME("zi"), *gf = NAME("zf"), *gg = NAME("zg"), *go = NAME("zo");
  const char *parts[] = {gi, gf, gg, go};
  nncl_node *n;
  TRY(nncl_graph_add_node(g, "Split", NAME("split"), 1, &z, 4, parts, &n));
  TRY(nncl_node_set_int(g, n, "axis", 1));
  const char *i = NAME("i"), *f = NAME("f"), *cand = NAME("g"), *o = NAME("o");
  TRY(node1(g, "Sigmoid", i, gi));
  TRY(node1(g, "Sigmoid", f, gf));
  TRY(node1(g, "Tanh", cand, gg));
  TRY(node1(g, "Sigmoid", o, go));
  const char *keep = NAME("keep"), *write = NAME("write"), *c = NAME("c");
  TRY(node2(g, "Mul", keep, f, c_prev));
  TRY(node2(g, "Mul", write, i, cand));
  TRY(node2(g, "Add", c, keep, write));
  const char *tc = NAME("tanh_c"), *h = NAME("h");
  TRY(node1(g, "Tanh", tc, c));
  TRY(node2(g, "Mul", h, o, tc));
  /* attention: scores[n, l] = h[n] . keys[n, l]; softmax over the grid; context = weights . grid */
  const int64_t h3_dims[] = {-1, 1, H}, ctx_dims[] = {-1, C};
  const char *h3 = NAME("h3"), *scores = NAME("scores"), *att = NAME("attention");
  TRY(reshape(g, h3, h, 3, h3_dims, h3));
  TRY(node2(g, "MatMul", scores, h3, "keys_t"));
  TRY(node(g, "Softmax", att, 1, &scores, att, &n));
  TRY(nncl_node_set_int(g, n, "axis", -1));
  const char *ctx3 = NAME("context3"), *ctx = NAME("context");
  TRY(node2(g, "MatMul", ctx3, att, "grid"));
  TRY(reshape(g, ctx, ctx3, 2, ctx_dims, ctx));
  /* the word is predicted from [h; context] (joined over the steps after the loop) */
  const char *j_in[] = {h3, ctx3};
  return concat(g, NAME("joined"), 2, j_in, 2);
#undef NAME
}

nncl_status caption_net_build(nncl_graph *g, const caption_params *p, int steps, int attention) {
  if (steps < 1 || steps > CAPTION_MAX_STEPS) return NNCL_ERR_INVALID_ARGUMENT;
  const int T = steps;
  const nncl_shape in_shape = {2, {-1, CAPTION_ROW}};
  TRY(nncl_graph_add_input(g, CAPTION_INPUT, NNCL_FLOAT32, &in_shape));
  /* rows [N T, ROW] -> [N, T, ROW]: the picture from step 0, the input token of every step */
  const int64_t by_step[] = {-1, T, CAPTION_ROW};
  TRY(reshape(g, "steps", CAPTION_INPUT, 3, by_step, "steps"));
  const int64_t ps[] = {0, 0}, pe[] = {1, CAPTION_PIXELS}, pa[] = {1, 2};
  TRY(slice(g, "picture_row", "steps", 2, ps, pe, pa, "picture_row"));
  const int64_t img_dims[] = {-1, 1, CAPTION_SIDE, CAPTION_SIDE};
  TRY(reshape(g, "picture", "picture_row", 4, img_dims, "picture"));
  const int64_t ts[] = {CAPTION_PIXELS}, te[] = {CAPTION_ROW}, ta[] = {2};
  TRY(slice(g, "token_col", "steps", 1, ts, te, ta, "token_col"));
  const int64_t tok_dims[] = {-1, T};
  TRY(reshape(g, "token_f", "token_col", 2, tok_dims, "token_f"));
  nncl_node *n;
  const char *tf = "token_f";
  TRY(node(g, "Cast", "tokens", 1, &tf, "tokens", &n));
  TRY(nncl_node_set_int(g, n, "to", 7 /* INT64 */));

  /* encoder: [N, 1, 56, 56] -> [N, C, 7, 7] -> grid [N, L, C] */
  TRY(conv_block(g, p, ENC1_W, "picture", "enc1", "enc1/out"));
  TRY(conv_block(g, p, ENC2_W, "enc1/out", "enc2", "enc2/out"));
  TRY(conv_block(g, p, ENC3_W, "enc2/out", "enc3", "enc3/out"));
  const int64_t flat[] = {-1, C, L}, perm021[] = {0, 2, 1};
  TRY(reshape(g, "grid_cl", "enc3/out", 3, flat, "grid_cl"));
  TRY(transpose(g, "grid_lc", "grid_cl", 3, perm021, "grid_lc"));
  /* convolutions see content, not place: a learnt vector per cell tells the attention where it
     looks ("the garment on the left"), which the captions' word order depends on */
  TRY(nncl_graph_add_constant(g, p->name[POSITION], &p->value[POSITION]));
  TRY(node2(g, "Add", "grid", "grid_lc", "grid.position"));
  const char *grid = "grid";
  TRY(node(g, "ReduceMean", "grid_mean", 1, &grid, "grid_mean", &n));
  const int64_t axis1 = 1;
  TRY(nncl_node_set_ints(g, n, "axes", &axis1, 1));
  TRY(nncl_node_set_int(g, n, "keepdims", 0));
  TRY(init_state(g, p, IH_W, "grid_mean", "h0"));
  TRY(init_state(g, p, IC_W, "grid_mean", "c0"));

  /* the attention's keys, once per picture: keys_t[n] = (grid[n] W_a)^T [N, H, L] */
  for (int i = EMBED; i <= ATTN_W; i++)
    if (i != POSITION) TRY(nncl_graph_add_constant(g, p->name[i], &p->value[i]));
  TRY(node2(g, "MatMul", "keys", "grid", "attn.weight"));
  TRY(transpose(g, "keys_t", "keys", 3, perm021, "keys_t"));

  /* decoder: the embedded input tokens [N, T, D], one LSTM cell per step, written out node by
     node so that each step's attention context can enter the next step's input */
  TRY(node2(g, "Gather", "embedded", "embed", "tokens"));
  const char *joined[CAPTION_MAX_STEPS], *att[CAPTION_MAX_STEPS];
  char jn[CAPTION_MAX_STEPS][48], an[CAPTION_MAX_STEPS][48];
  for (int t = 0; t < T; t++) {
    TRY(decoder_step(g, t));
    snprintf(jn[t], sizeof jn[t], "s%d/joined", t);
    snprintf(an[t], sizeof an[t], "s%d/attention", t);
    joined[t] = jn[t];
    att[t] = an[t];
  }
  TRY(concat(g, "joined", T, joined, 1));
  const int64_t joined_dims[] = {-1, H + C};
  TRY(reshape(g, "joined_rows", "joined", 2, joined_dims, "joined_rows"));
  TRY(nncl_graph_dense(g, "out", "joined_rows", CAPTION_LOGITS, &p->value[OUT_W],
                       &p->value[OUT_B]));
  TRY(nncl_graph_add_output(g, CAPTION_LOGITS));
  if (attention) {
    TRY(concat(g, CAPTION_ATTENTION, T, att, 1));
    TRY(nncl_graph_add_output(g, CAPTION_ATTENTION));
  }
  return NNCL_OK;
}
