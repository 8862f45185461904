/* gemm.c: ONNX Gemm and MatMul on the matrix-product engine (nncl__gemm_run: our kernels or
   CLBlast, whichever was measured faster for the shape), with Gemm's bias, the fused activation
   and the residual applied by the engine. MatMul folds batch dimensions into M when B is not
   batched (the common Linear-on-a-sequence case), uses strided batching when the batch layout
   allows it, and one product per output item (own offsets) otherwise. A MatMul may carry a bias
   vector over the last axis as input 2 (internal attribute nncl.bias, set by pass_fuse.c when it
   folds a Linear layer's Add), added by the engine like Gemm's C. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

enum mm_mode { MM_SINGLE, MM_STRIDED, MM_OFFSETS };

struct gemm_state {
  bool trans_a, trans_b;
  size_t m, n, k, lda, ldb;
  float alpha, beta;
  /* MatMul batching */
  enum mm_mode mode;
  size_t batch, a_stride, b_stride;
  size_t *a_offs, *b_offs, *c_offs; /* MM_OFFSETS: one per batch item */
  bool has_c;                       /* Gemm's C, added as the engine's bias times beta */
  size_t c_rs, c_cs;
  bool has_epi;
  char epi_opts[OP_EPILOGUE_OPTIONS_MAX];
  cl_mem b_packed; /* a constant B packed once at plan time (nncl__gemm_pack_b), or NULL */
};

static void release(struct op_call *c) {
  struct gemm_state *s = c->state;
  if (!s) return;
  free(s->a_offs);
  free(s->b_offs);
  free(s->c_offs);
  nncl__buffer_release(s->b_packed);
  free(s);
  c->state = NULL;
}

static nncl_status check_f32(const struct op_call *c) {
  for (int i = 0; i < c->n_in; i++)
    if (op_has_input(c, i) && c->in[i].dtype != NNCL_FLOAT32)
      return op_error(c, NNCL_ERR_DTYPE, "input %d is %s; only float32 is supported", i,
                      nncl_dtype_name(c->in[i].dtype));
  return NNCL_OK;
}

/* The residual of a fused epilogue must have the output's shape (the fuser only fuses that). */
static nncl_status check_residual(const struct op_call *c) {
  if (!c->epi.has_residual) return NNCL_OK;
  char a[128], b[128];
  if (!c->res || c->res->dtype != NNCL_FLOAT32 || c->res->shape.rank != c->out[0].shape.rank ||
      nncl_shape_numel(&c->res->shape) != nncl_shape_numel(&c->out[0].shape))
    return op_error(c, NNCL_ERR_SHAPE, "fused residual %s must be float32 of the output shape %s",
                    c->res ? OP_SHAPE_STR(&c->res->shape, a) : "(none)",
                    OP_SHAPE_STR(&c->out[0].shape, b));
  return NNCL_OK;
}

/* The engine's description of the product (buffers filled in at enqueue; offsets of item 0). */
static struct nncl__gemm product(const struct op_call *c, const struct gemm_state *s) {
  struct nncl__gemm g = {.trans_a = s->trans_a,
                         .trans_b = s->trans_b,
                         .m = s->m,
                         .n = s->n,
                         .k = s->k,
                         .batch = s->mode == MM_STRIDED ? s->batch : 1,
                         .alpha = s->alpha,
                         .beta = 0.0f,
                         .a = c->in[0].mem,
                         .b = c->in[1].mem,
                         .c = c->out[0].mem,
                         .lda = s->lda,
                         .ldb = s->ldb,
                         .ldc = s->n,
                         .a_stride = s->a_stride,
                         .b_stride = s->b_stride,
                         .c_stride = s->m * s->n,
                         .epi_options = s->has_epi ? s->epi_opts : NULL,
                         .b_packed = s->b_packed,
                         .b_const = c->in[1].host && s->mode != MM_OFFSETS,
                         .half_storage = c->out[0].dtype == NNCL_FLOAT16};
  if (s->has_c) {
    g.has_bias = true;
    g.bias = c->in[2].mem;
    g.bias_rs = s->c_rs;
    g.bias_cs = s->c_cs;
    g.bias_scale = s->beta;
  }
  if (c->epi.has_residual) {
    g.has_res = true;
    g.res = c->res->mem;
  }
  return g;
}

