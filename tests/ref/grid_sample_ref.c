/* grid_sample_ref.c: naive GridSample in double (see grid_sample_ref.h). */
#include "grid_sample_ref.h"

#include <math.h>

/* GridSample helpers, straight from the ONNX definition. */
static double gs_reflect_ref(double x, double lo, double hi) {
  double rng = hi - lo;
  if (rng <= 0) return lo;
  if (x < lo) {
    double dx = lo - x;
    int64_t n = (int64_t)(dx / rng);
    double r = dx - (double)n * rng;
    return n % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    double dx = x - hi;
    int64_t n = (int64_t)(dx / rng);
    double r = dx - (double)n * rng;
    return n % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

/* Value of plane p (h x w) at integer (r, c) under the padding mode. */
static double gs_pixel(const float *p, int64_t h, int64_t w, int64_t r, int64_t c, int pad,
                       const double *lo, const double *hi) {
  const int64_t d[2] = {h, w};
  int64_t i[2] = {r, c};
  for (int a = 0; a < 2; ++a) {
    if (i[a] >= 0 && i[a] < d[a]) continue;
    if (pad == 0) return 0.0;
    if (pad == 1)
      i[a] = i[a] < 0 ? 0 : d[a] - 1;
    else
      i[a] = (int64_t)gs_reflect_ref((double)i[a], lo[a], hi[a]);
  }
  return p[i[0] * w + i[1]];
}

static void gs_cubic_ref(double t, double *cf) {
  const double a = -0.75, x0 = t + 1, x1 = t, x2 = 1 - t, x3 = 2 - t;
  cf[0] = ((a * x0 - 5 * a) * x0 + 8 * a) * x0 - 4 * a;
  cf[1] = ((a + 2) * x1 - (a + 3)) * x1 * x1 + 1;
  cf[2] = ((a + 2) * x2 - (a + 3)) * x2 * x2 + 1;
  cf[3] = ((a * x3 - 5 * a) * x3 + 8 * a) * x3 - 4 * a;
}

void ref_grid_sample(const float *x, const float *grid, int64_t n, int64_t c, int64_t h, int64_t w,
                     int64_t oh, int64_t ow, int mode, int pad, int align, float *y) {
  const int64_t d[2] = {h, w};
  double lo[2], hi[2];
  for (int a = 0; a < 2; ++a) {
    lo[a] = align ? 0.0 : -0.5;
    hi[a] = align ? (double)(d[a] - 1) : (double)d[a] - 0.5;
  }
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox) {
          const float *g = grid + ((b * oh + oy) * ow + ox) * 2;
          const float *p = x + (b * c + ch) * h * w;
          double q[2]; /* (row, column) pixel coordinates: Grid holds (x, y) */
          for (int a = 0; a < 2; ++a) {
            double nv = g[1 - a];
            q[a] = align ? (nv + 1) / 2 * (double)(d[a] - 1) : ((nv + 1) * (double)d[a] - 1) / 2;
            if (mode == 0) q[a] = nearbyint(q[a]);
            if (q[a] < lo[a] || q[a] > hi[a]) {
              if (pad == 1)
                q[a] = q[a] < 0 ? 0 : q[a] > (double)(d[a] - 1) ? (double)(d[a] - 1) : q[a];
              else if (pad == 2)
                q[a] = gs_reflect_ref(q[a], lo[a], hi[a]);
            }
          }
          double v = 0;
          if (mode == 0) {
            v = gs_pixel(p, h, w, (int64_t)q[0], (int64_t)q[1], pad, lo, hi);
          } else {
            int nt = mode == 1 ? 2 : 4, off = mode == 1 ? 0 : -1;
            double cr[4], cc[4];
            int64_t r0 = (int64_t)floor(q[0]), c0 = (int64_t)floor(q[1]);
            if (mode == 1) {
              cr[0] = 1 - (q[0] - (double)r0), cr[1] = q[0] - (double)r0;
              cc[0] = 1 - (q[1] - (double)c0), cc[1] = q[1] - (double)c0;
            } else {
              gs_cubic_ref(q[0] - (double)r0, cr);
              gs_cubic_ref(q[1] - (double)c0, cc);
            }
            for (int i = 0; i < nt; ++i)
              for (int j = 0; j < nt; ++j)
                v += cr[i] * cc[j] * gs_pixel(p, h, w, r0 + off + i, c0 + off + j, pad, lo, hi);
          }
          y[((b * c + ch) * oh + oy) * ow + ox] = (float)v;
        }
}
