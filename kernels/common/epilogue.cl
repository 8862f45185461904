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

/* One activation expression for scalars and vectors (T = float, float16, ...). */
#if ACT == 1
#define EPI_ACT_EXPR(T, v) fmax((v), (T)0.0f)
#elif ACT == 2
#define EPI_ACT_EXPR(T, v) select((v)*ACT_ALPHA, (v), (v) >= (T)0.0f)
#elif ACT == 3
#define EPI_ACT_EXPR(T, v) fmin(fmax((v), (T)ACT_ALPHA), (T)ACT_BETA)
#elif ACT == 4
#define EPI_ACT_EXPR(T, v) (1.0f / (1.0f + exp(-(v))))
#elif ACT == 5
#define EPI_ACT_EXPR(T, v) tanh(v)
#else
#define EPI_ACT_EXPR(T, v) (v)
#endif

#if HAS_RES && !RES_AFTER_ACT
#define EPI_APPLY_EXPR(T, v, r) EPI_ACT_EXPR(T, (v) + (r))
#elif HAS_RES
#define EPI_APPLY_EXPR(T, v, r) (EPI_ACT_EXPR(T, v) + (r))
#else
#define EPI_APPLY_EXPR(T, v, r) EPI_ACT_EXPR(T, v)
#endif

inline float epi_act(float v) { return EPI_ACT_EXPR(float, v); }

/* v already holds acc + bias; r is the residual value (ignored when HAS_RES == 0). */
inline float epi_apply(float v, float r) { return EPI_APPLY_EXPR(float, v, r); }

/* The same on 16 lanes, for kernels that store whole vectors. */
inline float16 epi_apply16(float16 v, float16 r) { return EPI_APPLY_EXPR(float16, v, r); }

#endif
