/* caption_picture.c: PNG of a captioned picture with attention maps (see caption_picture.h). */
#include "caption_picture.h"

#include <stdio.h>

#include "caption_data.h"
#include "caption_net.h"
#include "demo_image.h"

#define ZOOM (112 / CAPTION_SIDE) /* panels of 112 x 112 pixels */
#define PANEL (CAPTION_SIDE * ZOOM)
#define GAP 6
#define TEXT_H 14
#define CELL (CAPTION_SIDE / CAPTION_GRID) /* picture pixels per grid cell */

/* The 7 x 7 weights resized to the picture (bilinear, half-pixel centres) and scaled to [0, 1] by
   their maximum, so a peaked map and a flat one are told apart by colour. */
static void upsample(const float *a, float *out) {
  float top = 0;
  for (int k = 0; k < CAPTION_GRID * CAPTION_GRID; k++) top = a[k] > top ? a[k] : top;
  for (int r = 0; r < CAPTION_SIDE; r++)
    for (int c = 0; c < CAPTION_SIDE; c++) {
      float y = (r + 0.5f) / CELL - 0.5f, x = (c + 0.5f) / CELL - 0.5f;
      y = y < 0 ? 0 : y > CAPTION_GRID - 1 ? CAPTION_GRID - 1 : y;
      x = x < 0 ? 0 : x > CAPTION_GRID - 1 ? CAPTION_GRID - 1 : x;
      const int y0 = (int)y, x0 = (int)x;
      const int y1 = y0 + 1 < CAPTION_GRID ? y0 + 1 : y0, x1 = x0 + 1 < CAPTION_GRID ? x0 + 1 : x0;
      const float fy = y - y0, fx = x - x0;
      const float v =
          (1 - fy) * ((1 - fx) * a[y0 * CAPTION_GRID + x0] + fx * a[y0 * CAPTION_GRID + x1]) +
          fy * ((1 - fx) * a[y1 * CAPTION_GRID + x0] + fx * a[y1 * CAPTION_GRID + x1]);
      out[r * CAPTION_SIDE + c] = top > 0 ? v / top : 0;
    }
}

int caption_picture_write(const char *path, const float *pixels, const int *tokens, int steps,
                          const float *attention, const char *title) {
  const int words = caption_length(tokens, steps);
  const unsigned char ink[3] = {255, 255, 255};
  demo_rgb img;
  if (demo_rgb_alloc(&img, (words + 1) * (PANEL + GAP) + GAP, PANEL + 2 * TEXT_H + 2 * GAP, 32) !=
      0) {
    fprintf(stderr, "nncl caption: out of memory for %s\n", path);
    return -1;
  }
  uint8_t grey[CAPTION_PIXELS];
  for (int k = 0; k < CAPTION_PIXELS; k++) grey[k] = (uint8_t)(pixels[k] * 255.0f + 0.5f);
  demo_draw_text(&img, GAP, GAP / 2, title, 1, ink);
  const int y = TEXT_H + GAP;
  demo_draw_overlay(&img, GAP, y, grey, NULL, CAPTION_SIDE, ZOOM, 0.0f);
  float map[CAPTION_PIXELS];
  for (int w = 0; w < words; w++) {
    const int x = GAP + (w + 1) * (PANEL + GAP);
    upsample(attention + (size_t)w * CAPTION_GRID * CAPTION_GRID, map);
    demo_draw_overlay(&img, x, y, grey, map, CAPTION_SIDE, ZOOM, 0.5f);
    const char *word = caption_word(tokens[w]);
    demo_draw_text(&img, x + (PANEL - demo_text_width(word, 1)) / 2, y + PANEL + 2, word, 1, ink);
  }
  const int rc = demo_rgb_write_png(&img, path);
  if (rc != 0) fprintf(stderr, "nncl caption: cannot write %s\n", path);
  demo_rgb_free(&img);
  return rc;
}
