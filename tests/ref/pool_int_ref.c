/* pool_int_ref.c: naive integer MaxPool (see pool_int_ref.h). */
#include "pool_int_ref.h"

void ref_maxpool2d_int(const int32_t *x, int64_t rows, int64_t h, int64_t w, int64_t kh, int64_t kw,
                       int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t oh, int64_t ow,
                       int32_t lowest, int32_t *y, int64_t *idx) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        int32_t best = lowest;
        int64_t bi = -1;
        for (int64_t ky = 0; ky < kh; ++ky)
          for (int64_t kx = 0; kx < kw; ++kx) {
            int64_t iy = oy * sh - ph + ky, ix = ox * sw - pw + kx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            int32_t v = x[(r * h + iy) * w + ix];
            if (bi < 0 || v > best) best = v, bi = (r * h + iy) * w + ix;
          }
        y[(r * oh + oy) * ow + ox] = best;
        if (idx) idx[(r * oh + oy) * ow + ox] = bi;
      }
}
