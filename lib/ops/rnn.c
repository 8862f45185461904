/* rnn.c: ONNX RNN, LSTM and GRU (opsets 7-17, every attribute and input) through one driver.
   Per layer: one CLBlast GEMM per direction for the input projection X.W^T of all time steps,
   then per time step one recurrent GEMM H.R^T (both directions in one strided-batched call) and
   one fused gate kernel (kernels/rnn.cl) that finishes the step in place. GRU without
   linear_before_reset needs r before its h-gate product, so its steps take two GEMMs and two
   kernels. Small batches skip CLBlast inside the loop: the step kernel does the matrix-vector
   product itself against a transposed R (one launch per step), which cuts the per-step latency
   that dominates batch-1 inference. The cells differ only in gate count, default activations and
   the kernel's CELL. The internal attribute nncl.y_layout = 1 (set by lib/graph/pass_rnn.c, only
   with layout 0) writes Y as [seq, batch, dirs, hidden], the order the next layer of a
   bidirectional stack reads, instead of ONNX's [seq, dirs, batch, hidden]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rnn.h"

struct rnn_state {
  enum rnn_cell cell;
  size_t gates, seq, batch, in, hidden, dirs;
  unsigned rev;
  int layout, lbr;
  int kernel_layout; /* rnn.cl's layout: 0, 1 (ONNX) or 2 (nncl.y_layout) */
  cl_kernel step, reset, gemv, transpose;
  /* R's panels for the recurrent products (0: all gates, or GRU's z and r; 1: GRU's h gate),
     packed once at plan time when R is a constant (nncl__gemm_pack_b), else NULL */
  cl_mem r_packed[2];
  /* workspace layout, in floats */
  size_t xw_off, hr_off, h_off, c_off, rh_off, rt_off, h2_off;
};

static const int n_gates[] = {1, 4, 3};
/* Largest batch that takes the fused matrix-vector step (rnn_step_gemv); above it CLBlast's GEMM
   amortises its per-call cost over enough rows to win. */
#define RNN_GEMV_MAX_BATCH 4
static const int n_acts[] = {1, 3, 2};

static enum rnn_cell cell_of(const struct op_call *c) {
  return strcmp(c->op_type, "LSTM") == 0  ? CELL_LSTM
         : strcmp(c->op_type, "GRU") == 0 ? CELL_GRU
                                          : CELL_RNN;
}

/* ---- attributes ---- */

static int dirs_of(const struct op_call *c, unsigned *rev) {
  const char *d = op_attr_str(c, "direction", "forward");
  if (strcmp(d, "forward") == 0) return *rev = 0, 1;
  if (strcmp(d, "reverse") == 0) return *rev = 1, 1;
  if (strcmp(d, "bidirectional") == 0) return *rev = 2, 2;
  return 0;
}

int nncl__rnn_dirs(const struct op_call *c, unsigned *rev) { return dirs_of(c, rev); }

static int same_ci(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
    char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
    if (x != y) return 0;
  }
  return *a == *b;
}

/* The gate activations ONNX allows, from the element-wise table (rows with EWF_GATE): rnn.cl
   compiles each one's expression as is; an activation takes alpha / beta when its row names an
   attribute for them. dexpr is its derivative (EW_GATE_GRAD_<id>), for the gradient op. */
