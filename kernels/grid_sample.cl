/* grid_sample.cl: GridSample (opset 16) on NCHW float32: Y[n, c, ho, wo] samples X[n, c] at the
   normalised position Grid[n, ho, wo] = (x, y) in [-1, 1] with nearest, bilinear or bicubic
   (Keys, a = -0.75) interpolation and zeros / border / reflection padding, as PyTorch's
   grid_sample and the ONNX reference define them.

   One work-item per output position (wo, ho, n): the taps and weights are computed once and
   reused for every channel, and consecutive work-items write consecutive addresses of each
   channel plane. Mode, padding and alignment are kernel arguments (uniform branches), so the
   file builds once. No -D options. */
#include "common/index.cl"

#define GS_NEAREST 0
#define GS_BILINEAR 1
#define GS_BICUBIC 2
#define GS_ZEROS 0
#define GS_BORDER 1
#define GS_REFLECTION 2

/* Reflects x into [lo, hi] by bouncing off the nearer border as often as needed. */
inline float gs_reflect(float x, float lo, float hi) {
  const float rng = hi - lo;
  if (rng <= 0.0f) return lo;
  if (x < lo) {
    const float dx = lo - x;
    const int n = (int)(dx / rng);
    const float r = dx - (float)n * rng;
    return (n & 1) ? hi - r : lo + r;
  }
  if (x > hi) {
    const float dx = x - hi;
    const int n = (int)(dx / rng);
    const float r = dx - (float)n * rng;
    return (n & 1) ? lo + r : hi - r;
  }
  return x;
}

/* Index actually read for tap i of an axis of d elements, or -1 for a zero (zeros padding). */
inline int gs_tap(int i, int d, int pad, float lo, float hi) {
  if (i >= 0 && i < d) return i;
  if (pad == GS_ZEROS) return -1;
  if (pad == GS_BORDER) return clamp(i, 0, d - 1);
  return clamp((int)gs_reflect((float)i, lo, hi), 0, d - 1);
}

/* Pixel coordinate of normalised n on an axis of d elements, with the padding applied to the
   coordinate itself (border clamps, reflection reflects) when it lies outside [lo, hi]. */
inline float gs_coord(float n, int d, int align, int mode, int pad, float lo, float hi) {
  float x = align ? (n + 1.0f) * 0.5f * (float)(d - 1) : ((n + 1.0f) * (float)d - 1.0f) * 0.5f;
  if (mode == GS_NEAREST) x = rint(x);
  if (x < lo || x > hi) {
    if (pad == GS_BORDER)
      x = clamp(x, 0.0f, (float)(d - 1));
    else if (pad == GS_REFLECTION)
      x = gs_reflect(x, lo, hi);
  }
  return x;
}

/* Keys cubic convolution weights for fractional offset t in [0, 1). */
inline float4 gs_cubic(float t) {
  const float a = -0.75f;
  const float x0 = t + 1.0f, x1 = t, x2 = 1.0f - t, x3 = 2.0f - t;
  return (float4)(((a * x0 - 5.0f * a) * x0 + 8.0f * a) * x0 - 4.0f * a,
                  ((a + 2.0f) * x1 - (a + 3.0f)) * x1 * x1 + 1.0f,
                  ((a + 2.0f) * x2 - (a + 3.0f)) * x2 * x2 + 1.0f,
                  ((a * x3 - 5.0f * a) * x3 + 8.0f * a) * x3 - 4.0f * a);
}

/* Up to 4 taps per axis: indices (-1 = zero) and weights. */
inline void gs_axis(float x, int d, int mode, int pad, float lo, float hi, int4 *idx, float4 *w,
                    int *nt) {
  if (mode == GS_NEAREST) {
    const int i = (int)x; /* x is integral after rint (and reflection of an integer) */
    *idx = (int4)(gs_tap(i, d, pad, lo, hi), -1, -1, -1);
    *w = (float4)(1.0f, 0.0f, 0.0f, 0.0f);
    *nt = 1;
  } else if (mode == GS_BILINEAR) {
    const float f = floor(x);
    const int i = (int)f;
    const float t = x - f;
    *idx = (int4)(gs_tap(i, d, pad, lo, hi), gs_tap(i + 1, d, pad, lo, hi), -1, -1);
    *w = (float4)(1.0f - t, t, 0.0f, 0.0f);
    *nt = 2;
  } else {
    const float f = floor(x);
    const int i = (int)f;
    *idx = (int4)(gs_tap(i - 1, d, pad, lo, hi), gs_tap(i, d, pad, lo, hi),
                  gs_tap(i + 1, d, pad, lo, hi), gs_tap(i + 2, d, pad, lo, hi));
    *w = gs_cubic(x - f);
    *nt = 4;
  }
}

__kernel void grid_sample_2d(__global const float *x, __global const float *grid, __global float *y,
                             const int C, const int H, const int W, const int OH, const int OW,
                             const int N, const int mode, const int pad, const int align) {
  const int wo = (int)get_global_id(0), ho = (int)get_global_id(1), n = (int)get_global_id(2);
  if (wo >= OW || ho >= OH || n >= N) return;
  __global const float *g = grid + (((size_t)n * OH + ho) * OW + wo) * 2;
  const float lox = align ? 0.0f : -0.5f, hix = align ? (float)(W - 1) : (float)W - 0.5f;
  const float loy = align ? 0.0f : -0.5f, hiy = align ? (float)(H - 1) : (float)H - 0.5f;
  const float fx = gs_coord(g[0], W, align, mode, pad, lox, hix);
  const float fy = gs_coord(g[1], H, align, mode, pad, loy, hiy);
  int4 ix, iy;
  float4 wx, wy;
  int nt;
  gs_axis(fx, W, mode, pad, lox, hix, &ix, &wx, &nt);
  gs_axis(fy, H, mode, pad, loy, hiy, &iy, &wy, &nt);
  const int ixs[4] = {ix.s0, ix.s1, ix.s2, ix.s3}, iys[4] = {iy.s0, iy.s1, iy.s2, iy.s3};
  const float wxs[4] = {wx.s0, wx.s1, wx.s2, wx.s3}, wys[4] = {wy.s0, wy.s1, wy.s2, wy.s3};
  const size_t plane = (size_t)H * W, oplane = (size_t)OH * OW;
  __global const float *xp = x + (size_t)n * C * plane;
  __global float *yp = y + (size_t)n * C * oplane + (size_t)ho * OW + wo;
  for (int c = 0; c < C; c++, xp += plane, yp += oplane) {
    float acc = 0.0f;
    for (int a = 0; a < nt; a++) {
      if (iys[a] < 0) continue;
      float row = 0.0f;
      __global const float *xr = xp + (size_t)iys[a] * W;
      for (int b = 0; b < nt; b++)
        if (ixs[b] >= 0) row += wxs[b] * xr[ixs[b]];
      acc += wys[a] * row;
    }
    *yp = acc;
  }
}
