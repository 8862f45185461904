/* test_train_ref.c: the double-precision host interpreter of test_train_ref.h: naive loops for
   Conv, Gemm, MatMul (broadcast batches), broadcast arithmetic, Where, activations, pools,
   reshapes, reductions, Gather, LayerNormalization and SoftmaxCrossEntropyLoss, written from the
   ONNX/PyTorch definitions, not from nncl's kernels. */
#include "test_train_ref.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct tr_value *add(struct tr_env *e, const char *name, nncl_dtype dt,
                            const nncl_shape *s) {
  cr_assert_lt(e->n, TR_MAX_VALUES);
  struct tr_value *v = &e->v[e->n++];
  memset(v, 0, sizeof *v);
  v->name = name;
  v->dtype = dt;
  v->shape = *s;
  size_t n = (size_t)nncl_shape_numel(s) + 1;
  if (dt == NNCL_INT64)
    v->i = calloc(n, sizeof *v->i);
  else
    v->d = calloc(n, sizeof *v->d);
  return v;
}

void tr_set_f(struct tr_env *e, const char *name, const nncl_shape *s, const float *data) {
  struct tr_value *v = add(e, name, NNCL_FLOAT32, s);
  for (int64_t k = 0; k < nncl_shape_numel(s); k++) v->d[k] = data[k];
}

void tr_set_i(struct tr_env *e, const char *name, const nncl_shape *s, const int64_t *data) {
  struct tr_value *v = add(e, name, NNCL_INT64, s);
  memcpy(v->i, data, (size_t)nncl_shape_numel(s) * sizeof *data);
}

struct tr_value *tr_get(struct tr_env *e, const char *name) {
  for (int k = e->n - 1; k >= 0; k--)
    if (!strcmp(e->v[k].name, name)) return &e->v[k];
  cr_assert_fail("reference: no value '%s'", name);
  return NULL;
}

void tr_free(struct tr_env *e) {
  for (int k = 0; k < e->n; k++) {
    free(e->v[k].d);
    free(e->v[k].i);
  }
  e->n = 0;
}

static const struct nncl__attr *attr(const struct tr_node *n, const char *name) {
  for (int k = 0; k < n->n_attrs; k++)
    if (!strcmp(n->attrs[k].name, name)) return &n->attrs[k];
  return NULL;
}
static int64_t ai(const struct tr_node *n, const char *name, int64_t def) {
  const struct nncl__attr *a = attr(n, name);
  return a ? a->i : def;
}
static float af(const struct tr_node *n, const char *name, float def) {
  const struct nncl__attr *a = attr(n, name);
  return a ? a->f : def;
}
static int64_t ais(const struct tr_node *n, const char *name, int k, int64_t def) {
  const struct nncl__attr *a = attr(n, name);
  return a && k < a->n ? a->ints[k] : def;
}

/* ---- the ops ---- */

static void conv(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]), *w = tr_get(e, n->in[1]);
  struct tr_value *b = n->n_in > 2 ? tr_get(e, n->in[2]) : NULL;
  int64_t N = x->shape.dims[0], C = x->shape.dims[1], H = x->shape.dims[2], W = x->shape.dims[3];
  int64_t K = w->shape.dims[0], Cg = w->shape.dims[1], R = w->shape.dims[2], S = w->shape.dims[3];
  int64_t G = ai(n, "group", 1), sh = ais(n, "strides", 0, 1), sw = ais(n, "strides", 1, 1);
  int64_t dh = ais(n, "dilations", 0, 1), dw = ais(n, "dilations", 1, 1);
  int64_t pt = ais(n, "pads", 0, 0), pl = ais(n, "pads", 1, 0), pb = ais(n, "pads", 2, 0),
          pr = ais(n, "pads", 3, 0);
  int64_t OH = (H + pt + pb - (R - 1) * dh - 1) / sh + 1,
          OW = (W + pl + pr - (S - 1) * dw - 1) / sw + 1;
  nncl_shape os = {.rank = 4, .dims = {N, K, OH, OW}};
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &os);
  (void)C;
  int64_t Kg = K / G;
  for (int64_t i = 0; i < N; i++)
    for (int64_t k = 0; k < K; k++)
      for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++) {
          double acc = b ? b->d[k] : 0.0;
          for (int64_t c = 0; c < Cg; c++)
            for (int64_t r = 0; r < R; r++)
              for (int64_t s = 0; s < S; s++) {
                int64_t ih = oh * sh - pt + r * dh, iw = ow * sw - pl + s * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                int64_t ci = k / Kg * Cg + c;
                acc +=
                    x->d[((i * C + ci) * H + ih) * W + iw] * w->d[((k * Cg + c) * R + r) * S + s];
              }
          y->d[((i * K + k) * OH + oh) * OW + ow] = acc;
        }
}

