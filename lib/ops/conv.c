/* conv.c: ONNX Conv and ConvTranspose: attributes, shape rules and validation, the per-layer
   algorithm choice (heuristic, NNCL_CONV_ALGO, NNCL_CONV_AUTOTUNE), and dispatch to one file per
   algorithm (conv_direct.c, conv_winograd.c, conv_gemm.c, conv_depthwise.c, conv_transpose.c). */
#include "conv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const algo_names[] = {
#define CONV_X(id, name) name,
    CONV_ALGO_LIST(CONV_X)
#undef CONV_X
};

const char *conv_algo_name(enum conv_algo a) {
  return a >= 0 && a < CONV_ALGO_COUNT ? algo_names[a] : "?";
}

/* Reads an ints attribute of `want` spatial elements into out (default def when absent). */
static nncl_status spatial_ints(const struct op_call *c, const char *name, int want, int64_t def,
                                int64_t *out) {
  const int64_t *v;
  int n = op_attr_ints(c, name, &v);
  for (int i = 0; i < want; i++) out[i] = def;
  if (n < 0) return NNCL_OK;
  if (n != want)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "attribute %s has %d values, expected %d", name,
                    n, want);
  for (int i = 0; i < want; i++) out[i] = v[i];
  return NNCL_OK;
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

