/* pool_int_ref.h: naive C reference for MaxPool on integer data (int32 arrays), for
   tests/test_pool_int.c. */
#ifndef NNCL_POOL_INT_REF_H
#define NNCL_POOL_INT_REF_H

#include <stdint.h>

/* MaxPool 2-D (no dilation) over rows = N * C planes of integers; idx (may be NULL) gets the
   flattened row-major input position of the first maximum. */
void ref_maxpool2d_int(const int32_t *x, int64_t rows, int64_t h, int64_t w, int64_t kh, int64_t kw,
                       int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t oh, int64_t ow,
                       int32_t lowest, int32_t *y, int64_t *idx);

#endif
