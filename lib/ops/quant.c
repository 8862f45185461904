/* quant.c: the integer quantization family (kernels/quant.cl): QuantizeLinear, DequantizeLinear
   (per-tensor and per-axis), DynamicQuantizeLinear, MatMulInteger, QLinearMatMul, ConvInteger
   and QLinearConv. Integer products accumulate exactly in int32 on the device; scales and zero
   points stay device tensors, so nothing here needs their values at plan time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

struct quant_state {
  cl_kernel k, k2;
  uint32_t inner, axis_n;               /* (De)QuantizeLinear: scale index (i / inner) % axis_n */
  uint32_t m, n, kk, batch, a_bs, b_bs; /* matmul: sizes and batch strides (0: broadcast) */
  cl_int16 dims;                        /* conv geometry, see quant_conv */
};

static const char *cl_type(nncl_dtype t) {
  switch (t) {
  case NNCL_UINT8: return "uchar";
  case NNCL_INT8: return "char";
  case NNCL_INT32: return "int";
  default: return NULL;
  }
}

/* "-D QT=uchar -D QMIN=0 -D QMAX=255" for a quantized type. */
static void qt_options(nncl_dtype t, char *buf, size_t len) {
  if (t == NNCL_INT8)
    snprintf(buf, len, "-D QT=char -D QMIN=-128 -D QMAX=127");
  else
    snprintf(buf, len, "-D QT=uchar -D QMIN=0 -D QMAX=255");
}

static int is_q8(nncl_dtype t) { return t == NNCL_UINT8 || t == NNCL_INT8; }

static uint32_t numel_u32(const struct op_tensor *t) {
  return (uint32_t)nncl_shape_numel(&t->shape);
}

/* Kernels index with 32-bit counts. */
static nncl_status check_size(const struct op_call *c, const nncl_shape *s, const char *what) {
  char b[128];
  if (nncl_shape_numel(s) > (int64_t)UINT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "%s %s is too large", what, OP_SHAPE_STR(s, b));
  return NNCL_OK;
}

static nncl_status new_state(struct op_call *c, struct quant_state **out) {
  *out = calloc(1, sizeof(**out));
  if (!*out) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
  c->state = *out;
  return NNCL_OK;
}

static nncl_status launch_1d(struct op_call *c, cl_kernel k, const char *label, uint32_t n,
                             cl_mem a, cl_mem b, cl_mem z, cl_mem y, const struct quant_state *s) {
  size_t l = op_local_1d(c), g = op_round_up(n ? n : 1, l);
  cl_int has_zp = z != NULL;
  return NNCL_LAUNCH(c->ctx, k, label, 1, &g, &l, NNCL_ARG(a), NNCL_ARG(b), NNCL_ARG(z),
                     NNCL_ARG(y), NNCL_ARG(n), NNCL_ARG(s->inner), NNCL_ARG(s->axis_n),
                     NNCL_ARG(has_zp));
}

/* ---- QuantizeLinear / DequantizeLinear ---- */

/* Checks scale (and zero point) against x for per-tensor or per-axis use; sets inner/axis_n. */
static nncl_status scale_layout(struct op_call *c, struct quant_state *s) {
  const nncl_shape *x = &c->in[0].shape, *sc = &c->in[1].shape;
  int64_t ns = nncl_shape_numel(sc);
  char a[128], b[128];
  s->inner = 1;
  s->axis_n = 1;
  if (sc->rank > 1)
    return op_error(c, NNCL_ERR_SHAPE, "scale %s must be a scalar or 1-D", OP_SHAPE_STR(sc, a));
  if (op_has_input(c, 2) && nncl_shape_numel(&c->in[2].shape) != ns)
    return op_error(c, NNCL_ERR_SHAPE, "zero point %s and scale %s differ",
                    OP_SHAPE_STR(&c->in[2].shape, a), OP_SHAPE_STR(sc, b));
  /* one element is per-tensor whatever its rank (as onnxruntime reads it) */
  if (ns == 1) return NNCL_OK;
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", 1), x->rank, "axis", &axis));
  if (x->dims[axis] != ns)
    return op_error(c, NNCL_ERR_SHAPE, "scale %s does not match axis %d of x %s",
                    OP_SHAPE_STR(sc, a), axis, OP_SHAPE_STR(x, b));
  for (int d = axis + 1; d < x->rank; ++d) s->inner *= (uint32_t)x->dims[d];
  s->axis_n = (uint32_t)ns;
  return NNCL_OK;
}