nncl_status conv_geom_parse(const struct op_call *c, struct conv_geom *g) {
  memset(g, 0, sizeof *g);
  g->transpose = strcmp(c->op_type, "ConvTranspose") == 0;
  const struct op_tensor *x = &c->in[0], *w = &c->in[1];
  char sx[128], sw[128];
  /* float16 only as graph.precision's storage (pass_precision.c), never from a model */
  nncl_dtype ft = x->dtype == NNCL_FLOAT16 && !g->transpose ? NNCL_FLOAT16 : NNCL_FLOAT32;
  if (x->dtype != ft || w->dtype != ft || (op_has_input(c, 2) && c->in[2].dtype != ft))
    return op_error(c, NNCL_ERR_DTYPE, "inputs must be float32 (X %s, W %s)",
                    nncl_dtype_name(x->dtype), nncl_dtype_name(w->dtype));
  int rank = x->shape.rank;
  if (rank == 5)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "3-D convolution (input %s) is not supported",
                    OP_SHAPE_STR(&x->shape, sx));
  if ((rank != 3 && rank != 4) || w->shape.rank != rank)
    return op_error(c, NNCL_ERR_SHAPE, "input %s and weights %s must both be rank 3 or 4",
                    OP_SHAPE_STR(&x->shape, sx), OP_SHAPE_STR(&w->shape, sw));
  int nd = rank - 2; /* spatial dims */
  int64_t in_sp[2], k_sp[2];
  for (int i = 0; i < nd; i++) {
    in_sp[i] = x->shape.dims[2 + i];
    k_sp[i] = w->shape.dims[2 + i];
  }
  int64_t strides[2], dil[2], pads[4], ks[2], opad[2];
  NNCL_TRY(spatial_ints(c, "strides", nd, 1, strides));
  NNCL_TRY(spatial_ints(c, "dilations", nd, 1, dil));
  NNCL_TRY(spatial_ints(c, "pads", 2 * nd, 0, pads));
  NNCL_TRY(spatial_ints(c, "kernel_shape", nd, 0, ks));
  NNCL_TRY(spatial_ints(c, "output_padding", nd, 0, opad));
  g->groups = op_attr_int(c, "group", 1);
  for (int i = 0; i < nd; i++) {
    if (ks[i] && ks[i] != k_sp[i])
      return op_error(c, NNCL_ERR_SHAPE, "kernel_shape does not match weights %s",
                      OP_SHAPE_STR(&w->shape, sw));
    if (strides[i] < 1 || dil[i] < 1)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                      "strides and dilations must be >= 1 (got %lld, %lld)", (long long)strides[i],
                      (long long)dil[i]);
    if (pads[i] < 0 || pads[i + nd] < 0)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "negative pads (%lld, %lld) are not allowed",
                      (long long)pads[i], (long long)pads[i + nd]);
    if (opad[i] < 0) return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "negative output_padding");
    if (k_sp[i] < 1 || in_sp[i] < 1)
      return op_error(c, NNCL_ERR_SHAPE, "empty input %s or weights %s",
                      OP_SHAPE_STR(&x->shape, sx), OP_SHAPE_STR(&w->shape, sw));
  }
  if (g->groups < 1)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "group must be >= 1, got %lld",
                    (long long)g->groups);
  g->N = x->shape.dims[0];
  g->C = x->shape.dims[1];
  if (g->C % g->groups)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "input channels %lld are not divisible by group %lld", (long long)g->C,
                    (long long)g->groups);
  g->Cg = g->C / g->groups;
  if (!g->transpose) {
    g->K = w->shape.dims[0];
    if (w->shape.dims[1] != g->Cg || g->K % g->groups)
      return op_error(c, NNCL_ERR_SHAPE,
                      "weights %s do not fit input %s with group %lld (need [K, C/group, ...], K "
                      "divisible by group)",
                      OP_SHAPE_STR(&w->shape, sw), OP_SHAPE_STR(&x->shape, sx),
                      (long long)g->groups);
  } else {
    if (w->shape.dims[0] != g->C)
      return op_error(c, NNCL_ERR_SHAPE, "weights %s do not fit input %s (need [C, K/group, ...])",
                      OP_SHAPE_STR(&w->shape, sw), OP_SHAPE_STR(&x->shape, sx));
    g->K = w->shape.dims[1] * g->groups;
  }
  g->Kg = g->K / g->groups;
  const char *ap = op_attr_str(c, "auto_pad", "NOTSET");
  int same_upper = strcmp(ap, "SAME_UPPER") == 0, same_lower = strcmp(ap, "SAME_LOWER") == 0;
  int valid = strcmp(ap, "VALID") == 0;
  if (!same_upper && !same_lower && !valid && strcmp(ap, "NOTSET") != 0)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "unknown auto_pad '%s'", ap);
  int64_t out_sp[2];
  const int64_t *oshape;
  int n_oshape = g->transpose ? op_attr_ints(c, "output_shape", &oshape) : -1;
  for (int i = 0; i < nd; i++) {
    int64_t ext, s = strides[i], span;
    /* every size below comes from attributes: checked so a dilation of 2^62 is an error, not a
       wrapped extent (the padded input span bounds all the later sums) */
    if (!nncl__mul_ok(k_sp[i] - 1, dil[i], &ext) || !nncl__add_ok(ext, 1, &ext) ||
        !nncl__add_ok(in_sp[i], pads[i], &span) || !nncl__add_ok(span, pads[i + nd], &span) ||
        ext > NNCL__MAX_BYTES || span > NNCL__MAX_BYTES || s > NNCL__MAX_BYTES ||
        opad[i] > NNCL__MAX_BYTES ||
        (g->transpose && (!nncl__mul_ok(s, in_sp[i], &span) || span > NNCL__MAX_BYTES)))
      return op_error(c, NNCL_ERR_SHAPE,
                      "sizes along spatial axis %d overflow (input %s, weights %s, pads %lld+%lld, "
                      "stride %lld, dilation %lld)",
                      i, OP_SHAPE_STR(&x->shape, sx), OP_SHAPE_STR(&w->shape, sw),
                      (long long)pads[i], (long long)pads[i + nd], (long long)s, (long long)dil[i]);
    if (!g->transpose) {
      if (same_upper || same_lower) {
        int64_t o = ceil_div(in_sp[i], s);
        int64_t total = (o - 1) * s + ext - in_sp[i];
        if (total < 0) total = 0;
        pads[i] = same_upper ? total / 2 : total - total / 2;
        pads[i + nd] = total - pads[i];
      } else if (valid) {
        pads[i] = pads[i + nd] = 0;
      }
      span = in_sp[i] + pads[i] + pads[i + nd] - ext;
      out_sp[i] = span < 0 ? 0 : span / s + 1;
    } else {
      int64_t want = -1;
      if (n_oshape >= nd)
        want = oshape[n_oshape - nd + i];
      else if (same_upper || same_lower)
        want = in_sp[i] * s;
      if (valid) pads[i] = pads[i + nd] = 0;
      if (want >= 0) {
        /* a negative total (output_shape beyond the natural size) pads the end with outputs
           no input reaches, as the ONNX reference does (floor division) */
        int64_t total = s * (in_sp[i] - 1) + opad[i] + ext - want;
        int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
        if (same_upper) {
          pads[i] = half;
          pads[i + nd] = total - half;
        } else {
          pads[i] = total - half;
          pads[i + nd] = half;
        }
      }
      if (opad[i] >= s && opad[i] >= dil[i])
        return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                        "output_padding %lld must be smaller than stride or dilation",
                        (long long)opad[i]);
      out_sp[i] = s * (in_sp[i] - 1) + opad[i] + ext - pads[i] - pads[i + nd];
    }
    if (out_sp[i] < 1)
      return op_error(c, NNCL_ERR_SHAPE,
                      "output size %lld < 1 along spatial axis %d (input %s, weights %s, pads "
                      "%lld+%lld, stride %lld, dilation %lld)",
                      (long long)out_sp[i], i, OP_SHAPE_STR(&x->shape, sx),
                      OP_SHAPE_STR(&w->shape, sw), (long long)pads[i], (long long)pads[i + nd],
                      (long long)s, (long long)dil[i]);
  }
  if (nd == 1) {
    g->H = g->OH = g->R = 1;
    g->sh = g->dh = 1;
    g->pt = g->pb = 0;
    g->W = in_sp[0];
    g->S = k_sp[0];
    g->OW = out_sp[0];
    g->sw = strides[0];
    g->dw = dil[0];
    g->pl = pads[0];
    g->pr = pads[1];
  } else {
    g->H = in_sp[0];
    g->W = in_sp[1];
    g->R = k_sp[0];
    g->S = k_sp[1];
    g->OH = out_sp[0];
    g->OW = out_sp[1];
    g->sh = strides[0];
    g->sw = strides[1];
    g->dh = dil[0];
    g->dw = dil[1];
    g->pt = pads[0];
    g->pl = pads[1];
    g->pb = pads[2];
    g->pr = pads[3];
  }
  if (op_has_input(c, 2)) {
    const nncl_shape *b = &c->in[2].shape;
    if (b->rank != 1 || b->dims[0] != g->K)
      return op_error(c, NNCL_ERR_SHAPE, "bias %s must be [%lld]", OP_SHAPE_STR(b, sx),
                      (long long)g->K);
    g->has_bias = 1;
  }
  return NNCL_OK;
}

