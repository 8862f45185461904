/* image_prepare.h: turns a picture of any size into one NCHW float image for a classifier:
   resize (centre-crop, letterbox or stretch), then (pixel / 255 - mean) / std per channel. */
#ifndef NNCL_IMAGE_PREPARE_H
#define NNCL_IMAGE_PREPARE_H

#include <stdint.h>

typedef enum image_fit {
  IMAGE_FIT_CROP,      /* scale the shorter side to fit, cut the centre (ImageNet evaluation) */
  IMAGE_FIT_LETTERBOX, /* scale the longer side to fit, pad the rest with the mean colour */
  IMAGE_FIT_STRETCH    /* scale each side to fit, ignoring the aspect ratio */
} image_fit;

/* src: w x h pixels of `channels` bytes each (channels = the model's C, 1 or 3). dst: C x oh x ow
   floats. Bilinear sampling. */
void image_prepare(const uint8_t *src, int w, int h, int channels, int ow, int oh, image_fit fit,
                   const float *mean, const float *std, float *dst);

#endif
