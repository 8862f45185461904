/* indexing_ref.h: naive C references for the indexing family (Trilu, EyeLike, OneHot, CumSum,
   Hardmax, TopK). Along-axis references take the
   [outer, n, inner] view the ops use; everything is a plain loop, written for clarity. */
#ifndef NNCL_INDEXING_REF_H
#define NNCL_INDEXING_REF_H

#include <stdint.h>

/* y = x with elements outside the triangle zeroed; x is [batch, rows, cols]. */
void ref_trilu(const float *x, int64_t batch, int64_t rows, int64_t cols, int64_t k, int upper,
               float *y);
void ref_eyelike(int64_t rows, int64_t cols, int64_t k, float *y);
/* idx is [outer, inner]; y is [outer, depth, inner]. */
void ref_onehot(const int64_t *idx, int64_t outer, int64_t inner, int64_t depth, float off,
                float on, float *y);
void ref_cumsum(const float *x, int64_t outer, int64_t n, int64_t inner, int exclusive, int reverse,
                float *y);
void ref_hardmax(const float *x, int64_t outer, int64_t n, int64_t inner, float *y);
/* vals / idx are [outer, k, inner], sorted best first, ties to the lower index. */
void ref_topk(const float *x, int64_t outer, int64_t n, int64_t inner, int64_t k, int largest,
              float *vals, int64_t *idx);

#endif
