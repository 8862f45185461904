/* reverse_sequence_ref.h: naive C reference for ReverseSequence on contiguous float32 data
   ([time, batch, ...] or [batch, time, ...]). */
#ifndef NNCL_REVERSE_SEQUENCE_REF_H
#define NNCL_REVERSE_SEQUENCE_REF_H

#include <stdint.h>

#include "nncl/nncl.h"

void ref_reverse_sequence(const float *x, const nncl_shape *xs, const int64_t *lens, int batch_axis,
                          float *out);

#endif
