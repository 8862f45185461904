/* indexing.cl: ops whose output depends on element positions: Trilu, EyeLike, OneHot (pattern
   fills) and the along-one-axis ops CumSum, Hardmax and TopK.
   Along-axis ops view their input as [outer, n, inner] with the axis in the middle, so one
   kernel serves every axis and rank; a work-item owns one line (CumSum, Hardmax) or one element
   of a line (TopK), and neighbouring work-items take neighbouring `inner` positions so loads
   along a line coalesce. Long lines go to one work-group each (CumSum with few lines, TopK).
   Options:
   -D T=type    element type of data / output (float, long, int, uchar, char; default float)
   -D TI=type   OneHot index type (float, long, int; default long) */
#include "common/index.cl"

#ifndef T
#define T float
#endif
#ifndef TI
#define TI long
#endif

/* Trilu over [batch, rows, cols]: keeps x where col - row >= k (upper) or <= k (lower), else 0.
   Grid: cols x rows x batch. */
__kernel void indexing_trilu(__global const T *x, __global T *y, const uint cols, const uint rows,
                             const uint batch, const long k, const int upper) {
  const uint j = get_global_id(0), i = get_global_id(1), b = get_global_id(2);
  if (j >= cols || i >= rows || b >= batch) return;
  const size_t o = ((size_t)b * rows + i) * cols + j;
  const long d = (long)j - (long)i;
  y[o] = (upper ? d >= k : d <= k) ? x[o] : (T)0;
}

/* EyeLike over [rows, cols]: 1 on the diagonal col - row == k. Grid: cols x rows. */
__kernel void indexing_eyelike(__global T *y, const uint cols, const uint rows, const long k) {
  const uint j = get_global_id(0), i = get_global_id(1);
  if (j >= cols || i >= rows) return;
  y[(size_t)i * cols + j] = ((long)j - (long)i == k) ? (T)1 : (T)0;
}

/* OneHot: indices [outer, inner], output [outer, depth, inner]; values = {off, on}. Negative
   indices count from the end; out-of-range ones give an all-off line.
   Grid: inner x depth x outer. */
__kernel void indexing_onehot(__global const TI *idx, __global const T *values, __global T *y,
                              const uint inner, const uint depth, const uint outer) {
  const uint i = get_global_id(0), d = get_global_id(1), o = get_global_id(2);
  if (i >= inner || d >= depth || o >= outer) return;
  long v = (long)idx[(size_t)o * inner + i];
  if (v < 0) v += (long)depth;
  y[((size_t)o * depth + d) * inner + i] = v == (long)d ? values[1] : values[0];
}

/* CumSum along n of [outer, n, inner]; exclusive shifts by one, reverse scans from the end.
   Grid: inner x outer, one line per work-item. */
__kernel void indexing_cumsum(__global const T *x, __global T *y, const uint inner, const uint n,
                              const uint outer, const int exclusive, const int reverse) {
  const uint i = get_global_id(0), o = get_global_id(1);
  if (i >= inner || o >= outer) return;
  const size_t base = (size_t)o * n * inner + i;
  T acc = (T)0;
  for (uint t = 0; t < n; ++t) {
    const size_t p = base + (size_t)(reverse ? n - 1 - t : t) * inner;
    const T v = x[p];
    if (exclusive) {
      y[p] = acc;
      acc += v;
    } else {
      acc += v;
      y[p] = acc;
    }
  }
}

/* CumSum for few long lines: one work-group per line; each work-item owns a contiguous chunk of
   about n / local elements. Pass 1 sums the chunks, the chunk sums are scanned in local memory
   (Hillis-Steele, log2(local) steps), pass 2 rescans each chunk from its offset: x is read
   twice and only a handful of barriers run, which keeps CPUs (where a barrier is costly) fast.
   Grid: local size x lines (local size a power of 2). */
__kernel void indexing_cumsum_group(__global const T *x, __global T *y, const uint inner,
                                    const uint n, const uint outer, const int exclusive,
                                    const int reverse, __local T *scan) {
  const uint lid = get_local_id(0), ls = get_local_size(0), line = get_group_id(0);
  if (line >= inner * outer) return; /* whole groups only: the barriers stay uniform */
  const uint o = line / inner, i = line % inner;
  const size_t base = (size_t)o * n * inner + i;
  const uint per = (n + ls - 1) / ls, t0 = min(n, lid * per), t1 = min(n, t0 + per);
  T s = (T)0;
  for (uint t = t0; t < t1; ++t) s += x[base + (size_t)(reverse ? n - 1 - t : t) * inner];
  scan[lid] = s;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint h = 1; h < ls; h *= 2) {
    const T add = lid >= h ? scan[lid - h] : (T)0;
    barrier(CLK_LOCAL_MEM_FENCE);
    scan[lid] += add;
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  T acc = scan[lid] - s; /* sum of the chunks before this one */
  for (uint t = t0; t < t1; ++t) {
    const size_t p = base + (size_t)(reverse ? n - 1 - t : t) * inner;
    const T v = x[p];
    if (exclusive) {
      y[p] = acc;
      acc += v;
    } else {
      acc += v;
      y[p] = acc;
    }
  }
}