static nncl_status quantize_infer(struct op_call *c) {
  if (c->in[0].dtype != NNCL_FLOAT32 || c->in[1].dtype != NNCL_FLOAT32)
    return op_error(c, NNCL_ERR_DTYPE, "x and y_scale must be float32");
  nncl_dtype qt = op_has_input(c, 2) ? c->in[2].dtype : NNCL_UINT8;
  if (!is_q8(qt))
    return op_error(c, NNCL_ERR_DTYPE, "y_zero_point must be uint8 or int8, not %s",
                    nncl_dtype_name(qt));
  struct quant_state s;
  NNCL_TRY(check_size(c, &c->in[0].shape, "x"));
  NNCL_TRY(scale_layout(c, &s));
  c->out[0].dtype = qt;
  c->out[0].shape = c->in[0].shape;
  return NNCL_OK;
}

static nncl_status quantize_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct quant_state *s;
  NNCL_TRY(new_state(c, &s));
  NNCL_TRY(scale_layout(c, s));
  char opt[96];
  qt_options(c->out[0].dtype, opt, sizeof(opt));
  return nncl__kernel_get(c->ctx, "quant", opt, "quant_quantize", &s->k);
}

static nncl_status quantize_enqueue(struct op_call *c) {
  const struct quant_state *s = c->state;
  return launch_1d(c, s->k, "quant_quantize", numel_u32(&c->out[0]), c->in[0].mem, c->in[1].mem,
                   op_has_input(c, 2) ? c->in[2].mem : NULL, c->out[0].mem, s);
}

static nncl_status dequantize_infer(struct op_call *c) {
  if (!cl_type(c->in[0].dtype))
    return op_error(c, NNCL_ERR_DTYPE, "x must be uint8, int8 or int32, not %s",
                    nncl_dtype_name(c->in[0].dtype));
  if (c->in[1].dtype != NNCL_FLOAT32) return op_error(c, NNCL_ERR_DTYPE, "x_scale must be float32");
  if (op_has_input(c, 2) && c->in[2].dtype != c->in[0].dtype)
    return op_error(c, NNCL_ERR_DTYPE, "x_zero_point is %s but x is %s",
                    nncl_dtype_name(c->in[2].dtype), nncl_dtype_name(c->in[0].dtype));
  struct quant_state s;
  NNCL_TRY(check_size(c, &c->in[0].shape, "x"));
  NNCL_TRY(scale_layout(c, &s));
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = c->in[0].shape;
  return NNCL_OK;
}

static nncl_status dequantize_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct quant_state *s;
  NNCL_TRY(new_state(c, &s));
  NNCL_TRY(scale_layout(c, s));
  char opt[64];
  snprintf(opt, sizeof(opt), "-D XT=%s", cl_type(c->in[0].dtype));
  return nncl__kernel_get(c->ctx, "quant", opt, "quant_dequantize", &s->k);
}

static nncl_status dequantize_enqueue(struct op_call *c) {
  const struct quant_state *s = c->state;
  return launch_1d(c, s->k, "quant_dequantize", numel_u32(&c->out[0]), c->in[0].mem, c->in[1].mem,
                   op_has_input(c, 2) ? c->in[2].mem : NULL, c->out[0].mem, s);
}

/* ---- DynamicQuantizeLinear ---- */

static nncl_status dynamic_infer(struct op_call *c) {
  if (c->in[0].dtype != NNCL_FLOAT32) return op_error(c, NNCL_ERR_DTYPE, "x must be float32");
  NNCL_TRY(check_size(c, &c->in[0].shape, "x"));
  c->out[0].dtype = NNCL_UINT8;
  c->out[0].shape = c->in[0].shape;
  for (int i = 1; i < c->n_out; ++i) c->out[i].shape.rank = 0;
  if (c->n_out > 1) c->out[1].dtype = NNCL_FLOAT32;
  if (c->n_out > 2) c->out[2].dtype = NNCL_UINT8;
  return NNCL_OK;
}

