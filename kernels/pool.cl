/* pool.cl: pooling kernels (MaxPool, AveragePool, LpPool, their Global forms, MaxUnpool) for
   NCHW float32 tensors. Windowed kernels treat 1-D and 2-D pools as 3-D pools with leading unit
   extents, so one kernel serves every spatial rank up to 3.

   Windowed kernels: one work-item per output element on a 3-D range (ow, oh, row * OD + od), so
   consecutive work-items run along the output's last axis and a work-group reads neighbouring
   input rows (coalesced, each input read once per output window that covers it), and only 3-D
   pools divide to find a work-item's position. Valid kernel-tap ranges are computed once per output
   so the inner loops carry no bounds tests.

   Global kernels: `lanes` work-items (a power of two) share one (n, c) row, striding through it
   so loads are coalesced, then combine through local memory; a work-group holds
   get_local_size(0) / lanes rows. lanes = 1 (one work-item per row, no barrier) suits CPUs and
   short rows; long rows on GPUs use a whole work-group per row.

   Every kernel takes its geometry as arguments, so the file builds once per element type.
   -D T: element type of pool_max / pool_max_noidx (MaxPool on uint8 / int8); default float.
      With T set, also -D T_LOWEST (the type's smallest value) and -D T_IS_FLOAT=0. The other
      kernels are float32 only. */
#include "common/index.cl"

#ifndef T
#define T float
#define T_LOWEST (-INFINITY)
#define T_IS_FLOAT 1
#endif
#ifndef T_IS_FLOAT
#define T_IS_FLOAT 0
#endif
#if T_IS_FLOAT
#define T_ISNAN(v) isnan(v)
#define T_MAX2(a, b) pool_max2((a), (b))
#else
#define T_ISNAN(v) 0
#define T_MAX2(a, b) max((a), (b))
#endif

/* First and one-past-last kernel tap of output position o whose input position lies in
   [lo, hi). Taps are pos = o*s - p + t*d. */
inline int2 pool_taps(int o, int k, int s, int p, int d, int lo, int hi) {
  const int start = o * s - p;
  int t0 = 0, t1 = k;
  if (start < lo) t0 = (lo - start + d - 1) / d;
  const int last_ok = hi - 1 - start; /* largest t*d allowed */
  if (last_ok < 0)
    t1 = 0;
  else if ((k - 1) * d > last_ok)
    t1 = last_ok / d + 1;
  return (int2)(t0, max(t0, t1));
}

/* max keeps NaN (fmax would drop it): ONNX follows numpy, where a NaN in the window wins */
inline float pool_max2(float a, float b) { return (a > b || isnan(a)) ? a : b; }

/* Position of this work-item: (ow, oh) from dims 0 and 1; dim 2 enumerates (row, od). */
#define POOL_POSITION(out_dhw)                                                                     \
  const int ow = (int)get_global_id(0), oh = (int)get_global_id(1);                                \
  const uint z_ = (uint)get_global_id(2);                                                          \
  if (ow >= (out_dhw).z || oh >= (out_dhw).y || z_ >= zn) return;                                  \
  const int od = (out_dhw).x == 1 ? 0 : (int)(z_ % (uint)(out_dhw).x);                             \
  const uint row = (out_dhw).x == 1 ? z_ : z_ / (uint)(out_dhw).x;                                 \
  const size_t o = (((size_t)z_ * (out_dhw).y) + oh) * (out_dhw).z + ow

/* Max over the window. Indices (when has_idx) is the flattened NC(D)HW input position; with
   col_major the spatial part is Fortran-ordered (ONNX storage_order = 1). Ties keep the first
   position in row-major scan order; NaN propagates (as numpy and PyTorch do). A window with no
   valid tap yields -inf and index -1. */
