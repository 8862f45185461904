/* caption_data.c: the synthetic captioning set (see caption_data.h). */
#include "caption_data.h"

#include <stdlib.h>
#include <string.h>

#include <stdio.h>

/* One word per garment, so that every caption has the same shape. */
static const char *const words[CAPTION_VOCAB] = {
    "<bos>",    "<eos>", "a",    "left",   "of",    "above",   "t-shirt", "trouser",
    "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",     "boot"};

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

int caption_set_make(const demo_idx *images, const demo_idx *labels, int n, uint64_t seed,
                     caption_set *out) {
  memset(out, 0, sizeof *out);
  if (images->count < 2 || labels->count != images->count) return -1; /* two different images */
  out->pixels = calloc((size_t)n * CAPTION_PIXELS, sizeof *out->pixels);
  out->tokens = malloc((size_t)n * CAPTION_STEPS * sizeof *out->tokens);
  if (!out->pixels || !out->tokens) {
    caption_set_free(out);
    return -1;
  }
  out->n = n;
  uint64_t state = seed;
  const int count = (int)images->count, room = CAPTION_SIDE - CAPTION_ITEM;
  for (int i = 0; i < n; i++) {
    const size_t first = (size_t)below(&state, count);
    size_t second = (size_t)below(&state, count - 1);
    second += second >= first; /* two different images */
    const int beside = below(&state, 2), at = below(&state, room + 1);
    float *canvas = out->pixels + (size_t)i * CAPTION_PIXELS;
    if (beside) {
      draw_item(images, first, 0, at, canvas);
      draw_item(images, second, CAPTION_ITEM, at, canvas);
    } else {
      draw_item(images, first, at, 0, canvas);
      draw_item(images, second, at, CAPTION_ITEM, canvas);
    }
    int *t = out->tokens + (size_t)i * CAPTION_STEPS, k = 0;
    t[k++] = CAPTION_A;
    t[k++] = CAPTION_FIRST_CLASS + labels->data[first];
    t[k++] = beside ? CAPTION_LEFT : CAPTION_ABOVE;
    if (beside) t[k++] = CAPTION_OF;
    t[k++] = CAPTION_A;
    t[k++] = CAPTION_FIRST_CLASS + labels->data[second];
    while (k < CAPTION_STEPS) t[k++] = CAPTION_EOS;
  }
  return 0;
}

void caption_set_free(caption_set *s) {
  free(s->pixels);
  free(s->tokens);
  memset(s, 0, sizeof *s);
}

int caption_length(const int *tokens) {
  int k = 0;
  while (k < CAPTION_STEPS && tokens[k] != CAPTION_EOS) k++;
  return k;
}

void caption_format(const int *tokens, char *buf, int buf_len) {
  int used = 0;
  buf[0] = '\0';
  for (int k = 0; k < caption_length(tokens) && used < buf_len; k++)
    used += snprintf(buf + used, (size_t)(buf_len - used), "%s%s", k ? " " : "",
                     caption_word(tokens[k]));
}

void caption_rows(const caption_set *s, const int *inputs, int first, int count, float *rows) {
  for (int i = 0; i < count; i++)
    for (int t = 0; t < CAPTION_STEPS; t++) {
      float *row = rows + ((size_t)i * CAPTION_STEPS + t) * CAPTION_ROW;
      memcpy(row, s->pixels + (size_t)(first + i) * CAPTION_PIXELS, CAPTION_PIXELS * sizeof *row);
      row[CAPTION_PIXELS] =
          (float)(t == 0 ? CAPTION_BOS : inputs[(size_t)(first + i) * CAPTION_STEPS + t - 1]);
    }
}
