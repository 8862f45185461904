/* attention.c: nncl.Attention, fused softmax(Q.K^T * scale + mask) . V (kernels/attention.cl).
   The graph pass lib/graph/pass_attention.c rewrites the unfused MatMul / Mul / Add / Softmax /
   MatMul chain into this op; tests call it directly.
   Inputs: Q [..., Lq, Dk], K [..., Lk, Dk], V [..., Lk, Dv] with equal leading (batch) dims, at
   most two of them; optional additive float mask broadcastable to [..., Lq, Lk].
   Attributes: scale (default 1/sqrt(Dk)), causal (0/1, default 0). Output [..., Lq, Dv].
   Internal attribute nncl.seq_first (bits ATT_SEQ_Q/K/V/Y, rank 3 only): that tensor is stored
   [L, batch, D], as nn.MultiheadAttention's exports hold the heads before their Transpose(1, 0, 2);
   the pass drops those Transposes and the products read and write through strides instead.
   Two algorithms: fused_online_softmax (one kernel, scores never stored: memory O(L)) and
   gemm_softmax_gemm (CLBlast batched SGEMM for the scores into the workspace, a mask + softmax
   pass per row in place, a second batched SGEMM with V). CLBlast's tuned GEMMs beat the one-row-
   per-work-item fused kernel on CPUs once rows are long, and the scores of such shapes fit a
   modest workspace; GPUs keep the fused kernel. The softmax rows run one work-item per row on
   CPUs (attention_softmax_rows_item: no barriers) and one work-group per row elsewhere. The option
   attention.algo ("fused", "gemm", or "gemm_group": the work-group rows on any device) forces one
   (benchmarks, tests). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

#define ATT_BQ 32
#define ATT_TK 32
#define ATT_SM_WG 64
/* Largest score matrix (bytes) the GEMM algorithm may keep in the workspace. */
#define ATT_GEMM_MAX_WS ((size_t)64 << 20)
/* On CPUs (PoCL) the GEMM algorithm wins once lk * dk reaches this: measured through nncl profile
   on MultiheadAttention exports, fused vs gemm: dk 16 lk 64: fused 2-3x faster; dk 64 lk 32:
   fused 1.1x; dk 16 lk 256, dk 32 lk 128, dk 64 lk 64: within 15%; dk 64 lk 128 to 512: gemm
   1.3-2x faster. */
#define ATT_GEMM_MIN_LK_DK 4096

/* Bits of nncl.seq_first: Q, K, V or the output stored [L, batch, D]. */
enum { ATT_SEQ_Q = 1, ATT_SEQ_K = 2, ATT_SEQ_V = 4, ATT_SEQ_Y = 8, ATT_SEQ_ALL = 15 };

enum att_algo { ATT_FUSED, ATT_GEMM, ATT_GEMM_GROUP };
static const char *const algo_names[] = {"fused", "gemm", "gemm_group"};
/* Score rows per work-group of attention_softmax_rows_item: enough to amortise PoCL's per-group
   cost (as softmax_rows_item's). */
#define ATT_ROWS_WG 16

struct att_state {
  enum att_algo algo;
  cl_kernel k;  /* attention_fwd, attention_softmax_rows or attention_softmax_rows_item */
  int row_item; /* the softmax rows run through attention_softmax_rows_item */
  cl_uint lq, lk, nb1, ms[4];
  cl_uint rs[4], bs[4]; /* row and batch strides (elements) of Q, K, V, output */
  size_t batch, dk, dv;
  float scale;
};

/* Input i's shape as [batch, L, D]: stored [L, batch, D] when its nncl.seq_first bit is set. */
static nncl_shape logical(const struct op_call *c, int i, int bit) {
  nncl_shape s = c->in[i].shape;
  if ((op_attr_int(c, "nncl.seq_first", 0) & bit) && s.rank == 3) {
    int64_t t = s.dims[0];
    s.dims[0] = s.dims[1];
    s.dims[1] = t;
  }
  return s;
}

