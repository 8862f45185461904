/* elementwise_table.h: the element-wise op table. Each row gives an ONNX op its OpenCL
   expression (kernels/elementwise.cl evaluates it per element as -D OP_EXPR) and its typing;
   ops_elementwise.def turns the rows into op table lines, unary.c and binary.c into op_defs.
   An activation's float expression is its only definition: the fused epilogue of
   Conv/ConvTranspose/Gemm/MatMul (op_epilogue.c, kernels/common/epilogue.cl) and the RNN, LSTM
   and GRU gates (rnn.c, kernels/rnn.cl) compile the same text, chosen by the fuse column.
   Only macros live here: ops.def is included inside an enum body.

   Expressions have no spaces (they travel inside a -D build option). Unary expressions read x
   (type TI) and the scalar parameters alpha, beta; binary ones read a, b, alpha, beta. Float
   expressions of fusable rows use no TI (the fused kernels have none). An integer expression of
   NULL means the op is float-only.

   EW_UNARY(ID, "OnnxType", "float expr", "integer expr", kind, fuse, "alpha attribute",
            alpha default, "beta attribute", beta default)
   EW_BINARY(ID, "OnnxType", "float expr", "integer expr", kind, variadic) */
#ifndef NNCL_ELEMENTWISE_TABLE_H
#define NNCL_ELEMENTWISE_TABLE_H

/* Typing kinds (also used as plain ints in the tables). */
#define EWK_FLOAT 0 /* float32 in, float32 out */
#define EWK_NUM 1   /* float32 or integer in (all inputs alike), same type out */
#define EWK_BOOL 2  /* bool in, bool out */
#define EWK_PRED 3  /* float32 in, bool out */
#define EWK_CMP 4   /* any type in (all inputs alike), bool out */
#define EWK_POW 5   /* float32, int32 or int64 base; any numeric exponent; base type out */
#define EWK_CLIP 6  /* as EWK_NUM, plus optional scalar min and max inputs (Clip >= 11) */

/* Fuse column: where else a unary row's float expression is compiled (bits). */
#define EWF_NO 0       /* only as its own op */
#define EWF_EPI 1      /* also as the fused activation of an OP_EPILOGUE op (enum op_act) */
#define EWF_GATE 2     /* also as an RNN/LSTM/GRU gate activation (attribute `activations`) */
#define EWF_EPI_GATE 3 /* both */

/* EW_IF_EPI(fuse, tokens...) / EW_IF_GATE: the tokens when fuse has that bit, else nothing; for
   X-macros that generate only the rows fusable there (enum op_act, rnn.c's gate list). fuse
   expands to 0..3 before pasting. */
#define EW_IF_EPI(fuse, ...) EW_IF_EPI_(fuse, __VA_ARGS__)
#define EW_IF_EPI_(fuse, ...) EW_IF_EPI_##fuse(__VA_ARGS__)
#define EW_IF_EPI_0(...)
#define EW_IF_EPI_1(...) __VA_ARGS__
#define EW_IF_EPI_2(...)
#define EW_IF_EPI_3(...) __VA_ARGS__
#define EW_IF_GATE(fuse, ...) EW_IF_GATE_(fuse, __VA_ARGS__)
#define EW_IF_GATE_(fuse, ...) EW_IF_GATE_##fuse(__VA_ARGS__)
#define EW_IF_GATE_0(...)
#define EW_IF_GATE_1(...)
#define EW_IF_GATE_2(...) __VA_ARGS__
#define EW_IF_GATE_3(...) __VA_ARGS__

/* Pow with an integer base (4e-6: pow's 16-ulp error bound relative to its result, rounded up) */
#define POW_INT_EXPR                                                                               \
  "(TA)(fabs(pow((float)a,(float)b)-rint(pow((float)a,(float)b)))<=4e-6f*fabs(pow((float)a,("      \
  "float)b))?rint(pow((float)a,(float)b)):trunc(pow((float)a,(float)b)))"

