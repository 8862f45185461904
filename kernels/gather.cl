/* gather.cl: Gather and GatherElements. Like shape.cl the kernels move raw elements, so one
   instance per element size (_b1/_b2/_b4/_b8, and _b16 = uint4 for Gather rows the host widened)
   and per index type (_i32 = int, _i64 = long) covers every dtype; all live in this one program.
   Negative indices count from the end (ONNX); an index still out of range yields zero bits
   rather than reading outside the buffer (the host rejects such indices when they are constant).
   No -D parameters. */
#include "common/index.cl"

/* Gather: data viewed as [outer, axis_dim, inner], indices flattened to nidx;
   out[o, j, i] = data[o, idx[j], i]. Grid: inner x nidx x outer. */
#define GATHER(SUF, T, ISUF, IT)                                                                   \
  __kernel void gather_##SUF##_##ISUF(__global const T *data, __global const IT *idx,              \
                                      __global T *out, const uint inner, const uint nidx,          \
                                      const uint outer, const int axis_dim) {                      \
    const uint i = get_global_id(0), j = get_global_id(1), o = get_global_id(2);                   \
    if (i >= inner || j >= nidx || o >= outer) return;                                             \
    const long k = onnx_index((long)idx[j], axis_dim);                                             \
    const uint dst = (o * nidx + j) * inner + i;                                                   \
    if (k < 0) {                                                                                   \
      out[dst] = (T)0;                                                                             \
      return;                                                                                      \
    }                                                                                              \
    out[dst] = data[(o * (uint)axis_dim + (uint)k) * inner + i];                                   \
  }

/* GatherElements: out[c] = data[c with c[axis] = idx[c]], c over the index tensor's dims id
   (innermost first, rank dims), data strides ds; axis counted innermost first. */
#define GATHER_ELEMENTS(SUF, T, ISUF, IT)                                                          \
  __kernel void gather_elements_##SUF##_##ISUF(                                                    \
      __global const T *data, __global const IT *idx, __global T *out, const uint n,               \
      const uint8 id, const int8 ds, const uint rank, const uint axis, const int axis_dim) {       \
    const uint g = get_global_id(0);                                                               \
    GUARD(g, n);                                                                                   \
    uint d[8];                                                                                     \
    int s[8];                                                                                      \
    vstore8(id, 0, d);                                                                             \
    vstore8(ds, 0, s);                                                                             \
    const long k = onnx_index((long)idx[g], axis_dim);                                             \
    if (k < 0) {                                                                                   \
      out[g] = (T)0;                                                                               \
      return;                                                                                      \
    }                                                                                              \
    int src = 0;                                                                                   \
    uint r = g;                                                                                    \
    _Pragma("unroll") for (uint a = 0; a < 8; ++a) {                                               \
      if (a >= rank) break;                                                                        \
      const int c = (int)(r % d[a]);                                                               \
      r /= d[a];                                                                                   \
      src += (a == axis ? (int)k : c) * s[a];                                                      \
    }                                                                                              \
    out[g] = data[src];                                                                            \
  }

#define GATHER_ALL(ISUF, IT)                                                                       \
  GATHER(b1, uchar, ISUF, IT)                                                                      \
  GATHER(b2, ushort, ISUF, IT)                                                                     \
  GATHER(b4, uint, ISUF, IT)                                                                       \
  GATHER(b8, ulong, ISUF, IT)                                                                      \
  GATHER(b16, uint4, ISUF, IT)                                                                     \
  GATHER_ELEMENTS(b1, uchar, ISUF, IT)                                                             \
  GATHER_ELEMENTS(b2, ushort, ISUF, IT)                                                            \
  GATHER_ELEMENTS(b4, uint, ISUF, IT)                                                              \
  GATHER_ELEMENTS(b8, ulong, ISUF, IT)

GATHER_ALL(i32, int)
GATHER_ALL(i64, long)
