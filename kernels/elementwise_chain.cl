/* elementwise_chain.cl: one kernel for a chain (or small DAG) of element-wise ops that
   lib/graph/pass_fuse_elementwise.c merged into an nncl.ElementwiseChain node. Each step is one
   row's float expression from lib/ops/elementwise_table.h with its operands renamed on the host
   (lib/ops/elementwise_chain.c), so the fused node computes exactly what the unfused kernels do,
   one float statement per op (no contraction across ops), without the stores in between.
   Options:
   -D NIN=n        inputs X0..X(n-1) (1..CHAIN_MAX_IN, default 1)
   -D NSTEP=k      steps (1..16, default 1); the result is step k
   -D STEPj=e      step j's expression in v0..v(NIN-1) (the inputs' elements), t1..t(j-1) (earlier
                   steps) and P[i] (the steps' alpha and beta, from the P buffer); default v0
   -D MODEi=0..3   input i is the output's shape (0), one element (1, broadcast), broadcast
                   along some axes (2: indexed through meta's strides) or a vector along the
                   output's innermost axis whose length (meta's dims[0]) is a multiple of 4 (3: a
                   bias or per-channel-last scale); default 0
   Each work-item does 4 consecutive outputs: with vector loads when no input is of mode 2, else
   through the strided walk per element. */
#include "common/dims_layout.h"

#ifndef NIN
#define NIN 1
#endif
#ifndef NSTEP
#define NSTEP 1
#endif
#ifndef STEP1
#define STEP1 v0
#endif

#ifndef MODE0
#define MODE0 0
#endif
#ifndef MODE1
#define MODE1 0
#endif
#ifndef MODE2
#define MODE2 0
#endif
#ifndef MODE3
#define MODE3 0
#endif
#ifndef MODE4
#define MODE4 0
#endif
#ifndef MODE5
#define MODE5 0
#endif
#ifndef MODE6
#define MODE6 0
#endif
#ifndef MODE7
#define MODE7 0
#endif
#ifndef STEP2
#define STEP2 0.0f
#endif
#ifndef STEP3
#define STEP3 0.0f
#endif
#ifndef STEP4
#define STEP4 0.0f
#endif
#ifndef STEP5
#define STEP5 0.0f
#endif
#ifndef STEP6
#define STEP6 0.0f
#endif
#ifndef STEP7
#define STEP7 0.0f
#endif
#ifndef STEP8
#define STEP8 0.0f
#endif
#ifndef STEP9
#define STEP9 0.0f
#endif
#ifndef STEP10
#define STEP10 0.0f
#endif
#ifndef STEP11
#define STEP11 0.0f
#endif
#ifndef STEP12
#define STEP12 0.0f
#endif
#ifndef STEP13
#define STEP13 0.0f
#endif
#ifndef STEP14
#define STEP14 0.0f
#endif
#ifndef STEP15
#define STEP15 0.0f
#endif
#ifndef STEP16
#define STEP16 0.0f
#endif
#define EC_GENERAL                                                                                 \
  ((NIN > 0 && MODE0 == 2) || (NIN > 1 && MODE1 == 2) || (NIN > 2 && MODE2 == 2) ||                \
   (NIN > 3 && MODE3 == 2) || (NIN > 4 && MODE4 == 2) || (NIN > 5 && MODE5 == 2) ||                \
   (NIN > 6 && MODE6 == 2) || (NIN > 7 && MODE7 == 2))

#define EC_CAT_(a, b) a##b
#define EC_CAT(a, b) EC_CAT_(a, b)
#define EC_RESULT EC_CAT(t, NSTEP)

/* Offset of output element e in input j (mode 2): e split into the output's dims, innermost
   first, weighted by j's strides. */
inline uint ec_offset(__constant uint *meta, uint j, uint e) {
  const uint rank = meta[CHAIN_RANK];
  uint off = 0u;
  for (uint k = 0u; k < rank; k++) {
    const uint d = meta[CHAIN_DIMS + k];
    off += (e % d) * meta[CHAIN_STRIDES(j) + k];
    e /= d;
  }
  return off;
}

/* Element e of input j read in its mode, and 4 from element i (modes 0, 1, 3). mode is a
   compile-time MODEj, so the compiler keeps one branch. */