/* Chooses the engine's implementation (measuring it once per shape) and builds its kernels. */
static nncl_status plan_product(struct op_call *c, struct gemm_state *s) {
  if (c->epi.act != OP_ACT_NONE || c->epi.has_residual) {
    s->has_epi = true;
    op_epilogue_options(&c->epi, s->epi_opts, sizeof s->epi_opts);
  }
  const struct nncl__gemm g = product(c, s);
  struct nncl__gemm_choice ch;
  NNCL_TRY(nncl__gemm_prepare(c->ctx, &g, &ch));
  c->algo = nncl__gemm_impl_name(ch.impl);
  /* Weights (a constant B) are packed into the engine's panels once, here, not on every run. */
  if (c->in[1].host && s->mode != MM_OFFSETS)
    NNCL_TRY(nncl__gemm_pack_b(c->ctx, &g, c->in[1].host->data, nncl_array_bytes(c->in[1].host),
                               &s->b_packed));
  return NNCL_OK;
}

static nncl_status run_product(struct op_call *c, const struct gemm_state *s) {
  struct nncl__gemm g = product(c, s);
  if (s->mode != MM_OFFSETS) return nncl__gemm_run(c->ctx, &g);
  for (size_t item = 0; item < s->batch; item++) {
    g.a_off = s->a_offs[item];
    g.b_off = s->b_offs[item];
    g.c_off = g.res_off = s->c_offs[item];
    NNCL_TRY(nncl__gemm_run(c->ctx, &g));
  }
  return NNCL_OK;
}

/* ---------------------------------- Gemm ---------------------------------- */

static nncl_status gemm_infer(struct op_call *c) {
  NNCL_TRY(check_f32(c));
  const nncl_shape *a = &c->in[0].shape, *b = &c->in[1].shape;
  char sa[128], sb[128], sc[128];
  if (a->rank != 2 || b->rank != 2)
    return op_error(c, NNCL_ERR_SHAPE, "A %s and B %s must be 2-D", OP_SHAPE_STR(a, sa),
                    OP_SHAPE_STR(b, sb));
  int ta = op_attr_int(c, "transA", 0) != 0, tb = op_attr_int(c, "transB", 0) != 0;
  int64_t m = a->dims[ta ? 1 : 0], ka = a->dims[ta ? 0 : 1];
  int64_t kb = b->dims[tb ? 1 : 0], n = b->dims[tb ? 0 : 1];
  if (ka != kb)
    return op_error(c, NNCL_ERR_SHAPE,
                    "inner dimensions differ: A %s (transA=%d), B %s (transB=%d)",
                    OP_SHAPE_STR(a, sa), ta, OP_SHAPE_STR(b, sb), tb);
  if (op_has_input(c, 2)) {
    const nncl_shape *cs = &c->in[2].shape;
    int ok = cs->rank <= 2;
    if (ok && cs->rank >= 1) ok = cs->dims[cs->rank - 1] == 1 || cs->dims[cs->rank - 1] == n;
    if (ok && cs->rank == 2) ok = cs->dims[0] == 1 || cs->dims[0] == m;
    if (!ok)
      return op_error(c, NNCL_ERR_SHAPE, "C %s does not broadcast to the output [%lld, %lld]",
                      OP_SHAPE_STR(cs, sc), (long long)m, (long long)n);
  }
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = (nncl_shape){.rank = 2, .dims = {m, n}};
  return check_residual(c);
}

static nncl_status gemm_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct gemm_state *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "state");
  c->state = s;
  const nncl_shape *a = &c->in[0].shape, *b = &c->in[1].shape;
  s->trans_a = op_attr_int(c, "transA", 0) != 0;
  s->trans_b = op_attr_int(c, "transB", 0) != 0;
  s->m = (size_t)c->out[0].shape.dims[0];
  s->n = (size_t)c->out[0].shape.dims[1];
  s->k = (size_t)a->dims[s->trans_a ? 0 : 1];
  s->lda = (size_t)a->dims[1];
  s->ldb = (size_t)b->dims[1];
  s->alpha = op_attr_float(c, "alpha", 1.0f);
  s->beta = op_attr_float(c, "beta", 1.0f);
  s->mode = MM_SINGLE;
  if (op_has_input(c, 2) && s->beta != 0.0f) {
    const nncl_shape *cs = &c->in[2].shape;
    s->has_c = true;
    int64_t cn = cs->rank >= 1 ? cs->dims[cs->rank - 1] : 1;
    int64_t cm = cs->rank == 2 ? cs->dims[0] : 1;
    s->c_cs = cn > 1 ? 1 : 0;
    s->c_rs = cm > 1 ? (size_t)cn : 0;
  }
  return plan_product(c, s);
}

