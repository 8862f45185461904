/* ops2b_ref.h: naive C references for GatherND, ScatterElements, ScatterND, ReverseSequence,
   NegativeLogLikelihoodLoss, log_softmax (the first half of SoftmaxCrossEntropyLoss) and Einsum, on
   contiguous float32 data with int64 indices already normalised or not (negative ones count
   from the end). Scatters apply updates serially in C order of the updates, the documented
   order of nncl's kernels. */
#ifndef NNCL_OPS2B_REF_H
#define NNCL_OPS2B_REF_H

#include <stdint.h>

#include "nncl/nncl.h"

enum ref_scatter_red { REF_RED_NONE, REF_RED_ADD, REF_RED_MUL };

void ref_gather_nd(const float *x, const nncl_shape *xs, const int64_t *idx, const nncl_shape *qs,
                   int batch_dims, float *out);
/* out (shape xs) starts as a copy of x. */
void ref_scatter_elements(const float *x, const nncl_shape *xs, const int64_t *idx,
                          const float *upd, const nncl_shape *us, int axis,
                          enum ref_scatter_red red, float *out);
void ref_scatter_nd(const float *x, const nncl_shape *xs, const int64_t *idx, const nncl_shape *qs,
                    const float *upd, enum ref_scatter_red red, float *out);
void ref_reverse_sequence(const float *x, const nncl_shape *xs, const int64_t *lens, int batch_axis,
                          float *out);
/* x [N, C, D...] -> log_softmax over axis 1. */
void ref_log_softmax_axis1(const float *x, const nncl_shape *xs, float *out);
/* reduction 0 none (out has N*D elements), 1 sum, 2 mean (out[0]); w may be NULL. */
void ref_nll_loss(const float *x, const nncl_shape *xs, const int64_t *t, const float *w,
                  int reduction, int64_t ignore_index, float *out);
/* Einsum from explicit letter terms (one letter per dim, no ellipsis); lb/b NULL for one
   operand; lo is the output term. */
void ref_einsum(const char *la, const float *a, const nncl_shape *as, const char *lb,
                const float *b, const nncl_shape *bs, const char *lo, float *out);

#endif
