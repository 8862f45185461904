/* reverse_sequence_ref.c: naive loop for tests/test_reverse_sequence.c (see
   reverse_sequence_ref.h). */
#include "reverse_sequence_ref.h"

void ref_reverse_sequence(const float *x, const nncl_shape *xs, const int64_t *lens, int batch_axis,
                          float *out) {
  int64_t inner = 1;
  for (int d = 2; d < xs->rank; d++) inner *= xs->dims[d];
  for (int64_t a = 0; a < xs->dims[0]; a++)
    for (int64_t b = 0; b < xs->dims[1]; b++) {
      int64_t bi = batch_axis == 0 ? a : b, ti = batch_axis == 0 ? b : a, len = lens[bi];
      int64_t ts = ti < len ? len - 1 - ti : ti;
      int64_t sa = batch_axis == 0 ? a : ts, sb = batch_axis == 0 ? ts : b;
      for (int64_t i = 0; i < inner; i++)
        out[(a * xs->dims[1] + b) * inner + i] = x[(sa * xs->dims[1] + sb) * inner + i];
    }
}
