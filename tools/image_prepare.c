/* image_prepare.c: resizing and normalising a picture for `nncl classify` (see image_prepare.h). */
#include <math.h>
#include <stddef.h>

#include "image_prepare.h"

/* Bilinear sample of channel c at (x, y) in source pixel coordinates (clamped at the edges). */
static float sample(const uint8_t *src, int w, int h, int channels, int c, float x, float y) {
  x = fminf(fmaxf(x, 0.0f), (float)(w - 1));
  y = fminf(fmaxf(y, 0.0f), (float)(h - 1));
  int x0 = (int)x, y0 = (int)y;
  int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
  float fx = x - (float)x0, fy = y - (float)y0;
#define P(xx, yy) ((float)src[((size_t)(yy) * (size_t)w + (size_t)(xx)) * (size_t)channels + c])
  float top = P(x0, y0) + fx * (P(x1, y0) - P(x0, y0));
  float bottom = P(x0, y1) + fx * (P(x1, y1) - P(x0, y1));
#undef P
  return top + fy * (bottom - top);
}

void image_prepare(const uint8_t *src, int w, int h, int channels, int ow, int oh, image_fit fit,
                   const float *mean, const float *std, float *dst) {
  /* output pixel (i, j) centre maps to source ((j + 0.5) / sx - 0.5 + x_off, ...) */
  float sx = (float)ow / (float)w, sy = (float)oh / (float)h;
  if (fit == IMAGE_FIT_CROP) sx = sy = fmaxf(sx, sy);
  if (fit == IMAGE_FIT_LETTERBOX) sx = sy = fminf(sx, sy);
  float used_w = (float)w * sx, used_h = (float)h * sy; /* the picture's size in the output */
  float left = 0.5f * ((float)ow - used_w), top = 0.5f * ((float)oh - used_h);
  for (int c = 0; c < channels; c++)
    for (int i = 0; i < oh; i++)
      for (int j = 0; j < ow; j++) {
        float ox = (float)j + 0.5f - left, oy = (float)i + 0.5f - top;
        float v;
        if (ox < 0 || oy < 0 || ox > used_w || oy > used_h)
          v = mean[c]; /* letterbox padding: zero after normalisation */
        else
          v = sample(src, w, h, channels, c, ox / sx - 0.5f, oy / sy - 0.5f) / 255.0f;
        dst[((size_t)c * (size_t)oh + (size_t)i) * (size_t)ow + (size_t)j] = (v - mean[c]) / std[c];
      }
}
