/* reduce.cl: ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSumExp/SumSquare and ArgMax/ArgMin. The host
   collapses the reduction to one of three layouts:
     rows    [outer, R]        reduced elements contiguous: a work-group per row (or per chunk
                               of a row, then reduce_partials), local-memory tree
     cols    [outer, R, inner] reduced elements strided: a work-item per (outer, inner) column
                               (or per chunk of it, then reduce_cols_partials), coalesced
     general anything else     a work-item per output walking the reduced index space
   Options:
   -D RED=0..9       0 sum, 1 mean, 2 max, 3 min, 4 prod, 5 L1, 6 L2, 7 log-sum-exp, 8 sum square,
                     9 log-sum
   -D T=type         input element type (float, long, int; default float)
   -D IS_INT=0|1     T is an integer type (accumulate in long, no NaN rules)
   -D ARG=0|1        build the ArgMax/ArgMin kernels (1) or the Reduce* ones (0, default);
                     one program never needs both, and each builds faster alone
   -D ARG_MIN=0|1    arg kernels: ArgMin instead of ArgMax
   -D SELECT_LAST=0|1  arg kernels: ties go to the last index instead of the first
   -D COL_SPAN=n     columns per work-item of reduce_cols_span (default 512) */
#include "common/dims_layout.h"
#include "common/index.cl"

#ifndef RED
#define RED 0
#endif
#ifndef T
#define T float
#endif
#ifndef IS_INT
#define IS_INT 0
#endif
#ifndef ARG
#define ARG 0
#endif
#ifndef ARG_MIN
#define ARG_MIN 0
#endif
#ifndef SELECT_LAST
#define SELECT_LAST 0
#endif
#ifndef COL_SPAN
#define COL_SPAN 512
#endif

#if !ARG
#if RED == 7
/* log-sum-exp keeps (running max, sum of exp(x - max)) so large inputs do not overflow */
typedef float2 acc_t;
#define ACC_INIT ((float2)(-INFINITY, 0.0f))
inline acc_t acc_merge(acc_t a, acc_t b) {
  if (isnan(a.x) || isnan(b.x)) return (float2)(NAN, NAN);
  const float m = fmax(a.x, b.x);
  const float sa = a.x == -INFINITY ? 0.0f : a.y * exp(a.x - m);
  const float sb = b.x == -INFINITY ? 0.0f : b.y * exp(b.x - m);
  return (float2)(m, sa + sb);
}
inline acc_t acc_add(acc_t a, T x) { return acc_merge(a, (float2)(x, 1.0f)); }
inline T acc_final(acc_t a, uint n) {
  (void)n;
  return a.x + log(a.y);
}
#else
#if IS_INT
typedef long acc_t;
#define ACC_MAX LONG_MAX
#define ACC_MIN LONG_MIN
#else
typedef float acc_t;
#define ACC_MAX INFINITY
#define ACC_MIN (-INFINITY)
#endif
#if RED == 2
#define ACC_INIT ACC_MIN
#elif RED == 3
#define ACC_INIT ACC_MAX
#elif RED == 4
#define ACC_INIT ((acc_t)1)
#else
#define ACC_INIT ((acc_t)0)
#endif
inline acc_t acc_merge(acc_t a, acc_t b) {
#if RED == 2 && IS_INT
  return a > b ? a : b;
#elif RED == 2
  return (a > b || isnan(a)) ? a : b;
#elif RED == 3 && IS_INT
  return a < b ? a : b;
#elif RED == 3
  return (a < b || isnan(a)) ? a : b;
#elif RED == 4
  return a * b;
#else
  return a + b;
#endif
}
inline acc_t acc_add(acc_t a, T x) {
  const acc_t v = (acc_t)x;
#if RED == 5
  return a + fabs(v);
#elif RED == 6 || RED == 8
  return a + v * v;
#else
  return acc_merge(a, v);
#endif
}
inline T acc_final(acc_t a, uint n) {
#if RED == 1
  return (T)(a / (acc_t)n);
#elif RED == 6
  return (T)sqrt(a);
#elif RED == 9
  return (T)log(a);
#else
  (void)n;
  return (T)a;
#endif
}
#endif

/* Tree-merges the work-group's accumulators; every work-item gets the result. */
inline acc_t group_merge(acc_t acc, __local acc_t *tmp) {
  const uint lid = get_local_id(0), lsz = get_local_size(0);
  tmp[lid] = acc;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint off = lsz / 2u; off > 0u; off >>= 1) {
    if (lid < off) tmp[lid] = acc_merge(tmp[lid], tmp[lid + off]);
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  return tmp[0];
}

/* Group gx reduces chunk (gx % G) of row (gx / G). With G == 1 it writes the final value to
   y[row], else the accumulator to part[gx] for reduce_partials. Local size: a power of two. */
