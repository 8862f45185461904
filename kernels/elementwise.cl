/* elementwise.cl: every element-wise op (activations, math, Cast, arithmetic, comparisons,
   logic, Where, PRelu) from two kernels. The op itself is an OpenCL expression chosen on the
   host from lib/ops/elementwise_table.h and passed as -D OP_EXPR, so one source serves ~60 ops.
   Options:
   -D TI=type      unary input element type (float, long, int, uchar, char; default float; half:
                   float16 storage of a float value, common/storage.cl, as TO=half)
   -D TA/TB/TC=type  broadcast-kernel input types (default float, half as TI); TC only with NIN=3
   -D TO=type      output element type (default float)
   -D TP=type      type of the scalar parameters alpha and beta (float, or long for integers)
   -D OP_EXPR=e    the op: an expression in x (unary) or a, b, c (broadcast) and alpha, beta.
                   It is evaluated per element on scalars and converted to TO.
   -D EW_BCAST=0|1 build elementwise_unary (0, default) or elementwise_bcast (1): OP_EXPR only
                   makes sense for one of them
   -D NIN=2|3      broadcast-kernel input count (default 2)
   -D DYN_LO=0|1   unary: alpha is read from lo[0] (Clip with a non-constant min input)
   -D DYN_HI=0|1   unary: beta is read from hi[0] (Clip with a non-constant max input) */
#include "common/dims_layout.h"
#include "common/index.cl"
#include "common/storage.cl"

#ifndef TI
#define TI float
#endif
#ifndef TA
#define TA float
#endif
#ifndef TB
#define TB float
#endif
#ifndef TC
#define TC float
#endif
#ifndef TO
#define TO float
#endif
#ifndef TP
#define TP float
#endif
#ifndef EW_BCAST
#define EW_BCAST 0
#endif
#ifndef NIN
#define NIN 2
#endif
#ifndef OP_EXPR
#if EW_BCAST
#define OP_EXPR a + b
#else
#define OP_EXPR x
#endif
#endif
#ifndef DYN_LO
#define DYN_LO 0
#endif
#ifndef DYN_HI
#define DYN_HI 0
#endif

#define EW_CAT_(a, b) a##b
#define EW_CAT(a, b) EW_CAT_(a, b)
typedef EW_CAT(NVAL(TI), 4) ti4;
typedef EW_CAT(NVAL(TA), 4) ta4;
typedef EW_CAT(NVAL(TB), 4) tb4;
typedef EW_CAT(NVAL(TC), 4) tc4;
typedef EW_CAT(NVAL(TO), 4) to4;

#if !EW_BCAST
/* Unused parameters are fine: the expression decides which ones it reads. */
inline NVAL(TO) ew_unary_op(NVAL(TI) x, TP alpha, TP beta) { return (NVAL(TO))(OP_EXPR); }

/* y[i] = f(x[i]) over n elements; each work-item does 4 with vector loads and stores, the last
   one finishes the tail. x may alias y (the planner runs unary ops in place). lo/hi are only read with DYN_LO/DYN_HI (pass any buffer otherwise). */
__kernel void elementwise_unary(__global const TI *x, __global TO *y, const uint n, TP alpha,
                                TP beta, __global const TI *lo, __global const TI *hi) {
  const uint i = get_global_id(0) * 4u;
  if (i >= n) return;
#if DYN_LO
  alpha = (TP)NLOAD(TI, lo, 0);
#endif
#if DYN_HI
  beta = (TP)NLOAD(TI, hi, 0);
#endif
  if (i + 4u <= n) {
    const ti4 v = NLOAD4(TI, x + i);
    const to4 r = (to4)(ew_unary_op(v.s0, alpha, beta), ew_unary_op(v.s1, alpha, beta),
                        ew_unary_op(v.s2, alpha, beta), ew_unary_op(v.s3, alpha, beta));
    NSTORE4(TO, y + i, r);
  } else {
    for (uint j = i; j < n; j++) NSTORE(TO, y, j, ew_unary_op(NLOAD(TI, x, j), alpha, beta));
  }
}

