/* style_picture.c: reading, resizing and writing the pictures of `nncl style` (style_picture.h). */
#include "style_picture.h"

#include <stb/stb_image.h>
#include <stdio.h>
#include <stdlib.h>

#include "demo_image.h"

int style_picture_size(const char *path, int *w, int *h) {
  int comp;
  if (!stbi_info(path, w, h, &comp)) {
    fprintf(stderr, "nncl style: cannot read %s: %s\n", path, stbi_failure_reason());
    return -1;
  }
  return 0;
}

int style_picture_load(const char *path, const style_norm *n, int ow, int oh, image_fit fit,
                       nncl_array *out) {
  int w, h, got;
  unsigned char *px = stbi_load(path, &w, &h, &got, n->channels);
  if (!px) {
    fprintf(stderr, "nncl style: cannot read %s: %s\n", path, stbi_failure_reason());
    return -1;
  }
  const nncl_shape s = {4, {1, n->channels, oh, ow}};
  if (nncl_array_alloc(out, NNCL_FLOAT32, &s) != NNCL_OK) {
    stbi_image_free(px);
    fprintf(stderr, "nncl style: out of memory for %s\n", path);
    return -1;
  }
  image_prepare(px, w, h, n->channels, ow, oh, fit, n->mean, n->std, out->data);
  stbi_image_free(px);
  return 0;
}

static unsigned char to_byte(float v) {
  float p = 255.0f * v + 0.5f;
  return (unsigned char)(p < 0.0f ? 0.0f : p > 255.0f ? 255.0f : p);
}

int style_picture_save(const char *path, const style_norm *n, const nncl_array *x) {
  const int c = (int)x->shape.dims[1], h = (int)x->shape.dims[2], w = (int)x->shape.dims[3];
  const size_t hw = (size_t)w * (size_t)h;
  const float *v = x->data;
  demo_rgb img;
  if (demo_rgb_alloc(&img, w, h, 0) != 0) return -1;
  for (size_t i = 0; i < hw; i++)
    for (int k = 0; k < 3; k++) {
      const int ch = c == 1 ? 0 : k; /* grey pictures: the one channel in all three */
      img.px[i * 3 + k] = to_byte(v[(size_t)ch * hw + i] * n->std[ch] + n->mean[ch]);
    }
  int rc = demo_rgb_write_png(&img, path);
  demo_rgb_free(&img);
  if (rc != 0) fprintf(stderr, "nncl style: cannot write %s\n", path);
  return rc;
}
