/* grad_shape.c: backward rules of the ops that only move or sum data: Reshape/Flatten/Squeeze/
   Unsqueeze (dY reshaped to X's shape), Identity and inference-mode Dropout (dY passes through),
   ReduceSum/ReduceMean (dY put back on the reduced axes and expanded, scaled for the mean). */
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
