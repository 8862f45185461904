/* einsum_ref.h: naive C reference for Einsum with explicit letter terms. */
#ifndef NNCL_EINSUM_REF_H
#define NNCL_EINSUM_REF_H

#include <stdint.h>

#include "nncl/nncl.h"

/* Einsum from explicit letter terms (one letter per dim, no ellipsis); lb/b NULL for one
   operand; lo is the output term. */
void ref_einsum(const char *la, const float *a, const nncl_shape *as, const char *lb,
                const float *b, const nncl_shape *bs, const char *lo, float *out);

#endif
