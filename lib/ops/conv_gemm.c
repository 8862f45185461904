/* conv_gemm.c: the CLBlast-based convolutions. "gemm": a 1x1 stride-1 unpadded conv is one
   strided-batched SGEMM per group straight on X and W (no copy). "im2col": any conv as unfold +
   SGEMM on chunks of images. Both run the bias/activation/residual epilogue as one in-place pass
   afterwards, skipped when there is nothing to apply. W is read as given (ONNX [K][C/g][R][S] is
   already the row-major [K][C/g*R*S] matrix), so constant and computed weights work alike. */
#include <stdio.h>

#include "conv.h"

static int needs_epilogue(const struct op_call *c, const struct conv_geom *g) {
  return g->has_bias || c->epi.act != OP_ACT_NONE || c->epi.has_residual;
}

nncl_status conv_gemm_plan(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  char epi[256];
  op_epilogue_options(&c->epi, epi, sizeof epi);
  snprintf(s->opts, sizeof s->opts, "-DHAS_BIAS=%d %s", g->has_bias, epi);
  if (needs_epilogue(c, g))
    NNCL_TRY(conv_kernel(c, "conv_im2col", s->opts, "conv_im2col_epilogue", &s->k[1]));
  if (s->algo == CONV_IM2COL) {
    NNCL_TRY(conv_kernel(c, "conv_im2col", s->opts, "conv_im2col_unfold", &s->k[0]));
    size_t per_image = (size_t)(g->C * g->R * g->S * g->OH * g->OW) * 4;
    s->chunk = conv_chunk(g->N, per_image);
    s->ws_bytes = per_image * (size_t)s->chunk;
  }
  return NNCL_OK;
}

nncl_status conv_gemm_enqueue(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  size_t npix = (size_t)(g->OH * g->OW), crs = (size_t)(g->Cg * g->R * g->S);
  size_t kg = (size_t)g->Kg, K = (size_t)g->K;
  cl_mem x = c->in[0].mem, w = c->in[1].mem, y = c->out[0].mem;
  if (s->algo == CONV_GEMM) {
    for (int64_t gg = 0; gg < g->groups; gg++)
      NNCL_TRY(nncl__sgemm_strided_batched(
          c->ctx, false, false, kg, npix, crs, 1.0f, w, (size_t)gg * kg * crs, crs, 0, x,
          (size_t)(gg * g->Cg) * npix, npix, (size_t)g->C * npix, 0.0f, y, (size_t)gg * kg * npix,
          npix, K * npix, (size_t)g->N));
  } else {
    cl_int C = (cl_int)g->C, H = (cl_int)g->H, W = (cl_int)g->W, R = (cl_int)g->R, S = (cl_int)g->S,
           SH = (cl_int)g->sh, SW = (cl_int)g->sw, DH = (cl_int)g->dh, DW = (cl_int)g->dw,
           PT = (cl_int)g->pt, PL = (cl_int)g->pl, OH = (cl_int)g->OH, OW = (cl_int)g->OW;
    size_t ctot = (size_t)g->C * (size_t)(g->R * g->S);
    for (int64_t n0 = 0; n0 < g->N; n0 += s->chunk) {
      int64_t nimg = g->N - n0 < s->chunk ? g->N - n0 : s->chunk;
      cl_long xoff = (cl_long)(n0 * g->C * g->H * g->W);
      size_t gs[3] = {npix, ctot, (size_t)nimg}, ls[3] = {c->ctx->info.is_gpu ? 64 : 16, 1, 1};
      NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k[0], "conv_im2col_unfold", 3, gs, ls, NNCL_ARG(x),
                           NNCL_ARG(c->workspace), NNCL_ARG(xoff), NNCL_ARG(C), NNCL_ARG(H),
                           NNCL_ARG(W), NNCL_ARG(R), NNCL_ARG(S), NNCL_ARG(SH), NNCL_ARG(SW),
                           NNCL_ARG(DH), NNCL_ARG(DW), NNCL_ARG(PT), NNCL_ARG(PL), NNCL_ARG(OH),
                           NNCL_ARG(OW)));
      for (int64_t gg = 0; gg < g->groups; gg++)
        NNCL_TRY(nncl__sgemm_strided_batched(
            c->ctx, false, false, kg, npix, crs, 1.0f, w, (size_t)gg * kg * crs, crs, 0,
            c->workspace, (size_t)gg * crs * npix, npix, ctot * npix, 0.0f, y,
            (size_t)n0 * K * npix + (size_t)gg * kg * npix, npix, K * npix, (size_t)nimg));
    }
  }
  if (!needs_epilogue(c, g)) return NNCL_OK;
  cl_int Ki = (cl_int)K, NP = (cl_int)npix, NK = (cl_int)(g->N * g->K);
  size_t gs[2] = {npix, (size_t)NK}, ls[2] = {c->ctx->info.is_gpu ? 64 : 16, 1};
  cl_mem bias = conv_bias_mem(c), res = conv_res_mem(c);
  return NNCL_LAUNCH(c->ctx, s->k[1], "conv_im2col_epilogue", 2, gs, ls, NNCL_ARG(y),
                     NNCL_ARG(bias), NNCL_ARG(res), NNCL_ARG(Ki), NNCL_ARG(NP), NNCL_ARG(NK));
}
