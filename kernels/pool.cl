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
      kernels are float32 only.
   -D NNCL_HALF_STORE: x and y of every kernel but pool_unpool are float16 (common/storage.cl),
      arithmetic float. */
#include "common/index.cl"
#include "common/pool_taps.cl"
#include "common/storage.cl"

#ifndef T
#define T float
#define TB FBUF /* the max kernels' buffer type: float storage (float or half) */
#define T_LOWEST (-INFINITY)
#define T_IS_FLOAT 1
#endif
#ifndef TB
#define TB T
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

/* The window of output (od, oh, ow): per axis, the range [x, y) of taps inside the input. */
struct pool_win {
  int2 td, th, tw;
};

inline struct pool_win pool_window(int od, int oh, int ow, int4 in, int4 k, int4 s, int4 p,
                                   int4 d) {
  struct pool_win w;
  w.td = pool_taps(od, k.x, s.x, p.x, d.x, 0, in.x);
  w.th = pool_taps(oh, k.y, s.y, p.y, d.y, 0, in.y);
  w.tw = pool_taps(ow, k.z, s.z, p.z, d.z, 0, in.z);
  return w;
}

/* The window walk every windowed kernel uses. POOL_TAP_ROWS visits the valid tap rows of window
   w of output (od, oh) over the ID x IH x IW volume xr of element type TY, with the row's input
   position in id, ih and a pointer to it in xl_, and runs BODY. POOL_WALK adds the columns of
   output ow: the value in v, its column in iw. Tap ranges are computed once per window, so the
   loops carry no bounds tests. */
#define POOL_TAP_ROWS(TY, xr, w, od, oh, in, s, p, d, BODY)                                        \
  for (int td_ = (w).td.x; td_ < (w).td.y; td_++) {                                                \
    const int id = (od) * (s).x - (p).x + td_ * (d).x;                                             \
    for (int th_ = (w).th.x; th_ < (w).th.y; th_++) {                                              \
      const int ih = (oh) * (s).y - (p).y + th_ * (d).y;                                           \
      __global const TY *xl_ = (xr) + ((size_t)id * (in).y + ih) * (in).z;                         \
      BODY;                                                                                        \
    }                                                                                              \
  }
#define POOL_WALK(TY, xr, w, od, oh, ow, in, s, p, d, BODY)                                        \
  POOL_TAP_ROWS(                                                                                   \
      TY, xr, w, od, oh, in, s, p, d, for (int tw_ = (w).tw.x; tw_ < (w).tw.y; tw_++) {            \
        const int iw = (ow) * (s).z - (p).z + tw_ * (d).z;                                         \
        const NVAL(TY) v = NLOAD(TY, xl_, iw);                                                     \
        BODY;                                                                                      \
      })

/* max keeps NaN (fmax would drop it): ONNX follows numpy, where a NaN in the window wins */
inline float pool_max2(float a, float b) { return (a > b || isnan(a)) ? a : b; }
/* the same on vectors (relational results are -1 per true lane) */
#define POOL_VMAX(a, b) select((b), (a), ((a) > (b)) | isnan(a))

/* |v|^pw, the Lp pools' term (exact forms for the usual p = 1 and 2) */
inline float pool_lp_term(float v, float pw) {
  v = fabs(v);
  return pw == 2.0f ? v * v : pw == 1.0f ? v : pow(v, pw);
}
/* acc^(1/pw), the Lp pools' result */
inline float pool_lp_root(float acc, float pw) {
  return pw == 2.0f ? sqrt(acc) : pw == 1.0f ? acc : pow(acc, 1.0f / pw);
}

/* Position of this work-item: (ow, oh) from dims 0 and 1; dim 2 enumerates (row, od). The
   window w and the row's input volume xr (element type TY) follow from them. */
