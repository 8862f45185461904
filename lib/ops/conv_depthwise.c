/* conv_depthwise.c: depthwise convolution (groups == C, any channel multiplier) through
   kernels/conv_depthwise.cl on the phase-packed input of the direct algorithm. Reads W as given,
   so constant and computed weights take the same path. */
#include <stdio.h>

#include "conv.h"

nncl_status conv_depthwise_plan(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  NNCL_TRY(conv_pack_setup(c, s));
  char epi[256];
  op_epilogue_options(&c->epi, epi, sizeof epi);
  /* tiles are runs of one output row: 16 wide for narrow maps, 32 otherwise */
  s->nv = g->OW > 16 ? 2 : 1;
  snprintf(s->opts, sizeof s->opts, "-DNV=%d -DHAS_BIAS=%d %s", s->nv, g->has_bias, epi);
  NNCL_TRY(conv_kernel(c, "conv_depthwise", s->opts, "conv_depthwise_main", &s->k[1]));
  if (s->pack_input) NNCL_TRY(conv_kernel(c, "conv_direct", s->opts, "conv_direct_pack", &s->k[0]));
  size_t per_image = s->pack_input ? (size_t)(g->C * s->cs) * 4 : 0;
  s->chunk = conv_chunk(g->N, per_image);
  s->xp_floats = (size_t)s->chunk * (size_t)(g->C * s->cs);
  s->ws_bytes = s->pack_input ? s->xp_floats * 4 : 0;
  return NNCL_OK;
}

nncl_status conv_depthwise_enqueue(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  cl_int ntaps = (cl_int)(g->R * g->S), maxoff = s->maxoff, C = (cl_int)g->C, K = (cl_int)g->K,
         mult = (cl_int)g->Kg, OH = (cl_int)g->OH, OW = (cl_int)g->OW, WPH = (cl_int)s->wph;
  cl_long cs = (cl_long)s->cs;
  int64_t nr = 16 * s->nv;
  cl_int OWT = (cl_int)((g->OW + nr - 1) / nr), QT = (cl_int)(g->OH * OWT);
  cl_mem bias = conv_bias_mem(c), res = conv_res_mem(c);
  for (int64_t n0 = 0; n0 < g->N; n0 += s->chunk) {
    int64_t nimg = g->N - n0 < s->chunk ? g->N - n0 : s->chunk;
    cl_mem xp;
    cl_long xoff, xlen;
    NNCL_TRY(conv_chunk_input(c, s, n0, nimg, &xp, &xoff, &xlen));
    cl_long yoff = (cl_long)(n0 * g->K * g->OH * g->OW);
    cl_int nim = (cl_int)nimg;
    size_t gs[2] = {(size_t)QT, (size_t)nim * (size_t)K};
    /* several position tiles per work-group: one tile is only 9 vector FMAs deep, so single
       work-item groups would be mostly dispatch overhead on CPU devices */
    size_t ls[2] = {c->ctx->info.is_gpu ? 64 : 32, 1};
    NNCL_TRY(NNCL_LAUNCH(c->ctx, s->k[1], "conv_depthwise_main", 2, gs, ls, NNCL_ARG(xp),
                         NNCL_ARG(c->in[1].mem), NNCL_ARG(bias), NNCL_ARG(res),
                         NNCL_ARG(c->out[0].mem), NNCL_ARG(s->taps), NNCL_ARG(xoff), NNCL_ARG(xlen),
                         NNCL_ARG(yoff), NNCL_ARG(ntaps), NNCL_ARG(maxoff), NNCL_ARG(C),
                         NNCL_ARG(cs), NNCL_ARG(K), NNCL_ARG(mult), NNCL_ARG(OH), NNCL_ARG(OW),
                         NNCL_ARG(WPH), NNCL_ARG(OWT), NNCL_ARG(nim)));
  }
  return NNCL_OK;
}