static nncl_status dynamic_plan(struct op_call *c, size_t *ws) {
  struct quant_state *s;
  NNCL_TRY(new_state(c, &s));
  *ws = 8; /* scale and zero point when the graph does not ask for them */
  NNCL_TRY(nncl__kernel_get(c->ctx, "quant", NULL, "quant_dynamic_range", &s->k));
  return nncl__kernel_get(c->ctx, "quant", NULL, "quant_dynamic_apply", &s->k2);
}

static nncl_status dynamic_enqueue(struct op_call *c) {
  const struct quant_state *s = c->state;
  /* Absent outputs go to the workspace: scale at byte 0, zero point at byte zp_off. */
  cl_mem scale = c->n_out > 1 ? c->out[1].mem : c->workspace;
  cl_mem zp = c->n_out > 2 ? c->out[2].mem : c->workspace;
  cl_uint zp_off = c->n_out > 2 ? 0 : 4;
  cl_uint n = numel_u32(&c->in[0]);
  size_t l = 1; /* one work-group: the largest power of two the device prefers, up to 256 */
  while (l * 2 <= op_local_1d(c) && l < 256) l *= 2;
  size_t g = l;
  nncl_status st =
      NNCL_LAUNCH(c->ctx, s->k, "quant_dynamic_range", 1, &g, &l, NNCL_ARG(c->in[0].mem),
                  NNCL_ARG(scale), NNCL_ARG(zp), NNCL_ARG(zp_off), NNCL_ARG(n),
                  NNCL_LOCAL(l * sizeof(float)), NNCL_LOCAL(l * sizeof(float)));
  if (st == NNCL_OK) {
    l = op_local_1d(c);
    g = op_round_up(n ? n : 1, l);
    st = NNCL_LAUNCH(c->ctx, s->k2, "quant_dynamic_apply", 1, &g, &l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(scale), NNCL_ARG(zp), NNCL_ARG(zp_off), NNCL_ARG(c->out[0].mem),
                     NNCL_ARG(n));
  }
  return st;
}

/* ---- MatMulInteger / QLinearMatMul and ConvInteger / QLinearConv ---- */

/* Which input plays which part; -1 when the op has no such input. */
struct roles {
  int a, b, za, zb, as, bs, ys, yz, bias;
};
static const struct roles matmul_int = {0, 1, 2, 3, -1, -1, -1, -1, -1};
static const struct roles qlinear = {0, 3, 2, 5, 1, 4, 6, 7, 8};

static const struct roles *roles_of(const struct op_call *c) {
  return c->op_type[0] == 'Q' ? &qlinear : &matmul_int;
}

static cl_mem in_mem(const struct op_call *c, int i) {
  return i >= 0 && op_has_input(c, i) ? c->in[i].mem : NULL;
}

static uint32_t in_numel(const struct op_call *c, int i) {
  return i >= 0 && op_has_input(c, i) ? numel_u32(&c->in[i]) : 0;
}

/* Types and per-tensor/per-channel sizes shared by the matmul and conv variants; rows is the
   count a per-row (A) zero point may have, cols the per-column / per-channel count of B's. */
static nncl_status check_quant_inputs(struct op_call *c, int64_t rows, int64_t cols) {
  const struct roles *r = roles_of(c);
  nncl_dtype ta = c->in[r->a].dtype, tb = c->in[r->b].dtype;
  if (!is_q8(ta) || !is_q8(tb))
    return op_error(c, NNCL_ERR_DTYPE, "integer inputs must be uint8 or int8 (got %s and %s)",
                    nncl_dtype_name(ta), nncl_dtype_name(tb));
  const int zs[2] = {r->za, r->zb};
  const int64_t lim[2] = {rows, cols};
  const nncl_dtype zt[2] = {ta, tb};
  for (int j = 0; j < 2; ++j) {
    if (!op_has_input(c, zs[j])) continue;
    int64_t n = nncl_shape_numel(&c->in[zs[j]].shape);
    if (c->in[zs[j]].dtype != zt[j])
      return op_error(c, NNCL_ERR_DTYPE, "zero point input %d is %s, its operand %s", zs[j],
                      nncl_dtype_name(c->in[zs[j]].dtype), nncl_dtype_name(zt[j]));
    if (n != 1 && n != lim[j])
      return op_error(c, NNCL_ERR_SHAPE,
                      "zero point input %d has %lld elements, expected 1 or %lld", zs[j],
                      (long long)n, (long long)lim[j]);
  }
  if (r->as < 0) return NNCL_OK;
  const int fs[3] = {r->as, r->bs, r->ys};
  for (int j = 0; j < 3; ++j) {
    int64_t n = nncl_shape_numel(&c->in[fs[j]].shape);
    if (c->in[fs[j]].dtype != NNCL_FLOAT32)
      return op_error(c, NNCL_ERR_DTYPE, "scale input %d must be float32", fs[j]);
    if (n != 1 && !(fs[j] == r->bs && n == cols))
      return op_error(c, NNCL_ERR_SHAPE, "scale input %d has %lld elements, expected 1%s", fs[j],
                      (long long)n, fs[j] == r->bs ? " or one per output column/channel" : "");
  }
  if (!op_has_input(c, r->yz) || !is_q8(c->in[r->yz].dtype) ||
      nncl_shape_numel(&c->in[r->yz].shape) != 1)
    return op_error(c, NNCL_ERR_DTYPE, "y_zero_point must be a uint8 or int8 scalar");
  return NNCL_OK;
}

