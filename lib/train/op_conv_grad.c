/* op_conv_grad.c: nncl.ConvGradWeight (X, dY) -> dW, the weight gradient of a Conv with the same
   attributes (strides, pads, dilations, group, kernel_shape: required, W is not an input).
   Algorithm "gemm": per chunk of images, kernels/conv_grad.cl unfolds X into rows of receptive
   fields and lays dY out channel-major, then one strided-batched CLBlast GEMM over the groups
   accumulates dW (beta 1 after the first chunk). Chunks keep the scratch under 256 MB.
   Emitted by Conv's backward rule (grad_conv.c). */
#include "conv.h"
#include "op_train.h"

struct cgw_state {
  struct conv_geom g;
  cl_kernel unfold, dyt;
  int64_t chunk; /* images per GEMM */
};

/* The forward Conv's geometry: W is described by its shape [K, C/group, kernel...]. */
static nncl_status geom(const struct op_call *c, struct conv_geom *g, nncl_shape *wshape) {
  const nncl_shape *x = &c->in[0].shape, *dy = &c->in[1].shape;
  char sx[128], sd[128];
  if (c->in[0].dtype != NNCL_FLOAT32 || c->in[1].dtype != NNCL_FLOAT32)
    return op_error(c, NNCL_ERR_DTYPE, "inputs must be float32");
  const int64_t *ks;
  int nd = x->rank - 2;
  if (op_attr_ints(c, "kernel_shape", &ks) != nd || dy->rank != x->rank)
    return op_error(c, NNCL_ERR_SHAPE, "needs kernel_shape of %d dims, X %s and dY %s of one rank",
                    nd, OP_SHAPE_STR(x, sx), OP_SHAPE_STR(dy, sd));
  int64_t groups = op_attr_int(c, "group", 1);
  if (groups < 1 || x->dims[1] % groups)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "group %lld does not divide %lld channels",
                    (long long)groups, (long long)x->dims[1]);
  *wshape = (nncl_shape){.rank = x->rank, .dims = {dy->dims[1], x->dims[1] / groups}};
  for (int i = 0; i < nd; i++) wshape->dims[2 + i] = ks[i];
  struct op_tensor t[2] = {c->in[0], {.dtype = NNCL_FLOAT32, .shape = *wshape}};
  struct op_call fwd = *c;
  fwd.in = t;
  fwd.n_in = 2;
  NNCL_TRY(conv_geom_parse(&fwd, g));
  if (g->N != dy->dims[0] || g->OH != (nd == 2 ? dy->dims[2] : 1) || g->OW != dy->dims[x->rank - 1])
    return op_error(c, NNCL_ERR_SHAPE, "dY %s is not the output of a conv of X %s",
                    OP_SHAPE_STR(dy, sd), OP_SHAPE_STR(x, sx));
  return NNCL_OK;
}

static nncl_status infer(struct op_call *c) {
  struct conv_geom g;
  nncl_shape w;
  NNCL_TRY(geom(c, &g, &w));
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = w;
  return NNCL_OK;
}

static nncl_status plan(struct op_call *c, size_t *ws) {
  NNCL_TRY(op_train_state(c, sizeof(struct cgw_state)));
  struct cgw_state *s = c->state;
  nncl_shape w;
  NNCL_TRY(geom(c, &s->g, &w));
  const struct conv_geom *g = &s->g;
  NNCL_TRY(op_train_int32(c, &c->in[0].shape));
  NNCL_TRY(op_train_int32(c, &c->in[1].shape));
  /* per image: P rows of C*R*S taps plus its K*P gradients */
  int64_t per = g->OH * g->OW * (g->C * g->R * g->S + g->K);
  s->chunk = per > 0 ? ((int64_t)64 << 20) / per : g->N;
  if (s->chunk < 1) s->chunk = 1;
  if (s->chunk > g->N) s->chunk = g->N;
  /* internal attribute for tests: force the images per GEMM, so the accumulating path runs */
  int64_t forced = op_attr_int(c, "nncl.images_per_chunk", 0);
  if (forced > 0 && forced < s->chunk) s->chunk = forced;
  *ws = (size_t)(s->chunk * per) * sizeof(float);
  c->algo = "gemm";
  NNCL_TRY(nncl__kernel_get(c->ctx, "conv_grad", NULL, "conv_grad_unfold", &s->unfold));
  return nncl__kernel_get(c->ctx, "conv_grad", NULL, "conv_grad_dy_t", &s->dyt);
}

