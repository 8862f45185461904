/* test_attention.c: nncl.Attention (fused online-softmax attention) against the unfused math in
   C: scores = Q.K^T * scale + mask, a numerically stable softmax over keys, then . V. Covers long
   key sequences that span many tiles, odd sizes, batch/head dims, broadcast masks, -inf masks,
   causal masking and shape errors, for every algorithm (fused online softmax; SGEMM, softmax rows,
   SGEMM with the rows a work-item each or a work-group each). Tolerance: rtol 1e-4, atol 1e-5. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

/* Unfused reference; mask given with its shape right-aligned to [b0, b1, lq, lk]. */
static void ref_attention(const float *q, const float *k, const float *v, const nncl_array *mask,
                          float *out, int64_t b0, int64_t b1, int64_t lq, int64_t lk, int64_t dk,
                          int64_t dv, float scale, int causal) {
  int64_t md[4] = {1, 1, 1, 1};
  if (mask)
    for (int i = 0; i < mask->shape.rank; i++) md[4 - mask->shape.rank + i] = mask->shape.dims[i];
  double *s = malloc((size_t)lk * sizeof *s);
  for (int64_t a = 0; a < b0; a++)
    for (int64_t h = 0; h < b1; h++)
      for (int64_t i = 0; i < lq; i++) {
        int64_t b = a * b1 + h;
        double mx = -INFINITY;
        for (int64_t j = 0; j < lk; j++) {
          double x = 0;
          for (int64_t d = 0; d < dk; d++)
            x += (double)q[(b * lq + i) * dk + d] * k[(b * lk + j) * dk + d];
          x *= scale;
          if (mask) {
            int64_t ix[4] = {a, h, i, j}, off = 0;
            for (int t = 0; t < 4; t++) off = off * md[t] + (md[t] == 1 ? 0 : ix[t]);
            x += ((const float *)mask->data)[off];
          }
          if (causal && j > i + (lk - lq)) x = -INFINITY;
          s[j] = x;
          if (x > mx) mx = x;
        }
        double sum = 0;
        for (int64_t j = 0; j < lk; j++) sum += (s[j] = exp(s[j] - mx));
        for (int64_t d = 0; d < dv; d++) {
          double acc = 0;
          for (int64_t j = 0; j < lk; j++) acc += s[j] * v[(b * lk + j) * dv + d];
          out[(b * lq + i) * dv + d] = (float)(acc / sum);
        }
      }
  free(s);
}

static void check(int64_t b0, int64_t b1, int64_t lq, int64_t lk, int64_t dk, int64_t dv,
                  const nncl_array *mask, int causal, int with_scale, uint32_t seed) {
  nncl_array q = TU_RAND(seed, b0, b1, lq, dk), k = TU_RAND(seed + 1, b0, b1, lk, dk);
  nncl_array v = TU_RAND(seed + 2, b0, b1, lk, dv), out;
  const nncl_array *in[] = {&q, &k, &v, mask};
  float scale = with_scale ? 0.7f : 1.0f / sqrtf((float)dk);
  size_t n = (size_t)(b0 * b1 * lq * dv);
  float *want = malloc(n * sizeof *want);
  ref_attention(q.data, k.data, v.data, mask, want, b0, b1, lq, lk, dk, dv, scale, causal);
  static const char *algos[] = {"fused", "gemm", "gemm_group"};
  for (int a = 0; a < 3; a++) {
    struct nncl__attr attrs[2];
    int na = 0;
    if (with_scale) attrs[na++] = A_FLOAT("scale", 0.7f);
    if (causal) attrs[na++] = A_INT("causal", 1);
    tu_set_option("attention.algo", algos[a]);
    tu_run_op("nncl.Attention", 17, attrs, na, mask ? 4 : 3, in, 1, &out);
    tu_set_option("attention.algo", NULL);
    cr_assert_eq((size_t)nncl_shape_numel(&out.shape), n);
    char what[180];
    snprintf(what, sizeof what,
             "Attention %s [%lld,%lld] lq=%lld lk=%lld dk=%lld dv=%lld mask=%d causal=%d", algos[a],
             (long long)b0, (long long)b1, (long long)lq, (long long)lk, (long long)dk,
             (long long)dv, mask != NULL, causal);
    tu_assert_close((float *)out.data, want, n, 1e-4, 1e-5, what);
    cr_log_info("%s: max rel error %.2e", what, tu_max_rel_error(out.data, want, n));
    nncl_array_free(&out);
  }
  free(want);
  nncl_array_free(&q);
  nncl_array_free(&k);
  nncl_array_free(&v);
}

Test(attention, no_mask_long_and_odd) {
  check(2, 3, 7, 200, 16, 8, NULL, 0, 0, 1); /* keys span 7 tiles, last one partial */
  check(1, 1, 33, 5, 3, 5, NULL, 0, 1, 2);   /* fewer keys than a tile; 2 query groups */
  check(1, 2, 1, 1, 1, 1, NULL, 0, 0, 3);
  check(1, 16, 128, 128, 64, 64, NULL, 0, 0, 4); /* a d256 4-head layer's heads, S128 B4 */
}

