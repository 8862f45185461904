/* caption_decode.h: greedy and beam captioning on the device with a trained captioning network,
   and the attention maps of the words it chose. */
#ifndef NNCL_CAPTION_DECODE_H
#define NNCL_CAPTION_DECODE_H

#include "caption_data.h"
#include "caption_net.h"

/* Captions pictures first .. first + count - 1 of s with the network g (caption_net_build with
   attention and s->steps steps, on its context's device): s->steps runs, run k feeding the words
   chosen so far and taking the arg-max word after step k (the decoder is causal, so a later input
   never changes an earlier step). tokens [count, s->steps] gets the words; attention (may be NULL)
   [count, s->steps, CAPTION_GRID^2] the weights each word was chosen with. */
nncl_status caption_decode_greedy(nncl_graph *g, const caption_set *s, int first, int count,
                                  int *tokens, float *attention);

/* Beam search with `beam` hypotheses per picture (1 gives greedy's captions): each of the s->steps
   runs scores every hypothesis's next word by log-softmax, keeps the `beam` best sums per picture
   (a hypothesis that said <eos> stays as it is, adding nothing) and returns the best at the end;
   scores are not length-normalised. One more run gives the attention of the chosen words. Same
   outputs as caption_decode_greedy. */
nncl_status caption_decode_beam(nncl_graph *g, const caption_set *s, int first, int count, int beam,
                                int *tokens, float *attention);

#endif