/* -D options: operand types, output type and whether to requantize. */
static void int_options(const struct op_call *c, char *buf, size_t len) {
  const struct roles *r = roles_of(c);
  char q[64];
  qt_options(r->yz >= 0 ? c->in[r->yz].dtype : NNCL_UINT8, q, sizeof(q));
  snprintf(buf, len, "-D XT=%s -D WT=%s %s -D REQUANT=%d -D HAS_BIAS=%d",
           cl_type(c->in[r->a].dtype), cl_type(c->in[r->b].dtype), q, r->as >= 0,
           r->bias >= 0 && op_has_input(c, r->bias));
}

static nncl_dtype out_type(const struct op_call *c) {
  const struct roles *r = roles_of(c);
  return r->yz >= 0 ? c->in[r->yz].dtype : NNCL_INT32;
}

/* ONNX MatMul shapes: 1-D operands are promoted and the added dim dropped; batch dims broadcast
   when equal or when one operand has a single batch. */
static nncl_status matmul_shapes(struct op_call *c, struct quant_state *s, nncl_shape *y) {
  const struct roles *r = roles_of(c);
  const nncl_shape *a = &c->in[r->a].shape, *b = &c->in[r->b].shape;
  char sa[128], sb[128];
  if (a->rank < 1 || b->rank < 1)
    return op_error(c, NNCL_ERR_SHAPE, "operands must have rank >= 1");
  int64_t m = a->rank == 1 ? 1 : a->dims[a->rank - 2], k = a->dims[a->rank - 1];
  int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
  int64_t n = b->rank == 1 ? 1 : b->dims[b->rank - 1];
  if (k != kb)
    return op_error(c, NNCL_ERR_SHAPE, "inner dims of %s and %s differ", OP_SHAPE_STR(a, sa),
                    OP_SHAPE_STR(b, sb));
  nncl_shape ba = {0}, bb = {0}, bo;
  ba.rank = a->rank > 2 ? a->rank - 2 : 0;
  bb.rank = b->rank > 2 ? b->rank - 2 : 0;
  memcpy(ba.dims, a->dims, sizeof(int64_t) * (size_t)ba.rank);
  memcpy(bb.dims, b->dims, sizeof(int64_t) * (size_t)bb.rank);
  NNCL_TRY(op_broadcast_shape(c, &ba, &bb, &bo));
  int64_t na = nncl_shape_numel(&ba), nb = nncl_shape_numel(&bb), no = nncl_shape_numel(&bo);
  if ((na != no && na != 1) || (nb != no && nb != 1))
    return op_error(c, NNCL_ERR_UNSUPPORTED, "batch dims of %s and %s broadcast partially",
                    OP_SHAPE_STR(a, sa), OP_SHAPE_STR(b, sb));
  *y = bo;
  if (a->rank > 1) y->dims[y->rank++] = m;
  if (b->rank > 1) y->dims[y->rank++] = n;
  NNCL_TRY(check_size(c, a, "A"));
  NNCL_TRY(check_size(c, b, "B"));
  NNCL_TRY(check_size(c, y, "output"));
  if (s) {
    s->m = (uint32_t)m;
    s->n = (uint32_t)n;
    s->kk = (uint32_t)k;
    s->batch = (uint32_t)no;
    s->a_bs = na == 1 ? 0 : (uint32_t)(m * k);
    s->b_bs = nb == 1 ? 0 : (uint32_t)(k * n);
  }
  return check_quant_inputs(c, m, n);
}

