/* expand_tile.c: Expand (broadcast to a shape) and Tile (repeat). Expand is a strided copy with
   zero strides on broadcast dims, which simplification merges (e.g. a per-channel [C, 1, 1]
   tensor expanded to [N, C, H, W] becomes a 2-D copy with a zero inner stride). Tile is the pad
   kernel in wrap mode: every output coordinate reads input coordinate mod input size. */
#include <stdlib.h>
#include <string.h>

#include "shape_copy.h"

/* ---- Expand ---- */
static nncl_status expand_shape(struct op_call *c, nncl_shape *out) {
  int64_t v[NNCL_MAX_RANK];
  int n = shape_input_ints(c, 1, v, NNCL_MAX_RANK);
  if (n == -1) return op_error(c, NNCL_ERR_UNSUPPORTED, "the shape input must be a constant");
  if (n < 0)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "the shape input must be int64 with at most %d values", NNCL_MAX_RANK);
  nncl_shape want = {.rank = n};
  memcpy(want.dims, v, (size_t)n * sizeof *v);
  return op_broadcast_shape(c, &c->in[0].shape, &want, out);
}

static void expand_copy(const struct op_call *c, struct shape_copy *s) {
  const nncl_shape *in = &c->in[0].shape, *out = &c->out[0].shape;
  int64_t st[NNCL_MAX_RANK];
  shape_strides(in, st);
  shape_copy_init(s, c->in[0].dtype, out);
  int lead = out->rank - in->rank;
  for (int d = 0; d < out->rank; d++) {
    int k = d - lead;
    s->is[d] = k < 0 || (in->dims[k] == 1 && out->dims[d] != 1) ? 0 : st[k];
  }
}

static nncl_status expand_infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "input"));
  c->out[0].dtype = c->in[0].dtype;
  NNCL_TRY(expand_shape(c, &c->out[0].shape));
  if (shape_host_eligible(c, 0, 1)) {
    nncl_array *a;
    NNCL_TRY(shape_host_alloc(c, 0, &a));
    if (a) {
      struct shape_copy s;
      expand_copy(c, &s);
      shape_copy_host(&s, c->in[0].host->data, a->data);
    }
  }
  return NNCL_OK;
}

static nncl_status expand_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct shape_copy *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "expand plan");
  c->state = s;
  expand_copy(c, s);
  return shape_copy_plan(c, s, nncl_shape_numel(&c->in[0].shape),
                         nncl_shape_numel(&c->out[0].shape));
}

static nncl_status copy_enqueue(struct op_call *c) {
  return shape_copy_enqueue(c, c->state, c->in[0].mem, c->out[0].mem);
}

const struct op_def op_expand = {.value_inputs = 1u << 1,
                                 .min_in = 2,
                                 .max_in = 2,
                                 .min_out = 1,
                                 .max_out = 1,
                                 .infer = expand_infer,
                                 .plan = expand_plan,
                                 .enqueue = copy_enqueue,
                                 .release = op_release_state};

/* ---- Tile ---- */
static nncl_status tile_infer(struct op_call *c) {
  NNCL_TRY(shape_check_dtype(c, c->in[0].dtype, "input"));
  const nncl_shape *in = &c->in[0].shape;
  int64_t rep[NNCL_MAX_RANK];
  int n = shape_input_ints(c, 1, rep, NNCL_MAX_RANK);
  if (n == -1) return op_error(c, NNCL_ERR_UNSUPPORTED, "the repeats input must be a constant");
  char sa[128];
  if (n != in->rank)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "repeats must be int64 with one entry per dim of input %s",
                    OP_SHAPE_STR(in, sa));
  c->out[0].dtype = c->in[0].dtype;
  c->out[0].shape = *in;
  for (int d = 0; d < in->rank; d++) {
    if (rep[d] < 0)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "repeats[%d] = %lld is negative", d,
                      (long long)rep[d]);
    if (!nncl__mul_ok(in->dims[d], rep[d], &c->out[0].shape.dims[d]))
      return op_error(c, NNCL_ERR_SHAPE, "input %s repeated %lld times along axis %d overflows",
                      OP_SHAPE_STR(in, sa), (long long)rep[d], d);
  }
  return NNCL_OK;
}

static nncl_status tile_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct shape_pad *p = calloc(1, sizeof *p);
  if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "tile plan");
  c->state = p;
  int64_t zero[NNCL_MAX_RANK] = {0};
  return shape_pad_plan(c, p, c->in[0].dtype, &c->in[0].shape, &c->out[0].shape, zero,
                        SHAPE_PAD_WRAP, 0);
}

static nncl_status tile_enqueue(struct op_call *c) {
  return shape_pad_enqueue(c, c->state, c->in[0].mem, c->out[0].mem);
}

const struct op_def op_tile = {.value_inputs = 1u << 1,
                               .min_in = 2,
                               .max_in = 2,
                               .min_out = 1,
                               .max_out = 1,
                               .infer = tile_infer,
                               .plan = tile_plan,
                               .enqueue = tile_enqueue,
                               .release = op_release_state};
