/* rnn.c: ONNX RNN, LSTM and GRU (opsets 7-17, every attribute and input) through one driver.
   Per layer: one GEMM per direction for the input projection X.W^T of all time steps (a constant W
   packed once at plan time), then per time step either
   - fused: one kernel (rnn_step_fused in kernels/rnn.cl) that does the recurrent product H.R^T
     against R packed per panel of units and finishes the gates in registers, both directions in
     the same launch; or
   - gemm: one recurrent GEMM H.R^T (both directions in one strided-batched call, R packed once at
     plan time) and one gate kernel that finishes the step in place. GRU without
     linear_before_reset needs r of every unit before its h-gate product, so it always takes this
     path, with two GEMMs and two kernels per step.
   The planner times both paths on a few steps of the real shape (option rnn.step=auto) and
   remembers the winner per device and shape in the tune store. The cells differ only in gate
   count, default activations and the kernel's CELL. The internal attribute nncl.y_layout = 1 (set
   by lib/graph/pass_rnn.c, only with layout 0) writes Y as [seq, batch, dirs, hidden], the order
   the next layer of a bidirectional stack reads, instead of ONNX's [seq, dirs, batch, hidden]. */
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
  int fused;         /* the step path: rnn_step_fused (1) or GEMM + gate kernel (0) */
  int vgates;        /* rnn_step_fused's gates on whole vectors (option rnn.gates=vector) */
  int can_fuse;      /* all but GRU without linear_before_reset */
  int r_const;       /* R is a constant (packed at plan time) */
  int w_const;       /* W is a constant (packed at plan time) */
  cl_kernel step, reset, fused_step, pack;
  /* W of each direction in the GEMM engine's panels for the input projection, packed once at plan
     time when W is a constant and the product runs PACKED (nncl__gemm_pack_b), else NULL */
  cl_mem w_packed[2];
  /* R's panels for the recurrent GEMMs (0: all gates, or GRU's z and r; 1: GRU's h gate),
     packed once at plan time when R is a constant (nncl__gemm_pack_b), else NULL */
  cl_mem r_packed[2];
  /* fused: R in rnn_step_fused's panels, packed on the host at plan time when R is a constant;
     else NULL and rnn_pack_r fills the workspace at rp_off in every run (a dry plan packs
     nothing) */
  cl_mem r_panels;
  size_t bgroup; /* fused: batch rows per work-item */
  /* workspace layout, in floats */
  size_t xw_off, hr_off, h_off, c_off, rh_off, rp_off, h2_off, ws_floats;
};

static const int n_gates[] = {1, 4, 3};
/* rnn_step_fused's panel width (units per work-item, one vector) */
#define RNN_VW 8
/* batch rows per register tile by cell (NGATES * RNN_BT accumulators of RNN_VW floats: 8 or 12 of
   AVX2's 16 vector registers, the rest for R's vectors and the broadcast state). Median step
   kernel times under load 12-15, two rounds: LSTM H512 B16 830/910 us with 2 against
   1152/1206 with 4 and 1428/1235 with 1; bidirectional GRU H256 B8 137/152 us with 4 against
   168/195 with 2 and 231/259 with 8 (spilling). */
static const int rnn_bt[] = {8, 2, 4};
/* k block of rnn_step_fused (RNN_KB * NGATES * RNN_VW floats of a panel stay in L1) and the most
   batch rows per work-item (its private partial sums) */
#define RNN_KB 64
#define RNN_MAXB 16
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

/* What one run reads and writes: the node's buffers, or plan-time stand-ins when timing the step
   paths. Absent inputs and outputs are NULL. */
struct rnn_bufs {
  cl_mem x, w, r, bias, peep, lens, h0, c0, y, yh, yc, ws;
};

/* Where the steps keep the state: the fused step double-buffers h (step t reads hb[t % 2]; the
   last step lands in Y_h when wanted); the GEMM path updates one copy in place. */
struct rnn_hstate {
  cl_mem hb[2], cst;
  cl_uint hb_off[2], c_off;
};

static size_t panel_floats(const struct rnn_state *s) {
  const size_t np = (s->hidden + RNN_VW - 1) / RNN_VW;
  return s->dirs * np * RNN_VW * s->hidden * s->gates;
}