__kernel void pool_max(__global const T *x, __global T *y, __global long *idx, const uint zn,
                       const int has_idx, const int col_major, const int4 in_dhw,
                       const int4 out_dhw, const int4 k, const int4 s, const int4 p, const int4 d) {
  POOL_POSITION(out_dhw);
  const int ID = in_dhw.x, IH = in_dhw.y, IW = in_dhw.z;
  const int2 rd = pool_taps(od, k.x, s.x, p.x, d.x, 0, ID);
  const int2 rh = pool_taps(oh, k.y, s.y, p.y, d.y, 0, IH);
  const int2 rw = pool_taps(ow, k.z, s.z, p.z, d.z, 0, IW);
  const size_t plane = (size_t)ID * IH * IW;
  __global const T *xr = x + (size_t)row * plane;
  T best = T_LOWEST;
  int bd = -1, bh = -1, bw = -1;
  for (int td = rd.x; td < rd.y; td++) {
    const int id = od * s.x - p.x + td * d.x;
    for (int th = rh.x; th < rh.y; th++) {
      const int ih = oh * s.y - p.y + th * d.y;
      __global const T *xl = xr + ((size_t)id * IH + ih) * IW;
      for (int tw = rw.x; tw < rw.y; tw++) {
        const int iw = ow * s.z - p.z + tw * d.z;
        const T v = xl[iw];
        if (v > best || T_ISNAN(v) || bd < 0) {
          best = v;
          bd = id;
          bh = ih;
          bw = iw;
        }
      }
    }
  }
  y[o] = best;
  if (has_idx) {
    long pos = -1;
    if (bd >= 0) {
      const long sp = col_major ? ((long)bw * IH + bh) * ID + bd : ((long)bd * IH + bh) * IW + bw;
      pos = (long)row * (long)plane + sp;
    }
    idx[o] = pos;
  }
}

/* Max over the window without indices: a branch-free running max (NaN still propagates). */
__kernel void pool_max_noidx(__global const T *x, __global T *y, const uint zn, const int4 in_dhw,
                             const int4 out_dhw, const int4 k, const int4 s, const int4 p,
                             const int4 d) {
  POOL_POSITION(out_dhw);
  const int ID = in_dhw.x, IH = in_dhw.y, IW = in_dhw.z;
  const int2 rd = pool_taps(od, k.x, s.x, p.x, d.x, 0, ID);
  const int2 rh = pool_taps(oh, k.y, s.y, p.y, d.y, 0, IH);
  const int2 rw = pool_taps(ow, k.z, s.z, p.z, d.z, 0, IW);
  __global const T *xr = x + (size_t)row * ID * IH * IW;
  T best = T_LOWEST;
  for (int td = rd.x; td < rd.y; td++) {
    const int id = od * s.x - p.x + td * d.x;
    for (int th = rh.x; th < rh.y; th++) {
      const int ih = oh * s.y - p.y + th * d.y;
      __global const T *xl = xr + ((size_t)id * IH + ih) * IW + (ow * s.z - p.z);
      for (int tw = rw.x; tw < rw.y; tw++) best = T_MAX2(best, xl[tw * d.z]);
    }
  }
  y[o] = best;
}

/* CPU form of pool_max_noidx: a work-item per output row (z, oh), z enumerating (row, od) as
   above; items is zn * OH. The work-item walks its row in order, so loads are contiguous and
   tap ranges cost no per-output division along the width. Windows of width 2, stride 2, no
   dilation and no left pad (the usual 2x2/2) take eight outputs per step from one 16-float load
   per tap row; the rest of the row goes through the scalar loop. */