/* ConvTranspose as the scatter of each input pixel through W [C, K/group, R, S]. */
static void conv_transpose(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]), *w = tr_get(e, n->in[1]);
  struct tr_value *b = n->n_in > 2 ? tr_get(e, n->in[2]) : NULL;
  int64_t N = x->shape.dims[0], C = x->shape.dims[1], H = x->shape.dims[2], W = x->shape.dims[3];
  int64_t Kg = w->shape.dims[1], R = w->shape.dims[2], S = w->shape.dims[3];
  int64_t G = ai(n, "group", 1), Cg = C / G, K = Kg * G;
  int64_t sh = ais(n, "strides", 0, 1), sw = ais(n, "strides", 1, 1);
  int64_t dh = ais(n, "dilations", 0, 1), dw = ais(n, "dilations", 1, 1);
  int64_t pt = ais(n, "pads", 0, 0), pl = ais(n, "pads", 1, 0), pb = ais(n, "pads", 2, 0),
          pr = ais(n, "pads", 3, 0);
  int64_t OH = sh * (H - 1) + ais(n, "output_padding", 0, 0) + (R - 1) * dh + 1 - pt - pb;
  int64_t OW = sw * (W - 1) + ais(n, "output_padding", 1, 0) + (S - 1) * dw + 1 - pl - pr;
  nncl_shape os = {.rank = 4, .dims = {N, K, OH, OW}};
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &os);
  for (int64_t i = 0; i < N; i++)
    for (int64_t k = 0; k < K; k++)
      for (int64_t p = 0; p < OH * OW; p++) y->d[(i * K + k) * OH * OW + p] = b ? b->d[k] : 0.0;
  for (int64_t i = 0; i < N; i++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t ih = 0; ih < H; ih++)
        for (int64_t iw = 0; iw < W; iw++)
          for (int64_t k = 0; k < Kg; k++)
            for (int64_t r = 0; r < R; r++)
              for (int64_t s = 0; s < S; s++) {
                int64_t oh = ih * sh - pt + r * dh, ow = iw * sw - pl + s * dw;
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                int64_t ko = c / Cg * Kg + k;
                y->d[((i * K + ko) * OH + oh) * OW + ow] +=
                    x->d[((i * C + c) * H + ih) * W + iw] * w->d[((c * Kg + k) * R + r) * S + s];
              }
}

static void gemm(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *a = tr_get(e, n->in[0]), *b = tr_get(e, n->in[1]);
  struct tr_value *c = n->n_in > 2 ? tr_get(e, n->in[2]) : NULL;
  int ta = (int)ai(n, "transA", 0), tb = (int)ai(n, "transB", 0);
  double alpha = af(n, "alpha", 1.0f), beta = af(n, "beta", 1.0f);
  int64_t M = a->shape.dims[ta], K = a->shape.dims[!ta], N = b->shape.dims[!tb];
  nncl_shape os = {.rank = 2, .dims = {M, N}};
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &os);
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double acc = 0.0;
      for (int64_t k = 0; k < K; k++)
        acc += a->d[ta ? k * M + i : i * K + k] * b->d[tb ? j * K + k : k * N + j];
      double cv = 0.0;
      if (c) { /* C broadcast to [M, N] */
        const nncl_shape *cs = &c->shape;
        int64_t ci = cs->rank == 0 ? 0
                     : cs->rank == 1
                         ? (cs->dims[0] == 1 ? 0 : j)
                         : (cs->dims[0] == 1 ? 0 : i) * cs->dims[1] + (cs->dims[1] == 1 ? 0 : j);
        cv = c->d[ci];
      }
      y->d[i * N + j] = alpha * acc + beta * cv;
    }
}

/* NumPy broadcasting: the flat index into an operand of shape s for output index o. */
static int64_t bidx(const nncl_shape *out, const nncl_shape *s, int64_t o) {
  int64_t idx = 0, stride = 1;
  for (int d = out->rank - 1, k = s->rank - 1; d >= 0; d--, k--) {
    int64_t c = o % out->dims[d];
    o /= out->dims[d];
    if (k < 0) continue;
    if (s->dims[k] != 1) idx += c * stride;
    stride *= s->dims[k];
  }
  return idx;
}