/* The workspace regions, in floats: those of both step paths, so the size does not depend on
   the timed choice (a dry plan, which times nothing, must plan the run's workspace). */
static void lay_out(struct rnn_state *s) {
  const size_t gh = s->gates * s->hidden, state = s->dirs * s->batch * s->hidden;
  const int two_products = !s->can_fuse;
  s->xw_off = 0;
  s->hr_off = s->xw_off + s->dirs * s->seq * s->batch * gh;
  s->h_off = s->hr_off + s->dirs * s->batch * gh;
  s->c_off = s->h_off + state;
  s->rh_off = s->c_off + (s->cell == CELL_LSTM ? state : 0);
  s->rp_off = s->rh_off + (two_products ? state : 0);
  s->h2_off = s->rp_off + (s->can_fuse && !s->r_const ? panel_floats(s) : 0);
  s->ws_floats = s->h2_off + (s->can_fuse ? state : 0);
}

/* rnn_pack_r's layout on the host, uploaded once: R is a constant. */
static nncl_status pack_panels(struct op_call *c, struct rnn_state *s, const float *r) {
  const size_t n = panel_floats(s), np = (s->hidden + RNN_VW - 1) / RNN_VW, h = s->hidden;
  const size_t g_n = s->gates, gh = g_n * h;
  float *p = calloc(n, sizeof *p);
  if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "R panels (%zu floats)", n);
  for (size_t d = 0; d < s->dirs; d++)
    for (size_t u = 0; u < h; u++)
      for (size_t g = 0; g < g_n; g++)
        for (size_t k = 0; k < h; k++)
          p[((d * np + u / RNN_VW) * h + k) * g_n * RNN_VW + g * RNN_VW + u % RNN_VW] =
              r[(d * gh + g * h + u) * h + k];
  nncl_status st = nncl__buffer_from_host(c->ctx, p, n * sizeof *p, "RNN R panels", &s->r_panels);
  free(p);
  return st;
}

static nncl_status steps(struct op_call *c, const struct rnn_state *s, const struct rnn_bufs *b,
                         const struct rnn_hstate *hs, size_t n_steps);

static struct rnn_hstate hstate_of(const struct rnn_state *s, const struct rnn_bufs *b,
                                   size_t n_steps) {
  /* The state lives in Y_h / Y_c when they are wanted (same layout), else in the workspace. */
  cl_mem h = b->yh ? b->yh : b->ws;
  cl_uint h_off = b->yh ? 0 : (cl_uint)s->h_off;
  struct rnn_hstate hs = {.hb = {h, h},
                          .hb_off = {h_off, h_off},
                          .cst = b->yc ? b->yc : b->ws,
                          .c_off = b->yc ? 0 : (cl_uint)s->c_off};
  if (s->fused) {
    const int last = (int)(n_steps % 2);
    hs.hb[1 - last] = b->ws;
    hs.hb_off[1 - last] = (cl_uint)s->h2_off;
  }
  return hs;
}

struct step_timing {
  struct op_call *c;
  const struct rnn_state *s;
  struct rnn_bufs b;
  size_t n_steps;
};

static nncl_status time_one(void *arg) {
  const struct step_timing *t = arg;
  const struct rnn_hstate hs = hstate_of(t->s, &t->b, t->n_steps);
  return steps(t->c, t->s, &t->b, &hs, t->n_steps);
}

/* rnn.step=auto: times a few steps of both paths on stand-in buffers of the real shape (zeros: the
   kernels' speed does not depend on the values) and keeps the faster; the winner is remembered
   per device and shape in rnn_step.txt of the tune store. */
