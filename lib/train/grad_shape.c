/* grad_shape.c: backward rules of the ops that only move or sum data: Reshape/Flatten/Squeeze/
   Unsqueeze (dY reshaped to X's shape), Identity and inference-mode Dropout (dY passes through),
   ReduceSum/ReduceMean (dY put back on the reduced axes and expanded, scaled for the mean),
   Transpose (inverse permutation), Concat (a Slice per input), Split (Concat back), Slice (Pad
   back with zeros; strided: each axis's adjoint map), constant Pad (Slice back) and reflect/edge
   Pad (each axis's adjoint map). */
#include <stdlib.h>
#include <string.h>

#include "grad.h"

nncl_status nncl__grad_reshape(struct op_grad *g) {
  const char *d;
  if (!g->dy[0] || !g->need[0]) return NNCL_OK;
  NNCL_TRY(grad_reshape_like(g, g->dy[0], g->x[0], &d));
  return grad_give(g, 0, d);
}

nncl_status nncl__grad_identity(struct op_grad *g) {
  if (!g->dy[0] || !g->need[0]) return NNCL_OK;
  if (!strcmp(g->fwd.op_type, "Dropout") && g->fwd.n_in > 2 && g->x[2][0])
    return grad_no_rule(g, "in training mode (training_mode input)");
  return grad_give(g, 0, g->dy[0]);
}

nncl_status nncl__grad_reduce(struct op_grad *g) {
  const char *t = g->fwd.op_type, *dy = g->dy[0];
  int mean = !strcmp(t, "ReduceMean");
  if (!mean && strcmp(t, "ReduceSum")) return grad_no_rule(g, NULL);
  if (!dy || !g->need[0]) return NNCL_OK;
  const nncl_shape *x = &g->fwd.in[0].shape;
  int r = x->rank, mask[NNCL_MAX_RANK] = {0};
  const int64_t *axes = NULL;
  int n = -1;
  if (!mean && g->fwd.opset >= 13) {
    if (g->fwd.n_in > 1 && g->x[1][0]) {
      if (!g->fwd.in[1].host) return grad_no_rule(g, "for axes computed at run time");
      axes = g->fwd.in[1].host->data;
      n = (int)nncl_shape_numel(&g->fwd.in[1].shape);
    }
  } else {
    n = op_attr_ints(&g->fwd, "axes", &axes);
  }
  if (n <= 0 && op_attr_int(&g->fwd, "noop_with_empty_axes", 0)) return grad_give(g, 0, dy);
  int64_t list[NNCL_MAX_RANK];
  int m = 0;
  for (int i = 0; i < r; i++) mask[i] = n <= 0;
  for (int i = 0; i < n; i++) mask[(axes[i] % r + r) % r] = 1;
  for (int i = 0; i < r; i++)
    if (mask[i]) list[m++] = i;
  const char *k = dy, *s, *e;
  if (!op_attr_int(&g->fwd, "keepdims", 1) && m) NNCL_TRY(grad_unsqueeze(g, dy, m, list, &k));
  if (mean) {
    /* 1 / count as Size(X) / Size(Y), folded at plan time, so a new batch size stays right */
    const char *sx, *sy, *q, *f;
    struct nncl__attr to = A_INT("to", 1 /* FLOAT */);
    NNCL_TRY(grad_emit1(g, "Size", 1, &g->x[0], NULL, 0, &sx));
    NNCL_TRY(grad_emit1(g, "Size", 1, &dy, NULL, 0, &sy));
    NNCL_TRY(grad_emit1(g, "Div", 2, (const char *[]){sx, sy}, NULL, 0, &q));
    NNCL_TRY(grad_emit1(g, "Cast", 1, &q, &to, 1, &f));
    NNCL_TRY(grad_emit1(g, "Div", 2, (const char *[]){k, f}, NULL, 0, &k));
  }
  NNCL_TRY(grad_emit1(g, "Shape", 1, &g->x[0], NULL, 0, &s));
  NNCL_TRY(grad_emit1(g, "Expand", 2, (const char *[]){k, s}, NULL, 0, &e));
  return grad_give(g, 0, e);
}

