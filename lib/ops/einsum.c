/* einsum.c: Einsum (opset 12+) with one or two operands, explicit or implicit output, ellipsis
   and broadcasting. The equation becomes per-label dims and strides; a two-operand
   contraction whose labels split into batch / M / N / K groups that flatten to strided matrices
   (matmul-like, batched, transposed operands or output rows) runs as a CLBlast (strided batched)
   SGEMM; everything else (diagonals, sums over an axis, transposes, broadcasts) runs on
   the general kernel in kernels/einsum.cl. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

#define EIN_LABELS 60 /* a-z, A-Z, then up to 8 ellipsis dims */

struct ein {
  int64_t dim[EIN_LABELS];
  int64_t stride[2][EIN_LABELS];
  int used[EIN_LABELS];       /* bit i: appears in operand i */
  int diag;                   /* a label repeats within one operand */
  int out[NNCL_MAX_RANK], ro; /* output labels, outermost first */
  int con[NNCL_MAX_RANK], rc; /* contracted labels */
};

struct ein_plan {
  struct ein e;
  int gemm;
  bool ta, tb;
  size_t m, n, k, lda, ldb, ldc, batch, sa, sb, sc;
  cl_kernel kern;
  cl_uint n_out, two, ro, rc, nc;
  cl_uint8 od, cd;
  cl_long8 oa, ob, ca, cb;
};

static int letter(char ch) {
  return ch >= 'a' && ch <= 'z' ? ch - 'a' : ch >= 'A' && ch <= 'Z' ? 26 + ch - 'A' : -1;
}

/* Labels of one term (spaces removed) for an operand of `rank` dims (rank < 0: the output, whose
   ellipsis stands for all `ell` broadcast dims). Returns the count, or -1 on a syntax error. */
static int term_labels(const char *s, size_t len, int rank, int ell, int *lab) {
  int letters = 0, has_ell = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '.') {
      if (has_ell || i + 2 >= len || s[i + 1] != '.' || s[i + 2] != '.') return -1;
      has_ell = 1;
      i += 2;
    } else if (letter(s[i]) < 0) {
      return -1;
    } else {
      letters++;
    }
  }
  int e = has_ell ? (rank < 0 ? ell : rank - letters) : 0;
  if (e < 0 || e > ell || (!has_ell && rank >= 0 && letters != rank) || letters + e > NNCL_MAX_RANK)
    return -1;
  int n = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '.') {
      for (int j = 0; j < e; j++) lab[n++] = 52 + ell - e + j;
      i += 2;
    } else {
      lab[n++] = letter(s[i]);
    }
  }
  return n;
}

