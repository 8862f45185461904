/* demo_prepare.c: fits arbitrary grey pictures to the models' 28x28 input the way the data set's
   images were made: object centred on a square, background black. */
#include "demo_prepare.h"

#define SIDE 28

static double border_mean(const uint8_t *src, int w, int h) {
  double sum = 0.0;
  long n = 0;
  for (int x = 0; x < w; x++) {
    sum += src[x] + src[(long)(h - 1) * w + x];
    n += 2;
  }
  for (int y = 1; y < h - 1; y++) {
    sum += src[(long)y * w] + src[(long)y * w + w - 1];
    n += 2;
  }
  return n ? sum / (double)n : 0.0;
}

void demo_prepare_image(const uint8_t *src, int w, int h, int invert, uint8_t out[SIDE * SIDE],
                        int *inverted) {
  const double bg = border_mean(src, w, h);
  const int side = w > h ? w : h, ox = (side - w) / 2, oy = (side - h) / 2;
  if (invert < 0) invert = bg > 127.5;
  for (int r = 0; r < SIDE; r++)
    for (int c = 0; c < SIDE; c++) {
      /* The box of the padded square that maps onto output pixel (r, c); at least one pixel. */
      long y0 = (long)r * side / SIDE, y1 = (long)(r + 1) * side / SIDE;
      long x0 = (long)c * side / SIDE, x1 = (long)(c + 1) * side / SIDE;
      if (y1 <= y0) y1 = y0 + 1;
      if (x1 <= x0) x1 = x0 + 1;
      double sum = 0.0;
      for (long y = y0; y < y1; y++)
        for (long x = x0; x < x1; x++) {
          long sy = y - oy, sx = x - ox;
          sum += sy >= 0 && sy < h && sx >= 0 && sx < w ? src[sy * w + sx] : bg;
        }
      double v = sum / (double)((y1 - y0) * (x1 - x0));
      if (invert) v = 255.0 - v;
      out[r * SIDE + c] = (uint8_t)(v + 0.5);
    }
  if (inverted) *inverted = invert;
}
