/* test_caption.c: `nncl caption`'s pieces: corpus BLEU-4 (tools/caption_bleu.c) against a value
   computed by hand, the synthetic captions (tools/caption_data.c) against the garments' labels and
   placement, and beam search (tools/caption_decode.c) against greedy decoding on the device. */
#include <math.h>
#include <string.h>

#include "../tools/caption_bleu.h"
#include "../tools/caption_data.h"
#include "../tools/caption_decode.h"
#include "../tools/caption_net.h"
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
  cr_assert(caption_set_make(&images, &labels, 64, 2, 7, &s) == 0);
  cr_assert(s.steps == 7);
  int beside = 0, above = 0;
  for (int i = 0; i < s.n; i++) {
    const int *t = s.tokens + i * s.steps;
    const float *p = s.pixels + i * CAPTION_PIXELS;
    const int side = t[2] == CAPTION_LEFT;
    cr_assert(side || t[2] == CAPTION_ABOVE, "picture %d: relation token %d", i, t[2]);
    beside += side;
    above += !side;
    const int first = t[1] - CAPTION_FIRST_CLASS, second = t[side ? 5 : 4] - CAPTION_FIRST_CLASS;
    cr_assert(first != second, "picture %d shows one image twice", i);
    cr_assert(caption_length(t, s.steps) == (side ? 6 : 5), "picture %d: caption length %d", i,
              caption_length(t, s.steps));
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

/* Three garments (four fake 28 x 28 images, flat grey 10 (k + 1), labels 1, 4, 6, 9): every
   caption is checked against the picture independently of how caption_data.c builds it: each
   named garment is found on the canvas by its grey level, and each relation word must hold between
   the quadrants of the garments on either side of it ("left of"/"right of": same row, that order;
   "above": same column, the first on top); the walk starts at the end that comes first in reading
   order and one quadrant stays empty. */
Test(caption, three_garment_captions_describe_their_pictures) {
  static uint8_t pixels[4 * 28 * 28];
  uint8_t labels_data[4] = {1, 4, 6, 9};
  for (int k = 0; k < 4; k++)
    for (int i = 0; i < 28 * 28; i++) pixels[k * 28 * 28 + i] = (uint8_t)(10 * (k + 1));
  const demo_idx images = {3, {4, 28, 28, 0}, 4, 28 * 28, pixels};
  const demo_idx labels = {1, {4, 0, 0, 0}, 4, 1, labels_data};
  caption_set s;
  cr_assert(caption_set_make(&images, &labels, 200, 3, 9, &s) == 0);
  cr_assert(s.steps == 10);
  int layouts[4] = {0};
  for (int i = 0; i < s.n; i++) {
    const int *t = s.tokens + i * s.steps;
    const float *p = s.pixels + i * CAPTION_PIXELS;
    cr_assert(caption_length(t, s.steps) == 9 && t[9] == CAPTION_EOS, "picture %d: length %d", i,
              caption_length(t, s.steps));
    /* the quadrant of each image, from the grey at the quadrant's centre */
    int quad_of_image[4] = {-1, -1, -1, -1}, empty = -1;
    for (int q = 0; q < 4; q++) {
      const int y = (q / 2) * CAPTION_ITEM + CAPTION_ITEM / 2, x = (q % 2) * CAPTION_ITEM + 3;
      const int level = (int)(p[y * CAPTION_SIDE + x] * 255.0f / 10.0f + 0.5f);
      cr_assert(level >= 0 && level <= 4, "picture %d quadrant %d: grey %g", i, q,
                p[y * CAPTION_SIDE + x]);
      if (!level) {
        cr_assert(empty < 0, "picture %d: two empty quadrants", i);
        empty = q;
      } else {
        cr_assert(quad_of_image[level - 1] < 0, "picture %d shows one image twice", i);
        quad_of_image[level - 1] = q;
      }
    }
    cr_assert(empty >= 0, "picture %d: no empty quadrant", i);
    layouts[empty]++;
    /* walk the caption: a X REL [of] a Y REL [of] a Z */
    int k = 0, quad[3], rel[2];
    for (int g = 0; g < 3; g++) {
      if (g) {
        rel[g - 1] = t[k++];
        if (rel[g - 1] != CAPTION_ABOVE) cr_assert(t[k++] == CAPTION_OF, "picture %d: no 'of'", i);
      }
      cr_assert(t[k++] == CAPTION_A, "picture %d word %d", i, k - 1);
      int img = -1;
      for (int m = 0; m < 4; m++)
        if (t[k] == CAPTION_FIRST_CLASS + labels_data[m]) img = m;
      k++;
      cr_assert(img >= 0 && quad_of_image[img] >= 0, "picture %d: garment %d is not shown", i, g);
      quad[g] = quad_of_image[img];
    }
    for (int r = 0; r < 2; r++) {
      const int a = quad[r], b = quad[r + 1];
      const int ok = rel[r] == CAPTION_LEFT    ? a / 2 == b / 2 && a % 2 < b % 2
                     : rel[r] == CAPTION_RIGHT ? a / 2 == b / 2 && a % 2 > b % 2
                     : rel[r] == CAPTION_ABOVE ? a % 2 == b % 2 && a / 2 < b / 2
                                               : 0;
      cr_assert(ok, "picture %d: '%s' between quadrants %d and %d", i, caption_word(rel[r]), a, b);
    }
    cr_assert(quad[0] < quad[2], "picture %d: the walk starts at quadrant %d, not %d", i, quad[0],
              quad[2]);
  }
  for (int q = 0; q < 4; q++)
    cr_assert(layouts[q] > 20, "layout with quadrant %d empty: %d of 200", q, layouts[q]);
  caption_set_free(&s);
}

/* Sum of log-softmax of each picture's caption (tokens [count, T], up to and including its first
   <eos>, as beam search scores it) under network g: one run fed the caption itself (the decoder is
   causal), the log-softmax taken here on the host in double, independently of caption_decode.c. */
static void caption_log_probs(nncl_graph *g, const caption_set *s, int count, const int *tokens,
                              double *out) {
  const int T = s->steps;
  nncl_array rows, logits = {0};
  const int64_t dims[] = {(int64_t)count * T, CAPTION_ROW};
  rows = tu_zeros(NNCL_FLOAT32, 2, dims);
  float *r = rows.data;
  for (int i = 0; i < count; i++)
    for (int t = 0; t < T; t++) {
      memcpy(r + ((size_t)i * T + t) * CAPTION_ROW, s->pixels + (size_t)i * CAPTION_PIXELS,
             CAPTION_PIXELS * sizeof(float));
      r[((size_t)i * T + t) * CAPTION_ROW + CAPTION_PIXELS] =
          (float)(t ? tokens[i * T + t - 1] : CAPTION_BOS);
    }
  cr_assert(nncl_graph_set_input(g, CAPTION_INPUT, &rows) == NNCL_OK);
  cr_assert(nncl_graph_run(g) == NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert(nncl_graph_get_output(g, 0, &logits) == NNCL_OK);
  for (int i = 0; i < count; i++) {
    out[i] = 0;
    for (int t = 0; t < T; t++) {
      const float *z = (const float *)logits.data + ((size_t)i * T + t) * CAPTION_VOCAB;
      double top = z[0], sum = 0;
      for (int v = 1; v < CAPTION_VOCAB; v++) top = z[v] > top ? z[v] : top;
      for (int v = 0; v < CAPTION_VOCAB; v++) sum += exp((double)z[v] - top);
      out[i] += (double)z[tokens[i * T + t]] - top - log(sum);
      if (tokens[i * T + t] == CAPTION_EOS) break;
    }
  }
  nncl_array_free(&logits);
  nncl_array_free(&rows);
}

/* Beam search (tools/caption_decode.c) on the untrained network (seeded weights, random pictures:
   its word distributions are broad, so beams and greedy part often):
   - beam 1 runs the beam code path and must give greedy's captions and attention exactly (same
     graph, same inputs up to each word: bit-identical, tolerance 0);
   - beam 2, 3 and 5 must never give a caption with a lower log-probability than greedy's, both
     recomputed here from the logits. (Not a theorem for every model, but it holds for these
     pictures and a beam that scores, prunes or copies hypotheses wrongly falls below greedy on
     some of them; 1e-9 absorbs summing the same float logits in another order.) At least one
     picture must have a beam caption strictly better than greedy's, or the check would be
     vacuous. */
Test(caption, beam_search_matches_greedy_and_never_scores_below_it) {
  enum { N = 24, IMAGES = 8 };
  const int A = CAPTION_GRID * CAPTION_GRID;
  static uint8_t pixels[IMAGES * 28 * 28];
  uint8_t label_data[IMAGES];
  uint32_t seed = 11;
  for (int i = 0; i < IMAGES * 28 * 28; i++) pixels[i] = (uint8_t)(tu_xorshift(&seed) & 255);
  for (int k = 0; k < IMAGES; k++) label_data[k] = (uint8_t)k;
  const demo_idx images = {3, {IMAGES, 28, 28, 0}, IMAGES, 28 * 28, pixels};
  const demo_idx labels = {1, {IMAGES, 0, 0, 0}, IMAGES, 1, label_data};
  caption_set s;
  cr_assert(caption_set_make(&images, &labels, N, 2, 3, &s) == 0);
  const int T = s.steps;
  caption_params p;
  cr_assert(caption_params_init(5, &p) == NNCL_OK);
  nncl_graph *g;
  cr_assert(nncl_graph_create(tu_ctx(), &g) == NNCL_OK);
  cr_assert(caption_net_build(g, &p, T, 1) == NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  static int greedy[N * CAPTION_MAX_STEPS], beam[N * CAPTION_MAX_STEPS];
  static float greedy_att[N * CAPTION_MAX_STEPS * 64], beam_att[N * CAPTION_MAX_STEPS * 64];
  cr_assert(A <= 64);
  cr_assert(caption_decode_greedy(g, &s, 0, N, greedy, greedy_att) == NNCL_OK, "%s",
            nncl_context_last_error(tu_ctx()));
  cr_assert(caption_decode_beam(g, &s, 0, N, 1, beam, beam_att) == NNCL_OK, "%s",
            nncl_context_last_error(tu_ctx()));
  for (int i = 0; i < N; i++) {
    const int len = caption_length(greedy + i * T, T);
    cr_assert(caption_length(beam + i * T, T) == len, "picture %d: beam 1 length %d, greedy %d", i,
              caption_length(beam + i * T, T), len);
    for (int t = 0; t < len; t++) {
      cr_assert(beam[i * T + t] == greedy[i * T + t], "picture %d word %d: beam 1 %d, greedy %d", i,
                t, beam[i * T + t], greedy[i * T + t]);
      for (int a = 0; a < A; a++)
        cr_assert(beam_att[(i * T + t) * A + a] == greedy_att[(i * T + t) * A + a],
                  "picture %d word %d cell %d: attention %.9g, greedy %.9g", i, t, a,
                  beam_att[(i * T + t) * A + a], greedy_att[(i * T + t) * A + a]);
    }
  }
  double lp_greedy[N], lp_beam[N];
  caption_log_probs(g, &s, N, greedy, lp_greedy);
  const int widths[] = {2, 3, 5};
  int better = 0;
  for (int w = 0; w < 3; w++) {
    cr_assert(caption_decode_beam(g, &s, 0, N, widths[w], beam, NULL) == NNCL_OK, "%s",
              nncl_context_last_error(tu_ctx()));
    caption_log_probs(g, &s, N, beam, lp_beam);
    int worst = 0;
    for (int i = 1; i < N; i++)
      if (lp_beam[i] - lp_greedy[i] < lp_beam[worst] - lp_greedy[worst]) worst = i;
    cr_assert(lp_beam[worst] >= lp_greedy[worst] - 1e-9,
              "beam %d, worst picture %d: log-probability %.9f below greedy's %.9f", widths[w],
              worst, lp_beam[worst], lp_greedy[worst]);
    for (int i = 0; i < N; i++) better += lp_beam[i] > lp_greedy[i] + 1e-6;
  }
  cr_assert(better > 0, "no beam caption beats greedy's: the check above proves nothing");
  nncl_graph_destroy(g);
  caption_params_free(&p);
  caption_set_free(&s);
}
