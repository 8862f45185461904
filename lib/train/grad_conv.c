/* grad_conv.c: Conv's backward rule. The data gradient is a ConvTranspose of dY with the same
   weights (same strides, pads, dilations and groups; output_padding restores the rows a strided
   forward skipped), or for stride 1 a plain Conv with flipped weights; the weight gradient
   nncl.ConvGradWeight (X, dY), the bias gradient a ReduceSum of dY over batch and space. */
#include <stdint.h>
#include <string.h>

#include "conv.h"
#include "grad.h"

/* Stride 1 with pads <= dilation * (kernel - 1): the data gradient is an ordinary Conv of dY with
   the weights transposed per group and flipped in space, padded by dilation * (kernel - 1) - pad,
   so it runs on the forward conv algorithms (several times faster than ConvTranspose's GEMM +
   col2im on CPUs). */
static int flip_applies(const struct conv_geom *c, int nd) {
  int ok = c->sw == 1 && c->pl <= c->dw * (c->S - 1) && c->pr <= c->dw * (c->S - 1);
  if (nd == 2) ok = ok && c->sh == 1 && c->pt <= c->dh * (c->R - 1) && c->pb <= c->dh * (c->R - 1);
  return ok;
}

static nncl_status data_grad_flipped(struct op_grad *g, const struct conv_geom *c, int nd,
                                     const char *dy, const char **dx) {
  const char *w = g->x[1], *wt;
  int r = nd + 2;
  if (c->groups == 1) {
    int64_t perm[4] = {1, 0, 2, 3};
    struct nncl__attr p = {.name = "perm", .type = ATTR_INTS, .ints = perm, .n = r};
    NNCL_TRY(grad_emit1(g, "Transpose", 1, &w, &p, 1, &wt));
  } else { /* [G, Kg, Cg, k...] -> [G, Cg, Kg, k...] -> [C, Kg, k...] */
    int64_t s5[5] = {c->groups, c->Kg, c->Cg, nd == 2 ? c->R : c->S, c->S},
            perm[5] = {0, 2, 1, 3, 4};
    int64_t s4[4] = {c->C, c->Kg, nd == 2 ? c->R : c->S, c->S};
    const char *a, *b, *sa, *sb;
    NNCL_TRY(grad_const_i64(g, r + 1, s5, &sa));
    NNCL_TRY(grad_const_i64(g, r, s4, &sb));
    struct nncl__attr p = {.name = "perm", .type = ATTR_INTS, .ints = perm, .n = r + 1};
    NNCL_TRY(grad_emit1(g, "Reshape", 2, (const char *[]){w, sa}, NULL, 0, &a));
    NNCL_TRY(grad_emit1(g, "Transpose", 1, &a, &p, 1, &b));
    NNCL_TRY(grad_emit1(g, "Reshape", 2, (const char *[]){b, sb}, NULL, 0, &wt));
  }
  int64_t starts[2] = {-1, -1}, ends[2] = {INT64_MIN, INT64_MIN}, axes[2] = {2, 3},
          steps[2] = {-1, -1};
  const char *cs, *ce, *ca, *ct, *wf;
  NNCL_TRY(grad_const_i64(g, nd, starts, &cs));
  NNCL_TRY(grad_const_i64(g, nd, ends, &ce));
  NNCL_TRY(grad_const_i64(g, nd, axes, &ca));
  NNCL_TRY(grad_const_i64(g, nd, steps, &ct));
  NNCL_TRY(grad_emit1(g, "Slice", 5, (const char *[]){wt, cs, ce, ca, ct}, NULL, 0, &wf));
  int64_t pads[4], dil[2];
  if (nd == 2) {
    int64_t p[4] = {c->dh * (c->R - 1) - c->pt, c->dw * (c->S - 1) - c->pl,
                    c->dh * (c->R - 1) - c->pb, c->dw * (c->S - 1) - c->pr};
    memcpy(pads, p, sizeof p);
    dil[0] = c->dh, dil[1] = c->dw;
  } else {
    pads[0] = c->dw * (c->S - 1) - c->pl, pads[1] = c->dw * (c->S - 1) - c->pr;
    dil[0] = c->dw;
  }
  struct nncl__attr at[3] = {{.name = "pads", .type = ATTR_INTS, .ints = pads, .n = 2 * nd},
                             {.name = "dilations", .type = ATTR_INTS, .ints = dil, .n = nd},
                             A_INT("group", c->groups)};
  return grad_emit1(g, "Conv", 2, (const char *[]){dy, wf}, at, 3, dx);
}

/* ConvTranspose is the adjoint of the Conv with the same weights and geometry, so dX is that Conv
   of dY and dW its weight gradient with dY as the input and X as the output gradient. */
static nncl_status grad_conv_transpose(struct op_grad *g, const struct conv_geom *c, int nd,
                                       const struct nncl__attr *at) {
  const char *dy = g->dy[0], *d;
  for (int i = 0; i < 2 * nd; i++)
    if (at[2].ints[i] < 0) return grad_no_rule(g, "with an output_shape beyond the natural size");
  if (g->need[0]) {
    NNCL_TRY(grad_emit1(g, "Conv", 2, (const char *[]){dy, g->x[1]}, at, 5, &d));
    NNCL_TRY(grad_give(g, 0, d));
  }
  if (g->need[1]) {
    NNCL_TRY(grad_emit1(g, "nncl.ConvGradWeight", 2, (const char *[]){dy, g->x[0]}, at, 5, &d));
    NNCL_TRY(grad_give(g, 1, d));
  }
  if (g->fwd.n_in > 2 && g->x[2][0] && g->need[2]) {
    int64_t axes[] = {0, 2, 3};
    NNCL_TRY(grad_reduce_sum(g, dy, nd + 1, axes, 0, &d));
    NNCL_TRY(grad_give(g, 2, d));
  }
  (void)c;
  return NNCL_OK;
}

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
  if (c.transpose) return grad_conv_transpose(g, &c, nd, at);
  if (g->need[0]) {
    const char *dx;
    if (flip_applies(&c, nd))
      NNCL_TRY(data_grad_flipped(g, &c, nd, dy, &dx));
    else
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