#define POOL_POSITION(TY, out_dhw)                                                                 \
  const int ow = (int)get_global_id(0), oh = (int)get_global_id(1);                                \
  const uint z_ = (uint)get_global_id(2);                                                          \
  if (ow >= (out_dhw).z || oh >= (out_dhw).y || z_ >= zn) return;                                  \
  const int od = (out_dhw).x == 1 ? 0 : (int)(z_ % (uint)(out_dhw).x);                             \
  const uint row = (out_dhw).x == 1 ? z_ : z_ / (uint)(out_dhw).x;                                 \
  const size_t o = (((size_t)z_ * (out_dhw).y) + oh) * (out_dhw).z + ow;                           \
  const struct pool_win w = pool_window(od, oh, ow, in_dhw, k, s, p, d);                           \
  __global const TY *xr = x + (size_t)row * in_dhw.x * in_dhw.y * in_dhw.z

/* Max over the window. Indices (when has_idx) is the flattened NC(D)HW input position; with
   col_major the spatial part is Fortran-ordered (ONNX storage_order = 1). Ties keep the first
   position in row-major scan order; NaN propagates (as numpy and PyTorch do). A window with no
   valid tap yields -inf and index -1. */
__kernel void pool_max(__global const TB *x, __global TB *y, __global long *idx, const uint zn,
                       const int has_idx, const int col_major, const int4 in_dhw,
                       const int4 out_dhw, const int4 k, const int4 s, const int4 p, const int4 d) {
  POOL_POSITION(TB, out_dhw);
  T best = T_LOWEST;
  int bd = -1, bh = -1, bw = -1;
  POOL_WALK(
      TB, xr, w, od, oh, ow, in_dhw, s, p, d, if (v > best || T_ISNAN(v) || bd < 0) {
        best = v;
        bd = id;
        bh = ih;
        bw = iw;
      });
  NSTORE(TB, y, o, best);
  if (has_idx) {
    const int ID = in_dhw.x, IH = in_dhw.y, IW = in_dhw.z;
    long pos = -1;
    if (bd >= 0) {
      const long sp = col_major ? ((long)bw * IH + bh) * ID + bd : ((long)bd * IH + bh) * IW + bw;
      pos = (long)row * (long)ID * IH * IW + sp;
    }
    idx[o] = pos;
  }
}

/* Max over the window without indices: a branch-free running max (NaN still propagates). */
__kernel void pool_max_noidx(__global const TB *x, __global TB *y, const uint zn, const int4 in_dhw,
                             const int4 out_dhw, const int4 k, const int4 s, const int4 p,
                             const int4 d) {
  POOL_POSITION(TB, out_dhw);
  T best = T_LOWEST;
  POOL_WALK(TB, xr, w, od, oh, ow, in_dhw, s, p, d, best = T_MAX2(best, v));
  NSTORE(TB, y, o, best);
}

/* ---- CPU forms: a work-item per output row ----
   Work-item `item` of `items` = zn * OH handles output row (z, oh), z enumerating (row, od) as
   in the 3-D kernels. It walks its row in order, so loads are contiguous and tap ranges cost no
   per-output division along the width. Outputs [lo, hi) of the row have every tap inside the
   input row; when the width step allows it (stride 1, or stride 2 with windows 2 or 3 wide and
   no dilation) they go eight at a time through POOL_EIGHT, the last step overlapping the one
   before rather than leaving a tail; the others (pads, ceil_mode overhang) through the walk. */
#define POOL_ROW_POSITION(out_dhw)                                                                 \
  const uint item = get_global_id(0);                                                              \
  GUARD(item, items);                                                                              \
  const int OH = (out_dhw).y, OW = (out_dhw).z;                                                    \
  const uint z_ = item / (uint)OH;                                                                 \
  const int oh = (int)(item - z_ * (uint)OH);                                                      \
  const int od = (out_dhw).x == 1 ? 0 : (int)(z_ % (uint)(out_dhw).x);                             \
  const uint row = (out_dhw).x == 1 ? z_ : z_ / (uint)(out_dhw).x;                                 \
  __global const FBUF *xr = x + (size_t)row * in_dhw.x * in_dhw.y * in_dhw.z;                      \
  __global FBUF *yo = y + (size_t)item * OW;                                                       \
  struct pool_win w = pool_window(od, oh, 0, in_dhw, k, s, p, d);                                  \
  const int lo = min(OW, (p.z + s.z - 1) / s.z);                                                   \
  const int hi = max(lo, min(OW, (in_dhw.z - 1 + p.z - (k.z - 1) * d.z) / s.z + 1));               \
  const int eight = (s.z == 1 || (s.z == 2 && d.z == 1 && (k.z == 2 || k.z == 3))) && hi - lo >= 8

