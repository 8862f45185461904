/* resize.c: Resize (opsets 10, 11, 13), Upsample (opsets 7, 9), DepthToSpace and SpaceToDepth on
   float32 tensors of rank 1..4 (kernels/resize.cl).

   Resize semantics follow the ONNX reference: every output coordinate maps to a source coordinate
   through coordinate_transformation_mode (in double precision, with the scale as given, or
   out/in when sizes are given), then nearest rounding or linear/cubic taps with edge clamping.
   Those per-axis tables depend only on shapes and attributes, so plan builds and uploads them
   once and enqueue is a single gather launch. Linear and cubic interpolate the last two axes; the
   leading axes must map one to one. Opset 10 Resize and Upsample use the asymmetric transform and
   onnxruntime's nearest rounding for them (floor when upsampling, ceil when downsampling). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

enum rs_mode { RS_NEAREST, RS_LINEAR, RS_CUBIC };
enum rs_coord {
  RS_HALF_PIXEL,
  RS_ASYMMETRIC,
  RS_ALIGN_CORNERS,
  RS_PYTORCH_HALF_PIXEL,
  RS_TF_HALF_PIXEL_NN,
  RS_TF_CROP
};
enum rs_round { RS_PREFER_FLOOR, RS_PREFER_CEIL, RS_FLOOR, RS_CEIL, RS_SIMPLE };

/* Everything the tables are built from, resolved in infer and again in plan. */
struct rs_params {
  enum rs_mode mode;
  enum rs_coord coord;
  enum rs_round round;
  float cubic_a, extrapolation;
  int exclude_outside;
  int rank;
  int64_t in[4], out[4]; /* padded to 4-D with leading 1s */
  double scale[4];
  double roi_lo[4], roi_hi[4];
};

extern const struct op_def op_upsample;

struct rs_state {
  struct rs_params p;
  cl_kernel kernel;
  cl_mem itab, wtab;
  cl_int taps;
};

static const char *const coord_names[] = {"half_pixel",           "asymmetric",
                                          "align_corners",        "pytorch_half_pixel",
                                          "tf_half_pixel_for_nn", "tf_crop_and_resize"};
static const char *const round_names[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                          "ceil"};

static int lookup(const char *s, const char *const *names, int n) {
  for (int i = 0; i < n; i++)
    if (!strcmp(s, names[i])) return i;
  return -1;
}

/* Float values of constant input i: count, or -1 when absent/empty (*v NULL) and -2 when not a
   constant float tensor. */
static int const_floats(const struct op_call *c, int i, const float **v) {
  *v = NULL;
  if (!op_has_input(c, i) || nncl_shape_numel(&c->in[i].shape) == 0) return -1;
  if (c->in[i].dtype != NNCL_FLOAT32 || !c->in[i].host) return -2;
  *v = c->in[i].host->data;
  return (int)nncl_shape_numel(&c->in[i].shape);
}