/* MatMul of rank >= 2 operands, batch dims broadcast (NumPy). */
static void matmul(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *a = tr_get(e, n->in[0]), *b = tr_get(e, n->in[1]);
  int ra = a->shape.rank, rb = b->shape.rank;
  int64_t M = a->shape.dims[ra - 2], K = a->shape.dims[ra - 1], N = b->shape.dims[rb - 1];
  nncl_shape os = {.rank = ra > rb ? ra : rb}, ab = {.rank = ra - 2}, bb = {.rank = rb - 2};
  for (int d = 0; d < ra - 2; d++) ab.dims[d] = a->shape.dims[d];
  for (int d = 0; d < rb - 2; d++) bb.dims[d] = b->shape.dims[d];
  for (int d = 0; d < os.rank - 2; d++) {
    int ka = d - (os.rank - ra), kb = d - (os.rank - rb);
    int64_t da = ka >= 0 ? a->shape.dims[ka] : 1, db = kb >= 0 ? b->shape.dims[kb] : 1;
    os.dims[d] = da > db ? da : db;
  }
  os.dims[os.rank - 2] = M;
  os.dims[os.rank - 1] = N;
  nncl_shape ob = os;
  ob.rank -= 2;
  int64_t batch = nncl_shape_numel(&ob);
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &os);
  for (int64_t q = 0; q < batch; q++) {
    const double *A = a->d + bidx(&ob, &ab, q) * M * K, *B = b->d + bidx(&ob, &bb, q) * K * N;
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        double acc = 0.0;
        for (int64_t k = 0; k < K; k++) acc += A[i * K + k] * B[k * N + j];
        y->d[(q * M + i) * N + j] = acc;
      }
  }
}

static void binary(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *a = tr_get(e, n->in[0]), *b = tr_get(e, n->in[1]);
  nncl_shape os = {.rank = a->shape.rank > b->shape.rank ? a->shape.rank : b->shape.rank};
  for (int d = 0; d < os.rank; d++) {
    int ka = d - (os.rank - a->shape.rank), kb = d - (os.rank - b->shape.rank);
    int64_t da = ka >= 0 ? a->shape.dims[ka] : 1, db = kb >= 0 ? b->shape.dims[kb] : 1;
    os.dims[d] = da > db ? da : db;
  }
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &os);
  char op = !strcmp(n->op, "Add")     ? '+'
            : !strcmp(n->op, "Sub")   ? '-'
            : !strcmp(n->op, "Mul")   ? '*'
            : !strcmp(n->op, "PRelu") ? 'p'
            : !strcmp(n->op, "Pow")   ? '^'
                                      : '/';
  for (int64_t o = 0; o < nncl_shape_numel(&os); o++) {
    double p = a->d[bidx(&os, &a->shape, o)], q = b->d[bidx(&os, &b->shape, o)];
    y->d[o] = op == '+'   ? p + q
              : op == '-' ? p - q
              : op == '*' ? p * q
              : op == 'p' ? (p < 0 ? p * q : p)
              : op == '^' ? pow(p, q)
                          : p / q;
  }
}

/* ONNX's Selu defaults, and Gelu's tanh form (its approximate = "tanh"). */
#define SELU_ALPHA 1.67326319217681884765625
#define SELU_GAMMA 1.05070102214813232421875
static double gelu_tanh(double v) {
  return 0.5 * v * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
}

