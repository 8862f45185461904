/* ops2a_ref.h: naive C references for Mod, IsInf, Shrink (element-wise rows) and the indexing
   family (Trilu, EyeLike, OneHot, CumSum, Hardmax, TopK). Along-axis references take the
   [outer, n, inner] view the ops use; everything is a plain loop, written for clarity. */
#ifndef NNCL_OPS2A_REF_H
#define NNCL_OPS2A_REF_H

#include <stdint.h>

/* ONNX Mod: fmod != 0 keeps the dividend's sign (C fmod), else the divisor's (Python). */
int64_t ref_mod_i64(int64_t a, int64_t b, int fmod_mode);
float ref_mod_f32(float a, float b, int fmod_mode);
int ref_isinf(float x, int detect_pos, int detect_neg);
float ref_shrink(float x, float lambd, float bias);

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

/* MeanVarianceNormalization over the axes in `mask` (bit d = dim d) of a tensor of `rank` dims:
   y = (x - mean) / (sqrt(mean((x - mean)^2)) + 1e-9), in double. */
void ref_mvn(const float *x, int rank, const int64_t *dims, unsigned mask, float *y);

#endif
