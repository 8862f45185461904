/* grad_conv.c: Conv's backward rule. The data gradient is a ConvTranspose of dY with the same
   weights (same strides, pads, dilations and groups; output_padding restores the rows a strided
   forward skipped), the weight gradient nncl.ConvGradWeight (X, dY), the bias gradient a
   ReduceSum of dY over batch and space. */
#include <string.h>

#include "conv.h"
#include "grad.h"

nncl_status nncl__grad_conv(struct op_grad *g) {
  struct conv_geom c;
  NNCL_TRY(conv_geom_parse(&g->fwd, &c));
  int nd = g->fwd.in[0].shape.rank - 2;
  const char *dy = g->dy[0];
  if (!dy) return NNCL_OK;
  /* explicit geometry (auto_pad resolved), in ONNX's order for nd spatial dims */
  int64_t strides[2], dil[2], pads[4], ks[2], opad[2];
  if (nd == 2) {
    int64_t s[] = {c.sh, c.sw}, d[] = {c.dh, c.dw}, p[] = {c.pt, c.pl, c.pb, c.pr},
            k[] = {c.R, c.S};
    int64_t o[] = {c.H - ((c.OH - 1) * c.sh - c.pt - c.pb + (c.R - 1) * c.dh + 1),
                   c.W - ((c.OW - 1) * c.sw - c.pl - c.pr + (c.S - 1) * c.dw + 1)};
    memcpy(strides, s, sizeof s), memcpy(dil, d, sizeof d), memcpy(pads, p, sizeof p);
    memcpy(ks, k, sizeof k), memcpy(opad, o, sizeof o);
  } else {
    strides[0] = c.sw, dil[0] = c.dw, pads[0] = c.pl, pads[1] = c.pr, ks[0] = c.S;
    opad[0] = c.W - ((c.OW - 1) * c.sw - c.pl - c.pr + (c.S - 1) * c.dw + 1);
  }
  struct nncl__attr at[6] = {{.name = "strides", .type = ATTR_INTS, .ints = strides, .n = nd},
                             {.name = "dilations", .type = ATTR_INTS, .ints = dil, .n = nd},
                             {.name = "pads", .type = ATTR_INTS, .ints = pads, .n = 2 * nd},
                             A_INT("group", c.groups),
                             {.name = "kernel_shape", .type = ATTR_INTS, .ints = ks, .n = nd},
                             {.name = "output_padding", .type = ATTR_INTS, .ints = opad, .n = nd}};
  if (g->need[0]) {
    const char *dx;
    NNCL_TRY(grad_emit1(g, "ConvTranspose", 2, (const char *[]){dy, g->x[1]}, at, 6, &dx));
    NNCL_TRY(grad_give(g, 0, dx));
  }
  if (g->need[1]) {
    const char *dw;
    NNCL_TRY(grad_emit1(g, "nncl.ConvGradWeight", 2, (const char *[]){g->x[0], dy}, at, 5, &dw));
    NNCL_TRY(grad_give(g, 1, dw));
  }
  if (g->fwd.n_in > 2 && g->x[2][0] && g->need[2]) {
    int64_t axes[] = {0, 2, 3};
    const char *db;
    NNCL_TRY(grad_reduce_sum(g, dy, nd + 1, axes, 0, &db));
    NNCL_TRY(grad_give(g, 2, db));
  }
  return NNCL_OK;
}
