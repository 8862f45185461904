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

/* t1..tNSTEP as separate statements (each op rounds to float on its own, as unfused). */
#if NSTEP >= 1
#define EC_STEP1 const float t1 = (float)(STEP1);
#else
#define EC_STEP1
#endif
#if NSTEP >= 2
#define EC_STEP2 const float t2 = (float)(STEP2);
#else
#define EC_STEP2
#endif
#if NSTEP >= 3
#define EC_STEP3 const float t3 = (float)(STEP3);
#else
#define EC_STEP3
#endif
#if NSTEP >= 4
#define EC_STEP4 const float t4 = (float)(STEP4);
#else
#define EC_STEP4
#endif
#if NSTEP >= 5
#define EC_STEP5 const float t5 = (float)(STEP5);
#else
#define EC_STEP5
#endif
#if NSTEP >= 6
#define EC_STEP6 const float t6 = (float)(STEP6);
#else
#define EC_STEP6
#endif
#if NSTEP >= 7
#define EC_STEP7 const float t7 = (float)(STEP7);
#else
#define EC_STEP7
#endif
#if NSTEP >= 8
#define EC_STEP8 const float t8 = (float)(STEP8);
#else
#define EC_STEP8
#endif
#if NSTEP >= 9
#define EC_STEP9 const float t9 = (float)(STEP9);
#else
#define EC_STEP9
#endif
#if NSTEP >= 10
#define EC_STEP10 const float t10 = (float)(STEP10);
#else
#define EC_STEP10
#endif
#if NSTEP >= 11
#define EC_STEP11 const float t11 = (float)(STEP11);
#else
#define EC_STEP11
#endif
#if NSTEP >= 12
#define EC_STEP12 const float t12 = (float)(STEP12);
#else
#define EC_STEP12
#endif
#if NSTEP >= 13
#define EC_STEP13 const float t13 = (float)(STEP13);
#else
#define EC_STEP13
#endif
#if NSTEP >= 14
#define EC_STEP14 const float t14 = (float)(STEP14);
#else
#define EC_STEP14
#endif
#if NSTEP >= 15
#define EC_STEP15 const float t15 = (float)(STEP15);
#else
#define EC_STEP15
#endif
#if NSTEP >= 16
#define EC_STEP16 const float t16 = (float)(STEP16);
#else
#define EC_STEP16
#endif
#define EC_STEPS                                                                                   \
  EC_STEP1 EC_STEP2 EC_STEP3 EC_STEP4 EC_STEP5 EC_STEP6 EC_STEP7 EC_STEP8 EC_STEP9 EC_STEP10       \
      EC_STEP11 EC_STEP12 EC_STEP13 EC_STEP14 EC_STEP15 EC_STEP16
#if NIN > 0
#if MODE0 == 0
#define EC_AT0(e) X0[e]
#elif MODE0 == 1
#define EC_AT0(e) X0[0]
#elif MODE0 == 3
#define EC_AT0(e) X0[(e) % meta[CHAIN_DIMS]]
#else
#define EC_AT0(e) X0[ec_offset(meta, 0u, e)]
#endif
#define EC_LOAD0(e) const float v0 = EC_AT0(e);
#define EC_VLOAD0                                                                                  \
  const float4 w0 = MODE0 == 0   ? vload4(0, X0 + i)                                               \
                    : MODE0 == 3 ? vload4(0, X0 + i % meta[CHAIN_DIMS])                            \
                                 : (float4)(X0[0]);
#define EC_LANE0(s) const float v0 = w0.s;
#else
#define EC_LOAD0(e)
#define EC_VLOAD0
#define EC_LANE0(s)
#endif
#if NIN > 1
#if MODE1 == 0
#define EC_AT1(e) X1[e]
#elif MODE1 == 1
#define EC_AT1(e) X1[0]
#elif MODE1 == 3
#define EC_AT1(e) X1[(e) % meta[CHAIN_DIMS]]
#else
#define EC_AT1(e) X1[ec_offset(meta, 1u, e)]
#endif
#define EC_LOAD1(e) const float v1 = EC_AT1(e);
#define EC_VLOAD1                                                                                  \
  const float4 w1 = MODE1 == 0   ? vload4(0, X1 + i)                                               \
                    : MODE1 == 3 ? vload4(0, X1 + i % meta[CHAIN_DIMS])                            \
                                 : (float4)(X1[0]);
#define EC_LANE1(s) const float v1 = w1.s;
#else
#define EC_LOAD1(e)
#define EC_VLOAD1
#define EC_LANE1(s)
#endif
#if NIN > 2
#if MODE2 == 0
#define EC_AT2(e) X2[e]
#elif MODE2 == 1
#define EC_AT2(e) X2[0]
#elif MODE2 == 3
#define EC_AT2(e) X2[(e) % meta[CHAIN_DIMS]]
#else
#define EC_AT2(e) X2[ec_offset(meta, 2u, e)]
#endif
#define EC_LOAD2(e) const float v2 = EC_AT2(e);
#define EC_VLOAD2                                                                                  \
  const float4 w2 = MODE2 == 0   ? vload4(0, X2 + i)                                               \
                    : MODE2 == 3 ? vload4(0, X2 + i % meta[CHAIN_DIMS])                            \
                                 : (float4)(X2[0]);