static const struct {
  const char *name, *expr, *an, *bn;
  float alpha, beta;
  const char *dexpr;
} acts[] = {
#define GATE_ROW(id, name, fe, ie, kind, fuse, an, ad, bn, bd)                                     \
  EW_IF_GATE(fuse, {name, fe, an, bn, ad, bd, EW_GATE_GRAD_##id}, )
    EW_UNARY_TABLE(GATE_ROW) EW_GATE_ONLY_TABLE(GATE_ROW)
#undef GATE_ROW
};

/* Index in acts of the activation named nm (ONNX compares case-insensitively), or -1. */
static int act_index(const char *nm) {
  for (int a = 0; a < (int)(sizeof acts / sizeof acts[0]); a++)
    if (same_ci(nm, acts[a].name)) return a;
  return -1;
}

/* Writes the kernel's -D options for every attribute that shapes the code (rnn.h). */
nncl_status nncl__rnn_kernel_options(const struct op_call *c, enum rnn_cell cell, int dirs,
                                     int grad, char *buf, size_t len) {
  static const char *const defaults[3][3] = {
      {"Tanh"}, {"Sigmoid", "Tanh", "Tanh"}, {"Sigmoid", "Tanh"}}; /* f, g, h as ONNX has them */
  int per = n_acts[cell], code[6];
  float alpha[6], beta[6];
  const struct nncl__attr *names = op_attr(c, "activations");
  const float *av = NULL, *bv = NULL;
  int na = op_attr_floats(c, "activation_alpha", &av),
      nb = op_attr_floats(c, "activation_beta", &bv);
  int ai = 0, bi = 0;
  if (names && names->type != ATTR_STRINGS)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "activations must be a list of strings");
  if (names && names->n != per * dirs && names->n != per)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "activations has %d entries; %s with %d direction(s) takes %d", names->n,
                    c->op_type, dirs, per * dirs);
  for (int i = 0; i < per * dirs; i++) {
    int k = i % per;
    const char *nm = names ? names->strs[names->n == per ? k : i] : defaults[cell][k];
    code[i] = act_index(nm);
    if (code[i] < 0)
      return op_error(c, NNCL_ERR_UNSUPPORTED, "activation \"%s\" is not an ONNX RNN activation",
                      nm);
    alpha[i] = acts[code[i]].alpha;
    beta[i] = acts[code[i]].beta;
    /* ONNX: alpha and beta values are consumed in order by the activations that take them. */
    if (acts[code[i]].an && ai < na) alpha[i] = av[ai++];
    if (acts[code[i]].bn && bi < nb) beta[i] = bv[bi++];
  }
  for (int i = per * dirs; i < 6; i++) {
    code[i] = code[i % per];
    alpha[i] = alpha[i % per];
    beta[i] = beta[i % per];
  }
  float clip = op_attr_float(c, "clip", 0.0f);
  int has_clip = op_attr(c, "clip") != NULL;
  if (has_clip && !(clip > 0.0f))
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "clip must be positive, got %g", (double)clip);
  static const char *fn[] = {"F", "G", "H"};
  int o = snprintf(buf, len, "-DCELL=%d -DHAS_CLIP=%d -DCLIP=%.9ef -DINPUT_FORGET=%d -DLBR=%d",
                   (int)cell, has_clip, (double)clip,
                   cell == CELL_LSTM && op_attr_int(c, "input_forget", 0) != 0,
                   cell == CELL_GRU && op_attr_int(c, "linear_before_reset", 0) != 0);
  for (int d = 0; d < 2; d++)
    for (int k = 0; k < per; k++) {
      int i = d * per + k;
      if (o > 0 && (size_t)o < len)
        o += snprintf(buf + o, len - (size_t)o, " -DACT_%s%d=%s -DA%s%d_A=%.9ef -DA%s%d_B=%.9ef",
                      fn[k], d, acts[code[i]].expr, fn[k], d, (double)alpha[i], fn[k], d,
                      (double)beta[i]);
      if (grad && o > 0 && (size_t)o < len)
        o += snprintf(buf + o, len - (size_t)o, " -DDACT_%s%d=%s", fn[k], d, acts[code[i]].dexpr);
    }
  if (o <= 0 || (size_t)o >= len)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "kernel options too long");
  return NNCL_OK;
}

/* ---- shapes ---- */

static nncl_status expect(const struct op_call *c, int i, const char *what, int rank,
                          const int64_t *dims) {
  if (!op_has_input(c, i)) return NNCL_OK;
  const nncl_shape *s = &c->in[i].shape;
  int ok = s->rank == rank;
  for (int k = 0; ok && k < rank; k++) ok = s->dims[k] == dims[k];
  if (ok) return NNCL_OK;
  char got[128], want[128];
  nncl_shape w = {.rank = rank};
  for (int k = 0; k < rank; k++) w.dims[k] = dims[k];
  return op_error(c, NNCL_ERR_SHAPE, "%s has shape %s, expected %s", what, OP_SHAPE_STR(s, got),
                  OP_SHAPE_STR(&w, want));
}