static nncl_status infer(struct op_call *c) {
  char a[128], b[128], d[128];
  for (int i = 0; i < c->n_in; i++)
    if (op_has_input(c, i) && c->in[i].dtype != NNCL_FLOAT32)
      return op_error(c, NNCL_ERR_DTYPE, "input %d is %s; only float32 is supported", i,
                      nncl_dtype_name(c->in[i].dtype));
  const int64_t seq = op_attr_int(c, "nncl.seq_first", 0);
  if (seq < 0 || seq > ATT_SEQ_ALL || (seq && c->in[0].shape.rank != 3))
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "nncl.seq_first %lld: bits 1, 2, 4, 8 on rank-3 operands only", (long long)seq);
  const nncl_shape qs = logical(c, 0, ATT_SEQ_Q), ks = logical(c, 1, ATT_SEQ_K),
                   vs = logical(c, 2, ATT_SEQ_V);
  const nncl_shape *q = &qs, *k = &ks, *v = &vs;
  int r = q->rank;
  int ok = r >= 2 && r <= 4 && k->rank == r && v->rank == r;
  for (int i = 0; ok && i < r - 2; i++) ok = q->dims[i] == k->dims[i] && q->dims[i] == v->dims[i];
  if (ok) ok = q->dims[r - 1] == k->dims[r - 1] && k->dims[r - 2] == v->dims[r - 2];
  if (!ok)
    return op_error(c, NNCL_ERR_SHAPE,
                    "Q %s, K %s, V %s must be [..., Lq, Dk], [..., Lk, Dk], [..., Lk, Dv] with the "
                    "same batch dims (rank 2 to 4)",
                    OP_SHAPE_STR(q, a), OP_SHAPE_STR(k, b), OP_SHAPE_STR(v, d));
  if (q->dims[r - 1] > 256 || v->dims[r - 1] > 256)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "head sizes Dk=%lld, Dv=%lld; at most 256 supported",
                    (long long)q->dims[r - 1], (long long)v->dims[r - 1]);
  if (op_has_input(c, 3)) {
    const nncl_shape *m = &c->in[3].shape;
    ok = m->rank <= r;
    for (int i = 0; ok && i < m->rank; i++) {
      int64_t want = i == m->rank - 1 ? k->dims[r - 2] : q->dims[r - m->rank + i];
      ok = m->dims[i] == 1 || m->dims[i] == want;
    }
    if (!ok)
      return op_error(c, NNCL_ERR_SHAPE, "mask %s does not broadcast to the scores of Q %s, K %s",
                      OP_SHAPE_STR(m, a), OP_SHAPE_STR(q, b), OP_SHAPE_STR(k, d));
  }
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = *q;
  c->out[0].shape.dims[r - 1] = v->dims[r - 1];
  if (seq & ATT_SEQ_Y) {
    c->out[0].shape.dims[0] = q->dims[1];
    c->out[0].shape.dims[1] = q->dims[0];
  }
  return NNCL_OK;
}

/* The option attention.algo when not "auto", else the device and shape rule. */
static enum att_algo choose(const struct op_call *c, const struct att_state *s,
                            size_t score_bytes) {
  const char *e = op_option(c, NNCL__OPT_ATTENTION_ALGO);
  for (int a = 0; a < 3; a++)
    if (strcmp(e, algo_names[a]) == 0) return (enum att_algo)a;
  if (c->ctx->info.is_gpu || score_bytes > ATT_GEMM_MAX_WS) return ATT_FUSED;
  return (size_t)s->lk * s->dk >= ATT_GEMM_MIN_LK_DK ? ATT_GEMM : ATT_FUSED;
}

/* CLBlast compiles a routine on first use: run both products once on scratch so enqueue never
   compiles. */
static nncl_status warm_blas(struct op_call *c) {
  cl_mem m = NULL;
  nncl_status st = nncl__buffer_create(c->ctx, 64 * 4, "attention warm-up", &m);
  if (st == NNCL_OK) st = nncl__buffer_fill_zero(c->ctx, m, 0, 64 * 4);
  for (int tb = 0; tb < 2 && st == NNCL_OK; tb++)
    st = nncl__sgemm_strided_batched(c->ctx, false, tb, 2, 2, 2, 1.0f, m, 0, 2, 4, m, 16, 2, 4,
                                     0.0f, m, 32, 2, 4, 2);
  if (st == NNCL_OK) st = nncl_context_finish(c->ctx);
  nncl__buffer_release(m);
  return st;
}

