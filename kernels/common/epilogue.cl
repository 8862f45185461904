/* common/epilogue.cl: the fused epilogue of Conv/ConvTranspose/Gemm kernels:
   y = act(acc + bias [+ res]) [+ res]. Options (op_epilogue_options writes them):
   -D ACT=0..5        none, relu, leaky relu, clip, sigmoid, tanh (enum op_act)
   -D ACT_ALPHA=f     leaky slope, or clip minimum
   -D ACT_BETA=f      clip maximum
   -D HAS_RES=0|1     a residual tensor is added
   -D RES_AFTER_ACT=0|1  add the residual after the activation instead of before */
#ifndef NNCL_COMMON_EPILOGUE_CL
#define NNCL_COMMON_EPILOGUE_CL

#ifndef ACT
#define ACT 0
#endif
#ifndef ACT_ALPHA
#define ACT_ALPHA 0.0f
#endif
#ifndef ACT_BETA
#define ACT_BETA 0.0f
#endif
#ifndef HAS_RES
#define HAS_RES 0
#endif
#ifndef RES_AFTER_ACT
#define RES_AFTER_ACT 0
#endif

inline float epi_act(float v) {
#if ACT == 1
  return fmax(v, 0.0f);
#elif ACT == 2
  return v >= 0.0f ? v : v * ACT_ALPHA;
#elif ACT == 3
  return fmin(fmax(v, ACT_ALPHA), ACT_BETA);
#elif ACT == 4
  return 1.0f / (1.0f + exp(-v));
#elif ACT == 5
  return tanh(v);
#else
  return v;
#endif
}

/* v already holds acc + bias; r is the residual value (ignored when HAS_RES == 0). */
inline float epi_apply(float v, float r) {
#if HAS_RES && !RES_AFTER_ACT
  v += r;
#endif
  v = epi_act(v);
#if HAS_RES && RES_AFTER_ACT
  v += r;
#endif
  return v;
}

#endif
