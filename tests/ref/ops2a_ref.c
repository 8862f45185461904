/* ops2a_ref.c: naive references for tests/test_ops2a.c (see ops2a_ref.h). */
#include "ops2a_ref.h"

#include <math.h>
#include <stdlib.h>

int64_t ref_mod_i64(int64_t a, int64_t b, int fmod_mode) {
  if (b == 0) return 0;
  if (b == -1) return 0;
  int64_t r = a % b;
  if (!fmod_mode && r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

float ref_mod_f32(float a, float b, int fmod_mode) {
  float r = fmodf(a, b);
  if (!fmod_mode && r != 0.0f && ((r < 0.0f) != (b < 0.0f))) r += b;
  return r;
}

int ref_isinf(float x, int detect_pos, int detect_neg) {
  if (!isinf(x)) return 0;
  return x > 0 ? detect_pos != 0 : detect_neg != 0;
}

float ref_shrink(float x, float lambd, float bias) {
  if (x < -lambd) return x + bias;
  if (x > lambd) return x - bias;
  return 0.0f;
}

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

/* Key of an element: its offset with the reduced coordinates set to zero. */
static int64_t mvn_key(int64_t e, int rank, const int64_t *dims, unsigned mask) {
  int64_t key = 0, stride = 1;
  for (int d = rank - 1; d >= 0; d--) {
    int64_t c = e % dims[d];
    e /= dims[d];
    if (!(mask & (1u << d))) key += c * stride;
    stride *= dims[d];
  }
  return key;
}

void ref_mvn(const float *x, int rank, const int64_t *dims, unsigned mask, float *y) {
  int64_t n = 1, cnt = 1;
  for (int d = 0; d < rank; d++) {
    n *= dims[d];
    if (mask & (1u << d)) cnt *= dims[d];
  }
  double *sum = calloc((size_t)n + 1, sizeof *sum), *sq = calloc((size_t)n + 1, sizeof *sq);
  for (int64_t e = 0; e < n; e++) sum[mvn_key(e, rank, dims, mask)] += x[e];
  for (int64_t e = 0; e < n; e++) {
    int64_t k = mvn_key(e, rank, dims, mask);
    double dv = x[e] - sum[k] / (double)cnt;
    sq[k] += dv * dv;
  }
  for (int64_t e = 0; e < n; e++) {
    int64_t k = mvn_key(e, rank, dims, mask);
    y[e] = (float)((x[e] - sum[k] / (double)cnt) / (sqrt(sq[k] / (double)cnt) + 1e-9));
  }
  free(sum);
  free(sq);
}