static nncl_status enqueue(struct op_call *c) {
  const struct cgw_state *s = c->state;
  const struct conv_geom *g = &s->g;
  cl_int C = (cl_int)g->C, H = (cl_int)g->H, W = (cl_int)g->W, R = (cl_int)g->R, S = (cl_int)g->S,
         sh = (cl_int)g->sh, sw = (cl_int)g->sw, dh = (cl_int)g->dh, dw = (cl_int)g->dw,
         pt = (cl_int)g->pt, pl = (cl_int)g->pl, OH = (cl_int)g->OH, OW = (cl_int)g->OW,
         K = (cl_int)g->K, P = OH * OW;
  size_t crs = (size_t)(g->C * g->R * g->S), cgrs = (size_t)(g->Cg * g->R * g->S);
  if (!g->N || !P)
    return nncl__buffer_fill_zero(c->ctx, c->out[0].mem, 0, (size_t)g->K * cgrs * sizeof(float));
  for (int64_t n0 = 0; n0 < g->N; n0 += s->chunk) {
    cl_int i0 = (cl_int)n0, nimg = (cl_int)(g->N - n0 < s->chunk ? g->N - n0 : s->chunk);
    size_t np = (size_t)nimg * (size_t)P, dyt_off = np * crs;
    size_t gu[2] = {(size_t)P, (size_t)nimg}, lu[2] = {P < 64 ? (size_t)P : 64, 1};
    NNCL_TRY(NNCL_LAUNCH(c->ctx, s->unfold, "conv_grad_unfold", 2, gu, lu, NNCL_ARG(c->in[0].mem),
                         NNCL_ARG(c->workspace), NNCL_ARG(i0), NNCL_ARG(C), NNCL_ARG(H),
                         NNCL_ARG(W), NNCL_ARG(R), NNCL_ARG(S), NNCL_ARG(sh), NNCL_ARG(sw),
                         NNCL_ARG(dh), NNCL_ARG(dw), NNCL_ARG(pt), NNCL_ARG(pl), NNCL_ARG(OH),
                         NNCL_ARG(OW)));
    size_t gd[3] = {(size_t)P, (size_t)K, (size_t)nimg}, ld[3] = {P < 64 ? (size_t)P : 64, 1, 1};
    cl_long off = (cl_long)dyt_off;
    NNCL_TRY(NNCL_LAUNCH(c->ctx, s->dyt, "conv_grad_dy_t", 3, gd, ld, NNCL_ARG(c->in[1].mem),
                         NNCL_ARG(c->workspace), NNCL_ARG(off), NNCL_ARG(i0), NNCL_ARG(nimg),
                         NNCL_ARG(K), NNCL_ARG(P)));
    NNCL_TRY(nncl__sgemm_strided_batched(
        c->ctx, false, false, (size_t)g->Kg, cgrs, np, 1.0f, c->workspace, dyt_off, np,
        (size_t)g->Kg * np, c->workspace, 0, crs, cgrs, n0 ? 1.0f : 0.0f, c->out[0].mem, 0, cgrs,
        (size_t)g->Kg * cgrs, (size_t)g->groups));
  }
  return NNCL_OK;
}

static void cost(const struct op_call *c, struct op_cost *out) {
  const struct cgw_state *s = c->state;
  double w = (double)nncl_shape_numel(&c->out[0].shape);
  double per = s ? (double)(s->g.N * s->g.OH * s->g.OW) : 0.0;
  out->flops = 2.0 * w * per;
  out->bytes = 4.0 * ((double)nncl_shape_numel(&c->in[0].shape) +
                      (double)nncl_shape_numel(&c->in[1].shape) + w);
}

const struct op_def op_conv_grad_weight = {.min_in = 2,
                                           .max_in = 2,
                                           .min_out = 1,
                                           .max_out = 1,
                                           .infer = infer,
                                           .plan = plan,
                                           .enqueue = enqueue,
                                           .release = op_release_state,
                                           .cost = cost};