static void unary(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]);
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &x->shape);
  const struct nncl__attr *approx = attr(n, "approximate");
  int tanh_gelu = approx && !strcmp(approx->s, "tanh");
  double alpha = af(n, "alpha", !strcmp(n->op, "Selu") ? (float)SELU_ALPHA : 1.0f);
  for (int64_t k = 0; k < nncl_shape_numel(&x->shape); k++) {
    double v = x->d[k], hs = af(n, "alpha", 0.2f) * v + af(n, "beta", 0.5f);
    y->d[k] = !strcmp(n->op, "Relu")  ? (v > 0 ? v : 0)
              : !strcmp(n->op, "Elu") ? (v < 0 ? alpha * expm1(v) : v)
              : !strcmp(n->op, "Selu")
                  ? af(n, "gamma", (float)SELU_GAMMA) * (v > 0 ? v : alpha * expm1(v))
              : !strcmp(n->op, "HardSigmoid") ? fmin(fmax(hs, 0.0), 1.0)
              : tanh_gelu                     ? gelu_tanh(v)
              : !strcmp(n->op, "Sigmoid")     ? 1.0 / (1.0 + exp(-v))
              : !strcmp(n->op, "Exp")         ? exp(v)
              : !strcmp(n->op, "Sqrt")        ? sqrt(v)
              : !strcmp(n->op, "Softplus")    ? log1p(exp(v))
              : !strcmp(n->op, "Gelu")        ? 0.5 * v * (1.0 + erf(v / sqrt(2.0)))
              : !strcmp(n->op, "HardSwish")   ? v * fmin(fmax(v / 6.0 + 0.5, 0.0), 1.0)
              : !strcmp(n->op, "Reciprocal")  ? 1.0 / v
              : !strcmp(n->op, "Erf")         ? erf(v)
              : !strcmp(n->op, "LeakyRelu")   ? (v < 0 ? af(n, "alpha", 0.01f) * v : v)
                                              : tanh(v);
  }
}

/* Output size of a pooled axis (ONNX / PyTorch: ceil_mode drops a window starting in the end
   padding). */
static int64_t pool_out(int64_t in, int64_t k, int64_t s, int64_t pb, int64_t pe, int64_t d,
                        int ceil) {
  int64_t span = in + pb + pe - (k - 1) * d - 1;
  int64_t o = (ceil ? (span + s - 1) / s : span / s) + 1;
  if (ceil && (o - 1) * s >= in + pb) o--;
  return o;
}

static void pool(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]);
  int64_t N = x->shape.dims[0], C = x->shape.dims[1], H = x->shape.dims[2], W = x->shape.dims[3];
  int glob = !strcmp(n->op, "GlobalAveragePool"), max = !strcmp(n->op, "MaxPool");
  int64_t kh = glob ? H : ais(n, "kernel_shape", 0, 1),
          kw = glob ? W : ais(n, "kernel_shape", 1, 1);
  int64_t sh = ais(n, "strides", 0, 1), sw = ais(n, "strides", 1, 1);
  int64_t dh = ais(n, "dilations", 0, 1), dw = ais(n, "dilations", 1, 1);
  int64_t pt = ais(n, "pads", 0, 0), pl = ais(n, "pads", 1, 0), pb = ais(n, "pads", 2, 0),
          pr = ais(n, "pads", 3, 0);
  int ceil = (int)ai(n, "ceil_mode", 0), incl = (int)ai(n, "count_include_pad", 0);
  int64_t OH = pool_out(H, kh, sh, pt, pb, dh, ceil), OW = pool_out(W, kw, sw, pl, pr, dw, ceil);
  nncl_shape os = {.rank = 4, .dims = {N, C, OH, OW}};
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &os);
  for (int64_t q = 0; q < N * C; q++)
    for (int64_t oh = 0; oh < OH; oh++)
      for (int64_t ow = 0; ow < OW; ow++) {
        double best = -INFINITY, sum = 0.0;
        int64_t cnt = 0, padded = 0;
        for (int64_t r = 0; r < kh; r++)
          for (int64_t s = 0; s < kw; s++) {
            int64_t ih = oh * sh - pt + r * dh, iw = ow * sw - pl + s * dw;
            if (ih >= -pt && ih < H + pb && iw >= -pl && iw < W + pr) padded++;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            double v = x->d[(q * H + ih) * W + iw];
            if (v > best) best = v;
            sum += v;
            cnt++;
          }
        y->d[(q * OH + oh) * OW + ow] = max ? best : sum / (double)(incl ? padded : cnt);
      }
}

static void reshape(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]);
  nncl_shape os;
  if (!strcmp(n->op, "Flatten")) {
    int64_t axis = ai(n, "axis", 1), a = 1;
    for (int d = 0; d < axis; d++) a *= x->shape.dims[d];
    os = (nncl_shape){.rank = 2, .dims = {a, nncl_shape_numel(&x->shape) / a}};
  } else {
    struct tr_value *s = tr_get(e, n->in[1]);
    os.rank = (int)s->shape.dims[0];
    int64_t known = 1, neg = -1;
    for (int d = 0; d < os.rank; d++) {
      os.dims[d] = s->i[d] == 0 ? x->shape.dims[d] : s->i[d];
      if (os.dims[d] < 0)
        neg = d;
      else
        known *= os.dims[d];
    }
    if (neg >= 0) os.dims[neg] = nncl_shape_numel(&x->shape) / known;
  }
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &os);
  memcpy(y->d, x->d, (size_t)nncl_shape_numel(&os) * sizeof *y->d);
}

