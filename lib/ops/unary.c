/* unary.c: every one-input element-wise op of elementwise_table.h (activations, math, Not,
   IsNaN) plus Clip's optional min/max inputs. One generic infer/plan/enqueue serves all rows:
   the row gives the expression, typing and attribute names. op_unary_epilogue gives a fusable
   activation node's epilogue form from the same parameter rules. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elementwise_table.h"
#include "elementwise_util.h"

#define DECL(id, name, fe, ie, kind, fuse, an, ad, bn, bd) extern const struct op_def op_ew_##id;
EW_UNARY_TABLE(DECL)
#undef DECL

struct unary_row {
  const char *name, *fexpr, *iexpr;
  int kind;
  const char *an, *bn;
  float ad, bd;
  const struct op_def *def;
};

static const struct unary_row rows[] = {
#define ROW(id, name, fe, ie, kind, fuse, an, ad, bn, bd)                                          \
  {name, fe, ie, kind, an, bn, ad, bd, &op_ew_##id},
    EW_UNARY_TABLE(ROW)
#undef ROW
};

static const struct unary_row *row_of(const struct op_call *c) {
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    if (rows[i].def == c->def) return &rows[i];
  return NULL;
}

static int is_clip(const struct unary_row *r) { return r->kind == EWK_CLIP; }

struct unary_state {
  struct ew_unary u;
  int dyn_lo, dyn_hi;
};

static nncl_status infer(struct op_call *c) {
  const struct unary_row *r = row_of(c);
  if (!r) return op_error(c, NNCL_ERR_STATE, "not an element-wise table op");
  nncl_dtype t = c->in[0].dtype;
  int ok;
  switch (r->kind) {
  case EWK_BOOL: ok = t == NNCL_BOOL; break;
  case EWK_NUM:
  case EWK_CLIP: ok = t == NNCL_FLOAT32 || (r->iexpr && ew_is_int(t) && t != NNCL_BOOL); break;
  default: ok = t == NNCL_FLOAT32; break;
  }
  if (!ok)
    return op_error(c, NNCL_ERR_DTYPE, "input type %s is not supported (%s)", nncl_dtype_name(t),
                    r->kind == EWK_BOOL ? "takes bool"
                    : r->iexpr          ? "takes float32 or integers"
                                        : "takes float32");
  for (int i = 1; i < c->n_in; i++) { /* Clip's min and max */
    if (!op_has_input(c, i)) continue;
    char s[128];
    if (c->in[i].dtype != t)
      return op_error(c, NNCL_ERR_DTYPE, "input %d has type %s, input 0 has %s", i,
                      nncl_dtype_name(c->in[i].dtype), nncl_dtype_name(t));
    if (nncl_shape_numel(&c->in[i].shape) != 1)
      return op_error(c, NNCL_ERR_SHAPE, "%s must be a scalar, got shape %s",
                      i == 1 ? "min" : "max", OP_SHAPE_STR(&c->in[i].shape, s));
  }
  c->out[0].dtype = r->kind == EWK_PRED || r->kind == EWK_BOOL ? NNCL_BOOL : t;
  c->out[0].shape = c->in[0].shape;
  return ew_host_eval(c, r->iexpr, "x", 0);
}

/* Clip bound i (1 min, 2 max): constant value, or dynamic (read on the device), or absent. */
static double clip_bound(const struct op_call *c, int i, int *dyn, double dflt) {
  *dyn = 0;
  if (!op_has_input(c, i)) return dflt;
  const nncl_array *h = c->in[i].host;
  if (!h) {
    *dyn = 1;
    return dflt;
  }
  switch (h->dtype) {
  case NNCL_FLOAT32: return ((const float *)h->data)[0];
  case NNCL_FLOAT16: return nncl__half_to_float(((const uint16_t *)h->data)[0]);
  case NNCL_INT64: return (double)((const int64_t *)h->data)[0];
  case NNCL_INT32: return ((const int32_t *)h->data)[0];
  case NNCL_INT8: return ((const int8_t *)h->data)[0];
  default: return ((const uint8_t *)h->data)[0];
  }
}

/* Alpha and beta of row r for node c (attributes, Clip's bounds, Gelu's approximate flag): the
   one derivation both the unary kernel and a fused epilogue use. dyn_lo / dyn_hi are set when a
   Clip bound is an input not known at plan time. */
static nncl_status unary_params(const struct op_call *c, const struct unary_row *r, double *alpha,
                                double *beta, int *dyn_lo, int *dyn_hi) {
  nncl_dtype t = c->in[0].dtype;
  int is_int = t != NNCL_FLOAT32;
  *dyn_lo = *dyn_hi = 0;
  *alpha = r->an ? op_attr_float(c, r->an, r->ad) : r->ad;
  *beta = r->bn ? op_attr_float(c, r->bn, r->bd) : r->bd;
  if (is_clip(r)) {
    double lo = is_int ? (t == NNCL_UINT8   ? 0
                          : t == NNCL_INT8  ? INT8_MIN
                          : t == NNCL_INT32 ? INT32_MIN
                                            : (double)INT64_MIN)
                       : -INFINITY;
    double hi = is_int ? (t == NNCL_UINT8   ? 255
                          : t == NNCL_INT8  ? INT8_MAX
                          : t == NNCL_INT32 ? INT32_MAX
                                            : 9.2e18)
                       : INFINITY;
    if (c->opset < 11) {
      *alpha = op_attr_float(c, "min", -FLT_MAX);
      *beta = op_attr_float(c, "max", FLT_MAX);
    } else {
      *alpha = clip_bound(c, 1, dyn_lo, lo);
      *beta = clip_bound(c, 2, dyn_hi, hi);
    }
  } else if (strcmp(r->name, "Gelu") == 0) {
    const char *ap = op_attr_str(c, "approximate", "none");
    if (strcmp(ap, "none") != 0 && strcmp(ap, "tanh") != 0)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "approximate=\"%s\" (expects none or tanh)",
                      ap);
    *alpha = strcmp(ap, "tanh") == 0;
  } else if (strcmp(r->name, "Celu") == 0 && *alpha == 0) {
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "alpha must not be 0");
  }
  return NNCL_OK;
}

