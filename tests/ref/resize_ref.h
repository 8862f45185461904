/* resize_ref.h: naive C references for Resize/Upsample and DepthToSpace/SpaceToDepth, written
   like the ONNX reference implementation (nested 1-D interpolation over every axis, neighbours
   taken from an edge-padded copy), for tests/test_resize.c. */
#ifndef NNCL_RESIZE_REF_H
#define NNCL_RESIZE_REF_H

#include <stdint.h>

enum resize_ref_mode { RREF_NEAREST, RREF_LINEAR, RREF_CUBIC };
/* Same order as the ONNX attribute names: half_pixel, asymmetric, align_corners,
   pytorch_half_pixel, tf_half_pixel_for_nn, tf_crop_and_resize. */
enum resize_ref_coord {
  RREF_HALF_PIXEL,
  RREF_ASYMMETRIC,
  RREF_ALIGN_CORNERS,
  RREF_PYTORCH_HALF_PIXEL,
  RREF_TF_HALF_PIXEL_NN,
  RREF_TF_CROP
};
/* round_prefer_floor, round_prefer_ceil, floor, ceil, and opset-10/Upsample's rule (floor when
   upsampling, ceil when downsampling, as onnxruntime does). */
enum resize_ref_round { RREF_PREFER_FLOOR, RREF_PREFER_CEIL, RREF_FLOOR, RREF_CEIL, RREF_SIMPLE };

struct resize_ref {
  int rank;
  int64_t in[4], out[4];
  double scale[4];  /* as the op sees it: the scales input, or out/in when sizes are given */
  const float *roi; /* 2*rank values for tf_crop_and_resize, else NULL */
  enum resize_ref_mode mode;
  enum resize_ref_coord coord;
  enum resize_ref_round round;
  double cubic_a, extrapolation;
  int exclude_outside;
};

void resize_ref_run(const struct resize_ref *r, const float *x, float *y);
/* DepthToSpace (crd: CRD mode, else DCR) of [n, c, h, w] with block b. */
void resize_ref_depth_to_space(const float *x, int64_t n, int64_t c, int64_t h, int64_t w,
                               int64_t b, int crd, float *y);
/* SpaceToDepth of [n, c, h, w] with block b. */
void resize_ref_space_to_depth(const float *x, int64_t n, int64_t c, int64_t h, int64_t w,
                               int64_t b, float *y);

#endif
