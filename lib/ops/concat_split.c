/* concat_split.c: Concat and Split. Each input of a Concat (each output of a Split) is one
   strided copy into (out of) its slab of the joined tensor; after simplification that is a
   2-D copy [outer, run] with a contiguous, widened run, i.e. coalesced on both sides. One launch
   per part: OpenCL cannot pass a variable number of buffers to one kernel, and a gather kernel
   over a pointer table would need device-side buffer addresses (OpenCL 2.0 SVM). */
#include <stdlib.h>
#include <string.h>

#include "shape_copy.h"

struct parts {
  int n;
  struct shape_copy s[];
};

static nncl_status parts_alloc(struct op_call *c, int n, struct parts **out) {
  struct parts *p = calloc(1, sizeof *p + (size_t)n * sizeof p->s[0]);
  if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s plan", c->op_type);
  p->n = n;
  c->state = p;
  *out = p;
  return NNCL_OK;
}

/* The copy between a part of shape `part` at `offset` along `axis` of the joined tensor `whole`.
   into_whole: Concat (part -> whole); else Split (whole -> part). */
static void part_copy(struct shape_copy *s, nncl_dtype dt, const nncl_shape *part,
                      const nncl_shape *whole, int axis, int64_t offset, int into_whole) {
  int64_t ps[NNCL_MAX_RANK], ws[NNCL_MAX_RANK];
  shape_strides(part, ps);
  shape_strides(whole, ws);
  shape_copy_init(s, dt, part);
  memcpy(into_whole ? s->is : s->os, ps, sizeof ps);
  memcpy(into_whole ? s->os : s->is, ws, sizeof ws);
  if (into_whole)
    s->ooff = offset * ws[axis];
  else
    s->ioff = offset * ws[axis];
}

/* ---- Concat ---- */
static nncl_status concat_axis(struct op_call *c, int *axis) {
  const struct nncl__attr *a = op_attr(c, "axis");
  if (!a) return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "the axis attribute is required");
  return op_axis(c, op_attr_int(c, "axis", 0), c->in[0].shape.rank, "axis", axis);
}

static nncl_status concat_infer(struct op_call *c) {
  const nncl_shape *s0 = &c->in[0].shape;
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "input 0"));
  int axis;
  NNCL_TRY(concat_axis(c, &axis));
  nncl_shape out = *s0;
  out.dims[axis] = 0;
  char sa[128], sb[128];
  for (int i = 0; i < c->n_in; i++) {
    const nncl_shape *si = &c->in[i].shape;
    if (c->in[i].dtype != c->in[0].dtype)
      return op_error(c, NNCL_ERR_DTYPE, "input %d is %s, input 0 is %s", i,
                      nncl_dtype_name(c->in[i].dtype), nncl_dtype_name(c->in[0].dtype));
    int ok = si->rank == s0->rank;
    for (int d = 0; ok && d < s0->rank; d++) ok = d == axis || si->dims[d] == s0->dims[d];
    if (!ok)
      return op_error(c, NNCL_ERR_SHAPE, "input %d %s does not match input 0 %s outside axis %d", i,
                      OP_SHAPE_STR(si, sa), OP_SHAPE_STR(s0, sb), axis);
    if (!nncl__add_ok(out.dims[axis], si->dims[axis], &out.dims[axis]))
      return op_error(c, NNCL_ERR_SHAPE, "the sum along axis %d overflows at input %d %s", axis, i,
                      OP_SHAPE_STR(si, sa));
  }
  c->out[0].dtype = c->in[0].dtype;
  c->out[0].shape = out;
  if (shape_host_eligible(c, 0, c->n_in)) {
    nncl_array *a;
    NNCL_TRY(shape_host_alloc(c, 0, &a));
    int64_t off = 0;
    for (int i = 0; a && i < c->n_in; i++) {
      struct shape_copy s;
      part_copy(&s, c->in[0].dtype, &c->in[i].shape, &out, axis, off, 1);
      shape_copy_host(&s, c->in[i].host->data, a->data);
      off += c->in[i].shape.dims[axis];
    }
  }
  return NNCL_OK;
}

static nncl_status concat_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct parts *p = NULL;
  NNCL_TRY(parts_alloc(c, c->n_in, &p));
  int axis;
  NNCL_TRY(concat_axis(c, &axis));
  const nncl_shape *out = &c->out[0].shape;
  int64_t off = 0, on = nncl_shape_numel(out);
  for (int i = 0; i < c->n_in; i++) {
    part_copy(&p->s[i], c->in[i].dtype, &c->in[i].shape, out, axis, off, 1);
    NNCL_TRY(shape_copy_plan(c, &p->s[i], nncl_shape_numel(&c->in[i].shape), on));
    off += c->in[i].shape.dims[axis];
  }
  return NNCL_OK;
}

