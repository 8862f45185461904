/* op_rnn_grad.c: nncl.RNNGrad, nncl.LSTMGrad and nncl.GRUGrad, back-propagation through time of
   ONNX RNN, LSTM and GRU (every direction, sequence_lens, initial states, activation, clip,
   input_forget, linear_before_reset and peephole the forward takes; kernels/rnn_grad.cl).
   Inputs: the forward's eight slots (X, W, R, B, sequence_lens, initial_h, initial_c, P; "" where
   absent) then dY, dY_h, dY_c; attributes: the forward node's. Outputs: dX, dW, dR, dB,
   d initial_h, and for LSTM d initial_c and dP.
   The op replays the forward in its workspace (the input projection as one GEMM per direction,
   per step a recurrent GEMM and rnn_train_step, which keeps every gate's pre-activation and the
   previous states), then walks time in reverse: per step one rnn_grad_step launch for the gate
   math and one GEMM dH_prev += dG . R for both directions (GRU without linear_before_reset: two
   of each, its r gate needs dG_h . Rh first). dX = dG . W, dW = dG^T X and dR = dG^T H_prev are
   then single GEMMs over the whole sequence per direction, the bias and peephole gradients one
   reduction launch each. Replaying costs one extra forward but keeps nothing alive between the
   forward and backward passes of the graph. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "grad.h"
#include "rnn.h"

enum { IN_DY = 8, IN_DYH, IN_DYC, N_IN };
enum { OUT_DX, OUT_DW, OUT_DR, OUT_DB, OUT_DH0, OUT_DC0, OUT_DP };

struct rg_state {
  enum rnn_cell cell;
  size_t gates, seq, batch, in, hidden, dirs, rows;
  unsigned rev;
  int lbr, kernel_layout;
  cl_kernel train_step, train_reset, init, finish, step, reset, bias, peep;
  /* workspace layout, in floats: row arrays [dirs][rows][...], step arrays [dirs][batch][...] */
  size_t pre, hr, hs, cs, rs, hp, cp, cn, aux, dg, dgrh, dgs, dh[2], dc;
};

static enum rnn_cell cell_of(const char *op_type) {
  return strstr(op_type, "LSTM") ? CELL_LSTM : strstr(op_type, "GRU") ? CELL_GRU : CELL_RNN;
}

static int same_shape(const nncl_shape *a, const nncl_shape *b) {
  if (a->rank != b->rank) return 0;
  for (int k = 0; k < a->rank; k++)
    if (a->dims[k] != b->dims[k]) return 0;
  return 1;
}

static nncl_status infer(struct op_call *c) {
  enum rnn_cell cell = cell_of(c->op_type);
  const int lstm = cell == CELL_LSTM;
  if (c->n_in != N_IN)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "takes 11 inputs (the forward's 8 slots, dY, dY_h, dY_c), got %d", c->n_in);
  if (!lstm && (op_has_input(c, IN_C0) || op_has_input(c, IN_P) || op_has_input(c, IN_DYC)))
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "initial_c, P and dY_c belong to LSTM only; their slots must be empty");
  /* the forward's own shape rule validates X, W, R, B, the lengths and the initial states */
  struct op_tensor outs[3];
  memset(outs, 0, sizeof outs);
  struct op_call f = *c;
  f.op_type = lstm ? "LSTM" : cell == CELL_GRU ? "GRU" : "RNN";
  f.n_in = lstm ? 8 : 6;
  f.n_out = lstm ? 3 : 2;
  f.out = outs;
  f.state = NULL;
  NNCL_TRY(op_get(lstm ? OP_LSTM : cell == CELL_GRU ? OP_GRU : OP_RNN)->infer(&f));
  static const char *const dy_name[] = {"dY", "dY_h", "dY_c"};
  for (int k = 0; k < f.n_out; k++) {
    const struct op_tensor *t = &c->in[IN_DY + k];
    if (!op_has_input(c, IN_DY + k)) continue;
    char got[128], want[128];
    if (t->dtype != NNCL_FLOAT32 || !same_shape(&t->shape, &outs[k].shape))
      return op_error(c, NNCL_ERR_SHAPE, "%s is %s %s, expected float32 %s", dy_name[k],
                      nncl_dtype_name(t->dtype), OP_SHAPE_STR(&t->shape, got),
                      OP_SHAPE_STR(&outs[k].shape, want));
  }
  const int max_out = lstm ? 7 : 5;
  if (c->n_out > max_out)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "has at most %d outputs, got %d", max_out,
                    c->n_out);
  const int64_t dirs = c->in[IN_W].shape.dims[0], gh = c->in[IN_W].shape.dims[1],
                hidden = c->in[IN_R].shape.dims[2];
  for (int i = 0; i < c->n_out; i++) {
    c->out[i].dtype = NNCL_FLOAT32;
    switch (i) {
    case OUT_DX: c->out[i].shape = c->in[IN_X].shape; break;
    case OUT_DW: c->out[i].shape = c->in[IN_W].shape; break;
    case OUT_DR: c->out[i].shape = c->in[IN_R].shape; break;
    case OUT_DB: c->out[i].shape = (nncl_shape){.rank = 2, .dims = {dirs, 2 * gh}}; break;
    case OUT_DH0:
    case OUT_DC0: c->out[i].shape = outs[1].shape; break;
    default: c->out[i].shape = (nncl_shape){.rank = 2, .dims = {dirs, 3 * hidden}}; break;
    }
  }
  return NNCL_OK;
}

