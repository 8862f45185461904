/* resize.cl: Resize/Upsample (nearest, linear, cubic) and DepthToSpace/SpaceToDepth for float32
   tensors viewed as 4-D [D0, D1, D2, D3] (lower ranks get leading unit axes).

   Coordinate transforms, rounding modes, edge clamping, cubic coefficients and exclude_outside are
   all resolved on the host into per-axis tables when the op is planned (they depend only on
   shapes and attributes), so the kernels only gather: nearest reads one source index per axis,
   linear/cubic read TAPS source indices and weights per output row and column. A negative index
   marks a tf_crop_and_resize coordinate outside the input: the output is the extrapolation value.

   Work-items run along the output's last axis (3-D ranges: last axis, next-to-last, the rest),
   so each group writes contiguous memory and reads neighbouring source columns, and work-items
   need at most one division to find their position. No -D options: the file builds once. */
#include "common/index.cl"

/* Nearest: tab holds, back to back, the source index of every output position of axis 0, 1, 2
   and 3. Work-item (o3, o2, t) with t enumerating (o0, o1); planes = out_dims.x * out_dims.y. */
__kernel void resize_nearest(__global const float *x, __global float *y, __global const int *tab,
                             const int4 in_dims, const int4 out_dims, const uint planes,
                             const float extrapolation) {
  const uint o3 = get_global_id(0), o2 = get_global_id(1), t = get_global_id(2);
  if (o3 >= (uint)out_dims.w || o2 >= (uint)out_dims.z || t >= planes) return;
  const uint o1 = t % (uint)out_dims.y, o0 = t / (uint)out_dims.y;
  const size_t r = (size_t)t * out_dims.z + o2;
  const int i0 = tab[o0];
  const int i1 = tab[out_dims.x + o1];
  const int i2 = tab[out_dims.x + out_dims.y + o2];
  const int i3 = tab[out_dims.x + out_dims.y + out_dims.z + o3];
  float v = extrapolation;
  if ((i0 | i1 | i2 | i3) >= 0)
    v = x[(((size_t)i0 * in_dims.y + i1) * in_dims.z + i2) * in_dims.w + i3];
  y[(size_t)r * out_dims.w + o3] = v;
}

/* Linear (taps = 2) or cubic (taps = 4) over the last two axes; the leading axes map one to one.
   itab/wtab hold taps source rows and weights per output row (oh), then taps source columns and
   weights per output column (ow). Work-item (ow, oh, plane). */
__kernel void resize_interp(__global const float *x, __global float *y, __global const int *itab,
                            __global const float *wtab, const int ih, const int iw, const int oh,
                            const int ow, const uint planes, const int taps,
                            const float extrapolation) {
  const uint c = get_global_id(0), h = get_global_id(1), plane = get_global_id(2);
  if (c >= (uint)ow || h >= (uint)oh || plane >= planes) return;
  const size_t r = (size_t)plane * oh + h;
  __global const int *rh = itab + h * taps, *rw = itab + (oh + c) * taps;
  __global const float *wh = wtab + h * taps, *ww = wtab + (oh + c) * taps;
  float v = extrapolation;
  if (rh[0] >= 0 && rw[0] >= 0) {
    __global const float *xp = x + (size_t)plane * ih * iw;
    v = 0.0f;
    for (int a = 0; a < taps; a++) {
      __global const float *xr = xp + (size_t)rh[a] * iw;
      float s = 0.0f;
      for (int b = 0; b < taps; b++) s += ww[b] * xr[rw[b]];
      v += wh[a] * s;
    }
  }
  y[(size_t)r * ow + c] = v;
}

/* DepthToSpace: y[n, c, h, w] = x[n, ic, h / b, w / b] with (i, j) = (h % b, w % b) and
   ic = (i*b + j)*C + c (DCR) or c*b*b + i*b + j (CRD). C, H, W are output extents. Work-item
   (w, h, t) with t enumerating (n, c); planes = N * C. */
__kernel void resize_depth_to_space(__global const float *x, __global float *y, const int C,
                                    const int H, const int W, const int b, const uint planes,
                                    const int crd) {
  const uint w = get_global_id(0), h = get_global_id(1), t = get_global_id(2);
  if (w >= (uint)W || h >= (uint)H || t >= planes) return;
  const uint c = t % (uint)C, n = t / (uint)C;
  const size_t r = (size_t)t * H + h;
  const uint i = h % (uint)b, j = w % (uint)b;
  const uint ic = crd ? (c * b + i) * b + j : (i * b + j) * C + c;
  const uint IH = H / b, IW = W / b;
  y[(size_t)r * W + w] = x[(((size_t)n * C * b * b + ic) * IH + h / b) * IW + w / b];
}

/* SpaceToDepth: y[n, (i*b + j)*C + c, h, w] = x[n, c, h*b + i, w*b + j]. C is the input channel
   count, H, W the output extents. Work-item (w, h, t) with t enumerating (n, oc); planes is
   N * C*b*b. */
__kernel void resize_space_to_depth(__global const float *x, __global float *y, const int C,
                                    const int H, const int W, const int b, const uint planes) {
  const uint w = get_global_id(0), h = get_global_id(1), t = get_global_id(2);
  if (w >= (uint)W || h >= (uint)H || t >= planes) return;
  const uint OC = C * b * b, oc = t % OC, n = t / OC;
  const uint c = oc % (uint)C, ij = oc / (uint)C, i = ij / b, j = ij % b;
  const size_t r = (size_t)t * H + h;
  y[r * W + w] = x[(((size_t)n * C + c) * H * b + h * b + i) * (size_t)(W * b) + w * b + j];
}