static nncl_status plan(struct op_call *c, size_t *ws) {
  struct att_state *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "state");
  c->state = s;
  const nncl_shape qs = logical(c, 0, ATT_SEQ_Q), ks = logical(c, 1, ATT_SEQ_K),
                   vs = logical(c, 2, ATT_SEQ_V);
  const nncl_shape *q = &qs, *v = &vs;
  int r = q->rank;
  int64_t dk = q->dims[r - 1], dv = v->dims[r - 1];
  s->lq = (cl_uint)q->dims[r - 2];
  s->lk = (cl_uint)ks.dims[r - 2];
  /* batch dims padded on the left to two: (b0, b1) */
  int64_t bd[2] = {1, 1};
  for (int i = 0; i < r - 2; i++) bd[2 - (r - 2) + i] = q->dims[i];
  s->batch = (size_t)(bd[0] * bd[1]);
  s->nb1 = (cl_uint)bd[1];
  s->scale = op_attr_float(c, "scale", 1.0f / sqrtf((float)(dk > 0 ? dk : 1)));
  int has_mask = op_has_input(c, 3);
  if (has_mask) {
    /* mask strides over the score axes (b0, b1, q, k), right-aligned; 0 on broadcast axes */
    const nncl_shape *m = &c->in[3].shape;
    int64_t full[4] = {bd[0], bd[1], s->lq, s->lk}, md[4] = {1, 1, 1, 1};
    for (int i = 0; i < m->rank; i++) md[4 - m->rank + i] = m->dims[i];
    int64_t stride = 1;
    for (int i = 3; i >= 0; i--) {
      s->ms[i] = (cl_uint)(md[i] == 1 && full[i] != 1 ? 0 : stride);
      stride *= md[i];
    }
  }
  s->dk = (size_t)dk;
  s->dv = (size_t)dv;
  /* [batch, L, D] rows are D apart and items L * D; stored [L, batch, D], batch * D and D */
  const int64_t seq = op_attr_int(c, "nncl.seq_first", 0);
  const cl_uint len[4] = {s->lq, s->lk, s->lk, s->lq},
                width[4] = {(cl_uint)dk, (cl_uint)dk, (cl_uint)dv, (cl_uint)dv};
  for (int t = 0; t < 4; t++) {
    int sf = (seq >> t) & 1;
    s->rs[t] = sf ? (cl_uint)s->batch * width[t] : width[t];
    s->bs[t] = sf ? width[t] : len[t] * width[t];
  }
  size_t score_bytes = s->batch * s->lq * s->lk * sizeof(float);
  s->algo = choose(c, s, score_bytes);
  int causal = op_attr_int(c, "causal", 0) != 0;
  char opts[200];
  if (s->algo != ATT_FUSED) {
    /* DK and DV do not matter to the row kernel: one program per mask/causal variant */
    snprintf(opts, sizeof opts, "-DHAS_MASK=%d -DCAUSAL=%d -DSM_WG=%d", has_mask, causal,
             ATT_SM_WG);
    s->row_item = s->algo == ATT_GEMM && !c->ctx->info.is_gpu;
    c->algo = s->row_item ? "gemm_softmax_gemm" : "gemm_softmax_group_gemm";
    *ws = score_bytes;
    NNCL_TRY(nncl__kernel_get(
        c->ctx, "attention", opts,
        s->row_item ? "attention_softmax_rows_item" : "attention_softmax_rows", &s->k));
    return warm_blas(c);
  }
  snprintf(opts, sizeof opts, "-DDK=%lld -DDV=%lld -DBQ=%d -DTK=%d -DHAS_MASK=%d -DCAUSAL=%d",
           (long long)dk, (long long)dv, ATT_BQ, ATT_TK, has_mask, causal);
  c->algo = "fused_online_softmax";
  return nncl__kernel_get(c->ctx, "attention", opts, "attention_fwd", &s->k);
}

