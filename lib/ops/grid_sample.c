/* grid_sample.c: GridSample (opset 16: 4-D X and Grid; modes bilinear / nearest / bicubic,
   padding zeros / border / reflection, align_corners) on float32, kernels/grid_sample.cl. */
#include <stdlib.h>
#include <string.h>

#include "op.h"

struct gs_state {
  cl_kernel k;
  cl_int mode, pad, align;
};

static nncl_status parse(const struct op_call *c, cl_int *mode, cl_int *pad, cl_int *align) {
  const char *m = op_attr_str(c, "mode", "bilinear"), *p = op_attr_str(c, "padding_mode", "zeros");
  /* opset 20 renamed the modes linear / cubic; accept both spellings */
  if (!strcmp(m, "nearest"))
    *mode = 0;
  else if (!strcmp(m, "bilinear") || !strcmp(m, "linear"))
    *mode = 1;
  else if (!strcmp(m, "bicubic") || !strcmp(m, "cubic"))
    *mode = 2;
  else
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "mode '%s' is not nearest, bilinear or bicubic",
                    m);
  if (!strcmp(p, "zeros"))
    *pad = 0;
  else if (!strcmp(p, "border"))
    *pad = 1;
  else if (!strcmp(p, "reflection"))
    *pad = 2;
  else
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "padding_mode '%s' is not zeros, border or reflection", p);
  *align = op_attr_int(c, "align_corners", 0) != 0;
  return NNCL_OK;
}

static nncl_status infer(struct op_call *c) {
  const nncl_shape *x = &c->in[0].shape, *g = &c->in[1].shape;
  char a[128], b[128];
  if (c->in[0].dtype != NNCL_FLOAT32 || c->in[1].dtype != NNCL_FLOAT32)
    return op_error(c, NNCL_ERR_DTYPE, "X and Grid must be float32 (got %s and %s)",
                    nncl_dtype_name(c->in[0].dtype), nncl_dtype_name(c->in[1].dtype));
  if (x->rank != 4 || g->rank != 4 || g->dims[0] != x->dims[0] || g->dims[3] != 2)
    return op_error(c, x->rank != 4 ? NNCL_ERR_UNSUPPORTED : NNCL_ERR_SHAPE,
                    "X %s must be [N, C, H, W] and Grid %s [N, H_out, W_out, 2]",
                    OP_SHAPE_STR(x, a), OP_SHAPE_STR(g, b));
  if (nncl_shape_numel(x) > INT32_MAX || nncl_shape_numel(g) > INT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "X %s or Grid %s is too large", OP_SHAPE_STR(x, a),
                    OP_SHAPE_STR(g, b));
  cl_int m, p, al;
  NNCL_TRY(parse(c, &m, &p, &al));
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = *x;
  c->out[0].shape.dims[2] = g->dims[1];
  c->out[0].shape.dims[3] = g->dims[2];
  return NNCL_OK;
}

static nncl_status plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct gs_state *s = calloc(1, sizeof(*s));
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
  c->state = s;
  NNCL_TRY(parse(c, &s->mode, &s->pad, &s->align));
  static const char *const names[] = {"nearest", "bilinear", "bicubic"};
  c->algo = names[s->mode];
  return nncl__kernel_get(c->ctx, "grid_sample", NULL, "grid_sample_2d", &s->k);
}

static nncl_status enqueue(struct op_call *c) {
  const struct gs_state *s = c->state;
  const nncl_shape *x = &c->in[0].shape, *y = &c->out[0].shape;
  cl_int n = (cl_int)x->dims[0], ch = (cl_int)x->dims[1], h = (cl_int)x->dims[2];
  cl_int w = (cl_int)x->dims[3], oh = (cl_int)y->dims[2], ow = (cl_int)y->dims[3];
  if (!nncl_shape_numel(y)) return NNCL_OK;
  size_t l1 = op_local_1d(c), l[3] = {1, 1, 1};
  while (l[0] < (size_t)ow && l[0] * 2 <= l1 && l[0] < 64) l[0] *= 2;
  while (l[1] < (size_t)oh && l[0] * l[1] * 2 <= l1) l[1] *= 2;
  size_t g[3] = {op_round_up((size_t)ow, l[0]), op_round_up((size_t)oh, l[1]), (size_t)n};
  return NNCL_LAUNCH(c->ctx, s->k, "grid_sample_2d", 3, g, l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->in[1].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(ch), NNCL_ARG(h),
                     NNCL_ARG(w), NNCL_ARG(oh), NNCL_ARG(ow), NNCL_ARG(n), NNCL_ARG(s->mode),
                     NNCL_ARG(s->pad), NNCL_ARG(s->align));
}

static void cost(const struct op_call *c, struct op_cost *o) {
  const double taps[3] = {1, 4, 16};
  const char *m = op_attr_str(c, "mode", "bilinear");
  int k = !strcmp(m, "nearest") ? 0 : (!strcmp(m, "bicubic") || !strcmp(m, "cubic")) ? 2 : 1;
  double ny = (double)nncl_shape_numel(&c->out[0].shape);
  o->flops = 2.0 * taps[k] * ny;
  o->bytes = 4.0 * (ny * (1.0 + taps[k]) + (double)nncl_shape_numel(&c->in[1].shape));
}

const struct op_def op_grid_sample = {.min_in = 2,
                                      .max_in = 2,
                                      .min_out = 1,
                                      .max_out = 1,
                                      .infer = infer,
                                      .plan = plan,
                                      .enqueue = enqueue,
                                      .release = op_release_state,
                                      .cost = cost};
