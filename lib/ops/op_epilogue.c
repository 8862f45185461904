/* op_epilogue.c: the build options of the fused epilogue (kernels/common/epilogue.cl): the
   activation's float expression from elementwise_table.h, its alpha and beta as exact literals,
   and the residual switches. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "op.h"

/* Each fusable activation's expression, indexed by enum op_act: the table row's own text, so
   fused and unfused kernels compile the same expression. */
static const char *const act_expr[] = {[OP_ACT_NONE] = "x",
#define ACT_EXPR_ROW(id, name, fe, ie, kind, fuse, an, ad, bn, bd)                                 \
  EW_IF_EPI(fuse, [OP_ACT_##id] = fe, )
                                       EW_UNARY_TABLE(ACT_EXPR_ROW)
#undef ACT_EXPR_ROW
};

/* The longest text op_epilogue_options writes besides the expression: the option names, two
   float literals of at most 17 characters ("-0x1.fffffep+127f") and the terminating NUL. */
#define EPI_OPTIONS_FIXED 113
#define ACT_FITS_ROW(id, name, fe, ie, kind, fuse, an, ad, bn, bd)                                 \
  EW_IF_EPI(fuse, _Static_assert(sizeof(fe) - 1 + EPI_OPTIONS_FIXED <= OP_EPILOGUE_OPTIONS_MAX,    \
                                 "OP_EPILOGUE_OPTIONS_MAX is too small for " name);)
EW_UNARY_TABLE(ACT_FITS_ROW)
#undef ACT_FITS_ROW

/* A float as an OpenCL C literal. Hex floats are exact, and unlike "%gf" never print "0f" (an
   invalid token) for whole numbers. */
static void float_literal(float v, char *buf, size_t len) {
  if (isnan(v))
    snprintf(buf, len, "NAN");
  else if (isinf(v))
    snprintf(buf, len, "%sINFINITY", v < 0 ? "-" : "");
  else
    snprintf(buf, len, "%af", (double)v);
}

/* 1 when expression e calls no function but fmin, fmax and fabs: the rest of what it uses
   (compare, select, + - * /) gives the same bits on a vector as lane by lane, so the epilogue may
   evaluate it on whole vectors (measured: a 1x1 direct conv with Relu, 16 -> 64 channels at 56x56,
   takes about 0.3 ms that way and 0.4-0.5 ms lane by lane on PoCL). exp, tanh, erf, ... may round
   differently in their vector forms (PoCL's Softplus differs by 1 ulp). */
static int vector_exact(const char *e) {
  static const char *const exact[] = {"fmin", "fmax", "fabs"};
  for (const char *p = e; *p;) {
    if (!isalpha((unsigned char)*p) && *p != '_') {
      p++;
      continue;
    }
    const char *id = p;
    while (isalnum((unsigned char)*p) || *p == '_') p++;
    if (*p != '(' || (id > e && (isdigit((unsigned char)id[-1]) || id[-1] == '.')))
      continue; /* not a call (a variable, or a literal's suffix such as 0.5f) */
    int ok = 0;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
      ok |= (size_t)(p - id) == strlen(exact[i]) && strncmp(id, exact[i], strlen(exact[i])) == 0;
    if (!ok) return 0;
  }
  return 1;
}

void op_epilogue_options(const struct op_epilogue *e, char *buf, size_t len) {
  unsigned act = (unsigned)e->act;
  if (act >= sizeof act_expr / sizeof act_expr[0] || !act_expr[act]) {
    snprintf(buf, len, "-DEPI_UNKNOWN_ACT=%u", act); /* epilogue.cl stops the build on it */
    return;
  }
  char a[32], b[32];
  float_literal(e->alpha, a, sizeof a);
  float_literal(e->beta, b, sizeof b);
  int n = snprintf(buf, len,
                   "-DACT_EXPR=%s -DACT_VEC=%d -DACT_ALPHA=%s -DACT_BETA=%s -DHAS_RES=%d "
                   "-DRES_AFTER_ACT=%d",
                   act_expr[act], vector_exact(act_expr[act]), a, b, e->has_residual ? 1 : 0,
                   e->residual_after_act ? 1 : 0);
  if (n < 0 || (size_t)n >= len) snprintf(buf, len, "-DEPI_OPTIONS_TRUNCATED");
}
