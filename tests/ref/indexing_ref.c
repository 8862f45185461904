/* indexing_ref.c: naive references for tests/test_indexing.c (see indexing_ref.h). */
#include "indexing_ref.h"

#include <math.h>
#include <stdlib.h>

void ref_trilu(const float *x, int64_t batch, int64_t rows, int64_t cols, int64_t k, int upper,
               float *y) {
  for (int64_t b = 0; b < batch; b++)
    for (int64_t i = 0; i < rows; i++)
      for (int64_t j = 0; j < cols; j++) {
        int64_t o = (b * rows + i) * cols + j;
        int keep = upper ? j - i >= k : j - i <= k;
        y[o] = keep ? x[o] : 0.0f;
      }
}

void ref_eyelike(int64_t rows, int64_t cols, int64_t k, float *y) {
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) y[i * cols + j] = j - i == k ? 1.0f : 0.0f;
}

void ref_onehot(const int64_t *idx, int64_t outer, int64_t inner, int64_t depth, float off,
                float on, float *y) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t d = 0; d < depth; d++)
      for (int64_t i = 0; i < inner; i++) {
        int64_t v = idx[o * inner + i];
        if (v < 0) v += depth;
        y[(o * depth + d) * inner + i] = v == d ? on : off;
      }
}

void ref_cumsum(const float *x, int64_t outer, int64_t n, int64_t inner, int exclusive, int reverse,
                float *y) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      double acc = 0;
      for (int64_t t = 0; t < n; t++) {
        int64_t p = (o * n + (reverse ? n - 1 - t : t)) * inner + i;
        if (exclusive) {
          y[p] = (float)acc;
          acc += x[p];
        } else {
          acc += x[p];
          y[p] = (float)acc;
        }
      }
    }
}

void ref_hardmax(const float *x, int64_t outer, int64_t n, int64_t inner, float *y) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      int64_t best = 0;
      for (int64_t t = 1; t < n; t++)
        if (x[(o * n + t) * inner + i] > x[(o * n + best) * inner + i]) best = t;
      for (int64_t t = 0; t < n; t++) y[(o * n + t) * inner + i] = t == best ? 1.0f : 0.0f;
    }
}

void ref_topk(const float *x, int64_t outer, int64_t n, int64_t inner, int64_t k, int largest,
              float *vals, int64_t *idx) {
  char *used = malloc((size_t)n + 1);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      for (int64_t t = 0; t < n; t++) used[t] = 0;
      for (int64_t r = 0; r < k; r++) { /* selection: the best unused, lowest index on ties */
        int64_t best = -1;
        for (int64_t t = 0; t < n; t++) {
          if (used[t]) continue;
          float v = x[(o * n + t) * inner + i];
          if (best < 0)
            best = t;
          else {
            float bv = x[(o * n + best) * inner + i];
            if (largest ? v > bv : v < bv) best = t;
          }
        }
        used[best] = 1;
        vals[(o * k + r) * inner + i] = x[(o * n + best) * inner + i];
        idx[(o * k + r) * inner + i] = best;
      }
    }
  free(used);
}
