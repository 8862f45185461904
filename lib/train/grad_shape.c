/* grad_shape.c: backward rules of the ops that only move or sum data: Reshape/Flatten/Squeeze/
   Unsqueeze (dY reshaped to X's shape), Identity and inference-mode Dropout (dY passes through),
   ReduceSum/ReduceMean (dY put back on the reduced axes and expanded, scaled for the mean),
   Transpose (inverse permutation), Concat (a Slice per input), Split (Concat back), Slice (Pad
   back with zeros) and constant Pad (Slice back). */
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

/* Normalised [start, start + len) of a step-1 slice along a dim of size d (ONNX clamping). */
static void slice_range(int64_t s, int64_t e, int64_t d, int64_t *start, int64_t *len) {
  if (s < 0) s += d;
  if (e < 0) e += d;
  s = s < 0 ? 0 : s > d ? d : s;
  e = e < 0 ? 0 : e > d ? d : e;
  *start = s;
  *len = e > s ? e - s : 0;
}

/* Slice (opset >= 10, constant starts/ends/axes, steps 1): dX is dY padded back with zeros. */
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
  int64_t pads[2 * NNCL_MAX_RANK] = {0};
  for (int i = 0; i < ns; i++) {
    if (nt >= 0 && sp[i] != 1) return grad_no_rule(g, "with steps other than 1");
    int64_t a = na >= 0 ? ax[i] : i;
    if (a < 0) a += r;
    int64_t s, len;
    slice_range(st[i], en[i], x->dims[a], &s, &len);
    pads[a] = s;
    pads[r + a] = x->dims[a] - s - len;
  }
  const char *p, *d;
  NNCL_TRY(grad_const_i64(g, 2 * r, pads, &p));
  NNCL_TRY(grad_emit1(g, "Pad", 2, (const char *[]){g->dy[0], p}, NULL, 0, &d));
  return grad_give(g, 0, d);
}

/* Pad (mode constant, pads >= 0): dX is dY sliced back to X's extent. */
nncl_status nncl__grad_pad(struct op_grad *g) {
  if (!g->dy[0] || !g->need[0]) return NNCL_OK;
  if (strcmp(op_attr_str(&g->fwd, "mode", "constant"), "constant") != 0)
    return grad_no_rule(g, "in reflect/edge/wrap mode");
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
  const char *s, *e, *a, *d;
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
