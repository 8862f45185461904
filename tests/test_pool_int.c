/* test_pool_int.c: MaxPool on uint8 / int8 tensors (with and without Indices) against
   tests/ref/pool_int_ref.c; exact (a maximum of integers). */
#include <stdlib.h>

#include "ref/pool_int_ref.h"
#include "test_util.h"

/* MaxPool on uint8 / int8 (the same max kernels built for the integer type), with and without
   the Indices output; exact. */
static void maxpool_int_case(nncl_dtype t, int with_idx, uint32_t seed) {
  const int64_t n = 2, c = 3, h = 13, w = 10, kh = 3, kw = 2, sh = 2, sw = 1, ph = 1, pw = 0;
  const int64_t oh = (h + 2 * ph - kh) / sh + 1, ow = (w + 2 * pw - kw) / sw + 1;
  nncl_array x = TU_INT_RAND(t, seed, tu_qmin(t), tu_qmax(t), n, c, h, w);
  const struct nncl__attr at[] = {A_INTS("kernel_shape", kh, kw), A_INTS("strides", sh, sw),
                                  A_INTS("pads", ph, pw, ph, pw)};
  const nncl_array *in[] = {&x};
  nncl_array y[2];
  tu_run_op("MaxPool", 12, at, 3, 1, in, with_idx ? 2 : 1, y);
  int32_t *xi = tu_widen(&x), *want = malloc(sizeof(int32_t) * (size_t)(n * c * oh * ow));
  int64_t *idx = malloc(sizeof(int64_t) * (size_t)(n * c * oh * ow));
  ref_maxpool2d_int(xi, n * c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, tu_qmin(t), want, idx);
  tu_assert_ints(&y[0], t, want, n * c * oh * ow, "MaxPool int");
  if (with_idx) {
    cr_assert_eq(y[1].dtype, NNCL_INT64);
    for (int64_t i = 0; i < n * c * oh * ow; ++i)
      cr_assert_eq(((int64_t *)y[1].data)[i], idx[i], "MaxPool index %lld", (long long)i);
    nncl_array_free(&y[1]);
  }
  free(xi), free(want), free(idx);
  nncl_array_free(&x), nncl_array_free(&y[0]);
}

Test(maxpool_int, uint8) { maxpool_int_case(NNCL_UINT8, 0, 81); }
Test(maxpool_int, int8_with_indices) { maxpool_int_case(NNCL_INT8, 1, 82); }
