/* quant_ref.c: naive references for the quantization family (see quant_ref.h). */
#include "quant_ref.h"

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