/* ReduceSum / ReduceMean over the axes attribute (all axes when absent). */
static void reduce(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]);
  const struct nncl__attr *ax = attr(n, "axes");
  int mask[NNCL_MAX_RANK] = {0}, keep = (int)ai(n, "keepdims", 1), r = x->shape.rank;
  for (int d = 0; d < r; d++) mask[d] = !ax;
  for (int k = 0; ax && k < ax->n; k++) mask[(ax->ints[k] + r) % r] = 1;
  nncl_shape os = {.rank = 0};
  int64_t cnt = 1;
  for (int d = 0; d < r; d++) {
    if (mask[d]) cnt *= x->shape.dims[d];
    if (!mask[d] || keep) os.dims[os.rank++] = mask[d] ? 1 : x->shape.dims[d];
  }
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &os);
  int mean = !strcmp(n->op, "ReduceMean");
  for (int64_t k = 0; k < nncl_shape_numel(&x->shape); k++) {
    int64_t rem = k, o = 0, stride = 1;
    for (int d = r - 1; d >= 0; d--) {
      int64_t c = rem % x->shape.dims[d];
      rem /= x->shape.dims[d];
      if (!mask[d]) {
        o += c * stride;
        stride *= x->shape.dims[d];
      }
    }
    y->d[o] += x->d[k] / (mean ? (double)cnt : 1.0);
  }
}

/* Softmax / LogSoftmax over one axis (opset 13 semantics). */
static void softmax(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]);
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &x->shape);
  int r = x->shape.rank, a = (int)ai(n, "axis", -1);
  if (a < 0) a += r;
  int64_t len = x->shape.dims[a], inner = 1, outer = 1;
  for (int d = a + 1; d < r; d++) inner *= x->shape.dims[d];
  for (int d = 0; d < a; d++) outer *= x->shape.dims[d];
  int lg = !strcmp(n->op, "LogSoftmax");
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      const double *xr = x->d + o * len * inner + i;
      double *yr = y->d + o * len * inner + i, m = -INFINITY, s = 0.0;
      for (int64_t k = 0; k < len; k++) m = fmax(m, xr[k * inner]);
      for (int64_t k = 0; k < len; k++) s += exp(xr[k * inner] - m);
      for (int64_t k = 0; k < len; k++)
        yr[k * inner] = lg ? xr[k * inner] - m - log(s) : exp(xr[k * inner] - m) / s;
    }
}

static void transpose(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]);
  int r = x->shape.rank;
  nncl_shape os = {.rank = r};
  for (int d = 0; d < r; d++) os.dims[d] = x->shape.dims[ais(n, "perm", d, r - 1 - d)];
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &os);
  for (int64_t o = 0; o < nncl_shape_numel(&os); o++) {
    int64_t rem = o, idx[NNCL_MAX_RANK], src = 0;
    for (int d = r - 1; d >= 0; d--) idx[d] = rem % os.dims[d], rem /= os.dims[d];
    for (int d = 0; d < r; d++) {
      int64_t c = 0;
      for (int k = 0; k < r; k++)
        if (ais(n, "perm", k, r - 1 - k) == d) c = idx[k];
      src = src * x->shape.dims[d] + c;
    }
    y->d[o] = x->d[src];
  }
}

static void concat(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x0 = tr_get(e, n->in[0]);
  int r = x0->shape.rank, a = (int)ai(n, "axis", 0);
  if (a < 0) a += r;
  nncl_shape os = x0->shape;
  os.dims[a] = 0;
  for (int i = 0; i < n->n_in; i++) os.dims[a] += tr_get(e, n->in[i])->shape.dims[a];
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &os);
  int64_t outer = 1, inner = 1, off = 0;
  for (int d = 0; d < a; d++) outer *= os.dims[d];
  for (int d = a + 1; d < r; d++) inner *= os.dims[d];
  for (int i = 0; i < n->n_in; i++) {
    struct tr_value *x = tr_get(e, n->in[i]);
    int64_t len = x->shape.dims[a];
    for (int64_t o = 0; o < outer; o++)
      memcpy(y->d + (o * os.dims[a] + off) * inner, x->d + o * len * inner,
             (size_t)(len * inner) * sizeof(double));
    off += len;
  }
}

