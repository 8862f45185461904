/* scatter_ref.h: naive C references for GatherND, ScatterElements and ScatterND, on
   contiguous float32 data with int64 indices already normalised or not (negative ones count
   from the end). Scatters apply updates serially in C order of the updates, the documented
   order of nncl's kernels. */
#ifndef NNCL_SCATTER_REF_H
#define NNCL_SCATTER_REF_H

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
#endif