/* The epilogue activation of op d: OP_ACT_NONE unless its row has EWF_EPI. */
static enum op_act act_of(const struct op_def *d) {
#define ACT_OF(id, name, fe, ie, kind, fuse, an, ad, bn, bd)                                       \
  EW_IF_EPI(fuse, if (d == &op_ew_##id) return OP_ACT_##id;)
  EW_UNARY_TABLE(ACT_OF)
#undef ACT_OF
  return OP_ACT_NONE;
}

int op_unary_epilogue(const struct op_call *c, struct op_epilogue *e) {
  const struct unary_row *r = row_of(c);
  enum op_act act = act_of(c->def);
  if (!r || act == OP_ACT_NONE || c->in[0].dtype != NNCL_FLOAT32) return 0;
  double alpha, beta;
  int dyn_lo, dyn_hi;
  if (unary_params(c, r, &alpha, &beta, &dyn_lo, &dyn_hi) != NNCL_OK || dyn_lo || dyn_hi) return 0;
  e->act = act;
  e->alpha = (float)alpha; /* as ew_params_set hands them to the unfused kernel */
  e->beta = (float)beta;
  return 1;
}

int op_unary_chain_form(const struct op_call *c, const char **expr, float *alpha, float *beta) {
  const struct unary_row *r = row_of(c);
  if (!r || !r->fexpr || r->kind == EWK_PRED || r->kind == EWK_BOOL ||
      c->in[0].dtype != NNCL_FLOAT32)
    return 0;
  double a, b;
  int dyn_lo, dyn_hi;
  if (unary_params(c, r, &a, &b, &dyn_lo, &dyn_hi) != NNCL_OK || dyn_lo || dyn_hi) return 0;
  *expr = r->fexpr;
  *alpha = (float)a; /* as ew_params_set hands them to the unfused kernel */
  *beta = (float)b;
  return 1;
}

static nncl_status plan(struct op_call *c, size_t *ws) {
  (void)ws;
  const struct unary_row *r = row_of(c);
  struct unary_state *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "unary state");
  c->state = s;
  nncl_dtype t = c->in[0].dtype;
  int is_int = t != NNCL_FLOAT32 && t != NNCL_FLOAT16; /* float16: graph.precision storage */
  double alpha, beta;
  NNCL_TRY(unary_params(c, r, &alpha, &beta, &s->dyn_lo, &s->dyn_hi));
  ew_params_set(&s->u.p, is_int, alpha, beta);
  if (is_int && t == NNCL_INT64 && beta >= 9.2e18) s->u.p.l[1] = INT64_MAX;
  const char *expr = is_int ? r->iexpr : r->fexpr;
  c->algo = "elementwise_unary";
  return ew_unary_plan(c, expr, ew_cl_storage_type(t), ew_cl_storage_type(c->out[0].dtype), is_int,
                       s->dyn_lo, s->dyn_hi, (size_t)nncl_shape_numel(&c->out[0].shape), &s->u);
}

static nncl_status enqueue(struct op_call *c) {
  struct unary_state *s = c->state;
  return ew_unary_enqueue(c, &s->u, c->in[0].mem, c->out[0].mem, s->dyn_lo ? c->in[1].mem : NULL,
                          s->dyn_hi ? c->in[2].mem : NULL);
}

static void cost(const struct op_call *c, struct op_cost *o) {
  double n = (double)nncl_shape_numel(&c->out[0].shape);
  o->flops = n;
  o->bytes = n * (double)(nncl_dtype_size(c->in[0].dtype) + nncl_dtype_size(c->out[0].dtype));
}

#define DEF(id, name, fe, ie, kind, fuse, an, ad, bn, bd)                                          \
  const struct op_def op_ew_##id = {.min_in = 1,                                                   \
                                    .max_in = (kind) == EWK_CLIP ? 3 : 1,                          \
                                    .min_out = 1,                                                  \
                                    .max_out = 1,                                                  \
                                    .flags = ((kind) == EWK_PRED ? 0u : (unsigned)OP_INPLACE) |    \
                                             OP_HALF_STORAGE,                                      \
                                    .infer = infer,                                                \
                                    .plan = plan,                                                  \
                                    .enqueue = enqueue,                                            \
                                    .release = op_release_state,                                   \
                                    .cost = cost,                                                  \
                                    .backward = nncl__grad_unary};
EW_UNARY_TABLE(DEF)
#undef DEF