nncl_status nncl__grad_transpose(struct op_grad *g) {
  if (!g->dy[0] || !g->need[0]) return NNCL_OK;
  int r = g->fwd.in[0].shape.rank;
  int64_t perm[NNCL_MAX_RANK], inv[NNCL_MAX_RANK];
  const int64_t *p;
  int n = op_attr_ints(&g->fwd, "perm", &p);
  for (int i = 0; i < r; i++) perm[i] = n == r ? p[i] : r - 1 - i;
  for (int i = 0; i < r; i++) inv[perm[i]] = i;
  struct nncl__attr at = {.name = "perm", .type = ATTR_INTS, .ints = inv, .n = r};
  const char *d;
  NNCL_TRY(grad_emit1(g, "Transpose", 1, &g->dy[0], &at, 1, &d));
  return grad_give(g, 0, d);
}

/* Concat: each input's gradient is its slice of dY along the axis. */
nncl_status nncl__grad_concat(struct op_grad *g) {
  if (!g->dy[0]) return NNCL_OK;
  int r = g->fwd.out[0].shape.rank;
  int64_t axis = op_attr_int(&g->fwd, "axis", 0), start = 0;
  if (axis < 0) axis += r;
  for (int i = 0; i < g->fwd.n_in; i++) {
    int64_t len = g->fwd.in[i].shape.dims[axis];
    if (g->need[i]) {
      int64_t end = start + len;
      const char *s, *e, *a, *d;
      NNCL_TRY(grad_const_i64(g, 1, &start, &s));
      NNCL_TRY(grad_const_i64(g, 1, &end, &e));
      NNCL_TRY(grad_const_i64(g, 1, &axis, &a));
      NNCL_TRY(grad_emit1(g, "Slice", 4, (const char *[]){g->dy[0], s, e, a}, NULL, 0, &d));
      NNCL_TRY(grad_give(g, i, d));
    }
    start += len;
  }
  return NNCL_OK;
}

/* The adjoint of an axis map: the forward output's index o along `axis` read input index
   src[o] (-1: nothing, a padded zero), so dX[i] = sum of dY[o] over the o with src[o] = i. Done
   as dY (that axis moved last) times a constant 0/1 matrix M [n_out, n_in], M[o][src[o]] = 1:
   one MatMul covers strided and reversed slices and reflect/edge padding alike, deterministic
   (no scatter-add), and the matrix is small (one axis's sizes). */
static nncl_status axis_adjoint(struct op_grad *g, const char *dy, int rank, int axis,
                                int64_t n_out, int64_t n_in, const int64_t *src, const char **out) {
  nncl_array m;
  nncl_shape ms = {.rank = 2, .dims = {n_out, n_in}};
  if (nncl_array_alloc(&m, NNCL_FLOAT32, &ms) != NNCL_OK)
    return nncl__error(g->fwd.ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "gradient of %s", g->fwd.node_name);
  float *md = m.data;
  memset(md, 0, (size_t)(n_out * n_in) * sizeof *md);
  for (int64_t o = 0; o < n_out; o++)
    if (src[o] >= 0) md[o * n_in + src[o]] = 1.0f;
  const char *mc;
  nncl_status st = grad_const(g, &m, &mc);
  nncl_array_free(&m);
  NNCL_TRY(st);
  if (axis == rank - 1) return grad_emit1(g, "MatMul", 2, (const char *[]){dy, mc}, NULL, 0, out);
  int64_t perm[NNCL_MAX_RANK], inv[NNCL_MAX_RANK];
  for (int k = 0, j = 0; k < rank; k++)
    if (k != axis) perm[j++] = k;
  perm[rank - 1] = axis;
  for (int k = 0; k < rank; k++) inv[perm[k]] = k;
  struct nncl__attr pa = {.name = (char *)"perm", .type = ATTR_INTS, .ints = perm, .n = rank};
  struct nncl__attr ia = {.name = (char *)"perm", .type = ATTR_INTS, .ints = inv, .n = rank};
  const char *t, *p;
  NNCL_TRY(grad_emit1(g, "Transpose", 1, &dy, &pa, 1, &t));
  NNCL_TRY(grad_emit1(g, "MatMul", 2, (const char *[]){t, mc}, NULL, 0, &p));
  return grad_emit1(g, "Transpose", 1, &p, &ia, 1, out);
}

