/* demo_text.c: text in the demo's pictures, through stb_easy_font (header-only, so it is included in
   this one file): the font yields quads, which are filled here at an integer scale. */
#include <stdio.h>
#include <string.h>

#include "demo_image.h"

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#include <stb/stb_easy_font.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

int demo_text_width(const char *text, int scale) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", text);
  return stb_easy_font_width(buf) * scale;
}

int demo_draw_text(demo_rgb *dst, int x, int y, const char *text, int scale,
                   const unsigned char rgb[3]) {
  /* One quad is 4 vertices of 16 bytes; 270 bytes of vertices per character is the font's bound. */
  static char quads[256 * 270];
  char buf[256];
  unsigned char colour[4] = {255, 255, 255, 255};
  snprintf(buf, sizeof buf, "%s", text);
  int n = stb_easy_font_print(0.0f, 0.0f, buf, colour, quads, (int)sizeof quads);
  for (int q = 0; q < n; q++) {
    float v[4][4];
    memcpy(v, quads + (size_t)q * 64, sizeof v);
    int x0 = x + (int)(v[0][0] * (float)scale), y0 = y + (int)(v[0][1] * (float)scale);
    int x1 = x + (int)(v[2][0] * (float)scale), y1 = y + (int)(v[2][1] * (float)scale);
    for (int py = y0 < 0 ? 0 : y0; py < y1 && py < dst->h; py++)
      for (int px = x0 < 0 ? 0 : x0; px < x1 && px < dst->w; px++)
        memcpy(dst->px + ((size_t)py * (size_t)dst->w + (size_t)px) * 3, rgb, 3);
  }
  return demo_text_width(text, scale);
}
