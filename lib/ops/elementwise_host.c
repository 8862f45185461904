/* elementwise_host.c: evaluates an element-wise op's integer expression on the host during
   constant folding, so PyTorch's shape arithmetic (Add/Div/Mul of dims, Equal/Where masks, Cast
   of shapes) folds without a kernel build. The expression is the same text the kernel compiles
   (elementwise_table.h, Where's and Cast's in binary.c and cast.c): this file reads the small
   subset of OpenCL C those integer strings use, so the semantics have one definition. Anything
   it does not know (pow, alpha, floats) leaves the node to the device. */
#include <stdlib.h>
#include <string.h>

#include "elementwise_util.h"

/* One evaluation: the text, the variables' values and types, and the output type. */
struct ev {
  const char *s;
  const char *vars;          /* variable letters in input order: "x", "ab", "abc" */
  int64_t val[3];            /* their values */
  nncl_dtype type[3], out_t; /* TA/TB/TC (or TI) and TO */
  int bad;                   /* unknown syntax, or a division the device would not define */
};

/* The value converted to t as OpenCL C's integer conversion does on a two's complement device
   (narrowing keeps the low bits). */
static int64_t convert(nncl_dtype t, int64_t v) {
  switch (t) {
  case NNCL_INT32: return (int32_t)(uint32_t)v;
  case NNCL_INT8: return (int8_t)(uint8_t)v;
  case NNCL_UINT8:
  case NNCL_BOOL: return (uint8_t)v;
  default: return v;
  }
}

static int64_t load(const nncl_array *a, int64_t i) {
  switch (a->dtype) {
  case NNCL_INT64: return ((const int64_t *)a->data)[i];
  case NNCL_INT32: return ((const int32_t *)a->data)[i];
  case NNCL_INT8: return ((const int8_t *)a->data)[i];
  default: return ((const uint8_t *)a->data)[i];
  }
}

static void store(nncl_array *a, int64_t i, int64_t v) {
  switch (a->dtype) {
  case NNCL_INT64: ((int64_t *)a->data)[i] = v; break;
  case NNCL_INT32: ((int32_t *)a->data)[i] = (int32_t)v; break;
  case NNCL_INT8: ((int8_t *)a->data)[i] = (int8_t)v; break;
  default: ((uint8_t *)a->data)[i] = (uint8_t)v; break;
  }
}

static int host_int_type(nncl_dtype t) {
  return t == NNCL_INT64 || t == NNCL_INT32 || t == NNCL_INT8 || t == NNCL_UINT8 || t == NNCL_BOOL;
}

static int take(struct ev *e, const char *tok) {
  size_t n = strlen(tok);
  if (strncmp(e->s, tok, n) != 0) return 0;
  e->s += n;
  return 1;
}

/* Wrapping arithmetic, as the device's two's complement integers (and no UB on the host). */
static int64_t wrap(uint64_t v) { return (int64_t)v; }

static int64_t cond(struct ev *e, int live);

/* "(TA)" and the like: the type it names, or NNCL_UNDEFINED when the text is no cast. */
static nncl_dtype cast_type(struct ev *e) {
  const char *s = e->s;
  if (s[0] != '(' || s[1] != 'T' || s[2] == '\0' || s[3] != ')') return NNCL_UNDEFINED;
  const char *v = strchr("ABC", s[2]);
  nncl_dtype t = s[2] == 'O'                                  ? e->out_t
                 : s[2] == 'I'                                ? e->type[0]
                 : v && (size_t)(v - "ABC") < strlen(e->vars) ? e->type[v - "ABC"]
                                                              : NNCL_UNDEFINED;
  if (t != NNCL_UNDEFINED) e->s += 4;
  return t;
}