/* ONNX's normalisation of one sliced axis of size d: the first index and the count. */
static void slice_range(int64_t s, int64_t e, int64_t step, int64_t d, int64_t *start,
                        int64_t *len) {
  if (s < 0) s += d;
  if (e < 0) e += d;
  if (step > 0) {
    s = s < 0 ? 0 : s > d ? d : s;
    e = e < 0 ? 0 : e > d ? d : e;
    *len = e > s ? (e - s + step - 1) / step : 0;
  } else { /* negative steps walk down from s to just above e; -1 means "past the front" */
    s = s < -1 ? -1 : s > d - 1 ? d - 1 : s;
    e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
    *len = s > e ? (s - e - step - 1) / -step : 0;
  }
  *start = s;
}

/* Slice (opset >= 10, constant starts/ends/axes/steps): steps all 1: dX is dY padded back with
   zeros; otherwise each sliced axis's adjoint map (axis_adjoint). */
nncl_status nncl__grad_slice(struct op_grad *g) {
  if (!g->dy[0] || !g->need[0]) return NNCL_OK;
  const nncl_shape *x = &g->fwd.in[0].shape;
  int r = x->rank;
  const int64_t *st, *en, *ax = NULL, *sp = NULL;
  int ns = g->fwd.opset >= 10 ? op_input_ints(&g->fwd, 1, &st) : -1;
  int ne = g->fwd.opset >= 10 ? op_input_ints(&g->fwd, 2, &en) : -1;
  int na = g->fwd.n_in > 3 && g->x[3][0] ? op_input_ints(&g->fwd, 3, &ax) : -2;
  int nt = g->fwd.n_in > 4 && g->x[4][0] ? op_input_ints(&g->fwd, 4, &sp) : -2;
  if (ns < 0 || ne != ns || na == -1 || nt == -1 || (na >= 0 && na != ns) || (nt >= 0 && nt != ns))
    return grad_no_rule(g, "before opset 10 or with starts/ends/axes/steps not constant");
  int strided = 0;
  for (int i = 0; i < ns && nt >= 0; i++) {
    if (sp[i] == 0) return grad_no_rule(g, "with a zero step");
    strided |= sp[i] != 1;
  }
  int64_t pads[2 * NNCL_MAX_RANK] = {0};
  const char *d = g->dy[0];
  for (int i = 0; i < ns; i++) {
    int64_t a = na >= 0 ? ax[i] : i, step = nt >= 0 ? sp[i] : 1;
    if (a < 0) a += r;
    int64_t s, len;
    slice_range(st[i], en[i], step, x->dims[a], &s, &len);
    if (!strided) {
      pads[a] = s;
      pads[r + a] = x->dims[a] - s - len;
      continue;
    }
    int64_t *src = malloc((size_t)(len + 1) * sizeof *src);
    if (!src)
      return nncl__error(g->fwd.ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "gradient of %s",
                         g->fwd.node_name);
    for (int64_t o = 0; o < len; o++) src[o] = s + o * step;
    nncl_status e = axis_adjoint(g, d, r, (int)a, len, x->dims[a], src, &d);
    free(src);
    NNCL_TRY(e);
  }
  if (!strided) {
    const char *p;
    NNCL_TRY(grad_const_i64(g, 2 * r, pads, &p));
    NNCL_TRY(grad_emit1(g, "Pad", 2, (const char *[]){g->dy[0], p}, NULL, 0, &d));
  }
  return grad_give(g, 0, d);
}

/* The input index output index o of a padded axis reads: shape_pad_coord of kernels/shape.cl
  (reflect is periodic with period 2(n - 1), so pads wider than the input repeat reflections). */
