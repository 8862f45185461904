/* style_optimise.h: the optimisation loops of `nncl style` over the loss graph (style_loss.h):
   Adam, whose update is part of the graph (style_adam.h), and L-BFGS on the host
   (style_lbfgs.h); progress on the terminal, reported losses and intermediate pictures. */
#ifndef NNCL_STYLE_OPTIMISE_H
#define NNCL_STYLE_OPTIMISE_H

#include "nncl/nncl.h"
#include "style_picture.h"

typedef struct style_run {
  long steps;
  double lr;          /* Adam: in pixel units; L-BFGS: the first trial along the direction */
  long every;         /* write every K-th step's picture into frames (0: none) */
  const char *frames; /* DIR/step_S.png */
} style_run;

/* Optimises picture x (graph input `image` of g, normalised as n says) for o->steps steps; first
   and last get the loss, style and content terms at the starting and the final picture. Returns 0,
   or 1 after printing why on stderr. Adam appends its nodes to g. */
int style_optimise_adam(const style_run *o, nncl_context *ctx, nncl_graph *g, const char *image,
                        const style_norm *n, nncl_array *x, float first[3], float last[3]);
int style_optimise_lbfgs(const style_run *o, nncl_context *ctx, nncl_graph *g, const char *image,
                         const style_norm *n, nncl_array *x, float first[3], float last[3]);

#endif
