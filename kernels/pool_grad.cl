/* pool_grad.cl: MaxPool and AveragePool input gradients (lib/train/op_pool_grad.c), 1-D or 2-D
   (1-D has IH = OH = kh = 1). One work-item per input element gathers from every output window
   that covers it, so there are no atomics and the sum order is fixed (deterministic); windows
   that tile the input exactly take pool_grad_max_tiled, one work-item per window.
   Windows follow kernels/pool.cl exactly: taps clipped by common/pool_taps.cl's pool_taps (as
   pool.cl does), the max window's winner is the first maximum in row-major scan order
   (NaN wins), and the average divides by the taps inside the input, or inside the padded
   extent with include_pad.
   No -D parameters. */
#include "common/index.cl"
#include "common/pool_taps.cl"

/* Loops over the windows (oh, ow) whose tap (th, tw) lands on input (ih, iw). */
#define FOR_COVERING_WINDOWS(...)                                                                  \
  for (int th = 0; th < kh; th++) {                                                                \
    const int nh = ih + ph - th * dh;                                                              \
    if (nh < 0 || nh % sh) continue;                                                               \
    const int oh = nh / sh;                                                                        \
    if (oh >= OH) continue;                                                                        \
    for (int tw = 0; tw < kw; tw++) {                                                              \
      const int nw = iw + pw - tw * dw;                                                            \
      if (nw < 0 || nw % sw) continue;                                                             \
      const int ow = nw / sw;                                                                      \
      if (ow >= OW) continue;                                                                      \
      __VA_ARGS__                                                                                  \
    }                                                                                              \
  }

__kernel void pool_grad_max(__global const float *x, __global const float *dy, __global float *dx,
                            const uint n, const int IH, const int IW, const int OH, const int OW,
                            const int kh, const int kw, const int sh, const int sw, const int ph,
                            const int pw, const int dh, const int dw) {
  const uint i = get_global_id(0);
  GUARD(i, n);
  const uint row = i / (uint)(IH * IW);
  const int ih = (int)(i % (uint)(IH * IW)) / IW, iw = (int)(i % (uint)IW);
  __global const float *xr = x + (size_t)row * IH * IW;
  __global const float *dyr = dy + (size_t)row * OH * OW;
  float acc = 0.0f;
  FOR_COVERING_WINDOWS({
    const int2 rh = pool_taps(oh, kh, sh, ph, dh, 0, IH);
    const int2 rw = pool_taps(ow, kw, sw, pw, dw, 0, IW);
    float best = -INFINITY;
    int bh = -1, bw = -1;
    for (int a = rh.x; a < rh.y; a++)
      for (int b = rw.x; b < rw.y; b++) {
        const int yh = oh * sh - ph + a * dh, yw = ow * sw - pw + b * dw;
        const float v = xr[yh * IW + yw];
        if (v > best || isnan(v) || bh < 0) {
          best = v;
          bh = yh;
          bw = yw;
        }
      }
    if (bh == ih && bw == iw) acc += dyr[oh * OW + ow];
  })
  dx[i] = acc;
}

/* Max-pool gradient when the windows tile the input exactly (stride = kernel, no padding or
   dilation, IH = OH kh, IW = OW kw: every input element lies in exactly one window): one
   work-item per window finds its winner once (the same scan and NaN rule as pool_grad_max) and
   writes the whole window's gradient, instead of every input element re-scanning its window. */
__kernel void pool_grad_max_tiled(__global const float *x, __global const float *dy,
                                  __global float *dx, const uint n, const int IH, const int IW,
                                  const int OH, const int OW, const int kh, const int kw) {
  const uint o = get_global_id(0);
  GUARD(o, n);
  const uint row = o / (uint)(OH * OW);
  const int oh = (int)(o % (uint)(OH * OW)) / OW, ow = (int)(o % (uint)OW);
  const size_t base = (size_t)row * IH * IW + (size_t)(oh * kh) * IW + (size_t)(ow * kw);
  float best = -INFINITY;
  int ba = -1, bb = -1;
  for (int a = 0; a < kh; a++)
    for (int b = 0; b < kw; b++) {
      const float v = x[base + (size_t)a * IW + b];
      if (v > best || isnan(v) || ba < 0) {
        best = v;
        ba = a;
        bb = b;
      }
    }
  const float g = dy[o];
  for (int a = 0; a < kh; a++)
    for (int b = 0; b < kw; b++) dx[base + (size_t)a * IW + b] = a == ba && b == bb ? g : 0.0f;
}

__kernel void pool_grad_avg(__global const float *dy, __global float *dx, const uint n,
                            const int IH, const int IW, const int OH, const int OW, const int kh,
                            const int kw, const int sh, const int sw, const int ph, const int pw,
                            const int dh, const int dw, const int peh, const int pew,
                            const int include_pad) {
  const uint i = get_global_id(0);
  GUARD(i, n);
  const uint row = i / (uint)(IH * IW);
  const int ih = (int)(i % (uint)(IH * IW)) / IW, iw = (int)(i % (uint)IW);
  __global const float *dyr = dy + (size_t)row * OH * OW;
  float acc = 0.0f;
  FOR_COVERING_WINDOWS({
    int2 rh, rw;
    if (include_pad) {
      rh = pool_taps(oh, kh, sh, ph, dh, -ph, IH + peh);
      rw = pool_taps(ow, kw, sw, pw, dw, -pw, IW + pew);
    } else {
      rh = pool_taps(oh, kh, sh, ph, dh, 0, IH);
      rw = pool_taps(ow, kw, sw, pw, dw, 0, IW);
    }
    const int cnt = (rh.y - rh.x) * (rw.y - rw.x);
    acc += dyr[oh * OW + ow] / (float)cnt;
  })
  dx[i] = acc;
}