static int64_t pad_coord(int64_t o, int64_t pb, int64_t n, int edge, int wrap) {
  int64_t x = o - pb;
  if (x >= 0 && x < n) return x;
  if (edge) return x < 0 ? 0 : n - 1;
  if (wrap) return (x % n + n) % n;
  if (n == 1) return 0;
  int64_t p = 2 * (n - 1);
  x = (x % p + p) % p;
  return x < n ? x : p - x;
}

/* Pad (pads >= 0): constant mode: dX is dY sliced back to X's extent; reflect, edge and wrap:
   each padded axis's adjoint map (the rows the padding copied add their gradients back). */
nncl_status nncl__grad_pad(struct op_grad *g) {
  if (!g->dy[0] || !g->need[0]) return NNCL_OK;
  const char *mode = op_attr_str(&g->fwd, "mode", "constant");
  int edge = !strcmp(mode, "edge"), wrap = !strcmp(mode, "wrap");
  if (strcmp(mode, "constant") != 0 && !edge && !wrap && strcmp(mode, "reflect") != 0)
    return grad_no_rule(g, "in an unknown mode");
  const nncl_shape *x = &g->fwd.in[0].shape;
  int r = x->rank;
  const int64_t *pads;
  int n =
      g->fwd.opset < 11 ? op_attr_ints(&g->fwd, "pads", &pads) : op_input_ints(&g->fwd, 1, &pads);
  if (n != 2 * r) return grad_no_rule(g, "with pads that are not constant");
  int64_t starts[NNCL_MAX_RANK], ends[NNCL_MAX_RANK], axes[NNCL_MAX_RANK];
  for (int i = 0; i < r; i++) {
    if (pads[i] < 0 || pads[r + i] < 0) return grad_no_rule(g, "with negative pads");
    starts[i] = pads[i];
    ends[i] = pads[i] + x->dims[i];
    axes[i] = i;
  }
  const char *d = g->dy[0];
  if (strcmp(mode, "constant") != 0) {
    for (int a = 0; a < r; a++) {
      int64_t dim = x->dims[a], len = dim + pads[a] + pads[r + a];
      if (len == dim) continue;
      int64_t *src = malloc((size_t)len * sizeof *src);
      if (!src)
        return nncl__error(g->fwd.ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "gradient of %s",
                           g->fwd.node_name);
      for (int64_t o = 0; o < len; o++) src[o] = pad_coord(o, pads[a], dim, edge, wrap);
      nncl_status e = axis_adjoint(g, d, r, a, len, dim, src, &d);
      free(src);
      NNCL_TRY(e);
    }
    return grad_give(g, 0, d);
  }
  const char *s, *e, *a;
  NNCL_TRY(grad_const_i64(g, r, starts, &s));
  NNCL_TRY(grad_const_i64(g, r, ends, &e));
  NNCL_TRY(grad_const_i64(g, r, axes, &a));
  NNCL_TRY(grad_emit1(g, "Slice", 4, (const char *[]){g->dy[0], s, e, a}, NULL, 0, &d));
  return grad_give(g, 0, d);
}

/* Split: dX is the outputs' gradients concatenated back, zeros for outputs no gradient reaches. */
nncl_status nncl__grad_split(struct op_grad *g) {
  if (!g->need[0]) return NNCL_OK;
  int n = g->fwd.n_out;
  if (n > 8) return grad_no_rule(g, "with more than 8 outputs");
  const char *parts[8], *zero = NULL, *d;
  for (int i = 0; i < n; i++) {
    if (g->dy[i]) {
      parts[i] = g->dy[i];
      continue;
    }
    if (!g->y[i][0]) return grad_no_rule(g, "with an absent output");
    const char *s;
    if (!zero) NNCL_TRY(grad_const_f32(g, 0.0f, &zero));
    NNCL_TRY(grad_emit1(g, "Shape", 1, &g->y[i], NULL, 0, &s));
    NNCL_TRY(grad_emit1(g, "Expand", 2, (const char *[]){zero, s}, NULL, 0, &parts[i]));
  }
  struct nncl__attr ax = A_INT("axis", op_attr_int(&g->fwd, "axis", 0));
  NNCL_TRY(grad_emit1(g, "Concat", n, parts, &ax, 1, &d));
  return grad_give(g, 0, d);
}
