/* caption_decode.c: greedy and beam captioning on the device (see caption_decode.h). */
#include "caption_decode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define L (CAPTION_GRID * CAPTION_GRID)

nncl_status caption_decode_greedy(nncl_graph *g, const caption_set *s, int first, int count,
                                  int *tokens, float *attention) {
  const int T = s->steps;
  const nncl_shape shape = {2, {(int64_t)count * T, CAPTION_ROW}};
  nncl_array rows = {0}, logits = {0}, att = {0};
  nncl_status st = nncl_array_alloc(&rows, NNCL_FLOAT32, &shape);
  /* caption_rows reads the inputs at the pictures' own indices: a set-sized scratch */
  int *chosen = calloc((size_t)s->n * T, sizeof *chosen);
  if (!chosen && st == NNCL_OK) st = NNCL_ERR_OUT_OF_HOST_MEMORY;
  for (int k = 0; k < T && st == NNCL_OK; k++) {
    caption_rows(s, chosen, first, count, rows.data);
    if ((st = nncl_graph_set_input(g, CAPTION_INPUT, &rows)) != NNCL_OK ||
        (st = nncl_graph_run(g)) != NNCL_OK || (st = nncl_graph_get_output(g, 0, &logits)))
      break;
    const float *z = logits.data;
    for (int i = 0; i < count; i++) {
      const float *zi = z + ((size_t)i * T + k) * CAPTION_VOCAB;
      int best = 0;
      for (int v = 1; v < CAPTION_VOCAB; v++)
        if (zi[v] > zi[best]) best = v;
      chosen[(size_t)(first + i) * T + k] = best;
    }
    nncl_array_free(&logits);
  }
  if (st == NNCL_OK && attention) {
    /* the last run's inputs are the chosen words: its weights are the ones each was chosen with */
    if ((st = nncl_graph_get_output(g, 1, &att)) == NNCL_OK)
      memcpy(attention, att.data, (size_t)count * T * L * sizeof *attention);
  }
  if (st == NNCL_OK) memcpy(tokens, chosen + (size_t)first * T, (size_t)count * T * sizeof *tokens);
  nncl_array_free(&att);
  nncl_array_free(&rows);
  free(chosen);
  return st;
}

/* Rows for hypotheses h = 0 .. n_hyp - 1 of picture first + h / beam with inputs hyp[h]. */
static void beam_rows(const caption_set *s, int first, int beam, int n_hyp, const int *hyp,
                      float *rows) {
  const int T = s->steps;
  for (int h = 0; h < n_hyp; h++)
    for (int t = 0; t < T; t++) {
      float *row = rows + ((size_t)h * T + t) * CAPTION_ROW;
      memcpy(row, s->pixels + (size_t)(first + h / beam) * CAPTION_PIXELS,
             CAPTION_PIXELS * sizeof *row);
      row[CAPTION_PIXELS] = (float)(t == 0 ? CAPTION_BOS : hyp[(size_t)h * T + t - 1]);
    }
}

/* One picture's step: the `beam` best extensions of its hypotheses of T tokens (z: their logits at
   step k). */
static void beam_select(int beam, int T, int k, const float *z, int *hyp, double *score,
                        int *next_hyp, double *next_score) {
  for (int b = 0; b < beam; b++) next_score[b] = -INFINITY;
  for (int b = 0; b < beam; b++) {
    if (score[b] == -INFINITY) continue;
    const int done = k > 0 && hyp[b * T + k - 1] == CAPTION_EOS;
    const float *zb = z + (size_t)b * T * CAPTION_VOCAB;
    double top = zb[0], sum = 0;
    for (int v = 1; v < CAPTION_VOCAB; v++) top = zb[v] > top ? zb[v] : top;
    for (int v = 0; v < CAPTION_VOCAB; v++) sum += exp(zb[v] - top);
    for (int v = 0; v < CAPTION_VOCAB; v++) {
      if (done && v != CAPTION_EOS) continue;
      const double c = score[b] + (done ? 0.0 : zb[v] - top - log(sum));
      int worst = 0; /* replace the worst kept candidate when c beats it */
      for (int q = 1; q < beam; q++)
        if (next_score[q] < next_score[worst]) worst = q;
      if (c <= next_score[worst]) continue;
      next_score[worst] = c;
      memcpy(next_hyp + worst * T, hyp + b * T, T * sizeof *hyp);
      next_hyp[worst * T + k] = v;
    }
  }
}

nncl_status caption_decode_beam(nncl_graph *g, const caption_set *s, int first, int count, int beam,
                                int *tokens, float *attention) {
  if (beam < 1) beam = 1; /* beam 1 runs this search too: the test compares it with greedy */
  const int T = s->steps;
  const int n_hyp = count * beam;
  const nncl_shape shape = {2, {(int64_t)n_hyp * T, CAPTION_ROW}};
  nncl_array rows = {0}, logits = {0}, att = {0};
  nncl_status st = nncl_array_alloc(&rows, NNCL_FLOAT32, &shape);
  int *hyp = calloc((size_t)n_hyp * T, sizeof *hyp), *next = calloc((size_t)beam * T, sizeof *next);
  double *score = malloc((size_t)n_hyp * sizeof *score),
         *next_score = malloc((size_t)beam * sizeof *next_score);
  if ((!hyp || !next || !score || !next_score) && st == NNCL_OK) st = NNCL_ERR_OUT_OF_HOST_MEMORY;
  for (int h = 0; h < n_hyp && st == NNCL_OK; h++) score[h] = h % beam ? -INFINITY : 0.0;
  for (int k = 0; k < T && st == NNCL_OK; k++) {
    beam_rows(s, first, beam, n_hyp, hyp, rows.data);
    if ((st = nncl_graph_set_input(g, CAPTION_INPUT, &rows)) != NNCL_OK ||
        (st = nncl_graph_run(g)) != NNCL_OK || (st = nncl_graph_get_output(g, 0, &logits)))
      break;
    for (int i = 0; i < count; i++) {
      const float *z = (const float *)logits.data + ((size_t)i * beam * T + k) * CAPTION_VOCAB;
      beam_select(beam, T, k, z, hyp + (size_t)i * beam * T, score + (size_t)i * beam, next,
                  next_score);
      memcpy(hyp + (size_t)i * beam * T, next, (size_t)beam * T * sizeof *hyp);
      memcpy(score + (size_t)i * beam, next_score, (size_t)beam * sizeof *score);
    }
    nncl_array_free(&logits);
  }
  for (int i = 0; i < count && st == NNCL_OK; i++) {
    int best = 0;
    for (int b = 1; b < beam; b++)
      if (score[(size_t)i * beam + b] > score[(size_t)i * beam + best]) best = b;
    memcpy(tokens + (size_t)i * T, hyp + ((size_t)i * beam + best) * T, T * sizeof *tokens);
  }
  if (st == NNCL_OK && attention) { /* the chosen words' attention: one run over them */
    nncl_array one = {NNCL_FLOAT32, {2, {(int64_t)count * T, CAPTION_ROW}}, rows.data};
    beam_rows(s, first, 1, count, tokens, rows.data);
    if ((st = nncl_graph_set_input(g, CAPTION_INPUT, &one)) == NNCL_OK &&
        (st = nncl_graph_run(g)) == NNCL_OK && (st = nncl_graph_get_output(g, 1, &att)) == NNCL_OK)
      memcpy(attention, att.data, (size_t)count * T * L * sizeof *attention);
  }
  nncl_array_free(&att);
  nncl_array_free(&rows);
  free(hyp);
  free(next);
  free(score);
  free(next_score);
  return st;
}