/* Reads mode and transform attributes, scales/sizes/roi, and computes the output shape. */
static nncl_status resize_params(const struct op_call *c, struct rs_params *p) {
  const nncl_shape *xs = &c->in[0].shape;
  const int upsample = c->def == &op_upsample;
  const int legacy = upsample || c->opset < 11; /* Upsample and Resize-10 */
  char b[128];
  memset(p, 0, sizeof *p);
  if (c->in[0].dtype != NNCL_FLOAT32)
    return op_error(c, NNCL_ERR_DTYPE, "input X must be float32, got %s",
                    nncl_dtype_name(c->in[0].dtype));
  if (xs->rank < 1 || xs->rank > 4)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "input X %s: only ranks 1 to 4 are supported",
                    OP_SHAPE_STR(xs, b));
  p->rank = xs->rank;

  const char *mode = op_attr_str(c, "mode", "nearest");
  if (!strcmp(mode, "nearest"))
    p->mode = RS_NEAREST;
  else if (!strcmp(mode, "linear") || (upsample && !strcmp(mode, "bilinear")))
    p->mode = RS_LINEAR;
  else if (!strcmp(mode, "cubic") && !legacy)
    p->mode = RS_CUBIC;
  else
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "mode '%s' is not supported", mode);
  if (legacy) {
    p->coord = RS_ASYMMETRIC;
    p->round = RS_SIMPLE;
  } else {
    const char *cm = op_attr_str(c, "coordinate_transformation_mode", "half_pixel");
    int ci = lookup(cm, coord_names, 6);
    if (ci < 0)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                      "coordinate_transformation_mode '%s' is unknown", cm);
    p->coord = (enum rs_coord)ci;
    const char *nm = op_attr_str(c, "nearest_mode", "round_prefer_floor");
    int ni = lookup(nm, round_names, 4);
    if (ni < 0) return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "nearest_mode '%s' is unknown", nm);
    p->round = (enum rs_round)ni;
  }
  p->cubic_a = op_attr_float(c, "cubic_coeff_a", -0.75f);
  p->exclude_outside = op_attr_int(c, "exclude_outside", 0) != 0;
  p->extrapolation = op_attr_float(c, "extrapolation_value", 0.0f);

  /* Where scales, sizes and roi come from. */
  const float *scales = NULL, *roi = NULL;
  const int64_t *sizes = NULL;
  int ns = -1, nz = -1, nr = -1;
  if (upsample && c->opset < 9) {
    ns = op_attr_floats(c, "scales", &scales);
    if (ns < 0) return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "attribute scales is required");
  } else if (legacy) {
    ns = const_floats(c, 1, &scales);
    if (ns == -2)
      return op_error(c, NNCL_ERR_UNSUPPORTED, "scales must be a constant float tensor");
  } else {
    nr = const_floats(c, 1, &roi);
    ns = const_floats(c, 2, &scales);
    if (ns == -2)
      return op_error(c, NNCL_ERR_UNSUPPORTED, "scales must be a constant float tensor");
    if (op_has_input(c, 3) && nncl_shape_numel(&c->in[3].shape) > 0) {
      nz = op_input_ints(c, 3, &sizes);
      if (nz < 0) return op_error(c, NNCL_ERR_UNSUPPORTED, "sizes must be a constant int64 tensor");
    }
    if (p->coord == RS_TF_CROP && nr == -2)
      return op_error(c, NNCL_ERR_UNSUPPORTED, "roi must be a constant float tensor");
  }
  if ((ns >= 0) == (nz >= 0))
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "exactly one of scales and sizes must be given (scales: %d values, sizes: %d)",
                    ns < 0 ? 0 : ns, nz < 0 ? 0 : nz);
  if ((ns >= 0 && ns != xs->rank) || (nz >= 0 && nz != xs->rank))
    return op_error(c, NNCL_ERR_SHAPE, "%s has %d values, input X %s has rank %d",
                    ns >= 0 ? "scales" : "sizes", ns >= 0 ? ns : nz, OP_SHAPE_STR(xs, b), xs->rank);
  if (p->coord == RS_TF_CROP && nr != 2 * xs->rank)
    return op_error(c, NNCL_ERR_SHAPE,
                    "tf_crop_and_resize needs a constant roi of %d values, got %d", 2 * xs->rank,
                    nr < 0 ? 0 : nr);

  const int pad = 4 - xs->rank;
  for (int a = 0; a < 4; a++) {
    p->in[a] = p->out[a] = 1;
    p->scale[a] = 1.0;
    p->roi_lo[a] = 0.0;
    p->roi_hi[a] = 1.0;
  }
  for (int i = 0; i < xs->rank; i++) {
    const int a = pad + i;
    const int64_t n = xs->dims[i];
    p->in[a] = n;
    if (sizes) {
      if (sizes[i] < 0)
        return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "sizes[%d] = %lld is negative", i,
                        (long long)sizes[i]);
      p->out[a] = sizes[i];
      p->scale[a] = n > 0 ? (double)sizes[i] / (double)n : 1.0;
    } else {
      if (!(scales[i] > 0.0f) || !isfinite(scales[i]))
        return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "scales[%d] = %g must be positive", i,
                        (double)scales[i]);
      p->scale[a] = (double)scales[i];
      p->out[a] = (int64_t)floor((double)scales[i] * (double)n);
    }
    /* roi only matters for tf_crop_and_resize, whose length was checked above; other modes ignore
       it whatever its length, as the spec says and onnxruntime does */
    if (roi && p->coord == RS_TF_CROP) {
      p->roi_lo[a] = roi[i];
      p->roi_hi[a] = roi[i + xs->rank];
    }
    if (p->out[a] > INT32_MAX || n > INT32_MAX)
      return op_error(c, NNCL_ERR_UNSUPPORTED, "input X %s: axis %d is too large",
                      OP_SHAPE_STR(xs, b), i);
  }
  return NNCL_OK;
}

