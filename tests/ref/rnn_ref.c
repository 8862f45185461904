/* rnn_ref.c: naive ONNX RNN / LSTM / GRU (see rnn_ref.h). */
#include "rnn_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double act(int code, double a, double b, double x) {
  switch (code) {
  case RA_RELU: return x > 0 ? x : 0;
  case RA_TANH: return tanh(x);
  case RA_SIGMOID: return 1.0 / (1.0 + exp(-x));
  case RA_AFFINE: return a * x + b;
  case RA_LEAKY: return x >= 0 ? x : a * x;
  case RA_THRESH: return x > a ? x : 0;
  case RA_STANH: return a * tanh(b * x);
  case RA_HSIG: return fmax(0.0, fmin(1.0, a * x + b));
  case RA_ELU: return x >= 0 ? x : a * (exp(x) - 1.0);
  case RA_SOFTSIGN: return x / (1.0 + fabs(x));
  default: return log(1.0 + exp(x));
  }
}

static double clipv(const struct rnn_ref *c, double x) {
  if (c->clip <= 0) return x;
  return x < -c->clip ? -c->clip : x > c->clip ? c->clip : x;
}

void ref_rnn_double(const struct rnn_ref *c, const struct rnn_ref_data *io) {
  const int G = c->cell == REF_LSTM ? 4 : c->cell == REF_GRU ? 3 : 1;
  const int per = c->cell == REF_LSTM ? 3 : c->cell == REF_GRU ? 2 : 1;
  const int S = c->seq, B = c->batch, I = c->in, H = c->hidden, D = c->dirs;
  double *h = malloc(sizeof(double) * (size_t)H), *cc = malloc(sizeof(double) * (size_t)H);
  double *hn = malloc(sizeof(double) * (size_t)H), *g = malloc(sizeof(double) * (size_t)(G * H));
  double *rh = malloc(sizeof(double) * (size_t)H);
  size_t ysz = (size_t)S * D * B * H;
  memset(io->y, 0, ysz * sizeof(double));
  for (int d = 0; d < D; d++) {
    int rev = c->reverse_only || d == 1;
    const double *W = io->w + (size_t)d * G * H * I, *R = io->r + (size_t)d * G * H * H;
    const double *Wb = io->b ? io->b + (size_t)d * 2 * G * H : NULL, *Rb = Wb ? Wb + G * H : NULL;
    const double *P = io->p ? io->p + (size_t)d * 3 * H : NULL;
    const int *a = c->act + d * per;
    const float *al = c->alpha + d * per, *be = c->beta + d * per;
#define F(x) act(a[0], al[0], be[0], (x))
#define GA(x) act(a[1], al[1], be[1], (x))
#define HA(x) act(a[2], al[2], be[2], (x))
    for (int b = 0; b < B; b++) {
      size_t st = c->layout ? ((size_t)b * D + d) * H : ((size_t)d * B + b) * H;
      for (int j = 0; j < H; j++) {
        h[j] = io->h0 ? io->h0[st + j] : 0;
        cc[j] = io->c0 ? io->c0[st + j] : 0;
      }
      int len = c->lens ? c->lens[b] : S;
      for (int s = 0; s < len; s++) {
        int t = rev ? len - 1 - s : s;
        const double *xt = io->x + (c->layout ? ((size_t)b * S + t) : ((size_t)t * B + b)) * I;
        /* g = x W^T + Wb + Rb + h R^T (GRU h gate handled below) */
        for (int q = 0; q < G * H; q++) {
          double v = 0, u = 0;
          for (int k = 0; k < I; k++) v += xt[k] * W[(size_t)q * I + k];
          for (int k = 0; k < H; k++) u += h[k] * R[(size_t)q * H + k];
          if (Wb) v += Wb[q];
          if (c->cell == REF_GRU && q >= 2 * H) {
            g[q] = v; /* x part of the h gate only; see below */
            continue;
          }
          g[q] = v + u + (Rb ? Rb[q] : 0);
        }
        if (c->cell == REF_RNN) {
          for (int j = 0; j < H; j++) hn[j] = F(clipv(c, g[j]));
        } else if (c->cell == REF_LSTM) {
          for (int j = 0; j < H; j++) {
            double i = F(clipv(c, g[j] + (P ? P[j] * cc[j] : 0)));
            double f = c->input_forget ? 1 - i
                                       : F(clipv(c, g[2 * H + j] + (P ? P[2 * H + j] * cc[j] : 0)));
            double ct = GA(clipv(c, g[3 * H + j]));
            double cn = f * cc[j] + i * ct;
            double o = F(clipv(c, g[H + j] + (P ? P[H + j] * cn : 0)));
            cc[j] = cn;
            hn[j] = o * HA(cn);
          }
        } else {
          for (int j = 0; j < H; j++) rh[j] = F(clipv(c, g[H + j])) * h[j];
          for (int j = 0; j < H; j++) {
            double z = F(clipv(c, g[j])), r = F(clipv(c, g[H + j]));
            const double *Rh = R + (size_t)(2 * H + j) * H;
            double u = 0, rbh = Rb ? Rb[2 * H + j] : 0;
            if (c->lbr) {
              for (int k = 0; k < H; k++) u += h[k] * Rh[k];
              u = r * (u + rbh);
            } else {
              for (int k = 0; k < H; k++) u += rh[k] * Rh[k];
              u += rbh;
            }
            double ht = GA(clipv(c, g[2 * H + j] + u));
            hn[j] = (1 - z) * ht + z * h[j];
          }
        }
        for (int j = 0; j < H; j++) {
          h[j] = hn[j];
          size_t yi = c->layout ? (((size_t)b * S + t) * D + d) * H + j
                                : (((size_t)t * D + d) * B + b) * H + j;
          io->y[yi] = h[j];
        }
      }
      for (int j = 0; j < H; j++) {
        if (io->yh) io->yh[st + j] = h[j];
        if (io->yc) io->yc[st + j] = cc[j];
      }
    }
#undef F
#undef GA
#undef HA
  }
  free(h);
  free(cc);
  free(hn);
  free(g);
  free(rh);
}

