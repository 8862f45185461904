/* test_reverse_sequence.c: ReverseSequence against tests/ref/reverse_sequence_ref.c on random
   shapes (rank 2-4, both batch axes, lengths 0 to the full time axis, int32 and int64 lengths);
   compared exactly (data movement). */
#include <stdlib.h>

#include "ref/reverse_sequence_ref.h"
#include "test_util.h"

static nncl_array rand_f32(uint32_t seed, const nncl_shape *s) {
  return tu_rand(seed, s->rank, s->dims);
}

Test(reverse_sequence, reverse_sequence) {
  uint32_t st = 31;
  for (int t = 0; t < 16; t++) {
    int r = (int)tu_rand_int(&st, 2, 4), ba = t % 2;
    nncl_shape xs = {.rank = r}, ls = {.rank = 1};
    for (int i = 0; i < r; i++) xs.dims[i] = tu_rand_int(&st, 1, 6);
    ls.dims[0] = xs.dims[ba];
    int64_t lens[8];
    for (int i = 0; i < ls.dims[0]; i++) lens[i] = tu_rand_int(&st, 0, xs.dims[1 - ba]);
    nncl_array x = rand_f32((uint32_t)t + 500, &xs),
               l = tu_ints(t % 3 ? NNCL_INT64 : NNCL_INT32, &ls, lens), out;
    struct nncl__attr a[2] = {A_INT("batch_axis", ba), A_INT("time_axis", 1 - ba)};
    const nncl_array *in[] = {&x, &l};
    tu_run_op("ReverseSequence", 10, a, 2, 2, in, 1, &out);
    int64_t n = nncl_shape_numel(&xs);
    float *want = malloc((size_t)n * sizeof *want);
    ref_reverse_sequence(x.data, &xs, lens, ba, want);
    tu_assert_close((const float *)out.data, want, (size_t)n, 0.0, 0.0, "ReverseSequence");
    free(want);
    nncl_array_free(&x);
    nncl_array_free(&l);
    nncl_array_free(&out);
  }
}
