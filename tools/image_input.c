/* image_input.c: a model's picture input and the preparation of one picture for it (see
   image_input.h). */
#include "image_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo_eval.h"
#include "demo_prepare.h"

int image_input_of(const nncl_graph *g, const char *cmd, const char *model, image_input *out) {
  nncl_dtype dt = NNCL_UNDEFINED;
  nncl_shape s = {0};
  if (nncl_graph_input_info(g, 0, &dt, &s) != NNCL_OK || s.rank != 4 || dt != NNCL_FLOAT32 ||
      (s.dims[1] >= 0 && s.dims[1] != 1 && s.dims[1] != 3)) {
    char sb[128] = "?";
    if (s.rank >= 0) nncl_shape_format(&s, sb, sizeof sb);
    fprintf(stderr, "nncl %s: %s: input 0 is %s %s, expected float32 [N, 1 or 3, H, W]\n", cmd,
            model, nncl_dtype_name(dt), sb);
    return 1;
  }
  memset(out, 0, sizeof *out);
  out->c = s.dims[1] < 0 ? 3 : (int)s.dims[1];
  out->h = s.dims[2] < 0 ? 224 : (int)s.dims[2];
  out->w = s.dims[3] < 0 ? 224 : (int)s.dims[3];
  out->fashion = out->c == 1 && out->h == 28 && out->w == 28;
  static const float mean3[3] = {0.485f, 0.456f, 0.406f}, std3[3] = {0.229f, 0.224f, 0.225f};
  static const float mean1[3] = {0, 0, 0}, std1[3] = {1, 1, 1};
  memcpy(out->mean, out->c == 3 ? mean3 : mean1, sizeof out->mean);
  memcpy(out->std, out->c == 3 ? std3 : std1, sizeof out->std);
  return 0;
}

int image_input_fill(const image_input *ii, const uint8_t *pixels, int w, int h, int channels,
                     image_fit fit, int invert, float *dst, uint8_t *px28, int *inverted) {
  const uint8_t *src = pixels;
  uint8_t *grey = NULL;
  if (ii->c == 1 && channels == 3) { /* luma (BT.601), the one channel the model takes */
    if (!(grey = malloc((size_t)w * (size_t)h))) return -1;
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
      grey[i] = (uint8_t)((pixels[i * 3] * 299 + pixels[i * 3 + 1] * 587 + pixels[i * 3 + 2] * 114 +
                           500) /
                          1000);
    src = grey;
  }
  if (ii->fashion) {
    uint8_t px[28 * 28];
    int inv = 0;
    demo_prepare_image(src, w, h, invert, px, &inv);
    demo_pixels_to_input(px, sizeof px, dst);
    if (px28) memcpy(px28, px, sizeof px);
    if (inverted) *inverted = inv;
  } else {
    image_prepare(src, w, h, ii->c, ii->w, ii->h, fit, ii->mean, ii->std, dst);
    if (inverted) *inverted = 0;
  }
  free(grey);
  return 0;
}