static nncl_status infer(struct op_call *c) {
  struct conv_geom g;
  if (c->in[0].dtype == NNCL_FLOAT16)
    return op_error(c, NNCL_ERR_DTYPE, "inputs must be float32 (X float16)");
  NNCL_TRY(conv_geom_parse(c, &g));
  c->out[0].dtype = NNCL_FLOAT32;
  nncl_shape o = {.rank = c->in[0].shape.rank};
  o.dims[0] = g.N;
  o.dims[1] = g.K;
  if (o.rank == 3) {
    o.dims[2] = g.OW;
  } else {
    o.dims[2] = g.OH;
    o.dims[3] = g.OW;
  }
  c->out[0].shape = o;
  if (c->epi.has_residual && c->res) {
    char a[128], b[128];
    if (c->res->dtype != NNCL_FLOAT32 || c->res->shape.rank != o.rank ||
        nncl_shape_numel(&c->res->shape) != nncl_shape_numel(&o))
      return op_error(c, NNCL_ERR_SHAPE, "residual %s must match the output %s",
                      OP_SHAPE_STR(&c->res->shape, a), OP_SHAPE_STR(&o, b));
  }
  return NNCL_OK;
}

/* ---- shared helpers ---- */

const float *conv_host_weights(const struct op_call *c) {
  const nncl_array *h = c->in[1].host;
  return h && h->dtype == NNCL_FLOAT32 ? h->data : NULL;
}