#define EW_UNARY_TABLE(X)                                                                          \
  X(RELU, "Relu", "x<0.0f?0.0f:x", "x<0?(TI)0:x", EWK_NUM, EWF_EPI_GATE, NULL, 0, NULL, 0)         \
  X(LEAKY_RELU, "LeakyRelu", "x<0.0f?x*alpha:x", NULL, EWK_FLOAT, EWF_EPI_GATE, "alpha", 0.01f,    \
    NULL, 0)                                                                                       \
  X(ELU, "Elu", "x<0.0f?alpha*expm1(x):x", NULL, EWK_FLOAT, EWF_EPI_GATE, "alpha", 1.0f, NULL, 0)  \
  X(SELU, "Selu", "beta*(x>0.0f?x:alpha*expm1(x))", NULL, EWK_FLOAT, EWF_EPI, "alpha",             \
    1.67326319217681884765625f, "gamma", 1.05070102214813232421875f)                               \
  X(CELU, "Celu", "x>0.0f?x:alpha*expm1(x/alpha)", NULL, EWK_FLOAT, EWF_EPI, "alpha", 1.0f, NULL,  \
    0)                                                                                             \
  X(SIGMOID, "Sigmoid", "1.0f/(1.0f+exp(-x))", NULL, EWK_FLOAT, EWF_EPI_GATE, NULL, 0, NULL, 0)    \
  /* HardSigmoid and ThresholdedRelu compare rather than fmin/fmax so NaN passes through, as */    \
  /* in ONNX's reference; every fusable row keeps NaN a NaN */                                     \
  X(HARD_SIGMOID, "HardSigmoid", "alpha*x+beta<0.0f?0.0f:(alpha*x+beta>1.0f?1.0f:alpha*x+beta)",   \
    NULL, EWK_FLOAT, EWF_EPI_GATE, "alpha", 0.2f, "beta", 0.5f)                                    \
  X(HARD_SWISH, "HardSwish", "x*fmin(fmax(x*(1.0f/6.0f)+0.5f,0.0f),1.0f)", NULL, EWK_FLOAT,        \
    EWF_EPI, NULL, 0, NULL, 0)                                                                     \
  X(TANH, "Tanh", "tanh(x)", NULL, EWK_FLOAT, EWF_EPI_GATE, NULL, 0, NULL, 0)                      \
  X(SOFTPLUS, "Softplus", "x>0.0f?x+log1p(exp(-x)):log1p(exp(x))", NULL, EWK_FLOAT, EWF_EPI_GATE,  \
    NULL, 0, NULL, 0)                                                                              \
  X(SOFTSIGN, "Softsign", "x/(1.0f+fabs(x))", NULL, EWK_FLOAT, EWF_EPI_GATE, NULL, 0, NULL, 0)     \
  /* Clip: alpha/beta come from attributes (< 11) or inputs 1 and 2 (>= 11); see unary.c */        \
  X(CLIP, "Clip", "x<alpha?alpha:(x>beta?beta:x)", "x<alpha?(TI)alpha:(x>beta?(TI)beta:x)",        \
    EWK_CLIP, EWF_EPI, NULL, 0, NULL, 0)                                                           \
  X(THRESHOLDED_RELU, "ThresholdedRelu", "x<=alpha?0.0f:x", NULL, EWK_FLOAT, EWF_EPI_GATE,         \
    "alpha", 1.0f, NULL, 0)                                                                        \
  /* Gelu: alpha is 1 for approximate="tanh" (unary.c sets it) */                                  \
  X(GELU, "Gelu",                                                                                  \
    "alpha!=0.0f?0.5f*x*(1.0f+tanh(0.7978845608f*(x+0.044715f*x*x*x))):0.5f*x*(1.0f+erf(x*0."      \
    "70710678118654752f))",                                                                        \
    NULL, EWK_FLOAT, EWF_EPI, NULL, 0, NULL, 0)                                                    \
  X(EXP, "Exp", "exp(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                               \
  X(LOG, "Log", "log(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                               \
  X(SQRT, "Sqrt", "sqrt(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                            \
  X(RECIPROCAL, "Reciprocal", "1.0f/x", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                 \
  X(NEG, "Neg", "-x", "-x", EWK_NUM, EWF_NO, NULL, 0, NULL, 0)                                     \
  X(ABS, "Abs", "fabs(x)", "x<0?-x:x", EWK_NUM, EWF_NO, NULL, 0, NULL, 0)                          \
  X(SIGN, "Sign", "x>0.0f?1.0f:(x<0.0f?-1.0f:x)", "(TI)((x>0)-(x<0))", EWK_NUM, EWF_NO, NULL, 0,   \
    NULL, 0)                                                                                       \
  X(ERF, "Erf", "erf(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                               \
  X(FLOOR, "Floor", "floor(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                         \
  X(CEIL, "Ceil", "ceil(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                            \
  X(ROUND, "Round", "rint(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                          \
  X(SIN, "Sin", "sin(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                               \
  X(COS, "Cos", "cos(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                               \
  X(TAN, "Tan", "tan(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                               \
  X(ASIN, "Asin", "asin(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                            \
  X(ACOS, "Acos", "acos(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                            \
  X(ATAN, "Atan", "atan(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                            \
  X(SINH, "Sinh", "sinh(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                            \
  X(COSH, "Cosh", "cosh(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                            \
  X(ASINH, "Asinh", "asinh(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                         \
  X(ACOSH, "Acosh", "acosh(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                         \
  X(ATANH, "Atanh", "atanh(x)", NULL, EWK_FLOAT, EWF_NO, NULL, 0, NULL, 0)                         \
  X(NOT, "Not", NULL, "x==0", EWK_BOOL, EWF_NO, NULL, 0, NULL, 0)                                  \
  X(ISNAN, "IsNaN", "isnan(x)", NULL, EWK_PRED, EWF_NO, NULL, 0, NULL, 0)                          \
  /* IsInf: alpha = detect_positive, beta = detect_negative */                                     \
  X(ISINF, "IsInf", "isinf(x)&&(x>0.0f?alpha!=0.0f:beta!=0.0f)", NULL, EWK_PRED, EWF_NO,           \
    "detect_positive", 1.0f, "detect_negative", 1.0f)                                              \
  /* Shrink: alpha = lambd, beta = bias */                                                         \
  X(SHRINK, "Shrink", "x<-alpha?x+beta:(x>alpha?x-beta:0.0f)", NULL, EWK_FLOAT, EWF_NO, "lambd",   \
    0.5f, "bias", 0.0f)

/* Activations ONNX allows only as RNN/LSTM/GRU gate functions (no op of their own); same
   columns as EW_UNARY_TABLE. */
#define EW_GATE_ONLY_TABLE(X)                                                                      \
  X(AFFINE, "Affine", "alpha*x+beta", NULL, EWK_FLOAT, EWF_GATE, "alpha", 1.0f, "beta", 0.0f)      \
  X(SCALED_TANH, "ScaledTanh", "alpha*tanh(beta*x)", NULL, EWK_FLOAT, EWF_GATE, "alpha", 1.0f,     \
    "beta", 1.0f)

/* The derivative of each gate activation (EWF_GATE rows) with respect to its input x, as an
   expression in x, alpha and beta: the RNN/LSTM/GRU gradient op (lib/train/op_rnn_grad.c,
   kernels/rnn_grad.cl) compiles it next to the row's own expression. One macro per row id, so a
   gate row without its derivative fails to compile there. */
#define EW_GATE_GRAD_RELU "x<0.0f?0.0f:1.0f"
#define EW_GATE_GRAD_LEAKY_RELU "x<0.0f?alpha:1.0f"
#define EW_GATE_GRAD_ELU "x<0.0f?alpha*exp(x):1.0f"
#define EW_GATE_GRAD_SIGMOID "exp(-fabs(x))/((1.0f+exp(-fabs(x)))*(1.0f+exp(-fabs(x))))"
#define EW_GATE_GRAD_HARD_SIGMOID "alpha*x+beta<0.0f||alpha*x+beta>1.0f?0.0f:alpha"
#define EW_GATE_GRAD_TANH "1.0f-tanh(x)*tanh(x)"
#define EW_GATE_GRAD_SOFTPLUS "1.0f/(1.0f+exp(-x))"
#define EW_GATE_GRAD_SOFTSIGN "1.0f/((1.0f+fabs(x))*(1.0f+fabs(x)))"
#define EW_GATE_GRAD_THRESHOLDED_RELU "x<=alpha?0.0f:1.0f"
#define EW_GATE_GRAD_AFFINE "alpha"
#define EW_GATE_GRAD_SCALED_TANH "alpha*beta*(1.0f-tanh(beta*x)*tanh(beta*x))"

/* Variadic rows (Sum, Mean, Max, Min) take 1..N inputs and chain the expression; Mean's
   expression scales by alpha, which binary.c sets to 1/N on the last step and 1 before. */
#define EW_BINARY_TABLE(X)                                                                         \
  X(ADD, "Add", "a+b", "a+b", EWK_NUM, 0)                                                          \
  X(SUB, "Sub", "a-b", "a-b", EWK_NUM, 0)                                                          \
  X(MUL, "Mul", "a*b", "a*b", EWK_NUM, 0)                                                          \
  /* integer division truncates (C, and ONNX's reference); /0 gives 0 instead of trapping */       \
  X(DIV, "Div", "a/b", "b==0?(TA)0:(b==-1?(TA)(-a):(TA)(a/b))", EWK_NUM, 0)                        \
  /* integer base: the float power, cast as ONNX's reference does (truncating), except that a   \
     result within pow's error of an integer is that integer (3^6 may come out as 728.9999) */  \
  X(POW, "Pow", "pow(a,(float)b)", POW_INT_EXPR, EWK_POW, 0)                                       \
  X(PRELU, "PRelu", "a<0.0f?a*b:a", NULL, EWK_FLOAT, 0)                                            \
  /* activation gradients (lib/train/grad_elementwise.c): a = dY, b = the forward output Y */      \
  X(RELU_GRAD, "nncl.ReluGrad", "b>0.0f?a:0.0f", NULL, EWK_FLOAT, 0)                               \
  X(SIGMOID_GRAD, "nncl.SigmoidGrad", "a*b*(1.0f-b)", NULL, EWK_FLOAT, 0)                          \
  X(TANH_GRAD, "nncl.TanhGrad", "a*(1.0f-b*b)", NULL, EWK_FLOAT, 0)                                \
  /* these read b = the forward input X */                                                         \
  X(SOFTPLUS_GRAD, "nncl.SoftplusGrad", "a/(1.0f+exp(-b))", NULL, EWK_FLOAT, 0)                    \
  X(GELU_GRAD, "nncl.GeluGrad",                                                                    \
    "a*(0.5f*(1.0f+erf(b*0.70710678118654752f))+b*0.39894228040143268f*exp(-0.5f*b*b))", NULL,     \
    EWK_FLOAT, 0)                                                                                  \
  /* tanh-approximated Gelu: 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 0.044715 x^2) */      \
  X(GELU_TANH_GRAD, "nncl.GeluTanhGrad",                                                           \
    "a*(0.5f*(1.0f+tanh(0.7978845608f*(b+0.044715f*b*b*b)))+0.5f*b*(1.0f-tanh(0.7978845608f*(b+"   \
    "0.044715f*b*b*b))*tanh(0.7978845608f*(b+0.044715f*b*b*b)))*0.7978845608f*(1.0f+0.134145f*b*"  \
    "b))",                                                                                         \
    NULL, EWK_FLOAT, 0)                                                                            \
  X(HARD_SWISH_GRAD, "nncl.HardSwishGrad", "b<-3.0f?0.0f:(b>3.0f?a:a*(b*(1.0f/3.0f)+0.5f))", NULL, \
    EWK_FLOAT, 0)                                                                                  \
  X(MAX, "Max", "(a>b||isnan(a))?a:b", "a>b?a:b", EWK_NUM, 1)                                      \
  X(MIN, "Min", "(a<b||isnan(a))?a:b", "a<b?a:b", EWK_NUM, 1)                                      \
  X(SUM, "Sum", "a+b", "a+b", EWK_NUM, 1)                                                          \
  X(MEAN, "Mean", "(a+b)*alpha", NULL, EWK_FLOAT, 1)                                               \
  X(EQUAL, "Equal", "a==b", "a==b", EWK_CMP, 0)                                                    \
  X(LESS, "Less", "a<b", "a<b", EWK_CMP, 0)                                                        \
  X(GREATER, "Greater", "a>b", "a>b", EWK_CMP, 0)                                                  \
  X(LESS_OR_EQUAL, "LessOrEqual", "a<=b", "a<=b", EWK_CMP, 0)                                      \
  X(GREATER_OR_EQUAL, "GreaterOrEqual", "a>=b", "a>=b", EWK_CMP, 0)                                \
  X(AND, "And", NULL, "a&&b", EWK_BOOL, 0)                                                         \
  X(OR, "Or", NULL, "a||b", EWK_BOOL, 0)                                                           \
  X(XOR, "Xor", NULL, "(a!=0)!=(b!=0)", EWK_BOOL, 0)                                               \
  /* Mod: alpha = fmod attribute (binary.c); fmod 0 takes the divisor's sign (Python), 1 the     \
     dividend's (C fmod); integer x % 0 gives 0 instead of trapping */ \
  X(MOD, "Mod",                                                                                    \
    "(alpha!=0.0f||fmod(a,b)==0.0f||(fmod(a,b)<0.0f)==(b<0.0f))?fmod(a,b):fmod(a,b)+b",            \
    "(b==0||(b<0&&b==(TB)-1))?(TA)0:((alpha==0&&a%b!=0&&((a%b<0)!=(b<0)))?(TA)(a%b+b):(TA)(a%b))", \
    EWK_NUM, 0)

#endif