__kernel void pool_max_rows(__global const float *x, __global float *y, const uint items,
                            const int4 in_dhw, const int4 out_dhw, const int4 k, const int4 s,
                            const int4 p, const int4 d) {
  const uint id = get_global_id(0);
  GUARD(id, items);
  const int ID = in_dhw.x, IH = in_dhw.y, IW = in_dhw.z, OH = out_dhw.y, OW = out_dhw.z;
  const uint z_ = id / (uint)OH;
  const int oh = (int)(id - z_ * (uint)OH);
  const int od = out_dhw.x == 1 ? 0 : (int)(z_ % (uint)out_dhw.x);
  const uint row = out_dhw.x == 1 ? z_ : z_ / (uint)out_dhw.x;
  const int2 rd = pool_taps(od, k.x, s.x, p.x, d.x, 0, ID);
  const int2 rh = pool_taps(oh, k.y, s.y, p.y, d.y, 0, IH);
  __global const float *xr = x + (size_t)row * ID * IH * IW;
  __global float *yo = y + (size_t)id * OW;
  int ow = 0;
  if (k.z == 2 && s.z == 2 && d.z == 1 && p.z == 0) {
    const int nv = min(OW, IW / 2) / 8 * 8; /* outputs whose taps all lie inside the row */
    for (; ow < nv; ow += 8) {
      float8 best = (float8)(-INFINITY);
      for (int td = rd.x; td < rd.y; td++) {
        const int id_ = od * s.x - p.x + td * d.x;
        for (int th = rh.x; th < rh.y; th++) {
          const int ih = oh * s.y - p.y + th * d.y;
          const float16 v = vload16(0, xr + ((size_t)id_ * IH + ih) * IW + 2 * ow);
          const float8 m = select(v.odd, v.even, isnan(v.even) || v.even > v.odd);
          best = select(m, best, isnan(best) || best > m);
        }
      }
      vstore8(best, 0, yo + ow);
    }
  }
  for (; ow < OW; ow++) {
    const int2 rw = pool_taps(ow, k.z, s.z, p.z, d.z, 0, IW);
    float best = -INFINITY;
    for (int td = rd.x; td < rd.y; td++) {
      const int id_ = od * s.x - p.x + td * d.x;
      for (int th = rh.x; th < rh.y; th++) {
        const int ih = oh * s.y - p.y + th * d.y;
        __global const float *xl = xr + ((size_t)id_ * IH + ih) * IW + (ow * s.z - p.z);
        for (int tw = rw.x; tw < rw.y; tw++) best = pool_max2(best, xl[tw * d.z]);
      }
    }
    yo[ow] = best;
  }
}

/* Average over the window. include_pad counts taps inside the padded extent [-p, n + pe)
   (ONNX count_include_pad = 1, PyTorch semantics for ceil_mode overhang); otherwise only taps
   inside the input count. pe holds the end pads. */
__kernel void pool_avg(__global const float *x, __global float *y, const uint zn,
                       const int include_pad, const int4 in_dhw, const int4 out_dhw, const int4 k,
                       const int4 s, const int4 p, const int4 d, const int4 pe) {
  POOL_POSITION(out_dhw);
  const int ID = in_dhw.x, IH = in_dhw.y, IW = in_dhw.z;
  const int2 rd = pool_taps(od, k.x, s.x, p.x, d.x, 0, ID);
  const int2 rh = pool_taps(oh, k.y, s.y, p.y, d.y, 0, IH);
  const int2 rw = pool_taps(ow, k.z, s.z, p.z, d.z, 0, IW);
  __global const float *xr = x + (size_t)row * ID * IH * IW;
  float acc = 0.0f;
  for (int td = rd.x; td < rd.y; td++) {
    const int id = od * s.x - p.x + td * d.x;
    for (int th = rh.x; th < rh.y; th++) {
      const int ih = oh * s.y - p.y + th * d.y;
      __global const float *xl = xr + ((size_t)id * IH + ih) * IW;
      for (int tw = rw.x; tw < rw.y; tw++) acc += xl[ow * s.z - p.z + tw * d.z];
    }
  }
  int cnt;
  if (include_pad) {
    const int2 qd = pool_taps(od, k.x, s.x, p.x, d.x, -p.x, ID + pe.x);
    const int2 qh = pool_taps(oh, k.y, s.y, p.y, d.y, -p.y, IH + pe.y);
    const int2 qw = pool_taps(ow, k.z, s.z, p.z, d.z, -p.z, IW + pe.z);
    cnt = (qd.y - qd.x) * (qh.y - qh.x) * (qw.y - qw.x);
  } else {
    cnt = (rd.y - rd.x) * (rh.y - rh.x) * (rw.y - rw.x);
  }
  y[o] = cnt > 0 ? acc / (float)cnt : NAN;
}