static nncl_status parse(struct op_call *c, struct ein *e) {
  const char *eq = op_attr_str(c, "equation", NULL);
  if (!eq) return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "has no equation");
  char buf[256];
  size_t n = 0;
  for (const char *p = eq; *p; p++)
    if (*p != ' ' && n + 1 < sizeof buf) buf[n++] = *p;
  buf[n] = 0;
  memset(e, 0, sizeof *e);
  const char *arrow = strstr(buf, "->");
  size_t lhs_len = arrow ? (size_t)(arrow - buf) : n;
  /* split the left side into operand terms */
  const char *term[2];
  size_t tlen[2];
  int nt = 0;
  for (size_t i = 0, start = 0; i <= lhs_len; i++)
    if (i == lhs_len || buf[i] == ',') {
      if (nt == 2)
        return op_error(c, NNCL_ERR_UNSUPPORTED,
                        "equation '%s': only 1 or 2 operands are supported", eq);
      term[nt] = buf + start;
      tlen[nt++] = i - start;
      start = i + 1;
    }
  if (nt != c->n_in)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                    "equation '%s' has %d operands but the node has %d inputs", eq, nt, c->n_in);
  int ell = 0;
  for (int i = 0; i < nt; i++) {
    int letters = 0;
    for (size_t j = 0; j < tlen[i]; j++) letters += letter(term[i][j]) >= 0;
    if (memchr(term[i], '.', tlen[i]) && c->in[i].shape.rank - letters > ell)
      ell = c->in[i].shape.rank - letters;
  }
  int count[EIN_LABELS] = {0};
  for (int i = 0; i < nt; i++) {
    int lab[NNCL_MAX_RANK];
    const nncl_shape *s = &c->in[i].shape;
    char sa[128];
    if (term_labels(term[i], tlen[i], s->rank, ell, lab) != s->rank)
      return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "equation '%s': term %d does not fit input %s",
                      eq, i, OP_SHAPE_STR(s, sa));
    int64_t st = 1;
    for (int k = s->rank - 1; k >= 0; k--) {
      int l = lab[k];
      int64_t d = s->dims[k];
      if (e->used[l] & (1 << i)) {
        e->diag = 1;
        if (d != e->dim[l])
          return op_error(c, NNCL_ERR_SHAPE,
                          "equation '%s': repeated label of input %d has dims %lld and %lld", eq, i,
                          (long long)d, (long long)e->dim[l]);
      }
      if (e->used[l] && d != 1 && e->dim[l] != 1 && d != e->dim[l])
        return op_error(c, NNCL_ERR_SHAPE,
                        "equation '%s': a label has dims %lld and %lld (input %d %s)", eq,
                        (long long)e->dim[l], (long long)d, i, OP_SHAPE_STR(s, sa));
      if (!e->used[l] || e->dim[l] == 1) e->dim[l] = d;
      e->used[l] |= 1 << i;
      e->stride[i][l] += d == 1 ? 0 : st;
      count[l]++;
      st *= d;
    }
  }
  int in_out[EIN_LABELS] = {0};
  if (arrow) {
    int m = term_labels(arrow + 2, strlen(arrow + 2), -1, ell, e->out);
    if (m < 0) return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "equation '%s': bad output term", eq);
    e->ro = m;
    for (int i = 0; i < m; i++) {
      if (!e->used[e->out[i]] || in_out[e->out[i]])
        return op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                        "equation '%s': output labels must be distinct and appear in an input", eq);
      in_out[e->out[i]] = 1;
    }
  } else {
    for (int j = 0; j < ell; j++) e->out[e->ro++] = 52 + j;
    for (int l = 26; l < 52; l++)
      if (count[l] == 1 && e->ro < NNCL_MAX_RANK) e->out[e->ro++] = l;
    for (int l = 0; l < 26; l++)
      if (count[l] == 1 && e->ro < NNCL_MAX_RANK) e->out[e->ro++] = l;
    for (int i = 0; i < e->ro; i++) in_out[e->out[i]] = 1;
  }
  for (int l = 0; l < EIN_LABELS; l++)
    if (e->used[l] && !in_out[l]) {
      if (e->rc == NNCL_MAX_RANK)
        return op_error(c, NNCL_ERR_UNSUPPORTED, "equation '%s': more than %d contracted labels",
                        eq, NNCL_MAX_RANK);
      e->con[e->rc++] = l;
    }
  return NNCL_OK;
}

static nncl_status ein_infer(struct op_call *c) {
  for (int i = 0; i < c->n_in; i++)
    if (c->in[i].dtype != NNCL_FLOAT32)
      return op_error(c, NNCL_ERR_DTYPE, "inputs must be float32 (input %d is %s)", i,
                      nncl_dtype_name(c->in[i].dtype));
  struct ein e;
  NNCL_TRY(parse(c, &e));
  c->out[0].dtype = c->in[0].dtype;
  c->out[0].shape = (nncl_shape){.rank = e.ro};
  for (int i = 0; i < e.ro; i++) c->out[0].shape.dims[i] = e.dim[e.out[i]];
  return NNCL_OK;
}

/* Flattens labels g[0..n) (outermost first) in operand strides s: 1 with *size and *stride (of the
   innermost) when they form one row-major run, else 0. */
static int flat(const struct ein *e, const int64_t *s, const int *g, int n, size_t *size,
                size_t *stride) {
  *size = 1;
  *stride = 0;
  for (int i = 0; i < n; i++) *size *= (size_t)e->dim[g[i]];
  if (!n) return 1;
  *stride = (size_t)s[g[n - 1]];
  for (int i = n - 1; i > 0; i--)
    if (s[g[i - 1]] != s[g[i]] * e->dim[g[i]] && e->dim[g[i - 1]] != 1) return 0;
  return *stride > 0 || *size == 1;
}

