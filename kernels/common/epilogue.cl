/* common/epilogue.cl: the fused epilogue of Conv/ConvTranspose/Gemm kernels:
   y = act(acc + bias [+ res]) [+ res]. Options (op_epilogue_options writes them):
   -D ACT_EXPR=e      the activation: an expression in x, alpha and beta, the float expression of
                      its row in lib/ops/elementwise_table.h (the unfused op compiles the same
                      text); default x (none)
   -D ACT_ALPHA=f     the activation's alpha (default 0.0f)
   -D ACT_BETA=f      the activation's beta (default 0.0f)
   -D HAS_RES=0|1     a residual tensor is added
   -D RES_AFTER_ACT=0|1  add the residual after the activation instead of before
   EPI_UNKNOWN_ACT or EPI_OPTIONS_TRUNCATED, set by op_epilogue_options on a caller's error, stop
   the build. */
#ifndef NNCL_COMMON_EPILOGUE_CL
#define NNCL_COMMON_EPILOGUE_CL

#ifdef EPI_UNKNOWN_ACT
#error "op_epilogue.act is not a fusable activation (enum op_act)"
#endif
#ifdef EPI_OPTIONS_TRUNCATED
#error "the epilogue options did not fit the caller's buffer (OP_EPILOGUE_OPTIONS_MAX)"
#endif

#ifndef ACT_EXPR
#define ACT_EXPR x
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

/* Scalar, as the unfused element-wise kernel evaluates it, so both give the same bits. */
inline float epi_act_expr(float x, float alpha, float beta) { return ACT_EXPR; }

inline float epi_act(float v) { return epi_act_expr(v, ACT_ALPHA, ACT_BETA); }

/* v already holds acc + bias; r is the residual value (ignored when HAS_RES == 0). */
inline float epi_apply(float v, float r) {
#if HAS_RES && !RES_AFTER_ACT
  return epi_act(v + r);
#elif HAS_RES
  return epi_act(v) + r;
#else
  return epi_act(v);
#endif
}

/* The same on 16 lanes, for kernels that store whole vectors. Each lane goes through the scalar
   form: vector built-ins (exp, tanh, ...) may round differently from the scalar ones. */
inline float16 epi_apply16(float16 v, float16 r) {
  union {
    float16 v;
    float s[16];
  } a = {v}, b = {r};
  for (int i = 0; i < 16; i++) a.s[i] = epi_apply(a.s[i], b.s[i]);
  return a.v;
}

#endif
