/* caption_data.c: the synthetic captioning set (see caption_data.h). */
#include "caption_data.h"

#include <stdlib.h>
#include <string.h>

#include <stdio.h>

/* One word per garment, so that every caption has the same shape. */
static const char *const words[CAPTION_VOCAB] = {
    "<bos>",    "<eos>", "a",    "left",   "of",    "above",   "right", "t-shirt", "trouser",
    "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",   "boot"};

const char *caption_word(int token) {
  return token >= 0 && token < CAPTION_VOCAB ? words[token] : "?";
}

/* splitmix64: the same pictures on every machine for a seed */
static uint64_t next_u64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static int below(uint64_t *state, int n) { return (int)(next_u64(state) % (uint64_t)n); }

/* Draws 28 x 28 image k at CAPTION_ITEM x CAPTION_ITEM (means of ZOOM_OUT x ZOOM_OUT pixels) with
   its top-left corner at (x, y) of the canvas. */
#define ZOOM_OUT (28 / CAPTION_ITEM)
static void draw_item(const demo_idx *images, size_t k, int x, int y, float *canvas) {
  const uint8_t *src = images->data + k * images->item_size;
  for (int r = 0; r < CAPTION_ITEM; r++)
    for (int c = 0; c < CAPTION_ITEM; c++) {
      int s = 0;
      for (int dr = 0; dr < ZOOM_OUT; dr++)
        for (int dc = 0; dc < ZOOM_OUT; dc++)
          s += src[(ZOOM_OUT * r + dr) * 28 + ZOOM_OUT * c + dc];
      canvas[(y + r) * CAPTION_SIDE + x + c] = (float)s / (ZOOM_OUT * ZOOM_OUT * 255.0f);
    }
}

int caption_steps(int garments) { return garments == 3 ? 10 : 7; }

/* Two garments side by side or stacked at a random offset; returns the caption's tokens. */
static void make_pair(const demo_idx *images, const demo_idx *labels, uint64_t *state,
                      float *canvas, int *t) {
  const int count = (int)images->count, room = CAPTION_SIDE - CAPTION_ITEM;
  const size_t first = (size_t)below(state, count);
  size_t second = (size_t)below(state, count - 1);
  second += second >= first; /* two different images */
  const int beside = below(state, 2), at = below(state, room + 1);
  if (beside) {
    draw_item(images, first, 0, at, canvas);
    draw_item(images, second, CAPTION_ITEM, at, canvas);
  } else {
    draw_item(images, first, at, 0, canvas);
    draw_item(images, second, at, CAPTION_ITEM, canvas);
  }
  int k = 0;
  t[k++] = CAPTION_A;
  t[k++] = CAPTION_FIRST_CLASS + labels->data[first];
  t[k++] = beside ? CAPTION_LEFT : CAPTION_ABOVE;
  if (beside) t[k++] = CAPTION_OF;
  t[k++] = CAPTION_A;
  t[k++] = CAPTION_FIRST_CLASS + labels->data[second];
  while (k < caption_steps(2)) t[k++] = CAPTION_EOS;
}

/* The L's walk per empty quadrant (0 top left, 1 top right, 2 bottom left, 3 bottom right): the
   reading-first end, the corner, the other end. */
static const int walk[4][3] = {{1, 3, 2}, {0, 2, 3}, {0, 1, 3}, {1, 0, 2}};

/* Three garments in three quadrants; returns the caption's tokens. */
static void make_triple(const demo_idx *images, const demo_idx *labels, uint64_t *state,
                        float *canvas, int *t) {
  const int count = (int)images->count;
  size_t img[3], taken[3];      /* taken: img[0 .. g - 1] in increasing order */
  for (int g = 0; g < 3; g++) { /* three different images: the k-th of those not taken */
    size_t k = (size_t)below(state, count - g);
    for (int q = 0; q < g; q++) k += k >= taken[q];
    img[g] = k;
    int q = g;
    for (; q > 0 && taken[q - 1] > k; q--) taken[q] = taken[q - 1];
    taken[q] = k;
  }
  const int empty = below(state, 4);
  int k = 0;
  for (int g = 0; g < 3; g++) {
    const int q = walk[empty][g];
    draw_item(images, img[g], (q % 2) * CAPTION_ITEM, (q / 2) * CAPTION_ITEM, canvas);
    if (g) { /* the relation of garment g - 1 to garment g */
      const int p = walk[empty][g - 1];
      t[k++] = p / 2 != q / 2 ? CAPTION_ABOVE : p % 2 < q % 2 ? CAPTION_LEFT : CAPTION_RIGHT;
      if (p / 2 == q / 2) t[k++] = CAPTION_OF;
    }
    t[k++] = CAPTION_A;
    t[k++] = CAPTION_FIRST_CLASS + labels->data[img[g]];
  }
  while (k < caption_steps(3)) t[k++] = CAPTION_EOS;
}

int caption_set_make(const demo_idx *images, const demo_idx *labels, int n, int garments,
                     uint64_t seed, caption_set *out) {
  memset(out, 0, sizeof *out);
  if ((garments != 2 && garments != 3) || images->count < (size_t)garments ||
      labels->count != images->count)
    return -1;
  const int steps = caption_steps(garments);
  out->pixels = calloc((size_t)n * CAPTION_PIXELS, sizeof *out->pixels);
  out->tokens = malloc((size_t)n * steps * sizeof *out->tokens);
  if (!out->pixels || !out->tokens) {
    caption_set_free(out);
    return -1;
  }
  out->n = n;
  out->garments = garments;
  out->steps = steps;
  uint64_t state = seed;
  for (int i = 0; i < n; i++) {
    float *canvas = out->pixels + (size_t)i * CAPTION_PIXELS;
    int *t = out->tokens + (size_t)i * steps;
    if (garments == 2)
      make_pair(images, labels, &state, canvas, t);
    else
      make_triple(images, labels, &state, canvas, t);
  }
  return 0;
}

void caption_set_free(caption_set *s) {
  free(s->pixels);
  free(s->tokens);
  memset(s, 0, sizeof *s);
}

int caption_length(const int *tokens, int steps) {
  int k = 0;
  while (k < steps && tokens[k] != CAPTION_EOS) k++;
  return k;
}

void caption_format(const int *tokens, int steps, char *buf, int buf_len) {
  int used = 0;
  buf[0] = '\0';
  for (int k = 0; k < caption_length(tokens, steps) && used < buf_len; k++)
    used += snprintf(buf + used, (size_t)(buf_len - used), "%s%s", k ? " " : "",
                     caption_word(tokens[k]));
}

void caption_rows(const caption_set *s, const int *inputs, int first, int count, float *rows) {
  const int steps = s->steps;
  for (int i = 0; i < count; i++)
    for (int t = 0; t < steps; t++) {
      float *row = rows + ((size_t)i * steps + t) * CAPTION_ROW;
      memcpy(row, s->pixels + (size_t)(first + i) * CAPTION_PIXELS, CAPTION_PIXELS * sizeof *row);
      row[CAPTION_PIXELS] =
          (float)(t == 0 ? CAPTION_BOS : inputs[(size_t)(first + i) * steps + t - 1]);
    }
}