static nncl_status gemm_enqueue(struct op_call *c) { return run_product(c, c->state); }

static void gemm_cost(const struct op_call *c, struct op_cost *o) {
  const nncl_shape *y = &c->out[0].shape, *a = &c->in[0].shape;
  double k = (double)a->dims[op_attr_int(c, "transA", 0) ? 0 : 1];
  o->flops = 2.0 * (double)y->dims[0] * (double)y->dims[1] * k;
  o->bytes = 4.0 * ((double)nncl_shape_numel(a) + (double)nncl_shape_numel(&c->in[1].shape) +
                    (double)nncl_shape_numel(y) * (op_has_input(c, 2) ? 2 : 1));
}

const struct op_def op_gemm = {.min_in = 2,
                               .max_in = 3,
                               .min_out = 1,
                               .max_out = 1,
                               .flags = OP_EPILOGUE | OP_HALF_STORAGE,
                               .infer = gemm_infer,
                               .plan = gemm_plan,
                               .enqueue = gemm_enqueue,
                               .release = release,
                               .cost = gemm_cost,
                               .backward = nncl__grad_gemm};

/* --------------------------------- MatMul --------------------------------- */

/* The batch view of one MatMul operand: its matrix dims after 1-D promotion, and its batch dims
   right-aligned to the output's batch rank (1 where absent). */
struct mm_view {
  int64_t rows, cols;
  int64_t batch[NNCL_MAX_RANK];
};

static void mm_view(const nncl_shape *s, int is_b, int out_batch_rank, struct mm_view *v) {
  if (s->rank == 1) {
    v->rows = is_b ? s->dims[0] : 1;
    v->cols = is_b ? 1 : s->dims[0];
  } else {
    v->rows = s->dims[s->rank - 2];
    v->cols = s->dims[s->rank - 1];
  }
  int br = s->rank > 2 ? s->rank - 2 : 0;
  for (int i = 0; i < out_batch_rank; i++) {
    int j = i - (out_batch_rank - br);
    v->batch[i] = j >= 0 ? s->dims[j] : 1;
  }
}

static nncl_status matmul_infer(struct op_call *c) {
  NNCL_TRY(check_f32(c));
  const nncl_shape *a = &c->in[0].shape, *b = &c->in[1].shape;
  char sa[128], sb[128];
  if (a->rank < 1 || b->rank < 1)
    return op_error(c, NNCL_ERR_SHAPE, "inputs %s and %s must have rank >= 1", OP_SHAPE_STR(a, sa),
                    OP_SHAPE_STR(b, sb));
  int bra = a->rank > 2 ? a->rank - 2 : 0, brb = b->rank > 2 ? b->rank - 2 : 0;
  int br = bra > brb ? bra : brb;
  struct mm_view va, vb;
  mm_view(a, 0, br, &va);
  mm_view(b, 1, br, &vb);
  if (va.cols != vb.rows)
    return op_error(c, NNCL_ERR_SHAPE, "inner dimensions differ: %s x %s", OP_SHAPE_STR(a, sa),
                    OP_SHAPE_STR(b, sb));
  nncl_shape o = {.rank = 0};
  for (int i = 0; i < br; i++) {
    if (va.batch[i] != vb.batch[i] && va.batch[i] != 1 && vb.batch[i] != 1)
      return op_error(c, NNCL_ERR_SHAPE, "batch dimensions of %s and %s do not broadcast",
                      OP_SHAPE_STR(a, sa), OP_SHAPE_STR(b, sb));
    o.dims[o.rank++] = va.batch[i] == 1 ? vb.batch[i] : va.batch[i];
  }
  if (a->rank > 1) o.dims[o.rank++] = va.rows;
  if (b->rank > 1) o.dims[o.rank++] = vb.cols;
  if (op_has_input(c, 2)) {
    /* ONNX MatMul has two inputs; a third is only the fused bias (pass_fuse.c) */
    const nncl_shape *bs = &c->in[2].shape;
    if (!op_attr_int(c, "nncl.bias", 0))
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "MatMul takes 2 inputs, got 3");
    if (o.rank < 1 || nncl_shape_numel(bs) != o.dims[o.rank - 1] || bs->rank < 1 ||
        bs->dims[bs->rank - 1] != o.dims[o.rank - 1])
      return op_error(c, NNCL_ERR_SHAPE, "fused bias %s is not a vector over the last axis of %s",
                      OP_SHAPE_STR(bs, sa), OP_SHAPE_STR(&o, sb));
  }
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = o;
  return check_residual(c);
}