static nncl_status plan(struct op_call *c, size_t *ws) {
  struct rg_state *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "state");
  c->state = s;
  s->cell = cell_of(c->op_type);
  s->dirs = (size_t)nncl__rnn_dirs(c, &s->rev);
  int layout = (int)op_attr_int(c, "layout", 0);
  s->kernel_layout = layout ? 1 : op_attr_int(c, "nncl.y_layout", 0) ? 2 : 0;
  const nncl_shape *x = &c->in[IN_X].shape;
  s->seq = (size_t)x->dims[layout ? 1 : 0];
  s->batch = (size_t)x->dims[layout ? 0 : 1];
  s->in = (size_t)x->dims[2];
  s->hidden = (size_t)c->in[IN_R].shape.dims[2];
  s->gates = (size_t)c->in[IN_W].shape.dims[1] / s->hidden;
  s->rows = s->seq * s->batch;
  s->lbr = s->cell == CELL_GRU && op_attr_int(c, "linear_before_reset", 0) != 0;
  char opts[2048];
  NNCL_TRY(nncl__rnn_kernel_options(c, s->cell, (int)s->dirs, 1, opts, sizeof opts));
  static const struct {
    size_t off;
    const char *name;
  } kn[] = {{offsetof(struct rg_state, train_step), "rnn_train_step"},
            {offsetof(struct rg_state, init), "rnn_grad_init"},
            {offsetof(struct rg_state, finish), "rnn_grad_finish"},
            {offsetof(struct rg_state, step), "rnn_grad_step"},
            {offsetof(struct rg_state, bias), "rnn_grad_bias"},
            {offsetof(struct rg_state, peep), "rnn_grad_peep"},
            {offsetof(struct rg_state, train_reset), "rnn_train_gru_reset"},
            {offsetof(struct rg_state, reset), "rnn_grad_gru_reset"}};
  const int gru_reset = s->cell == CELL_GRU && !s->lbr;
  for (size_t k = 0; k < sizeof kn / sizeof kn[0]; k++) {
    if (k >= 6 && !gru_reset) continue;
    if (k == 5 && s->cell != CELL_LSTM) continue;
    NNCL_TRY(nncl__kernel_get(c->ctx, "rnn_grad", opts, kn[k].name,
                              (cl_kernel *)((char *)s + kn[k].off)));
  }
  const size_t gh = s->gates * s->hidden, h = s->hidden, D = s->dirs, R = s->rows, B = s->batch;
  const int lstm = s->cell == CELL_LSTM, gru = s->cell == CELL_GRU;
  size_t o = 0;
  s->pre = o, o += D * R * gh;
  s->hr = o, o += D * B * gh;
  s->hs = o, o += D * B * h;
  s->cs = o, o += D * B * h;
  s->rs = o, o += gru ? D * B * h : 0;
  s->hp = o, o += D * R * h;
  s->cp = o, o += lstm ? D * R * h : 0;
  s->cn = o, o += lstm ? D * R * h : 0;
  s->aux = o, o += gru ? D * R * h : 0;
  s->dg = o, o += D * R * gh;
  s->dgrh = o, o += s->lbr ? D * R * h : 0;
  s->dgs = o, o += D * B * gh;
  s->dh[0] = o, o += D * B * h;
  s->dh[1] = o, o += D * B * h;
  s->dc = o, o += D * B * h;
  if (o >= (size_t)UINT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED,
                    "needs %zu floats of saved activations; offsets past 2^32 are not supported",
                    o);
  *ws = (o ? o : 1) * sizeof(float);
  c->algo = gru_reset ? "replay+bptt(2 gemm + 2 kernels per step)" : "replay+bptt";
  return NNCL_OK;
}

