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
#define T CAPTION_STEPS
#define V CAPTION_VOCAB
#define D CAPTION_EMBED
#define ENC1 16 /* channels of the first conv */

/* Parameter i's name, shape and fan-in (0: the embedding, drawn from N(0, 1)). */
static const struct {
  const char *name;
  nncl_shape shape;
  int fan_in;
} spec[CAPTION_NUM_PARAMS] = {
    {"enc1.weight", {4, {ENC1, 1, 3, 3}}, 9},
    {"enc1.bias", {1, {ENC1}}, 9},
    {"enc2.weight", {4, {C, ENC1, 3, 3}}, ENC1 * 9},
    {"enc2.bias", {1, {C}}, ENC1 * 9},
    {"init_h.weight", {2, {H, C}}, C},
    {"init_h.bias", {1, {H}}, C},
    {"init_c.weight", {2, {H, C}}, C},
    {"init_c.bias", {1, {H}}, C},
    {"embed", {2, {V, D}}, 0},
    {"grid.position", {3, {1, L, C}}, C},
    {"lstm.W", {3, {1, 4 * H, D}}, H}, /* PyTorch's LSTM: U(-1/sqrt(hidden), 1/sqrt(hidden)) */
    {"lstm.R", {3, {1, 4 * H, H}}, H},
    {"lstm.B", {2, {1, 8 * H}}, H},
    {"attn.weight", {2, {C, H}}, C},
    {"out.weight", {2, {V, H + C}}, H + C},
    {"out.bias", {1, {V}}, H + C},
};

