/* conv_direct.c: the direct algorithm (kernels/conv_direct.cl): phase-packs the input into the
   workspace, then runs the register-tiled implicit GEMM. Handles every Conv geometry, so it is
   also the fallback. The phase-pack set-up is shared with the depthwise algorithm. */
#include <stdio.h>
#include <stdlib.h>

#include "conv.h"

nncl_status conv_pack_setup(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  int64_t ntaps = g->R * g->S;
  int64_t hp = g->H + g->pt + g->pb, wp = g->W + g->pl + g->pr;
  s->hph = (hp + g->sh - 1) / g->sh;
  s->wph = (wp + g->sw - 1) / g->sw;
  s->pack_input =
      !(g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 && g->pb == 0 && g->pr == 0);
  int *tab = malloc((size_t)(2 * ntaps + 1) * sizeof *tab);
  if (!tab) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "conv tap table");
  /* tab[0, ntaps): tap offsets; tab[ntaps, ntaps + nph): the phase codes (py*SW + px) some tap
     reads, compacted so that only those phases are packed */
  int *codes = tab + ntaps, nph = 0;
  int64_t plane = s->hph * s->wph;
  for (int64_t r = 0; r < g->R; r++)
    for (int64_t q = 0; q < g->S; q++) {
      int64_t ry = r * g->dh, sx = q * g->dw;
      int code = (int)((ry % g->sh) * g->sw + sx % g->sw), ph = 0;
      while (ph < nph && codes[ph] != code) ph++;
      if (ph == nph) codes[nph++] = code;
      tab[r * g->S + q] = (int)(ph * plane + (ry / g->sh) * s->wph + sx / g->sw);
    }
  s->maxoff = 0;
  for (int64_t t = 0; t < ntaps; t++)
    if (tab[t] > s->maxoff) s->maxoff = tab[t];
  s->nph = nph;
  s->cs = nph * plane;
  if (s->cs > INT32_MAX / 2 || g->OH * s->wph > INT32_MAX / 2) {
    free(tab);
    return op_error(c, NNCL_ERR_UNSUPPORTED, "image planes of %lld floats are too large",
                    (long long)s->cs);
  }
  nncl_status st = nncl__buffer_from_host(c->ctx, tab, (size_t)(ntaps + nph) * sizeof *tab,
                                          "conv taps", &s->taps);
  free(tab);
  return st;
}

nncl_status conv_pack_enqueue(struct op_call *c, struct conv_state *s, int64_t n0, int64_t nimg) {
  const struct conv_geom *g = &s->g;
  cl_long xoff = (cl_long)(n0 * g->C * g->H * g->W);
  cl_int C = (cl_int)g->C, H = (cl_int)g->H, W = (cl_int)g->W, SH = (cl_int)g->sh,
         SW = (cl_int)g->sw, PT = (cl_int)g->pt, PL = (cl_int)g->pl, NPH = (cl_int)s->nph,
         HPH = (cl_int)s->hph, WPH = (cl_int)s->wph, planes = (cl_int)(nimg * g->C * s->nph);
  cl_int ntaps = (cl_int)(g->R * g->S);
  size_t gs[2] = {(size_t)HPH, (size_t)planes};
  size_t ls[2] = {c->ctx->info.is_gpu ? 32 : 8, c->ctx->info.is_gpu ? 1 : 4};
  return NNCL_LAUNCH(c->ctx, s->k[0], "conv_direct_pack", 2, gs, ls, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->workspace), NNCL_ARG(s->taps), NNCL_ARG(ntaps), NNCL_ARG(xoff),
                     NNCL_ARG(C), NNCL_ARG(H), NNCL_ARG(W), NNCL_ARG(SH), NNCL_ARG(SW),
                     NNCL_ARG(PT), NNCL_ARG(PL), NNCL_ARG(NPH), NNCL_ARG(HPH), NNCL_ARG(WPH),
                     NNCL_ARG(planes));
}

