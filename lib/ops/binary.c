/* binary.c: the broadcasting element-wise ops of elementwise_table.h (arithmetic, comparisons,
   logic, PRelu, variadic Sum/Mean/Max/Min) and Where. Each op runs elementwise_bcast over the
   collapsed broadcast (ew_bcast_plan); a variadic op with N inputs runs N-1 steps, the first
   broadcasting inputs 0 and 1 straight to the output shape, the rest updating it in place. Pow
   by a constant scalar exponent 0, 0.5, 1, 2, 3 or -1 runs as a unary kernel of products, a
   square root or a reciprocal (pow_special). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elementwise_table.h"
#include "elementwise_util.h"

#define DECL(id, name, fe, ie, kind, variadic) extern const struct op_def op_ew_##id;
EW_BINARY_TABLE(DECL)
#undef DECL

struct binary_row {
  const char *name, *fexpr, *iexpr;
  int kind, variadic;
  const struct op_def *def;
};

static const struct binary_row rows[] = {
#define ROW(id, name, fe, ie, kind, variadic) {name, fe, ie, kind, variadic, &op_ew_##id},
    EW_BINARY_TABLE(ROW)
#undef ROW
};

static const struct binary_row where_row = {"Where", "a?b:c", "a?b:c", EWK_NUM, 0, NULL};

static const struct binary_row *row_of(const struct op_call *c) {
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    if (rows[i].def == c->def) return &rows[i];
  return &where_row;
}

static int is_where(const struct binary_row *r) { return r == &where_row; }

struct step {
  struct ew_bcast b;
  struct ew_params p;
  int a_is_out; /* A is the output (in-place chain step), else input 0 */
  int b_in;     /* input index of B */
};

struct binary_state {
  cl_kernel k;
  int n_steps; /* 0: single-input variadic, a copy */
  struct step *steps;
  int unary; /* Pow by a special constant: u computes it */
  struct ew_unary u;
};

/* Pow(x, e) for a constant scalar e as an expression in x, or NULL when e is not special. The
   forms match pow's special cases: pow(x, 0) = 1 even for NaN; pow(-0, 0.5) = +0 and
   pow(-inf, 0.5) = +inf where sqrt gives -0 and NaN; 1/x keeps pow(+-0, -1) = +-inf. x*x is
   correctly rounded (pow is allowed 16 ulp in OpenCL), x*x*x rounds twice (within 2 ulp), sqrt
   and 1/x are within OpenCL's 3 and 2.5 ulp. */
static const char *pow_special(const struct op_call *c) {
  const nncl_array *e = c->in[1].host;
  if (c->in[0].dtype != NNCL_FLOAT32 || !e || nncl_shape_numel(&e->shape) != 1 ||
      nncl_shape_numel(&c->out[0].shape) != nncl_shape_numel(&c->in[0].shape))
    return NULL;
  double v;
  switch (e->dtype) {
  case NNCL_FLOAT32: v = *(const float *)e->data; break;
  case NNCL_INT64: v = (double)*(const int64_t *)e->data; break;
  case NNCL_INT32: v = *(const int32_t *)e->data; break;
  default: return NULL;
  }
  return v == 2.0    ? "x*x"
         : v == 3.0  ? "x*x*x"
         : v == 1.0  ? "x"
         : v == 0.0  ? "1.0f"
         : v == -1.0 ? "1.0f/x"
         : v == 0.5  ? "(x==-INFINITY?INFINITY:sqrt(x)+0.0f)"
                     : NULL;
}

static nncl_status check_types(struct op_call *c, const struct binary_row *r) {
  int first = is_where(r) ? 1 : 0;
  nncl_dtype t = c->in[first].dtype;
  if (is_where(r) && c->in[0].dtype != NNCL_BOOL)
    return op_error(c, NNCL_ERR_DTYPE, "condition has type %s, expects bool",
                    nncl_dtype_name(c->in[0].dtype));
  for (int i = first + 1; i < c->n_in; i++)
    if (c->in[i].dtype != t && !(r->kind == EWK_POW && i == 1 && c->in[1].dtype != NNCL_BOOL &&
                                 ew_cl_type(c->in[1].dtype)))
      return op_error(c, NNCL_ERR_DTYPE, "input %d has type %s, input %d has %s", i,
                      nncl_dtype_name(c->in[i].dtype), first, nncl_dtype_name(t));
  int ok;
  switch (r->kind) {
  case EWK_BOOL: ok = t == NNCL_BOOL; break;
  case EWK_CMP: ok = ew_cl_type(t) != NULL; break;
  case EWK_NUM: ok = t == NNCL_FLOAT32 || (ew_is_int(t) && (t != NNCL_BOOL || is_where(r))); break;
  case EWK_POW: ok = t == NNCL_FLOAT32 || t == NNCL_INT32 || t == NNCL_INT64; break;
  default: ok = t == NNCL_FLOAT32; break;
  }
  if (!ok)
    return op_error(c, NNCL_ERR_DTYPE, "input type %s is not supported (%s)", nncl_dtype_name(t),
                    r->kind == EWK_BOOL  ? "takes bool"
                    : r->kind == EWK_CMP ? "takes float32 or integers"
                    : r->kind == EWK_POW ? "takes a float32, int32 or int64 base"
                    : r->iexpr           ? "takes float32 or integers"
                                         : "takes float32");
  return NNCL_OK;
}