/* nncl.DropoutTrain's documented draw (kernels/train_dropout.cl): element i is kept when the top
   24 bits of mix(key + i), key = mix(seed ^ mix(step + golden ratio)), over 2^24 are >= ratio;
   kept elements are scaled by 1 / (1 - ratio). Only output 0 (Y) is produced here. */
static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void dropout_train(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]), *step = tr_get(e, n->in[1]);
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &x->shape);
  float r = af(n, "ratio", 0.5f), keep = 1.0f / (1.0f - r);
  uint64_t key =
      mix64((uint64_t)ai(n, "seed", 0) ^ mix64((uint64_t)step->i[0] + 0x9E3779B97F4A7C15ull));
  for (int64_t k = 0; k < nncl_shape_numel(&x->shape); k++) {
    float u = (float)(mix64(key + (uint64_t)k) >> 40) * (1.0f / 16777216.0f);
    y->d[k] = u >= r ? x->d[k] * keep : 0.0;
  }
}

/* Slice (starts, ends, axes and optional steps as int64 inputs, any sign of step) and Pad
   (pads input; mode constant, reflect or edge): per output axis, the input index each output
   index reads (-1: a padded zero). */
static int64_t pad_src(const char *mode, int64_t i, int64_t dim) {
  if (i >= 0 && i < dim) return i;
  if (!strcmp(mode, "edge")) return i < 0 ? 0 : dim - 1;
  if (!strcmp(mode, "reflect")) { /* numpy.pad's reflect, repeated for wide pads */
    while (i < 0 || i >= dim) i = i < 0 ? -i : 2 * (dim - 1) - i;
    return i;
  }
  if (!strcmp(mode, "wrap")) return (i % dim + dim) % dim;
  return -1;
}

static void slice_pad(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]);
  int r = x->shape.rank, pad = !strcmp(n->op, "Pad");
  const struct nncl__attr *m = attr(n, "mode");
  const char *mode = m ? m->s : "constant";
  int64_t lo[NNCL_MAX_RANK] = {0}, step[NNCL_MAX_RANK]; /* out index o reads lo + o step */
  nncl_shape os = x->shape;
  for (int d = 0; d < r; d++) step[d] = 1;
  if (pad) {
    struct tr_value *p = tr_get(e, n->in[1]);
    for (int d = 0; d < r; d++) lo[d] = -p->i[d], os.dims[d] += p->i[d] + p->i[r + d];
  } else {
    struct tr_value *s = tr_get(e, n->in[1]), *en = tr_get(e, n->in[2]), *a = tr_get(e, n->in[3]);
    struct tr_value *sp = n->n_in > 4 ? tr_get(e, n->in[4]) : NULL;
    for (int k = 0; k < (int)s->shape.dims[0]; k++) {
      int64_t d = a->i[k] < 0 ? a->i[k] + r : a->i[k], dim = x->shape.dims[d];
      int64_t st = sp ? sp->i[k] : 1;
      int64_t b = s->i[k] < 0 ? s->i[k] + dim : s->i[k],
              f = en->i[k] < 0 ? en->i[k] + dim : en->i[k];
      if (st > 0) {
        b = b < 0 ? 0 : b > dim ? dim : b;
        f = f < 0 ? 0 : f > dim ? dim : f;
        os.dims[d] = f > b ? (f - b + st - 1) / st : 0;
      } else {
        b = b < -1 ? -1 : b > dim - 1 ? dim - 1 : b;
        f = f < -1 ? -1 : f > dim - 1 ? dim - 1 : f;
        os.dims[d] = b > f ? (b - f - st - 1) / -st : 0;
      }
      lo[d] = b;
      step[d] = st;
    }
  }
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &os);
  for (int64_t o = 0; o < nncl_shape_numel(&os); o++) {
    int64_t rem = o, src = 0, inside = 1;
    int64_t idx[NNCL_MAX_RANK];
    for (int d = r - 1; d >= 0; d--) idx[d] = rem % os.dims[d], rem /= os.dims[d];
    for (int d = 0; d < r; d++) {
      int64_t c = pad_src(mode, lo[d] + idx[d] * step[d], x->shape.dims[d]);
      if (c < 0) inside = 0;
      src = src * x->shape.dims[d] + c;
    }
    y->d[o] = inside ? x->d[src] : 0.0;
  }
}

