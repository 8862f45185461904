/* conv_depthwise.c: the convolutions of kernels/conv_depthwise.cl, which read X in place (pads
   handled in the kernel, no workspace): "depthwise" (groups == C, any channel multiplier, one
   output channel per work-item) and "narrow" (at most 4 input channels per group, e.g. a 3-channel
   stem: a register tile of output channels shares every input read). Reads W as given, so
   constant and computed weights take the same path. */
#include <stdio.h>

#include "conv.h"

nncl_status conv_depthwise_plan(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  char epi[256];
  op_epilogue_options(&c->epi, epi, sizeof epi);
  /* narrow: as many output channels as the direct kernel's register tile has rows */
  int mr = 1, nv;
  if (s->algo == CONV_NARROW) conv_register_tile(c, &mr, &nv);
  if (mr > g->Kg) mr = (int)g->Kg;
  s->mr = mr;
  snprintf(s->opts, sizeof s->opts, "-DKR=%d -DKS=%d -DSW=%d -DCG=%d -DMR=%d -DHAS_BIAS=%d %s",
           (int)g->R, (int)g->S, (int)g->sw, (int)g->Cg, mr, g->has_bias, epi);
  NNCL_TRY(conv_kernel(c, "conv_depthwise", s->opts, "conv_depthwise_main", &s->k[0]));
  s->ws_bytes = 0;
  return NNCL_OK;
}

nncl_status conv_depthwise_enqueue(struct op_call *c, struct conv_state *s) {
  const struct conv_geom *g = &s->g;
  cl_int N = (cl_int)g->N, C = (cl_int)g->C, H = (cl_int)g->H, W = (cl_int)g->W, K = (cl_int)g->K,
         G = (cl_int)g->groups, KB = (cl_int)((g->Kg + s->mr - 1) / s->mr), OH = (cl_int)g->OH,
         OW = (cl_int)g->OW, SH = (cl_int)g->sh, DH = (cl_int)g->dh, DW = (cl_int)g->dw,
         PT = (cl_int)g->pt, PL = (cl_int)g->pl;
  /* rows per work-item: at least 8 runs of 16 outputs each (a run is only KR*KS*MR vector FMAs),
     fewer when that would leave under 16 work-items per compute unit */
  int64_t owt = (g->OW + 15) / 16, items = g->N * g->groups * KB,
          want = 16 * (int64_t)(c->ctx->info.compute_units ? c->ctx->info.compute_units : 1);
  int64_t rb = (8 + owt - 1) / owt;
  while (rb > 1 && items * ((g->OH + rb - 1) / rb) < want) rb--;
  if (rb > g->OH) rb = g->OH;
  cl_int RB = (cl_int)rb;
  cl_mem bias = conv_bias_mem(c), res = conv_res_mem(c);
  size_t gs[2] = {(size_t)((g->OH + rb - 1) / rb), (size_t)items};
  /* Work-group size: a CPU device pays per work-group (PoCL runs one per core at a time, its
     items as one loop), so there it is about 16 groups per compute unit however small the layer;
     a GPU gets 64 items per group. */
  size_t l0, l1;
  if (c->ctx->info.is_gpu) {
    l0 = gs[0] < 64 ? gs[0] : 64;
    l1 = 64 / l0;
  } else {
    size_t per = (size_t)((gs[0] * gs[1] + (size_t)want - 1) / (size_t)want);
    l0 = gs[0] < per ? gs[0] : per;
    l1 = (per + l0 - 1) / l0;
  }
  if (l1 > gs[1]) l1 = gs[1];
  size_t ls[2] = {l0 ? l0 : 1, l1 ? l1 : 1};
  return NNCL_LAUNCH(c->ctx, s->k[0], "conv_depthwise_main", 2, gs, ls, NNCL_ARG(c->in[0].mem),
                     NNCL_ARG(c->in[1].mem), NNCL_ARG(bias), NNCL_ARG(res), NNCL_ARG(c->out[0].mem),
                     NNCL_ARG(N), NNCL_ARG(C), NNCL_ARG(H), NNCL_ARG(W), NNCL_ARG(K), NNCL_ARG(G),
                     NNCL_ARG(KB), NNCL_ARG(OH), NNCL_ARG(OW), NNCL_ARG(RB), NNCL_ARG(SH),
                     NNCL_ARG(DH), NNCL_ARG(DW), NNCL_ARG(PT), NNCL_ARG(PL));
}