/* Host packing of constant weights into the MR-row panels the main kernel reads. */
static float *pack_weights_host(const struct conv_geom *g, const float *w, int64_t kt, int mr) {
  int64_t ntaps = g->R * g->S;
  size_t n = (size_t)(g->groups * kt * g->Cg * ntaps * mr);
  float *p = nncl__host_alloc((n ? n : 1) * sizeof *p); /* given to the device by conv_adopt */
  if (!p) return NULL;
  for (int64_t gg = 0; gg < g->groups; gg++)
    for (int64_t mt = 0; mt < kt; mt++)
      for (int64_t cc = 0; cc < g->Cg; cc++)
        for (int64_t t = 0; t < ntaps; t++)
          for (int64_t m = 0; m < mr; m++) {
            int64_t kk = mt * mr + m; /* rows past Kg are the last panel's zeros */
            p[(((gg * kt + mt) * g->Cg + cc) * ntaps + t) * mr + m] =
                kk < g->Kg ? w[((gg * g->Kg + kk) * g->Cg + cc) * ntaps + t] : 0.0f;
          }
  return p;
}

nncl_status conv_direct_plan(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  NNCL_TRY(conv_pack_setup(c, s));
  /* float16 storage: the main kernel reads float planes, so a half input is always packed */
  int half = c->in[0].dtype == NNCL_FLOAT16;
  if (half) s->pack_input = 1;
  char epi[256];
  op_epilogue_options(&c->epi, epi, sizeof epi);
  conv_register_tile(c, &s->mr, &s->nv);
  /* Row tiles when rows are wide enough that rounding each up to the tile wastes little: their
     full tiles store whole vectors, which matters most when C*R*S is small (first layers). */
  int64_t nr = 16 * s->nv, owt = (g->OW + nr - 1) / nr;
  s->rowtile = g->OW >= nr && (owt * nr - g->OW) * 8 <= owt * nr;
  snprintf(s->opts, sizeof s->opts, "-DMR=%d -DNV=%d -DHAS_BIAS=%d -DROWTILE=%d %s%s", s->mr, s->nv,
           g->has_bias, s->rowtile, epi, half ? " -DNNCL_HALF_STORE" : "");
  NNCL_TRY(conv_kernel(c, "conv_direct", s->opts, "conv_direct_main", &s->k[1]));
  if (s->pack_input) NNCL_TRY(conv_kernel(c, "conv_direct", s->opts, "conv_direct_pack", &s->k[0]));
  int64_t kt = (g->Kg + s->mr - 1) / s->mr;
  size_t wfloats = (size_t)(g->groups * kt * g->Cg * g->R * g->S * s->mr);
  const float *hw = conv_host_weights(c);
  if (hw) {
    float *p = pack_weights_host(g, hw, kt, s->mr);
    if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "packed weights");
    NNCL_TRY(conv_adopt(c, p, wfloats, "conv packed weights", &s->w));
    s->wprepacked = 1;
  } else {
    NNCL_TRY(conv_kernel(c, "conv_direct", s->opts, "conv_direct_pack_weights", &s->k[2]));
  }
  size_t per_image = s->pack_input ? (size_t)(g->C * s->cs) * 4 : 0;
  s->chunk = conv_chunk(g->N, per_image);
  s->xp_floats = (size_t)s->chunk * (size_t)(g->C * s->cs);
  size_t xp_bytes = s->pack_input ? s->xp_floats * 4 : 0;
  s->ws_off[1] = op_round_up(xp_bytes, 256); /* packed weights when W is not constant */
  s->ws_bytes = s->ws_off[1] + (s->wprepacked ? 0 : wfloats * 4);
  return NNCL_OK;
}

/* The input images n0 .. n0+nimg-1 as the direct and depthwise kernels read them: packed into
   phase planes in the workspace, or the input itself when no packing is needed. */
nncl_status conv_chunk_input(struct op_call *c, struct conv_state *s, int64_t n0, int64_t nimg,
                             cl_mem *xp, cl_long *xoff, cl_long *xlen) {
  const struct conv_geom *g = &s->g;
  if (s->pack_input) {
    NNCL_TRY(conv_pack_enqueue(c, s, n0, nimg));
    *xp = c->workspace;
    *xoff = 0;
    *xlen = (cl_long)(nimg * g->C * s->cs);
  } else {
    *xp = c->in[0].mem;
    *xoff = (cl_long)(n0 * g->C * s->cs);
    *xlen = (cl_long)(g->N * g->C * s->cs);
  }
  return NNCL_OK;
}