static nncl_status choose_path(struct op_call *c, struct rnn_state *s) {
  char dev[256], key[512], val[16];
  nncl__tune_device_key(c->ctx, dev, sizeof dev);
  /* not the sequence length: a step costs the same at any */
  snprintf(key, sizeof key, "%s|%s|b%zu|h%zu|d%zu|rconst%d%s", dev, c->op_type, s->batch, s->hidden,
           s->dirs, s->r_const, s->vgates ? "|vgates" : "");
  if (nncl__tune_lookup(c->ctx, "rnn_step.txt", key, val, sizeof val) &&
      (strcmp(val, "fused") == 0 || strcmp(val, "gemm") == 0)) {
    s->fused = strcmp(val, "fused") == 0;
    return NNCL_OK;
  }
  const size_t ws_floats = s->ws_floats;
  const size_t r_floats = s->dirs * s->gates * s->hidden * s->hidden;
  struct step_timing t = {.c = c, .s = s, .n_steps = s->seq < 8 ? s->seq : 8};
  cl_mem tmp = NULL, r = NULL;
  nncl_status st = nncl__buffer_create(c->ctx, ws_floats * 4, "RNN step timing", &tmp);
  if (st == NNCL_OK) st = nncl__buffer_create(c->ctx, r_floats * 4, "RNN step timing R", &r);
  if (st == NNCL_OK) st = nncl__buffer_fill_zero(c->ctx, tmp, 0, ws_floats * 4);
  if (st == NNCL_OK) st = nncl__buffer_fill_zero(c->ctx, r, 0, r_floats * 4);
  /* Y lands on the stand-in workspace (values do not matter, its projection region is larger);
     no bias, peepholes or lengths (every row live: the full work) */
  t.b = (struct rnn_bufs){.r = r, .ws = tmp, .y = tmp};
  double sec[2] = {0, 0};
  for (int f = 0; f < 2 && st == NNCL_OK; f++) {
    s->fused = f;
    st = nncl__time_fastest(c->ctx, 1, 3, time_one, &t, &sec[f]);
  }
  nncl__buffer_release(tmp);
  nncl__buffer_release(r);
  if (st != NNCL_OK) return st;
  s->fused = sec[1] < sec[0];
  nncl__tune_store(c->ctx, "rnn_step.txt", key, s->fused ? "fused" : "gemm");
  return NNCL_OK;
}

static struct nncl__gemm recurrent_product(const struct rnn_state *s, cl_mem r, cl_mem a,
                                           size_t a_off, size_t lda, size_t a_stride, size_t row0,
                                           size_t n, cl_mem out, size_t out_off, size_t ldo);

/* Direction d's input projection of every step, XW[d] = X . W[d]^T (rows of X in its own order,
   time- or batch-major); also what plan packs W for, so both see one shape. */
