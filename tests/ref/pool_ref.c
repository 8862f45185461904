/* pool_ref.c: naive pooling references (see pool_ref.h). Double accumulation, no shortcuts. */
#include "pool_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int pool_ref_geom_init(struct pool_ref_geom *g, const int64_t *pads, enum pool_ref_autopad ap,
                       int ceil_mode) {
  for (int i = 0; i < g->sr; i++) {
    int64_t ek = (g->k[i] - 1) * g->d[i] + 1;
    if (ap == REF_SAME_UPPER || ap == REF_SAME_LOWER) {
      g->out[i] = (int64_t)ceil((double)g->in[i] / (double)g->s[i]);
      int64_t total = (g->out[i] - 1) * g->s[i] + ek - g->in[i];
      if (total < 0) total = 0;
      g->pb[i] = ap == REF_SAME_LOWER ? (total + 1) / 2 : total / 2;
      g->pe[i] = total - g->pb[i];
    } else {
      g->pb[i] = ap == REF_VALID || !pads ? 0 : pads[i];
      g->pe[i] = ap == REF_VALID || !pads ? 0 : pads[i + g->sr];
      double f = (double)(g->in[i] + g->pb[i] + g->pe[i] - ek) / (double)g->s[i];
      g->out[i] = (int64_t)(ceil_mode ? ceil(f) : floor(f)) + 1;
      /* PyTorch: drop a last window that would start in the end padding. */
      if (ceil_mode && (g->out[i] - 1) * g->s[i] >= g->in[i] + g->pb[i]) g->out[i]--;
    }
    if (g->out[i] < 1) return 0;
  }
  return 1;
}

int64_t pool_ref_out_numel(const struct pool_ref_geom *g) {
  int64_t n = g->n * g->c;
  for (int i = 0; i < g->sr; i++) n *= g->out[i];
  return n;
}

/* Visits every output position and every window tap; f gets the tap's input offset within the
   (n, c) plane or -1 when the tap lies in padding, and whether it lies inside the padded extent. */
struct tap {
  int64_t pos[3];
  int64_t off; /* -1 when outside the input */
  int in_padded;
};

static int64_t plane_size(const struct pool_ref_geom *g) {
  int64_t p = 1;
  for (int i = 0; i < g->sr; i++) p *= g->in[i];
  return p;
}

/* Enumerates window taps of output position o (spatial coords) into t[]; returns the count. */
static int taps_of(const struct pool_ref_geom *g, const int64_t *o, struct tap *t) {
  int64_t kk[3] = {1, 1, 1};
  for (int i = 0; i < g->sr; i++) kk[i] = g->k[i];
  int cnt = 0;
  for (int64_t a = 0; a < kk[0]; a++)
    for (int64_t b = 0; b < kk[1]; b++)
      for (int64_t e = 0; e < kk[2]; e++) {
        int64_t tk[3] = {a, b, e};
        struct tap x = {.off = 0, .in_padded = 1};
        int inside = 1;
        for (int i = 0; i < g->sr; i++) {
          x.pos[i] = o[i] * g->s[i] - g->pb[i] + tk[i] * g->d[i];
          if (x.pos[i] < 0 || x.pos[i] >= g->in[i]) inside = 0;
          if (x.pos[i] < -g->pb[i] || x.pos[i] >= g->in[i] + g->pe[i]) x.in_padded = 0;
        }
        if (inside) {
          int64_t off = 0;
          for (int i = 0; i < g->sr; i++) off = off * g->in[i] + x.pos[i];
          x.off = off;
        } else {
          x.off = -1;
        }
        t[cnt++] = x;
      }
  return cnt;
}

/* Decodes flat output index oi into its (n, c) row and spatial position o. */
static int64_t decode(const struct pool_ref_geom *g, int64_t oi, int64_t *o) {
  for (int i = g->sr - 1; i >= 0; i--) {
    o[i] = oi % g->out[i];
    oi /= g->out[i];
  }
  return oi;
}

static struct tap g_taps[4096];

