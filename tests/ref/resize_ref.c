/* resize_ref.c: naive resize references (see resize_ref.h). */
#include "resize_ref.h"

#include <math.h>
#include <stdlib.h>

/* Coefficients for the fractional position ratio in (0, 1] (1 for integer positions). */
static int coeffs(const struct resize_ref *r, int axis, double ratio, int integer, double *c) {
  if (r->mode == RREF_NEAREST) {
    int take_second;
    if (integer)
      take_second = 1;
    else
      switch (r->round) {
      case RREF_PREFER_FLOOR: take_second = ratio > 0.5; break;
      case RREF_PREFER_CEIL: take_second = ratio >= 0.5; break;
      case RREF_FLOOR: take_second = 0; break;
      case RREF_CEIL: take_second = 1; break;
      default: take_second = r->scale[axis] < 1.0; break;
      }
    c[0] = !take_second;
    c[1] = take_second;
    return 2;
  }
  if (r->mode == RREF_LINEAR) {
    c[0] = 1 - ratio;
    c[1] = ratio;
    return 2;
  }
  const double A = r->cubic_a;
  c[0] = ((A * (ratio + 1) - 5 * A) * (ratio + 1) + 8 * A) * (ratio + 1) - 4 * A;
  c[1] = ((A + 2) * ratio - (A + 3)) * ratio * ratio + 1;
  c[2] = ((A + 2) * (1 - ratio) - (A + 3)) * (1 - ratio) * (1 - ratio) + 1;
  c[3] = ((A * ((1 - ratio) + 1) - 5 * A) * ((1 - ratio) + 1) + 8 * A) * ((1 - ratio) + 1) - 4 * A;
  return 4;
}

/* interpolate_1d_with_x of the ONNX reference, over data[0..n). */
static double interp_1d(const struct resize_ref *r, int axis, const double *data, int64_t n,
                        int64_t xo) {
  const double s = r->scale[axis], len = s * (double)n;
  double x;
  switch (r->coord) {
  case RREF_ALIGN_CORNERS: x = len == 1 ? 0 : (double)xo * (double)(n - 1) / (len - 1); break;
  case RREF_ASYMMETRIC: x = (double)xo / s; break;
  case RREF_TF_CROP: {
    const double lo = r->roi[axis], hi = r->roi[axis + r->rank];
    x = len == 1 ? (hi - lo) * (double)(n - 1) / 2
                 : (double)xo * (hi - lo) * (double)(n - 1) / (len - 1);
    x += lo * (double)(n - 1);
    if (x < 0 || x > (double)(n - 1)) return r->extrapolation;
    break;
  }
  /* The ONNX text gives 0 for a single output; its Python reference uses -0.5. */
  case RREF_PYTORCH_HALF_PIXEL: x = len > 1 ? ((double)xo + 0.5) / s - 0.5 : 0; break;
  case RREF_TF_HALF_PIXEL_NN: x = ((double)xo + 0.5) / s; break;
  default: x = ((double)xo + 0.5) / s - 0.5; break;
  }
  const double fl = floor(x);
  const int integer = x == fl;
  double c[4];
  const int nt = coeffs(r, axis, integer ? 1.0 : x - fl, integer, c);
  /* The nt nearest positions to x in the edge-padded array, ties to the smaller index. */
  const int64_t pad = (nt + 1) / 2, plen = n + 2 * pad;
  const double xp = x + (double)pad;
  int64_t chosen[4];
  int have = 0;
  while (have < nt) {
    int64_t best = -1;
    for (int64_t i = 0; i < plen; i++) {
      int used = 0;
      for (int k = 0; k < have; k++) used |= chosen[k] == i;
      if (used) continue;
      if (best < 0 || fabs(xp - (double)i) < fabs(xp - (double)best)) best = i;
    }
    chosen[have++] = best;
  }
  for (int a = 0; a < nt; a++) /* ascending order */
    for (int b = a + 1; b < nt; b++)
      if (chosen[b] < chosen[a]) {
        int64_t t = chosen[a];
        chosen[a] = chosen[b];
        chosen[b] = t;
      }
  double sum = 0, acc = 0;
  for (int k = 0; k < nt; k++) {
    const int64_t idx = chosen[k] - pad;
    if (r->exclude_outside && (idx < 0 || idx >= n)) c[k] = 0;
    sum += c[k];
  }
  for (int k = 0; k < nt; k++) {
    const int64_t idx = chosen[k] - pad;
    const double v = data[idx < 0 ? 0 : idx >= n ? n - 1 : idx];
    acc += (r->exclude_outside ? c[k] / sum : c[k]) * v;
  }
  return acc;
}

/* interpolate_nd_with_x: value at output coordinate xo of the sub-array starting at axis. */
static double interp_nd(const struct resize_ref *r, int axis, const float *x, const int64_t *xo) {
  const int64_t n = r->in[axis];
  double *vals = malloc((size_t)n * sizeof *vals);
  int64_t stride = 1;
  for (int a = axis + 1; a < r->rank; a++) stride *= r->in[a];
  for (int64_t i = 0; i < n; i++)
    vals[i] = axis == r->rank - 1 ? (double)x[i] : interp_nd(r, axis + 1, x + i * stride, xo);
  double v = interp_1d(r, axis, vals, n, xo[axis]);
  free(vals);
  return v;
}

void resize_ref_run(const struct resize_ref *r, const float *x, float *y) {
  int64_t total = 1;
  for (int a = 0; a < r->rank; a++) total *= r->out[a];
  for (int64_t o = 0; o < total; o++) {
    int64_t xo[4], t = o;
    for (int a = r->rank - 1; a >= 0; a--) {
      xo[a] = t % r->out[a];
      t /= r->out[a];
    }
    y[o] = (float)interp_nd(r, 0, x, xo);
  }
}

void resize_ref_depth_to_space(const float *x, int64_t n, int64_t c, int64_t h, int64_t w,
                               int64_t b, int crd, float *y) {
  const int64_t oc = c / (b * b);
  /* DCR: view [n, b, b, oc, h, w] -> [n, oc, h, b, w, b]; CRD: view [n, oc, b, b, h, w]. */
  for (int64_t in = 0; in < n; in++)
    for (int64_t i = 0; i < b; i++)
      for (int64_t j = 0; j < b; j++)
        for (int64_t ch = 0; ch < oc; ch++)
          for (int64_t hh = 0; hh < h; hh++)
            for (int64_t ww = 0; ww < w; ww++) {
              const int64_t src_c = crd ? ch * b * b + i * b + j : (i * b + j) * oc + ch;
              const float v = x[((in * c + src_c) * h + hh) * w + ww];
              y[((in * oc + ch) * h * b + hh * b + i) * w * b + ww * b + j] = v;
            }
}

void resize_ref_space_to_depth(const float *x, int64_t n, int64_t c, int64_t h, int64_t w,
                               int64_t b, float *y) {
  const int64_t oh = h / b, ow = w / b;
  /* view [n, c, oh, b, ow, b] -> [n, b, b, c, oh, ow] */
  for (int64_t in = 0; in < n; in++)
    for (int64_t ch = 0; ch < c; ch++)
      for (int64_t hh = 0; hh < oh; hh++)
        for (int64_t i = 0; i < b; i++)
          for (int64_t ww = 0; ww < ow; ww++)
            for (int64_t j = 0; j < b; j++)
              y[((in * b * b * c + (i * b + j) * c + ch) * oh + hh) * ow + ww] =
                  x[((in * c + ch) * h + hh * b + i) * w + ww * b + j];
}
