/* demo_cam.h: class activation maps (Zhou et al., "Learning Deep Features for Discriminative
   Localization") computed on the device by nncl ops added to a CNN's graph. */
#ifndef NNCL_DEMO_CAM_H
#define NNCL_DEMO_CAM_H

#include "nncl/nncl.h"

/* Added to the range before the min-max normalisation divides by it, so that a map that ReLU
   flattened to zeros stays zero instead of becoming 0/0. */
#define DEMO_CAM_EPS 1e-6f

/* Adds nodes to g that turn the last conv block's feature maps `features` [N, C, h, w] and the
   linear layer's weights `fc_weight` [K, C] (both values of g) into one map per class:
     cam[n, k] = resize_linear(normalise(relu(sum_c fc_weight[k, c] * features[n, c])))
   where normalise(x) = (x - min x) / (max x - min x + DEMO_CAM_EPS) over each h x w map and the
   resize is ONNX Resize (mode linear, half_pixel) by `scale` in both spatial dims. The result
   [N, K, h * scale, w * scale] is the graph output `out_name`, appended after g's outputs.
   Node and value names are prefixed with "cam/". */
nncl_status demo_cam_add(nncl_graph *g, const char *features, const char *fc_weight, float scale,
                         const char *out_name);

#endif