static nncl_status infer(struct op_call *c) {
  enum rnn_cell cell = cell_of(c);
  unsigned rev;
  int dirs = dirs_of(c, &rev);
  if (!dirs)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "direction \"%s\" is not forward, reverse or bidirectional",
                    op_attr_str(c, "direction", ""));
  int layout = (int)op_attr_int(c, "layout", 0);
  if (layout != 0 && layout != 1)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "layout must be 0 or 1, got %d", layout);
  int64_t y_layout = op_attr_int(c, "nncl.y_layout", 0);
  if (y_layout != 0 && (y_layout != 1 || layout != 0))
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "nncl.y_layout must be 0, or 1 with layout 0; got %lld with layout %d",
                    (long long)y_layout, layout);
  for (int i = 0; i < c->n_in; i++) {
    if (!op_has_input(c, i)) continue;
    nncl_dtype want = i == IN_LENS ? NNCL_INT32 : NNCL_FLOAT32;
    if (c->in[i].dtype != want)
      return op_error(c, NNCL_ERR_DTYPE, "input %d is %s, expected %s", i,
                      nncl_dtype_name(c->in[i].dtype), nncl_dtype_name(want));
  }
  const nncl_shape *x = &c->in[IN_X].shape, *r = &c->in[IN_R].shape;
  char sx[128];
  if (x->rank != 3)
    return op_error(c, NNCL_ERR_SHAPE, "X has shape %s, expected rank 3", OP_SHAPE_STR(x, sx));
  int64_t seq = x->dims[layout ? 1 : 0], batch = x->dims[layout ? 0 : 1], in = x->dims[2];
  int64_t hidden = op_attr_int(c, "hidden_size", r->rank == 3 ? r->dims[2] : -1);
  if (hidden <= 0)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "hidden_size is missing or not positive");
  int64_t g = n_gates[cell], gates_x2;
  /* W, R and B hold up to 2 * gates * hidden values per direction: that count must not wrap */
  if (!nncl__mul_ok(2 * g, hidden, &gates_x2) || gates_x2 > NNCL__MAX_BYTES / 4)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "hidden_size %lld is too large",
                    (long long)hidden);
  NNCL_TRY(expect(c, IN_W, "W", 3, (int64_t[]){dirs, g * hidden, in}));
  NNCL_TRY(expect(c, IN_R, "R", 3, (int64_t[]){dirs, g * hidden, hidden}));
  NNCL_TRY(expect(c, IN_B, "B", 2, (int64_t[]){dirs, 2 * g * hidden}));
  NNCL_TRY(expect(c, IN_LENS, "sequence_lens", 1, (int64_t[]){batch}));
  const int64_t st_dims[3] = {layout ? batch : dirs, layout ? dirs : batch, hidden};
  NNCL_TRY(expect(c, IN_H0, "initial_h", 3, st_dims));
  if (cell == CELL_LSTM) {
    NNCL_TRY(expect(c, IN_C0, "initial_c", 3, st_dims));
    NNCL_TRY(expect(c, IN_P, "P", 2, (int64_t[]){dirs, 3 * hidden}));
  } else if (c->n_in > IN_C0) {
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "takes at most 6 inputs, got %d", c->n_in);
  }
  if (cell != CELL_LSTM && c->n_out > 2)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "has 2 outputs (Y, Y_h), got %d", c->n_out);
  if (op_has_input(c, IN_LENS) && c->in[IN_LENS].host) {
    const int32_t *l32 = c->in[IN_LENS].host->data;
    for (int64_t b = 0; b < batch; b++)
      if (l32[b] < 0 || l32[b] > seq)
        return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                        "sequence_lens[%lld] = %d is outside [0, %lld]", (long long)b, (int)l32[b],
                        (long long)seq);
  }
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = layout     ? (nncl_shape){.rank = 4, .dims = {batch, seq, dirs, hidden}}
                    : y_layout ? (nncl_shape){.rank = 4, .dims = {seq, batch, dirs, hidden}}
                               : (nncl_shape){.rank = 4, .dims = {seq, dirs, batch, hidden}};
  for (int i = 1; i < c->n_out; i++) {
    c->out[i].dtype = NNCL_FLOAT32;
    c->out[i].shape = (nncl_shape){.rank = 3, .dims = {st_dims[0], st_dims[1], st_dims[2]}};
  }
  return NNCL_OK;
}

