/* scatter.cl: GatherND, ScatterElements/Scatter and ScatterND (lib/ops/scatter.c).
   Index types: _i32 (int) and _i64 (long); negative indices count from the end; an index still
   out of range reads zero bits (GatherND) or is skipped (scatters): the host rejects constant
   out-of-range indices, and a device cannot report an error without a host round trip.
   Element types: moves without arithmetic use raw element sizes (_b1/_b2/_b4/_b8), reductions
   use _f32/_i32/_i64.
   Determinism: scatters never use float atomics. The output is first a copy of data, then every
   work-item owns one "lane" of output elements that no other work-item can touch and applies its
   updates serially in index order, so duplicate indices give the same result on every run and
   device: with reduction none the last update in index order wins, add/mul fold in index order.
   ScatterND / ScatterElements with reduction none and too little parallelism in those lanes
   instead claim rows / elements with integer atomic_max (scatter_*_owner_*), which picks the
   same last update whatever the execution order.
   No -D parameters. */
#include "common/index.cl"

#define OP_NONE(a, b) (b)
#define OP_ADD(a, b) ((a) + (b))
#define OP_MUL(a, b) ((a) * (b))

/* GatherND: out[j, i] = data[batch(j) * bstride + sum_t idx[j, t] * ds[t] + i] for j over the
   nidx index tuples of k entries and i over the slice of `slice` elements; tuples come in
   per_batch groups that share one batch offset. dd holds the k indexed dims (bounds). */
#define GATHER_ND(SUF, T, ISUF, IT)                                                                \
  __kernel void scatter_gather_nd_##SUF##_##ISUF(                                                  \
      __global const T *data, __global const IT *idx, __global T *out, const ulong n,              \
      const ulong slice, const ulong per_batch, const ulong bstride, const uint k, const long8 ds, \
      const long8 dd) {                                                                            \
    const ulong g = get_global_id(0);                                                              \
    GUARD(g, n);                                                                                   \
    const ulong j = g / slice, i = g - j * slice;                                                  \
    long s[8], d[8];                                                                               \
    vstore8(ds, 0, s);                                                                             \
    vstore8(dd, 0, d);                                                                             \
    long off = (long)((j / per_batch) * bstride + i);                                              \
    for (uint t = 0; t < k; ++t) {                                                                 \
      const long v = onnx_index((long)idx[j * k + t], d[t]);                                       \
      if (v < 0) {                                                                                 \
        out[g] = (T)0;                                                                             \
        return;                                                                                    \
      }                                                                                            \
      off += v * s[t];                                                                             \
    }                                                                                              \
    out[g] = data[off];                                                                            \
  }

/* ScatterElements: one work-item per line of the updates tensor along the axis (nlines lines;
   ud = updates dims innermost first with the axis dim counted as 1, ds = output strides, axis
   counted innermost first); it walks the line in order so duplicates are applied serially. */
#define SCATTER_ELEMENTS(RED, OPF, SUF, T, ISUF, IT)                                               \
  __kernel void scatter_elements_##RED##_##SUF##_##ISUF(                                           \
      __global const IT *idx, __global const T *upd, __global T *out, const uint nlines,           \
      const uint8 ud, const int8 ds, const uint rank, const uint axis, const uint ulen,            \
      const int axis_dim) {                                                                        \
    const uint g = get_global_id(0);                                                               \
    GUARD(g, nlines);                                                                              \
    uint d[8];                                                                                     \
    int s[8];                                                                                      \
    vstore8(ud, 0, d);                                                                             \
    vstore8(ds, 0, s);                                                                             \
    int obase = 0, ubase = 0, ustride = 1, uaxis = 1;                                              \
    uint r = g;                                                                                    \
    for (uint a = 0; a < rank; ++a) {                                                              \
      if (a == axis) {                                                                             \
        uaxis = ustride;                                                                           \
        ustride *= (int)ulen;                                                                      \
        continue;                                                                                  \
      }                                                                                            \
      const int c = (int)(r % d[a]);                                                               \
      r /= d[a];                                                                                   \
      obase += c * s[a];                                                                           \
      ubase += c * ustride;                                                                        \
      ustride *= (int)d[a];                                                                        \
    }                                                                                              \
    const int oaxis = s[axis];                                                                     \
    for (uint j = 0; j < ulen; ++j) {                                                              \
      const int u = ubase + (int)j * uaxis;                                                        \
      long v = (long)idx[u];                                                                       \
      if (v < 0) v += axis_dim;                                                                    \
      if (v < 0 || v >= axis_dim) continue;                                                        \
      const int o = obase + (int)v * oaxis;                                                        \
      out[o] = OPF(out[o], upd[u]);                                                                \
    }                                                                                              \
  }