static int64_t unary(struct ev *e, int live) {
  if (take(e, "-")) return wrap(0u - (uint64_t)unary(e, live));
  if (take(e, "!")) return !unary(e, live);
  nncl_dtype t = cast_type(e);
  if (t != NNCL_UNDEFINED) return convert(t, unary(e, live));
  if (take(e, "(")) {
    int64_t v = cond(e, live);
    if (!take(e, ")")) e->bad = 1;
    return v;
  }
  if (*e->s >= '0' && *e->s <= '9') {
    int64_t v = 0;
    while (*e->s >= '0' && *e->s <= '9' && v < INT64_MAX / 10) v = v * 10 + (*e->s++ - '0');
    return v;
  }
  const char *v = strchr(e->vars, *e->s);
  char next = *e->s ? e->s[1] : 'z';
  int ident_char = (next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') || next == '_' ||
                   (next >= '0' && next <= '9');
  if (*e->s && v && !ident_char) {
    e->s++;
    return e->val[v - e->vars];
  }
  e->bad = 1; /* pow, alpha, a float literal, ...: not ours */
  return 0;
}

static int64_t mul(struct ev *e, int live) {
  int64_t a = unary(e, live);
  for (;;) {
    char op = *e->s;
    if (op != '*' && op != '/' && op != '%') return a;
    e->s++;
    int64_t b = unary(e, live);
    if (!live) continue;
    if (op == '*') {
      a = wrap((uint64_t)a * (uint64_t)b);
    } else if (b == 0 || (b == -1 && a == INT64_MIN)) {
      e->bad = 1; /* undefined on the device too: the expressions guard it, so never reached */
      return 0;
    } else {
      a = op == '/' ? a / b : a % b;
    }
  }
}

static int64_t add(struct ev *e, int live) {
  int64_t a = mul(e, live);
  for (;;) {
    if (take(e, "+"))
      a = wrap((uint64_t)a + (uint64_t)mul(e, live));
    else if (e->s[0] == '-')
      e->s++, a = wrap((uint64_t)a - (uint64_t)mul(e, live));
    else
      return a;
  }
}

static int64_t rel(struct ev *e, int live) {
  int64_t a = add(e, live);
  for (;;) {
    if (take(e, "<="))
      a = a <= add(e, live);
    else if (take(e, ">="))
      a = a >= add(e, live);
    else if (take(e, "<"))
      a = a < add(e, live);
    else if (take(e, ">"))
      a = a > add(e, live);
    else
      return a;
  }
}

static int64_t eq(struct ev *e, int live) {
  int64_t a = rel(e, live);
  for (;;) {
    if (take(e, "=="))
      a = a == rel(e, live);
    else if (take(e, "!="))
      a = a != rel(e, live);
    else
      return a;
  }
}

static int64_t land(struct ev *e, int live) {
  int64_t a = eq(e, live);
  while (take(e, "&&")) {
    int64_t b = eq(e, live && a);
    a = a && b;
  }
  return a;
}

static int64_t lor(struct ev *e, int live) {
  int64_t a = land(e, live);
  while (take(e, "||")) {
    int64_t b = land(e, live && !a);
    a = a || b;
  }
  return a;
}

/* c ? x : y evaluates only the branch taken (the other may divide by zero). */
static int64_t cond(struct ev *e, int live) {
  int64_t c = lor(e, live);
  if (!take(e, "?")) return c;
  int64_t x = cond(e, live && c);
  if (!take(e, ":")) e->bad = 1;
  int64_t y = cond(e, live && !c);
  return c ? x : y;
}

/* Evaluates expr once; returns 0 when it reads something this file does not know. */
static int eval(struct ev *e, const char *expr, int64_t *out) {
  e->s = expr;
  e->bad = 0;
  int64_t v = cond(e, 1);
  if (e->bad || *e->s) return 0;
  *out = convert(e->out_t, v);
  return 1;
}

/* Element i of the output read from input x, broadcast numpy-style. */
static int64_t bcast_index(const nncl_shape *out, const nncl_shape *x, int64_t i) {
  int64_t idx = 0, stride = 1;
  for (int d = out->rank - 1, k = x->rank - 1; d >= 0; d--, k--) {
    int64_t coord = i % out->dims[d];
    i /= out->dims[d];
    if (k < 0) continue;
    if (x->dims[k] != 1) idx += coord * stride;
    stride *= x->dims[k];
  }
  return idx;
}

nncl_status ew_host_eval(struct op_call *c, const char *expr, const char *vars, int chain) {
  if (!c->host_fold || !expr || c->out[0].host || !host_int_type(c->out[0].dtype)) return NNCL_OK;
  int64_t n = nncl_shape_numel(&c->out[0].shape);
  if (n < 0 || n > OP_FOLD_HOST_MAX) return NNCL_OK;
  for (int i = 0; i < c->n_in; i++)
    if (op_has_input(c, i) && (!c->in[i].host || !host_int_type(c->in[i].dtype))) return NNCL_OK;
  int nv = (int)strlen(vars);
  if (c->n_in < nv && !chain) return NNCL_OK;
  nncl_array *a = calloc(1, sizeof *a);
  if (!a || nncl_array_alloc(a, c->out[0].dtype, &c->out[0].shape) != NNCL_OK) {
    free(a);
    return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "host value of the output");
  }
  struct ev e = {.vars = vars, .out_t = c->out[0].dtype};
  int ok = 1;
  /* a variadic op with one input is a copy; with more, inputs 2.. update the result as `a` */
  int steps = chain ? (c->n_in > 1 ? c->n_in - 1 : 0) : 1;
  if (steps == 0)
    for (int64_t i = 0; i < n; i++)
      store(a, i,
            convert(a->dtype,
                    load(c->in[0].host, bcast_index(&c->out[0].shape, &c->in[0].shape, i))));
  for (int s = 0; s < steps && ok; s++)
    for (int64_t i = 0; i < n && ok; i++) {
      for (int k = 0; k < nv; k++) {
        int in = chain && s > 0 ? (k == 0 ? -1 : s + k) : k;
        e.type[k] = in < 0 ? a->dtype : c->in[in].dtype;
        e.val[k] = in < 0
                       ? load(a, i)
                       : load(c->in[in].host, bcast_index(&c->out[0].shape, &c->in[in].shape, i));
      }
      int64_t v;
      ok = eval(&e, expr, &v);
      if (ok) store(a, i, v);
    }
  if (!ok) { /* not an expression this file reads: the device folds it */
    nncl_array_free(a);
    free(a);
    return NNCL_OK;
  }
  c->out[0].host = a;
  return NNCL_OK;
}
