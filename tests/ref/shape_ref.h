/* shape_ref.h: naive C references for the shape family's data movement. Every function works on
   raw elements of `es` bytes, walks the output one coordinate at a time and maps it back to the
   input by the op's definition (no strides tricks, no simplification), so it shares no logic
   with lib/ops/shape_copy.c. Shapes are nncl_shape; data is C order. */
#ifndef NNCL_SHAPE_REF_H
#define NNCL_SHAPE_REF_H

#include <stddef.h>
#include <stdint.h>

#include "nncl/tensor.h"

/* out[c] = in[c permuted]: out dim d is in dim perm[d]. */
void ref_transpose(const void *in, const nncl_shape *s, const int *perm, size_t es, void *out);
/* Concat of n tensors along axis. */
void ref_concat(int n, const void *const *in, const nncl_shape *shapes, int axis, size_t es,
                void *out);
/* Slice; fills out_shape. starts/ends/axes/steps have n entries (axes may be negative, steps
   NULL for all ones, axes NULL for 0..n-1). */
void ref_slice(const void *in, const nncl_shape *s, const int64_t *starts, const int64_t *ends,
               const int64_t *axes, const int64_t *steps, int n, size_t es, void *out,
               nncl_shape *out_shape);
/* Pad with pads [begins..., ends...]; mode "constant", "reflect", "edge" or "wrap"; value is the
   constant's element bytes. Fills out_shape. */
void ref_pad(const void *in, const nncl_shape *s, const int64_t *pads, const char *mode,
             const void *value, size_t es, void *out, nncl_shape *out_shape);
/* Gather along axis with nidx indices (may be negative). */
void ref_gather(const void *data, const nncl_shape *s, const int64_t *idx, int64_t nidx, int axis,
                size_t es, void *out);
/* GatherElements: out shape is the index shape q. */
void ref_gather_elements(const void *data, const nncl_shape *s, const int64_t *idx,
                         const nncl_shape *q, int axis, size_t es, void *out);
/* Tile with repeats per dim. */
void ref_tile(const void *in, const nncl_shape *s, const int64_t *rep, size_t es, void *out);
/* Broadcast of in (shape s) to out_shape (numpy rules, right-aligned). */
void ref_expand(const void *in, const nncl_shape *s, const nncl_shape *out_shape, size_t es,
                void *out);

#endif