/* A double copy of n floats (NULL stays NULL). */
static double *to_double(const float *x, size_t n) {
  if (!x) return NULL;
  double *d = malloc(n * sizeof *d);
  for (size_t i = 0; d && i < n; i++) d[i] = x[i];
  return d;
}

static void to_float(float *out, const double *x, size_t n) {
  for (size_t i = 0; out && i < n; i++) out[i] = (float)x[i];
}

void ref_rnn(const struct rnn_ref *c) {
  const size_t G = c->cell == REF_LSTM ? 4 : c->cell == REF_GRU ? 3 : 1;
  const size_t S = (size_t)c->seq, B = (size_t)c->batch, I = (size_t)c->in, H = (size_t)c->hidden,
               D = (size_t)c->dirs;
  struct rnn_ref_data io = {.x = to_double(c->x, S * B * I),
                            .w = to_double(c->w, D * G * H * I),
                            .r = to_double(c->r, D * G * H * H),
                            .b = to_double(c->b, D * 2 * G * H),
                            .h0 = to_double(c->h0, D * B * H),
                            .c0 = to_double(c->c0, D * B * H),
                            .p = to_double(c->p, D * 3 * H),
                            .y = malloc(S * D * B * H * sizeof(double)),
                            .yh = malloc(D * B * H * sizeof(double)),
                            .yc = malloc(D * B * H * sizeof(double))};
  ref_rnn_double(c, &io);
  to_float(c->y, io.y, S * D * B * H);
  to_float(c->yh, io.yh, D * B * H);
  to_float(c->yc, io.yc, D * B * H);
  free((void *)io.x), free((void *)io.w), free((void *)io.r), free((void *)io.b);
  free((void *)io.h0), free((void *)io.c0), free((void *)io.p);
  free(io.y), free(io.yh), free(io.yc);
}