nncl_status conv_upload(const struct op_call *c, const float *data, size_t n, const char *what,
                        cl_mem *out) {
  return nncl__buffer_from_host(c->ctx, data, (n ? n : 1) * sizeof(float), what, out);
}

nncl_status conv_adopt(const struct op_call *c, float *data, size_t n, const char *what,
                       cl_mem *out) {
  int in_place = strcmp(op_option(c, NNCL__OPT_GRAPH_HOST_WEIGHTS), "1") == 0;
  return nncl__buffer_adopt(c->ctx, data, (n ? n : 1) * sizeof(float), in_place, what, out);
}

nncl_status conv_kernel(const struct op_call *c, const char *source, const char *opts,
                        const char *name, cl_kernel *out) {
  nncl_status st = nncl__kernel_get(c->ctx, source, opts, name, out);
  if (st != NNCL_OK) {
    char prev[1024];
    snprintf(prev, sizeof prev, "%s", nncl_context_last_error(c->ctx));
    return op_error(c, st, "kernel %s: %s", name, prev);
  }
  return NNCL_OK;
}

int64_t conv_chunk(int64_t n, size_t per_image) {
  if (per_image == 0) return n;
  int64_t k = (int64_t)(CONV_WORKSPACE_CAP / per_image);
  if (k < 1) k = 1;
  return k < n ? k : n;
}

cl_mem conv_bias_mem(const struct op_call *c) {
  return op_has_input(c, 2) ? c->in[2].mem : c->in[1].mem;
}

cl_mem conv_res_mem(const struct op_call *c) {
  return c->epi.has_residual && c->res ? c->res->mem : c->in[0].mem;
}

void conv_register_tile(const struct op_call *c, int *mr, int *nv) {
  /* A GPU work-item gets 4 x 16 so its accumulators stay in registers. A CPU work-item is one
     vectorised loop: the tile must fit the vector register file with room for the position
     vectors and a broadcast weight. 16-wide devices (AVX-512, 32 registers) hold 8 x 32 (16
     accumulators); 8-wide ones (AVX2, 16 registers) hold 6 x 16 (12 accumulators + 2 + 1).
     Measured on PoCL haswell (2-vCPU EPYC, GFLOP per CPU-second, roof 96): 8 x 32 spilled and
     ran the stem at 24 and layer3.0 3x3/2 at 24; 6 x 16 ran them at 48 and 44. */
  cl_uint w = 0;
  if (clGetDeviceInfo(c->ctx->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof w, &w, NULL) !=
      CL_SUCCESS)
    w = 0;
  if (c->ctx->info.is_gpu) {
    *mr = 4;
    *nv = 1;
  } else if (w >= 16) {
    *mr = 8;
    *nv = 2;
  } else {
    *mr = 6;
    *nv = 1;
  }
}

/* ---- choice ---- */

int conv_eligible(const struct op_call *c, const struct conv_geom *g, enum conv_algo a) {
  int constw = conv_host_weights(c) != NULL;
  if (g->transpose) return (a == CONVT_DIRECT && constw) || a == CONVT_GEMM;
  switch (a) {
  case CONV_DIRECT: return 1;
  case CONV_IM2COL: return 1;
  case CONV_WINOGRAD2:
  case CONV_WINOGRAD4:
    return constw && g->R == 3 && g->S == 3 && g->sh == 1 && g->sw == 1 && g->dh == 1 &&
           g->dw == 1 && g->groups == 1;
  case CONV_GEMM:
    return g->R == 1 && g->S == 1 && g->pt == 0 && g->pl == 0 && g->pb == 0 && g->pr == 0;
  case CONV_DEPTHWISE: return g->groups == g->C && g->Cg == 1 && g->groups > 1;
  case CONV_NARROW: return g->Cg <= 4;
  default: return 0;
  }
}