static nncl_status infer(struct op_call *c) {
  const struct binary_row *r = row_of(c);
  NNCL_TRY(check_types(c, r));
  nncl_shape s = c->in[0].shape;
  for (int i = 1; i < c->n_in; i++) NNCL_TRY(op_broadcast_shape(c, &s, &c->in[i].shape, &s));
  if (r->kind == EWK_FLOAT && !r->variadic && strcmp(r->name, "PRelu") == 0) {
    /* slope broadcasts to X, never the other way */
    char a[128], b[128];
    if (s.rank != c->in[0].shape.rank ||
        memcmp(s.dims, c->in[0].shape.dims, (size_t)s.rank * sizeof s.dims[0]) != 0)
      return op_error(c, NNCL_ERR_SHAPE, "slope %s does not broadcast to X %s",
                      OP_SHAPE_STR(&c->in[1].shape, a), OP_SHAPE_STR(&c->in[0].shape, b));
  }
  int first = is_where(r) ? 1 : 0;
  c->out[0].dtype = r->kind == EWK_CMP || r->kind == EWK_BOOL ? NNCL_BOOL : c->in[first].dtype;
  c->out[0].shape = s;
  return ew_host_eval(c, r->iexpr, is_where(r) ? "abc" : "ab", r->variadic);
}

int op_binary_chain_form(const struct op_call *c, const char **expr, int *unary, float *alpha,
                         float *beta) {
  const struct binary_row *r = NULL;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    if (rows[i].def == c->def) r = &rows[i];
  if (!r || !r->fexpr || c->n_in != 2 || strcmp(r->name, "Mean") == 0 ||
      c->in[0].dtype != NNCL_FLOAT32 || c->out[0].dtype != NNCL_FLOAT32)
    return 0;
  *beta = 0.0f;
  const char *pe = r->kind == EWK_POW ? pow_special(c) : NULL;
  if (pe) { /* plan's unary kernel: parameters zero, unread */
    *expr = pe;
    *unary = 1;
    *alpha = 0.0f;
    return 1;
  }
  if (c->in[1].dtype != NNCL_FLOAT32) return 0;
  *expr = r->fexpr;
  *unary = 0;
  *alpha = strcmp(r->name, "Mod") == 0 ? (float)op_attr_int(c, "fmod", 0) : 1.0f;
  return 1;
}