__kernel void reduce_rows(__global const T *x, __global T *y, __global acc_t *part, const uint R,
                          const uint chunk, const uint G, __local acc_t *tmp) {
  const uint gx = get_group_id(0), lid = get_local_id(0), lsz = get_local_size(0);
  const uint row = gx / G, g = gx - row * G;
  const uint start = g * chunk, end = min(R, start + chunk);
  __global const T *xr = x + (size_t)row * R;
  acc_t acc = ACC_INIT;
  for (uint i = start + lid; i < end; i += lsz) acc = acc_add(acc, xr[i]);
  acc = group_merge(acc, tmp);
  if (lid == 0) {
    if (G == 1u)
      y[row] = acc_final(acc, R);
    else
      part[gx] = acc;
  }
}

/* CPU form of reduce_rows for many rows: a work-item per row (rows of them), no barriers. Eight
   interleaved accumulators make the loop vectorisable without reassociating any one of them. */
__kernel void reduce_rows_item(__global const T *x, __global T *y, const uint R, const uint rows) {
  const uint row = get_global_id(0);
  GUARD(row, rows);
  __global const T *xr = x + (size_t)row * R;
  acc_t a[8];
  for (uint j = 0; j < 8u; j++) a[j] = ACC_INIT;
  const uint n8 = R / 8u * 8u;
  for (uint i = 0; i < n8; i += 8u)
    for (uint j = 0; j < 8u; j++) a[j] = acc_add(a[j], xr[i + j]);
  for (uint i = n8; i < R; i++) a[0] = acc_add(a[0], xr[i]);
  acc_t acc = a[0];
  for (uint j = 1; j < 8u; j++) acc = acc_merge(acc, a[j]);
  y[row] = acc_final(acc, R);
}

/* A work-group per row merges the row's G partial accumulators. */
__kernel void reduce_partials(__global const acc_t *part, __global T *y, const uint G, const uint R,
                              __local acc_t *tmp) {
  const uint row = get_group_id(0), lid = get_local_id(0), lsz = get_local_size(0);
  acc_t acc = ACC_INIT;
  for (uint i = lid; i < G; i += lsz) acc = acc_merge(acc, part[(size_t)row * G + i]);
  acc = group_merge(acc, tmp);
  if (lid == 0) y[row] = acc_final(acc, R);
}

/* Work-item (o, g, i) reduces chunk g of column (o, i) of [outer, R, inner]; items is
   outer * G * inner. G == 1 writes y, else part[(o * G + g) * inner + i]. */
__kernel void reduce_cols(__global const T *x, __global T *y, __global acc_t *part, const uint R,
                          const uint inner, const uint chunk, const uint G, const uint items) {
  const uint id = get_global_id(0);
  GUARD(id, items);
  const uint t = id / inner, i = id - t * inner, o = t / G, g = t - o * G;
  const uint start = g * chunk, end = min(R, start + chunk);
  __global const T *xc = x + (size_t)o * R * inner + i;
  acc_t acc = ACC_INIT;
  for (uint k = start; k < end; k++) acc = acc_add(acc, xc[(size_t)k * inner]);
  if (G == 1u)
    y[(size_t)o * inner + i] = acc_final(acc, R);
  else
    part[id] = acc;
}

/* CPU form of reduce_cols. Work-item (o, g, b) reduces chunk g of the rows of columns
   [b * COL_SPAN, + COL_SPAN) of [outer, R, inner] into private accumulators, so it streams
   through memory row by row (reduce_cols walks one column with a stride of inner elements,
   which defeats the CPU's prefetchers: each access lands on a new page for wide rows). nb is
   the number of spans per row; items is outer * G * nb. G == 1 writes y, else part as
   reduce_cols does. Meant for work-groups of one item. */
__kernel void reduce_cols_span(__global const T *x, __global T *y, __global acc_t *part,
                               const uint R, const uint inner, const uint chunk, const uint G,
                               const uint nb, const uint items) {
  const uint id = get_global_id(0);
  GUARD(id, items);
  const uint t = id / nb, b = id - t * nb, o = t / G, g = t - o * G;
  const uint c0 = b * COL_SPAN, cn = min((uint)COL_SPAN, inner - c0);
  const uint start = g * chunk, end = min(R, start + chunk);
  acc_t acc[COL_SPAN];
  for (uint j = 0; j < cn; j++) acc[j] = ACC_INIT;
  __global const T *xr = x + ((size_t)o * R + start) * inner + c0;
  for (uint k = start; k < end; k++, xr += inner)
    for (uint j = 0; j < cn; j++) acc[j] = acc_add(acc[j], xr[j]);
  if (G == 1u) {
    __global T *yo = y + (size_t)o * inner + c0;
    for (uint j = 0; j < cn; j++) yo[j] = acc_final(acc[j], R);
  } else {
    __global acc_t *po = part + ((size_t)o * G + g) * inner + c0;
    for (uint j = 0; j < cn; j++) po[j] = acc[j];
  }
}

