/* test_conv_transpose.c: ConvTranspose through both algorithms (direct gather, GEMM + col2im)
   against the scatter-form reference in tests/ref/conv_ref.c: stride 2 and 3, pads,
   output_padding, output_shape, auto_pad SAME_UPPER, dilation, groups, bias, batch, the fused
   epilogue, and a DeconvNet-like 2x upsampling layer. Tolerance: max relative error 1e-4. */
#include <stdlib.h>
#include <string.h>

#include "ref/conv_ref.h"
#include "test_util.h"

struct tcase {
  int64_t N, C, H, W, K, R, S, sh, sw, dh, dw, pt, pl, pb, pr, groups, oph, opw;
  int bias;
};

static double run_t(const struct tcase *k, const char *algo, const struct nncl__attr *extra,
                    int n_extra, const struct op_epilogue *epi, int64_t *oh_out) {
  struct nncl__attr a[12];
  int n = 0;
  a[n++] = A_INTS("kernel_shape", k->R, k->S);
  a[n++] = A_INTS("strides", k->sh, k->sw);
  a[n++] = A_INTS("dilations", k->dh, k->dw);
  a[n++] = A_INT("group", k->groups);
  int has_pads = 1;
  for (int i = 0; i < n_extra; i++) {
    a[n++] = extra[i];
    if (strcmp(extra[i].name, "output_shape") == 0 || strcmp(extra[i].name, "auto_pad") == 0)
      has_pads = 0;
  }
  /* compound literals live to the end of their block: make them at function scope */
  struct nncl__attr pads = A_INTS("pads", k->pt, k->pl, k->pb, k->pr),
                    opad = A_INTS("output_padding", k->oph, k->opw);
  if (has_pads) {
    a[n++] = pads;
    a[n++] = opad;
  }
  nncl_array x = TU_RAND(7, k->N, k->C, k->H, k->W),
             w = TU_RAND(8, k->C, k->K / k->groups, k->R, k->S), b = TU_RAND(9, k->K), res = {0};
  struct conv_ref_geom g = {k->N,  k->C,  k->H,  k->W,  k->K,  k->R,  k->S,      k->sh,  k->sw,
                            k->dh, k->dw, k->pt, k->pl, k->pb, k->pr, k->groups, k->oph, k->opw};
  int64_t oh, ow;
  conv_ref_out_size(&g, 1, &oh, &ow);
  if (oh_out) *oh_out = oh;
  size_t ny = (size_t)(k->N * k->K * oh * ow);
  if (epi && epi->has_residual) res = TU_RAND(10, k->N, k->K, oh, ow);
  float *want = malloc(ny * 4);
  conv_transpose_ref(&g, x.data, w.data, k->bias ? b.data : NULL, epi, res.data, want);
  const nncl_array *in[] = {&x, &w, &b};
  tu_set_option("conv.algo", algo);
  struct op_instance *oi;
  nncl_status st = op_instance_create(tu_ctx(), "ConvTranspose", 17, a, n, k->bias ? 3 : 2, in, 1,
                                      epi, epi && epi->has_residual ? &res : NULL, &oi);
  tu_set_option("conv.algo", NULL);
  cr_assert_eq(st, NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_str_eq(op_instance_call(oi)->algo, algo);
  cr_assert_eq(op_instance_enqueue(oi), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  nncl_array out;
  cr_assert_eq(op_instance_read(oi, &out), NNCL_OK);
  op_instance_destroy(oi);
  cr_assert_eq(out.shape.dims[2], oh);
  cr_assert_eq(out.shape.dims[3], ow);
  double e = tu_max_rel_error(out.data, want, ny);
  nncl_array_free(&out);
  nncl_array_free(&x);
  nncl_array_free(&w);
  nncl_array_free(&b);
  nncl_array_free(&res);
  free(want);
  return e;
}

static void check_t(const struct tcase *k, const struct nncl__attr *extra, int n_extra,
                    const struct op_epilogue *epi) {
  const char *algos[] = {"direct", "gemm"};
  for (int i = 0; i < 2; i++) {
    double e = run_t(k, algos[i], extra, n_extra, epi, NULL);
    cr_assert(e <= 1e-4, "ConvTranspose %s: max rel error %.3g (C%lld K%lld s%lld g%lld)", algos[i],
              e, (long long)k->C, (long long)k->K, (long long)k->sh, (long long)k->groups);
  }
}

Test(conv_transpose, stride2_pads_bias) {
  struct tcase k = {2, 5, 6, 7, 3, 3, 3, 2, 2, 1, 1, 1, 0, 1, 2, 1, 0, 0, 1};
  check_t(&k, NULL, 0, NULL);
}

Test(conv_transpose, output_padding_stride3_dilation) {
  struct tcase k = {1, 4, 5, 4, 6, 3, 2, 3, 3, 2, 1, 0, 1, 1, 0, 1, 2, 1, 1};
  check_t(&k, NULL, 0, NULL);
}

Test(conv_transpose, groups_and_epilogue) {
  struct tcase k = {3, 6, 4, 5, 9, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 3, 0, 0, 1};
  struct op_epilogue e = {.act = OP_ACT_RELU, .has_residual = 1};
  check_t(&k, NULL, 0, &e);
}

Test(conv_transpose, output_shape_and_same_upper) {
  /* output_shape 10x11 from 5x5 with stride 2, 3x3: total padding 1 and 0 */
  struct tcase k = {1, 3, 5, 5, 2, 3, 3, 2, 2, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0};
  struct tcase want = k;
  /* ONNX: pads begin = total - total/2, end = total/2 (not SAME_UPPER) */
  want.pt = 1;
  want.pb = 0;
  want.pl = 0;
  want.pr = 0;
  struct nncl__attr os = A_INTS("output_shape", 10, 11);
  int64_t oh;
  double e = run_t(&want, "direct", &os, 1, NULL, &oh);
  cr_assert_eq(oh, 10);
  cr_assert(e <= 1e-4, "%g", e);
  /* output_shape past the natural size (ONNX test_convtranspose_output_shape): the extra rows
     and columns at the end get no input, only the bias */
  struct tcase big = {1, 2, 3, 3, 4, 3, 3, 3, 2, 1, 1, 0, 0, -1, -1, 1, 0, 0, 1};
  struct nncl__attr os2 = A_INTS("output_shape", 10, 8);
  e = run_t(&big, "direct", &os2, 1, NULL, &oh);
  cr_assert_eq(oh, 10);
  cr_assert(e <= 1e-4, "%g", e);
  e = run_t(&big, "gemm", &os2, 1, NULL, &oh);
  cr_assert(e <= 1e-4, "%g", e);
  /* SAME_UPPER: output = input * stride, extra padding at the end */
  struct tcase s = {1, 3, 5, 5, 2, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0};
  struct nncl__attr ap = A_STR("auto_pad", "SAME_UPPER");
  s.oph = s.opw = 0;
  /* total = 2*4 + 0 + 3 - 10 = 1 -> begin 0, end 1 */
  e = run_t(&s, "gemm", &ap, 1, NULL, &oh);
  cr_assert_eq(oh, 10);
  cr_assert(e <= 1e-4, "%g", e);
}

Test(conv_transpose, deconvnet_upsampling) {
  struct tcase k = {1, 32, 7, 7, 16, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0, 1};
  check_t(&k, NULL, 0, NULL);
}

Test(conv_transpose, bad_output_padding) {
  nncl_array x = TU_RAND(1, 1, 2, 3, 3), w = TU_RAND(2, 2, 2, 3, 3), out;
  const nncl_array *in[] = {&x, &w};
  struct nncl__attr a[] = {A_INTS("strides", 2, 2), A_INTS("output_padding", 2, 0)};
  cr_assert_eq(tu_try_op("ConvTranspose", 17, a, 2, 2, in, 1, &out), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "output_padding"));
  nncl_array_free(&x);
  nncl_array_free(&w);
}
