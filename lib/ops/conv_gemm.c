/* conv_gemm.c: the convolutions that are one matrix product per image on the GEMM engine
   (nncl__gemm_run: our packed kernels or CLBlast, whichever the engine measured faster).
   "gemm": a 1x1 unpadded conv; at stride 1 the product reads X in place (W[Kg][Cg] x
   X[Cg][H*W] per image and group), at a larger stride a chunk of images is first subsampled into
   the workspace by the unfold kernel (R = S = 1). "im2col": any conv as unfold + product on
   chunks of images. Bias, activation and residual ride in the product's epilogue (no pass after
   it), and the engine's choice, kernels and scratch are settled at plan time. W is read as given
   (ONNX [K][C/g][R][S] is already the row-major [K][C/g*R*S] matrix), so constant and computed
   weights work alike; constant W is packed into the engine's row panels once per group at plan
   time (nncl__gemm_pack_a) when its packed kernel runs the product, so a run re-packs nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"

/* The unfold is needed unless the conv reads X as the product's B directly. */
static int needs_unfold(const struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  return s->algo == CONV_IM2COL || g->sh != 1 || g->sw != 1;
}

/* The product of group gg for images [n0, n0 + nimg): B is b (at b_off, image stride
   b_stride), C and the residual are the output at those images. */
static struct nncl__gemm product(const struct op_call *c, const struct conv_state *s, int64_t gg,
                                 int64_t n0, int64_t nimg, cl_mem b, size_t b_off,
                                 size_t b_stride) {
  const struct conv_geom *g = &s->g;
  const size_t npix = (size_t)(g->OH * g->OW), crs = (size_t)(g->Cg * g->R * g->S);
  const size_t kg = (size_t)g->Kg, ktot = (size_t)g->K;
  const size_t c_off = (size_t)n0 * ktot * npix + (size_t)gg * kg * npix;
  struct nncl__gemm p = {.m = kg,
                         .n = npix,
                         .k = crs,
                         .batch = (size_t)nimg,
                         .alpha = 1.0f,
                         .a = c->in[1].mem,
                         .a_const = conv_host_weights(c) != NULL, /* pack_weights packs it */
                         .a_off = (size_t)gg * kg * crs,
                         .lda = crs,
                         .b = b,
                         .b_off = b_off,
                         .ldb = npix,
                         .b_stride = b_stride,
                         .c = c->out[0].mem,
                         .c_off = c_off,
                         .ldc = npix,
                         .c_stride = ktot * npix,
                         .a_packed = s->a_packed ? s->a_packed[gg] : NULL};
  if (g->has_bias) {
    /* one bias per output channel: a row of C */
    p.has_bias = true;
    p.bias = c->in[2].mem;
    p.bias_off = (size_t)gg * kg;
    p.bias_rs = 1;
    p.bias_scale = 1.0f;
  }
  if (c->epi.has_residual) {
    p.has_res = true;
    p.res = conv_res_mem(c);
    p.res_off = c_off;
  }
  if (c->epi.act != OP_ACT_NONE || c->epi.has_residual) p.epi_options = s->opts;
  return p;
}

/* Constant weights go into the engine's row panels once, one buffer per group (a group's rows
   start mid-panel unless Kg is a multiple of MR, and gemm_tile reads panels from offset 0).
   Leaves s->a_packed NULL when W is computed, in a dry plan, or when the engine does not run the
   product as PACKED (CLBlast, GEMV and the GPU kernel read W as it is). */
static nncl_status pack_weights(struct op_call *c, struct conv_state *s, size_t b_stride) {
  const float *w = conv_host_weights(c);
  if (!w || c->ctx->plan_dry) return NNCL_OK;
  const int64_t groups = s->g.groups;
  cl_mem *packed = calloc((size_t)groups, sizeof *packed);
  if (!packed) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "packed conv weights");
  const bool in_place = strcmp(op_option(c, NNCL__OPT_GRAPH_HOST_WEIGHTS), "1") == 0;
  nncl_status st = NNCL_OK;
  for (int64_t gg = 0; gg < groups && st == NNCL_OK; gg++) {
    const struct nncl__gemm p = product(c, s, gg, 0, s->chunk, NULL, 0, b_stride);
    st = nncl__gemm_pack_a(c->ctx, &p, w, nncl_array_bytes(c->in[1].host), in_place, &packed[gg]);
  }
  if (st == NNCL_OK && packed[0]) {
    s->a_packed = packed;
    return NNCL_OK;
  }
  for (int64_t gg = 0; gg < groups; gg++) nncl__buffer_release(packed[gg]);
  free(packed);
  return st;
}