static nncl_status matmul_infer(struct op_call *c) {
  nncl_shape y;
  NNCL_TRY(matmul_shapes(c, NULL, &y));
  c->out[0].dtype = out_type(c);
  c->out[0].shape = y;
  return NNCL_OK;
}

#define QTILE 16

static nncl_status matmul_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct quant_state *s;
  nncl_shape y;
  NNCL_TRY(new_state(c, &s));
  NNCL_TRY(matmul_shapes(c, s, &y));
  char opt[192];
  int_options(c, opt, sizeof(opt));
  c->algo = "tiled_int32";
  return nncl__kernel_get(c->ctx, "quant", opt, "quant_matmul", &s->k);
}

static nncl_status matmul_enqueue(struct op_call *c) {
  const struct quant_state *s = c->state;
  const struct roles *r = roles_of(c);
  cl_mem za = in_mem(c, r->za), zb = in_mem(c, r->zb), as = in_mem(c, r->as);
  cl_mem bs = in_mem(c, r->bs), ys = in_mem(c, r->ys), yz = in_mem(c, r->yz);
  cl_uint za_n = in_numel(c, r->za), zb_n = in_numel(c, r->zb), bs_n = in_numel(c, r->bs);
  cl_int has_yz = yz != NULL;
  size_t l[3] = {QTILE, QTILE, 1};
  size_t g[3] = {op_round_up(s->n, QTILE), op_round_up(s->m, QTILE), s->batch};
  if (!s->m || !s->n || !s->batch) return NNCL_OK;
  return NNCL_LAUNCH(c->ctx, s->k, "quant_matmul", 3, g, l, NNCL_ARG(c->in[r->a].mem),
                     NNCL_ARG(c->in[r->b].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(s->m),
                     NNCL_ARG(s->n), NNCL_ARG(s->kk), NNCL_ARG(s->a_bs), NNCL_ARG(s->b_bs),
                     NNCL_ARG(za), NNCL_ARG(za_n), NNCL_ARG(zb), NNCL_ARG(zb_n), NNCL_ARG(as),
                     NNCL_ARG(bs), NNCL_ARG(bs_n), NNCL_ARG(ys), NNCL_ARG(yz), NNCL_ARG(has_yz));
}

static void matmul_cost(const struct op_call *c, struct op_cost *o) {
  const struct quant_state *s = c->state;
  o->flops = 0;
  o->bytes = 0;
  if (!s) return;
  o->flops = 2.0 * s->batch * s->m * s->n * s->kk;
  o->bytes = (double)s->batch * (s->m * s->kk + s->kk * s->n) +
             (double)nncl_shape_numel(&c->out[0].shape) * nncl_dtype_size(c->out[0].dtype);
}

/* Conv geometry into s->dims (see quant_conv) and the output shape. */
static nncl_status conv_shapes(struct op_call *c, struct quant_state *s, nncl_shape *y) {
  const struct roles *r = roles_of(c);
  const nncl_shape *x = &c->in[r->a].shape, *w = &c->in[r->b].shape;
  char sx[128], sw[128];
  if ((x->rank != 3 && x->rank != 4) || w->rank != x->rank)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "only 1-D and 2-D convolutions (x %s, w %s)",
                    OP_SHAPE_STR(x, sx), OP_SHAPE_STR(w, sw));
  const int sp = x->rank - 2, off = 2 - sp; /* 1-D uses the W slot of the 2-D geometry */
  int64_t in[2] = {1, x->dims[x->rank - 1]}, ks[2] = {1, w->dims[w->rank - 1]};
  if (sp == 2) in[0] = x->dims[2], ks[0] = w->dims[2];
  int64_t st[2] = {1, 1}, dl[2] = {1, 1}, pb[2] = {0, 0}, pe[2] = {0, 0}, o[2] = {1, 1};
  const int64_t *v;
  int nv;
  if ((nv = op_attr_ints(c, "strides", &v)) == sp)
    for (int i = 0; i < sp; ++i) st[off + i] = v[i];
  if ((nv = op_attr_ints(c, "dilations", &v)) == sp)
    for (int i = 0; i < sp; ++i) dl[off + i] = v[i];
  if ((nv = op_attr_ints(c, "kernel_shape", &v)) >= 0) {
    if (nv != sp) return op_error(c, NNCL_ERR_SHAPE, "kernel_shape has %d values for %d-D", nv, sp);
    for (int i = 0; i < sp; ++i)
      if (v[i] != ks[off + i])
        return op_error(c, NNCL_ERR_SHAPE, "kernel_shape disagrees with w %s", OP_SHAPE_STR(w, sw));
  }
  int64_t g = op_attr_int(c, "group", 1);
  if (g < 1 || x->dims[1] % g || w->dims[0] % g || w->dims[1] * g != x->dims[1])
    return op_error(c, NNCL_ERR_SHAPE, "x %s, w %s and group %lld disagree", OP_SHAPE_STR(x, sx),
                    OP_SHAPE_STR(w, sw), (long long)g);
  const char *ap = op_attr_str(c, "auto_pad", "NOTSET");
  const int same = !strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER");
  nv = op_attr_ints(c, "pads", &v);
  if (!same && strcmp(ap, "VALID") && nv >= 0 && nv != 2 * sp)
    return op_error(c, NNCL_ERR_SHAPE, "pads has %d values for %d-D", nv, sp);
  for (int i = off; i < 2; ++i) {
    if (st[i] < 1 || dl[i] < 1)
      return op_error(c, NNCL_ERR_SHAPE, "strides and dilations must be >= 1");
    int64_t ek = (ks[i] - 1) * dl[i] + 1;
    if (same) {
      o[i] = (in[i] + st[i] - 1) / st[i];
      int64_t tot = (o[i] - 1) * st[i] + ek - in[i];
      if (tot < 0) tot = 0;
      pb[i] = !strcmp(ap, "SAME_UPPER") ? tot / 2 : tot - tot / 2;
      pe[i] = tot - pb[i];
    } else {
      if (strcmp(ap, "VALID") && nv >= 0) {
        pb[i] = v[i - off];
        pe[i] = v[i - off + sp];
      }
      o[i] = pb[i] < 0 || pe[i] < 0 ? 0 : (in[i] + pb[i] + pe[i] - ek) / st[i] + 1;
    }
    if (o[i] < 1)
      return op_error(c, NNCL_ERR_SHAPE, "x %s and w %s give an empty output or negative pads",
                      OP_SHAPE_STR(x, sx), OP_SHAPE_STR(w, sw));
  }
  *y = *x;
  y->dims[1] = w->dims[0];
  if (sp == 2) y->dims[2] = o[0];
  y->dims[x->rank - 1] = o[1];
  NNCL_TRY(check_size(c, y, "output"));
  if (r->bias >= 0 && op_has_input(c, r->bias) &&
      (c->in[r->bias].dtype != NNCL_INT32 || nncl_shape_numel(&c->in[r->bias].shape) != w->dims[0]))
    return op_error(c, NNCL_ERR_SHAPE, "bias must be int32 with %lld elements",
                    (long long)w->dims[0]);
  if (op_has_input(c, r->za) && nncl_shape_numel(&c->in[r->za].shape) != 1)
    return op_error(c, NNCL_ERR_SHAPE, "x_zero_point must be a scalar");
  if (s) {
    const int64_t d[15] = {x->dims[1], in[0], in[1], w->dims[0], o[0],  o[1],  ks[0], ks[1],
                           st[0],      st[1], pb[0], pb[1],      dl[0], dl[1], g};
    for (int i = 0; i < 15; ++i) s->dims.s[i] = (cl_int)d[i];
    s->dims.s[15] = 0;
  }
  return check_quant_inputs(c, 1, w->dims[0]);
}

