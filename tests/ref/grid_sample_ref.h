/* grid_sample_ref.h: naive C reference for GridSample, for tests/test_grid_sample.c. */
#ifndef NNCL_GRID_SAMPLE_REF_H
#define NNCL_GRID_SAMPLE_REF_H

#include <stdint.h>

/* GridSample (opset 16, 2-D) in double: mode 0 nearest, 1 bilinear, 2 bicubic; pad 0 zeros,
   1 border, 2 reflection. */
void ref_grid_sample(const float *x, const float *grid, int64_t n, int64_t c, int64_t h, int64_t w,
                     int64_t oh, int64_t ow, int mode, int pad, int align, float *y);

#endif