/* ScatterND: one work-item per slice element i; it applies the nidx update slices serially:
   out[sum_t idx[j, t] * ds[t] + i] = op(that, upd[j * slice + i]). Slices of different tuples
   only collide at the same i, which one work-item owns. */
#define SCATTER_ND(RED, OPF, SUF, T, ISUF, IT)                                                     \
  __kernel void scatter_nd_##RED##_##SUF##_##ISUF(                                                 \
      __global const IT *idx, __global const T *upd, __global T *out, const ulong slice,           \
      const ulong nidx, const uint k, const long8 ds, const long8 dd) {                            \
    const ulong i = get_global_id(0);                                                              \
    GUARD(i, slice);                                                                               \
    long s[8], d[8];                                                                               \
    vstore8(ds, 0, s);                                                                             \
    vstore8(dd, 0, d);                                                                             \
    for (ulong j = 0; j < nidx; ++j) {                                                             \
      long off = (long)i;                                                                          \
      bool ok = true;                                                                              \
      for (uint t = 0; t < k; ++t) {                                                               \
        long v = (long)idx[j * k + t];                                                             \
        if (v < 0) v += d[t];                                                                      \
        ok = ok && v >= 0 && v < d[t];                                                             \
        off += v * s[t];                                                                           \
      }                                                                                            \
      if (ok) out[off] = OPF(out[off], upd[j * slice + i]);                                        \
    }                                                                                              \
  }

/* ScatterND, reduction none, many index tuples and short slices (the serial lanes above would
   leave the device idle): the last tuple in index order that targets a row of `slice` elements
   claims it with an integer atomic_max (order independent, so deterministic), then every tuple
   writes only the rows it owns. rs = row strides (ds / slice); owner holds nrows ints. */
__kernel void scatter_nd_owner_init(__global int *owner, const uint nrows) {
  const uint r = get_global_id(0);
  GUARD(r, nrows);
  owner[r] = -1;
}

#define SCATTER_ND_ROW(ISUF, IT)                                                                   \
  static inline long scatter_nd_row_##IT(__global const IT *idx, const uint j, const uint k,       \
                                         const long *s, const long *d) {                           \
    long row = 0;                                                                                  \
    for (uint t = 0; t < k; ++t) {                                                                 \
      long v = (long)idx[(ulong)j * k + t];                                                        \
      if (v < 0) v += d[t];                                                                        \
      if (v < 0 || v >= d[t]) return -1;                                                           \
      row += v * s[t];                                                                             \
    }                                                                                              \
    return row;                                                                                    \
  }                                                                                                \
  __kernel void scatter_nd_owner_claim_##ISUF(__global const IT *idx, __global int *owner,         \
                                              const uint nidx, const uint k, const long8 rs,       \
                                              const long8 dd) {                                    \
    const uint j = get_global_id(0);                                                               \
    GUARD(j, nidx);                                                                                \
    long s[8], d[8];                                                                               \
    vstore8(rs, 0, s);                                                                             \
    vstore8(dd, 0, d);                                                                             \
    const long row = scatter_nd_row_##IT(idx, j, k, s, d);                                         \
    if (row >= 0) atomic_max(&owner[row], (int)j);                                                 \
  }

/* Grid: slice x nidx. */
#define SCATTER_ND_OWNED(SUF, T, ISUF, IT)                                                         \
  __kernel void scatter_nd_owner_apply_##SUF##_##ISUF(                                             \
      __global const IT *idx, __global const T *upd, __global T *out, __global const int *owner,   \
      const uint slice, const uint nidx, const uint k, const long8 rs, const long8 dd) {           \
    const uint i = get_global_id(0), j = get_global_id(1);                                         \
    if (i >= slice || j >= nidx) return;                                                           \
    long s[8], d[8];                                                                               \
    vstore8(rs, 0, s);                                                                             \
    vstore8(dd, 0, d);                                                                             \
    const long row = scatter_nd_row_##IT(idx, j, k, s, d);                                         \
    if (row >= 0 && owner[row] == (int)j) out[row * slice + i] = upd[(ulong)j * slice + i];        \
  }

/* ScatterElements, reduction none, few lines along a long axis: the same claim scheme per output
   element. Update element g (C order, so within a line a later g is a later index) claims its
   target with atomic_max; ud = updates dims innermost first (axis dim included), ds = output
   strides. Returns -1 for an index out of range. */