/* The element offsets every rnn_grad.cl kernel takes (RNN_WS_ARGS), as cl_uint launch args. */
struct ws_args {
  cl_uint pre, hp, cp, cn, aux, rh, dg, dgrh, dgs;
};
#define WS_ARGS(w)                                                                                 \
  NNCL_ARG((w).pre), NNCL_ARG((w).hp), NNCL_ARG((w).cp), NNCL_ARG((w).cn), NNCL_ARG((w).aux),      \
      NNCL_ARG((w).rh), NNCL_ARG((w).dg), NNCL_ARG((w).dgrh), NNCL_ARG((w).dgs)

/* out[d] (batch x n) = a[d] (batch x k) . R[d][row0 : row0 + n or k]^T (trans) or . R[d] rows
   row0 .. row0 + k (no trans), both directions in one call; beta 0 or 1. */
static nncl_status rgemm(struct op_call *c, const struct rg_state *s, bool trans, size_t n,
                         size_t k, size_t a_off, size_t lda, size_t a_stride, size_t row0,
                         float beta, size_t out_off, size_t ldo, size_t out_stride) {
  const size_t gh = s->gates * s->hidden, h = s->hidden;
  return nncl__sgemm_strided_batched(c->ctx, false, trans, s->batch, n, k, 1.0f, c->workspace,
                                     a_off, lda, a_stride, c->in[IN_R].mem, row0 * h, h, gh * h,
                                     beta, c->workspace, out_off, ldo, out_stride, s->dirs);
}