static struct nncl__gemm projection(const struct rnn_state *s, size_t d, cl_mem x, cl_mem w,
                                    cl_mem ws) {
  const size_t gh = s->gates * s->hidden, rows = s->seq * s->batch;
  return (struct nncl__gemm){.trans_b = true,
                             .m = rows,
                             .n = gh,
                             .k = s->in,
                             .alpha = 1.0f,
                             .a = x,
                             .lda = s->in,
                             .b = w,
                             .b_off = d * gh * s->in,
                             .ldb = s->in,
                             .c = ws,
                             .c_off = s->xw_off + d * rows * gh,
                             .ldc = gh,
                             .b_packed = s->w_packed[d],
                             .b_const = s->w_const};
}

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
  s->vgates = strcmp(op_option(c, NNCL__OPT_RNN_GATES), "vector") == 0;
  const size_t ol = strlen(opts);
  int o = snprintf(opts + ol, sizeof opts - ol,
                   " -DRNN_VW=%d -DRNN_BT=%d -DRNN_KB=%d -DRNN_MAXB=%d -DRNN_VGATES=%d", RNN_VW,
                   rnn_bt[s->cell], RNN_KB, RNN_MAXB, s->vgates);
  if (o <= 0 || (size_t)o >= sizeof opts - ol)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "kernel options too long");
  const char *mode = op_option(c, NNCL__OPT_RNN_STEP);
  /* GRU without linear_before_reset needs r of every unit before its h-gate product */
  const int can_fuse = s->can_fuse = !(s->cell == CELL_GRU && !s->lbr);
  const int two_products = !can_fuse;
  s->r_const = c->in[IN_R].host != NULL;
  s->w_const = c->in[IN_W].host != NULL;
  lay_out(s);
  NNCL_TRY(nncl__kernel_get(c->ctx, "rnn", opts, "rnn_step", &s->step));
  if (two_products) NNCL_TRY(nncl__kernel_get(c->ctx, "rnn", opts, "rnn_gru_reset", &s->reset));
  if (can_fuse) {
    NNCL_TRY(nncl__kernel_get(c->ctx, "rnn", opts, "rnn_step_fused", &s->fused_step));
    NNCL_TRY(nncl__kernel_get(c->ctx, "rnn", opts, "rnn_pack_r", &s->pack));
  }
  /* Batch rows per fused work-item: all of them (each panel of R read once per step) unless
     that leaves too few items to keep every core busy, and at most RNN_MAXB. */
  const size_t np = (s->hidden + RNN_VW - 1) / RNN_VW, bt = (size_t)rnn_bt[s->cell];
  const size_t tiles = (s->batch + bt - 1) / bt, want = 16, have = np * s->dirs;
  size_t groups = have >= want ? 1 : (want + have - 1) / have;
  if (groups < (tiles * bt + RNN_MAXB - 1) / RNN_MAXB) /* the partial sums hold RNN_MAXB rows */
    groups = (tiles * bt + RNN_MAXB - 1) / RNN_MAXB;
  s->bgroup = ((tiles + groups - 1) / groups) * bt;
  NNCL_TRY(warm_blas(c, s->dirs > 1));
  const nncl_array *r = c->in[IN_R].host;
  if (can_fuse && r && !c->ctx->plan_dry) NNCL_TRY(pack_panels(c, s, r->data));
  /* The weights never change: packed once here, not in every run's products. */
  const nncl_array *w = c->in[IN_W].host;
  for (size_t d = 0; w && s->seq * s->batch > 0 && d < s->dirs; d++) {
    const struct nncl__gemm g = projection(s, d, NULL, NULL, NULL);
    NNCL_TRY(nncl__gemm_pack_b(c->ctx, &g, w->data, nncl_array_bytes(w), &s->w_packed[d]));
  }
  const size_t gh = s->gates * s->hidden;
  for (int k = 0; r && k < 1 + two_products; k++) {
    const size_t row0 = k ? 2 * s->hidden : 0,
                 n = two_products ? (k ? s->hidden : 2 * s->hidden) : gh;
    const struct nncl__gemm g = recurrent_product(s, NULL, NULL, 0, 0, 0, row0, n, NULL, 0, gh);
    NNCL_TRY(nncl__gemm_pack_b(c->ctx, &g, r->data, nncl_array_bytes(r), &s->r_packed[k]));
  }
  if (!can_fuse || strcmp(mode, "gemm") == 0)
    s->fused = 0;
  else if (strcmp(mode, "fused") == 0)
    s->fused = 1;
  else if (c->ctx->plan_dry) /* a dry plan times nothing: the larger workspace */
    s->fused = 1;
  else
    NNCL_TRY(choose_path(c, s));
  /* what the other path would have used goes now */
  if (s->fused) {
    for (int k = 0; k < 2; k++) nncl__buffer_release(s->r_packed[k]), s->r_packed[k] = NULL;
  } else {
    nncl__buffer_release(s->r_panels);
    s->r_panels = NULL;
  }
  *ws = s->ws_floats * sizeof(float);
  c->algo = s->fused       ? "gemm_projection+fused_step"
            : two_products ? "gemm+gates(2 per step)"
                           : "gemm+fused_gates";
  return NNCL_OK;
}

static void release(struct op_call *c) {
  struct rnn_state *s = c->state;
  if (!s) return;
  for (int k = 0; k < 2; k++) {
    nncl__buffer_release(s->w_packed[k]);
    nncl__buffer_release(s->r_packed[k]);
  }
  nncl__buffer_release(s->r_panels);
  free(s);
  c->state = NULL;
}

/* ---- enqueue ---- */

static nncl_status init_state(struct op_call *c, cl_mem src, cl_mem dst, size_t off, size_t n) {
  if (src) return nncl__buffer_copy(c->ctx, src, 0, dst, off * 4, n * 4);
  return nncl__buffer_fill_zero(c->ctx, dst, off * 4, n * 4);
}

/* The product out = H . R[:, row0 : row0 + n, :]^T for every direction; out rows are ldo apart.
   Also what plan packs R for, so both see one shape. */
