/* demo_sheet.c: lays out the demo's class-activation-map pictures and writes them as PNG. */
#include "demo_sheet.h"

#include <stdio.h>

#include "demo_image.h"

#define ALPHA 0.5f /* weight of the heat colour over the grey image */

int demo_write_cam_png(const char *path, const demo_tile *t, int zoom) {
  const int side = DEMO_SIDE * zoom, gap = zoom;
  demo_rgb img;
  if (demo_rgb_alloc(&img, 3 * side + 2 * gap, side, 255) != 0) return -1;
  static const uint8_t black[DEMO_SIDE * DEMO_SIDE];
  demo_draw_overlay(&img, 0, 0, t->grey, NULL, DEMO_SIDE, zoom, 0.0f);
  demo_draw_overlay(&img, side + gap, 0, t->grey, t->cam, DEMO_SIDE, zoom, ALPHA);
  demo_draw_overlay(&img, 2 * (side + gap), 0, black, t->cam, DEMO_SIDE, zoom, 1.0f);
  int rc = demo_rgb_write_png(&img, path);
  demo_rgb_free(&img);
  return rc;
}

int demo_write_contact_sheet(const char *path, const demo_tile *tiles, int n, int cols,
                             const char *title) {
  enum { ZOOM = 5, PAD = 10, LINE = 11, TITLE_H = 28 };
  const int tile_w = DEMO_SIDE * ZOOM, tile_h = DEMO_SIDE * ZOOM + 2 * LINE + 6;
  const int rows = (n + cols - 1) / cols;
  const int w = PAD + cols * (tile_w + PAD), h = TITLE_H + rows * (tile_h + PAD);
  static const unsigned char white[3] = {235, 235, 235}, good[3] = {120, 220, 120},
                             bad[3] = {255, 110, 100};
  demo_rgb img;
  if (demo_rgb_alloc(&img, w, h, 30) != 0) return -1;
  demo_draw_text(&img, PAD, 8, title, 2, white);
  for (int i = 0; i < n; i++) {
    const demo_tile *t = &tiles[i];
    int x = PAD + (i % cols) * (tile_w + PAD), y = TITLE_H + (i / cols) * (tile_h + PAD);
    demo_draw_overlay(&img, x, y, t->grey, t->cam, DEMO_SIDE, ZOOM, ALPHA);
    char line[96];
    snprintf(line, sizeof line, "label: %s", t->label);
    demo_draw_text(&img, x, y + DEMO_SIDE * ZOOM + 4, line, 1, white);
    snprintf(line, sizeof line, "pred: %s %.0f%%", t->pred, 100.0 * t->confidence);
    demo_draw_text(&img, x, y + DEMO_SIDE * ZOOM + 4 + LINE, line, 1, t->correct ? good : bad);
  }
  int rc = demo_rgb_write_png(&img, path);
  demo_rgb_free(&img);
  return rc;
}