/* ---- plan ---- */

static nncl_status warm_blas(struct op_call *c, int batched) {
  cl_mem m = NULL;
  nncl_status st = nncl__buffer_create(c->ctx, 64 * 4, "rnn warm-up", &m);
  if (st == NNCL_OK) st = nncl__buffer_fill_zero(c->ctx, m, 0, 64 * 4);
  if (st == NNCL_OK)
    st = nncl__sgemm(c->ctx, false, true, 2, 2, 2, 1.0f, m, 0, 2, m, 8, 2, 0.0f, m, 16, 2);
  if (st == NNCL_OK && batched)
    st = nncl__sgemm_strided_batched(c->ctx, false, true, 2, 2, 2, 1.0f, m, 0, 2, 4, m, 8, 2, 4,
                                     0.0f, m, 16, 2, 4, 2);
  if (st == NNCL_OK) st = nncl_context_finish(c->ctx);
  nncl__buffer_release(m);
  return st;
}

static struct nncl__gemm recurrent_product(const struct op_call *c, const struct rnn_state *s,
                                           cl_mem a, size_t a_off, size_t lda, size_t a_stride,
                                           size_t row0, size_t n, size_t out_off, size_t ldo);

static nncl_status plan(struct op_call *c, size_t *ws) {
  struct rnn_state *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "state");
  c->state = s;
  s->cell = cell_of(c);
  s->dirs = (size_t)dirs_of(c, &s->rev);
  s->layout = (int)op_attr_int(c, "layout", 0);
  s->kernel_layout = s->layout ? 1 : op_attr_int(c, "nncl.y_layout", 0) ? 2 : 0;
  const nncl_shape *x = &c->in[IN_X].shape;
  s->seq = (size_t)x->dims[s->layout ? 1 : 0];
  s->batch = (size_t)x->dims[s->layout ? 0 : 1];
  s->in = (size_t)x->dims[2];
  s->hidden = (size_t)c->in[IN_R].shape.dims[2]; /* not Y's shape: Y may be absent */
  s->gates = (size_t)n_gates[s->cell];
  s->lbr = s->cell == CELL_GRU && op_attr_int(c, "linear_before_reset", 0) != 0;
  char opts[1024];
  NNCL_TRY(nncl__rnn_kernel_options(c, s->cell, (int)s->dirs, 0, opts, sizeof opts));
  const size_t gh = s->gates * s->hidden, state = s->dirs * s->batch * s->hidden;
  int gemv = s->batch <= RNN_GEMV_MAX_BATCH && !(s->cell == CELL_GRU && !s->lbr) &&
             strcmp(op_option(c, NNCL__OPT_RNN_GEMV), "1") == 0;
  if (gemv) {
    NNCL_TRY(nncl__kernel_get(c->ctx, "rnn", opts, "rnn_step_gemv", &s->gemv));
    NNCL_TRY(nncl__kernel_get(c->ctx, "rnn", opts, "rnn_transpose_r", &s->transpose));
  } else {
    NNCL_TRY(nncl__kernel_get(c->ctx, "rnn", opts, "rnn_step", &s->step));
  }
  if (!gemv && s->cell == CELL_GRU && !s->lbr)
    NNCL_TRY(nncl__kernel_get(c->ctx, "rnn", opts, "rnn_gru_reset", &s->reset));
  s->xw_off = 0;
  s->hr_off = s->xw_off + s->dirs * s->seq * s->batch * gh;
  s->h_off = s->hr_off + s->dirs * s->batch * gh;
  s->c_off = s->h_off + state;
  /* GRU without linear_before_reset: two products per step with r * H between them (a flag, not
     s->reset: a dry plan's kernels are NULL) */
  const int two_products = !gemv && s->cell == CELL_GRU && !s->lbr;
  s->rh_off = s->c_off + (s->cell == CELL_LSTM ? state : 0);
  s->rt_off = s->rh_off + (two_products ? state : 0);
  s->h2_off = s->rt_off + (gemv ? s->dirs * s->hidden * gh : 0);
  *ws = (s->h2_off + (gemv ? state : 0)) * sizeof(float);
  c->algo = gemv           ? "clblast_projection+gemv_step"
            : two_products ? "clblast_gemm+gates(2 per step)"
                           : "clblast_gemm+fused_gates";
  NNCL_TRY(warm_blas(c, !gemv && s->dirs > 1));
  /* The recurrent weights never change: packed once here, not in every step's product. */
  const nncl_array *r = c->in[IN_R].host;
  for (int k = 0; !gemv && r && k < 1 + two_products; k++) {
    const size_t row0 = k ? 2 * s->hidden : 0,
                 n = two_products ? (k ? s->hidden : 2 * s->hidden) : gh;
    const struct nncl__gemm g = recurrent_product(c, s, NULL, 0, 0, 0, row0, n, 0, gh);
    NNCL_TRY(nncl__gemm_pack_b(c->ctx, &g, r->data, nncl_array_bytes(r), &s->r_packed[k]));
  }
  return NNCL_OK;
}