/* Hardmax along n of [outer, n, inner]: 1 at the first maximum, 0 elsewhere (a NaN line keeps the
   first element). Grid: inner x outer. */
__kernel void indexing_hardmax(__global const T *x, __global T *y, const uint inner, const uint n,
                               const uint outer) {
  const uint i = get_global_id(0), o = get_global_id(1);
  if (i >= inner || o >= outer) return;
  const size_t base = (size_t)o * n * inner + i;
  uint best = 0;
  T bv = x[base];
  for (uint t = 1; t < n; ++t) {
    const T v = x[base + (size_t)t * inner];
    if (v > bv) {
      bv = v;
      best = t;
    }
  }
  for (uint t = 0; t < n; ++t) y[base + (size_t)t * inner] = t == best ? (T)1 : (T)0;
}

/* TopK along n of [outer, n, inner], k of them into values/indices [outer, k, inner]. Each
   work-item ranks one element against its line (ties go to the lower index, as ONNX asks) and,
   when its rank is below k, writes itself to that slot: the output comes out sorted and no
   work-item waits on another. O(n) reads per element: meant for the class-count lines TopK
   sees in detection and beam-search heads. Grid: n x (outer * inner). */
__kernel void indexing_topk(__global const T *x, __global T *vals, __global long *inds,
                            const uint inner, const uint n, const uint outer, const uint k,
                            const int largest) {
  const uint j = get_global_id(0), line = get_global_id(1);
  if (j >= n || line >= inner * outer) return;
  const uint o = line / inner, i = line % inner;
  const size_t base = (size_t)o * n * inner + i;
  const T v = x[base + (size_t)j * inner];
  uint rank = 0;
  for (uint m = 0; m < n; ++m) {
    const T w = x[base + (size_t)m * inner];
    const int better = largest ? (w > v || (w == v && m < j)) : (w < v || (w == v && m < j));
    rank += better ? 1u : 0u;
  }
  if (rank < k) {
    const size_t p = (size_t)o * k * inner + (size_t)rank * inner + i;
    vals[p] = v;
    inds[p] = (long)j;
  }
}

/* TopK order: (w, m) ranks before (v, j) when its value is better, ties to the lower index. */
#define INDEXING_BETTER(w, m, v, j, largest)                                                       \
  ((largest) ? ((w) > (v) || ((w) == (v) && (m) < (j))) : ((w) < (v) || ((w) == (v) && (m) < (j))))

/* TopK for long lines, where indexing_topk's n reads per element cost too much: one work-group
   per line picks the k winners in k rounds. Round r takes the best element ranked after round
   r-1's pick in the total order above, so nothing needs marking and ties come out by index.
   Work O(k * n / local size) per work-item. Grid: local size x lines (local size a power of 2). */
__kernel void indexing_topk_rounds(__global const T *x, __global T *vals, __global long *inds,
                                   const uint inner, const uint n, const uint outer, const uint k,
                                   const int largest, __local T *sv, __local uint *si) {
  const uint lid = get_local_id(0), ls = get_local_size(0), line = get_group_id(0);
  if (line >= inner * outer) return; /* whole groups only: the barrier below stays uniform */
  const uint o = line / inner, i = line % inner;
  const size_t base = (size_t)o * n * inner + i;
  T pv = (T)0;
  uint pi = UINT_MAX; /* no pick yet */
  for (uint r = 0; r < k; ++r) {
    T bv = (T)0;
    uint bi = UINT_MAX;
    for (uint m = lid; m < n; m += ls) {
      const T w = x[base + (size_t)m * inner];
      if (pi != UINT_MAX && !INDEXING_BETTER(pv, pi, w, m, largest)) continue;
      if (bi == UINT_MAX || INDEXING_BETTER(w, m, bv, bi, largest)) {
        bv = w;
        bi = m;
      }
    }
    sv[lid] = bv;
    si[lid] = bi;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint h = ls / 2; h > 0; h /= 2) {
      if (lid < h) {
        const uint oi = si[lid + h];
        if (oi != UINT_MAX &&
            (si[lid] == UINT_MAX || INDEXING_BETTER(sv[lid + h], oi, sv[lid], si[lid], largest))) {
          sv[lid] = sv[lid + h];
          si[lid] = oi;
        }
      }
      barrier(CLK_LOCAL_MEM_FENCE);
    }
    pv = sv[0];
    pi = si[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lid == 0) {
      const size_t p = (size_t)o * k * inner + (size_t)r * inner + i;
      vals[p] = pv;
      inds[p] = (long)pi;
    }
  }
}