/* Source coordinate of output position o along axis a (ONNX reference formulas, double). */
static double source_coord(const struct rs_params *p, int a, int64_t o, int *outside) {
  const double n = (double)p->in[a], s = p->scale[a], len = s * n; /* reference's output length */
  double x;
  *outside = 0;
  switch (p->coord) {
  case RS_ALIGN_CORNERS: x = len == 1.0 ? 0.0 : (double)o * (n - 1) / (len - 1); break;
  case RS_ASYMMETRIC: x = (double)o / s; break;
  case RS_PYTORCH_HALF_PIXEL: x = len > 1.0 ? ((double)o + 0.5) / s - 0.5 : 0.0; break;
  case RS_TF_HALF_PIXEL_NN: x = ((double)o + 0.5) / s; break;
  case RS_TF_CROP:
    x = len == 1.0 ? (p->roi_hi[a] - p->roi_lo[a]) * (n - 1) / 2
                   : (double)o * (p->roi_hi[a] - p->roi_lo[a]) * (n - 1) / (len - 1);
    x += p->roi_lo[a] * (n - 1);
    *outside = x < 0 || x > n - 1;
    break;
  default: x = ((double)o + 0.5) / s - 0.5; break;
  }
  return x;
}

static int64_t clamp_idx(int64_t i, int64_t n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

static int64_t nearest_idx(const struct rs_params *p, int a, double x) {
  const double f = floor(x), r = x - f;
  int64_t i;
  if (r == 0.0)
    i = (int64_t)f;
  else
    switch (p->round) {
    case RS_PREFER_FLOOR: i = (int64_t)f + (r > 0.5); break;
    case RS_PREFER_CEIL: i = (int64_t)f + (r >= 0.5); break;
    case RS_FLOOR: i = (int64_t)f; break;
    case RS_SIMPLE: i = (int64_t)f + (p->scale[a] < 1.0); break;
    default: i = (int64_t)f + 1; break;
    }
  return clamp_idx(i, p->in[a]);
}

/* taps source indices and weights of output position o along axis a; returns 0 when the
   coordinate extrapolates (tf_crop_and_resize). */
static int interp_taps(const struct rs_params *p, int a, int64_t o, int taps, cl_int *idx,
                       float *w) {
  int outside;
  const double x = source_coord(p, a, o, &outside), f = floor(x), r = x - f;
  if (outside) return 0;
  double cw[4], sum = 0;
  int64_t first = (int64_t)f - (taps == 4 ? 1 : 0);
  if (taps == 2) {
    cw[0] = 1 - r;
    cw[1] = r;
  } else {
    const double A = p->cubic_a, t0 = r + 1, t1 = r, t2 = 1 - r, t3 = 2 - r;
    cw[0] = ((A * t0 - 5 * A) * t0 + 8 * A) * t0 - 4 * A;
    cw[1] = ((A + 2) * t1 - (A + 3)) * t1 * t1 + 1;
    cw[2] = ((A + 2) * t2 - (A + 3)) * t2 * t2 + 1;
    cw[3] = ((A * t3 - 5 * A) * t3 + 8 * A) * t3 - 4 * A;
  }
  for (int t = 0; t < taps; t++) {
    const int64_t i = first + t;
    if (p->exclude_outside && (i < 0 || i >= p->in[a])) cw[t] = 0;
    sum += cw[t];
  }
  for (int t = 0; t < taps; t++) {
    idx[t] = (cl_int)clamp_idx(first + t, p->in[a]);
    w[t] = (float)(p->exclude_outside && sum != 0 ? cw[t] / sum : cw[t]);
  }
  return 1;
}

static nncl_status infer_resize(struct op_call *c) {
  struct rs_params p;
  NNCL_TRY(resize_params(c, &p));
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = c->in[0].shape;
  for (int i = 0; i < p.rank; i++) c->out[0].shape.dims[i] = p.out[4 - p.rank + i];
  if (p.mode != RS_NEAREST) {
    /* Leading axes must map one to one for the 2-D interpolation kernel. */
    for (int a = 0; a < 2; a++) {
      cl_int idx[4];
      float w[4];
      const int taps = p.mode == RS_CUBIC ? 4 : 2;
      int ok = p.out[a] == p.in[a];
      for (int64_t o = 0; ok && o < p.out[a]; o++) {
        float on_o = 0.0f;
        ok = interp_taps(&p, a, o, taps, idx, w);
        for (int t = 0; t < taps; t++) on_o += idx[t] == o ? w[t] : 0.0f;
        ok = ok && fabsf(on_o - 1.0f) <= 1e-6f;
      }
      if (!ok) {
        char b[128], b2[128];
        return op_error(
            c, NNCL_ERR_UNSUPPORTED,
            "%s interpolation of %s to %s changes axis %d; only the last two axes may be "
            "interpolated",
            p.mode == RS_CUBIC ? "cubic" : "linear", OP_SHAPE_STR(&c->in[0].shape, b),
            OP_SHAPE_STR(&c->out[0].shape, b2), a - (4 - p.rank));
      }
    }
  }
  return NNCL_OK;
}

static nncl_status plan_resize(struct op_call *c, size_t *ws) {
  (void)ws;
  struct rs_state *st = calloc(1, sizeof *st);
  if (!st) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "resize state");
  c->state = st;
  struct rs_params *p = &st->p;
  NNCL_TRY(resize_params(c, p));
  size_t n_idx, n_w = 0;
  if (p->mode == RS_NEAREST) {
    n_idx = (size_t)(p->out[0] + p->out[1] + p->out[2] + p->out[3]);
    c->algo = "nearest_table";
  } else {
    st->taps = p->mode == RS_CUBIC ? 4 : 2;
    n_idx = n_w = (size_t)(p->out[2] + p->out[3]) * (size_t)st->taps;
    c->algo = p->mode == RS_CUBIC ? "cubic_table" : "linear_table";
  }
  cl_int *itab = malloc((n_idx + 1) * sizeof *itab);
  float *wtab = malloc((n_w + 1) * sizeof *wtab);
  nncl_status s = NNCL_OK;
  if (!itab || !wtab) s = op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "resize tables");
  if (s == NNCL_OK && p->mode == RS_NEAREST) {
    size_t k = 0;
    for (int a = 0; a < 4; a++)
      for (int64_t o = 0; o < p->out[a]; o++) {
        int outside;
        double x = source_coord(p, a, o, &outside);
        itab[k++] = outside ? -1 : (cl_int)nearest_idx(p, a, x);
      }
  } else if (s == NNCL_OK) {
    size_t k = 0;
    for (int a = 2; a < 4; a++)
      for (int64_t o = 0; o < p->out[a]; o++, k += (size_t)st->taps)
        if (!interp_taps(p, a, o, st->taps, itab + k, wtab + k)) itab[k] = -1;
  }
  if (s == NNCL_OK)
    s = nncl__buffer_from_host(c->ctx, itab, (n_idx + 1) * sizeof *itab, "resize index table",
                               &st->itab);
  if (s == NNCL_OK && n_w)
    s = nncl__buffer_from_host(c->ctx, wtab, n_w * sizeof *wtab, "resize weight table", &st->wtab);
  free(itab);
  free(wtab);
  NNCL_TRY(s);
  return nncl__kernel_get(c->ctx, "resize", NULL,
                          p->mode == RS_NEAREST ? "resize_nearest" : "resize_interp", &st->kernel);
}