static void release(struct op_call *c) {
  struct rnn_state *s = c->state;
  if (!s) return;
  nncl__buffer_release(s->r_packed[0]);
  nncl__buffer_release(s->r_packed[1]);
  free(s);
  c->state = NULL;
}

/* ---- enqueue ---- */

static nncl_status init_state(struct op_call *c, int in, cl_mem dst, size_t off, size_t n) {
  if (op_has_input(c, in)) return nncl__buffer_copy(c->ctx, c->in[in].mem, 0, dst, off * 4, n * 4);
  return nncl__buffer_fill_zero(c->ctx, dst, off * 4, n * 4);
}

/* The product out = H . R[:, row0 : row0 + n, :]^T for every direction; out rows are ldo apart
   (in the workspace). Also what plan packs R for, so both see one shape. */
static struct nncl__gemm recurrent_product(const struct op_call *c, const struct rnn_state *s,
                                           cl_mem a, size_t a_off, size_t lda, size_t a_stride,
                                           size_t row0, size_t n, size_t out_off, size_t ldo) {
  const size_t gh = s->gates * s->hidden, h = s->hidden, dirs = s->dirs;
  return (struct nncl__gemm){.trans_b = true,
                             .m = s->batch,
                             .n = n,
                             .k = h,
                             .batch = dirs,
                             .alpha = 1.0f,
                             .a = a,
                             .a_off = a_off,
                             .lda = lda,
                             .a_stride = dirs > 1 ? a_stride : 0,
                             .b = c->in[IN_R].mem,
                             .b_off = row0 * h,
                             .ldb = h,
                             .b_stride = dirs > 1 ? gh * h : 0,
                             .c = c->workspace,
                             .c_off = out_off,
                             .ldc = ldo,
                             .c_stride = dirs > 1 ? s->batch * gh : 0,
                             .b_packed = s->r_packed[row0 > 0]};
}

static nncl_status recurrent_gemm(struct op_call *c, const struct rnn_state *s, cl_mem a,
                                  size_t a_off, size_t lda, size_t a_stride, size_t row0, size_t n,
                                  size_t out_off, size_t ldo) {
  const struct nncl__gemm g =
      recurrent_product(c, s, a, a_off, lda, a_stride, row0, n, out_off, ldo);
  return nncl__gemm_run(c->ctx, &g);
}