/* Inference-mode BatchNormalization: (x - mean) / sqrt(var + eps) scale + bias per channel. */
static void batchnorm(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]);
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &x->shape);
  x = tr_get(e, n->in[0]);
  const struct tr_value *sc = tr_get(e, n->in[1]), *b = tr_get(e, n->in[2]),
                        *mu = tr_get(e, n->in[3]), *var = tr_get(e, n->in[4]);
  int64_t C = x->shape.dims[1], inner = 1;
  for (int d = 2; d < x->shape.rank; d++) inner *= x->shape.dims[d];
  double eps = af(n, "epsilon", 1e-5f);
  for (int64_t k = 0; k < nncl_shape_numel(&x->shape); k++) {
    int64_t c = k / inner % C;
    y->d[k] = (x->d[k] - mu->d[c]) / sqrt(var->d[c] + eps) * sc->d[c] + b->d[c];
  }
}

/* Split along an axis into the "split" attribute's sizes (outputs out, out2, out3). */
static void split(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]);
  int r = x->shape.rank, a = (int)ai(n, "axis", 0);
  const char *outs[3] = {n->out, n->out2, n->out3};
  int64_t outer = 1, inner = 1, off = 0;
  for (int d = 0; d < a; d++) outer *= x->shape.dims[d];
  for (int d = a + 1; d < r; d++) inner *= x->shape.dims[d];
  for (int k = 0; k < 3 && outs[k]; k++) {
    nncl_shape os = x->shape;
    os.dims[a] = ais(n, "split", k, 0);
    struct tr_value *y = add(e, outs[k], NNCL_FLOAT32, &os);
    x = tr_get(e, n->in[0]); /* add may not move values, but re-read to be safe */
    for (int64_t o = 0; o < outer; o++)
      memcpy(y->d + o * os.dims[a] * inner, x->d + (o * x->shape.dims[a] + off) * inner,
             (size_t)(os.dims[a] * inner) * sizeof(double));
    off += os.dims[a];
  }
}

/* Mean cross-entropy of softmax(x) over [N, C] rows against int64 labels. */
static void sce(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]), *t = tr_get(e, n->in[1]);
  int64_t N = x->shape.dims[0], C = x->shape.dims[1];
  nncl_shape os = {.rank = 0};
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &os);
  double total = 0.0;
  for (int64_t i = 0; i < N; i++) {
    double m = -INFINITY, s = 0.0;
    for (int64_t c = 0; c < C; c++) m = fmax(m, x->d[i * C + c]);
    for (int64_t c = 0; c < C; c++) s += exp(x->d[i * C + c] - m);
    total -= x->d[i * C + t->i[i]] - m - log(s);
  }
  y->d[0] = total / (double)N;
}

/* Mean negative log-likelihood of [N, C] inputs against int64 labels. */
static void nll(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]), *t = tr_get(e, n->in[1]);
  int64_t N = x->shape.dims[0], C = x->shape.dims[1];
  nncl_shape os = {.rank = 0};
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &os);
  for (int64_t i = 0; i < N; i++) y->d[0] -= x->d[i * C + t->i[i]] / (double)N;
}

/* Where(cond, a, b), all three broadcast; the condition is held as int64 0/1. */
static void where(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *c = tr_get(e, n->in[0]), *a = tr_get(e, n->in[1]), *b = tr_get(e, n->in[2]);
  const nncl_shape *s3[3] = {&c->shape, &a->shape, &b->shape};
  nncl_shape os = {.rank = 0};
  for (int k = 0; k < 3; k++) os.rank = s3[k]->rank > os.rank ? s3[k]->rank : os.rank;
  for (int d = 0; d < os.rank; d++) {
    os.dims[d] = 1;
    for (int k = 0; k < 3; k++) {
      int kd = d - (os.rank - s3[k]->rank);
      if (kd >= 0 && s3[k]->dims[kd] != 1) os.dims[d] = s3[k]->dims[kd];
    }
  }
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &os);
  for (int64_t o = 0; o < nncl_shape_numel(&os); o++)
    y->d[o] = c->i[bidx(&os, &c->shape, o)] ? a->d[bidx(&os, &a->shape, o)]
                                            : b->d[bidx(&os, &b->shape, o)];
}

