/* demo_image.c: RGB image buffers, the heat-map colour scale, the grey + heat-map overlay and PNG
   output for the demo's class activation maps. */
#include "demo_image.h"

#include <stb/stb_image_write.h>
#include <stdlib.h>
#include <string.h>

int demo_rgb_alloc(demo_rgb *img, int w, int h, unsigned char fill) {
  img->w = w;
  img->h = h;
  img->px = malloc((size_t)w * (size_t)h * 3);
  if (!img->px) return -1;
  memset(img->px, fill, (size_t)w * (size_t)h * 3);
  return 0;
}

void demo_rgb_free(demo_rgb *img) {
  free(img->px);
  img->px = NULL;
  img->w = img->h = 0;
}

int demo_rgb_write_png(const demo_rgb *img, const char *path) {
  return stbi_write_png(path, img->w, img->h, 3, img->px, img->w * 3) ? 0 : -1;
}

static float clamp01(float v) { return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; }
static float absf(float v) { return v < 0.0f ? -v : v; }

void demo_heat_colour(float t, unsigned char rgb[3]) {
  t = clamp01(t);
  rgb[0] = (unsigned char)(255.0f * clamp01(1.5f - absf(4.0f * t - 3.0f)) + 0.5f);
  rgb[1] = (unsigned char)(255.0f * clamp01(1.5f - absf(4.0f * t - 2.0f)) + 0.5f);
  rgb[2] = (unsigned char)(255.0f * clamp01(1.5f - absf(4.0f * t - 1.0f)) + 0.5f);
}

void demo_draw_overlay(demo_rgb *dst, int x, int y, const uint8_t *grey, const float *cam, int side,
                       int zoom, float alpha) {
  for (int r = 0; r < side; r++)
    for (int c = 0; c < side; c++) {
      float g = grey[r * side + c];
      unsigned char out[3] = {(unsigned char)g, (unsigned char)g, (unsigned char)g};
      if (cam) {
        unsigned char heat[3];
        demo_heat_colour(cam[r * side + c], heat);
        for (int k = 0; k < 3; k++)
          out[k] = (unsigned char)((1.0f - alpha) * g + alpha * heat[k] + 0.5f);
      }
      for (int dy = 0; dy < zoom; dy++) {
        int py = y + r * zoom + dy;
        if (py < 0 || py >= dst->h) continue;
        for (int dx = 0; dx < zoom; dx++) {
          int pxl = x + c * zoom + dx;
          if (pxl < 0 || pxl >= dst->w) continue;
          memcpy(dst->px + ((size_t)py * (size_t)dst->w + (size_t)pxl) * 3, out, 3);
        }
      }
    }
}
