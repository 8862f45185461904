/* demo_image.h: small RGB images for the demo's pictures: class-activation-map overlays, text and
   PNG output. */
#ifndef NNCL_DEMO_IMAGE_H
#define NNCL_DEMO_IMAGE_H

#include <stdint.h>

typedef struct demo_rgb {
  int w, h;
  unsigned char *px; /* w * h * 3 bytes, rows top to bottom */
} demo_rgb;

/* Allocates a w x h image filled with grey level `fill`; returns 0, or -1 when out of memory. */
int demo_rgb_alloc(demo_rgb *img, int w, int h, unsigned char fill);
void demo_rgb_free(demo_rgb *img);
/* Writes img as a PNG file (stb_image_write); returns 0 or -1. */
int demo_rgb_write_png(const demo_rgb *img, const char *path);

/* Colour of t in [0, 1] on a blue-cyan-yellow-red ("jet") scale. */
void demo_heat_colour(float t, unsigned char rgb[3]);
/* Draws the side x side grey image at (x, y) in dst, each pixel a zoom x zoom block; with cam
   (side x side values in [0, 1], may be NULL) the heat colour of the map is blended over the grey
   with weight alpha. Pixels outside dst are clipped. */
void demo_draw_overlay(demo_rgb *dst, int x, int y, const uint8_t *grey, const float *cam, int side,
                       int zoom, float alpha);

/* Draws text (ASCII) with its top-left corner at (x, y), glyphs `scale` pixels per font unit
   (stb_easy_font: about 6 units per character, 7 per line). Returns the text's width in pixels. */
int demo_draw_text(demo_rgb *dst, int x, int y, const char *text, int scale,
                   const unsigned char rgb[3]);
/* Width in pixels that demo_draw_text would draw. */
int demo_text_width(const char *text, int scale);

#endif
