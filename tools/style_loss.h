/* style_loss.h: the loss of neural style transfer (Gatys et al. 2016) as nodes of one graph, so
   that one run gives the loss and, through the library's autodiff, its gradient with respect to
   the picture: Gram matrices of the style layers' features against the style picture's, the
   content layer's features against the content picture's, each a mean squared error. */
#ifndef NNCL_STYLE_LOSS_H
#define NNCL_STYLE_LOSS_H

#include "nncl/nncl.h"

#define STYLE_LOSS "style/loss"                 /* total, [1] */
#define STYLE_LOSS_STYLE "style/style_loss"     /* weighted style terms, [1] */
#define STYLE_LOSS_CONTENT "style/content_loss" /* weighted content term, [1] */
#define STYLE_GRAD "style/grad"                 /* d loss / d picture, shaped as the picture */

typedef struct style_loss_spec {
  const char *image;         /* the graph input holding the picture [1, C, H, W] */
  const char *content_layer; /* a value of the graph */
  const char *const *style_layers;
  int n_style;
  float content_weight, style_weight;
} style_loss_spec;

/* Appends to g (whose layers read s->image) the loss
     content_weight * mean((F - Fc)^2) / mean(Fc^2)
     + style_weight / n_style * sum_l mean((G_l - Gs_l)^2) / mean(Gs_l^2)
   where F is the content layer's value, G_l = F_l F_l^T / (C h w) the Gram matrix of style layer
   l's features F_l viewed as [C, h w] (a MatMul of the reshaped features with their transpose),
   and Fc, Gs_l are those of the content and style pictures (two runs of g, whose results become
   constants). Dividing each term by its target's mean square makes the weights independent of
   the network's scale. Then the gradient STYLE_GRAD with respect to s->image, and outputs
   STYLE_LOSS, STYLE_LOSS_STYLE, STYLE_LOSS_CONTENT, STYLE_GRAD. An unknown layer lists the
   graph's values on stderr and gives NNCL_ERR_NOT_FOUND. */
nncl_status style_loss_build(nncl_graph *g, const style_loss_spec *s, const nncl_array *content,
                             const nncl_array *style);

#endif