nncl_status conv_gemm_plan(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  op_epilogue_options(&c->epi, s->opts, sizeof s->opts);
  const size_t npix = (size_t)(g->OH * g->OW), ctot = (size_t)(g->C * g->R * g->S);
  /* the unfolded chunk, sized for columns rounded up to whole panels whichever layout it gets */
  int nr;
  NNCL_TRY(nncl__gemm_panel_width(c->ctx, &nr));
  const size_t per_image = ctot * op_round_up(npix, (size_t)nr) * 4;
  s->chunk = needs_unfold(s) ? conv_chunk(g->N, per_image) : g->N;
  /* the engine measures and builds for the shapes runs will use: a full chunk, and the last
     (shorter) one when the batch does not divide */
  NNCL_TRY(pack_weights(c, s, ctot * npix));
  struct nncl__gemm p = product(c, s, 0, 0, s->chunk, NULL, 0, ctot * npix);
  struct nncl__gemm_choice ch;
  NNCL_TRY(nncl__gemm_prepare(c->ctx, &p, &ch));
  if (s->chunk && g->N % s->chunk) { /* chunk 0: an empty batch */
    p.batch = (size_t)(g->N % s->chunk);
    NNCL_TRY(nncl__gemm_prepare(c->ctx, &p, NULL));
  }
  if (!needs_unfold(s)) return NNCL_OK;
  /* With our packed kernel running the product, the unfold writes its B panels directly (one
     pass over the columns less). A group's rows are not a panel matrix of their own, so grouped
     convs keep plain columns. */
  s->panel = ch.impl == NNCL_GEMM_PACKED && g->groups == 1 ? nr : 0;
  char opts[32];
  snprintf(opts, sizeof opts, "-DPANEL=%d", s->panel);
  NNCL_TRY(conv_kernel(c, "conv_im2col", opts, "conv_im2col_unfold", &s->k[0]));
  s->ws_bytes = per_image * (size_t)s->chunk;
  return NNCL_OK;
}

nncl_status conv_gemm_enqueue(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  const size_t npix = (size_t)(g->OH * g->OW), crs = (size_t)(g->Cg * g->R * g->S);
  if (!needs_unfold(s)) {
    for (int64_t gg = 0; gg < g->groups; gg++) {
      struct nncl__gemm p = product(c, s, gg, 0, g->N, c->in[0].mem, (size_t)(gg * g->Cg) * npix,
                                    (size_t)g->C * npix);
      NNCL_TRY(nncl__gemm_run(c->ctx, &p));
    }
    return NNCL_OK;
  }
  cl_int C = (cl_int)g->C, H = (cl_int)g->H, W = (cl_int)g->W, R = (cl_int)g->R, S = (cl_int)g->S,
         SH = (cl_int)g->sh, SW = (cl_int)g->sw, DH = (cl_int)g->dh, DW = (cl_int)g->dw,
         PT = (cl_int)g->pt, PL = (cl_int)g->pl, OH = (cl_int)g->OH, OW = (cl_int)g->OW;
  const size_t ctot = (size_t)g->C * (size_t)(g->R * g->S);
  for (int64_t n0 = 0; n0 < g->N; n0 += s->chunk) {
    int64_t nimg = g->N - n0 < s->chunk ? g->N - n0 : s->chunk;
    cl_long xoff = (cl_long)(n0 * g->C * g->H * g->W);
    size_t gs[2] = {ctot, (size_t)nimg}, ls[2] = {1, 1};
    NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k[0], "conv_im2col_unfold", 2, gs, ls, NNCL_ARG(c->in[0].mem),
                         NNCL_ARG(c->workspace), NNCL_ARG(xoff), NNCL_ARG(C), NNCL_ARG(H),
                         NNCL_ARG(W), NNCL_ARG(R), NNCL_ARG(S), NNCL_ARG(SH), NNCL_ARG(SW),
                         NNCL_ARG(DH), NNCL_ARG(DW), NNCL_ARG(PT), NNCL_ARG(PL), NNCL_ARG(OH),
                         NNCL_ARG(OW)));
    for (int64_t gg = 0; gg < g->groups; gg++) {
      struct nncl__gemm p =
          product(c, s, gg, n0, nimg, c->workspace, (size_t)gg * crs * npix, ctot * npix);
      if (s->panel) p.b_packed = c->workspace;
      NNCL_TRY(nncl__gemm_run(c->ctx, &p));
    }
  }
  return NNCL_OK;
}