/* Gather along an axis; int64 indices of any rank, negative ones counted from the end. */
static void gather(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]), *q = tr_get(e, n->in[1]);
  int r = x->shape.rank, a = (int)ai(n, "axis", 0);
  if (a < 0) a += r;
  int64_t outer = 1, inner = 1, len = x->shape.dims[a], nq = nncl_shape_numel(&q->shape);
  nncl_shape os = {.rank = 0};
  for (int d = 0; d < a; d++) outer *= x->shape.dims[d], os.dims[os.rank++] = x->shape.dims[d];
  for (int d = 0; d < q->shape.rank; d++) os.dims[os.rank++] = q->shape.dims[d];
  for (int d = a + 1; d < r; d++) inner *= x->shape.dims[d], os.dims[os.rank++] = x->shape.dims[d];
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &os);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < nq; j++) {
      int64_t k = q->i[j] < 0 ? q->i[j] + len : q->i[j];
      for (int64_t i = 0; i < inner; i++)
        y->d[(o * nq + j) * inner + i] = x->d[(o * len + k) * inner + i];
    }
}

/* LayerNormalization over axes [axis, rank) (population variance), scale and bias broadcast
   over them as a trailing suffix; only output Y. */
static void layer_norm(struct tr_env *e, const struct tr_node *n) {
  struct tr_value *x = tr_get(e, n->in[0]), *s = tr_get(e, n->in[1]);
  struct tr_value *b = n->n_in > 2 ? tr_get(e, n->in[2]) : NULL;
  int r = x->shape.rank, a = (int)ai(n, "axis", -1);
  if (a < 0) a += r;
  double eps = af(n, "epsilon", 1e-5f);
  int64_t len = 1;
  for (int d = a; d < r; d++) len *= x->shape.dims[d];
  nncl_shape ns = {.rank = r - a};
  for (int d = a; d < r; d++) ns.dims[d - a] = x->shape.dims[d];
  struct tr_value *y = add(e, n->out, NNCL_FLOAT32, &x->shape);
  for (int64_t row = 0; row < nncl_shape_numel(&x->shape) / len; row++) {
    const double *xr = x->d + row * len;
    double m = 0.0, v = 0.0;
    for (int64_t k = 0; k < len; k++) m += xr[k] / (double)len;
    for (int64_t k = 0; k < len; k++) v += (xr[k] - m) * (xr[k] - m) / (double)len;
    for (int64_t k = 0; k < len; k++)
      y->d[row * len + k] = (xr[k] - m) / sqrt(v + eps) * s->d[bidx(&ns, &s->shape, k)] +
                            (b ? b->d[bidx(&ns, &b->shape, k)] : 0.0);
  }
}

void tr_run(struct tr_env *e, const struct tr_node *nodes, int n) {
  static const struct {
    const char *op;
    void (*fn)(struct tr_env *, const struct tr_node *);
  } table[] = {{"Conv", conv},
               {"ConvTranspose", conv_transpose},
               {"Gemm", gemm},
               {"MatMul", matmul},
               {"Add", binary},
               {"Sub", binary},
               {"Mul", binary},
               {"Div", binary},
               {"PRelu", binary},
               {"Pow", binary},
               {"Erf", unary},
               {"Where", where},
               {"Gather", gather},
               {"LayerNormalization", layer_norm},
               {"Relu", unary},
               {"Sigmoid", unary},
               {"Tanh", unary},
               {"Exp", unary},
               {"Sqrt", unary},
               {"Softplus", unary},
               {"Gelu", unary},
               {"Elu", unary},
               {"Selu", unary},
               {"HardSigmoid", unary},
               {"BatchNormalization", batchnorm},
               {"HardSwish", unary},
               {"Reciprocal", unary},
               {"LeakyRelu", unary},
               {"Softmax", softmax},
               {"LogSoftmax", softmax},
               {"Transpose", transpose},
               {"Concat", concat},
               {"Slice", slice_pad},
               {"Split", split},
               {"Pad", slice_pad},
               {"nncl.DropoutTrain", dropout_train},
               {"MaxPool", pool},
               {"AveragePool", pool},
               {"GlobalAveragePool", pool},
               {"Flatten", reshape},
               {"Reshape", reshape},
               {"ReduceSum", reduce},
               {"ReduceMean", reduce},
               {"SoftmaxCrossEntropyLoss", sce},
               {"NegativeLogLikelihoodLoss", nll}};
  for (int k = 0; k < n; k++) {
    size_t t = 0;
    while (t < sizeof table / sizeof *table && strcmp(table[t].op, nodes[k].op)) t++;
    cr_assert_lt(t, sizeof table / sizeof *table, "reference has no %s", nodes[k].op);
    table[t].fn(e, &nodes[k]);
  }
}