static nncl_status concat_enqueue(struct op_call *c) {
  const struct parts *p = c->state;
  for (int i = 0; i < p->n; i++)
    NNCL_TRY(shape_copy_enqueue(c, &p->s[i], c->in[i].mem, c->out[0].mem));
  return NNCL_OK;
}

const struct op_def op_concat = {.min_in = 1,
                                 .max_in = 4096,
                                 .min_out = 1,
                                 .max_out = 1,
                                 .infer = concat_infer,
                                 .plan = concat_plan,
                                 .enqueue = concat_enqueue,
                                 .release = op_release_state,
                                 .backward = nncl__grad_concat};

/* ---- Split ---- */
/* Lengths of the parts: the split attribute before opset 13, the (constant) input from 13 on,
   else equal parts. */
static nncl_status split_lengths(struct op_call *c, int axis, int64_t *len) {
  const nncl_shape *in = &c->in[0].shape;
  int64_t dim = in->dims[axis];
  const int64_t *a;
  int n = op_attr_ints(c, "split", &a);
  char sa[128];
  if (n >= 0) {
    if (n != c->n_out)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "split has %d entries for %d outputs", n,
                      c->n_out);
    memcpy(len, a, (size_t)n * sizeof *len);
  } else if (op_has_input(c, 1)) {
    n = shape_input_ints(c, 1, len, c->n_out);
    if (n == -1) return op_error(c, NNCL_ERR_UNSUPPORTED, "the split input must be a constant");
    if (n != c->n_out)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                      "the split input must hold one int64 length per output (%d outputs)",
                      c->n_out);
  } else {
    if (dim % c->n_out)
      return op_error(c, NNCL_ERR_SHAPE,
                      "axis %d of input %s (size %lld) does not split into %d equal parts", axis,
                      OP_SHAPE_STR(in, sa), (long long)dim, c->n_out);
    for (int i = 0; i < c->n_out; i++) len[i] = dim / c->n_out;
    return NNCL_OK;
  }
  int64_t sum = 0;
  for (int i = 0; i < c->n_out; i++) {
    if (len[i] < 0)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "split length %d is negative (%lld)", i,
                      (long long)len[i]);
    sum += len[i];
  }
  if (sum != dim)
    return op_error(c, NNCL_ERR_SHAPE, "split lengths add up to %lld, axis %d of input %s is %lld",
                    (long long)sum, axis, OP_SHAPE_STR(in, sa), (long long)dim);
  return NNCL_OK;
}

static nncl_status split_infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "input"));
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", 0), c->in[0].shape.rank, "axis", &axis));
  int64_t *len = malloc((size_t)c->n_out * sizeof *len);
  if (!len) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "split lengths");
  nncl_status st = split_lengths(c, axis, len);
  int64_t off = 0;
  for (int i = 0; st == NNCL_OK && i < c->n_out; i++) {
    c->out[i].dtype = c->in[0].dtype;
    c->out[i].shape = c->in[0].shape;
    c->out[i].shape.dims[axis] = len[i];
    if (shape_host_eligible(c, i, 1)) {
      nncl_array *a;
      st = shape_host_alloc(c, i, &a);
      if (a) {
        struct shape_copy s;
        part_copy(&s, c->in[0].dtype, &c->out[i].shape, &c->in[0].shape, axis, off, 0);
        shape_copy_host(&s, c->in[0].host->data, a->data);
      }
    }
    off += len[i];
  }
  free(len);
  return st;
}

static nncl_status split_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct parts *p = NULL;
  NNCL_TRY(parts_alloc(c, c->n_out, &p));
  int axis;
  NNCL_TRY(op_axis(c, op_attr_int(c, "axis", 0), c->in[0].shape.rank, "axis", &axis));
  const nncl_shape *in = &c->in[0].shape;
  int64_t off = 0, n = nncl_shape_numel(in);
  for (int i = 0; i < c->n_out; i++) {
    part_copy(&p->s[i], c->in[0].dtype, &c->out[i].shape, in, axis, off, 0);
    NNCL_TRY(shape_copy_plan(c, &p->s[i], n, nncl_shape_numel(&c->out[i].shape)));
    off += c->out[i].shape.dims[axis];
  }
  return NNCL_OK;
}

static nncl_status split_enqueue(struct op_call *c) {
  const struct parts *p = c->state;
  for (int i = 0; i < p->n; i++)
    NNCL_TRY(shape_copy_enqueue(c, &p->s[i], c->in[0].mem, c->out[i].mem));
  return NNCL_OK;
}

const struct op_def op_split = {.value_inputs = 1u << 1,
                                .min_in = 1,
                                .max_in = 2,
                                .min_out = 1,
                                .max_out = 4096,
                                .infer = split_infer,
                                .plan = split_plan,
                                .enqueue = split_enqueue,
                                .release = op_release_state,
                                .backward = nncl__grad_split};
