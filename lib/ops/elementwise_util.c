/* elementwise_util.c: dtype names, the unary launch and broadcast collapsing shared by the
   element-wise family (see elementwise_util.h). */
#include "elementwise_util.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

const char *ew_cl_type(nncl_dtype t) {
  switch (t) {
  case NNCL_FLOAT32: return "float";
  case NNCL_INT64: return "long";
  case NNCL_INT32: return "int";
  case NNCL_UINT8:
  case NNCL_BOOL: return "uchar";
  case NNCL_INT8: return "char";
  default: return NULL;
  }
}

const char *ew_cl_storage_type(nncl_dtype t) { return t == NNCL_FLOAT16 ? "half" : ew_cl_type(t); }

int ew_is_int(nncl_dtype t) {
  return t == NNCL_INT64 || t == NNCL_INT32 || t == NNCL_UINT8 || t == NNCL_BOOL || t == NNCL_INT8;
}

/* double -> long saturating at the int64 range (NaN gives 0): a float bound such as Clip's
   default -inf has no long value, and converting it directly is undefined behaviour. */
static cl_long to_long(double v) {
  if (v != v) return 0;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return (cl_long)v;
}

void ew_params_set(struct ew_params *p, int is_long, double alpha, double beta) {
  p->is_long = is_long;
  p->f[0] = (float)alpha;
  p->f[1] = (float)beta;
  p->l[0] = to_long(alpha);
  p->l[1] = to_long(beta);
}

/* Kernels index with 32-bit unsigned ints: cheaper on GPUs, and 4G elements is 16 GiB of float. */
static nncl_status check_fits(const struct op_call *c, size_t n) {
  if (n >= (size_t)UINT32_MAX - 4)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "%zu elements exceed the 32-bit index range", n);
  return NNCL_OK;
}

nncl_status ew_unary_plan(struct op_call *c, const char *expr, const char *ti, const char *to,
                          int tp_long, int dyn_lo, int dyn_hi, size_t n, struct ew_unary *u) {
  NNCL_TRY(check_fits(c, n));
  char opts[1024];
  int len = snprintf(opts, sizeof opts, "-DTI=%s -DTO=%s -DTP=%s -DOP_EXPR=%s", ti, to,
                     tp_long ? "long" : "float", expr);
  if (dyn_lo || dyn_hi)
    snprintf(opts + len, sizeof opts - (size_t)len, " -DDYN_LO=%d -DDYN_HI=%d", dyn_lo, dyn_hi);
  u->n = (cl_uint)n;
  u->p.is_long = tp_long;
  return nncl__kernel_get(c->ctx, "elementwise", opts, "elementwise_unary", &u->k);
}

nncl_status ew_unary_enqueue(struct op_call *c, const struct ew_unary *u, cl_mem x, cl_mem y,
                             cl_mem lo, cl_mem hi) {
  if (u->n == 0) return NNCL_OK;
  size_t l = op_local_1d(c), g = op_round_up(((size_t)u->n + 3) / 4, l);
  if (!lo) lo = x;
  if (!hi) hi = x;
  struct nncl__karg a0 = u->p.is_long ? NNCL_ARG(u->p.l[0]) : NNCL_ARG(u->p.f[0]);
  struct nncl__karg a1 = u->p.is_long ? NNCL_ARG(u->p.l[1]) : NNCL_ARG(u->p.f[1]);
  return NNCL_LAUNCH(c->ctx, u->k, c->op_type, 1, &g, &l, NNCL_ARG(x), NNCL_ARG(y), NNCL_ARG(u->n),
                     a0, a1, NNCL_ARG(lo), NNCL_ARG(hi));
}

static size_t pow2_at_most(size_t n, size_t cap) {
  size_t p = 1;
  while (p < n && p < cap) p <<= 1;
  return p;
}

nncl_status ew_bcast_plan(const struct op_call *c, const nncl_shape *out, int n,
                          const nncl_shape *const *in, struct ew_bcast *b) {
  memset(b, 0, sizeof *b);
  size_t numel = (size_t)nncl_shape_numel(out);
  NNCL_TRY(check_fits(c, numel));
  b->numel = numel;
  /* Each input's strides on the output's axes (0 where it broadcasts), then collapsed. */
  int64_t st[COLLAPSE_MAX_OPERANDS][NNCL_MAX_RANK];
  for (int j = 0; j < n; j++) {
    int64_t run = 1;
    for (int k = out->rank - 1; k >= 0; k--) {
      int ik = k - (out->rank - in[j]->rank);
      int64_t id = ik >= 0 ? in[j]->dims[ik] : 1;
      st[j][k] = id == 1 ? 0 : run;
      run *= id;
    }
  }
  struct collapse cl;
  collapse_dims(out->rank, out->dims, n, st, NULL, &cl);
  int r = cl.rank;
  const int64_t *d = cl.dims;
  if (r == 0) { /* a single element: one dim of 1, strides 0 */
    cl.dims[0] = 1;
    r = 1;
  }
  b->meta[BCAST_RANK] = (cl_uint)r;
  for (int k = 0; k < DIMS_MAX; k++) b->meta[BCAST_DIMS + k] = 1; /* the kernel reads dims[1] */
  size_t outer = 1;
  for (int k = 0; k < r; k++) {
    b->meta[BCAST_DIMS + k] = (cl_uint)d[k];
    for (int j = 0; j < n; j++) b->meta[BCAST_STRIDES(j) + k] = (cl_uint)cl.strides[j][k];
    if (k >= 2) outer *= (size_t)d[k];
  }
  size_t g0 = ((size_t)d[0] + 3) / 4, g1 = r > 1 ? (size_t)d[1] : 1, g2 = outer;
  size_t cap = op_local_1d(c);
  size_t l0 = pow2_at_most(g0, cap);
  size_t l1 = pow2_at_most(g1, cap / l0 < 64 ? cap / l0 : 64);
  size_t l2 = pow2_at_most(g2, cap / (l0 * l1) < 64 ? cap / (l0 * l1) : 64);
  b->local[0] = l0;
  b->local[1] = l1;
  b->local[2] = l2;
  b->global[0] = op_round_up(g0, l0);
  b->global[1] = op_round_up(g1, l1);
  b->global[2] = op_round_up(g2, l2);
  return nncl__buffer_from_host(c->ctx, b->meta, sizeof b->meta, "broadcast strides", &b->meta_mem);
}

void ew_bcast_release(struct ew_bcast *b) {
  nncl__buffer_release(b->meta_mem);
  b->meta_mem = NULL;
}

nncl_status ew_bcast_enqueue(struct op_call *c, cl_kernel k, const struct ew_bcast *b, int n,
                             cl_mem A, cl_mem B, cl_mem C, cl_mem Y, const struct ew_params *p) {
  if (b->numel == 0) return NNCL_OK;
  struct nncl__karg a0 = p->is_long ? NNCL_ARG(p->l[0]) : NNCL_ARG(p->f[0]);
  struct nncl__karg a1 = p->is_long ? NNCL_ARG(p->l[1]) : NNCL_ARG(p->f[1]);
  if (n >= 3)
    return NNCL_LAUNCH(c->ctx, k, c->op_type, 3, b->global, b->local, NNCL_ARG(A), NNCL_ARG(B),
                       NNCL_ARG(C), NNCL_ARG(Y), NNCL_ARG(b->meta_mem), a0, a1);
  return NNCL_LAUNCH(c->ctx, k, c->op_type, 3, b->global, b->local, NNCL_ARG(A), NNCL_ARG(B),
                     NNCL_ARG(Y), NNCL_ARG(b->meta_mem), a0, a1);
}