static nncl_status plan(struct op_call *c, size_t *ws) {
  (void)ws;
  const struct binary_row *r = row_of(c);
  struct binary_state *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "binary state");
  c->state = s;
  int n_in = c->n_in, nin_kernel = is_where(r) ? 3 : 2;
  const char *pow_expr = r->kind == EWK_POW ? pow_special(c) : NULL;
  if (pow_expr) {
    s->unary = 1;
    c->algo = "pow_special";
    return ew_unary_plan(c, pow_expr, "float", "float", 0, 0, 0,
                         (size_t)nncl_shape_numel(&c->out[0].shape), &s->u);
  }
  s->n_steps = is_where(r) ? 1 : n_in - 1;
  if (s->n_steps == 0) {
    c->algo = "copy";
    return NNCL_OK;
  }
  s->steps = calloc((size_t)s->n_steps, sizeof *s->steps);
  if (!s->steps) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "binary steps");
  nncl_dtype ta = c->in[0].dtype, tb = c->in[1].dtype;
  nncl_dtype tc = nin_kernel == 3 ? c->in[2].dtype : ta;
  int is_int = ew_is_int(is_where(r) ? tb : ta);
  const char *expr = is_int ? r->iexpr : r->fexpr;
  char opts[1024];
  snprintf(opts, sizeof opts,
           "-DEW_BCAST=1 -DNIN=%d -DTA=%s -DTB=%s -DTC=%s -DTO=%s -DTP=%s -DOP_EXPR=%s", nin_kernel,
           ew_cl_storage_type(ta), ew_cl_storage_type(tb), ew_cl_storage_type(tc),
           ew_cl_storage_type(c->out[0].dtype), is_int ? "long" : "float", expr);
  NNCL_TRY(nncl__kernel_get(c->ctx, "elementwise", opts, "elementwise_bcast", &s->k));
  for (int i = 0; i < s->n_steps; i++) {
    struct step *st = &s->steps[i];
    const nncl_shape *in[3];
    st->a_is_out = i > 0;
    st->b_in = i + 1;
    in[0] = st->a_is_out ? &c->out[0].shape : &c->in[0].shape;
    in[1] = &c->in[i + 1].shape;
    in[2] = nin_kernel == 3 ? &c->in[2].shape : NULL;
    NNCL_TRY(ew_bcast_plan(c, &c->out[0].shape, nin_kernel, in, &st->b));
    double alpha = r->variadic && strcmp(r->name, "Mean") == 0 && i == s->n_steps - 1
                       ? 1.0 / (double)n_in
                   : strcmp(r->name, "Mod") == 0 ? (double)op_attr_int(c, "fmod", 0)
                                                 : 1.0;
    ew_params_set(&st->p, is_int, alpha, 0.0);
  }
  c->algo = s->steps[0].b.meta[BCAST_RANK] == 1 ? "elementwise_bcast_flat" : "elementwise_bcast";
  return NNCL_OK;
}

static nncl_status enqueue(struct op_call *c) {
  struct binary_state *s = c->state;
  if (s->unary) return ew_unary_enqueue(c, &s->u, c->in[0].mem, c->out[0].mem, NULL, NULL);
  if (s->n_steps == 0) {
    size_t bytes = (size_t)nncl_shape_numel(&c->out[0].shape) * nncl_dtype_size(c->out[0].dtype);
    return bytes ? nncl__buffer_copy(c->ctx, c->in[0].mem, 0, c->out[0].mem, 0, bytes) : NNCL_OK;
  }
  int nin = is_where(row_of(c)) ? 3 : 2;
  for (int i = 0; i < s->n_steps; i++) {
    const struct step *st = &s->steps[i];
    cl_mem a = st->a_is_out ? c->out[0].mem : c->in[0].mem;
    NNCL_TRY(ew_bcast_enqueue(c, s->k, &st->b, nin, a, c->in[st->b_in].mem,
                              nin == 3 ? c->in[2].mem : NULL, c->out[0].mem, &st->p));
  }
  return NNCL_OK;
}

static void release(struct op_call *c) {
  struct binary_state *s = c->state;
  if (s && s->steps)
    for (int i = 0; i < s->n_steps; i++) ew_bcast_release(&s->steps[i].b);
  if (s) free(s->steps);
  free(s);
  c->state = NULL;
}

static void cost(const struct op_call *c, struct op_cost *o) {
  double n = (double)nncl_shape_numel(&c->out[0].shape);
  o->flops = n * (c->n_in > 1 ? c->n_in - 1 : 1);
  o->bytes = n * (double)nncl_dtype_size(c->out[0].dtype);
  for (int i = 0; i < c->n_in; i++)
    o->bytes += (double)nncl_shape_numel(&c->in[i].shape) * (double)nncl_dtype_size(c->in[i].dtype);
}

/* Pow has no float16 storage: its special exponents read a float32 host constant. */
#define DEF(id, name, fe, ie, kind, variadic)                                                      \
  const struct op_def op_ew_##id = {.min_in = (variadic) ? 1 : 2,                                  \
                                    .max_in = (variadic) ? 1 << 16 : 2,                            \
                                    .min_out = 1,                                                  \
                                    .max_out = 1,                                                  \
                                    .flags = (kind) == EWK_POW ? 0u : (unsigned)OP_HALF_STORAGE,   \
                                    .infer = infer,                                                \
                                    .plan = plan,                                                  \
                                    .enqueue = enqueue,                                            \
                                    .release = release,                                            \
                                    .cost = cost,                                                  \
                                    .backward = nncl__grad_binary};
EW_BINARY_TABLE(DEF)
#undef DEF

const struct op_def op_where = {.flags = OP_HALF_STORAGE,
                                .min_in = 3,
                                .max_in = 3,
                                .min_out = 1,
                                .max_out = 1,
                                .infer = infer,
                                .plan = plan,
                                .enqueue = enqueue,
                                .release = release,
                                .cost = cost,
                                .backward = nncl__grad_where};
