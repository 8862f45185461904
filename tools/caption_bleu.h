/* caption_bleu.h: corpus BLEU-4 (Papineni et al. 2002) of token-id sentences, one reference each. */
#ifndef NNCL_CAPTION_BLEU_H
#define NNCL_CAPTION_BLEU_H

/* Corpus BLEU-4 of n hypotheses hyp[i] (hyp_len[i] tokens) against one reference each: the
   geometric mean of the modified (clipped) 1- to 4-gram precisions, each summed over the corpus
   before dividing, times the brevity penalty exp(1 - r / c) when the hypotheses' total length c is
   below the references' r. No smoothing: 0 when some order has no match (as sacrebleu with
   smooth_method "none" and nltk's corpus_bleu). Returns a value in [0, 1]. */
double caption_bleu4(int n, const int *const *hyp, const int *hyp_len, const int *const *ref,
                     const int *ref_len);

#endif
