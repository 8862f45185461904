/* elementwise_chain.c: nncl.ElementwiseChain, the node lib/graph/pass_fuse_elementwise.c makes of a
   chain (or small DAG) of float32 element-wise ops; one launch of kernels/elementwise_chain.cl
   instead of one per op. Attributes (set by the pass, not an ONNX op):
     steps    (strings) each step's row expression from elementwise_table.h, unchanged: x or a
              is its first operand, b its second, alpha and beta its parameters
     operands (ints)    two per step: k < CHAIN_STEP_BASE reads input k, CHAIN_STEP_BASE + j
              reads step j's result (1-based, an earlier step); a unary step's second is unread
     params   (floats)  two per step: alpha and beta, as the unfused op passes them
   Plan renames each step's identifiers (v0.. inputs, t1.. steps, P[i] parameters) and builds the
   kernel with the steps as -D options, so the program cache (memory and disk) keys on the
   expressions: each distinct chain compiles once. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elementwise_chain.h"
#include "elementwise_util.h"

struct chain_state {
  cl_kernel k;
  cl_mem meta, params;
  cl_uint n;
  size_t global, local;
};

static nncl_status read_attrs(const struct op_call *c, const struct nncl__attr **steps,
                              const int64_t **ops, const float **params) {
  const struct nncl__attr *s = op_attr(c, "steps");
  if (!s || s->type != ATTR_STRINGS || s->n < 1 || s->n > CHAIN_MAX_STEPS)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "attribute steps must list 1..%d expressions",
                    CHAIN_MAX_STEPS);
  if (op_attr_ints(c, "operands", ops) != 2 * s->n ||
      op_attr_floats(c, "params", params) != 2 * s->n)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "attributes operands and params need 2 entries per step (%d steps)", s->n);
  for (int j = 0; j < 2 * s->n; j++) {
    int64_t o = (*ops)[j];
    int ok = o >= 0 && (o < CHAIN_STEP_BASE ? o < c->n_in
                                            : o - CHAIN_STEP_BASE <= j / 2 && o > CHAIN_STEP_BASE);
    if (!ok)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                      "step %d operand %d is %lld: neither an input nor an earlier step", j / 2 + 1,
                      j % 2, (long long)o);
  }
  *steps = s;
  return NNCL_OK;
}

static nncl_status infer(struct op_call *c) {
  const struct nncl__attr *steps;
  const int64_t *ops;
  const float *params;
  NNCL_TRY(read_attrs(c, &steps, &ops, &params));
  if (c->n_in > CHAIN_MAX_IN)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "%d inputs (at most %d)", c->n_in, CHAIN_MAX_IN);
  nncl_shape s = c->in[0].shape;
  for (int i = 0; i < c->n_in; i++) {
    if (c->in[i].dtype != NNCL_FLOAT32)
      return op_error(c, NNCL_ERR_DTYPE, "input %d has type %s, expects float32", i,
                      nncl_dtype_name(c->in[i].dtype));
    NNCL_TRY(op_broadcast_shape(c, &s, &c->in[i].shape, &s));
  }
  c->out[0].dtype = NNCL_FLOAT32;
  c->out[0].shape = s;
  return NNCL_OK;
}

/* Appends text to the growing option string; 0 when out of memory. */
static int put(char **buf, size_t *len, size_t *cap, const char *text, size_t n) {
  if (*len + n + 1 > *cap) {
    size_t nc = (*cap + n + 1) * 2;
    char *b = realloc(*buf, nc);
    if (!b) return 0;
    *buf = b;
    *cap = nc;
  }
  memcpy(*buf + *len, text, n);
  *len += n;
  (*buf)[*len] = 0;
  return 1;
}

static void operand_name(int64_t o, char *out, size_t n) {
  if (o < CHAIN_STEP_BASE)
    snprintf(out, n, "v%d", (int)o);
  else
    snprintf(out, n, "t%d", (int)(o - CHAIN_STEP_BASE));
}

/* " -DSTEPj=expr" with the row's identifiers renamed; numbers (1.0f, 0x1p-3f, 4e-6f) are copied
   whole so their suffixes and exponents are never taken for names. */
static int put_step(char **buf, size_t *len, size_t *cap, int j, const char *e, const int64_t *op) {
  char head[32], a[16], b[16], pa[16], pb[16];
  snprintf(head, sizeof head, " -DSTEP%d=", j + 1);
  operand_name(op[0], a, sizeof a);
  operand_name(op[1], b, sizeof b);
  snprintf(pa, sizeof pa, "P[%d]", 2 * j);
  snprintf(pb, sizeof pb, "P[%d]", 2 * j + 1);
  if (!put(buf, len, cap, head, strlen(head))) return 0;
  for (const char *p = e; *p;) {
    const char *q = p;
    if (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))) {
      int hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
      for (;; q++) {
        int sign = (*q == '+' || *q == '-') && q > p &&
                   (hex ? q[-1] == 'p' || q[-1] == 'P' : q[-1] == 'e' || q[-1] == 'E');
        if (!isalnum((unsigned char)*q) && *q != '.' && !sign) break;
      }
      if (!put(buf, len, cap, p, (size_t)(q - p))) return 0;
    } else if (isalpha((unsigned char)*p) || *p == '_') {
      while (isalnum((unsigned char)*q) || *q == '_') q++;
      size_t n = (size_t)(q - p);
      const char *r = NULL;
      if ((n == 1 && (*p == 'x' || *p == 'a')))
        r = a;
      else if (n == 1 && *p == 'b')
        r = b;
      else if (n == 5 && strncmp(p, "alpha", 5) == 0)
        r = pa;
      else if (n == 4 && strncmp(p, "beta", 4) == 0)
        r = pb;
      if (!(r ? put(buf, len, cap, r, strlen(r)) : put(buf, len, cap, p, n))) return 0;
    } else {
      q++;
      if (!put(buf, len, cap, p, 1)) return 0;
    }
    p = q;
  }
  return 1;
}

