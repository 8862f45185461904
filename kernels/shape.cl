/* shape.cl: data movement for the shape family (Transpose, Concat, Split, Slice, Expand, Pad, Tile,
   Dropout's mask, ConstantOfShape). The kernels move raw elements, never interpret them, so one
   instance per element size serves every dtype: suffix _b1/_b2/_b4/_b8 (uchar/ushort/uint/ulong)
   and _b16 (uint4, for copies whose contiguous runs were widened on the host). All sizes are
   instantiated in this one program so a model needs one build, not one per dtype.

   Index arithmetic is 32-bit (the host refuses tensors of 2^31 elements or more): 64-bit integer
   division is several times slower on GPUs and these kernels are bound by memory, not by math.
   Dimension vectors (uint8/int8 arguments) list dims innermost first.

   -D SHAPE_TILE: tile edge of the local-memory transpose (default 32).
   -D SHAPE_ROWS: rows each work-item of the transpose handles is SHAPE_TILE / SHAPE_ROWS; the
                  work-group is SHAPE_TILE x SHAPE_ROWS (default 8). */
#include "common/index.cl"

#ifndef SHAPE_TILE
#define SHAPE_TILE 32
#endif
#ifndef SHAPE_ROWS
#define SHAPE_ROWS 8
#endif

/* Adds the input and output offsets of outer coordinate r, decomposed over nr dims (<= 6). */
inline void shape_outer(uint r, const uint8 rd, const int8 ris, const int8 ros, const uint nr,
                        int *io, int *oo) {
  uint d[8];
  int is[8], os[8];
  vstore8(rd, 0, d);
  vstore8(ris, 0, is);
  vstore8(ros, 0, os);
  int a = 0, b = 0;
  /* Fixed trip count, unrolled: constant array indices keep d/is/os in registers on GPUs
     (a variable index would spill them to private memory). */
#pragma unroll
  for (uint k = 0; k < 6; ++k) {
    if (k >= nr) break;
    const int c = (int)(r % d[k]);
    r /= d[k];
    a += c * is[k];
    b += c * os[k];
  }
  *io += a;
  *oo += b;
}

/* out[ooff + i0*os0 + i1*os1 + outer] = in[ioff + i0*is0 + i1*is1 + outer]: any strided copy
   (strides may be zero for broadcasts, negative for reversed slices). Dim 0 is the innermost. */
#define SHAPE_COPY(SUF, T)                                                                         \
  __kernel void shape_copy_##SUF(__global const T *in, __global T *out, const int ioff,            \
                                 const int ooff, const uint n0, const uint n1, const uint n2,      \
                                 const int is0, const int is1, const int os0, const int os1,       \
                                 const uint8 rd, const int8 ris, const int8 ros, const uint nr) {  \
    const uint i0 = get_global_id(0), i1 = get_global_id(1), i2 = get_global_id(2);                \
    if (i0 >= n0 || i1 >= n1 || i2 >= n2) return;                                                  \
    int io = ioff, oo = ooff;                                                                      \
    shape_outer(i2, rd, ris, ros, nr, &io, &oo);                                                   \
    out[oo + (int)i1 * os1 + (int)i0 * os0] = in[io + (int)i1 * is1 + (int)i0 * is0];              \
  }

/* Swaps two dims through a local tile so both the read and the write are coalesced: dim a is
   contiguous in the input (stride 1) and dim b in the output. The grid is (tiles of a) x (tiles
   of b, SHAPE_ROWS items each) x outer. No early return: every item must reach the barrier. */
#define SHAPE_TRANSPOSE(SUF, T)                                                                    \
  __kernel void shape_transpose_##SUF(__global const T *in, __global T *out, const int ioff,       \
                                      const int ooff, const uint na, const uint nb, const int isb, \
                                      const int osa, const uint8 rd, const int8 ris,               \
                                      const int8 ros, const uint nr) {                             \
    __local T tile[SHAPE_TILE][SHAPE_TILE + 1];                                                    \
    const uint lx = get_local_id(0), ly = get_local_id(1);                                         \
    const uint a0 = get_group_id(0) * SHAPE_TILE, b0 = get_group_id(1) * SHAPE_TILE;               \
    int io = ioff, oo = ooff;                                                                      \
    shape_outer(get_global_id(2), rd, ris, ros, nr, &io, &oo);                                     \
    for (uint j = ly; j < SHAPE_TILE; j += SHAPE_ROWS) {                                           \
      const uint a = a0 + lx, b = b0 + j;                                                          \
      if (a < na && b < nb) tile[j][lx] = in[io + (int)b * isb + (int)a];                          \
    }                                                                                              \
    barrier(CLK_LOCAL_MEM_FENCE);                                                                  \
    for (uint j = ly; j < SHAPE_TILE; j += SHAPE_ROWS) {                                           \
      const uint b = b0 + lx, a = a0 + j;                                                          \
      if (a < na && b < nb) out[oo + (int)a * osa + (int)b] = tile[lx][j];                         \
    }                                                                                              \
  }

/* CPU form of shape_transpose: work-item (x, y, z) moves the 8x8 block of dims a (contiguous in
   the input) and b (contiguous in the output) at (8x, 8y) of outer slice z through registers:
   eight 8-element row loads, eight 8-element column stores. No local memory and no barrier (a
   barrier costs a CPU work-group a pass over all its work-items); edge blocks go element by
   element. */
