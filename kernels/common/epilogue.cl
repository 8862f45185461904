/* common/epilogue.cl: the fused epilogue of Conv/ConvTranspose/Gemm kernels:
   y = act(acc + bias [+ res]) [+ res]. Options (op_epilogue_options writes them):
   -D ACT_EXPR=e      the activation: an expression in x, alpha and beta, the float expression of
                      its row in lib/ops/elementwise_table.h (the unfused op compiles the same
                      text); default x (none)
   -D ACT_ALPHA=f     the activation's alpha (default 0.0f)
   -D ACT_BETA=f      the activation's beta (default 0.0f)
   -D ACT_VEC=0|1     ACT_EXPR may be evaluated on whole vectors: it calls no built-in that
                      may round differently per vector than per scalar (op_epilogue.c decides;
                      default 0)
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
#ifndef ACT_VEC
#define ACT_VEC 0
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

/* The same on 16 lanes, for kernels that store whole vectors. Vector built-ins (exp, tanh, ...)
   may round differently from the scalar ones, so unless ACT_VEC says the expression has none,
   each lane goes through the scalar form. */
#if ACT_VEC
inline float16 epi_act16_expr(float16 x, float alpha, float beta) { return ACT_EXPR; }

inline float16 epi_apply16(float16 v, float16 r) {
#if HAS_RES && !RES_AFTER_ACT
  return epi_act16_expr(v + r, ACT_ALPHA, ACT_BETA);
#elif HAS_RES
  return epi_act16_expr(v, ACT_ALPHA, ACT_BETA) + r;
#else
  return epi_act16_expr(v, ACT_ALPHA, ACT_BETA);
#endif
}
#else
inline float16 epi_apply16(float16 v, float16 r) {
  float16 o;
  o.s0 = epi_apply(v.s0, r.s0);
  o.s1 = epi_apply(v.s1, r.s1);
  o.s2 = epi_apply(v.s2, r.s2);
  o.s3 = epi_apply(v.s3, r.s3);
  o.s4 = epi_apply(v.s4, r.s4);
  o.s5 = epi_apply(v.s5, r.s5);
  o.s6 = epi_apply(v.s6, r.s6);
  o.s7 = epi_apply(v.s7, r.s7);
  o.s8 = epi_apply(v.s8, r.s8);
  o.s9 = epi_apply(v.s9, r.s9);
  o.sa = epi_apply(v.sa, r.sa);
  o.sb = epi_apply(v.sb, r.sb);
  o.sc = epi_apply(v.sc, r.sc);
  o.sd = epi_apply(v.sd, r.sd);
  o.se = epi_apply(v.se, r.se);
  o.sf = epi_apply(v.sf, r.sf);
  return o;
}
#endif

#endif