static nncl_status enqueue(struct op_call *c) {
  const struct rg_state *s = c->state;
  nncl_context *ctx = c->ctx;
  cl_mem ws = c->workspace;
  const size_t gh = s->gates * s->hidden, h = s->hidden, B = s->batch, R = s->rows;
  const int lstm = s->cell == CELL_LSTM, gru_reset = s->cell == CELL_GRU && !s->lbr;
  cl_mem out[7] = {0};
  for (int i = 0; i < c->n_out; i++) out[i] = c->out[i].mem;
  cl_mem in[N_IN];
  int has[N_IN];
  for (int i = 0; i < N_IN; i++) {
    has[i] = op_has_input(c, i) && c->in[i].mem;
    in[i] = has[i] ? c->in[i].mem : ws;
  }
  cl_uint seq = (cl_uint)s->seq, batch = (cl_uint)B, hid = (cl_uint)h, dirs = (cl_uint)s->dirs;
  cl_uint rev = s->rev, rows = (cl_uint)R, step = 0;
  cl_int layout = s->kernel_layout;
  const struct ws_args w = {(cl_uint)s->pre, (cl_uint)s->hp,   (cl_uint)s->cp,
                            (cl_uint)s->cn,  (cl_uint)s->aux,  (cl_uint)s->rs,
                            (cl_uint)s->dg,  (cl_uint)s->dgrh, (cl_uint)s->dgs};
  cl_uint hr = (cl_uint)s->hr, hs = (cl_uint)s->hs, cs = (cl_uint)s->cs, rs = (cl_uint)s->rs;
  cl_uint dh[2] = {(cl_uint)s->dh[0], (cl_uint)s->dh[1]}, dc = (cl_uint)s->dc;
#define SHAPE_ARGS                                                                                 \
  NNCL_ARG(step), NNCL_ARG(seq), NNCL_ARG(batch), NNCL_ARG(hid), NNCL_ARG(dirs), NNCL_ARG(rev),    \
      NNCL_ARG(layout), NNCL_ARG(in[IN_LENS]), NNCL_ARG(has[IN_LENS])
  size_t local[3] = {h < 64 ? h : 64, 1, 1}, global[3] = {h, B, s->dirs};
  NNCL_TRY(NNCL_LAUNCH(ctx, s->init, "rnn_grad_init", 3, global, local, NNCL_ARG(ws), NNCL_ARG(hs),
                       NNCL_ARG(cs), NNCL_ARG(dh[0]), NNCL_ARG(dc), NNCL_ARG(in[IN_H0]),
                       NNCL_ARG(has[IN_H0]), NNCL_ARG(in[IN_C0]), NNCL_ARG(has[IN_C0]),
                       NNCL_ARG(in[IN_DYH]), NNCL_ARG(has[IN_DYH]), NNCL_ARG(in[IN_DYC]),
                       NNCL_ARG(has[IN_DYC]), SHAPE_ARGS));
  int cur = 0;
  if (R > 0) {
    /* replay: the input projection of every step, then the steps */
    for (size_t d = 0; d < s->dirs; d++)
      NNCL_TRY(nncl__sgemm(ctx, false, true, R, gh, s->in, 1.0f, in[IN_X], 0, s->in, in[IN_W],
                           d * gh * s->in, s->in, 0.0f, ws, s->pre + d * R * gh, gh));
    for (step = 0; step < seq; step++) {
      if (gru_reset) {
        NNCL_TRY(rgemm(c, s, true, 2 * h, h, s->hs, h, B * h, 0, 0.0f, s->hr, gh, B * gh));
        NNCL_TRY(NNCL_LAUNCH(ctx, s->train_reset, "rnn_train_gru_reset", 3, global, local,
                             NNCL_ARG(ws), NNCL_ARG(hr), NNCL_ARG(hs), NNCL_ARG(rs), WS_ARGS(w),
                             NNCL_ARG(in[IN_B]), NNCL_ARG(has[IN_B]), SHAPE_ARGS));
        NNCL_TRY(rgemm(c, s, true, h, h, s->rs, h, B * h, 2 * h, 0.0f, s->hr + 2 * h, gh, B * gh));
      } else {
        NNCL_TRY(rgemm(c, s, true, gh, h, s->hs, h, B * h, 0, 0.0f, s->hr, gh, B * gh));
      }
      NNCL_TRY(NNCL_LAUNCH(ctx, s->train_step, "rnn_train_step", 3, global, local, NNCL_ARG(ws),
                           NNCL_ARG(hr), NNCL_ARG(hs), NNCL_ARG(cs), WS_ARGS(w), NNCL_ARG(in[IN_B]),
                           NNCL_ARG(has[IN_B]), NNCL_ARG(in[IN_P]), NNCL_ARG(has[IN_P]),
                           SHAPE_ARGS));
    }
    /* back through time */
    for (step = seq; step-- > 0;) {
      NNCL_TRY(NNCL_LAUNCH(ctx, s->step, "rnn_grad_step", 3, global, local, NNCL_ARG(ws),
                           NNCL_ARG(dh[cur]), NNCL_ARG(dh[1 - cur]), NNCL_ARG(dc), WS_ARGS(w),
                           NNCL_ARG(in[IN_DY]), NNCL_ARG(has[IN_DY]), NNCL_ARG(in[IN_P]),
                           NNCL_ARG(has[IN_P]), SHAPE_ARGS));
      size_t k = gh;
      if (gru_reset) { /* drh = dG_h . Rh, then r's gradient and H_prev's share through r */
        NNCL_TRY(
            rgemm(c, s, false, h, h, s->dgs + 2 * h, gh, B * gh, 2 * h, 0.0f, s->rs, h, B * h));
        NNCL_TRY(NNCL_LAUNCH(ctx, s->reset, "rnn_grad_gru_reset", 3, global, local, NNCL_ARG(ws),
                             NNCL_ARG(dh[1 - cur]), WS_ARGS(w), SHAPE_ARGS));
        k = 2 * h;
      }
      NNCL_TRY(rgemm(c, s, false, h, k, s->dgs, gh, B * gh, 0, 1.0f, s->dh[1 - cur], h, B * h));
      cur = 1 - cur;
    }
  }
  step = 0;
  int has_dh0 = out[OUT_DH0] != NULL, has_dc0 = lstm && out[OUT_DC0] != NULL;
  cl_mem dh0 = has_dh0 ? out[OUT_DH0] : ws, dc0 = has_dc0 ? out[OUT_DC0] : ws;
  if (has_dh0 || has_dc0)
    NNCL_TRY(NNCL_LAUNCH(ctx, s->finish, "rnn_grad_finish", 3, global, local, NNCL_ARG(ws),
                         NNCL_ARG(dh[cur]), NNCL_ARG(dc), NNCL_ARG(dh0), NNCL_ARG(has_dh0),
                         NNCL_ARG(dc0), NNCL_ARG(has_dc0), SHAPE_ARGS));
#undef SHAPE_ARGS
  if (R == 0) { /* no step ran: only the initial states have gradients (dY_h, dY_c) */
    for (int i = 0; i < c->n_out; i++)
      if (out[i] && i != OUT_DH0 && i != OUT_DC0)
        NNCL_TRY(nncl__buffer_fill_zero(
            ctx, out[i], 0, (size_t)nncl_shape_numel(&c->out[i].shape) * sizeof(float)));
    return NNCL_OK;
  }
  /* weights: single GEMMs over the whole sequence per direction */
  for (size_t d = 0; d < s->dirs; d++) {
    const size_t dg = s->dg + d * R * gh, hp = s->hp + d * R * h;
    if (out[OUT_DX])
      NNCL_TRY(nncl__sgemm(ctx, false, false, R, s->in, gh, 1.0f, ws, dg, gh, in[IN_W],
                           d * gh * s->in, s->in, d ? 1.0f : 0.0f, out[OUT_DX], 0, s->in));
    if (out[OUT_DW])
      NNCL_TRY(nncl__sgemm(ctx, true, false, gh, s->in, R, 1.0f, ws, dg, gh, in[IN_X], 0, s->in,
                           0.0f, out[OUT_DW], d * gh * s->in, s->in));
    if (!out[OUT_DR]) continue;
    if (s->cell != CELL_GRU) {
      NNCL_TRY(nncl__sgemm(ctx, true, false, gh, h, R, 1.0f, ws, dg, gh, ws, hp, h, 0.0f,
                           out[OUT_DR], d * gh * h, h));
      continue;
    }
    /* GRU: z and r rows read H_prev; the h rows read r * H_prev (or with linear_before_reset
       their R side dgrh against H_prev) */
    NNCL_TRY(nncl__sgemm(ctx, true, false, 2 * h, h, R, 1.0f, ws, dg, gh, ws, hp, h, 0.0f,
                         out[OUT_DR], d * gh * h, h));
    if (s->lbr)
      NNCL_TRY(nncl__sgemm(ctx, true, false, h, h, R, 1.0f, ws, s->dgrh + d * R * h, h, ws, hp, h,
                           0.0f, out[OUT_DR], d * gh * h + 2 * h * h, h));
    else
      NNCL_TRY(nncl__sgemm(ctx, true, false, h, h, R, 1.0f, ws, dg + 2 * h, gh, ws,
                           s->aux + d * R * h, h, 0.0f, out[OUT_DR], d * gh * h + 2 * h * h, h));
  }
  cl_uint dgo = (cl_uint)s->dg, dgrh = (cl_uint)s->dgrh, cp = (cl_uint)s->cp, cn = (cl_uint)s->cn;
  if (out[OUT_DB]) {
    size_t g2[2] = {gh, s->dirs}, l2[2] = {gh < 64 ? gh : 64, 1};
    NNCL_TRY(NNCL_LAUNCH(ctx, s->bias, "rnn_grad_bias", 2, g2, l2, NNCL_ARG(ws), NNCL_ARG(dgo),
                         NNCL_ARG(dgrh), NNCL_ARG(out[OUT_DB]), NNCL_ARG(rows), NNCL_ARG(hid),
                         NNCL_ARG(dirs)));
  }
  if (lstm && c->n_out > OUT_DP && out[OUT_DP]) {
    size_t g2[2] = {h, s->dirs}, l2[2] = {local[0], 1};
    NNCL_TRY(NNCL_LAUNCH(ctx, s->peep, "rnn_grad_peep", 2, g2, l2, NNCL_ARG(ws), NNCL_ARG(dgo),
                         NNCL_ARG(cp), NNCL_ARG(cn), NNCL_ARG(out[OUT_DP]), NNCL_ARG(rows),
                         NNCL_ARG(hid), NNCL_ARG(dirs)));
  }
  return NNCL_OK;
}

static void cost(const struct op_call *c, struct op_cost *o) {
  const nncl_shape *x = &c->in[IN_X].shape, *w = &c->in[IN_W].shape, *r = &c->in[IN_R].shape;
  /* replay (one forward) plus backward (dX, dW, dR and dH_prev: twice the forward's products) */
  double rows = (double)(x->dims[0] * x->dims[1]), gh = (double)w->dims[1];
  o->flops = 3.0 * 2.0 * rows * (double)w->dims[0] * gh * (double)(w->dims[2] + r->dims[2]);
  o->bytes = 4.0 * (2.0 * (double)nncl_shape_numel(x) + 2.0 * (double)nncl_shape_numel(w) +
                    2.0 * (double)nncl_shape_numel(r));
}

const struct op_def op_rnn_grad = {.min_in = N_IN,
                                   .max_in = N_IN,
                                   .min_out = 1,
                                   .max_out = 7,
                                   .infer = infer,
                                   .plan = plan,
                                   .enqueue = enqueue,
                                   .release = op_release_state,
                                   .cost = cost};
