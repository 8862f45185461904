/* conv_winograd.c: Winograd F(2x2,3x3) and F(4x4,3x3) (kernels/conv_winograd.cl). The filter
   transform U = G g G^T runs once at plan time on the host (float, vectorised) and stays on the
   device with the node. Enqueue: input transform, ALPHA^2 batched products (own register-tiled
   kernel, or CLBlast strided-batched SGEMM on GPUs), output transform with the fused epilogue.
   The batch is processed in chunks so the workspace stays bounded. */
#include <stdio.h>
#include <stdlib.h>

#include "conv.h"

/* G of F(2x2,3x3) and F(4x4,3x3), in float: U = G g G^T in float differs from the double
   product by a few ulps, far inside the F(4x4) tolerance (the transformed input's rounding
   dominates), and the float loops below vectorise. */
static const float g2[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
static const float g4[6][3] = {{1.0f / 4, 0, 0},
                               {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                               {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                               {1.0f / 24, 1.0f / 12, 1.0f / 6},
                               {1.0f / 24, -1.0f / 12, 1.0f / 6},
                               {0, 0, 1}};

/* Floats of the transformed filter. */
static size_t filter_floats(const struct conv_state *s) {
  return (size_t)(s->alpha * s->alpha) * (size_t)(s->use_blas ? s->g.K : s->kpad) * (size_t)s->g.C;
}

/* Filters transformed per block of FB output channels at once: the innermost loops run over the
   block, so they vectorise (the scalar double version was ~130 ms of ResNet-18's plan). */
#define FB 8

/* U = G g G^T for output channels [k0, k0 + FB) of input channel c (rows past K are zero):
   u[xi][m] for tap xi of ALPHA^2 and block row m. */
static void transform_block(const struct conv_geom *g, const float *w, const float (*G)[3], int a,
                            int64_t k0, int64_t c, float u[36][FB]) {
  float f[9][FB], t[6][3][FB];
  for (int e = 0; e < 9; e++)
    for (int m = 0; m < FB; m++) f[e][m] = k0 + m < g->K ? w[((k0 + m) * g->C + c) * 9 + e] : 0.0f;
  for (int i = 0; i < a; i++)
    for (int j = 0; j < 3; j++)
      for (int m = 0; m < FB; m++)
        t[i][j][m] = G[i][0] * f[j][m] + G[i][1] * f[3 + j][m] + G[i][2] * f[6 + j][m];
  for (int i = 0; i < a; i++)
    for (int j = 0; j < a; j++)
      for (int m = 0; m < FB; m++)
        u[i * a + j][m] = t[i][0][m] * G[j][0] + t[i][1][m] * G[j][1] + t[i][2][m] * G[j][2];
}

/* U for every (k, c), laid out for the gemm stage: packed [xi][KT][C][MR] for the own kernel,
   row-major [xi][K][C] for CLBlast. */
static float *filter_transform(const struct conv_state *s, const float *w, size_t *n_out) {
  const struct conv_geom *g = &s->g;
  int a = s->alpha, a2 = a * a;
  const int64_t mr = s->mr, krows = s->use_blas ? g->K : s->kpad;
  size_t n = filter_floats(s);
  float *u = nncl__host_alloc(n * sizeof *u); /* given to the device by conv_adopt */
  if (!u) return NULL;
  const float(*G)[3] = s->wm == 2 ? g2 : g4;
  size_t xstride = (size_t)krows * (size_t)g->C;
  float r[36][FB];
  for (int64_t k0 = 0; k0 < krows; k0 += FB)
    for (int64_t c = 0; c < g->C; c++) {
      transform_block(g, w, G, a, k0, c, r);
      int64_t mend = krows - k0 < FB ? krows - k0 : FB;
      size_t at[FB]; /* where row k0 + m of tap 0 goes; tap xi adds xi * xstride */
      for (int64_t m = 0; m < mend; m++) {
        size_t k = (size_t)(k0 + m);
        at[m] = s->use_blas
                    ? k * (size_t)g->C + (size_t)c
                    : ((k / (size_t)mr) * (size_t)g->C + (size_t)c) * (size_t)mr + k % (size_t)mr;
      }
      for (int xi = 0; xi < a2; xi++)
        for (int64_t m = 0; m < mend; m++) u[(size_t)xi * xstride + at[m]] = r[xi][m];
    }
  *n_out = n;
  return u;
}

nncl_status conv_winograd_plan(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  const float *w = conv_host_weights(c);
  if (!w) return op_error(c, NNCL_ERR_STATE, "Winograd needs constant weights");
  s->wm = s->algo == CONV_WINOGRAD2 ? 2 : 4;
  s->alpha = s->wm + 2;
  s->th = (g->OH + s->wm - 1) / s->wm;
  s->tw = (g->OW + s->wm - 1) / s->wm;
  int nv_max;
  conv_register_tile(c, &s->mr, &nv_max);
  s->kpad = (g->K + s->mr - 1) / s->mr * s->mr;
  char epi[256];
  op_epilogue_options(&c->epi, epi, sizeof epi);
  /* the gemm's column tile is 16*nv tiles: narrow it when padding to 32 would waste much of a
     small layer (e.g. a 7x7 map has 16 F(2x2) tiles) */
  size_t tiles1 = (size_t)(s->th * s->tw) * (size_t)g->N;
  s->nv = op_round_up(tiles1, 32) * 100 > op_round_up(tiles1, 16) * 115 ? 1 : nv_max;
  snprintf(s->opts, sizeof s->opts, "-DWM=%d -DMR=%d -DNV=%d -DHAS_BIAS=%d %s", s->wm, s->mr, s->nv,
           g->has_bias, epi);
  NNCL_TRY(conv_kernel(c, "conv_winograd", s->opts, "conv_winograd_input", &s->k[0]));
  if (!s->use_blas)
    NNCL_TRY(conv_kernel(c, "conv_winograd", s->opts, "conv_winograd_gemm", &s->k[1]));
  NNCL_TRY(conv_kernel(c, "conv_winograd", s->opts, "conv_winograd_output", &s->k[2]));
  if (c->ctx->plan_dry) {
    /* a dry plan never runs: the filter's place is all it needs, not the transform (in double on
       the host, most of a dry plan's time on ResNet-18) */
    NNCL_TRY(nncl__buffer_create(c->ctx, filter_floats(s) * sizeof(float),
                                 "Winograd filter transform", &s->w));
  } else {
    size_t n;
    float *u = filter_transform(s, w, &n);
    if (!u) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "Winograd filter transform");
    NNCL_TRY(conv_adopt(c, u, n, "Winograd filter transform", &s->w));
  }
  size_t a2 = (size_t)s->alpha * (size_t)s->alpha, tiles = (size_t)(s->th * s->tw);
  size_t per_image = a2 * tiles * (size_t)(g->C + s->kpad) * 4;
  s->chunk = conv_chunk(g->N, per_image);
  s->ppad = (int64_t)op_round_up((size_t)s->chunk * tiles, 16 * (size_t)s->nv);
  size_t v_bytes = a2 * (size_t)g->C * (size_t)s->ppad * 4;
  s->ws_off[1] = op_round_up(v_bytes, 256);
  s->ws_bytes = s->ws_off[1] + a2 * (size_t)s->kpad * (size_t)s->ppad * 4;
  return NNCL_OK;
}

nncl_status conv_winograd_enqueue(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  int64_t tiles = s->th * s->tw;
  size_t a2 = (size_t)s->alpha * (size_t)s->alpha;
  cl_int C = (cl_int)g->C, H = (cl_int)g->H, W = (cl_int)g->W, PT = (cl_int)g->pt,
         PL = (cl_int)g->pl, TH = (cl_int)s->th, TW = (cl_int)s->tw, PPAD = (cl_int)s->ppad,
         K = (cl_int)g->K, KPAD = (cl_int)s->kpad, KT = (cl_int)(s->kpad / s->mr),
         OH = (cl_int)g->OH, OW = (cl_int)g->OW;
  cl_mem ws = c->workspace, bias = conv_bias_mem(c), res = conv_res_mem(c);
  /* V at the front of the workspace, M behind it at element offset moff */
  size_t moff = s->ws_off[1] / 4;
  int gpu = c->ctx->info.is_gpu;
  for (int64_t n0 = 0; n0 < g->N; n0 += s->chunk) {
    int64_t nimg = g->N - n0 < s->chunk ? g->N - n0 : s->chunk;
    cl_int P = (cl_int)(nimg * tiles);
    cl_long xoff = (cl_long)(n0 * g->C * g->H * g->W), yoff = (cl_long)(n0 * g->K * g->OH * g->OW);
    /* one work-item per 4 tiles of a tile row (the kernel's TG); a work-group per channel plane
       of one image (at most 256 items: large planes split by rows), so few groups cost dispatch
       and each reads one plane */
    cl_int TGS = (cl_int)((s->tw + 3) / 4), NC = (cl_int)(nimg * g->C);
    size_t l0 = TGS < 256 ? (size_t)TGS : 256, l1 = 256 / l0 < (size_t)TH ? 256 / l0 : (size_t)TH;
    size_t gi[3] = {(size_t)TGS, (size_t)TH, (size_t)NC}, li[3] = {l0, l1, 1};
    NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k[0], "conv_winograd_input", 3, gi, li, NNCL_ARG(c->in[0].mem),
                         NNCL_ARG(ws), NNCL_ARG(xoff), NNCL_ARG(C), NNCL_ARG(H), NNCL_ARG(W),
                         NNCL_ARG(PT), NNCL_ARG(PL), NNCL_ARG(TH), NNCL_ARG(TW), NNCL_ARG(TGS),
                         NNCL_ARG(NC), NNCL_ARG(P), NNCL_ARG(PPAD)));
    if (s->use_blas) {
      NNCL_TRY(nncl__sgemm_strided_batched(c->ctx, false, false, (size_t)K, (size_t)PPAD, (size_t)C,
                                           1.0f, s->w, 0, (size_t)C, (size_t)K * (size_t)C, ws, 0,
                                           (size_t)PPAD, (size_t)C * (size_t)PPAD, 0.0f, ws, moff,
                                           (size_t)PPAD, (size_t)KPAD * (size_t)PPAD, a2));
    } else {
      cl_long mo = (cl_long)moff;
      /* several row tiles per work-group: each tile is only C deep, so one per group would spend
         a large share of the time in work-group dispatch on CPU devices; KT is rounded up to the
         group (the kernel skips the extra items) rather than falling to groups of 1 when it is
         odd, as the 64- and 256-channel layers' 11 and 43 are */
      size_t l0 = KT <= 16 ? (size_t)KT : 8;
      size_t gg[3] = {(size_t)KT, (size_t)PPAD / (16 * (size_t)s->nv), a2}, lg[3] = {l0, 1, 1};
      NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k[1], "conv_winograd_gemm", 3, gg, lg, NNCL_ARG(s->w),
                           NNCL_ARG(ws), NNCL_ARG(ws), NNCL_ARG(C), NNCL_ARG(KT), NNCL_ARG(PPAD),
                           NNCL_ARG(mo)));
    }
    cl_long mo = (cl_long)moff;
    size_t go[2] = {(size_t)P, (size_t)K}, lo[2] = {gpu || P >= 64 ? 64 : 16, 1};
    NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k[2], "conv_winograd_output", 2, go, lo, NNCL_ARG(ws),
                         NNCL_ARG(mo), NNCL_ARG(bias), NNCL_ARG(res), NNCL_ARG(c->out[0].mem),
                         NNCL_ARG(yoff), NNCL_ARG(K), NNCL_ARG(KPAD), NNCL_ARG(OH), NNCL_ARG(OW),
                         NNCL_ARG(TH), NNCL_ARG(TW), NNCL_ARG(P), NNCL_ARG(PPAD)));
  }
  return NNCL_OK;
}
