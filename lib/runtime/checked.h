/* checked.h: overflow-checked arithmetic for dims, element counts and byte sizes. Every product or
   sum of dims that comes from a file, an attribute or the API goes through these, so a hostile
   shape becomes a named error instead of a wrapped size (signed overflow is undefined in C). */
#ifndef NNCL_CHECKED_H
#define NNCL_CHECKED_H

#include <stdint.h>

#include "nncl/context.h"
#include "nncl/tensor.h"

/* The largest byte size of one tensor nncl accepts: 2^62. Any byte count below it also fits
   size_t on 64-bit hosts and leaves headroom for the sums of offsets that kernels compute. */
#define NNCL__MAX_BYTES ((int64_t)1 << 62)

/* *r = a + b, a - b or a * b; 1 when the result is exact, 0 when it overflowed int64. */
static inline int nncl__add_ok(int64_t a, int64_t b, int64_t *r) {
  return !__builtin_add_overflow(a, b, r);
}
static inline int nncl__sub_ok(int64_t a, int64_t b, int64_t *r) {
  return !__builtin_sub_overflow(a, b, r);
}
static inline int nncl__mul_ok(int64_t a, int64_t b, int64_t *r) {
  return !__builtin_mul_overflow(a, b, r);
}

/* Element count of a shape whose rank is 0..NNCL_MAX_RANK, whose dims are all >= 0 and whose
   byte size at elem_size bytes an element stays within NNCL__MAX_BYTES; -1 for any other shape
   (also for s NULL). elem_size 0 checks the element count alone against NNCL__MAX_BYTES. */
int64_t nncl__shape_numel_checked(const nncl_shape *s, size_t elem_size);

/* NNCL_OK when nncl__shape_numel_checked accepts the shape at dtype's element size; otherwise
   records "<what>: shape [..] <reason>" on ctx (may be NULL) and returns `status`. */
nncl_status nncl__shape_check(nncl_context *ctx, nncl_status status, const nncl_shape *s,
                              nncl_dtype dtype, const char *what);

#endif
