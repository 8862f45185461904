/* ops2c_ref.c: naive references for the quantization family (see ops2c_ref.h). */
#include "ops2c_ref.h"

#include <math.h>

static int32_t sat(float v, int32_t lo, int32_t hi) {
  float r = nearbyintf(v); /* round half to even in the default rounding mode */
  return r < (float)lo ? lo : r > (float)hi ? hi : (int32_t)r;
}

void ref_quantize(const float *x, int64_t n, int64_t inner, int64_t axis_n, const float *scale,
                  const int32_t *zp, int32_t qmin, int32_t qmax, int32_t *y) {
  for (int64_t i = 0; i < n; ++i) {
    int64_t a = (i / inner) % axis_n;
    y[i] = sat(nearbyintf(x[i] / scale[a]) + (float)(zp ? zp[a] : 0), qmin, qmax);
  }
}

void ref_dequantize(const int32_t *x, int64_t n, int64_t inner, int64_t axis_n, const float *scale,
                    const int32_t *zp, float *y) {
  for (int64_t i = 0; i < n; ++i) {
    int64_t a = (i / inner) % axis_n;
    y[i] = (float)(x[i] - (zp ? zp[a] : 0)) * scale[a];
  }
}

void ref_dynamic_quantize(const float *x, int64_t n, int32_t *y, float *scale, int32_t *zp) {
  float lo = 0, hi = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  *scale = (hi - lo) / 255.0f;
  *zp = *scale > 0 ? sat(0.0f - lo / *scale, 0, 255) : 0;
  for (int64_t i = 0; i < n; ++i)
    y[i] = *scale > 0 ? sat(nearbyintf(x[i] / *scale) + (float)*zp, 0, 255) : *zp;
}

static int32_t finish(int64_t acc, const struct ref_requant *rq, int64_t ch) {
  if (!rq) return (int32_t)acc;
  float mul = rq->a_scale[0] * rq->b_scale[rq->bs_n > 1 ? ch : 0] / rq->y_scale[0];
  return sat(nearbyintf((float)acc * mul) + (float)rq->y_zp, rq->qmin, rq->qmax);
}

void ref_qmatmul(const int32_t *a, const int32_t *b, int64_t batch, int64_t na, int64_t nb,
                 int64_t m, int64_t n, int64_t k, const int32_t *za, int64_t za_n,
                 const int32_t *zb, int64_t zb_n, const struct ref_requant *rq, int32_t *c) {
  for (int64_t t = 0; t < batch; ++t) {
    const int32_t *ap = a + (t % na) * m * k, *bp = b + (t % nb) * k * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        int64_t acc = 0;
        int32_t zai = za ? za[za_n > 1 ? i : 0] : 0, zbj = zb ? zb[zb_n > 1 ? j : 0] : 0;
        for (int64_t p = 0; p < k; ++p)
          acc += (int64_t)(ap[i * k + p] - zai) * (bp[p * n + j] - zbj);
        c[(t * m + i) * n + j] = finish(acc, rq, j);
      }
  }
}

void ref_qconv(const int32_t *x, const int32_t *w, const struct ref_qconv *g, int32_t zx,
               const int32_t *zw, int64_t zw_n, const int32_t *bias, const struct ref_requant *rq,
               int32_t *y) {
  int64_t cg = g->c / g->group, mg = g->m / g->group;
  for (int64_t b = 0; b < g->n; ++b)
    for (int64_t m = 0; m < g->m; ++m)
      for (int64_t oy = 0; oy < g->oh; ++oy)
        for (int64_t ox = 0; ox < g->ow; ++ox) {
          int64_t acc = bias ? bias[m] : 0;
          int32_t z = zw ? zw[zw_n > 1 ? m : 0] : 0;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t ky = 0; ky < g->kh; ++ky)
              for (int64_t kx = 0; kx < g->kw; ++kx) {
                int64_t iy = oy * g->sh - g->ph + ky * g->dh, ix = ox * g->sw - g->pw + kx * g->dw;
                if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
                int64_t ci = (m / mg) * cg + c;
                acc += (int64_t)(x[((b * g->c + ci) * g->h + iy) * g->w + ix] - zx) *
                       (w[((m * cg + c) * g->kh + ky) * g->kw + kx] - z);
              }
          y[((b * g->m + m) * g->oh + oy) * g->ow + ox] = finish(acc, rq, m);
        }
}

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

void ref_batchnorm_train(const float *x, int64_t n, int64_t c, int64_t s, const float *scale,
                         const float *bias, const float *in_mean, const float *in_var, float eps,
                         float momentum, float *y, float *run_mean, float *run_var) {
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0, sq = 0, cnt = (double)(n * s);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < s; ++i) sum += x[(b * c + ch) * s + i];
    double mean = sum / cnt;
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < s; ++i) {
        double d = x[(b * c + ch) * s + i] - mean;
        sq += d * d;
      }
    double var = sq / cnt, a = scale[ch] / sqrt(var + eps);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < s; ++i) {
        int64_t o = (b * c + ch) * s + i;
        y[o] = (float)((x[o] - mean) * a + bias[ch]);
      }
    run_mean[ch] = (float)(in_mean[ch] * momentum + mean * (1.0 - momentum));
    run_var[ch] = (float)(in_var[ch] * momentum + var * (1.0 - momentum));
  }
}

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