/* Outputs c .. c + 7 of the row combined by VOP (a max or a sum, on scalars and vectors) from
   INIT into the float8 r. Stride 1: one 8-float load per tap. Stride 2: per tap row one 16-float
   load (and one more float for width-3 windows) at column 2c - pad, the tap rows combined first
   and the eight windows then from the even, odd (and next even) lanes. */
#define POOL_EIGHT(VOP, INIT, c, r)                                                                \
  float8 r = (float8)(INIT);                                                                       \
  if (s.z == 1) {                                                                                  \
    POOL_TAP_ROWS(                                                                                 \
        FBUF, xr, w, od, oh, in_dhw, s, p, d,                                                      \
        for (int tw = 0; tw < k.z; tw++) { r = VOP(r, FLOAD8(0, xl_ + (c)-p.z + tw * d.z)); });    \
  } else {                                                                                         \
    float16 m_ = (float16)(INIT);                                                                  \
    float m16_ = (INIT); /* column 16 of the step, width-3 windows only */                         \
    POOL_TAP_ROWS(FBUF, xr, w, od, oh, in_dhw, s, p, d, {                                          \
      m_ = VOP(m_, FLOAD16(0, xl_ + 2 * (c)-p.z));                                                 \
      if (k.z == 3) m16_ = VOP(m16_, FLOAD(xl_, 2 * (c)-p.z + 16));                                \
    });                                                                                            \
    r = VOP(m_.even, m_.odd);                                                                      \
    if (k.z == 3) r = VOP(r, (float8)(m_.s2468, m_.sace, m16_));                                   \
  }
#define POOL_ADD(a, b) ((a) + (b))

/* CPU form of pool_max_noidx (float storage). */
__kernel void pool_max_rows(__global const FBUF *x, __global FBUF *y, const uint items,
                            const int4 in_dhw, const int4 out_dhw, const int4 k, const int4 s,
                            const int4 p, const int4 d) {
  POOL_ROW_POSITION(out_dhw);
  for (int ow = 0; ow < OW; ow++) {
    if (eight && ow == lo) {
      for (int c = lo; c < hi; c += 8) {
        const int c8 = min(c, hi - 8);
        POOL_EIGHT(POOL_VMAX, -INFINITY, c8, r);
        FSTORE8(r, 0, yo + c8);
      }
      ow = hi - 1;
      continue;
    }
    w.tw = pool_taps(ow, k.z, s.z, p.z, d.z, 0, in_dhw.z);
    float best = -INFINITY;
    POOL_WALK(FBUF, xr, w, od, oh, ow, in_dhw, s, p, d, best = pool_max2(best, v));
    FSTORE(yo, ow, best);
  }
}

/* Number of taps AveragePool divides by along one axis (see pool_avg). */
inline int pool_avg_count(int2 valid, int o, int k, int s, int p, int d, int n, int pe,
                          int include_pad) {
  const int2 q = include_pad ? pool_taps(o, k, s, p, d, -p, n + pe) : valid;
  return q.y - q.x;
}

/* CPU form of pool_avg: the same sums and counts as pool_avg. */
__kernel void pool_avg_rows(__global const FBUF *x, __global FBUF *y, const uint items,
                            const int include_pad, const int4 in_dhw, const int4 out_dhw,
                            const int4 k, const int4 s, const int4 p, const int4 d, const int4 pe) {
  POOL_ROW_POSITION(out_dhw);
  const int cnt_dh = pool_avg_count(w.td, od, k.x, s.x, p.x, d.x, in_dhw.x, pe.x, include_pad) *
                     pool_avg_count(w.th, oh, k.y, s.y, p.y, d.y, in_dhw.y, pe.y, include_pad);
  for (int ow = 0; ow < OW; ow++) {
    if (eight && ow == lo) {
      /* inside the row every tap of the width counts, with or without the pads */
      for (int c = lo; c < hi; c += 8) {
        const int c8 = min(c, hi - 8);
        POOL_EIGHT(POOL_ADD, 0.0f, c8, r);
        FSTORE8(cnt_dh > 0 ? r / (float)(cnt_dh * k.z) : (float8)(NAN), 0, yo + c8);
      }
      ow = hi - 1;
      continue;
    }
    w.tw = pool_taps(ow, k.z, s.z, p.z, d.z, 0, in_dhw.z);
    float acc = 0.0f;
    POOL_WALK(FBUF, xr, w, od, oh, ow, in_dhw, s, p, d, acc += v);
    const int cnt =
        cnt_dh * pool_avg_count(w.tw, ow, k.z, s.z, p.z, d.z, in_dhw.z, pe.z, include_pad);
    FSTORE(yo, ow, cnt > 0 ? acc / (float)cnt : NAN);
  }
}

