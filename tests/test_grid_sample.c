/* test_grid_sample.c: GridSample (opset 16, 2-D) against the double-precision reference in
   tests/ref/grid_sample_ref.c: every mode, padding and alignment; bad grids rejected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/grid_sample_ref.h"
#include "test_util.h"

/* GridSample: every mode x padding x align_corners on odd shapes, grid points reaching 30% past
   the borders. Grid values are multiples of 1/64 so pixel coordinates are exact in float and
   double alike (nearest ties round the same on both sides); rtol 1e-4, atol 1e-5. */
Test(grid_sample, all_modes_paddings_alignments) {
  const int64_t n = 2, c = 3, h = 5, w = 7, oh = 4, ow = 9;
  static const char *const modes[] = {"nearest", "bilinear", "bicubic"};
  static const char *const pads[] = {"zeros", "border", "reflection"};
  nncl_array x = TU_RAND(101, n, c, h, w), g = TU_RAND(102, n, oh, ow, 2);
  uint32_t s = 103;
  for (int64_t i = 0; i < n * oh * ow * 2; ++i)
    ((float *)g.data)[i] = (float)((int)(tu_xorshift(&s) % 167) - 83) / 64.0f;
  float *want = malloc(sizeof(float) * (size_t)(n * c * oh * ow));
  for (int m = 0; m < 3; ++m)
    for (int p = 0; p < 3; ++p)
      for (int al = 0; al < 2; ++al) {
        const struct nncl__attr at[] = {A_STR("mode", modes[m]), A_STR("padding_mode", pads[p]),
                                        A_INT("align_corners", al)};
        const nncl_array *in[] = {&x, &g};
        nncl_array y;
        tu_run_op("GridSample", 16, at, 3, 2, in, 1, &y);
        cr_assert_eq(y.shape.rank, 4);
        cr_assert(y.shape.dims[2] == oh && y.shape.dims[3] == ow);
        ref_grid_sample(x.data, g.data, n, c, h, w, oh, ow, m, p, al, want);
        char what[96];
        snprintf(what, sizeof(what), "GridSample %s %s align_corners=%d", modes[m], pads[p], al);
        tu_assert_close((float *)y.data, want, (size_t)(n * c * oh * ow), 1e-4, 1e-5, what);
        nncl_array_free(&y);
      }
  free(want);
  nncl_array_free(&x), nncl_array_free(&g);
}

Test(grid_sample, rejects_bad_grid) {
  nncl_array x = TU_RAND(111, 1, 2, 3, 3), g = TU_RAND(112, 1, 4, 4, 3);
  const nncl_array *in[] = {&x, &g};
  nncl_array y;
  cr_assert_eq(tu_try_op("GridSample", 16, NULL, 0, 2, in, 1, &y), NNCL_ERR_SHAPE);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "Grid"));
  nncl_array_free(&x), nncl_array_free(&g);
}
