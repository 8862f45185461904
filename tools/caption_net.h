/* caption_net.h: the captioning network of `nncl caption`: a small CNN encoder giving a 7 x 7 grid
   of feature vectors (plus a learnt vector per cell), an LSTM decoder started from the grid's mean
   with soft (Luong "general", bilinear) attention of each decoder state over the grid and input
   feeding (each step's context enters the next step's input), built with the C graph builder. */
#ifndef NNCL_CAPTION_NET_H
#define NNCL_CAPTION_NET_H

#include "caption_data.h"
#include "nncl/nncl.h"

#define CAPTION_GRID 7      /* encoder grid side: 56 / 2 / 2 / 2 */
#define CAPTION_FEATURES 32 /* channels of a grid cell */
#define CAPTION_HIDDEN 64   /* LSTM state */
#define CAPTION_EMBED 32    /* word embedding */
#define CAPTION_NUM_PARAMS 18

/* The model's input: rows [N * T, CAPTION_ROW] (caption_rows) for T decoder steps. One row per
   decoder step keeps the samples of the trainer's one input and of its per-token labels [N * T]
   on one batch axis: the graph reshapes them to [N, T, ...], takes the picture from step 0 and
   the token column as the decoder's input. */
#define CAPTION_INPUT "rows"
/* Outputs: logits [N * T, CAPTION_VOCAB] (row n * T + t: the word after step t's input) and, with
   `attention` set, the attention weights [N, T, CAPTION_GRID^2] over the grid. */
#define CAPTION_LOGITS "logits"
#define CAPTION_ATTENTION "attention"

typedef struct caption_params {
  const char *name[CAPTION_NUM_PARAMS];
  nncl_array value[CAPTION_NUM_PARAMS];
} caption_params;

/* Initial parameters from a seed: every weight U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as PyTorch's
   Conv, Linear and LSTM layers do, the embedding N(0, 1) as nn.Embedding. */
nncl_status caption_params_init(uint64_t seed, caption_params *p);
void caption_params_free(caption_params *p);

/* Adds the network of `steps` decoder steps (1 .. CAPTION_MAX_STEPS: caption_steps) to an empty
   graph g with parameters p (copied); the parameters do not depend on the steps. */
nncl_status caption_net_build(nncl_graph *g, const caption_params *p, int steps, int attention);

#endif
