/* gemm_ref.c: naive C references for Gemm and MatMul (double accumulation). */
#include "gemm_ref.h"

#include <string.h>

void ref_gemm(const float *a, const float *b, const nncl_array *c, float *y, int64_t m, int64_t n,
              int64_t k, int ta, int tb, float alpha, float beta) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double acc = 0;
      for (int64_t p = 0; p < k; p++)
        acc += (double)a[ta ? p * m + i : i * k + p] * (double)b[tb ? j * k + p : p * n + j];
      double v = alpha * acc;
      if (c) {
        const float *cd = c->data;
        int r = c->shape.rank;
        int64_t cn = r >= 1 ? c->shape.dims[r - 1] : 1, cm = r == 2 ? c->shape.dims[0] : 1;
        v += beta * cd[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
      }
      y[i * n + j] = (float)v;
    }
}

void ref_matmul(const nncl_array *a, const nncl_array *b, nncl_array *y) {
  const nncl_shape *sa = &a->shape, *sb = &b->shape;
  int64_t m = sa->rank == 1 ? 1 : sa->dims[sa->rank - 2], k = sa->dims[sa->rank - 1];
  int64_t n = sb->rank == 1 ? 1 : sb->dims[sb->rank - 1];
  int bra = sa->rank > 2 ? sa->rank - 2 : 0, brb = sb->rank > 2 ? sb->rank - 2 : 0;
  int br = bra > brb ? bra : brb;
  int64_t ab[8], bb[8], ob[8], nb = 1;
  for (int i = 0; i < br; i++) {
    int ia = i - (br - bra), ib = i - (br - brb);
    ab[i] = ia >= 0 ? sa->dims[ia] : 1;
    bb[i] = ib >= 0 ? sb->dims[ib] : 1;
    ob[i] = ab[i] > bb[i] ? ab[i] : bb[i];
    nb *= ob[i];
  }
  nncl_shape o = {.rank = 0};
  for (int i = 0; i < br; i++) o.dims[o.rank++] = ob[i];
  if (sa->rank > 1) o.dims[o.rank++] = m;
  if (sb->rank > 1) o.dims[o.rank++] = n;
  nncl_array_alloc(y, NNCL_FLOAT32, &o);
  const float *A = a->data, *B = b->data;
  float *Y = y->data;
  for (int64_t it = 0; it < nb; it++) {
    int64_t rem = it, ai = 0, bi = 0, am = 1, bm = 1;
    for (int i = br - 1; i >= 0; i--) {
      int64_t idx = rem % ob[i];
      rem /= ob[i];
      ai += (ab[i] == 1 ? 0 : idx) * am;
      bi += (bb[i] == 1 ? 0 : idx) * bm;
      am *= ab[i];
      bm *= bb[i];
    }
    ref_gemm(A + ai * m * k, B + bi * k * n, NULL, Y + it * m * n, m, n, k, 0, 0, 1.0f, 0.0f);
  }
}

void ref_gemm_batched(int ta, int tb, int64_t m, int64_t n, int64_t k, int64_t batch, float alpha,
                      const float *a, int64_t lda, int64_t sa, const float *b, int64_t ldb,
                      int64_t sb, float beta, float *c, int64_t ldc, int64_t sc) {
  for (int64_t z = 0; z < batch; z++) {
    const float *az = a + z * sa, *bz = b + z * sb;
    float *cz = c + z * sc;
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) {
        double s = 0.0;
        for (int64_t p = 0; p < k; p++)
          s += (double)(ta ? az[p * lda + i] : az[i * lda + p]) *
               (double)(tb ? bz[j * ldb + p] : bz[p * ldb + j]);
        double v = (double)alpha * s;
        if (beta != 0.0f) v += (double)beta * (double)cz[i * ldc + j];
        cz[i * ldc + j] = (float)v;
      }
  }
}
