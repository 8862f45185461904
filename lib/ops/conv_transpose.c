/* conv_transpose.c: ConvTranspose. "direct": the gather kernel of kernels/conv_transpose.cl with
   weights packed at plan time (constant W). "gemm": per group, columns = W_g^T X_g through CLBlast
   (W read as given, so it also serves computed weights), then col2im gathers them with the bias
   and epilogue (kernels/conv_im2col.cl). */
#include <stdio.h>
#include <stdlib.h>

#include "conv.h"

#define MT 4

nncl_status conv_transpose_plan(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  char epi[256];
  conv_epilogue_options(&c->epi, epi, sizeof epi);
  snprintf(s->opts, sizeof s->opts, "-DMT=%d -DHAS_BIAS=%d %s", MT, g->has_bias, epi);
  if (s->algo == CONVT_DIRECT) {
    const float *w = conv_host_weights(c);
    if (!w) return op_error(c, NNCL_ERR_STATE, "direct ConvTranspose needs constant weights");
    NNCL_TRY(conv_kernel(c, "conv_transpose", s->opts, "conv_transpose_gather", &s->k[0]));
    int64_t kb = (g->Kg + MT - 1) / MT, rs = g->R * g->S;
    size_t n = (size_t)(g->groups * kb * rs * g->Cg * MT);
    float *p = calloc(n ? n : 1, sizeof *p);
    if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "packed ConvTranspose weights");
    for (int64_t gg = 0; gg < g->groups; gg++)
      for (int64_t b = 0; b < kb; b++)
        for (int64_t t = 0; t < rs; t++)
          for (int64_t cc = 0; cc < g->Cg; cc++)
            for (int64_t i = 0; i < MT; i++) {
              int64_t kk = b * MT + i;
              if (kk >= g->Kg) continue;
              p[((((gg * kb + b) * rs + t) * g->Cg + cc) * MT) + i] =
                  w[((gg * g->Cg + cc) * g->Kg + kk) * rs + t];
            }
    nncl_status st = conv_upload(c, p, n, "packed ConvTranspose weights", &s->w);
    free(p);
    return st;
  }
  NNCL_TRY(conv_kernel(c, "conv_im2col", s->opts, "conv_im2col_col2im", &s->k[1]));
  size_t per_image = (size_t)(g->K * g->R * g->S * g->H * g->W) * 4;
  s->chunk = conv_chunk(g->N, per_image);
  s->ws_bytes = per_image * (size_t)s->chunk;
  return NNCL_OK;
}

nncl_status conv_transpose_enqueue(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  cl_int C = (cl_int)g->C, CG = (cl_int)g->Cg, H = (cl_int)g->H, W = (cl_int)g->W,
         K = (cl_int)g->K, KG = (cl_int)g->Kg, G = (cl_int)g->groups, R = (cl_int)g->R,
         S = (cl_int)g->S, SH = (cl_int)g->sh, SW = (cl_int)g->sw, DH = (cl_int)g->dh,
         DW = (cl_int)g->dw, PT = (cl_int)g->pt, PL = (cl_int)g->pl, OH = (cl_int)g->OH,
         OW = (cl_int)g->OW, N = (cl_int)g->N;
  cl_mem bias = conv_bias_mem(c), res = conv_res_mem(c), x = c->in[0].mem, y = c->out[0].mem;
  size_t npix = (size_t)(g->OH * g->OW), lx = c->ctx->info.is_gpu ? 64 : 16;
  if (s->algo == CONVT_DIRECT) {
    cl_int KB = (cl_int)((g->Kg + MT - 1) / MT);
    size_t gs[2] = {npix, (size_t)N * (size_t)G * (size_t)KB}, ls[2] = {lx, 1};
    return NNCL_LAUNCH(c->ctx, s->k[0], "conv_transpose_gather", 2, gs, ls, NNCL_ARG(x),
                       NNCL_ARG(s->w), NNCL_ARG(bias), NNCL_ARG(res), NNCL_ARG(y), NNCL_ARG(C),
                       NNCL_ARG(CG), NNCL_ARG(H), NNCL_ARG(W), NNCL_ARG(K), NNCL_ARG(KG),
                       NNCL_ARG(KB), NNCL_ARG(G), NNCL_ARG(R), NNCL_ARG(S), NNCL_ARG(SH),
                       NNCL_ARG(SW), NNCL_ARG(DH), NNCL_ARG(DW), NNCL_ARG(PT), NNCL_ARG(PL),
                       NNCL_ARG(OH), NNCL_ARG(OW), NNCL_ARG(N));
  }
  size_t hw = (size_t)(g->H * g->W), krs = (size_t)(g->Kg * g->R * g->S);
  for (int64_t n0 = 0; n0 < g->N; n0 += s->chunk) {
    int64_t nimg = g->N - n0 < s->chunk ? g->N - n0 : s->chunk;
    /* col[n][g*Kg*RS + (kk*R + r)*S + s][hw] = sum_c W[g*Cg + c][kk][r][s] X[n][g*Cg + c][hw] */
    for (int64_t gg = 0; gg < g->groups; gg++)
      NNCL_TRY(nncl_sgemm_strided_batched(
          c->ctx, true, false, krs, hw, (size_t)g->Cg, 1.0f, c->in[1].mem,
          (size_t)(gg * g->Cg) * krs, krs, 0, x, ((size_t)n0 * (size_t)g->C + (size_t)(gg * g->Cg)) * hw,
          hw, (size_t)g->C * hw, 0.0f, c->workspace, (size_t)gg * krs * hw, hw,
          (size_t)g->groups * krs * hw, (size_t)nimg));
    cl_long yoff = (cl_long)(n0 * g->K * g->OH * g->OW);
    size_t gs[3] = {npix, (size_t)K, (size_t)nimg}, ls[3] = {lx, 1, 1};
    NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k[1], "conv_im2col_col2im", 3, gs, ls,
                         NNCL_ARG(c->workspace), NNCL_ARG(bias), NNCL_ARG(res), NNCL_ARG(y),
                         NNCL_ARG(yoff), NNCL_ARG(K), NNCL_ARG(H), NNCL_ARG(W), NNCL_ARG(R),
                         NNCL_ARG(S), NNCL_ARG(SH), NNCL_ARG(SW), NNCL_ARG(DH), NNCL_ARG(DW),
                         NNCL_ARG(PT), NNCL_ARG(PL), NNCL_ARG(OH), NNCL_ARG(OW)));
  }
  return NNCL_OK;
}
