/* op_conv_grad.c: nncl.ConvGradWeight (X, dY) -> dW, the weight gradient of a Conv with the same
   attributes (strides, pads, dilations, group, kernel_shape: required, W is not an input), on
   kernels/conv_grad.cl. Emitted by Conv's backward rule (grad_conv.c). */
#include <stdlib.h>

#include "conv.h"

struct cgw_state {
  struct conv_geom g;
  cl_kernel k;
  size_t ls;
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
  (void)ws;
  struct cgw_state *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "state");
  c->state = s;
  nncl_shape w;
  NNCL_TRY(geom(c, &s->g, &w));
  if (nncl_shape_numel(&c->in[0].shape) >= INT32_MAX ||
      nncl_shape_numel(&c->in[1].shape) >= INT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "tensors of 2^31 elements or more are not supported");
  size_t lmax = op_local_1d(c);
  s->ls = 1;
  while (s->ls * 2 <= lmax && s->ls * 2 <= 64) s->ls *= 2;
  c->algo = "direct";
  return nncl__kernel_get(c->ctx, "conv_grad", NULL, "conv_grad_weight", &s->k);
}

static nncl_status enqueue(struct op_call *c) {
  const struct cgw_state *s = c->state;
  const struct conv_geom *g = &s->g;
  cl_int a[] = {(cl_int)g->N,  (cl_int)g->C,  (cl_int)g->H,  (cl_int)g->W,  (cl_int)g->K,
                (cl_int)g->OH, (cl_int)g->OW, (cl_int)g->R,  (cl_int)g->S,  (cl_int)g->sh,
                (cl_int)g->sw, (cl_int)g->dh, (cl_int)g->dw, (cl_int)g->pt, (cl_int)g->pl,
                (cl_int)g->Cg, (cl_int)g->Kg};
  size_t gs = (size_t)(g->K * g->Cg * g->R * g->S) * s->ls;
  if (!gs) return NNCL_OK;
  return NNCL_LAUNCH(c->ctx, s->k, "conv_grad_weight", 1, &gs, &s->ls, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->in[1].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(a[0]),
                     NNCL_ARG(a[1]), NNCL_ARG(a[2]), NNCL_ARG(a[3]), NNCL_ARG(a[4]), NNCL_ARG(a[5]),
                     NNCL_ARG(a[6]), NNCL_ARG(a[7]), NNCL_ARG(a[8]), NNCL_ARG(a[9]),
                     NNCL_ARG(a[10]), NNCL_ARG(a[11]), NNCL_ARG(a[12]), NNCL_ARG(a[13]),
                     NNCL_ARG(a[14]), NNCL_ARG(a[15]), NNCL_ARG(a[16]),
                     NNCL_LOCAL(s->ls * sizeof(float)));
}

static void release(struct op_call *c) {
  free(c->state);
  c->state = NULL;
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
                                           .release = release,
                                           .cost = cost};