#else

inline NVAL(TO) ew_nary_op(NVAL(TA) a, NVAL(TB) b, NVAL(TC) c, TP alpha, TP beta) {
  return (NVAL(TO))(OP_EXPR);
}

/* Y = f(A, B[, C]) with NumPy broadcasting, on a shape the host has collapsed (adjacent dims
   merged where every operand allows it, size-1 dims dropped), described by meta in the BCAST_*
   layout of common/dims_layout.h: rank, dims and the strides of A, B and C, innermost first. dims[0] is the
   contiguous output dim, and each operand's stride there is 1 or 0 (broadcast), so each
   work-item does 4 inner elements with a vector load or one broadcast scalar.
   Global: (ceil(dims[0] / 4), dims[1], product of the outer dims); the outer index is split
   by div/mod once per work-item, never per element. Y may alias A (in-place variadic chains:
   each work-item reads exactly the elements it writes). */
__kernel void elementwise_bcast(__global const TA *A, __global const TB *B,
#if NIN >= 3
                                __global const TC *C,
#endif
                                __global TO *Y, __constant uint *meta, const TP alpha,
                                const TP beta) {
  const uint i0 = get_global_id(0) * 4u, i1 = get_global_id(1), i2 = get_global_id(2);
  const uint rank = meta[BCAST_RANK];
  __constant uint *dd = meta + BCAST_DIMS, *ta = meta + BCAST_STRIDES(0),
                  *tb = meta + BCAST_STRIDES(1), *tc = meta + BCAST_STRIDES(2);
  const uint d0 = dd[0], d1 = dd[1];
  if (i0 >= d0 || i1 >= d1) return;
  uint oa = i1 * ta[1], ob = i1 * tb[1], oc = i1 * tc[1];
  const uint sa0 = ta[0], sb0 = tb[0], sc0 = tc[0];
  uint rem = i2;
  if (rank > 2u) {
    for (uint k = 2u; k < rank; k++) {
      const uint idx = rem % dd[k];
      rem /= dd[k];
      oa += idx * ta[k];
      ob += idx * tb[k];
      oc += idx * tc[k];
    }
    if (rem) return; /* past the end of the rounded-up third dimension */
  } else if (i2) {
    return;
  }
  const uint oy = (i2 * d1 + i1) * d0 + i0;
#if NIN < 3
  (void)oc;
  (void)sc0;
  const NVAL(TC) cv = (NVAL(TC))0;
#endif
  if (i0 + 4u <= d0) {
    const ta4 a = sa0 ? NLOAD4(TA, A + oa + i0) : (ta4)(NLOAD(TA, A, oa));
    const tb4 b = sb0 ? NLOAD4(TB, B + ob + i0) : (tb4)(NLOAD(TB, B, ob));
#if NIN >= 3
    const tc4 c = sc0 ? NLOAD4(TC, C + oc + i0) : (tc4)(NLOAD(TC, C, oc));
#else
    const tc4 c = (tc4)(cv);
#endif
    const to4 r =
        (to4)(ew_nary_op(a.s0, b.s0, c.s0, alpha, beta), ew_nary_op(a.s1, b.s1, c.s1, alpha, beta),
              ew_nary_op(a.s2, b.s2, c.s2, alpha, beta), ew_nary_op(a.s3, b.s3, c.s3, alpha, beta));
    NSTORE4(TO, Y + oy, r);
  } else {
    for (uint j = 0; i0 + j < d0; j++) {
      const NVAL(TA) a = NLOAD(TA, A, oa + (sa0 ? i0 + j : 0u));
      const NVAL(TB) b = NLOAD(TB, B, ob + (sb0 ? i0 + j : 0u));
#if NIN >= 3
      const NVAL(TC) c = NLOAD(TC, C, oc + (sc0 ? i0 + j : 0u));
#else
      const NVAL(TC) c = cv;
#endif
      NSTORE(TO, Y, oy + j, ew_nary_op(a, b, c, alpha, beta));
    }
  }
}
#endif