/* Batch / M / N / K split and strided-matrix views for SGEMM with input x as the A operand (M
   labels from x, N labels from the other); 0 when the equation does not fit. */
static int plan_gemm(const struct op_call *c, struct ein_plan *p, int x) {
  const struct ein *e = &p->e;
  if (c->n_in != 2 || e->diag) return 0;
  int gb[8], gm[8], gn[8], gk[8], nb = 0, nm = 0, nn = 0, nk = 0;
  int64_t os[EIN_LABELS] = {0}, st = 1;
  for (int i = e->ro - 1; i >= 0; i--) {
    os[e->out[i]] = st;
    st *= e->dim[e->out[i]];
  }
  for (int i = 0; i < e->ro; i++) {
    int l = e->out[i];
    if (e->used[l] == 3)
      gb[nb++] = l;
    else if (e->used[l] == 1 << x)
      gm[nm++] = l;
    else
      gn[nn++] = l;
  }
  for (int i = 0; i < e->rc; i++) {
    if (e->used[e->con[i]] != 3) return 0; /* a sum over one operand's axis */
    gk[nk++] = e->con[i];
  }
  for (int l = 0; l < EIN_LABELS; l++) /* broadcast dims have stride 0 */
    if (e->dim[l] > 1 &&
        (((e->used[l] & 1) && !e->stride[0][l]) || ((e->used[l] & 2) && !e->stride[1][l])))
      return 0;
  size_t bs[3], ms[2], ns[2], ks[2], mo, no, bsz;
  const int64_t *sx = e->stride[x], *sy = e->stride[1 - x];
  if (!flat(e, sx, gb, nb, &bsz, &bs[0]) || !flat(e, sy, gb, nb, &bsz, &bs[1]) ||
      !flat(e, os, gb, nb, &bsz, &bs[2]) || !flat(e, sx, gm, nm, &p->m, &ms[0]) ||
      !flat(e, os, gm, nm, &p->m, &mo) || !flat(e, sy, gn, nn, &p->n, &ns[1]) ||
      !flat(e, os, gn, nn, &p->n, &no) || !flat(e, sx, gk, nk, &p->k, &ks[0]) ||
      !flat(e, sy, gk, nk, &p->k, &ks[1]))
    return 0;
  size_t m = p->m, n = p->n, k = p->k;
  /* A [m x k] */
  if ((k == 1 || ks[0] == 1) && (m == 1 || ms[0] >= k)) {
    p->ta = false;
    p->lda = m == 1 ? k : ms[0];
  } else if ((m == 1 || ms[0] == 1) && (k == 1 || ks[0] >= m)) {
    p->ta = true;
    p->lda = k == 1 ? m : ks[0];
  } else {
    return 0;
  }
  /* B [k x n] */
  if ((n == 1 || ns[1] == 1) && (k == 1 || ks[1] >= n)) {
    p->tb = false;
    p->ldb = k == 1 ? n : ks[1];
  } else if ((k == 1 || ks[1] == 1) && (n == 1 || ns[1] >= k)) {
    p->tb = true;
    p->ldb = n == 1 ? k : ns[1];
  } else {
    return 0;
  }
  /* C [m x n] */
  if (!(n == 1 || no == 1) || !(m == 1 || mo >= n)) return 0;
  p->ldc = m == 1 ? n : mo;
  p->batch = bsz;
  p->sa = bs[0];
  p->sb = bs[1];
  p->sc = bs[2];
  return m && n && k;
}