/* Shape and device rules measured on PoCL (CPU) and chosen for GPUs from the CLBlast figures. */
static enum conv_algo heuristic(const struct op_call *c, const struct conv_geom *g) {
  int gpu = c->ctx->info.is_gpu;
  /* the gather recomputes every tap's address per output; the product form wins on a CPU too */
  if (g->transpose) return CONVT_GEMM;
  if (conv_eligible(c, g, CONV_DEPTHWISE)) return CONV_DEPTHWISE;
  if (conv_eligible(c, g, CONV_WINOGRAD4) && g->Cg >= 16 && g->Kg >= 16) {
    /* F(4x4) needs enough tiles; tiny maps waste most of a 6x6 tile */
    if (g->OH >= 8 && g->OW >= 8) return CONV_WINOGRAD4;
    return CONV_WINOGRAD2;
  }
  if (gpu) {
    if (conv_eligible(c, g, CONV_GEMM)) return CONV_GEMM;
    if (g->Kg >= 32) return CONV_IM2COL;
  }
  /* CPU 1x1: the packed GEMM beat direct (GFLOP per CPU-second on PoCL haswell) on every strided
     one (ResNet's downsamples, 28-48 against 22-24), on small maps (1024->256 @14: 63 against 27)
     and on few output channels (96->24 @56: 47 against 33); direct kept large maps with many
     (64->256 @56: 42 against 29), where the GEMM's per-element bias store costs most */
  if (conv_eligible(c, g, CONV_GEMM) && (g->OH * g->OW <= 1024 || g->Kg < 64)) return CONV_GEMM;
  return CONV_DIRECT;
}

/* The option conv.algo forces an algorithm where it is eligible; "auto" or an ineligible choice
   leaves it to the heuristic or the autotuner. */
static enum conv_algo forced(const struct op_call *c, const struct conv_geom *g) {
  const char *e = op_option(c, NNCL__OPT_CONV_ALGO);
  for (int a = 0; a < CONV_ALGO_COUNT; a++) {
    if ((a >= CONVT_DIRECT) != g->transpose) continue;
    if (strcmp(e, algo_names[a]) == 0 && conv_eligible(c, g, (enum conv_algo)a))
      return (enum conv_algo)a;
  }
  return CONV_ALGO_COUNT;
}

static nncl_status plan_algo(struct op_call *c, struct conv_state *s) {
  switch (s->algo) {
  case CONV_DIRECT: return conv_direct_plan(c, s);
  case CONV_DEPTHWISE:
  case CONV_NARROW: return conv_depthwise_plan(c, s);
  case CONV_WINOGRAD2:
  case CONV_WINOGRAD4: return conv_winograd_plan(c, s);
  case CONV_GEMM:
  case CONV_IM2COL: return conv_gemm_plan(c, s);
  case CONVT_DIRECT:
  case CONVT_GEMM: return conv_transpose_plan(c, s);
  default: return op_error(c, NNCL_ERR_STATE, "no algorithm chosen");
  }
}

static nncl_status enqueue(struct op_call *c) {
  struct conv_state *s = c->state;
  if (!s) return op_error(c, NNCL_ERR_STATE, "enqueue before plan");
  switch (s->algo) {
  case CONV_DIRECT: return conv_direct_enqueue(c, s);
  case CONV_DEPTHWISE:
  case CONV_NARROW: return conv_depthwise_enqueue(c, s);
  case CONV_WINOGRAD2:
  case CONV_WINOGRAD4: return conv_winograd_enqueue(c, s);
  case CONV_GEMM:
  case CONV_IM2COL: return conv_gemm_enqueue(c, s);
  case CONVT_DIRECT:
  case CONVT_GEMM: return conv_transpose_enqueue(c, s);
  default: return op_error(c, NNCL_ERR_STATE, "no algorithm chosen");
  }
}