#define SHAPE_TRANSPOSE8(SUF, T)                                                                   \
  __kernel void shape_transpose8_##SUF(__global const T *in, __global T *out, const int ioff,      \
                                       const int ooff, const uint na, const uint nb,               \
                                       const int isb, const int osa, const uint8 rd,               \
                                       const int8 ris, const int8 ros, const uint nr) {            \
    const uint a0 = get_global_id(0) * 8u, b0 = get_global_id(1) * 8u;                             \
    if (a0 >= na || b0 >= nb) return;                                                              \
    int io = ioff, oo = ooff;                                                                      \
    shape_outer(get_global_id(2), rd, ris, ros, nr, &io, &oo);                                     \
    __global const T *src = in + io + (int)b0 * isb + (int)a0;                                     \
    __global T *dst = out + oo + (int)a0 * osa + (int)b0;                                          \
    if (a0 + 8u <= na && b0 + 8u <= nb) {                                                          \
      T v[8][8];                                                                                   \
      _Pragma("unroll") for (int j = 0; j < 8; j++) vstore8(vload8(0, src + j * isb), 0, v[j]);    \
      _Pragma("unroll") for (int i = 0; i < 8; i++) {                                              \
        const T##8 col =                                                                           \
            (T##8)(v[0][i], v[1][i], v[2][i], v[3][i], v[4][i], v[5][i], v[6][i], v[7][i]);        \
        vstore8(col, 0, dst + i * osa);                                                            \
      }                                                                                            \
    } else {                                                                                       \
      const uint ma = min(8u, na - a0), mb = min(8u, nb - b0);                                     \
      for (uint i = 0; i < ma; i++)                                                                \
        for (uint j = 0; j < mb; j++) dst[(int)i * osa + (int)j] = src[(int)j * isb + (int)i];     \
    }                                                                                              \
  }

/* out[i] = value for i < n; value holds the element's bit pattern in its low bytes. */
#define SHAPE_FILL(SUF, T)                                                                         \
  __kernel void shape_fill_##SUF(__global T *out, const uint n, const ulong value) {               \
    const uint i = get_global_id(0);                                                               \
    GUARD(i, n);                                                                                   \
    out[i] = (T)value;                                                                             \
  }

/* Maps output coordinate o of a dim to an input coordinate (pad begin pb, input size n), or -1
   for the constant border. Modes: 0 constant, 1 reflect, 2 edge, 3 wrap (Tile). Reflect
   without repeating the edge is periodic with period 2(n-1), which also covers pads wider than
   the input the way numpy.pad repeats reflections. */
inline int shape_pad_coord(int o, int pb, int n, int mode) {
  int x = o - pb;
  if (x >= 0 && x < n) return x;
  if (mode == 0) return -1;
  if (mode == 2) return clamp(x, 0, n - 1);
  if (mode == 3) {
    x %= n;
    return x < 0 ? x + n : x;
  }
  if (n == 1) return 0;
  const int p = 2 * (n - 1);
  x %= p;
  if (x < 0) x += p;
  return x < n ? x : p - x;
}

/* Pad (and Tile, as wrap with no begin pad): one work-item per output element. od: output dims,
   id: input dims, is: input strides, pb: pad begins (all innermost first, rank padded to >= 2
   with size-1 dims). Grid: out dim 0 x out dim 1 x the rest. */
#define SHAPE_PAD(SUF, T)                                                                          \
  __kernel void shape_pad_##SUF(__global const T *in, __global T *out, const uint n2,              \
                                const uint8 od, const int8 id, const int8 is, const int8 pb,       \
                                const uint rank, const int mode, const ulong value) {              \
    const uint i0 = get_global_id(0), i1 = get_global_id(1), i2 = get_global_id(2);                \
    if (i0 >= od.s0 || i1 >= od.s1 || i2 >= n2) return;                                            \
    uint d[8];                                                                                     \
    int n[8], s[8], b[8];                                                                          \
    vstore8(od, 0, d);                                                                             \
    vstore8(id, 0, n);                                                                             \
    vstore8(is, 0, s);                                                                             \
    vstore8(pb, 0, b);                                                                             \
    int x = shape_pad_coord((int)i0, b[0], n[0], mode);                                            \
    int y = shape_pad_coord((int)i1, b[1], n[1], mode);                                            \
    int src = x * s[0] + y * s[1], dst = (int)(i2 * od.s1 + i1) * (int)od.s0 + (int)i0;            \
    bool inside = x >= 0 && y >= 0;                                                                \
    uint r = i2;                                                                                   \
    _Pragma("unroll") for (uint k = 2; k < 8; ++k) {                                               \
      if (k >= rank) break;                                                                        \
      const int c = shape_pad_coord((int)(r % d[k]), b[k], n[k], mode);                            \
      r /= d[k];                                                                                   \
      inside = inside && c >= 0;                                                                   \
      src += c * s[k];                                                                             \
    }                                                                                              \
    out[dst] = inside ? in[src] : (T)value;                                                        \
  }

SHAPE_COPY(b1, uchar)
SHAPE_COPY(b2, ushort)
SHAPE_COPY(b4, uint)
SHAPE_COPY(b8, ulong)
SHAPE_COPY(b16, uint4)

SHAPE_TRANSPOSE(b1, uchar)
SHAPE_TRANSPOSE(b2, ushort)
SHAPE_TRANSPOSE(b4, uint)
SHAPE_TRANSPOSE(b8, ulong)

SHAPE_TRANSPOSE8(b1, uchar)
SHAPE_TRANSPOSE8(b2, ushort)
SHAPE_TRANSPOSE8(b4, uint)
SHAPE_TRANSPOSE8(b8, ulong)

SHAPE_FILL(b1, uchar)
SHAPE_FILL(b2, ushort)
SHAPE_FILL(b4, uint)
SHAPE_FILL(b8, ulong)

SHAPE_PAD(b1, uchar)
SHAPE_PAD(b2, ushort)
SHAPE_PAD(b4, uint)
SHAPE_PAD(b8, ulong)
