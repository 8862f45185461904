/* common/conv.cl: what the conv kernels that tile over a padded position grid share: writing a
   row of NR results back to NCHW with bias and the fused epilogue. Position q of the grid is
   (q / WPH, q % WPH); columns at or past OW and rows at or past OH are padding and dropped.
   Included by conv_direct.cl and conv_depthwise.cl, which define NR (positions per tile). */
#ifndef NNCL_CONV_COMMON_CL
#define NNCL_CONV_COMMON_CL
#include "common/epilogue.cl"

#ifndef NR
#define NR 32
#endif

/* v[NR]: accumulators of positions q0.. for one output plane starting at y + ybase. The common
   case (all NR positions inside one output row) is a straight run of stores the compiler can
   vectorize; only tiles that wrap a row or touch padding walk position by position, and none
   divides more than once. */
inline void conv_store_tile(__global float *y, __global const float *res, const long ybase,
                            const float *v, const float bk, const int q0, const int WPH,
                            const int OW, const int OH) {
  int oh = q0 / WPH, ow = q0 - oh * WPH;
  if (oh < OH && ow + NR <= OW) {
    const long o = ybase + (long)oh * OW + ow;
#pragma unroll
    for (int j = 0; j < NR; j++) {
#if HAS_RES
      y[o + j] = epi_apply(v[j] + bk, res[o + j]);
#else
      y[o + j] = epi_apply(v[j] + bk, 0.0f);
#endif
    }
    return;
  }
  for (int j = 0; j < NR && oh < OH; j++) {
    if (ow < OW) {
      const long o = ybase + (long)oh * OW + ow;
#if HAS_RES
      y[o] = epi_apply(v[j] + bk, res[o]);
#else
      y[o] = epi_apply(v[j] + bk, 0.0f);
#endif
    }
    if (++ow == WPH) {
      ow = 0;
      oh++;
    }
  }
}

#endif