#define SCATTER_EL_TARGET(ISUF, IT)                                                                \
  static inline int scatter_el_target_##IT(__global const IT *idx, const uint g, const uint8 ud,   \
                                           const int8 ds, const uint rank, const uint axis,        \
                                           const int axis_dim) {                                   \
    uint d[8];                                                                                     \
    int s[8];                                                                                      \
    vstore8(ud, 0, d);                                                                             \
    vstore8(ds, 0, s);                                                                             \
    long v = (long)idx[g];                                                                         \
    if (v < 0) v += axis_dim;                                                                      \
    if (v < 0 || v >= axis_dim) return -1;                                                         \
    int o = 0;                                                                                     \
    uint r = g;                                                                                    \
    for (uint a = 0; a < rank; ++a) {                                                              \
      const int c = (int)(r % d[a]);                                                               \
      r /= d[a];                                                                                   \
      o += (a == axis ? (int)v : c) * s[a];                                                        \
    }                                                                                              \
    return o;                                                                                      \
  }                                                                                                \
  __kernel void scatter_elements_owner_claim_##ISUF(                                               \
      __global const IT *idx, __global int *owner, const uint n, const uint8 ud, const int8 ds,    \
      const uint rank, const uint axis, const int axis_dim) {                                      \
    const uint g = get_global_id(0);                                                               \
    GUARD(g, n);                                                                                   \
    const int o = scatter_el_target_##IT(idx, g, ud, ds, rank, axis, axis_dim);                    \
    if (o >= 0) atomic_max(&owner[o], (int)g);                                                     \
  }

#define SCATTER_EL_OWNED(SUF, T, ISUF, IT)                                                         \
  __kernel void scatter_elements_owner_apply_##SUF##_##ISUF(                                       \
      __global const IT *idx, __global const T *upd, __global T *out, __global const int *owner,   \
      const uint n, const uint8 ud, const int8 ds, const uint rank, const uint axis,               \
      const int axis_dim) {                                                                        \
    const uint g = get_global_id(0);                                                               \
    GUARD(g, n);                                                                                   \
    const int o = scatter_el_target_##IT(idx, g, ud, ds, rank, axis, axis_dim);                    \
    if (o >= 0 && owner[o] == (int)g) out[o] = upd[g];                                             \
  }

#define SCATTER_RED(RED, OPF, SUF, T, ISUF, IT)                                                    \
  SCATTER_ELEMENTS(RED, OPF, SUF, T, ISUF, IT)                                                     \
  SCATTER_ND(RED, OPF, SUF, T, ISUF, IT)

#define SCATTER_ALL(ISUF, IT)                                                                      \
  SCATTER_ND_ROW(ISUF, IT)                                                                         \
  SCATTER_EL_TARGET(ISUF, IT)                                                                      \
  SCATTER_EL_OWNED(b1, uchar, ISUF, IT)                                                            \
  SCATTER_EL_OWNED(b2, ushort, ISUF, IT)                                                           \
  SCATTER_EL_OWNED(b4, uint, ISUF, IT)                                                             \
  SCATTER_EL_OWNED(b8, ulong, ISUF, IT)                                                            \
  SCATTER_ND_OWNED(b1, uchar, ISUF, IT)                                                            \
  SCATTER_ND_OWNED(b2, ushort, ISUF, IT)                                                           \
  SCATTER_ND_OWNED(b4, uint, ISUF, IT)                                                             \
  SCATTER_ND_OWNED(b8, ulong, ISUF, IT)                                                            \
  GATHER_ND(b1, uchar, ISUF, IT)                                                                   \
  GATHER_ND(b2, ushort, ISUF, IT)                                                                  \
  GATHER_ND(b4, uint, ISUF, IT)                                                                    \
  GATHER_ND(b8, ulong, ISUF, IT)                                                                   \
  SCATTER_RED(none, OP_NONE, b1, uchar, ISUF, IT)                                                  \
  SCATTER_RED(none, OP_NONE, b2, ushort, ISUF, IT)                                                 \
  SCATTER_RED(none, OP_NONE, b4, uint, ISUF, IT)                                                   \
  SCATTER_RED(none, OP_NONE, b8, ulong, ISUF, IT)                                                  \
  SCATTER_RED(add, OP_ADD, f32, float, ISUF, IT)                                                   \
  SCATTER_RED(add, OP_ADD, i32, int, ISUF, IT)                                                     \
  SCATTER_RED(add, OP_ADD, i64, long, ISUF, IT)                                                    \
  SCATTER_RED(mul, OP_MUL, f32, float, ISUF, IT)                                                   \
  SCATTER_RED(mul, OP_MUL, i32, int, ISUF, IT)                                                     \
  SCATTER_RED(mul, OP_MUL, i64, long, ISUF, IT)

SCATTER_ALL(i32, int)
SCATTER_ALL(i64, long)
