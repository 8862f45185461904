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
/* decoder steps: 7 for two garments ("a X left of a Y <eos>", shorter captions padded), 10 for
   three ("a X left of a Y above a Z <eos>") */
#define CAPTION_MAX_STEPS 10
#define CAPTION_ROW (CAPTION_PIXELS + 1) /* one row: the canvas and one input token */

/* The vocabulary: the special tokens and words, then the ten garments in label order. */
enum {
  CAPTION_BOS,
  CAPTION_EOS,
  CAPTION_A,
  CAPTION_LEFT,
  CAPTION_OF,
  CAPTION_ABOVE,
  CAPTION_RIGHT,
  CAPTION_FIRST_CLASS,
  CAPTION_VOCAB = CAPTION_FIRST_CLASS + DEMO_NUM_CLASSES
};

const char *caption_word(int token);

/* n pictures [n, CAPTION_PIXELS] in [0, 1] of `garments` garments with their target tokens
   [n, steps] (ending in <eos>, padded with <eos>). */
typedef struct caption_set {
  int n, garments, steps;
  float *pixels;
  int *tokens;
} caption_set;

/* Decoder steps of the captions of `garments` (2 or 3) garments. */
int caption_steps(int garments);

/* Makes n pictures from the images (drawn without replacement within each picture, from a
   splitmix64 stream started at seed).
   Two garments: named in reading order ("a X left of a Y" for a pair side by side at a random
   height, "a X above a Y" for a pair one above the other at a random column).
   Three garments: three of the canvas's four quadrants hold one each (the empty one drawn at
   random), an L whose corner garment touches the other two; the caption walks the L from the end
   that comes first in reading order through the corner to the other end, naming each step's
   relation: "left of" or "right of" along a row, "above" down a column ("a X right of a Y above a
   Z": X top right, Y top left, Z bottom left). Four layouts, one caption shape each, 9 words.
   Returns 0, or -1 when out of memory, garments is not 2 or 3 or there are fewer images than
   garments. */
int caption_set_make(const demo_idx *images, const demo_idx *labels, int n, int garments,
                     uint64_t seed, caption_set *out);
void caption_set_free(caption_set *s);

/* Length of a caption of `steps` tokens before its first <eos>. */
int caption_length(const int *tokens, int steps);
/* Writes the caption's words (before <eos>) into buf, space separated. */
void caption_format(const int *tokens, int steps, char *buf, int buf_len);

/* Rows [count * s->steps, CAPTION_ROW] for pictures first .. first + count - 1: row (i, t)
   holds picture i and the decoder's input at step t: <bos> then the first t tokens of `inputs`
   (the targets when teaching, the decoded words when captioning). */
void caption_rows(const caption_set *s, const int *inputs, int first, int count, float *rows);

#endif