/* scores = scale * Q . K^T into the workspace, masked softmax per row in place, then . V. */
static nncl_status enqueue_gemm(struct op_call *c, const struct att_state *s, cl_mem mask) {
  const size_t lq = s->lq, lk = s->lk, rows = s->batch * lq;
  cl_mem ws = c->workspace;
  NNCL_TRY(nncl__sgemm_strided_batched(c->ctx, false, true, lq, lk, s->dk, s->scale, c->in[0].mem,
                                       0, s->rs[0], s->bs[0], c->in[1].mem, 0, s->rs[1], s->bs[1],
                                       0.0f, ws, 0, lk, lq * lk, s->batch));
  if (s->row_item) {
    const cl_uint n = (cl_uint)rows;
    size_t local = ATT_ROWS_WG, global = op_round_up(rows, ATT_ROWS_WG);
    NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k, "attention_softmax_rows_item", 1, &global, &local,
                         NNCL_ARG(ws), NNCL_ARG(mask), NNCL_ARG(s->lq), NNCL_ARG(s->lk),
                         NNCL_ARG(s->nb1), NNCL_ARG(s->ms[0]), NNCL_ARG(s->ms[1]),
                         NNCL_ARG(s->ms[2]), NNCL_ARG(s->ms[3]), NNCL_ARG(n)));
  } else {
    size_t local[2] = {ATT_SM_WG, 1}, global[2] = {ATT_SM_WG, rows};
    NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k, "attention_softmax_rows", 2, global, local, NNCL_ARG(ws),
                         NNCL_ARG(mask), NNCL_ARG(s->lq), NNCL_ARG(s->lk), NNCL_ARG(s->nb1),
                         NNCL_ARG(s->ms[0]), NNCL_ARG(s->ms[1]), NNCL_ARG(s->ms[2]),
                         NNCL_ARG(s->ms[3])));
  }
  return nncl__sgemm_strided_batched(c->ctx, false, false, lq, s->dv, lk, 1.0f, ws, 0, lk, lq * lk,
                                     c->in[2].mem, 0, s->rs[2], s->bs[2], 0.0f, c->out[0].mem, 0,
                                     s->rs[3], s->bs[3], s->batch);
}

static nncl_status enqueue(struct op_call *c) {
  const struct att_state *s = c->state;
  cl_mem mask = op_has_input(c, 3) ? c->in[3].mem : c->in[0].mem;
  size_t local[2] = {ATT_BQ, 1}, global[2] = {s->lq, s->batch};
  if (s->lk == 0)
    return nncl__buffer_fill_zero(c->ctx, c->out[0].mem, 0,
                                  (size_t)nncl_shape_numel(&c->out[0].shape) * 4);
  if (s->batch == 0 || s->lq == 0) return NNCL_OK;
  if (s->algo != ATT_FUSED) return enqueue_gemm(c, s, mask);
  return NNCL_LAUNCH(c->ctx, s->k, "attention_fwd", 2, global, local, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->in[1].mem), NNCL_ARG(c->in[2].mem), NNCL_ARG(mask),
                     NNCL_ARG(c->out[0].mem), NNCL_ARG(s->lq), NNCL_ARG(s->lk), NNCL_ARG(s->scale),
                     NNCL_ARG(s->nb1), NNCL_ARG(s->ms[0]), NNCL_ARG(s->ms[1]), NNCL_ARG(s->ms[2]),
                     NNCL_ARG(s->ms[3]), NNCL_ARG(s->rs[0]), NNCL_ARG(s->bs[0]), NNCL_ARG(s->rs[1]),
                     NNCL_ARG(s->bs[1]), NNCL_ARG(s->rs[2]), NNCL_ARG(s->bs[2]), NNCL_ARG(s->rs[3]),
                     NNCL_ARG(s->bs[3]));
}

static void cost(const struct op_call *c, struct op_cost *o) {
  const nncl_shape *q = &c->in[0].shape, *k = &c->in[1].shape, *v = &c->in[2].shape;
  int r = q->rank;
  double lk = (double)logical(c, 1, ATT_SEQ_K).dims[r - 2];
  o->flops = 2.0 * (double)nncl_shape_numel(q) * lk +
             2.0 * (double)nncl_shape_numel(&c->out[0].shape) * lk;
  o->bytes = 4.0 * ((double)nncl_shape_numel(q) + (double)nncl_shape_numel(k) +
                    (double)nncl_shape_numel(v) + (double)nncl_shape_numel(&c->out[0].shape));
}

const struct op_def op_attention = {.min_in = 3,
                                    .max_in = 4,
                                    .min_out = 1,
                                    .max_out = 1,
                                    .infer = infer,
                                    .plan = plan,
                                    .enqueue = enqueue,
                                    .release = op_release_state,
                                    .cost = cost};