/* 3-D launch (last axis, next-to-last axis, planes) for the gather kernels. */
static void grid_3d(const struct op_call *c, size_t cols, size_t rows, size_t planes, size_t *g,
                    size_t *l) {
  const size_t lmax = op_local_1d(c);
  size_t l0 = 1, l1 = 1;
  while (l0 < cols && l0 < 32 && l0 < lmax) l0 *= 2;
  while (l1 < rows && l0 * l1 * 2 <= lmax) l1 *= 2;
  l[0] = l0;
  l[1] = l1;
  l[2] = 1;
  g[0] = op_round_up(cols, l0);
  g[1] = op_round_up(rows, l1);
  g[2] = planes;
}

static nncl_status enqueue_resize(struct op_call *c) {
  struct rs_state *st = c->state;
  const struct rs_params *p = &st->p;
  if (nncl_shape_numel(&c->out[0].shape) == 0) return NNCL_OK;
  size_t g[3], l[3];
  cl_uint planes = (cl_uint)(p->out[0] * p->out[1]);
  if (p->mode == RS_NEAREST) {
    cl_int4 in = {{(cl_int)p->in[0], (cl_int)p->in[1], (cl_int)p->in[2], (cl_int)p->in[3]}};
    cl_int4 out = {{(cl_int)p->out[0], (cl_int)p->out[1], (cl_int)p->out[2], (cl_int)p->out[3]}};
    grid_3d(c, (size_t)p->out[3], (size_t)p->out[2], planes, g, l);
    return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 3, g, l, NNCL_ARG(c->in[0].mem),
                       NNCL_ARG(c->out[0].mem), NNCL_ARG(st->itab), NNCL_ARG(in), NNCL_ARG(out),
                       NNCL_ARG(planes), NNCL_ARG(p->extrapolation));
  }
  cl_int ih = (cl_int)p->in[2], iw = (cl_int)p->in[3], oh = (cl_int)p->out[2],
         ow = (cl_int)p->out[3];
  grid_3d(c, (size_t)ow, (size_t)oh, planes, g, l);
  return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 3, g, l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->out[0].mem), NNCL_ARG(st->itab), NNCL_ARG(st->wtab), NNCL_ARG(ih),
                     NNCL_ARG(iw), NNCL_ARG(oh), NNCL_ARG(ow), NNCL_ARG(planes), NNCL_ARG(st->taps),
                     NNCL_ARG(p->extrapolation));
}