nncl_status conv_direct_enqueue(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  int64_t kt = (g->Kg + s->mr - 1) / s->mr;
  cl_int ntaps = (cl_int)(g->R * g->S);
  cl_mem wmem = s->w;
  cl_long woff = 0;
  if (!s->wprepacked) {
    wmem = c->workspace;
    woff = (cl_long)(s->ws_off[1] / 4);
    cl_int KG = (cl_int)g->Kg, KT = (cl_int)kt, CG = (cl_int)g->Cg,
           total = (cl_int)(g->groups * kt * g->Cg * ntaps * s->mr);
    size_t l = op_local_1d(c), gsz = (size_t)total;
    NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k[2], "conv_direct_pack_weights", 1, &gsz, &l,
                         NNCL_ARG(c->in[1].mem), NNCL_ARG(c->workspace), NNCL_ARG(woff),
                         NNCL_ARG(KG), NNCL_ARG(KT), NNCL_ARG(CG), NNCL_ARG(ntaps),
                         NNCL_ARG(total)));
  }
  cl_int maxoff = s->maxoff;
  cl_int C = (cl_int)g->C, CG = (cl_int)g->Cg, K = (cl_int)g->K, KG = (cl_int)g->Kg,
         KT = (cl_int)kt, G = (cl_int)g->groups, OH = (cl_int)g->OH, OW = (cl_int)g->OW,
         WPH = (cl_int)s->wph;
  cl_long cs = (cl_long)s->cs;
  int64_t q = g->OH * s->wph;
  int64_t nr = 16 * s->nv;
  cl_int OWT = (cl_int)((g->OW + nr - 1) / nr);
  cl_int QT = s->rowtile ? (cl_int)(g->OH * OWT) : (cl_int)((q + nr - 1) / nr);
  cl_mem bias = conv_bias_mem(c), res = conv_res_mem(c);
  for (int64_t n0 = 0; n0 < g->N; n0 += s->chunk) {
    int64_t nimg = g->N - n0 < s->chunk ? g->N - n0 : s->chunk;
    cl_mem xp;
    cl_long xoff, xlen;
    NNCL_TRY(conv_chunk_input(c, s, n0, nimg, &xp, &xoff, &xlen));
    cl_long yoff = (cl_long)(n0 * g->K * g->OH * g->OW);
    cl_int nim = (cl_int)nimg;
    size_t gs[2] = {(size_t)(G * KT), (size_t)nim * (size_t)QT};
    /* CPU: every row tile of one position tile in a work-group (they share the input strip
       in cache, and fewer groups cost less dispatch); GPU: a wide group over positions */
    size_t ls[2] = {1, 1};
    if (c->ctx->info.is_gpu)
      ls[1] = 64;
    else
      ls[0] = gs[0] % 8 == 0 ? 8 : gs[0] % 4 == 0 ? 4 : gs[0] % 2 == 0 ? 2 : 1;
    NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k[1], "conv_direct_main", 2, gs, ls, NNCL_ARG(xp),
                         NNCL_ARG(wmem), NNCL_ARG(bias), NNCL_ARG(res), NNCL_ARG(c->out[0].mem),
                         NNCL_ARG(s->taps), NNCL_ARG(woff), NNCL_ARG(xoff), NNCL_ARG(xlen),
                         NNCL_ARG(yoff), NNCL_ARG(ntaps), NNCL_ARG(maxoff), NNCL_ARG(C),
                         NNCL_ARG(CG), NNCL_ARG(cs), NNCL_ARG(K), NNCL_ARG(KG), NNCL_ARG(KT),
                         NNCL_ARG(G), NNCL_ARG(OH), NNCL_ARG(OW), NNCL_ARG(WPH), NNCL_ARG(QT),
                         NNCL_ARG(OWT), NNCL_ARG(nim)));
  }
  return NNCL_OK;
}