static nncl_status ein_plan(struct op_call *c, size_t *ws) {
  (void)ws;
  struct ein_plan *p = calloc(1, sizeof *p);
  if (!p) return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "Einsum plan");
  c->state = p;
  NNCL_TRY(parse(c, &p->e));
  const struct ein *e = &p->e;
  int64_t n = nncl_shape_numel(&c->out[0].shape), nc = 1;
  for (int i = 0; i < e->rc; i++) nc *= e->dim[e->con[i]];
  for (int i = 0; i < c->n_in; i++)
    if (nncl_shape_numel(&c->in[i].shape) >= INT32_MAX)
      return op_error(c, NNCL_ERR_UNSUPPORTED,
                      "tensors of 2^31 elements or more are not supported");
  if (n >= INT32_MAX || nc >= INT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "tensors of 2^31 elements or more are not supported");
  /* C = A B, or C = B' A' read the other way round when the output lists N labels first. */
  p->gemm = plan_gemm(c, p, 0) ? 1 : plan_gemm(c, p, 1) ? 2 : 0;
  c->algo = p->gemm ? "gemm" : "generic";
  if (p->gemm) return NNCL_OK;
  p->n_out = (cl_uint)n;
  p->two = c->n_in == 2;
  p->ro = (cl_uint)e->ro;
  p->rc = (cl_uint)e->rc;
  p->nc = (cl_uint)nc;
  for (int i = 0; i < e->ro; i++) { /* innermost first */
    int l = e->out[e->ro - 1 - i];
    p->od.s[i] = (cl_uint)e->dim[l];
    p->oa.s[i] = e->stride[0][l];
    p->ob.s[i] = e->stride[1][l];
  }
  for (int i = 0; i < e->rc; i++) {
    int l = e->con[i];
    p->cd.s[i] = (cl_uint)e->dim[l];
    p->ca.s[i] = e->stride[0][l];
    p->cb.s[i] = e->stride[1][l];
  }
  return nncl__kernel_get(c->ctx, "einsum", NULL, "einsum_generic_f32", &p->kern);
}

static nncl_status ein_enqueue(struct op_call *c) {
  const struct ein_plan *p = c->state;
  if (p->gemm) {
    cl_mem a = c->in[p->gemm - 1].mem, b = c->in[2 - p->gemm].mem;
    if (p->batch == 1)
      return nncl__sgemm(c->ctx, p->ta, p->tb, p->m, p->n, p->k, 1.0f, a, 0, p->lda, b, 0, p->ldb,
                         0.0f, c->out[0].mem, 0, p->ldc);
    return nncl__sgemm_strided_batched(c->ctx, p->ta, p->tb, p->m, p->n, p->k, 1.0f, a, 0, p->lda,
                                       p->sa, b, 0, p->ldb, p->sb, 0.0f, c->out[0].mem, 0, p->ldc,
                                       p->sc, p->batch);
  }
  if (!p->n_out) return NNCL_OK;
  cl_mem b = p->two ? c->in[1].mem : c->in[0].mem;
  size_t l = op_local_1d(c), g = p->n_out;
  return NNCL_LAUNCH(c->ctx, p->kern, c->op_type, 1, &g, &l, NNCL_ARG(c->in[0].mem), NNCL_ARG(b),
                     NNCL_ARG(c->out[0].mem), NNCL_ARG(p->n_out), NNCL_ARG(p->two), NNCL_ARG(p->ro),
                     NNCL_ARG(p->od), NNCL_ARG(p->oa), NNCL_ARG(p->ob), NNCL_ARG(p->rc),
                     NNCL_ARG(p->cd), NNCL_ARG(p->ca), NNCL_ARG(p->cb), NNCL_ARG(p->nc));
}

static void ein_cost(const struct op_call *c, struct op_cost *out) {
  const struct ein_plan *p = c->state;
  double n = (double)nncl_shape_numel(&c->out[0].shape),
         es = (double)nncl_dtype_size(c->out[0].dtype);
  double nc = p ? (p->gemm ? (double)p->k : (double)p->nc) : 1.0;
  out->flops = 2.0 * n * nc;
  out->bytes = es * (n + (double)nncl_shape_numel(&c->in[0].shape) +
                     (c->n_in > 1 ? (double)nncl_shape_numel(&c->in[1].shape) : 0.0));
}

const struct op_def op_einsum = {.min_in = 1,
                                 .max_in = 2,
                                 .min_out = 1,
                                 .max_out = 1,
                                 .infer = ein_infer,
                                 .plan = ein_plan,
                                 .enqueue = ein_enqueue,
                                 .release = op_release_state,
                                 .cost = ein_cost};
