/* reverse_sequence.cl: ReverseSequence (lib/ops/reverse_sequence.c). Data viewed as
   [d0, d1, inner] where dims 0 and 1 are the batch and time axes in either order (bt = 1 when
   dim 0 is the batch axis). out[b, t, i] = in[b, len[b] - 1 - t, i] for t < len[b], else
   in[b, t, i]; len is clamped to [0, T] so a bad length cannot read outside the buffer.
   One kernel per element size (_b1/_b2/_b4/_b8) and length type (_i32/_i64). No -D parameters. */
#include "common/index.cl"

#define REVSEQ(SUF, T, ISUF, IT)                                                                   \
  __kernel void reverse_sequence_##SUF##_##ISUF(__global const T *in, __global const IT *lens,     \
                                                __global T *out, const uint inner, const uint d1,  \
                                                const uint d0, const int bt) {                     \
    const uint i = get_global_id(0), j = get_global_id(1), k = get_global_id(2);                   \
    if (i >= inner || j >= d1 || k >= d0) return;                                                  \
    const uint b = bt ? k : j, t = bt ? j : k, tn = bt ? d1 : d0;                                  \
    long len = (long)lens[b];                                                                      \
    len = len < 0 ? 0 : len > (long)tn ? (long)tn : len;                                           \
    const uint ts = (long)t < len ? (uint)(len - 1 - (long)t) : t;                                 \
    const uint src = bt ? (k * d1 + ts) * inner + i : (ts * d1 + j) * inner + i;                   \
    out[(k * d1 + j) * inner + i] = in[src];                                                       \
  }

#define REVSEQ_ALL(ISUF, IT)                                                                       \
  REVSEQ(b1, uchar, ISUF, IT)                                                                      \
  REVSEQ(b2, ushort, ISUF, IT)                                                                     \
  REVSEQ(b4, uint, ISUF, IT)                                                                       \
  REVSEQ(b8, ulong, ISUF, IT)

REVSEQ_ALL(i32, int)
REVSEQ_ALL(i64, long)