static nncl_status enqueue(struct op_call *c) {
  const struct rnn_state *s = c->state;
  nncl_context *ctx = c->ctx;
  cl_mem ws = c->workspace;
  const size_t gh = s->gates * s->hidden, nstate = s->dirs * s->batch * s->hidden;
  const size_t rows = s->seq * s->batch;
  /* The state lives in Y_h / Y_c when they are wanted (same layout), else in the workspace. */
  int has_yh = c->n_out > 1 && c->out[1].mem, has_yc = c->n_out > 2 && c->out[2].mem;
  cl_mem h = has_yh ? c->out[1].mem : ws, cst = has_yc ? c->out[2].mem : ws;
  cl_uint h_off = has_yh ? 0 : (cl_uint)s->h_off, c_off = has_yc ? 0 : (cl_uint)s->c_off;
  /* gemv: double-buffered state, step t reads hb[t % 2]; the last step lands in Y_h when wanted */
  cl_mem hb[2] = {h, h};
  cl_uint hb_off[2] = {h_off, h_off};
  if (s->gemv) {
    int last = (int)(s->seq % 2);
    hb[last] = h;
    hb_off[last] = h_off;
    hb[1 - last] = ws;
    hb_off[1 - last] = (cl_uint)s->h2_off;
    h = hb[0];
    h_off = hb_off[0];
  }
  NNCL_TRY(init_state(c, IN_H0, h, h_off, nstate));
  if (s->cell == CELL_LSTM) NNCL_TRY(init_state(c, IN_C0, cst, c_off, nstate));
  if (s->seq == 0 || s->batch == 0) return NNCL_OK;
  for (size_t d = 0; d < s->dirs; d++)
    NNCL_TRY(nncl__sgemm(ctx, false, true, rows, gh, s->in, 1.0f, c->in[IN_X].mem, 0, s->in,
                         c->in[IN_W].mem, d * gh * s->in, s->in, 0.0f, ws,
                         s->xw_off + d * rows * gh, gh));
  const size_t lda = s->layout ? s->dirs * s->hidden : s->hidden;
  const size_t a_stride = s->layout ? s->hidden : s->batch * s->hidden;
  const int has_bias = op_has_input(c, IN_B),
            has_peep = s->cell == CELL_LSTM && op_has_input(c, IN_P);
  const int has_lens = op_has_input(c, IN_LENS), has_y = c->out[0].mem != NULL;
  cl_mem bias = has_bias ? c->in[IN_B].mem : ws, peep = has_peep ? c->in[IN_P].mem : ws;
  cl_mem lens = has_lens ? c->in[IN_LENS].mem : ws, y = has_y ? c->out[0].mem : ws;
  cl_uint seq = (cl_uint)s->seq, batch = (cl_uint)s->batch, hid = (cl_uint)s->hidden;
  cl_uint dirs = (cl_uint)s->dirs, rev = s->rev, xw_off = (cl_uint)s->xw_off;
  cl_uint hr_off = (cl_uint)s->hr_off, rh_off = (cl_uint)s->rh_off;
  cl_int layout = s->kernel_layout;
  size_t local[3] = {s->hidden < 64 ? s->hidden : 64, 1, 1};
  size_t global[3] = {s->hidden, s->batch, s->dirs};
  if (s->gemv) {
    cl_uint rt_off = (cl_uint)s->rt_off;
    size_t tg[3] = {gh, s->hidden, s->dirs}, tl[3] = {gh < 64 ? gh : 64, 1, 1};
    NNCL_TRY(NNCL_LAUNCH(ctx, s->transpose, "rnn_transpose_r", 3, tg, tl, NNCL_ARG(c->in[IN_R].mem),
                         NNCL_ARG(ws), NNCL_ARG(rt_off), NNCL_ARG(hid), NNCL_ARG(dirs)));
    for (cl_uint step = 0; step < seq; step++) {
      int i = (int)(step % 2);
      NNCL_TRY(NNCL_LAUNCH(
          ctx, s->gemv, "rnn_step_gemv", 3, global, local, NNCL_ARG(ws), NNCL_ARG(xw_off),
          NNCL_ARG(ws), NNCL_ARG(rt_off), NNCL_ARG(bias), NNCL_ARG(has_bias), NNCL_ARG(peep),
          NNCL_ARG(has_peep), NNCL_ARG(hb[i]), NNCL_ARG(hb_off[i]), NNCL_ARG(hb[1 - i]),
          NNCL_ARG(hb_off[1 - i]), NNCL_ARG(cst), NNCL_ARG(c_off), NNCL_ARG(y), NNCL_ARG(has_y),
          NNCL_ARG(step), NNCL_ARG(seq), NNCL_ARG(batch), NNCL_ARG(hid), NNCL_ARG(dirs),
          NNCL_ARG(rev), NNCL_ARG(layout), NNCL_ARG(lens), NNCL_ARG(has_lens)));
    }
    return NNCL_OK;
  }
  for (cl_uint step = 0; step < seq; step++) {
    if (s->reset) {
      /* GRU, linear_before_reset = 0: z and r products, r * H, then the h-gate product. */
      NNCL_TRY(recurrent_gemm(c, s, h, h_off, lda, a_stride, 0, 2 * s->hidden, s->hr_off, gh));
      NNCL_TRY(NNCL_LAUNCH(ctx, s->reset, "rnn_gru_reset", 3, global, local, NNCL_ARG(ws),
                           NNCL_ARG(xw_off), NNCL_ARG(ws), NNCL_ARG(hr_off), NNCL_ARG(bias),
                           NNCL_ARG(has_bias), NNCL_ARG(h), NNCL_ARG(h_off), NNCL_ARG(ws),
                           NNCL_ARG(rh_off), NNCL_ARG(step), NNCL_ARG(seq), NNCL_ARG(batch),
                           NNCL_ARG(hid), NNCL_ARG(dirs), NNCL_ARG(rev), NNCL_ARG(layout),
                           NNCL_ARG(lens), NNCL_ARG(has_lens)));
      NNCL_TRY(recurrent_gemm(c, s, ws, s->rh_off, s->hidden, s->batch * s->hidden, 2 * s->hidden,
                              s->hidden, s->hr_off + 2 * s->hidden, gh));
    } else {
      NNCL_TRY(recurrent_gemm(c, s, h, h_off, lda, a_stride, 0, gh, s->hr_off, gh));
    }
    NNCL_TRY(NNCL_LAUNCH(
        ctx, s->step, "rnn_step", 3, global, local, NNCL_ARG(ws), NNCL_ARG(xw_off), NNCL_ARG(ws),
        NNCL_ARG(hr_off), NNCL_ARG(bias), NNCL_ARG(has_bias), NNCL_ARG(peep), NNCL_ARG(has_peep),
        NNCL_ARG(h), NNCL_ARG(h_off), NNCL_ARG(cst), NNCL_ARG(c_off), NNCL_ARG(y), NNCL_ARG(has_y),
        NNCL_ARG(step), NNCL_ARG(seq), NNCL_ARG(batch), NNCL_ARG(hid), NNCL_ARG(dirs),
        NNCL_ARG(rev), NNCL_ARG(layout), NNCL_ARG(lens), NNCL_ARG(has_lens)));
  }
  return NNCL_OK;
}

