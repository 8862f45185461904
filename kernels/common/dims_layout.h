/* common/dims_layout.h: the uint arrays that carry collapsed dims (lib/ops/collapse.c) from host
   code to kernels, declared once for both sides: C includes this file by path, kernels with
   #include "common/dims_layout.h" (spliced in by the runtime). Offsets only, no includes, so it
   reads the same as C and as OpenCL C. Every array lists dims innermost first. */
#ifndef NNCL_COMMON_DIMS_LAYOUT_H
#define NNCL_COMMON_DIMS_LAYOUT_H

/* Most dims a collapsed walk keeps (the tensor rank limit). */
#define DIMS_MAX 8

/* Broadcast element-wise walk (elementwise_bcast): rank, dims[8], then the strides[8] of operand
   j (A, B, C) at BCAST_STRIDES(j). Unused dims are 1 (the kernel reads dims[1] at rank 1). */
#define BCAST_RANK 0
#define BCAST_DIMS 1
#define BCAST_STRIDES(j) (1 + DIMS_MAX + DIMS_MAX * (j))
#define BCAST_LEN (1 + DIMS_MAX + 3 * DIMS_MAX)

/* Fused element-wise chain (elementwise_chain): rank, dims[8], then the strides[8] of each of up
   to CHAIN_MAX_IN inputs on the output's dims (0 where it broadcasts). */
#define CHAIN_MAX_IN 8
#define CHAIN_RANK 0
#define CHAIN_DIMS 1
#define CHAIN_STRIDES(j) (1 + DIMS_MAX + DIMS_MAX * (j))
#define CHAIN_LEN (1 + DIMS_MAX + CHAIN_MAX_IN * DIMS_MAX)

/* A reduction over any set of axes split into its kept and its reduced dims (reduce_general,
   norm_mvn): kept rank, kept dims[8], kept input strides[8], then the same for the reduced dims.
   A kept index selects the base offset, a reduced index walks from it. */
#define SPLIT_KEPT_RANK 0
#define SPLIT_KEPT_DIMS 1
#define SPLIT_KEPT_STRIDES (1 + DIMS_MAX)
#define SPLIT_RED_RANK (1 + 2 * DIMS_MAX)
#define SPLIT_RED_DIMS (2 + 2 * DIMS_MAX)
#define SPLIT_RED_STRIDES (2 + 3 * DIMS_MAX)
#define SPLIT_LEN (2 + 4 * DIMS_MAX)

#if defined(__OPENCL_VERSION__) || defined(__OPENCL_C_VERSION__)
/* Offset of element e of the sub-tensor whose rank, dims and strides sit at meta[rank_at],
   meta[rank_at + 1 ..] and meta[rank_at + 1 + DIMS_MAX ..] (SPLIT_KEPT_RANK or SPLIT_RED_RANK). */
inline uint split_offset(uint e, __constant const uint *meta, const uint rank_at) {
  const uint r = meta[rank_at];
  __constant const uint *d = meta + rank_at + 1, *s = meta + rank_at + 1 + DIMS_MAX;
  if (r == 1) return e * s[0]; /* the usual case once the host merged contiguous dims */
  uint off = 0;
  for (uint a = 0; a < r; ++a) {
    off += (e % d[a]) * s[a];
    e /= d[a];
  }
  return off;
}
#endif

#endif