static void state_free(struct conv_state *s) {
  if (!s) return;
  nncl__buffer_release(s->w);
  nncl__buffer_release(s->taps);
  for (int64_t gg = 0; s->a_packed && gg < s->g.groups; gg++) nncl__buffer_release(s->a_packed[gg]);
  free(s->a_packed);
  free(s);
}

static void release(struct op_call *c) {
  state_free(c->state);
  c->state = NULL;
}

/* Plans one algorithm into a fresh state. */
static nncl_status plan_one(struct op_call *c, const struct conv_geom *g, enum conv_algo a,
                            struct conv_state **out) {
  struct conv_state *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "conv state");
  s->g = *g;
  s->algo = a;
  /* GPUs run Winograd's products in CLBlast; conv.blas 0|1 overrides (tests use it to cover the
     GPU path on PoCL) */
  const char *blas = op_option(c, NNCL__OPT_CONV_BLAS);
  s->use_blas = strcmp(blas, "auto") == 0 ? c->ctx->info.is_gpu : strcmp(blas, "1") == 0;
  nncl_status st = plan_algo(c, s);
  if (st != NNCL_OK) {
    state_free(s);
    return st;
  }
  *out = s;
  return NNCL_OK;
}

/* Times every eligible algorithm on scratch buffers and returns the fastest. Runs in plan only,
   so the buffers made here never touch the hot path. */
static nncl_status autotune(struct op_call *c, const struct conv_geom *g, enum conv_algo *best) {
  char key[512];
  conv_autotune_key(c, g, key, sizeof key);
  int known = conv_autotune_lookup(c->ctx, key);
  if (known >= 0 && known < CONV_ALGO_COUNT && conv_eligible(c, g, (enum conv_algo)known)) {
    *best = (enum conv_algo)known;
    return NNCL_OK;
  }
  if (c->ctx->plan_dry) { /* a dry plan times nothing */
    *best = heuristic(c, g);
    return NNCL_OK;
  }
  /* scratch tensors standing in for the executor's: inputs, output, residual, workspace */
  struct op_tensor save_in[3], save_out = c->out[0], save_res = {0};
  int n_in = c->n_in < 3 ? c->n_in : 3;
  memcpy(save_in, c->in, (size_t)n_in * sizeof *save_in);
  if (c->res) save_res = *c->res;
  cl_mem bufs[5] = {0};
  nncl_status st = NNCL_OK;
  for (int i = 0; i < n_in && st == NNCL_OK; i++)
    if (op_has_input(c, i))
      st = nncl__buffer_create(c->ctx, (size_t)nncl_shape_numel(&c->in[i].shape) * 4 + 4,
                               "conv autotune input", &bufs[i]);
  if (st == NNCL_OK)
    st = nncl__buffer_create(c->ctx, (size_t)nncl_shape_numel(&c->out[0].shape) * 4 + 4,
                             "conv autotune output", &bufs[3]);
  for (int i = 0; i < n_in; i++) {
    if (op_has_input(c, i) && bufs[i]) {
      c->in[i].mem = bufs[i];
      if (st == NNCL_OK)
        st = nncl__buffer_fill_zero(c->ctx, bufs[i], 0,
                                    (size_t)nncl_shape_numel(&c->in[i].shape) * 4);
    }
  }
  c->out[0].mem = bufs[3];
  if (c->res) c->res->mem = bufs[3];
  double best_t = 1e30;
  enum conv_algo winner = heuristic(c, g);
  int lo = g->transpose ? CONVT_DIRECT : 0, hi = g->transpose ? CONV_ALGO_COUNT : CONVT_DIRECT;
  for (int a = lo; a < hi && st == NNCL_OK; a++) {
    if (!conv_eligible(c, g, (enum conv_algo)a)) continue;
    struct conv_state *s = NULL;
    if (plan_one(c, g, (enum conv_algo)a, &s) != NNCL_OK) continue; /* e.g. too large here */
    cl_mem ws = NULL;
    nncl_status ts = s->ws_bytes
                         ? nncl__buffer_create(c->ctx, s->ws_bytes, "conv autotune workspace", &ws)
                         : NNCL_OK;
    c->workspace = ws;
    c->state = s;
    double t = 0;
    if (ts == NNCL_OK) ts = enqueue(c); /* warm-up */
    if (ts == NNCL_OK) ts = nncl_context_finish(c->ctx);
    if (ts == NNCL_OK) {
      double t0 = nncl__now_ns();
      int runs = 0;
      while (ts == NNCL_OK && (runs < 2 || nncl__now_ns() - t0 < 2e7) && runs < 20) {
        ts = enqueue(c);
        runs++;
      }
      if (ts == NNCL_OK) ts = nncl_context_finish(c->ctx);
      t = (nncl__now_ns() - t0) / runs;
    }
    if (ts == NNCL_OK && t < best_t) {
      best_t = t;
      winner = (enum conv_algo)a;
    }
    c->state = NULL;
    c->workspace = NULL;
    nncl__buffer_release(ws);
    state_free(s);
  }
  memcpy(c->in, save_in, (size_t)n_in * sizeof *save_in);
  c->out[0] = save_out;
  if (c->res) *c->res = save_res;
  for (int i = 0; i < 5; i++) nncl__buffer_release(bufs[i]);
  if (st != NNCL_OK) return st;
  conv_autotune_store(c->ctx, key, winner);
  *best = winner;
  return NNCL_OK;
}

