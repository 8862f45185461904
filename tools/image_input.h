/* image_input.h: the picture input an image model declares (input 0, float32 [N, C, H, W], C 1 or
   3) and how one picture becomes that input; shared by `nncl classify` and `nncl cam`. */
#ifndef NNCL_IMAGE_INPUT_H
#define NNCL_IMAGE_INPUT_H

#include <stdint.h>

#include "cli.h"
#include "image_prepare.h"

typedef struct image_input {
  int c, h, w;           /* unknown C: 3; unknown H, W: 224 */
  int fashion;           /* 28x28 grey: the demo's Fashion-MNIST treatment */
  float mean[3], std[3]; /* ImageNet's for colour models, 0 / 1 for grey ones */
} image_input;

/* Reads the model's input 0 into *out; prints "nncl CMD: MODEL: input 0 is ..." and returns
   non-zero when it is not a picture input. */
int image_input_of(const nncl_graph *g, const char *cmd, const char *model, image_input *out);

/* One picture (w x h pixels of `channels` bytes, 1 or 3; a colour picture for a grey model is
   turned to luma) into dst, C x H x W floats: the Fashion-MNIST treatment when ii->fashion
   (invert -1 auto, 0 no, 1 yes; px28 gets the 28x28 pixels and *inverted whether they were
   inverted, both may be NULL), else resized by `fit` and normalised with ii's mean and std.
   Returns non-zero when memory runs out. */
int image_input_fill(const image_input *ii, const uint8_t *pixels, int w, int h, int channels,
                     image_fit fit, int invert, float *dst, uint8_t *px28, int *inverted);

#endif
