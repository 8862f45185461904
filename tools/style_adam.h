/* style_adam.h: Adam over the picture of `nncl style`, as element-wise nodes appended to the loss
   graph, so that one run of the graph gives the loss, the gradient and the updated picture with
   its moments, all on the device, and the picture stays in its valid range. */
#ifndef NNCL_STYLE_ADAM_H
#define NNCL_STYLE_ADAM_H

#include "nncl/nncl.h"

#define STYLE_ADAM_M "adam/m" /* inputs: first and second moments, shaped as the picture */
#define STYLE_ADAM_V "adam/v"
#define STYLE_ADAM_BC1 "adam/bc1"              /* input [1]: 1 / (1 - beta1^t) */
#define STYLE_ADAM_BC2 "adam/bc2"              /* input [1]: 1 / sqrt(1 - beta2^t) */
#define STYLE_ADAM_IMAGE_OUT "adam/image_next" /* outputs: the next picture and moments */
#define STYLE_ADAM_M_OUT "adam/m_next"
#define STYLE_ADAM_V_OUT "adam/v_next"

typedef struct style_adam_spec {
  const char *image, *grad; /* the picture (graph input) and its gradient (a value) */
  int channels;
  const float *lr, *lo, *hi; /* per channel: step size and the picture's valid range */
  double beta1, beta2, eps;  /* doubles, as PyTorch's hyper-parameters: 1 - beta2 is rounded once */
} style_adam_spec;

/* Appends PyTorch's Adam step (torch.optim.Adam, no weight decay):
     m' = m + (1 - beta1)(g - m),  v' = beta2 v + (1 - beta2) g^2,
     x' = clamp(x - lr bc1 m' / (sqrt(v') bc2 + eps), lo, hi)
   with the bias corrections bc1, bc2 as inputs (set each step by style_adam_set_step, so a new
   step count never re-plans), and its inputs and outputs named above. */
nncl_status style_adam_build(nncl_graph *g, const style_adam_spec *s);

/* Sets the bias-correction inputs for step t (1, 2, ...), computed in double as PyTorch does. */
nncl_status style_adam_set_step(nncl_graph *g, const style_adam_spec *s, long t);

#endif