static void release_resize(struct op_call *c) {
  struct rs_state *st = c->state;
  if (st) {
    nncl__buffer_release(st->itab);
    nncl__buffer_release(st->wtab);
  }
  free(st);
  c->state = NULL;
}

static void cost_resize(const struct op_call *c, struct op_cost *out) {
  const struct rs_state *st = c->state;
  const double o = (double)nncl_shape_numel(&c->out[0].shape);
  const double taps = st && st->taps ? (double)st->taps * st->taps : 1;
  out->flops = 2 * o * taps + (st && st->taps ? 2 * o : 0);
  out->bytes = 4.0 * ((double)nncl_shape_numel(&c->in[0].shape) + o);
}

const struct op_def op_resize = {.value_inputs = (1u << 1) | (1u << 2) | (1u << 3),
                                 .min_in = 1,
                                 .max_in = 4,
                                 .min_out = 1,
                                 .max_out = 1,
                                 .infer = infer_resize,
                                 .plan = plan_resize,
                                 .enqueue = enqueue_resize,
                                 .release = release_resize,
                                 .cost = cost_resize};
const struct op_def op_upsample = {.value_inputs = 1u << 1,
                                   .min_in = 1,
                                   .max_in = 2,
                                   .min_out = 1,
                                   .max_out = 1,
                                   .infer = infer_resize,
                                   .plan = plan_resize,
                                   .enqueue = enqueue_resize,
                                   .release = release_resize,
                                   .cost = cost_resize};

/* ---- DepthToSpace / SpaceToDepth ---- */
struct d2s_state {
  cl_kernel kernel;
  cl_int crd, b;
  int to_space;
};

