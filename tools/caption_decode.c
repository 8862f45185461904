/* caption_decode.c: greedy captioning on the device (see caption_decode.h). */
#include "caption_decode.h"

#include <stdlib.h>
#include <string.h>

#define T CAPTION_STEPS
#define L (CAPTION_GRID * CAPTION_GRID)

nncl_status caption_decode_greedy(nncl_graph *g, const caption_set *s, int first, int count,
                                  int *tokens, float *attention) {
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
