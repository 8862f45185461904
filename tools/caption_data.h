/* caption_data.h: the synthetic captioning set of `nncl caption`: two Fashion-MNIST garments at
   full size, side by side or one above the other on a canvas twice their side, with captions such
   as "a sandal left of a shirt", and the rows the captioning network reads. */
#ifndef NNCL_CAPTION_DATA_H
#define NNCL_CAPTION_DATA_H

#include <stdint.h>

#include "demo_idx.h"

/* canvas side in pixels: the garments keep their 28 x 28 pixels (shrunk to 14 x 14 on a 28 x 28
   canvas they lost the detail that tells a shirt from a pullover or a coat) */
#define CAPTION_SIDE 56
#define CAPTION_PIXELS (CAPTION_SIDE * CAPTION_SIDE)
#define CAPTION_ITEM (CAPTION_SIDE / 2) /* a garment's side on the canvas */
#define CAPTION_STEPS 7 /* decoder steps: "a X left of a Y <eos>", shorter captions padded */
#define CAPTION_ROW (CAPTION_PIXELS + 1) /* one row: the canvas and one input token */

/* The vocabulary: the special tokens and words, then the ten garments in label order. */
enum {
  CAPTION_BOS,
  CAPTION_EOS,
  CAPTION_A,
  CAPTION_LEFT,
  CAPTION_OF,
  CAPTION_ABOVE,
  CAPTION_FIRST_CLASS,
  CAPTION_VOCAB = CAPTION_FIRST_CLASS + DEMO_NUM_CLASSES
};

const char *caption_word(int token);

/* n pictures [n, CAPTION_PIXELS] in [0, 1] with their target tokens [n, CAPTION_STEPS] (ending in
   <eos>, padded with <eos>). */
typedef struct caption_set {
  int n;
  float *pixels;
  int *tokens;
} caption_set;

/* Makes n pictures from the images (drawn without replacement within each picture, from a
   splitmix64 stream started at seed): garments named in reading order ("a X left of a Y" for a
   pair side by side at a random height, "a X above a Y" for a pair one above the other at a
   random column). Returns 0, or -1 when out of memory or there are fewer than two images. */
int caption_set_make(const demo_idx *images, const demo_idx *labels, int n, uint64_t seed,
                     caption_set *out);
void caption_set_free(caption_set *s);

/* Caption length before its first <eos>. */
int caption_length(const int *tokens);
/* Writes the caption's words (before <eos>) into buf, space separated. */
void caption_format(const int *tokens, char *buf, int buf_len);

/* Rows [count * CAPTION_STEPS, CAPTION_ROW] for pictures first .. first + count - 1: row (i, t)
   holds picture i and the decoder's input at step t: <bos> then the first t tokens of `inputs`
   (the targets when teaching, the decoded words when captioning). */
void caption_rows(const caption_set *s, const int *inputs, int first, int count, float *rows);

#endif
