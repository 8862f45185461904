/* conv_transpose.c: ConvTranspose. "direct": the gather kernel of kernels/conv_transpose.cl with
   weights packed at plan time (constant W). "gemm": per group, columns = W_g^T X_g, then col2im
   gathers them with the bias and epilogue (kernels/conv_im2col.cl). The product is a 1x1
   convolution with K*R*S output channels, so on CPU devices it runs in the register-tiled
   conv_direct_main kernel (W^T packed at plan time); on GPUs, or when W is computed at run time,
   it runs in CLBlast, which reads W as given. */
#include <stdio.h>
#include <stdlib.h>

#include "conv.h"

#define MT 4

nncl_status conv_transpose_plan(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  char epi[256];
  op_epilogue_options(&c->epi, epi, sizeof epi);
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
  const float *w = conv_host_weights(c);
  if (!w) s->use_blas = 1;
  if (!s->use_blas) {
    /* W^T of each group as MR-row panels: row (kk*R + r)*S + s, column c */
    conv_register_tile(c, &s->mr, &s->nv);
    const int64_t mr = s->mr, rows = g->Kg * g->R * g->S, kt = (rows + mr - 1) / mr;
    size_t n = (size_t)(g->groups * kt * g->Cg * mr);
    float *p = calloc(n ? n : 1, sizeof *p);
    if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "packed ConvTranspose weights");
    for (int64_t gg = 0; gg < g->groups; gg++)
      for (int64_t row = 0; row < rows; row++)
        for (int64_t cc = 0; cc < g->Cg; cc++)
          p[((gg * kt + row / mr) * g->Cg + cc) * mr + row % mr] =
              w[(gg * g->Cg + cc) * rows + row];
    nncl_status st = conv_upload(c, p, n, "packed ConvTranspose weights", &s->w);
    free(p);
    NNCL_TRY(st);
    const int taps[2] = {0, 0}; /* one tap at offset 0, phase code 0 */
    NNCL_TRY(nncl__buffer_from_host(c->ctx, taps, sizeof taps, "conv taps", &s->taps));
    char o[128];
    snprintf(o, sizeof o, "-DMR=%d -DNV=%d -DHAS_BIAS=0", s->mr, s->nv);
    NNCL_TRY(conv_kernel(c, "conv_direct", o, "conv_direct_main", &s->k[2]));
  }
  size_t per_image = (size_t)(g->K * g->R * g->S * g->H * g->W) * 4;
  s->chunk = conv_chunk(g->N, per_image);
  s->ws_bytes = per_image * (size_t)s->chunk;
  return NNCL_OK;
}

nncl_status conv_transpose_enqueue(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  cl_int C = (cl_int)g->C, CG = (cl_int)g->Cg, H = (cl_int)g->H, W = (cl_int)g->W, K = (cl_int)g->K,
         KG = (cl_int)g->Kg, G = (cl_int)g->groups, R = (cl_int)g->R, S = (cl_int)g->S,
         SH = (cl_int)g->sh, SW = (cl_int)g->sw, DH = (cl_int)g->dh, DW = (cl_int)g->dw,
         PT = (cl_int)g->pt, PL = (cl_int)g->pl, OH = (cl_int)g->OH, OW = (cl_int)g->OW,
         N = (cl_int)g->N;
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
    if (!s->use_blas) {
      const int64_t rows = (int64_t)krs, kt = (rows + s->mr - 1) / s->mr, nr = 16 * s->nv;
      cl_int ntaps = 1, maxoff = 0, KC = (cl_int)(g->groups * rows), KGC = (cl_int)rows,
             KT = (cl_int)kt, QT = (cl_int)(((int64_t)hw + nr - 1) / nr), nim = (cl_int)nimg,
             OWT = 1; /* flattened tiles (ROWTILE=0) */
      cl_long woff = 0, xoff = (cl_long)((size_t)n0 * (size_t)g->C * hw),
              xlen = (cl_long)((size_t)g->N * (size_t)g->C * hw), yoff = 0, cs = (cl_long)hw;
      size_t gs[2] = {(size_t)(G * KT), (size_t)nim * (size_t)QT}, ls[2] = {1, 1};
      NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k[2], "conv_transpose_gemm", 2, gs, ls, NNCL_ARG(x),
                           NNCL_ARG(s->w), NNCL_ARG(bias), NNCL_ARG(res), NNCL_ARG(c->workspace),
                           NNCL_ARG(s->taps), NNCL_ARG(woff), NNCL_ARG(xoff), NNCL_ARG(xlen),
                           NNCL_ARG(yoff), NNCL_ARG(ntaps), NNCL_ARG(maxoff), NNCL_ARG(C),
                           NNCL_ARG(CG), NNCL_ARG(cs), NNCL_ARG(KC), NNCL_ARG(KGC), NNCL_ARG(KT),
                           NNCL_ARG(G), NNCL_ARG(H), NNCL_ARG(W), NNCL_ARG(W), NNCL_ARG(QT),
                           NNCL_ARG(OWT), NNCL_ARG(nim)));
    }
    for (int64_t gg = 0; s->use_blas && gg < g->groups; gg++)
      NNCL_TRY(nncl__sgemm_strided_batched(
          c->ctx, true, false, krs, hw, (size_t)g->Cg, 1.0f, c->in[1].mem,
          (size_t)(gg * g->Cg) * krs, krs, 0, x,
          ((size_t)n0 * (size_t)g->C + (size_t)(gg * g->Cg)) * hw, hw, (size_t)g->C * hw, 0.0f,
          c->workspace, (size_t)gg * krs * hw, hw, (size_t)g->groups * krs * hw, (size_t)nimg));
    cl_long yoff = (cl_long)(n0 * g->K * g->OH * g->OW);
    size_t gs[3] = {npix, (size_t)K, (size_t)nimg}, ls[3] = {lx, 1, 1};
    NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k[1], "conv_im2col_col2im", 3, gs, ls, NNCL_ARG(c->workspace),
                         NNCL_ARG(bias), NNCL_ARG(res), NNCL_ARG(y), NNCL_ARG(yoff), NNCL_ARG(K),
                         NNCL_ARG(H), NNCL_ARG(W), NNCL_ARG(R), NNCL_ARG(S), NNCL_ARG(SH),
                         NNCL_ARG(SW), NNCL_ARG(DH), NNCL_ARG(DW), NNCL_ARG(PT), NNCL_ARG(PL),
                         NNCL_ARG(OH), NNCL_ARG(OW)));
  }
  return NNCL_OK;
}