#define EC_LANE2(s) const float v2 = w2.s;
#else
#define EC_LOAD2(e)
#define EC_VLOAD2
#define EC_LANE2(s)
#endif
#if NIN > 3
#if MODE3 == 0
#define EC_AT3(e) X3[e]
#elif MODE3 == 1
#define EC_AT3(e) X3[0]
#elif MODE3 == 3
#define EC_AT3(e) X3[(e) % meta[CHAIN_DIMS]]
#else
#define EC_AT3(e) X3[ec_offset(meta, 3u, e)]
#endif
#define EC_LOAD3(e) const float v3 = EC_AT3(e);
#define EC_VLOAD3                                                                                  \
  const float4 w3 = MODE3 == 0   ? vload4(0, X3 + i)                                               \
                    : MODE3 == 3 ? vload4(0, X3 + i % meta[CHAIN_DIMS])                            \
                                 : (float4)(X3[0]);
#define EC_LANE3(s) const float v3 = w3.s;
#else
#define EC_LOAD3(e)
#define EC_VLOAD3
#define EC_LANE3(s)
#endif
#if NIN > 4
#if MODE4 == 0
#define EC_AT4(e) X4[e]
#elif MODE4 == 1
#define EC_AT4(e) X4[0]
#elif MODE4 == 3
#define EC_AT4(e) X4[(e) % meta[CHAIN_DIMS]]
#else
#define EC_AT4(e) X4[ec_offset(meta, 4u, e)]
#endif
#define EC_LOAD4(e) const float v4 = EC_AT4(e);
#define EC_VLOAD4                                                                                  \
  const float4 w4 = MODE4 == 0   ? vload4(0, X4 + i)                                               \
                    : MODE4 == 3 ? vload4(0, X4 + i % meta[CHAIN_DIMS])                            \
                                 : (float4)(X4[0]);
#define EC_LANE4(s) const float v4 = w4.s;
#else
#define EC_LOAD4(e)
#define EC_VLOAD4
#define EC_LANE4(s)
#endif
#if NIN > 5
#if MODE5 == 0
#define EC_AT5(e) X5[e]
#elif MODE5 == 1
#define EC_AT5(e) X5[0]
#elif MODE5 == 3
#define EC_AT5(e) X5[(e) % meta[CHAIN_DIMS]]
#else
#define EC_AT5(e) X5[ec_offset(meta, 5u, e)]
#endif
#define EC_LOAD5(e) const float v5 = EC_AT5(e);
#define EC_VLOAD5                                                                                  \
  const float4 w5 = MODE5 == 0   ? vload4(0, X5 + i)                                               \
                    : MODE5 == 3 ? vload4(0, X5 + i % meta[CHAIN_DIMS])                            \
                                 : (float4)(X5[0]);
#define EC_LANE5(s) const float v5 = w5.s;
#else
#define EC_LOAD5(e)
#define EC_VLOAD5
#define EC_LANE5(s)
#endif
#if NIN > 6
#if MODE6 == 0
#define EC_AT6(e) X6[e]
#elif MODE6 == 1
#define EC_AT6(e) X6[0]
#elif MODE6 == 3
#define EC_AT6(e) X6[(e) % meta[CHAIN_DIMS]]
#else
#define EC_AT6(e) X6[ec_offset(meta, 6u, e)]
#endif
#define EC_LOAD6(e) const float v6 = EC_AT6(e);
#define EC_VLOAD6                                                                                  \
  const float4 w6 = MODE6 == 0   ? vload4(0, X6 + i)                                               \
                    : MODE6 == 3 ? vload4(0, X6 + i % meta[CHAIN_DIMS])                            \
                                 : (float4)(X6[0]);
#define EC_LANE6(s) const float v6 = w6.s;
#else
#define EC_LOAD6(e)
#define EC_VLOAD6
#define EC_LANE6(s)
#endif
#if NIN > 7
#if MODE7 == 0
#define EC_AT7(e) X7[e]
#elif MODE7 == 1
#define EC_AT7(e) X7[0]
#elif MODE7 == 3
#define EC_AT7(e) X7[(e) % meta[CHAIN_DIMS]]
#else
#define EC_AT7(e) X7[ec_offset(meta, 7u, e)]
#endif
#define EC_LOAD7(e) const float v7 = EC_AT7(e);
#define EC_VLOAD7                                                                                  \
  const float4 w7 = MODE7 == 0   ? vload4(0, X7 + i)                                               \
                    : MODE7 == 3 ? vload4(0, X7 + i % meta[CHAIN_DIMS])                            \
                                 : (float4)(X7[0]);
#define EC_LANE7(s) const float v7 = w7.s;
#else
#define EC_LOAD7(e)
#define EC_VLOAD7
#define EC_LANE7(s)
#endif
#define EC_LOADS(e)                                                                                \
  EC_LOAD0(e) EC_LOAD1(e) EC_LOAD2(e) EC_LOAD3(e) EC_LOAD4(e) EC_LOAD5(e) EC_LOAD6(e) EC_LOAD7(e)
#define EC_VLOADS EC_VLOAD0 EC_VLOAD1 EC_VLOAD2 EC_VLOAD3 EC_VLOAD4 EC_VLOAD5 EC_VLOAD6 EC_VLOAD7
#define EC_LANES(s)                                                                                \
  EC_LANE0(s) EC_LANE1(s) EC_LANE2(s) EC_LANE3(s) EC_LANE4(s) EC_LANE5(s) EC_LANE6(s) EC_LANE7(s)

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
