/* scatter_ref.c: naive loops for tests/test_scatter.c (see scatter_ref.h). */
#include "scatter_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void strides(const nncl_shape *s, int64_t *st) {
  int64_t v = 1;
  for (int d = s->rank - 1; d >= 0; d--) {
    st[d] = v;
    v *= s->dims[d];
  }
}

static int64_t numel(const nncl_shape *s) {
  int64_t n = 1;
  for (int d = 0; d < s->rank; d++) n *= s->dims[d];
  return n;
}

static int64_t norm_index(int64_t v, int64_t d) { return v < 0 ? v + d : v; }

static float apply(float a, float b, enum ref_scatter_red red) {
  return red == REF_RED_ADD ? a + b : red == REF_RED_MUL ? a * b : b;
}

void ref_gather_nd(const float *x, const nncl_shape *xs, const int64_t *idx, const nncl_shape *qs,
                   int b, float *out) {
  int64_t st[NNCL_MAX_RANK], k = qs->dims[qs->rank - 1], nb = 1, ntup = numel(qs) / k;
  strides(xs, st);
  for (int i = 0; i < b; i++) nb *= xs->dims[i];
  int64_t slice = b + k < xs->rank ? st[b + k - 1] : 1, per_batch = ntup / nb;
  for (int64_t j = 0; j < ntup; j++) {
    int64_t off = b > 0 ? (j / per_batch) * st[b - 1] : 0;
    for (int64_t t = 0; t < k; t++) off += norm_index(idx[j * k + t], xs->dims[b + t]) * st[b + t];
    for (int64_t i = 0; i < slice; i++) out[j * slice + i] = x[off + i];
  }
}

void ref_scatter_elements(const float *x, const nncl_shape *xs, const int64_t *idx,
                          const float *upd, const nncl_shape *us, int axis,
                          enum ref_scatter_red red, float *out) {
  int64_t st[NNCL_MAX_RANK], c[NNCL_MAX_RANK] = {0}, n = numel(us);
  strides(xs, st);
  memcpy(out, x, (size_t)numel(xs) * sizeof *out);
  for (int64_t e = 0; e < n; e++) {
    int64_t off = 0;
    for (int d = 0; d < us->rank; d++)
      off += (d == axis ? norm_index(idx[e], xs->dims[axis]) : c[d]) * st[d];
    out[off] = apply(out[off], upd[e], red);
    for (int d = us->rank - 1; d >= 0; d--) {
      if (++c[d] < us->dims[d]) break;
      c[d] = 0;
    }
  }
}

void ref_scatter_nd(const float *x, const nncl_shape *xs, const int64_t *idx, const nncl_shape *qs,
                    const float *upd, enum ref_scatter_red red, float *out) {
  int64_t st[NNCL_MAX_RANK] = {0}, k = qs->dims[qs->rank - 1], ntup = numel(qs) / k;
  strides(xs, st);
  int64_t slice = st[k - 1];
  memcpy(out, x, (size_t)numel(xs) * sizeof *out);
  for (int64_t j = 0; j < ntup; j++) {
    int64_t off = 0;
    for (int64_t t = 0; t < k; t++) off += norm_index(idx[j * k + t], xs->dims[t]) * st[t];
    for (int64_t i = 0; i < slice; i++) out[off + i] = apply(out[off + i], upd[j * slice + i], red);
  }
}
