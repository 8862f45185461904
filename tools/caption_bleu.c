/* caption_bleu.c: corpus BLEU-4 of token-id sentences (see caption_bleu.h). */
#include "caption_bleu.h"

#include <math.h>

#define BLEU_ORDER 4

/* Occurrences of the k-gram at s[at] among the k-grams of t (t_len tokens). */
static int count_gram(const int *s, int at, int k, const int *t, int t_len) {
  int c = 0;
  for (int j = 0; j + k <= t_len; j++) {
    int same = 1;
    for (int q = 0; q < k && same; q++) same = s[at + q] == t[j + q];
    c += same;
  }
  return c;
}

/* Whether the k-gram at s[at] already occurred earlier in s: each distinct gram is clipped once. */
static int seen_before(const int *s, int at, int k) {
  for (int j = 0; j < at; j++) {
    int same = 1;
    for (int q = 0; q < k && same; q++) same = s[j + q] == s[at + q];
    if (same) return 1;
  }
  return 0;
}

double caption_bleu4(int n, const int *const *hyp, const int *hyp_len, const int *const *ref,
                     const int *ref_len) {
  double match[BLEU_ORDER] = {0}, total[BLEU_ORDER] = {0};
  double c = 0, r = 0;
  for (int i = 0; i < n; i++) {
    c += hyp_len[i];
    r += ref_len[i];
    for (int k = 1; k <= BLEU_ORDER; k++)
      for (int a = 0; a + k <= hyp_len[i]; a++) {
        total[k - 1] += 1;
        if (seen_before(hyp[i], a, k)) continue;
        /* clipped count: a gram counts at most as often as the reference has it */
        const int in_hyp = count_gram(hyp[i], a, k, hyp[i], hyp_len[i]);
        const int in_ref = count_gram(hyp[i], a, k, ref[i], ref_len[i]);
        match[k - 1] += in_hyp < in_ref ? in_hyp : in_ref;
      }
  }
  double log_p = 0;
  for (int k = 0; k < BLEU_ORDER; k++) {
    if (match[k] == 0) return 0.0;
    log_p += log(match[k] / total[k]) / BLEU_ORDER;
  }
  const double bp = c < r ? exp(1.0 - r / c) : 1.0;
  return bp * exp(log_p);
}