/* Average over the window. include_pad counts taps inside the padded extent [-p, n + pe)
   (ONNX count_include_pad = 1, PyTorch semantics for ceil_mode overhang); otherwise only taps
   inside the input count. pe holds the end pads. */
__kernel void pool_avg(__global const FBUF *x, __global FBUF *y, const uint zn,
                       const int include_pad, const int4 in_dhw, const int4 out_dhw, const int4 k,
                       const int4 s, const int4 p, const int4 d, const int4 pe) {
  POOL_POSITION(FBUF, out_dhw);
  float acc = 0.0f;
  POOL_WALK(FBUF, xr, w, od, oh, ow, in_dhw, s, p, d, acc += v);
  const int cnt = pool_avg_count(w.td, od, k.x, s.x, p.x, d.x, in_dhw.x, pe.x, include_pad) *
                  pool_avg_count(w.th, oh, k.y, s.y, p.y, d.y, in_dhw.y, pe.y, include_pad) *
                  pool_avg_count(w.tw, ow, k.z, s.z, p.z, d.z, in_dhw.z, pe.z, include_pad);
  FSTORE(y, o, cnt > 0 ? acc / (float)cnt : NAN);
}

/* Lp norm over the window: (sum |x|^p)^(1/p); padding contributes zero. */
__kernel void pool_lp(__global const FBUF *x, __global FBUF *y, const uint zn, const float pw,
                      const int4 in_dhw, const int4 out_dhw, const int4 k, const int4 s,
                      const int4 p, const int4 d) {
  POOL_POSITION(FBUF, out_dhw);
  float acc = 0.0f;
  POOL_WALK(FBUF, xr, w, od, oh, ow, in_dhw, s, p, d, acc += pool_lp_term(v, pw));
  FSTORE(y, o, pool_lp_root(acc, pw));
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
__kernel void pool_global(__global const FBUF *x, __global FBUF *y, __local float *tmp,
                          const uint n, const uint rows, const uint lanes, const int op,
                          const float pw) {
  const uint l = get_local_id(0), lane = l & (lanes - 1);
  const uint row = get_group_id(0) * (get_local_size(0) / lanes) + l / lanes;
  float acc = op == POOL_OP_MAX ? -INFINITY : 0.0f;
  if (row < rows) {
    __global const FBUF *xr = x + (size_t)row * n;
    if (op == POOL_OP_LP) {
      for (uint i = lane; i < n; i += lanes) acc += pool_lp_term(FLOAD(xr, i), pw);
    } else if (op == POOL_OP_MAX) {
      for (uint i = lane; i < n; i += lanes) acc = pool_max2(acc, FLOAD(xr, i));
    } else {
      /* four partial sums: independent adds pipeline (and vectorize on CPUs) */
      float a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
      uint i = lane;
      for (; i + 3 * lanes < n; i += 4 * lanes) {
        acc += FLOAD(xr, i);
        a1 += FLOAD(xr, i + lanes);
        a2 += FLOAD(xr, i + 2 * lanes);
        a3 += FLOAD(xr, i + 3 * lanes);
      }
      for (; i < n; i += lanes) acc += FLOAD(xr, i);
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
    FSTORE(y, row,
           op == POOL_OP_SUM   ? acc / (float)n
           : op == POOL_OP_MAX ? acc
                               : pool_lp_root(acc, pw));
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
