/* grad_gemm.c: backward rules of Gemm (Y = alpha op(A) op(B) + beta C) and MatMul (batch dims
   broadcast both ways), written as Gemm/MatMul nodes with the transposes folded into
   transA/transB where the ranks allow. */
#include "grad.h"

static nncl_status gemm(struct op_grad *g, const char *a, const char *b, int ta, int tb,
                        float alpha, const char **out) {
  struct nncl__attr at[3] = {A_INT("transA", ta), A_INT("transB", tb), A_FLOAT("alpha", alpha)};
  return grad_emit1(g, "Gemm", 2, (const char *[]){a, b}, at, 3, out);
}

nncl_status nncl__grad_gemm(struct op_grad *g) {
  const char *dy = g->dy[0], *a = g->x[0], *b = g->x[1], *d;
  if (!dy) return NNCL_OK;
  int ta = (int)op_attr_int(&g->fwd, "transA", 0), tb = (int)op_attr_int(&g->fwd, "transB", 0);
  float alpha = op_attr_float(&g->fwd, "alpha", 1.0f), beta = op_attr_float(&g->fwd, "beta", 1.0f);
  if (g->need[0]) {
    /* op(A) gets alpha dY op(B)^T */
    NNCL_TRY(ta ? gemm(g, b, dy, tb, 1, alpha, &d) : gemm(g, dy, b, 0, !tb, alpha, &d));
    NNCL_TRY(grad_give(g, 0, d));
  }
  if (g->need[1]) {
    /* op(B) gets alpha op(A)^T dY */
    NNCL_TRY(tb ? gemm(g, dy, a, 1, ta, alpha, &d) : gemm(g, a, dy, !ta, 0, alpha, &d));
    NNCL_TRY(grad_give(g, 1, d));
  }
  if (g->fwd.n_in > 2 && g->x[2][0] && g->need[2]) {
    const char *s = dy;
    if (beta != 1.0f) {
      const char *k;
      NNCL_TRY(grad_const_f32(g, beta, &k));
      NNCL_TRY(grad_emit1(g, "Mul", 2, (const char *[]){dy, k}, NULL, 0, &s));
    }
    NNCL_TRY(grad_unbroadcast(g, s, &g->fwd.out[0].shape, &g->fwd.in[2].shape, &d));
    NNCL_TRY(grad_give(g, 2, d));
  }
  return NNCL_OK;
}

/* Swaps the last two axes of a rank-r value. */
static nncl_status swap_last(struct op_grad *g, const char *v, int r, const char **out) {
  int64_t perm[NNCL_MAX_RANK];
  for (int i = 0; i < r; i++) perm[i] = i;
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  struct nncl__attr at = {.name = "perm", .type = ATTR_INTS, .ints = perm, .n = r};
  return grad_emit1(g, "Transpose", 1, &v, &at, 1, out);
}

nncl_status nncl__grad_matmul(struct op_grad *g) {
  const char *dy = g->dy[0], *a = g->x[0], *b = g->x[1], *d;
  if (!dy) return NNCL_OK;
  const nncl_shape *sa = &g->fwd.in[0].shape, *sb = &g->fwd.in[1].shape;
  int ra = sa->rank, rb = sb->rank;
  if (ra == 2 && rb == 2) {
    if (g->need[0]) {
      NNCL_TRY(gemm(g, dy, b, 0, 1, 1.0f, &d));
      NNCL_TRY(grad_give(g, 0, d));
    }
    if (g->need[1]) {
      NNCL_TRY(gemm(g, a, dy, 1, 0, 1.0f, &d));
      NNCL_TRY(grad_give(g, 1, d));
    }
    return NNCL_OK;
  }
  if (ra > 2 && rb == 2) {
    /* a batch of rows times one matrix (nn.Linear on [.., K]): B's gradient sums the rows */
    if (g->need[0]) {
      const char *bt;
      NNCL_TRY(swap_last(g, b, 2, &bt));
      NNCL_TRY(grad_emit1(g, "MatMul", 2, (const char *[]){dy, bt}, NULL, 0, &d));
      NNCL_TRY(grad_give(g, 0, d));
    }
    if (g->need[1]) {
      int64_t ka[2] = {-1, sa->dims[ra - 1]}, ny[2] = {-1, sb->dims[1]};
      const char *s1, *s2, *a2, *y2;
      NNCL_TRY(grad_const_i64(g, 2, ka, &s1));
      NNCL_TRY(grad_const_i64(g, 2, ny, &s2));
      NNCL_TRY(grad_emit1(g, "Reshape", 2, (const char *[]){a, s1}, NULL, 0, &a2));
      NNCL_TRY(grad_emit1(g, "Reshape", 2, (const char *[]){dy, s2}, NULL, 0, &y2));
      NNCL_TRY(gemm(g, a2, y2, 1, 0, 1.0f, &d));
      NNCL_TRY(grad_give(g, 1, d));
    }
    return NNCL_OK;
  }
  if (ra < 2 || rb < 2) return grad_no_rule(g, "for 1-D operands");
  /* batched products, batch dims broadcast both ways (NumPy): each operand's gradient is the
     batched product against the other's transpose, summed over the batch dims it was stretched
     along */
  const nncl_shape *so = &g->fwd.out[0].shape;
  if (g->need[0]) {
    const char *bt, *full;
    nncl_shape fs = *so;
    fs.dims[so->rank - 1] = sa->dims[ra - 1];
    NNCL_TRY(swap_last(g, b, rb, &bt));
    NNCL_TRY(grad_emit1(g, "MatMul", 2, (const char *[]){dy, bt}, NULL, 0, &full));
    NNCL_TRY(grad_unbroadcast(g, full, &fs, sa, &d));
    NNCL_TRY(grad_give(g, 0, d));
  }
  if (g->need[1]) {
    const char *at, *full;
    nncl_shape fs = *so;
    fs.dims[so->rank - 2] = sb->dims[rb - 2];
    NNCL_TRY(swap_last(g, a, ra, &at));
    NNCL_TRY(grad_emit1(g, "MatMul", 2, (const char *[]){at, dy}, NULL, 0, &full));
    NNCL_TRY(grad_unbroadcast(g, full, &fs, sb, &d));
    NNCL_TRY(grad_give(g, 1, d));
  }
  return NNCL_OK;
}