enum {
  ENC1_W,
  ENC1_B,
  ENC2_W,
  ENC2_B,
  IH_W,
  IH_B,
  IC_W,
  IC_B,
  EMBED,
  POSITION,
  LSTM_W,
  LSTM_R,
  LSTM_B,
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
    const int conv = i <= ENC2_B, is_bias = conv && (i == ENC1_B || i == ENC2_B);
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

/* out = data[:, :, start:end] of the rows reshaped to [N, T, CAPTION_ROW] along `axis` ranges. */
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

static nncl_status conv_block(nncl_graph *g, const caption_params *p, int w, const char *in,
                              const char *prefix, const char *out) {
  char conv[64], relu[64], pool[64], node_name[64];
  snprintf(conv, sizeof conv, "%s/conv", prefix);
  snprintf(relu, sizeof relu, "%s/relu", prefix);
  snprintf(pool, sizeof pool, "%s/pool", prefix);
  snprintf(node_name, sizeof node_name, "%s", prefix);
  /* nncl_graph_conv2d names its constants "<name>.weight" and "<name>.bias": spec's names */
  TRY(nncl_graph_conv2d(g, node_name, in, conv, &p->value[w], &p->value[w + 1], 1, 1, 1, 1));
  TRY(nncl_graph_activation(g, relu, "Relu", conv, relu));
  return nncl_graph_pool2d(g, pool, "MaxPool", relu, out, 2, 2, 0);
}

/* Decoder initial state [1, N, H]: tanh(mean of the grid W^T + b). */
static nncl_status init_state(nncl_graph *g, const caption_params *p, int w, const char *mean,
                              const char *out) {
  char lin[64], act[64];
  snprintf(lin, sizeof lin, "%s/linear", out);
  snprintf(act, sizeof act, "%s/tanh", out);
  /* nncl_graph_dense would name its constants after the node: "init_h.weight" */
  TRY(nncl_graph_dense(g, w == IH_W ? "init_h" : "init_c", mean, lin, &p->value[w],
                       &p->value[w + 1]));
  TRY(nncl_graph_activation(g, act, "Tanh", lin, act));
  const int64_t dims[] = {1, -1, H};
  return reshape(g, out, act, 3, dims, out);
}

nncl_status caption_net_build(nncl_graph *g, const caption_params *p, int attention) {
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

  /* encoder: [N, 1, 28, 28] -> [N, C, 7, 7] -> grid [N, L, C] */
  TRY(conv_block(g, p, ENC1_W, "picture", "enc1", "enc1/out"));
  TRY(conv_block(g, p, ENC2_W, "enc1/out", "enc2", "enc2/out"));
  const int64_t flat[] = {-1, C, L}, perm021[] = {0, 2, 1}, perm102[] = {1, 0, 2};
  TRY(reshape(g, "grid_cl", "enc2/out", 3, flat, "grid_cl"));
  TRY(transpose(g, "grid_lc", "grid_cl", 3, perm021, "grid_lc"));
  /* convolutions see content, not place: a learnt vector per cell tells the attention where it
     looks ("the garment on the left"), which the captions' word order depends on */
  TRY(nncl_graph_add_constant(g, p->name[POSITION], &p->value[POSITION]));
  const char *pos_in[] = {"grid_lc", "grid.position"};
  TRY(node(g, "Add", "grid", 2, pos_in, "grid", NULL));
  const char *grid = "grid";
  TRY(node(g, "ReduceMean", "grid_mean", 1, &grid, "grid_mean", &n));
  const int64_t axis1 = 1;
  TRY(nncl_node_set_ints(g, n, "axes", &axis1, 1));
  TRY(nncl_node_set_int(g, n, "keepdims", 0));
  TRY(init_state(g, p, IH_W, "grid_mean", "h0"));
  TRY(init_state(g, p, IC_W, "grid_mean", "c0"));

  /* decoder: embedded input tokens [T, N, D] through one LSTM node -> states [N, T, H] */
  for (int i = EMBED; i <= LSTM_B; i++)
    if (i != POSITION) TRY(nncl_graph_add_constant(g, p->name[i], &p->value[i]));
  const char *gather_in[] = {"embed", "tokens"};
  TRY(node(g, "Gather", "embedded", 2, gather_in, "embedded", NULL));
  TRY(transpose(g, "embedded_tf", "embedded", 3, perm102, "embedded_tf"));
  const char *lstm_in[] = {"embedded_tf", "lstm.W", "lstm.R", "lstm.B", "", "h0", "c0"};
  TRY(node(g, "LSTM", "lstm", 7, lstm_in, "lstm_y", &n));
  TRY(nncl_node_set_int(g, n, "hidden_size", H));
  const int64_t y_dims[] = {T, -1, H};
  TRY(reshape(g, "lstm_tnh", "lstm_y", 3, y_dims, "lstm_tnh"));
  TRY(transpose(g, "states", "lstm_tnh", 3, perm102, "states"));

  /* attention: scores[n, t, l] = states[n, t] . (grid[n, l] W_a); softmax over the grid */
  TRY(nncl_graph_add_constant(g, p->name[ATTN_W], &p->value[ATTN_W]));
  const char *keys_in[] = {"grid", "attn.weight"};
  TRY(node(g, "MatMul", "keys", 2, keys_in, "keys", NULL));
  TRY(transpose(g, "keys_t", "keys", 3, perm021, "keys_t"));
  const char *score_in[] = {"states", "keys_t"};
  TRY(node(g, "MatMul", "scores", 2, score_in, "scores", NULL));
  const char *scores = "scores";
  TRY(node(g, "Softmax", CAPTION_ATTENTION, 1, &scores, CAPTION_ATTENTION, &n));
  TRY(nncl_node_set_int(g, n, "axis", -1));
  const char *ctx_in[] = {CAPTION_ATTENTION, "grid"};
  TRY(node(g, "MatMul", "context", 2, ctx_in, "context", NULL));

  /* each step's word from [state, context] */
  const char *cat_in[] = {"states", "context"};
  TRY(node(g, "Concat", "joined", 2, cat_in, "joined", &n));
  TRY(nncl_node_set_int(g, n, "axis", 2));
  const int64_t joined_dims[] = {-1, H + C};
  TRY(reshape(g, "joined_rows", "joined", 2, joined_dims, "joined_rows"));
  TRY(nncl_graph_dense(g, "out", "joined_rows", CAPTION_LOGITS, &p->value[OUT_W],
                       &p->value[OUT_B]));
  TRY(nncl_graph_add_output(g, CAPTION_LOGITS));
  if (attention) TRY(nncl_graph_add_output(g, CAPTION_ATTENTION));
  return NNCL_OK;
}
