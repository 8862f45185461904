/* ops2b_ref.c: naive loops for tests/test_ops2b.c (see ops2b_ref.h). */
#include "ops2b_ref.h"

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

void ref_reverse_sequence(const float *x, const nncl_shape *xs, const int64_t *lens, int batch_axis,
                          float *out) {
  int64_t inner = 1;
  for (int d = 2; d < xs->rank; d++) inner *= xs->dims[d];
  for (int64_t a = 0; a < xs->dims[0]; a++)
    for (int64_t b = 0; b < xs->dims[1]; b++) {
      int64_t bi = batch_axis == 0 ? a : b, ti = batch_axis == 0 ? b : a, len = lens[bi];
      int64_t ts = ti < len ? len - 1 - ti : ti;
      int64_t sa = batch_axis == 0 ? a : ts, sb = batch_axis == 0 ? ts : b;
      for (int64_t i = 0; i < inner; i++)
        out[(a * xs->dims[1] + b) * inner + i] = x[(sa * xs->dims[1] + sb) * inner + i];
    }
}

void ref_log_softmax_axis1(const float *x, const nncl_shape *xs, float *out) {
  int64_t N = xs->dims[0], C = xs->dims[1], D = numel(xs) / (N * C);
  for (int64_t n = 0; n < N; n++)
    for (int64_t d = 0; d < D; d++) {
      double m = -INFINITY, s = 0.0;
      for (int64_t c = 0; c < C; c++) m = fmax(m, x[(n * C + c) * D + d]);
      for (int64_t c = 0; c < C; c++) s += exp(x[(n * C + c) * D + d] - m);
      for (int64_t c = 0; c < C; c++)
        out[(n * C + c) * D + d] = (float)(x[(n * C + c) * D + d] - m - log(s));
    }
}

void ref_nll_loss(const float *x, const nncl_shape *xs, const int64_t *t, const float *w,
                  int reduction, int64_t ii, float *out) {
  int64_t N = xs->dims[0], C = xs->dims[1], D = numel(xs) / (N * C);
  double s = 0.0, sw = 0.0;
  for (int64_t n = 0; n < N; n++)
    for (int64_t d = 0; d < D; d++) {
      int64_t tc = t[n * D + d];
      double wt = tc == ii ? 0.0 : w ? w[tc] : 1.0;
      double l = tc == ii ? 0.0 : -wt * x[(n * C + tc) * D + d];
      if (reduction == 0) out[n * D + d] = (float)l;
      s += l;
      sw += wt;
    }
  if (reduction) out[0] = (float)(reduction == 2 ? s / sw : s);
}

/* Every combination of every letter's index, accumulated in double. */
void ref_einsum(const char *la, const float *a, const nncl_shape *as, const char *lb,
                const float *b, const nncl_shape *bs, const char *lo, float *out) {
  char labels[52];
  int64_t dims[52], c[52] = {0};
  int n = 0;
  const char *terms[2] = {la, lb};
  const nncl_shape *shapes[2] = {as, bs};
  for (int t = 0; t < 2; t++)
    for (int i = 0; terms[t] && terms[t][i]; i++) {
      int j = 0;
      while (j < n && labels[j] != terms[t][i]) j++;
      if (j == n) {
        labels[n] = terms[t][i];
        dims[n++] = shapes[t]->dims[i];
      }
    }
  int64_t no = 1;
  for (int i = 0; lo[i]; i++)
    for (int j = 0; j < n; j++)
      if (labels[j] == lo[i]) no *= dims[j];
  double *acc = calloc((size_t)no, sizeof *acc);
  for (;;) {
    int64_t offs[3] = {0, 0, 0};
    const char *all[3] = {la, lb ? lb : "", lo};
    for (int t = 0; t < 3; t++)
      for (int i = 0; all[t][i]; i++) {
        int j = 0;
        while (labels[j] != all[t][i]) j++;
        offs[t] = offs[t] * dims[j] + c[j];
      }
    acc[offs[2]] += (double)a[offs[0]] * (lb ? (double)b[offs[1]] : 1.0);
    int k = n - 1;
    while (k >= 0 && ++c[k] == dims[k]) c[k--] = 0;
    if (k < 0) break;
  }
  for (int64_t i = 0; i < no; i++) out[i] = (float)acc[i];
  free(acc);
}
