/* style_picture.h: the pictures of `nncl style`: PNG/JPEG files to the network's normalised NCHW
   floats (resized as classify resizes) and back to PNG. */
#ifndef NNCL_STYLE_PICTURE_H
#define NNCL_STYLE_PICTURE_H

#include "image_prepare.h"
#include "nncl/nncl.h"

/* How pixels in [0, 1] map to the network's input: (p - mean[c]) / std[c]. */
typedef struct style_norm {
  int channels; /* 1 or 3 */
  float mean[3], std[3];
} style_norm;

/* Reads `path` and fills out [1, C, oh, ow] (allocated here). Returns 0, or -1 after printing why
   on stderr (the file cannot be read, out of memory). */
int style_picture_load(const char *path, const style_norm *n, int ow, int oh, image_fit fit,
                       nncl_array *out);
/* Width and height of the picture at `path` (0 and -1 on failure, said on stderr). */
int style_picture_size(const char *path, int *w, int *h);
/* Writes x [1, C, H, W] (normalised as n says) as a PNG, pixels clamped to [0, 255]. 0 or -1. */
int style_picture_save(const char *path, const style_norm *n, const nncl_array *x);

#endif