void pool_ref_max(const float *x, const struct pool_ref_geom *g, float *y, int64_t *idx,
                  int col_major) {
  const int64_t plane = plane_size(g);
  for (int64_t oi = 0; oi < pool_ref_out_numel(g); oi++) {
    int64_t o[3];
    const int64_t row = decode(g, oi, o);
    int nt = taps_of(g, o, g_taps);
    float best = -INFINITY;
    int64_t bi = -1;
    for (int t = 0; t < nt; t++) {
      if (g_taps[t].off < 0) continue;
      float v = x[row * plane + g_taps[t].off];
      if (bi < 0 || v > best || isnan(v)) {
        best = v;
        int64_t sp = 0;
        if (col_major)
          for (int i = g->sr - 1; i >= 0; i--) sp = sp * g->in[i] + g_taps[t].pos[i];
        else
          sp = g_taps[t].off;
        bi = row * plane + sp;
      }
    }
    y[oi] = best;
    if (idx) idx[oi] = bi;
  }
}

void pool_ref_avg(const float *x, const struct pool_ref_geom *g, int include_pad, float *y) {
  const int64_t plane = plane_size(g);
  for (int64_t oi = 0; oi < pool_ref_out_numel(g); oi++) {
    int64_t o[3];
    const int64_t row = decode(g, oi, o);
    int nt = taps_of(g, o, g_taps);
    double acc = 0;
    int cnt = 0;
    for (int t = 0; t < nt; t++) {
      if (g_taps[t].off >= 0) acc += x[row * plane + g_taps[t].off];
      if (include_pad ? g_taps[t].in_padded : g_taps[t].off >= 0) cnt++;
    }
    y[oi] = (float)(acc / cnt);
  }
}

void pool_ref_lp(const float *x, const struct pool_ref_geom *g, double p, float *y) {
  const int64_t plane = plane_size(g);
  for (int64_t oi = 0; oi < pool_ref_out_numel(g); oi++) {
    int64_t o[3];
    const int64_t row = decode(g, oi, o);
    int nt = taps_of(g, o, g_taps);
    double acc = 0;
    for (int t = 0; t < nt; t++)
      if (g_taps[t].off >= 0) acc += pow(fabs((double)x[row * plane + g_taps[t].off]), p);
    y[oi] = (float)pow(acc, 1.0 / p);
  }
}

void pool_ref_global(const float *x, int64_t rows, int64_t n, int op, double p, float *y) {
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * n;
    double acc = op == 1 ? -INFINITY : 0;
    for (int64_t i = 0; i < n; i++) {
      if (op == 0) {
        acc += xr[i];
      } else if (op == 1) {
        if (!isnan(acc) && (isnan(xr[i]) || xr[i] > acc)) acc = xr[i]; /* NaN wins */
      } else {
        acc += pow(fabs((double)xr[i]), p);
      }
    }
    y[r] = (float)(op == 0 ? acc / (double)n : op == 1 ? acc : pow(acc, 1.0 / p));
  }
}

void pool_ref_unpool(const float *x, const int64_t *idx, int64_t n, int64_t rows, int sr,
                     const int64_t *def, const int64_t *out, float *y) {
  int64_t dplane = 1, oplane = 1;
  for (int i = 0; i < sr; i++) {
    dplane *= def[i];
    oplane *= out[i];
  }
  float *tmp = calloc((size_t)(rows * dplane + 1), sizeof *tmp);
  for (int64_t i = 0; i < n; i++)
    if (idx[i] >= 0 && idx[i] < rows * dplane) tmp[idx[i]] = x[i];
  memset(y, 0, (size_t)(rows * oplane) * sizeof *y);
  for (int64_t j = 0; j < rows * dplane; j++) {
    int64_t t = j, o = 0, mul = 1, pos[3];
    for (int i = sr - 1; i >= 0; i--) {
      pos[i] = t % def[i];
      t /= def[i];
    }
    for (int i = sr - 1; i >= 0; i--) {
      o += pos[i] * mul;
      mul *= out[i];
    }
    y[t * oplane + o] = tmp[j];
  }
  free(tmp);
}