/* Lp norm over the window: (sum |x|^p)^(1/p); padding contributes zero. */
__kernel void pool_lp(__global const float *x, __global float *y, const uint zn, const float pw,
                      const int4 in_dhw, const int4 out_dhw, const int4 k, const int4 s,
                      const int4 p, const int4 d) {
  POOL_POSITION(out_dhw);
  const int ID = in_dhw.x, IH = in_dhw.y, IW = in_dhw.z;
  const int2 rd = pool_taps(od, k.x, s.x, p.x, d.x, 0, ID);
  const int2 rh = pool_taps(oh, k.y, s.y, p.y, d.y, 0, IH);
  const int2 rw = pool_taps(ow, k.z, s.z, p.z, d.z, 0, IW);
  __global const float *xr = x + (size_t)row * ID * IH * IW;
  float acc = 0.0f;
  for (int td = rd.x; td < rd.y; td++) {
    const int id = od * s.x - p.x + td * d.x;
    for (int th = rh.x; th < rh.y; th++) {
      const int ih = oh * s.y - p.y + th * d.y;
      __global const float *xl = xr + ((size_t)id * IH + ih) * IW;
      for (int tw = rw.x; tw < rw.y; tw++) {
        const float v = fabs(xl[ow * s.z - p.z + tw * d.z]);
        acc += pw == 2.0f ? v * v : pw == 1.0f ? v : pow(v, pw);
      }
    }
  }
  y[o] = pw == 2.0f ? sqrt(acc) : pw == 1.0f ? acc : pow(acc, 1.0f / pw);
}

/* ---- global pools: one work-group per row of n elements ---- */
#define POOL_OP_SUM 0
#define POOL_OP_MAX 1
#define POOL_OP_LP 2

inline float pool_combine(int op, float a, float b) {
  return op == POOL_OP_MAX ? pool_max2(a, b) : a + b;
}

/* op: 0 mean, 1 max, 2 Lp norm with exponent pw. Rows of n elements, `lanes` work-items per row
   (power of two dividing the local size). tmp holds get_local_size(0) floats. */
__kernel void pool_global(__global const float *x, __global float *y, __local float *tmp,
                          const uint n, const uint rows, const uint lanes, const int op,
                          const float pw) {
  const uint l = get_local_id(0), lane = l & (lanes - 1);
  const uint row = get_group_id(0) * (get_local_size(0) / lanes) + l / lanes;
  float acc = op == POOL_OP_MAX ? -INFINITY : 0.0f;
  if (row < rows) {
    __global const float *xr = x + (size_t)row * n;
    if (op == POOL_OP_LP) {
      for (uint i = lane; i < n; i += lanes) {
        const float v = fabs(xr[i]);
        acc += pw == 2.0f ? v * v : pw == 1.0f ? v : pow(v, pw);
      }
    } else if (op == POOL_OP_MAX) {
      for (uint i = lane; i < n; i += lanes) acc = pool_max2(acc, xr[i]);
    } else {
      /* four partial sums: independent adds pipeline (and vectorize on CPUs) */
      float a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
      uint i = lane;
      for (; i + 3 * lanes < n; i += 4 * lanes) {
        acc += xr[i];
        a1 += xr[i + lanes];
        a2 += xr[i + 2 * lanes];
        a3 += xr[i + 3 * lanes];
      }
      for (; i < n; i += lanes) acc += xr[i];
      acc = (acc + a1) + (a2 + a3);
    }
  }
  if (lanes > 1) {
    tmp[l] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = lanes / 2; s > 0; s >>= 1) {
      if (lane < s) tmp[l] = pool_combine(op, tmp[l], tmp[l + s]);
      barrier(CLK_LOCAL_MEM_FENCE);
    }
    acc = tmp[l];
  }
  if (lane == 0 && row < rows) {
    y[row] = op == POOL_OP_SUM   ? acc / (float)n
             : op == POOL_OP_MAX ? acc
             : pw == 2.0f        ? sqrt(acc)
             : pw == 1.0f        ? acc
                                 : pow(acc, 1.0f / pw);
  }
}

/* MaxUnpool scatter. Indices are flat positions in the default unpooled shape [rows, dd] (what
   MaxPool returned); ONNX places that shape at the origin of the output [rows, od], which may be
   larger (output_shape), so each index is unravelled over dd and re-flattened over od. y was
   zero-filled before; positions outside the output are skipped and duplicates keep one value. */
__kernel void pool_unpool(__global const float *x, __global const long *idx, __global float *y,
                          const uint n, const ulong rows, const int4 dd, const int4 od) {
  const uint i = get_global_id(0);
  GUARD(i, n);
  long j = idx[i];
  if (j < 0) return;
  const long w = j % dd.z;
  j /= dd.z;
  const long h = j % dd.y;
  j /= dd.y;
  const long d = j % dd.x;
  const long row = j / dd.x;
  if ((ulong)row >= rows || d >= od.x || h >= od.y || w >= od.z) return;
  y[((row * od.x + d) * od.y + h) * od.z + w] = x[i];
}