Test(attention, masks_and_causal) {
  nncl_array pad = TU_RAND(10, 2, 1, 1, 70); /* key padding mask per batch, broadcast over heads */
  float *p = pad.data;
  for (int i = 0; i < 140; i++) p[i] = (i % 70) >= 60 + (i / 70) * 5 ? -INFINITY : p[i];
  check(2, 3, 9, 70, 8, 16, &pad, 0, 0, 20);
  nncl_array full = TU_RAND(11, 9, 70); /* [lq, lk] additive mask */
  check(2, 3, 9, 70, 8, 16, &full, 0, 0, 21);
  check(2, 1, 40, 40, 8, 8, NULL, 1, 0, 22); /* causal self-attention */
  nncl_array row = TU_RAND(12, 1, 37);       /* [1, lk] with causal and an explicit scale */
  check(1, 1, 5, 37, 4, 4, &row, 1, 1, 23);
  nncl_array col = TU_RAND(13, 9, 1); /* [lq, 1]: broadcast along the keys (mask key stride 0) */
  check(2, 3, 9, 70, 8, 16, &col, 0, 0, 24);
  nncl_array_free(&col);
  nncl_array_free(&row);
  nncl_array_free(&pad);
  nncl_array_free(&full);
}

/* a [n0, n1, d] -> [n1, n0, d] (the storage nncl.seq_first describes). */
static nncl_array swap01(const nncl_array *a) {
  const int64_t n0 = a->shape.dims[0], n1 = a->shape.dims[1], d = a->shape.dims[2];
  nncl_shape s = {.rank = 3, .dims = {n1, n0, d}};
  nncl_array t;
  cr_assert_eq(nncl_array_alloc(&t, NNCL_FLOAT32, &s), NNCL_OK);
  const float *x = a->data;
  float *y = t.data;
  for (int64_t i = 0; i < n0; i++)
    for (int64_t j = 0; j < n1; j++)
      for (int64_t e = 0; e < d; e++) y[(j * n0 + i) * d + e] = x[(i * n1 + j) * d + e];
  return t;
}

/* nncl.seq_first: the operands whose bit is set are given as [L, batch, D] (and the output comes
   so), every algorithm; compared with the reference on the [batch, L, D] tensors. */
static void check_seq_first(int64_t nb, int64_t lq, int64_t lk, int64_t dk, int64_t dv, int bits,
                            uint32_t seed) {
  nncl_array q = TU_RAND(seed, nb, lq, dk), k = TU_RAND(seed + 1, nb, lk, dk);
  nncl_array v = TU_RAND(seed + 2, nb, lk, dv), out;
  nncl_array tq = swap01(&q), tk = swap01(&k), tv = swap01(&v);
  const nncl_array *in[] = {bits & 1 ? &tq : &q, bits & 2 ? &tk : &k, bits & 4 ? &tv : &v};
  size_t n = (size_t)(nb * lq * dv);
  float *want = malloc(n * sizeof *want);
  ref_attention(q.data, k.data, v.data, NULL, want, 1, nb, lq, lk, dk, dv, 1.0f / sqrtf((float)dk),
                0);
  static const char *algos[] = {"fused", "gemm", "gemm_group"};
  for (int a = 0; a < 3; a++) {
    struct nncl__attr attrs[1] = {A_INT("nncl.seq_first", bits)};
    tu_set_option("attention.algo", algos[a]);
    tu_run_op("nncl.Attention", 17, attrs, 1, 3, in, 1, &out);
    tu_set_option("attention.algo", NULL);
    int64_t want_dims[3] = {bits & 8 ? lq : nb, bits & 8 ? nb : lq, dv};
    for (int d = 0; d < 3; d++) cr_assert_eq(out.shape.dims[d], want_dims[d]);
    nncl_array got = bits & 8 ? swap01(&out) : out;
    char what[160];
    snprintf(what, sizeof what, "Attention %s seq_first=%d nb=%lld lq=%lld lk=%lld dk=%lld dv=%lld",
             algos[a], bits, (long long)nb, (long long)lq, (long long)lk, (long long)dk,
             (long long)dv);
    tu_assert_close((float *)got.data, want, n, 1e-4, 1e-5, what);
    if (bits & 8) nncl_array_free(&got);
    nncl_array_free(&out);
  }
  free(want);
  nncl_array *all[] = {&q, &k, &v, &tq, &tk, &tv};
  for (int i = 0; i < 6; i++) nncl_array_free(all[i]);
}

Test(attention, seq_first_strides) {
  check_seq_first(16, 128, 128, 64, 64, 15, 30); /* the MultiheadAttention export's layout */
  check_seq_first(3, 9, 37, 5, 7, 15, 31);       /* odd sizes */
  check_seq_first(2, 11, 6, 4, 3, 2 | 8, 32);    /* only K and the output */
  check_seq_first(4, 5, 13, 8, 8, 1 | 4, 33);    /* only Q and V */
}

Test(attention, seq_first_errors) {
  nncl_array q = TU_RAND(1, 2, 3, 5, 8), out;
  const nncl_array *in[] = {&q, &q, &q};
  struct nncl__attr attrs[1] = {A_INT("nncl.seq_first", 15)};
  cr_assert_eq(tu_try_op("nncl.Attention", 17, attrs, 1, 3, in, 1, &out),
               NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "nncl.seq_first"), "%s",
            nncl_context_last_error(tu_ctx()));
  nncl_array_free(&q);
}

Test(attention, shape_errors) {
  nncl_array q = TU_RAND(1, 2, 5, 8), k = TU_RAND(2, 2, 6, 4), v = TU_RAND(3, 2, 6, 3), out;
  const nncl_array *in[] = {&q, &k, &v};
  cr_assert_eq(tu_try_op("nncl.Attention", 17, NULL, 0, 3, in, 1, &out), NNCL_ERR_SHAPE);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "[2, 5, 8]") && strstr(msg, "[2, 6, 4]"), "%s", msg);
  nncl_array_free(&q);
  nncl_array_free(&k);
  nncl_array_free(&v);
}