static nncl_status plan(struct op_call *c, size_t *workspace_bytes) {
  struct conv_geom g;
  NNCL_TRY(conv_geom_parse(c, &g));
  enum conv_algo a = forced(c, &g);
  /* float16 storage: only the direct kernels read and write half (common/storage.cl) */
  if (c->in[0].dtype == NNCL_FLOAT16) a = CONV_DIRECT;
  if (a == CONV_ALGO_COUNT) {
    if (strcmp(op_option(c, NNCL__OPT_CONV_AUTOTUNE), "1") == 0)
      NNCL_TRY(autotune(c, &g, &a));
    else
      a = heuristic(c, &g);
  }
  struct conv_state *s;
  NNCL_TRY(plan_one(c, &g, a, &s));
  c->state = s;
  c->algo = conv_algo_name(a);
  *workspace_bytes = s->ws_bytes;
  return NNCL_OK;
}

static void cost(const struct op_call *c, struct op_cost *out) {
  struct conv_geom g;
  if (conv_geom_parse(c, &g) != NNCL_OK) {
    out->flops = out->bytes = 0;
    return;
  }
  double spatial = g.transpose ? (double)g.H * (double)g.W : (double)g.OH * (double)g.OW;
  double macs = (double)g.N * (double)(g.transpose ? g.C : g.K) *
                (double)(g.transpose ? g.Kg : g.Cg) * (double)g.R * (double)g.S * spatial;
  out->flops = 2.0 * macs;
  out->bytes = 4.0 * ((double)g.N * g.C * g.H * g.W + (double)g.K * g.Cg * g.R * g.S +
                      (double)g.N * g.K * g.OH * g.OW * (c->epi.has_residual ? 2 : 1));
}

const struct op_def op_conv = {.min_in = 2,
                               .max_in = 3,
                               .min_out = 1,
                               .max_out = 1,
                               .flags = OP_EPILOGUE | OP_HALF_STORAGE,
                               .infer = infer,
                               .plan = plan,
                               .enqueue = enqueue,
                               .release = release,
                               .cost = cost,
                               .backward = nncl__grad_conv};
const struct op_def op_conv_transpose = {.min_in = 2,
                                         .max_in = 3,
                                         .min_out = 1,
                                         .max_out = 1,
                                         .flags = OP_EPILOGUE,
                                         .infer = infer,
                                         .plan = plan,
                                         .enqueue = enqueue,
                                         .release = release,
                                         .cost = cost,
                                         .backward = nncl__grad_conv};
