/* conv_ref.h: naive reference Conv and ConvTranspose (NCHW, double accumulation) that the conv
   tests check every algorithm against. */
#ifndef NNCL_CONV_REF_H
#define NNCL_CONV_REF_H

#include <stdint.h>

#include "op.h"

/* Geometry in explicit form: pads begin/end per axis, 2-D (1-D uses H = R = 1). */
struct conv_ref_geom {
  int64_t N, C, H, W, K, R, S;
  int64_t sh, sw, dh, dw, pt, pl, pb, pr, groups;
  int64_t oph, opw; /* ConvTranspose output_padding */
};

/* Output size of a Conv / ConvTranspose with these parameters. */
void conv_ref_out_size(const struct conv_ref_geom *g, int transpose, int64_t *oh, int64_t *ow);
/* y[N][K][OH][OW] = conv(x, w) + b (b may be NULL), then the epilogue with residual res. */
void conv_ref(const struct conv_ref_geom *g, const float *x, const float *w, const float *b,
              const struct op_epilogue *epi, const float *res, float *y);
/* ConvTranspose: x[N][C][H][W], w[C][K/groups][R][S]. */
void conv_transpose_ref(const struct conv_ref_geom *g, const float *x, const float *w,
                        const float *b, const struct op_epilogue *epi, const float *res, float *y);

#endif
