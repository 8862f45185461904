/* loss_ref.h: naive C references for NegativeLogLikelihoodLoss and log_softmax (the first half of
   SoftmaxCrossEntropyLoss) on contiguous float32 data; negative targets equal to ignore_index
   are skipped. */
#ifndef NNCL_LOSS_REF_H
#define NNCL_LOSS_REF_H

#include <stdint.h>

#include "nncl/nncl.h"

/* x [N, C, D...] -> log_softmax over axis 1. */
void ref_log_softmax_axis1(const float *x, const nncl_shape *xs, float *out);
/* reduction 0 none (out has N*D elements), 1 sum, 2 mean (out[0]); w may be NULL. */
void ref_nll_loss(const float *x, const nncl_shape *xs, const int64_t *t, const float *w,
                  int reduction, int64_t ignore_index, float *out);

#endif
