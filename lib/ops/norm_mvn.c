/* norm_mvn.c: MeanVarianceNormalization (a per-group mean / deviation over any set of axes) on
   float32 tensors (kernels/norm.cl, norm_mvn): one work-group per kept coordinate, the reduced
   axes merged where contiguous so the usual case walks one strided run. */
#include <stdint.h>
#include <stdlib.h>

#include "collapse.h"

struct mvn_plan {
  cl_kernel k;
  cl_mem meta; /* SPLIT_* layout of the kept and reduced dims */
  cl_uint nred, nkeep;
  size_t local;
};

static void release(struct op_call *c) {
  struct mvn_plan *p = c->state;
  if (p) nncl__buffer_release(p->meta);
  free(p);
  c->state = NULL;
}

static nncl_status mvn_axes(const struct op_call *c, unsigned *mask) {
  static const int64_t def[] = {0, 2, 3};
  const int64_t *ax = def;
  int n = op_attr_ints(c, "axes", &ax);
  if (n < 0) {
    ax = def;
    n = 3;
  }
  *mask = 0;
  for (int i = 0; i < n; i++) {
    int a;
    NNCL_TRY(op_axis(c, ax[i], c->in[0].shape.rank, "axes", &a));
    *mask |= 1u << a;
  }
  return NNCL_OK;
}

static nncl_status mvn_infer(struct op_call *c) {
  if (c->in[0].dtype != NNCL_FLOAT32)
    return op_error(c, NNCL_ERR_DTYPE, "input type %s is not supported (float32)",
                    nncl_dtype_name(c->in[0].dtype));
  unsigned mask;
  NNCL_TRY(mvn_axes(c, &mask));
  c->out[0] = (struct op_tensor){.dtype = NNCL_FLOAT32, .shape = c->in[0].shape};
  return NNCL_OK;
}

static nncl_status mvn_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct mvn_plan *p = calloc(1, sizeof *p);
  if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s plan", c->op_type);
  c->state = p;
  const nncl_shape *s = &c->in[0].shape;
  if (nncl_shape_numel(s) >= INT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "tensors of 2^31 elements or more are not supported");
  unsigned mask;
  NNCL_TRY(mvn_axes(c, &mask));
  int red[NNCL_MAX_RANK];
  for (int d = 0; d < s->rank; d++) red[d] = (mask >> d) & 1;
  struct collapse cl;
  collapse_reduction(s, red, &cl);
  cl_uint meta[SPLIT_LEN];
  size_t kept, reduced;
  collapse_split(&cl, meta, &kept, &reduced);
  p->nkeep = (cl_uint)kept;
  p->nred = (cl_uint)reduced;
  if (nncl_shape_numel(s) == 0) p->nkeep = 0;
  size_t l = op_local_1d(c), pow2 = 1;
  while (pow2 * 2 <= l) pow2 *= 2;
  while (pow2 > 1 && pow2 / 2 >= p->nred) pow2 /= 2; /* small groups for short lines */
  p->local = pow2;
  NNCL_TRY(nncl__buffer_from_host(c->ctx, meta, sizeof meta, "MeanVarianceNormalization dims",
                                  &p->meta));
  return nncl__kernel_get(c->ctx, "norm", NULL, "norm_mvn", &p->k);
}

static nncl_status mvn_enqueue(struct op_call *c) {
  const struct mvn_plan *p = c->state;
  if (!p->nkeep) return NNCL_OK;
  size_t g = (size_t)p->nkeep * p->local, l = p->local;
  return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 1, &g, &l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->out[0].mem), NNCL_ARG(p->nred), NNCL_ARG(p->meta),
                     NNCL_LOCAL(p->local * sizeof(float)));
}

const struct op_def op_mvn = {.min_in = 1,
                              .max_in = 1,
                              .min_out = 1,
                              .max_out = 1,
                              .infer = mvn_infer,
                              .plan = mvn_plan,
                              .enqueue = mvn_enqueue,
                              .release = release};
