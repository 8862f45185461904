/* norm_ref.c: naive normalization references (see norm_ref.h). */
#include "norm_ref.h"

#include <math.h>
#include <stdlib.h>

void norm_ref_batch(const float *x, int64_t n, int64_t c, int64_t s, const float *scale,
                    const float *bias, const float *mean, const float *var, double eps, int spatial,
                    float *y) {
  for (int64_t b = 0; b < n; b++)
    for (int64_t ch = 0; ch < c; ch++)
      for (int64_t i = 0; i < s; i++) {
        const int64_t p = spatial ? ch : ch * s + i, o = (b * c + ch) * s + i;
        y[o] = (float)(((double)x[o] - mean[p]) / sqrt((double)var[p] + eps) * scale[p] + bias[p]);
      }
}

/* Two-pass mean and population variance of v[0..len). */
static void stats(const float *v, int64_t len, double *mean, double *var) {
  double m = 0, q = 0;
  for (int64_t i = 0; i < len; i++) m += v[i];
  m /= (double)len;
  for (int64_t i = 0; i < len; i++) q += ((double)v[i] - m) * ((double)v[i] - m);
  *mean = m;
  *var = q / (double)len;
}

void norm_ref_instance(const float *x, int64_t n, int64_t c, int64_t s, const float *scale,
                       const float *bias, double eps, float *y) {
  for (int64_t r = 0; r < n * c; r++) {
    double m, v;
    stats(x + r * s, s, &m, &v);
    const int64_t ch = r % c;
    for (int64_t i = 0; i < s; i++)
      y[r * s + i] = (float)(((double)x[r * s + i] - m) / sqrt(v + eps) * scale[ch] + bias[ch]);
  }
}

void norm_ref_layer(const float *x, int64_t rows, int64_t len, const float *scale,
                    const float *bias, int64_t np, double eps, float *y, float *mean,
                    float *invstd) {
  for (int64_t r = 0; r < rows; r++) {
    double m, v;
    stats(x + r * len, len, &m, &v);
    const double inv = 1.0 / sqrt(v + eps);
    if (mean) mean[r] = (float)m;
    if (invstd) invstd[r] = (float)inv;
    for (int64_t i = 0; i < len; i++)
      y[r * len + i] =
          (float)(((double)x[r * len + i] - m) * inv * scale[i % np] + (bias ? bias[i % np] : 0.0));
  }
}

void norm_ref_lrn(const float *x, int64_t n, int64_t c, int64_t s, int64_t size, double alpha,
                  double beta, double bias, float *y) {
  const int64_t lo = (size - 1) / 2, hi = (size - 1) - lo; /* floor and ceil of (size-1)/2 */
  for (int64_t b = 0; b < n; b++)
    for (int64_t ch = 0; ch < c; ch++)
      for (int64_t i = 0; i < s; i++) {
        double sq = 0;
        for (int64_t k = ch - lo; k <= ch + hi; k++)
          if (k >= 0 && k < c) {
            const double v = x[(b * c + k) * s + i];
            sq += v * v;
          }
        const int64_t o = (b * c + ch) * s + i;
        y[o] = (float)(x[o] / pow(bias + alpha / (double)size * sq, beta));
      }
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

void norm_ref_mvn(const float *x, int rank, const int64_t *dims, unsigned mask, float *y) {
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

void norm_ref_batch_train(const float *x, int64_t n, int64_t c, int64_t s, const float *scale,
                          const float *bias, const float *in_mean, const float *in_var, float eps,
                          float momentum, float *y, float *run_mean, float *run_var) {
  for (int64_t ch = 0; ch < c; ++ch) {
    double sum = 0, sq = 0, cnt = (double)(n * s);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < s; ++i) sum += x[(b * c + ch) * s + i];
    double mean = sum / cnt;
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < s; ++i) {
        double d = x[(b * c + ch) * s + i] - mean;
        sq += d * d;
      }
    double var = sq / cnt, a = scale[ch] / sqrt(var + eps);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < s; ++i) {
        int64_t o = (b * c + ch) * s + i;
        y[o] = (float)((x[o] - mean) * a + bias[ch]);
      }
    run_mean[ch] = (float)(in_mean[ch] * momentum + mean * (1.0 - momentum));
    run_var[ch] = (float)(in_var[ch] * momentum + var * (1.0 - momentum));
  }
}