static nncl_status conv_infer(struct op_call *c) {
  nncl_shape y;
  NNCL_TRY(conv_shapes(c, NULL, &y));
  c->out[0].dtype = out_type(c);
  c->out[0].shape = y;
  return NNCL_OK;
}

static nncl_status conv_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct quant_state *s;
  nncl_shape y;
  NNCL_TRY(new_state(c, &s));
  NNCL_TRY(conv_shapes(c, s, &y));
  char opt[192];
  int_options(c, opt, sizeof(opt));
  c->algo = "direct_int32";
  return nncl__kernel_get(c->ctx, "quant", opt, "quant_conv", &s->k);
}

static nncl_status conv_enqueue(struct op_call *c) {
  const struct quant_state *s = c->state;
  const struct roles *r = roles_of(c);
  cl_mem zx = in_mem(c, r->za), zw = in_mem(c, r->zb), xs = in_mem(c, r->as);
  cl_mem wsc = in_mem(c, r->bs), ys = in_mem(c, r->ys), yz = in_mem(c, r->yz);
  cl_mem bias = in_mem(c, r->bias);
  cl_uint zw_n = in_numel(c, r->zb), ws_n = in_numel(c, r->bs);
  cl_int has_zx = zx != NULL, has_yz = yz != NULL;
  cl_uint total = numel_u32(&c->out[0]);
  if (!total) return NNCL_OK;
  size_t l = op_local_1d(c), g = op_round_up(total, l);
  return NNCL_LAUNCH(c->ctx, s->k, "quant_conv", 1, &g, &l, NNCL_ARG(c->in[r->a].mem),
                     NNCL_ARG(c->in[r->b].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(total),
                     NNCL_ARG(s->dims), NNCL_ARG(zx), NNCL_ARG(has_zx), NNCL_ARG(zw),
                     NNCL_ARG(zw_n), NNCL_ARG(bias), NNCL_ARG(xs), NNCL_ARG(wsc), NNCL_ARG(ws_n),
                     NNCL_ARG(ys), NNCL_ARG(yz), NNCL_ARG(has_yz));
}

static void conv_cost(const struct op_call *c, struct op_cost *o) {
  const struct roles *r = roles_of(c);
  const nncl_shape *w = &c->in[r->b].shape;
  double per = w->dims[0] ? (double)nncl_shape_numel(w) / (double)w->dims[0] : 0.0;
  double ny = (double)nncl_shape_numel(&c->out[0].shape);
  o->flops = 2.0 * ny * per;
  o->bytes = (double)nncl_shape_numel(&c->in[r->a].shape) + (double)nncl_shape_numel(w) +
             ny * (double)nncl_dtype_size(c->out[0].dtype);
}

const struct op_def op_quantize_linear = {.min_in = 2,
                                          .max_in = 3,
                                          .min_out = 1,
                                          .max_out = 1,
                                          .infer = quantize_infer,
                                          .plan = quantize_plan,
                                          .enqueue = quantize_enqueue,
                                          .release = op_release_state};
const struct op_def op_dequantize_linear = {.min_in = 2,
                                            .max_in = 3,
                                            .min_out = 1,
                                            .max_out = 1,
                                            .infer = dequantize_infer,
                                            .plan = dequantize_plan,
                                            .enqueue = dequantize_enqueue,
                                            .release = op_release_state};
const struct op_def op_dynamic_quantize_linear = {.min_in = 1,
                                                  .max_in = 1,
                                                  .min_out = 1,
                                                  .max_out = 3,
                                                  .infer = dynamic_infer,
                                                  .plan = dynamic_plan,
                                                  .enqueue = dynamic_enqueue,
                                                  .release = op_release_state};
const struct op_def op_matmul_integer = {.min_in = 2,
                                         .max_in = 4,
                                         .min_out = 1,
                                         .max_out = 1,
                                         .infer = matmul_infer,
                                         .plan = matmul_plan,
                                         .enqueue = matmul_enqueue,
                                         .release = op_release_state,
                                         .cost = matmul_cost};
const struct op_def op_qlinear_matmul = {.min_in = 8,
                                         .max_in = 8,
                                         .min_out = 1,
                                         .max_out = 1,
                                         .infer = matmul_infer,
                                         .plan = matmul_plan,
                                         .enqueue = matmul_enqueue,
                                         .release = op_release_state,
                                         .cost = matmul_cost};
const struct op_def op_conv_integer = {.min_in = 2,
                                       .max_in = 4,
                                       .min_out = 1,
                                       .max_out = 1,
                                       .infer = conv_infer,
                                       .plan = conv_plan,
                                       .enqueue = conv_enqueue,
                                       .release = op_release_state,
                                       .cost = conv_cost};
const struct op_def op_qlinear_conv = {.min_in = 8,
                                       .max_in = 9,
                                       .min_out = 1,
                                       .max_out = 1,
                                       .infer = conv_infer,
                                       .plan = conv_plan,
                                       .enqueue = conv_enqueue,
                                       .release = op_release_state,
                                       .cost = conv_cost};
