/* test_caption.c: `nncl caption`'s host pieces: corpus BLEU-4 (tools/caption_bleu.c) against a
   value computed by hand, and the synthetic captions (tools/caption_data.c) against the garments'
   labels and placement. */
#include <math.h>

#include "../tools/caption_bleu.h"
#include "../tools/caption_data.h"
#include "test_util.h"

/* Two sentences (token ids; one reference each), worked out by hand:
     hyp "a a b c d e" vs ref "a b c d e f": 1-grams 5/6 (the second "a" clipped: the reference
     has one), 2-grams 4/5 (aa misses), 3-grams 3/4, 4-grams 2/3;
     hyp "x y" vs ref "x y z u v": 1-grams 2/2, 2-grams 1/1, no 3- or 4-grams.
   Corpus sums: p1 = 7/8, p2 = 5/6, p3 = 3/4, p4 = 2/3; lengths c = 8 < r = 11, so the brevity
   penalty is exp(1 - 11/8). BLEU = exp(-0.375) (7/8 * 5/6 * 3/4 * 2/3)^(1/4) = 0.534058426815706.
   Tolerance 1e-12: the function sums small integers and takes logs in double. */
Test(caption, bleu4_matches_hand_computed_corpus) {
  const int h0[] = {1, 1, 2, 3, 4, 5}, r0[] = {1, 2, 3, 4, 5, 6};
  const int h1[] = {7, 8}, r1[] = {7, 8, 9, 10, 11};
  const int *hyp[] = {h0, h1}, *ref[] = {r0, r1};
  const int hl[] = {6, 2}, rl[] = {6, 5};
  const double want = exp(1.0 - 11.0 / 8.0) * pow(7.0 / 8 * 5.0 / 6 * 3.0 / 4 * 2.0 / 3, 0.25);
  const double got = caption_bleu4(2, hyp, hl, ref, rl);
  cr_assert(fabs(got - 0.534058426815706) < 1e-12 && fabs(got - want) < 1e-12,
            "BLEU-4 %.15f, want %.15f", got, want);
  /* identical corpora score 1; a corpus with no matching 4-gram scores 0 (no smoothing) */
  cr_assert(fabs(caption_bleu4(1, ref, rl, ref, rl) - 1.0) < 1e-12);
  const int s0[] = {1, 2, 3, 9, 4, 5};
  const int *shuffled[] = {s0};
  cr_assert(caption_bleu4(1, shuffled, hl, ref, rl) == 0.0, "no 4-gram matches, BLEU must be 0");
}

/* Two fake 28 x 28 images: image k is a flat square of grey level 10 (k + 1) with label 3 k + 2,
   so every caption and every garment's place can be checked. */
Test(caption, pictures_match_their_captions) {
  static uint8_t pixels[2 * 28 * 28];
  uint8_t labels_data[2] = {2, 5};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < 28 * 28; i++) pixels[k * 28 * 28 + i] = (uint8_t)(10 * (k + 1));
  const demo_idx images = {3, {2, 28, 28, 0}, 2, 28 * 28, pixels};
  const demo_idx labels = {1, {2, 0, 0, 0}, 2, 1, labels_data};
  caption_set s;
  cr_assert(caption_set_make(&images, &labels, 64, 7, &s) == 0);
  int beside = 0, above = 0;
  for (int i = 0; i < s.n; i++) {
    const int *t = s.tokens + i * CAPTION_STEPS;
    const float *p = s.pixels + i * CAPTION_PIXELS;
    const int side = t[2] == CAPTION_LEFT;
    cr_assert(side || t[2] == CAPTION_ABOVE, "picture %d: relation token %d", i, t[2]);
    beside += side;
    above += !side;
    const int first = t[1] - CAPTION_FIRST_CLASS, second = t[side ? 5 : 4] - CAPTION_FIRST_CLASS;
    cr_assert(first != second, "picture %d shows one image twice", i);
    cr_assert(caption_length(t) == (side ? 6 : 5), "picture %d: caption length %d", i,
              caption_length(t));
    /* the first-named garment covers the canvas's first pixel row/column the pair spans: its grey
       level (label 2 -> image 0 -> 10/255, label 5 -> image 1 -> 20/255) must be there */
    float first_grey = 0, second_grey = 0;
    for (int k = 0; k < CAPTION_PIXELS; k++) {
      const int r = k / CAPTION_SIDE, c = k % CAPTION_SIDE;
      const int in_first = side ? c < CAPTION_ITEM : r < CAPTION_ITEM;
      if (p[k] > 0) *(in_first ? &first_grey : &second_grey) = p[k];
    }
    const float g_first = (float)(10 * (first == 2 ? 1 : 2)) / 255.0f;
    const float g_second = (float)(10 * (second == 2 ? 1 : 2)) / 255.0f;
    cr_assert(fabsf(first_grey - g_first) < 1e-6f && fabsf(second_grey - g_second) < 1e-6f,
              "picture %d: greys %g %g, want %g %g", i, first_grey, second_grey, g_first, g_second);
  }
  cr_assert(beside > 10 && above > 10, "layouts: %d beside, %d above of 64", beside, above);
  caption_set_free(&s);
}
