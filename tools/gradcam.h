/* gradcam.h: Grad-CAM (Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
   Gradient-based Localization") for any CNN graph, the gradient taken by the library's autodiff. */
#ifndef NNCL_GRADCAM_H
#define NNCL_GRADCAM_H

#include "nncl/nncl.h"

typedef struct gradcam_map {
  int klass;   /* the class explained */
  float score; /* its logit */
  int h, w;    /* the layer's spatial size */
  float *cam;  /* h * w values, ReLU(sum_c w_c * A_c), not normalised; free() */
} gradcam_map;

/* Runs g (input 0 = `input` [1, C, H, W], output 0 the scores [1, K]) and computes the Grad-CAM of
   class `klass` (< 0: the top class) at value `layer` [1, C', h, w]: w_c = the spatial mean of
   d score / d A_c, cam = ReLU(sum_c w_c * A_c). g is changed: a one-hot Mul ("gradcam/score"),
   the backward pass (nncl_graph_add_gradients) and outputs `layer` and "gradcam/grad" are added.
   Errors name the layer (an unknown one lists the values of the graph's nodes) or the class. */
nncl_status gradcam_compute(nncl_graph *g, const char *layer, const nncl_array *input, int klass,
                            gradcam_map *out);

/* Min-max normalises the h x w map into [0, 1] as the demo's CAM does ((x - min) / (max - min +
   DEMO_CAM_EPS)) and resizes it bilinearly (half-pixel centres, as ONNX Resize linear) to
   oh x ow into dst. */
void gradcam_resize(const float *cam, int h, int w, float *dst, int oh, int ow);

#endif