static nncl_status infer_block(struct op_call *c, int to_space) {
  const nncl_shape *xs = &c->in[0].shape;
  char b[128];
  if (c->in[0].dtype != NNCL_FLOAT32)
    return op_error(c, NNCL_ERR_DTYPE, "input must be float32, got %s",
                    nncl_dtype_name(c->in[0].dtype));
  if (xs->rank != 4)
    return op_error(c, NNCL_ERR_SHAPE, "input %s must be 4-D [N, C, H, W]", OP_SHAPE_STR(xs, b));
  const struct nncl__attr *bs = op_attr(c, "blocksize");
  if (!bs || bs->type != ATTR_INT || bs->i < 1 || bs->i > 4096)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "attribute blocksize is required and must be a positive int");
  const int64_t k = bs->i;
  if (to_space) {
    const char *mode = op_attr_str(c, "mode", "DCR");
    if (strcmp(mode, "DCR") && strcmp(mode, "CRD"))
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "mode '%s' is not DCR or CRD", mode);
    if (xs->dims[1] % (k * k))
      return op_error(c, NNCL_ERR_SHAPE, "channels of %s are not divisible by blocksize^2 = %lld",
                      OP_SHAPE_STR(xs, b), (long long)(k * k));
  } else if (xs->dims[2] % k || xs->dims[3] % k) {
    return op_error(c, NNCL_ERR_SHAPE, "height and width of %s are not divisible by blocksize %lld",
                    OP_SHAPE_STR(xs, b), (long long)k);
  }
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = *xs;
  nncl_shape *o = &c->out[0].shape;
  if (to_space) {
    o->dims[1] /= k * k;
    o->dims[2] *= k;
    o->dims[3] *= k;
  } else {
    o->dims[1] *= k * k;
    o->dims[2] /= k;
    o->dims[3] /= k;
  }
  if (nncl_shape_numel(o) > UINT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "output %s is too large", OP_SHAPE_STR(o, b));
  return NNCL_OK;
}
static nncl_status infer_d2s(struct op_call *c) { return infer_block(c, 1); }
static nncl_status infer_s2d(struct op_call *c) { return infer_block(c, 0); }

static nncl_status plan_block(struct op_call *c, int to_space) {
  struct d2s_state *st = calloc(1, sizeof *st);
  if (!st) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "block state");
  c->state = st;
  st->to_space = to_space;
  st->b = (cl_int)op_attr_int(c, "blocksize", 1);
  st->crd = to_space && !strcmp(op_attr_str(c, "mode", "DCR"), "CRD");
  c->algo = "gather";
  return nncl__kernel_get(c->ctx, "resize", NULL,
                          to_space ? "resize_depth_to_space" : "resize_space_to_depth",
                          &st->kernel);
}
static nncl_status plan_d2s(struct op_call *c, size_t *ws) {
  (void)ws;
  return plan_block(c, 1);
}
static nncl_status plan_s2d(struct op_call *c, size_t *ws) {
  (void)ws;
  return plan_block(c, 0);
}

static nncl_status enqueue_block(struct op_call *c) {
  struct d2s_state *st = c->state;
  const nncl_shape *o = &c->out[0].shape;
  if (nncl_shape_numel(o) == 0) return NNCL_OK;
  const int to_space = st->to_space;
  cl_int C = (cl_int)(to_space ? o->dims[1] : c->in[0].shape.dims[1]);
  cl_int H = (cl_int)o->dims[2], W = (cl_int)o->dims[3];
  cl_uint planes = (cl_uint)(o->dims[0] * o->dims[1]);
  size_t g[3], l[3];
  grid_3d(c, (size_t)W, (size_t)H, planes, g, l);
  if (to_space)
    return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 3, g, l, NNCL_ARG(c->in[0].mem),
                       NNCL_ARG(c->out[0].mem), NNCL_ARG(C), NNCL_ARG(H), NNCL_ARG(W),
                       NNCL_ARG(st->b), NNCL_ARG(planes), NNCL_ARG(st->crd));
  return NNCL_LAUNCH(c->ctx, st->kernel, c->op_type, 3, g, l, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->out[0].mem), NNCL_ARG(C), NNCL_ARG(H), NNCL_ARG(W),
                     NNCL_ARG(st->b), NNCL_ARG(planes));
}

const struct op_def op_depth_to_space = {.min_in = 1,
                                         .max_in = 1,
                                         .min_out = 1,
                                         .max_out = 1,
                                         .infer = infer_d2s,
                                         .plan = plan_d2s,
                                         .enqueue = enqueue_block,
                                         .release = op_release_state};
const struct op_def op_space_to_depth = {.min_in = 1,
                                         .max_in = 1,
                                         .min_out = 1,
                                         .max_out = 1,
                                         .infer = infer_s2d,
                                         .plan = plan_s2d,
                                         .enqueue = enqueue_block,
                                         .release = op_release_state};