static struct nncl__gemm recurrent_product(const struct rnn_state *s, cl_mem r, cl_mem a,
                                           size_t a_off, size_t lda, size_t a_stride, size_t row0,
                                           size_t n, cl_mem out, size_t out_off, size_t ldo) {
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
                             .b = r,
                             .b_off = row0 * h,
                             .ldb = h,
                             .b_stride = dirs > 1 ? gh * h : 0,
                             .c = out,
                             .c_off = out_off,
                             .ldc = ldo,
                             .c_stride = dirs > 1 ? s->batch * gh : 0,
                             .b_packed = s->r_packed[row0 > 0],
                             .b_const = s->r_const};
}

static nncl_status recurrent_gemm(struct op_call *c, const struct rnn_state *s,
                                  const struct rnn_bufs *b, cl_mem a, size_t a_off, size_t lda,
                                  size_t a_stride, size_t row0, size_t n, size_t out_off,
                                  size_t ldo) {
  const struct nncl__gemm g =
      recurrent_product(s, b->r, a, a_off, lda, a_stride, row0, n, b->ws, out_off, ldo);
  return nncl__gemm_run(c->ctx, &g);
}

/* n_steps time steps (the whole sequence, or a few when timing) on the chosen path. */
static nncl_status steps(struct op_call *c, const struct rnn_state *s, const struct rnn_bufs *b,
                         const struct rnn_hstate *hs, size_t n_steps) {
  nncl_context *ctx = c->ctx;
  cl_mem ws = b->ws;
  const size_t lda = s->layout ? s->dirs * s->hidden : s->hidden;
  const size_t a_stride = s->layout ? s->hidden : s->batch * s->hidden;
  const cl_int has_bias = b->bias != NULL, has_peep = b->peep != NULL;
  const cl_int has_lens = b->lens != NULL, has_y = b->y != NULL;
  cl_mem bias = has_bias ? b->bias : ws, peep = has_peep ? b->peep : ws;
  cl_mem lens = has_lens ? b->lens : ws, y = has_y ? b->y : ws;
  cl_uint seq = (cl_uint)s->seq, batch = (cl_uint)s->batch, hid = (cl_uint)s->hidden;
  cl_uint dirs = (cl_uint)s->dirs, rev = s->rev, xw_off = (cl_uint)s->xw_off;
  cl_uint hr_off = (cl_uint)s->hr_off, rh_off = (cl_uint)s->rh_off;
  cl_int layout = s->kernel_layout;
  cl_mem cst = hs->cst;
  cl_uint c_off = hs->c_off;
  if (s->fused) {
    const size_t np = (s->hidden + RNN_VW - 1) / RNN_VW;
    cl_mem rp = s->r_panels ? s->r_panels : ws;
    cl_uint rp_off = s->r_panels ? 0 : (cl_uint)s->rp_off, bgroup = (cl_uint)s->bgroup;
    if (!s->r_panels) {
      size_t pg[3] = {np * RNN_VW, s->hidden, s->dirs}, pl[3] = {RNN_VW, 1, 1};
      NNCL_TRY(NNCL_LAUNCH(ctx, s->pack, "rnn_pack_r", 3, pg, pl, NNCL_ARG(b->r), NNCL_ARG(ws),
                           NNCL_ARG(rp_off), NNCL_ARG(hid), NNCL_ARG(dirs)));
    }
    size_t global[3] = {np, (s->batch + s->bgroup - 1) / s->bgroup, s->dirs}, local[3] = {1, 1, 1};
    for (cl_uint step = 0; step < n_steps; step++) {
      const int i = (int)(step % 2);
      NNCL_TRY(NNCL_LAUNCH(
          ctx, s->fused_step, "rnn_step_fused", 3, global, local, NNCL_ARG(ws), NNCL_ARG(xw_off),
          NNCL_ARG(rp), NNCL_ARG(rp_off), NNCL_ARG(bias), NNCL_ARG(has_bias), NNCL_ARG(peep),
          NNCL_ARG(has_peep), NNCL_ARG(hs->hb[i]), NNCL_ARG(hs->hb_off[i]), NNCL_ARG(hs->hb[1 - i]),
          NNCL_ARG(hs->hb_off[1 - i]), NNCL_ARG(cst), NNCL_ARG(c_off), NNCL_ARG(y), NNCL_ARG(has_y),
          NNCL_ARG(bgroup), NNCL_ARG(step), NNCL_ARG(seq), NNCL_ARG(batch), NNCL_ARG(hid),
          NNCL_ARG(dirs), NNCL_ARG(rev), NNCL_ARG(layout), NNCL_ARG(lens), NNCL_ARG(has_lens)));
    }
    return NNCL_OK;
  }
  cl_mem h = hs->hb[0];
  cl_uint h_off = hs->hb_off[0];
  size_t local[3] = {s->hidden < 64 ? s->hidden : 64, 1, 1};
  size_t global[3] = {s->hidden, s->batch, s->dirs};
  for (cl_uint step = 0; step < n_steps; step++) {
    if (s->reset) {
      /* GRU, linear_before_reset = 0: z and r products, r * H, then the h-gate product. */
      NNCL_TRY(recurrent_gemm(c, s, b, h, h_off, lda, a_stride, 0, 2 * s->hidden, s->hr_off,
                              s->gates * s->hidden));
      NNCL_TRY(NNCL_LAUNCH(ctx, s->reset, "rnn_gru_reset", 3, global, local, NNCL_ARG(ws),
                           NNCL_ARG(xw_off), NNCL_ARG(ws), NNCL_ARG(hr_off), NNCL_ARG(bias),
                           NNCL_ARG(has_bias), NNCL_ARG(h), NNCL_ARG(h_off), NNCL_ARG(ws),
                           NNCL_ARG(rh_off), NNCL_ARG(step), NNCL_ARG(seq), NNCL_ARG(batch),
                           NNCL_ARG(hid), NNCL_ARG(dirs), NNCL_ARG(rev), NNCL_ARG(layout),
                           NNCL_ARG(lens), NNCL_ARG(has_lens)));
      NNCL_TRY(recurrent_gemm(c, s, b, ws, s->rh_off, s->hidden, s->batch * s->hidden,
                              2 * s->hidden, s->hidden, s->hr_off + 2 * s->hidden,
                              s->gates * s->hidden));
    } else {
      NNCL_TRY(recurrent_gemm(c, s, b, h, h_off, lda, a_stride, 0, s->gates * s->hidden, s->hr_off,
                              s->gates * s->hidden));
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

static nncl_status enqueue(struct op_call *c) {
  const struct rnn_state *s = c->state;
  const size_t nstate = s->dirs * s->batch * s->hidden;
#define IN_MEM(i) (op_has_input(c, i) ? c->in[i].mem : NULL)
  const struct rnn_bufs b = {.x = c->in[IN_X].mem,
                             .w = c->in[IN_W].mem,
                             .r = c->in[IN_R].mem,
                             .bias = IN_MEM(IN_B),
                             .peep = s->cell == CELL_LSTM ? IN_MEM(IN_P) : NULL,
                             .lens = IN_MEM(IN_LENS),
                             .h0 = IN_MEM(IN_H0),
                             .c0 = s->cell == CELL_LSTM ? IN_MEM(IN_C0) : NULL,
                             .y = c->out[0].mem,
                             .yh = c->n_out > 1 ? c->out[1].mem : NULL,
                             .yc = c->n_out > 2 ? c->out[2].mem : NULL,
                             .ws = c->workspace};
#undef IN_MEM
  const struct rnn_hstate hs = hstate_of(s, &b, s->seq);
  NNCL_TRY(init_state(c, b.h0, hs.hb[0], hs.hb_off[0], nstate));
  if (s->cell == CELL_LSTM) NNCL_TRY(init_state(c, b.c0, hs.cst, hs.c_off, nstate));
  if (s->seq == 0 || s->batch == 0) return NNCL_OK;
  for (size_t d = 0; d < s->dirs; d++) {
    const struct nncl__gemm g = projection(s, d, b.x, b.w, b.ws);
    NNCL_TRY(nncl__gemm_run(c->ctx, &g));
  }
  return steps(c, s, &b, &hs, s->seq);
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
