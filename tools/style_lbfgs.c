/* style_lbfgs.c: L-BFGS's two-loop recursion on the host (see style_lbfgs.h). */
#include "style_lbfgs.h"

#include <stdlib.h>
#include <string.h>

struct style_lbfgs {
  int64_t n;
  int history, count, newest; /* pairs stored, index of the newest in the ring */
  float *dx, *dg;             /* history x n each */
  double *rho, *alpha;        /* 1 / (dx . dg) per pair; the first loop's coefficients */
};

static double dot(const float *a, const float *b, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
  return s;
}

style_lbfgs *style_lbfgs_create(int64_t n, int history) {
  style_lbfgs *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->n = n;
  s->history = history;
  s->newest = -1;
  s->dx = malloc((size_t)(history * n) * sizeof *s->dx);
  s->dg = malloc((size_t)(history * n) * sizeof *s->dg);
  s->rho = calloc((size_t)history, sizeof *s->rho);
  s->alpha = calloc((size_t)history, sizeof *s->alpha);
  if (!s->dx || !s->dg || !s->rho || !s->alpha) {
    style_lbfgs_destroy(s);
    return NULL;
  }
  return s;
}

void style_lbfgs_destroy(style_lbfgs *s) {
  if (!s) return;
  free(s->dx);
  free(s->dg);
  free(s->rho);
  free(s->alpha);
  free(s);
}

int style_lbfgs_push(style_lbfgs *s, const float *dx, const float *dg) {
  const double sy = dot(dx, dg, s->n);
  if (!(sy > 1e-10)) return 0;
  s->newest = (s->newest + 1) % s->history;
  memcpy(s->dx + (size_t)s->newest * (size_t)s->n, dx, (size_t)s->n * sizeof *dx);
  memcpy(s->dg + (size_t)s->newest * (size_t)s->n, dg, (size_t)s->n * sizeof *dg);
  s->rho[s->newest] = 1.0 / sy;
  if (s->count < s->history) s->count++;
  return 1;
}

void style_lbfgs_direction(style_lbfgs *s, const float *g, float *d) {
  const int64_t n = s->n;
  for (int64_t i = 0; i < n; i++) d[i] = -g[i];
  /* newest to oldest: alpha_k = rho_k dx_k . q, q -= alpha_k dg_k (q = d, negated throughout) */
  for (int j = 0; j < s->count; j++) {
    const int k = (s->newest - j + s->history) % s->history;
    const float *dx = s->dx + (size_t)k * (size_t)n, *dg = s->dg + (size_t)k * (size_t)n;
    s->alpha[k] = s->rho[k] * dot(dx, d, n);
    for (int64_t i = 0; i < n; i++) d[i] -= (float)(s->alpha[k] * dg[i]);
  }
  if (s->count > 0) { /* H0 = gamma I, gamma = dx . dg / dg . dg of the newest pair */
    const float *dg = s->dg + (size_t)s->newest * (size_t)n;
    const double gamma = 1.0 / (s->rho[s->newest] * dot(dg, dg, n));
    for (int64_t i = 0; i < n; i++) d[i] = (float)(gamma * d[i]);
  }
  /* oldest to newest: beta = rho_k dg_k . r, r += (alpha_k - beta) dx_k */
  for (int j = s->count - 1; j >= 0; j--) {
    const int k = (s->newest - j + s->history) % s->history;
    const float *dx = s->dx + (size_t)k * (size_t)n, *dg = s->dg + (size_t)k * (size_t)n;
    const double beta = s->rho[k] * dot(dg, d, n);
    for (int64_t i = 0; i < n; i++) d[i] += (float)((s->alpha[k] - beta) * dx[i]);
  }
}
