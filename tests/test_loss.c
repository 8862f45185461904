/* test_loss.c: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss against tests/ref/loss_ref.c
   on random shapes (0-3 spatial dims, every reduction, optional weights, ignore_index, optional
   log_prob output, int32 and int64 targets); rtol 1e-5, atol 1e-6 (float log-softmax and sums
   against double). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ref/loss_ref.h"
#include "test_util.h"

/* NegativeLogLikelihoodLoss (sce = 0) or SoftmaxCrossEntropyLoss with and without log_prob. */
static void check_loss(int sce) {
  uint32_t st = sce ? 41 : 43;
  for (int t = 0; t < 24; t++) {
    int sp = (int)tu_rand_int(&st, 0, 3), red = t % 3, has_w = t % 2,
        n_out = sce ? 1 + (t / 3) % 2 : 1;
    nncl_shape xs = {.rank = 2 + sp}, ts = {.rank = 1 + sp}, ws = {.rank = 1};
    xs.dims[0] = ts.dims[0] = tu_rand_int(&st, 1, 4);
    xs.dims[1] = ws.dims[0] = tu_rand_int(&st, 1, 7);
    for (int i = 0; i < sp; i++) xs.dims[2 + i] = ts.dims[1 + i] = tu_rand_int(&st, 1, 5);
    int64_t C = xs.dims[1], ii = t % 4 == 0   ? -1
                                 : t % 4 == 1 ? tu_rand_int(&st, 0, C - 1)
                                              : INT64_MIN;
    int64_t np = nncl_shape_numel(&ts), tg[512];
    for (int64_t i = 0; i < np; i++) {
      tg[i] = tu_rand_int(&st, 0, C - 1);
      if (ii == -1 && tu_rand_int(&st, 0, 3) == 0) tg[i] = -1;
    }
    if (red == 2 && ii != INT64_MIN && tg[0] == ii) tg[0] = (ii + 1) % C; /* keep a weight > 0 */
    nncl_array x = tu_rand((uint32_t)t + 600, xs.rank, xs.dims),
               w = tu_rand((uint32_t)t + 700, 1, ws.dims);
    for (int64_t c = 0; c < C; c++) ((float *)w.data)[c] += 0.5f; /* positive weights */
    nncl_array tgt = tu_ints(t % 5 ? NNCL_INT64 : NNCL_INT32, &ts, tg), out[2];
    struct nncl__attr a[2] = {A_STR("reduction", "none")};
    const char *rn[] = {"none", "sum", "mean"};
    a[0] = A_STR("reduction", rn[red]);
    int na = 1;
    if (ii != INT64_MIN) a[na++] = A_INT("ignore_index", ii);
    const nncl_array *in[] = {&x, &tgt, &w};
    tu_run_op(sce ? "SoftmaxCrossEntropyLoss" : "NegativeLogLikelihoodLoss", 13, a, na,
              has_w ? 3 : 2, in, n_out, out);
    int64_t nx = nncl_shape_numel(&xs);
    float *lp = malloc((size_t)nx * sizeof *lp), *want = malloc((size_t)np * sizeof *want);
    if (sce)
      ref_log_softmax_axis1(x.data, &xs, lp);
    else
      memcpy(lp, x.data, (size_t)nx * sizeof *lp);
    ref_nll_loss(lp, &xs, tg, has_w ? w.data : NULL, red, ii, want);
    cr_assert_eq(nncl_shape_numel(&out[0].shape), red ? 1 : np);
    tu_assert_close((const float *)out[0].data, want, red ? 1 : (size_t)np, 1e-5, 1e-6, rn[red]);
    if (n_out == 2) {
      tu_assert_close((const float *)out[1].data, lp, (size_t)nx, 1e-5, 1e-6, "log_prob");
      nncl_array_free(&out[1]);
    }
    free(lp);
    free(want);
    nncl_array_free(&x);
    nncl_array_free(&w);
    nncl_array_free(&tgt);
    nncl_array_free(&out[0]);
  }
}

Test(loss, nll_loss) { check_loss(0); }
Test(loss, softmax_cross_entropy_loss) { check_loss(1); }

/* A sum over many positions goes through the whole work-group tree. */
Test(loss, nll_loss_large_mean) {
  nncl_array x = TU_RAND(9, 3, 10, 777), tgt = TU_ZEROS(NNCL_INT64, 3, 777), out;
  int64_t *tg = tgt.data;
  for (int i = 0; i < 3 * 777; i++) tg[i] = (i * 7) % 10;
  struct nncl__attr a = A_STR("reduction", "mean");
  const nncl_array *in[] = {&x, &tgt};
  tu_run_op("NegativeLogLikelihoodLoss", 13, &a, 1, 2, in, 1, &out);
  float want;
  ref_nll_loss(x.data, &x.shape, tg, NULL, 2, INT64_MIN, &want);
  tu_assert_close((const float *)out.data, &want, 1, 1e-5, 1e-6, "mean of 2331");
  nncl_array_free(&x);
  nncl_array_free(&tgt);
  nncl_array_free(&out);
}
