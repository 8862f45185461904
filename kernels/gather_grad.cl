/* gather_grad.cl: nncl.GatherGrad (lib/train/op_gather_grad.c), the data gradient of Gather:
   dX[o, r, i] = sum over j with idx[j] == r (negative indices counted from the end) of
   dY[o, j, i], data viewed as [outer, rows, inner] and dY as [outer, nidx, inner]. One work-item
   owns one output row (o, r) and walks the indices in order, so there are no atomics and the sum
   runs in the same order on every run and device: results are bit-identical run to run. Indices
   out of range contribute nowhere (the forward gave zeros for them). _i32 / _i64: index type.
   No -D parameters. */
#include "common/index.cl"

#define GATHER_GRAD(ISUF, IT)                                                                      \
  __kernel void gather_grad_##ISUF(__global const float *dy, __global const IT *idx,               \
                                   __global float *dx, const uint inner, const uint nidx,          \
                                   const uint rows, const uint n) {                                \
    const uint k = get_global_id(0);                                                               \
    GUARD(k, n);                                                                                   \
    const uint r = k % rows, o = k / rows;                                                         \
    __global float *out = dx + (size_t)k * inner;                                                  \
    for (uint i = 0; i < inner; i++) out[i] = 0.0f;                                                \
    for (uint j = 0; j < nidx; j++) {                                                              \
      long v = (long)idx[j];                                                                       \
      if (v < 0) v += rows;                                                                        \
      if (v != (long)r) continue;                                                                  \
      __global const float *src = dy + ((size_t)o * nidx + j) * inner;                             \
      for (uint i = 0; i < inner; i++) out[i] += src[i];                                           \
    }                                                                                              \
  }

GATHER_GRAD(i32, int)
GATHER_GRAD(i64, long)
