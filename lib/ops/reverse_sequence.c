/* reverse_sequence.c: ReverseSequence (opset 10+) on kernels/reverse_sequence.cl: reverses the
   first sequence_lens[b] steps along time_axis for each batch entry; batch_axis and time_axis are
   0 and 1 in either order. Constant lengths are checked against the time dim at plan time. */
#include <stdio.h>
#include <stdlib.h>

#include "shape_copy.h"

struct revseq_plan {
  cl_kernel k;
  cl_uint inner, d1, d0;
  cl_int bt;
};

static nncl_status axes(struct op_call *c, int *batch, int *time) {
  int64_t b = op_attr_int(c, "batch_axis", 1), t = op_attr_int(c, "time_axis", 0);
  if (!((b == 0 && t == 1) || (b == 1 && t == 0)))
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "batch_axis %lld and time_axis %lld must be 0 and 1", (long long)b,
                    (long long)t);
  *batch = (int)b;
  *time = (int)t;
  return NNCL_OK;
}

static nncl_status revseq_infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "input"));
  int b, t;
  NNCL_TRY(axes(c, &b, &t));
  const nncl_shape *x = &c->in[0].shape, *l = &c->in[1].shape;
  char sa[128], sb[128];
  if (c->in[1].dtype != NNCL_INT64 && c->in[1].dtype != NNCL_INT32)
    return op_error(c, NNCL_ERR_DTYPE, "sequence_lens must be int32 or int64, not %s",
                    nncl_dtype_name(c->in[1].dtype));
  if (x->rank < 2 || l->rank != 1 || l->dims[0] != x->dims[b])
    return op_error(c, NNCL_ERR_SHAPE,
                    "sequence_lens %s must be [batch] for input %s (batch_axis %d)",
                    OP_SHAPE_STR(l, sa), OP_SHAPE_STR(x, sb), b);
  const nncl_array *h = c->in[1].host;
  for (int64_t i = 0; h && i < l->dims[0]; i++) {
    int64_t v =
        h->dtype == NNCL_INT64 ? ((const int64_t *)h->data)[i] : ((const int32_t *)h->data)[i];
    if (v < 0 || v > x->dims[t])
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                      "sequence_lens[%lld] = %lld is outside [0, %lld]", (long long)i, (long long)v,
                      (long long)x->dims[t]);
  }
  c->out[0].dtype = c->in[0].dtype;
  c->out[0].shape = *x;
  return NNCL_OK;
}

static nncl_status revseq_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct revseq_plan *p = calloc(1, sizeof *p);
  if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "ReverseSequence plan");
  c->state = p;
  int b, t;
  NNCL_TRY(axes(c, &b, &t));
  const nncl_shape *x = &c->in[0].shape;
  if (nncl_shape_numel(x) >= INT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "tensors of 2^31 elements or more are not supported");
  int64_t inner = 1;
  for (int i = 2; i < x->rank; i++) inner *= x->dims[i];
  p->inner = (cl_uint)inner;
  p->d0 = (cl_uint)x->dims[0];
  p->d1 = (cl_uint)x->dims[1];
  p->bt = b == 0;
  char name[64];
  snprintf(name, sizeof name, "reverse_sequence_%s_%s",
           shape_esize_suffix(nncl_dtype_size(c->in[0].dtype)),
           c->in[1].dtype == NNCL_INT64 ? "i64" : "i32");
  return nncl__kernel_get(c->ctx, "reverse_sequence", NULL, name, &p->k);
}

static nncl_status revseq_enqueue(struct op_call *c) {
  const struct revseq_plan *p = c->state;
  if (!p->inner || !p->d0 || !p->d1) return NNCL_OK;
  size_t local[3], global[3] = {p->inner, p->d1, p->d0};
  shape_local_2d(c, p->inner, p->d1, local);
  return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 3, global, local, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->in[1].mem), NNCL_ARG(c->out[0].mem), NNCL_ARG(p->inner),
                     NNCL_ARG(p->d1), NNCL_ARG(p->d0), NNCL_ARG(p->bt));
}

const struct op_def op_reverse_sequence = {.min_in = 2,
                                           .max_in = 2,
                                           .min_out = 1,
                                           .max_out = 1,
                                           .infer = revseq_infer,
                                           .plan = revseq_plan,
                                           .enqueue = revseq_enqueue,
                                           .release = op_release_state};
