/* op_pool_grad.c: nncl.MaxPoolGrad (dY, X) and nncl.AveragePoolGrad (dY, X) -> dX on
   kernels/pool_grad.cl, for 1 or 2 spatial axes. Attributes are the forward pool's, resolved by
   its backward rule (grad_pool.c): kernel_shape, strides, pads, dilations, and
   count_include_pad for the average. Output sizes are read from dY, so ceil_mode needs no
   attribute. X is read only by the max (to find each window's winner again). */
#include <string.h>

#include "op_train.h"

struct pg_state {
  cl_kernel k;
  int max;
  int tiled;    /* max with windows tiling the input exactly: pool_grad_max_tiled */
  cl_int a[16]; /* IH IW OH OW kh kw sh sw ph pw dh dw peh pew include_pad */
  cl_uint n;
};

static nncl_status ints(const struct op_call *c, const char *name, int n, int64_t def,
                        int64_t *out) {
  const int64_t *v;
  int m = op_attr_ints(c, name, &v);
  for (int i = 0; i < n; i++) out[i] = m < 0 ? def : v[i];
  if (m >= 0 && m != n)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "attribute %s has %d values, expected %d", name,
                    m, n);
  return NNCL_OK;
}

static nncl_status geom(const struct op_call *c, struct pg_state *s) {
  const nncl_shape *dy = &c->in[0].shape, *x = &c->in[1].shape;
  char a[128], b[128];
  if (c->in[0].dtype != NNCL_FLOAT32 || c->in[1].dtype != NNCL_FLOAT32)
    return op_error(c, NNCL_ERR_DTYPE, "inputs must be float32");
  int sr = x->rank - 2;
  if ((sr != 1 && sr != 2) || dy->rank != x->rank || dy->dims[0] != x->dims[0] ||
      dy->dims[1] != x->dims[1])
    return op_error(c, NNCL_ERR_SHAPE, "dY %s and X %s must be [N, C, (H,) W] alike",
                    OP_SHAPE_STR(dy, a), OP_SHAPE_STR(x, b));
  NNCL_TRY(op_train_int32(c, x));
  int64_t k[2], st[2], d[2], p[4];
  NNCL_TRY(ints(c, "kernel_shape", sr, 1, k));
  NNCL_TRY(ints(c, "strides", sr, 1, st));
  NNCL_TRY(ints(c, "dilations", sr, 1, d));
  NNCL_TRY(ints(c, "pads", 2 * sr, 0, p));
  int h = sr == 2;
  cl_int v[15] = {h ? (cl_int)x->dims[2] : 1,
                  (cl_int)x->dims[x->rank - 1],
                  h ? (cl_int)dy->dims[2] : 1,
                  (cl_int)dy->dims[dy->rank - 1],
                  h ? (cl_int)k[0] : 1,
                  (cl_int)k[sr - 1],
                  h ? (cl_int)st[0] : 1,
                  (cl_int)st[sr - 1],
                  h ? (cl_int)p[0] : 0,
                  (cl_int)p[sr - 1],
                  h ? (cl_int)d[0] : 1,
                  (cl_int)d[sr - 1],
                  h ? (cl_int)p[2] : 0,
                  (cl_int)p[2 * sr - 1],
                  (cl_int)op_attr_int(c, "count_include_pad", 0)};
  for (int i = 4; i < 12; i++)
    if (v[i] < (i >= 8 && i < 10 ? 0 : 1))
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "bad window attributes");
  memcpy(s->a, v, sizeof v);
  s->n = (cl_uint)nncl_shape_numel(x);
  return NNCL_OK;
}

static nncl_status infer(struct op_call *c) {
  struct pg_state s;
  NNCL_TRY(geom(c, &s));
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = c->in[1].shape;
  return NNCL_OK;
}

static nncl_status plan(struct op_call *c, size_t *ws) {
  (void)ws;
  NNCL_TRY(op_train_state(c, sizeof(struct pg_state)));
  struct pg_state *s = c->state;
  NNCL_TRY(geom(c, s));
  s->max = strcmp(c->op_type, "nncl.MaxPoolGrad") == 0;
  const cl_int *a = s->a; /* IH IW OH OW kh kw sh sw ph pw dh dw peh pew */
  s->tiled = s->max && a[4] == a[6] && a[5] == a[7] && !a[8] && !a[9] && a[10] == 1 && a[11] == 1 &&
             !a[12] && !a[13] && a[0] == a[2] * a[4] && a[1] == a[3] * a[5];
  c->algo = s->tiled ? "tiled" : "gather";
  return nncl__kernel_get(c->ctx, "pool_grad", NULL,
                          s->tiled ? "pool_grad_max_tiled"
                          : s->max ? "pool_grad_max"
                                   : "pool_grad_avg",
                          &s->k);
}

static nncl_status enqueue(struct op_call *c) {
  const struct pg_state *s = c->state;
  const cl_int *a = s->a;
  size_t l = op_local_1d(c), g = s->n;
  if (!g) return NNCL_OK;
  if (s->tiled) {
    cl_uint windows = (cl_uint)(s->n / (cl_uint)(a[0] * a[1]) * (cl_uint)(a[2] * a[3]));
    g = windows;
    return NNCL_LAUNCH(c->ctx, s->k, "pool_grad_max_tiled", 1, &g, &l, NNCL_ARG(c->in[1].mem),
                       NNCL_ARG(c->in[0].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(windows),
                       NNCL_ARG(a[0]), NNCL_ARG(a[1]), NNCL_ARG(a[2]), NNCL_ARG(a[3]),
                       NNCL_ARG(a[4]), NNCL_ARG(a[5]));
  }
  if (s->max)
    return NNCL_LAUNCH(c->ctx, s->k, "pool_grad_max", 1, &g, &l, NNCL_ARG(c->in[1].mem),
                       NNCL_ARG(c->in[0].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(s->n),
                       NNCL_ARG(a[0]), NNCL_ARG(a[1]), NNCL_ARG(a[2]), NNCL_ARG(a[3]),
                       NNCL_ARG(a[4]), NNCL_ARG(a[5]), NNCL_ARG(a[6]), NNCL_ARG(a[7]),
                       NNCL_ARG(a[8]), NNCL_ARG(a[9]), NNCL_ARG(a[10]), NNCL_ARG(a[11]));
  return NNCL_LAUNCH(c->ctx, s->k, "pool_grad_avg", 1, &g, &l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->out[0].mem), NNCL_ARG(s->n), NNCL_ARG(a[0]), NNCL_ARG(a[1]),
                     NNCL_ARG(a[2]), NNCL_ARG(a[3]), NNCL_ARG(a[4]), NNCL_ARG(a[5]), NNCL_ARG(a[6]),
                     NNCL_ARG(a[7]), NNCL_ARG(a[8]), NNCL_ARG(a[9]), NNCL_ARG(a[10]),
                     NNCL_ARG(a[11]), NNCL_ARG(a[12]), NNCL_ARG(a[13]), NNCL_ARG(a[14]));
}

const struct op_def op_max_pool_grad = {.min_in = 2,
                                        .max_in = 2,
                                        .min_out = 1,
                                        .max_out = 1,
                                        .infer = infer,
                                        .plan = plan,
                                        .enqueue = enqueue,
                                        .release = op_release_state};
const struct op_def op_average_pool_grad = {.min_in = 2,
                                            .max_in = 2,
                                            .min_out = 1,
                                            .max_out = 1,
                                            .infer = infer,
                                            .plan = plan,
                                            .enqueue = enqueue,
                                            .release = op_release_state};