static void cost(const struct op_call *c, struct op_cost *o) {
  const nncl_shape *x = &c->in[IN_X].shape, *w = &c->in[IN_W].shape, *r = &c->in[IN_R].shape;
  /* seq * batch * dirs * hidden units (Y's size, though Y may be absent); each does
     gates * (in + hidden) MACs per step */
  double units = (double)(x->dims[0] * x->dims[1] * r->dims[0] * r->dims[2]);
  double gates = (double)n_gates[cell_of(c)];
  o->flops = 2.0 * units * gates * (double)(w->dims[2] + r->dims[2]);
  double written = 0;
  for (int i = 0; i < c->n_out; i++)
    if (c->out[i].dtype != NNCL_UNDEFINED) written += (double)nncl_shape_numel(&c->out[i].shape);
  o->bytes = 4.0 * ((double)nncl_shape_numel(x) + (double)nncl_shape_numel(w) +
                    (double)nncl_shape_numel(r) + written);
}

const struct op_def op_rnn = {.min_in = 3,
                              .max_in = 6,
                              .min_out = 1,
                              .max_out = 2,
                              .infer = infer,
                              .plan = plan,
                              .enqueue = enqueue,
                              .release = release,
                              .cost = cost,
                              .backward = nncl__grad_rnn};
const struct op_def op_lstm = {.min_in = 3,
                               .max_in = 8,
                               .min_out = 1,
                               .max_out = 3,
                               .infer = infer,
                               .plan = plan,
                               .enqueue = enqueue,
                               .release = release,
                               .cost = cost,
                               .backward = nncl__grad_rnn};
const struct op_def op_gru = {.min_in = 3,
                              .max_in = 6,
                              .min_out = 1,
                              .max_out = 2,
                              .infer = infer,
                              .plan = plan,
                              .enqueue = enqueue,
                              .release = release,
                              .cost = cost,
                              .backward = nncl__grad_rnn};