static nncl_status matmul_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct gemm_state *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "state");
  c->state = s;
  const nncl_shape *a = &c->in[0].shape, *b = &c->in[1].shape;
  int bra = a->rank > 2 ? a->rank - 2 : 0, brb = b->rank > 2 ? b->rank - 2 : 0;
  int br = bra > brb ? bra : brb;
  struct mm_view va, vb;
  mm_view(a, 0, br, &va);
  mm_view(b, 1, br, &vb);
  s->m = (size_t)va.rows;
  s->k = (size_t)va.cols;
  s->n = (size_t)vb.cols;
  s->lda = s->k;
  s->ldb = s->n;
  s->alpha = 1.0f;
  s->batch = 1;
  size_t a_batch = 1, b_batch = 1;
  for (int i = 0; i < br; i++) {
    s->batch *= (size_t)(va.batch[i] == 1 ? vb.batch[i] : va.batch[i]);
    a_batch *= (size_t)va.batch[i];
    b_batch *= (size_t)vb.batch[i];
  }
  const size_t asz = s->m * s->k, bsz = s->k * s->n;
  if (b_batch == 1 && a_batch == s->batch) {
    /* B is shared and A's batches are contiguous rows: one GEMM with M = batch * m. */
    s->mode = MM_SINGLE;
    s->m *= s->batch;
    s->batch = 1;
  } else if ((a_batch == s->batch || a_batch == 1) && (b_batch == s->batch || b_batch == 1)) {
    s->mode = MM_STRIDED;
    s->a_stride = a_batch == 1 ? 0 : asz;
    s->b_stride = b_batch == 1 ? 0 : bsz;
  } else {
    /* Mixed broadcasting (e.g. [2,1,..] x [1,3,..]): an offset per output batch item. */
    s->mode = MM_OFFSETS;
    s->a_offs = malloc(s->batch * sizeof *s->a_offs);
    s->b_offs = malloc(s->batch * sizeof *s->b_offs);
    s->c_offs = malloc(s->batch * sizeof *s->c_offs);
    if (!s->a_offs || !s->b_offs || !s->c_offs)
      return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "batch offsets");
    for (size_t item = 0; item < s->batch; item++) {
      size_t rem = item, ai = 0, bi = 0, am = 1, bm = 1;
      for (int i = br - 1; i >= 0; i--) {
        size_t od = (size_t)(va.batch[i] == 1 ? vb.batch[i] : va.batch[i]);
        size_t idx = rem % od;
        rem /= od;
        if (va.batch[i] != 1) ai += idx * am;
        if (vb.batch[i] != 1) bi += idx * bm;
        am *= (size_t)va.batch[i];
        bm *= (size_t)vb.batch[i];
      }
      s->a_offs[item] = ai * asz;
      s->b_offs[item] = bi * bsz;
      s->c_offs[item] = item * s->m * s->n;
    }
  }
  if (op_has_input(c, 2)) {
    s->has_c = true; /* the fused bias: one row, broadcast over rows and batch items */
    s->beta = 1.0f;
    s->c_rs = 0;
    s->c_cs = 1;
  }
  return plan_product(c, s);
}

static nncl_status matmul_enqueue(struct op_call *c) { return run_product(c, c->state); }

static void matmul_cost(const struct op_call *c, struct op_cost *o) {
  const nncl_shape *a = &c->in[0].shape;
  double k = (double)a->dims[a->rank - 1];
  o->flops = 2.0 * (double)nncl_shape_numel(&c->out[0].shape) * k;
  o->bytes = 4.0 * ((double)nncl_shape_numel(a) + (double)nncl_shape_numel(&c->in[1].shape) +
                    (double)nncl_shape_numel(&c->out[0].shape) +
                    (op_has_input(c, 2) ? (double)nncl_shape_numel(&c->in[2].shape) : 0.0));
}

const struct op_def op_matmul = {.min_in = 2,
                                 .max_in = 3,
                                 .min_out = 1,
                                 .max_out = 1,
                                 .flags = OP_EPILOGUE | OP_HALF_STORAGE,
                                 .infer = matmul_infer,
                                 .plan = matmul_plan,
                                 .enqueue = matmul_enqueue,
                                 .release = release,
                                 .cost = matmul_cost,
                                 .backward = nncl__grad_matmul};