/* Work-item (o, i) merges the G partials of its column; items is outer * inner. */
__kernel void reduce_cols_partials(__global const acc_t *part, __global T *y, const uint G,
                                   const uint R, const uint inner, const uint items) {
  const uint id = get_global_id(0);
  GUARD(id, items);
  const uint o = id / inner, i = id - o * inner;
  acc_t acc = ACC_INIT;
  for (uint g = 0; g < G; g++) acc = acc_merge(acc, part[((size_t)o * G + g) * inner + i]);
  y[id] = acc_final(acc, R);
}

/* One work-item per output. meta: the SPLIT_* layout of common/dims_layout.h (kept and reduced
   dims and input strides). */
__kernel void reduce_general(__global const T *x, __global T *y, __constant uint *meta,
                             const uint items, const uint R) {
  const uint id = get_global_id(0);
  GUARD(id, items);
  const uint base = split_offset(id, meta, SPLIT_KEPT_RANK);
  acc_t acc = ACC_INIT;
  for (uint r = 0; r < R; r++) acc = acc_add(acc, x[base + split_offset(r, meta, SPLIT_RED_RANK)]);
  y[id] = acc_final(acc, R);
}

#else /* ARG */

/* ---- ArgMax / ArgMin ---- */
#define ARG_NONE 0xffffffffu

/* Does (v, i) beat the current best (b, bi)? NaN beats numbers (NumPy returns the first NaN). */
inline int arg_better(T v, uint i, T b, uint bi) {
  if (bi == ARG_NONE) return 1;
#if !IS_INT
  if (isnan(v) || isnan(b)) {
    if (!isnan(v)) return 0;
    if (!isnan(b)) return 1;
    return SELECT_LAST ? i > bi : i < bi;
  }
#endif
#if ARG_MIN
  if (v < b) return 1;
#else
  if (v > b) return 1;
#endif
  return v == b && (SELECT_LAST ? i > bi : i < bi);
}

/* A work-group per contiguous row of length R (R >= 1). Local size: a power of two. */
__kernel void reduce_arg_rows(__global const T *x, __global long *y, const uint R, __local T *tv,
                              __local uint *ti) {
  const uint row = get_group_id(0), lid = get_local_id(0), lsz = get_local_size(0);
  __global const T *xr = x + (size_t)row * R;
  T best = (T)0;
  uint bi = ARG_NONE;
  for (uint i = lid; i < R; i += lsz) {
    const T v = xr[i];
    if (arg_better(v, i, best, bi)) {
      best = v;
      bi = i;
    }
  }
  tv[lid] = best;
  ti[lid] = bi;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint off = lsz / 2u; off > 0u; off >>= 1) {
    if (lid < off && ti[lid + off] != ARG_NONE &&
        arg_better(tv[lid + off], ti[lid + off], tv[lid], ti[lid])) {
      tv[lid] = tv[lid + off];
      ti[lid] = ti[lid + off];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0) y[row] = (long)ti[0];
}

/* CPU form of reduce_arg_rows for many rows: a work-item per row (rows of them) keeps eight
   interleaved (best, index) lanes, merged at the end; arg_better's index rule settles ties
   whatever the lane order. */
__kernel void reduce_arg_rows_item(__global const T *x, __global long *y, const uint R,
                                   const uint rows) {
  const uint row = get_global_id(0);
  GUARD(row, rows);
  __global const T *xr = x + (size_t)row * R;
  T best[8];
  uint bi[8];
  for (uint j = 0; j < 8u; j++) {
    best[j] = (T)0;
    bi[j] = ARG_NONE;
  }
  const uint n8 = R / 8u * 8u;
  for (uint i = 0; i < n8; i += 8u)
    for (uint j = 0; j < 8u; j++) {
      const T v = xr[i + j];
      if (arg_better(v, i + j, best[j], bi[j])) {
        best[j] = v;
        bi[j] = i + j;
      }
    }
  for (uint i = n8; i < R; i++) {
    const T v = xr[i];
    if (arg_better(v, i, best[0], bi[0])) {
      best[0] = v;
      bi[0] = i;
    }
  }
  T b = best[0];
  uint bb = bi[0];
  for (uint j = 1; j < 8u; j++)
    if (bi[j] != ARG_NONE && arg_better(best[j], bi[j], b, bb)) {
      b = best[j];
      bb = bi[j];
    }
  y[row] = (long)bb;
}

/* A work-item per (outer, inner) column of [outer, R, inner]. */
__kernel void reduce_arg_cols(__global const T *x, __global long *y, const uint R, const uint inner,
                              const uint items) {
  const uint id = get_global_id(0);
  GUARD(id, items);
  const uint o = id / inner, i = id - o * inner;
  __global const T *xc = x + (size_t)o * R * inner + i;
  T best = (T)0;
  uint bi = ARG_NONE;
  for (uint k = 0; k < R; k++) {
    const T v = xc[(size_t)k * inner];
    if (arg_better(v, k, best, bi)) {
      best = v;
      bi = k;
    }
  }
  y[id] = (long)bi;
}
#endif
