/* gather_grad.cl: nncl.GatherGrad (lib/train/op_gather_grad.c), the data gradient of Gather:
   dX[o, r, i] = sum over j with idx[j] == r (negative indices counted from the end) of
   dY[o, j, i], data viewed as [outer, rows, inner] and dY as [outer, nidx, inner]. One work-item
   owns one output row (o, r) and adds its terms in index order (gather_grad_* walks all indices;
   the sorted path below finds them in sorted keys), so there are no atomics and the sum runs in
   the same order on every run and device: results are bit-identical run to run. Indices
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
      if (onnx_index((long)idx[j], rows) != (long)r) continue;                                     \
      __global const float *src = dy + ((size_t)o * nidx + j) * inner;                             \
      for (uint i = 0; i < inner; i++) out[i] += src[i];                                           \
    }                                                                                              \
  }

GATHER_GRAD(i32, int)
GATHER_GRAD(i64, long)

/* The sorted path, for large tables, where every row walking every index costs rows x nidx
   reads. gather_grad_keys_* makes one 64-bit key per index, row << 32 | position (an index out
   of range gets row = rows, past every real row; padding up to a power of two gets ~0), the
   bitonic network (gather_grad_bitonic, one launch per stage) sorts them, and
   gather_grad_sorted gives each output row the dY rows of its key range, found by binary search,
   in position order: the same additions in the same order as gather_grad_*, so the same bits. */
#define GATHER_GRAD_KEYS(ISUF, IT)                                                                 \
  __kernel void gather_grad_keys_##ISUF(__global const IT *idx, __global ulong *keys,              \
                                        const uint nidx, const uint rows, const uint p2) {         \
    const uint k = get_global_id(0);                                                               \
    GUARD(k, p2);                                                                                  \
    if (k >= nidx) {                                                                               \
      keys[k] = ~(ulong)0;                                                                         \
      return;                                                                                      \
    }                                                                                              \
    long v = onnx_index((long)idx[k], rows);                                                       \
    if (v < 0) v = rows;                                                                           \
    keys[k] = (ulong)v << 32 | k;                                                                  \
  }

GATHER_GRAD_KEYS(i32, int)
GATHER_GRAD_KEYS(i64, long)

/* One compare-exchange stage of the bitonic sorting network over p2 keys (ascending). */
__kernel void gather_grad_bitonic(__global ulong *keys, const uint j, const uint k, const uint p2) {
  const uint i = get_global_id(0);
  GUARD(i, p2);
  const uint l = i ^ j;
  if (l <= i) return;
  const ulong a = keys[i], b = keys[l];
  if (((i & k) == 0) == (a > b)) {
    keys[i] = b;
    keys[l] = a;
  }
}

/* First position in keys[0, p2) whose key is >= want. */
static uint lower_bound(__global const ulong *keys, const uint p2, const ulong want) {
  uint lo = 0, hi = p2;
  while (lo < hi) {
    const uint mid = lo + (hi - lo) / 2;
    if (keys[mid] < want)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

__kernel void gather_grad_sorted(__global const float *dy, __global const ulong *keys,
                                 __global float *dx, const uint inner, const uint nidx,
                                 const uint rows, const uint n, const uint p2) {
  const uint k = get_global_id(0);
  GUARD(k, n);
  const uint r = k % rows, o = k / rows;
  __global float *out = dx + (size_t)k * inner;
  for (uint i = 0; i < inner; i++) out[i] = 0.0f;
  const uint end = lower_bound(keys, p2, (ulong)(r + 1) << 32);
  for (uint p = lower_bound(keys, p2, (ulong)r << 32); p < end; p++) {
    __global const float *src = dy + ((size_t)o * nidx + (uint)(keys[p] & 0xffffffffu)) * inner;
    for (uint i = 0; i < inner; i++) out[i] += src[i];
  }
}
