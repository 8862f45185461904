/* conv_ref.c: naive reference convolutions (see conv_ref.h). Straight loops in double, written
   from the ONNX definitions and nothing else, so they share no code or tricks with the kernels. */
#include "conv_ref.h"

#include <math.h>
#include <stdlib.h>

void conv_ref_out_size(const struct conv_ref_geom *g, int transpose, int64_t *oh, int64_t *ow) {
  if (!transpose) {
    *oh = (g->H + g->pt + g->pb - g->dh * (g->R - 1) - 1) / g->sh + 1;
    *ow = (g->W + g->pl + g->pr - g->dw * (g->S - 1) - 1) / g->sw + 1;
  } else {
    *oh = g->sh * (g->H - 1) + g->oph + (g->R - 1) * g->dh + 1 - g->pt - g->pb;
    *ow = g->sw * (g->W - 1) + g->opw + (g->S - 1) * g->dw + 1 - g->pl - g->pr;
  }
}

static double act(const struct op_epilogue *e, double v) {
  switch (e ? e->act : OP_ACT_NONE) {
  case OP_ACT_RELU: return v > 0 ? v : 0;
  case OP_ACT_LEAKY_RELU: return v >= 0 ? v : v * e->alpha;
  case OP_ACT_CLIP: return v < e->alpha ? e->alpha : (v > e->beta ? e->beta : v);
  case OP_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
  case OP_ACT_TANH: return tanh(v);
  default: return v;
  }
}

static float epilogue(const struct op_epilogue *e, double v, const float *res, int64_t i) {
  int has_res = e && e->has_residual && res;
  if (has_res && !e->residual_after_act) v += res[i];
  v = act(e, v);
  if (has_res && e->residual_after_act) v += res[i];
  return (float)v;
}

void conv_ref(const struct conv_ref_geom *g, const float *x, const float *w, const float *b,
              const struct op_epilogue *epi, const float *res, float *y) {
  int64_t OH, OW;
  conv_ref_out_size(g, 0, &OH, &OW);
  int64_t cg = g->C / g->groups, kg = g->K / g->groups;
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t k = 0; k < g->K; k++) {
      int64_t grp = k / kg;
      for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++) {
          double acc = b ? b[k] : 0.0;
          for (int64_t c = 0; c < cg; c++)
            for (int64_t r = 0; r < g->R; r++)
              for (int64_t s = 0; s < g->S; s++) {
                int64_t ih = oh * g->sh + r * g->dh - g->pt, iw = ow * g->sw + s * g->dw - g->pl;
                if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W) continue;
                acc += (double)x[((n * g->C + grp * cg + c) * g->H + ih) * g->W + iw] *
                       (double)w[((k * cg + c) * g->R + r) * g->S + s];
              }
          int64_t i = ((n * g->K + k) * OH + oh) * OW + ow;
          y[i] = epilogue(epi, acc, res, i);
        }
    }
}

void conv_transpose_ref(const struct conv_ref_geom *g, const float *x, const float *w,
                        const float *b, const struct op_epilogue *epi, const float *res, float *y) {
  int64_t OH, OW;
  conv_ref_out_size(g, 1, &OH, &OW);
  int64_t cg = g->C / g->groups, kg = g->K / g->groups;
  int64_t total = g->N * g->K * OH * OW;
  double *acc = (double *)calloc((size_t)total, sizeof *acc);
  /* scatter form (the definition), the opposite of the kernel's gather */
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t c = 0; c < g->C; c++) {
      int64_t grp = c / cg;
      for (int64_t ih = 0; ih < g->H; ih++)
        for (int64_t iw = 0; iw < g->W; iw++) {
          double xv = x[((n * g->C + c) * g->H + ih) * g->W + iw];
          for (int64_t kk = 0; kk < kg; kk++)
            for (int64_t r = 0; r < g->R; r++)
              for (int64_t s = 0; s < g->S; s++) {
                int64_t oh = ih * g->sh + r * g->dh - g->pt, ow = iw * g->sw + s * g->dw - g->pl;
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                int64_t k = grp * kg + kk;
                acc[((n * g->K + k) * OH + oh) * OW + ow] +=
                    xv * (double)w[((c * kg + kk) * g->R + r) * g->S + s];
              }
        }
    }
  for (int64_t i = 0; i < total; i++) {
    int64_t k = (i / (OH * OW)) % g->K;
    y[i] = epilogue(epi, acc[i] + (b ? b[k] : 0.0), res, i);
  }
  free(acc);
}