inline float ec_at(__global const float *X, const uint mode, __constant uint *meta, const uint j,
                   const uint e) {
  return mode == 0   ? X[e]
         : mode == 1 ? X[0]
         : mode == 3 ? X[e % meta[CHAIN_DIMS]]
                     : X[ec_offset(meta, j, e)];
}
inline float4 ec_at4(__global const float *X, const uint mode, __constant uint *meta,
                     const uint i) {
  return mode == 0   ? vload4(0, X + i)
         : mode == 3 ? vload4(0, X + i % meta[CHAIN_DIMS])
                     : (float4)(X[0]);
}

/* Inputs past NIN are never read (the host passes any buffer there): NIN > j is a compile-time
   constant, and only the chosen operand of ?: is evaluated. */
#define EC_LOAD(j, e) const float v##j = NIN > j ? ec_at(X##j, MODE##j, meta, j##u, e) : 0.0f;
#define EC_VLOAD(j) const float4 w##j = NIN > j ? ec_at4(X##j, MODE##j, meta, i) : (float4)(0.0f);
#define EC_LANE(j, s) const float v##j = w##j.s;
#define EC_LOADS(e)                                                                                \
  EC_LOAD(0, e)                                                                                    \
  EC_LOAD(1, e) EC_LOAD(2, e) EC_LOAD(3, e) EC_LOAD(4, e) EC_LOAD(5, e) EC_LOAD(6, e) EC_LOAD(7, e)
#define EC_VLOADS                                                                                  \
  EC_VLOAD(0) EC_VLOAD(1) EC_VLOAD(2) EC_VLOAD(3) EC_VLOAD(4) EC_VLOAD(5) EC_VLOAD(6) EC_VLOAD(7)
#define EC_LANES(s)                                                                                \
  EC_LANE(0, s)                                                                                    \
  EC_LANE(1, s) EC_LANE(2, s) EC_LANE(3, s) EC_LANE(4, s) EC_LANE(5, s) EC_LANE(6, s) EC_LANE(7, s)

/* t1..t16 as separate statements (each op rounds to float on its own, as unfused); steps past
   NSTEP are 0.0f, which the compiler drops as unused. */
#define EC_STEP(k) const float t##k = (float)(STEP##k);
#define EC_STEPS                                                                                   \
  EC_STEP(1)                                                                                       \
  EC_STEP(2)                                                                                       \
  EC_STEP(3)                                                                                       \
  EC_STEP(4)                                                                                       \
  EC_STEP(5)                                                                                       \
  EC_STEP(6)                                                                                       \
  EC_STEP(7)                                                                                       \
  EC_STEP(8)                                                                                       \
  EC_STEP(9)                                                                                       \
  EC_STEP(10)                                                                                      \
  EC_STEP(11)                                                                                      \
  EC_STEP(12)                                                                                      \
  EC_STEP(13)                                                                                      \
  EC_STEP(14)                                                                                      \
  EC_STEP(15)                                                                                      \
  EC_STEP(16)

/* Y[e] = the chain at element e, e < n. P holds the steps' parameters. Inputs past NIN are
   unused (the host passes any buffer). meta is only read with a mode-2 input. */
__kernel void elementwise_chain(__global float *Y, const uint n, __constant uint *meta,
                                __constant float *P, __global const float *X0,
                                __global const float *X1, __global const float *X2,
                                __global const float *X3, __global const float *X4,
                                __global const float *X5, __global const float *X6,
                                __global const float *X7) {
  const uint i = get_global_id(0) * 4u;
  if (i >= n) return;
#if !EC_GENERAL
  if (i + 4u <= n) {
    EC_VLOADS
    float4 r;
    { EC_LANES(s0) EC_STEPS r.s0 = EC_RESULT; }
    { EC_LANES(s1) EC_STEPS r.s1 = EC_RESULT; }
    { EC_LANES(s2) EC_STEPS r.s2 = EC_RESULT; }
    { EC_LANES(s3) EC_STEPS r.s3 = EC_RESULT; }
    vstore4(r, 0, Y + i);
    return;
  }
#endif
  for (uint e = i; e < n && e < i + 4u; e++) {
    EC_LOADS(e)
    EC_STEPS
    Y[e] = EC_RESULT;
  }
}