static nncl_status plan(struct op_call *c, size_t *ws) {
  (void)ws;
  const struct nncl__attr *steps;
  const int64_t *ops;
  const float *params;
  NNCL_TRY(read_attrs(c, &steps, &ops, &params));
  struct chain_state *s = calloc(1, sizeof *s);
  if (!s) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "chain state");
  c->state = s;
  const nncl_shape *out = &c->out[0].shape;
  size_t numel = (size_t)nncl_shape_numel(out);
  if (numel >= (size_t)UINT32_MAX - 4)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "%zu elements exceed the 32-bit index range", numel);
  s->n = (cl_uint)numel;
  /* meta: the output's dims innermost first, each input's strides on them (0: broadcast) */
  cl_uint meta[CHAIN_LEN] = {0};
  meta[CHAIN_RANK] = (cl_uint)out->rank;
  for (int k = 0; k < out->rank; k++) meta[CHAIN_DIMS + k] = (cl_uint)out->dims[out->rank - 1 - k];
  char *o = NULL;
  size_t len = 0, cap = 0;
  char head[64];
  snprintf(head, sizeof head, "-DNIN=%d -DNSTEP=%d", c->n_in, steps->n);
  int ok = put(&o, &len, &cap, head, strlen(head));
  for (int j = 0; j < c->n_in && ok; j++) {
    const nncl_shape *in = &c->in[j].shape;
    int64_t run = 1, n_in = nncl_shape_numel(in);
    for (int k = 0; k < out->rank; k++) {
      int ik = in->rank - 1 - k;
      int64_t d = ik >= 0 ? in->dims[ik] : 1;
      meta[CHAIN_STRIDES(j) + k] = d == 1 ? 0u : (cl_uint)run;
      run *= d;
    }
    /* a vector along the innermost axis reads with vector loads when its rows hold whole
       float4s (4 consecutive outputs from a multiple of 4 then stay in one row) */
    int inner = out->rank > 0 && n_in == out->dims[out->rank - 1] && n_in % 4 == 0 &&
                meta[CHAIN_STRIDES(j)] == 1;
    int mode = n_in == (int64_t)numel ? 0 : n_in == 1 ? 1 : inner ? 3 : 2;
    snprintf(head, sizeof head, " -DMODE%d=%d", j, mode);
    ok = put(&o, &len, &cap, head, strlen(head));
  }
  for (int j = 0; j < steps->n && ok; j++)
    ok = put_step(&o, &len, &cap, j, steps->strs[j], ops + 2 * j);
  if (!ok) {
    free(o);
    return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "chain kernel options");
  }
  nncl_status st = nncl__kernel_get(c->ctx, "elementwise_chain", o, "elementwise_chain", &s->k);
  free(o);
  NNCL_TRY(st);
  NNCL_TRY(nncl__buffer_from_host(c->ctx, meta, sizeof meta, "chain strides", &s->meta));
  NNCL_TRY(nncl__buffer_from_host(c->ctx, params, 2 * (size_t)steps->n * sizeof *params,
                                  "chain parameters", &s->params));
  s->local = op_local_1d(c);
  s->global = op_round_up(((size_t)s->n + 3) / 4, s->local);
  c->algo = "elementwise_chain";
  return NNCL_OK;
}

static nncl_status enqueue(struct op_call *c) {
  struct chain_state *s = c->state;
  if (s->n == 0) return NNCL_OK;
  struct nncl__karg a[4 + CHAIN_MAX_IN] = {NNCL_ARG(c->out[0].mem), NNCL_ARG(s->n),
                                           NNCL_ARG(s->meta), NNCL_ARG(s->params)};
  for (int j = 0; j < CHAIN_MAX_IN; j++) a[4 + j] = NNCL_ARG(c->in[j < c->n_in ? j : 0].mem);
  return nncl__launch_args(c->ctx, s->k, c->op_type, 1, &s->global, &s->local,
                           sizeof a / sizeof a[0], a);
}

static void release(struct op_call *c) {
  struct chain_state *s = c->state;
  if (s) {
    nncl__buffer_release(s->meta);
    nncl__buffer_release(s->params);
  }
  free(s);
  c->state = NULL;
}

static void cost(const struct op_call *c, struct op_cost *o) {
  double n = (double)nncl_shape_numel(&c->out[0].shape);
  const struct nncl__attr *s = op_attr(c, "steps");
  o->flops = n * (s ? s->n : 1);
  o->bytes = n * 4.0;
  for (int i = 0; i < c->n_in; i++) o->bytes += 4.0 * (double)nncl_shape_numel(&c->in[i].shape);
}

const struct op_def op_elementwise_chain = {.min_in = 1,
                                            .max_in = CHAIN_MAX_IN,
                                            .min_out = 1,
                                            .max_out = 1,
                                            .infer = infer,
                                            .plan = plan,
                                            .enqueue = enqueue,
                                            .release = release,
                                            .cost = cost};
