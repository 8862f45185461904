/* test_conv.c: Conv through every algorithm (NNCL_CONV_ALGO forces each eligible one) against the
   naive reference in tests/ref/conv_ref.c, on awkward shapes: odd sizes, 1x1 images, stride 2
   and 4, asymmetric pads, auto_pad, dilation 2, groups 2/4/depthwise with multiplier, batch 3,
   C and K off every tile size, AlexNet conv1 (11x11/4) and ResNet conv1 (7x7/2) at reduced size,
   1-D convs; depthwise and narrow (C/group <= 4) reading X in place, pads in the kernel; the
   fused epilogue; weights computed at run time; the autotune file; bad parameters; the GEMM-based
   algorithms with both of the engine's B layouts (plain columns, packed panels) and their constant
   weights packed once at plan time (launch count and bits against packing every run).
   Tolerance (max |got - want| / max |want|): 1e-4 for direct, GEMM, im2col, depthwise and
   F(2x2,3x3); 1e-3 for F(4x4,3x3). Measured on PoCL: see the report printed by winograd_error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ref/conv_ref.h"
#include "test_util.h"

struct ccase {
  int64_t N, C, H, W, K, R, S, sh, sw, dh, dw, pt, pl, pb, pr, groups;
  int bias, one_d;
  const char *auto_pad; /* NULL: explicit pads */
};

static const char *const all_algos[] = {"direct", "winograd2", "winograd4", "gemm",
                                        "im2col", "depthwise", "narrow"};

static struct conv_ref_geom ref_geom(const struct ccase *k) {
  struct conv_ref_geom g = {k->N,  k->C,  k->H,  k->W,  k->K,  k->R,  k->S,      k->sh, k->sw,
                            k->dh, k->dw, k->pt, k->pl, k->pb, k->pr, k->groups, 0,     0};
  if (k->auto_pad && strcmp(k->auto_pad, "VALID") == 0) g.pt = g.pl = g.pb = g.pr = 0;
  if (k->auto_pad && strncmp(k->auto_pad, "SAME", 4) == 0) {
    int64_t oh = (k->H + k->sh - 1) / k->sh, ow = (k->W + k->sw - 1) / k->sw;
    int64_t th = (oh - 1) * k->sh + (k->R - 1) * k->dh + 1 - k->H;
    int64_t tw = (ow - 1) * k->sw + (k->S - 1) * k->dw + 1 - k->W;
    th = th < 0 ? 0 : th;
    tw = tw < 0 ? 0 : tw;
    int upper = strcmp(k->auto_pad, "SAME_UPPER") == 0;
    g.pt = upper ? th / 2 : th - th / 2;
    g.pb = th - g.pt;
    g.pl = upper ? tw / 2 : tw - tw / 2;
    g.pr = tw - g.pl;
  }
  return g;
}

/* Attributes of a case (2-D, or 1-D along W). */
static int make_attrs(const struct ccase *k, struct nncl__attr *a, int64_t *store) {
  int n = 0;
  int64_t *p = store;
  if (k->one_d) {
    p[0] = k->S;
    a[n++] = (struct nncl__attr){.name = "kernel_shape", .type = ATTR_INTS, .ints = p, .n = 1};
    p += 1;
    p[0] = k->sw;
    a[n++] = (struct nncl__attr){.name = "strides", .type = ATTR_INTS, .ints = p, .n = 1};
    p += 1;
    p[0] = k->dw;
    a[n++] = (struct nncl__attr){.name = "dilations", .type = ATTR_INTS, .ints = p, .n = 1};
    p += 1;
    p[0] = k->pl;
    p[1] = k->pr;
    a[n++] = (struct nncl__attr){.name = "pads", .type = ATTR_INTS, .ints = p, .n = 2};
    p += 2;
  } else {
    p[0] = k->R;
    p[1] = k->S;
    a[n++] = (struct nncl__attr){.name = "kernel_shape", .type = ATTR_INTS, .ints = p, .n = 2};
    p += 2;
    p[0] = k->sh;
    p[1] = k->sw;
    a[n++] = (struct nncl__attr){.name = "strides", .type = ATTR_INTS, .ints = p, .n = 2};
    p += 2;
    p[0] = k->dh;
    p[1] = k->dw;
    a[n++] = (struct nncl__attr){.name = "dilations", .type = ATTR_INTS, .ints = p, .n = 2};
    p += 2;
    if (!k->auto_pad) {
      p[0] = k->pt;
      p[1] = k->pl;
      p[2] = k->pb;
      p[3] = k->pr;
      a[n++] = (struct nncl__attr){.name = "pads", .type = ATTR_INTS, .ints = p, .n = 4};
    }
  }
  if (k->auto_pad) a[n++] = A_STR("auto_pad", k->auto_pad);
  a[n++] = A_INT("group", k->groups);
  return n;
}

/* Runs the case with algorithm `algo` forced; checks the algorithm really ran and returns the
   max relative error against the reference. */
static double run_case(const struct ccase *k, const char *algo, const struct op_epilogue *epi,
                       uint32_t seed) {
  struct nncl__attr attrs[8];
  int64_t store[16];
  int na = make_attrs(k, attrs, store);
  nncl_array x, w, b = {0}, res = {0};
  if (k->one_d) {
    x = TU_RAND(seed, k->N, k->C, k->W);
    w = TU_RAND(seed + 1, k->K, k->C / k->groups, k->S);
  } else {
    x = TU_RAND(seed, k->N, k->C, k->H, k->W);
    w = TU_RAND(seed + 1, k->K, k->C / k->groups, k->R, k->S);
  }
  if (k->bias) b = TU_RAND(seed + 2, k->K);
  struct conv_ref_geom g = ref_geom(k);
  int64_t oh, ow;
  conv_ref_out_size(&g, 0, &oh, &ow);
  size_t ny = (size_t)(k->N * k->K * oh * ow);
  if (epi && epi->has_residual) {
    res = k->one_d ? TU_RAND(seed + 3, k->N, k->K, ow) : TU_RAND(seed + 3, k->N, k->K, oh, ow);
  }
  float *want = malloc(ny * sizeof *want);
  conv_ref(&g, x.data, w.data, k->bias ? b.data : NULL, epi, res.data, want);
  const nncl_array *in[3] = {&x, &w, k->bias ? &b : NULL};
  tu_set_option("conv.algo", algo);
  struct op_instance *oi;
  nncl_status st = op_instance_create(tu_ctx(), "Conv", 17, attrs, na, k->bias ? 3 : 2, in, 1, epi,
                                      epi && epi->has_residual ? &res : NULL, &oi);
  cr_assert_eq(st, NNCL_OK, "%s: %s", algo, nncl_context_last_error(tu_ctx()));
  const char *used = op_instance_call(oi)->algo;
  cr_assert_str_eq(used, algo, "forced %s but %s ran (C%lld K%lld %lldx%lld)", algo, used,
                   (long long)k->C, (long long)k->K, (long long)k->R, (long long)k->S);
  cr_assert_eq(op_instance_enqueue(oi), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  nncl_array out;
  cr_assert_eq(op_instance_read(oi, &out), NNCL_OK);
  op_instance_destroy(oi);
  cr_assert_eq((size_t)nncl_shape_numel(&out.shape), ny);
  double err = tu_max_rel_error(out.data, want, ny);
  nncl_array_free(&out);
  nncl_array_free(&x);
  nncl_array_free(&w);
  nncl_array_free(&b);
  nncl_array_free(&res);
  free(want);
  tu_set_option("conv.algo", NULL);
  return err;
}

static double tol(const char *algo) { return strcmp(algo, "winograd4") == 0 ? 1e-3 : 1e-4; }

/* Every algorithm in `algos` (NULL-terminated) must be eligible and match the reference. */
static void check(const struct ccase *k, const char *const *algos, const struct op_epilogue *epi) {
  for (int i = 0; algos[i]; i++) {
    double e = run_case(k, algos[i], epi, 11 + (uint32_t)i);
    cr_assert(
        e <= tol(algos[i]),
        "%s: max rel error %.3g > %.0e (N%lld C%lld %lldx%lld K%lld %lldx%lld s%lld d%lld g%lld)",
        algos[i], e, tol(algos[i]), (long long)k->N, (long long)k->C, (long long)k->H,
        (long long)k->W, (long long)k->K, (long long)k->R, (long long)k->S, (long long)k->sh,
        (long long)k->dh, (long long)k->groups);
  }
}

#define ALGOS(...) ((const char *const[]){__VA_ARGS__, NULL})

Test(conv, basic_3x3_all_algorithms) {
  struct ccase k = {1, 3, 7, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, NULL};
  check(&k, ALGOS("direct", "winograd2", "winograd4", "im2col"), NULL);
}

Test(conv, odd_sizes_batch3_off_tile) {
  struct ccase k = {3, 13, 11, 9, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, NULL};
  check(&k, ALGOS("direct", "winograd2", "winograd4", "im2col"), NULL);
}

Test(conv, winograd_wide_channels) {
  /* C and K past one register tile, several tile columns, no padding on one side */
  struct ccase k = {2, 40, 13, 17, 36, 3, 3, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, NULL};
  check(&k, ALGOS("direct", "winograd2", "winograd4", "im2col"), NULL);
}

Test(conv, winograd_tile_groups) {
  /* the input transform reads four tiles per work-item: rows of 41 give groups wholly inside the
     image (one contiguous read per row), groups at either border (checked reads) and a last
     group of 3 tiles (F(4x4): 11 tiles a row); batch 2, a residual and ReLU fused */
  struct ccase k = {2, 5, 9, 41, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, NULL};
  struct op_epilogue relu_res = {.act = OP_ACT_RELU, .has_residual = 1};
  check(&k, ALGOS("winograd2", "winograd4"), &relu_res);
  /* 101 output channels: 17 register-tile rows (MR 6) or 13 (MR 8), past the 16 a product
     work-group takes whole, so the rows round up to groups of 8 and the extra items skip */
  struct ccase wide = {1, 3, 6, 7, 101, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, NULL};
  check(&wide, ALGOS("winograd2", "winograd4"), NULL);
}

Test(conv, direct_row_tiles) {
  /* rows of 30, 31 and 32 outputs: the direct kernel tiles by output row and stores full tiles
     as vectors (with and without a residual), partial tiles element by element */
  struct ccase a = {2, 5, 7, 30, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, NULL};
  struct op_epilogue relu_res = {.act = OP_ACT_RELU, .has_residual = 1};
  check(&a, ALGOS("direct"), NULL);
  check(&a, ALGOS("direct"), &relu_res);
  struct ccase b = {1, 4, 9, 61, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, NULL};
  check(&b, ALGOS("direct"), NULL);
  struct ccase c = {2, 6, 3, 32, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, NULL};
  check(&c, ALGOS("direct"), NULL);
}

Test(conv, one_by_one_image) {
  struct ccase k = {2, 5, 1, 1, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, NULL};
  check(&k, ALGOS("direct", "winograd2", "winograd4", "im2col"), NULL);
}

Test(conv, stride2_asymmetric_pads) {
  struct ccase k = {2, 6, 10, 9, 10, 3, 3, 2, 2, 1, 1, 0, 1, 2, 0, 1, 1, 0, NULL};
  check(&k, ALGOS("direct", "im2col"), NULL);
}

Test(conv, stride_4_alexnet_conv1) {
  struct ccase k = {1, 3, 35, 35, 96, 11, 11, 4, 4, 1, 1, 0, 0, 0, 0, 1, 1, 0, NULL};
  check(&k, ALGOS("direct", "im2col"), NULL);
}

Test(conv, resnet_conv1_7x7_s2) {
  struct ccase k = {1, 3, 35, 35, 64, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, 1, 0, NULL};
  check(&k, ALGOS("direct", "im2col"), NULL);
}

Test(conv, dilation2_rect_kernel) {
  struct ccase k = {1, 4, 12, 11, 9, 3, 2, 1, 2, 2, 2, 2, 1, 1, 3, 1, 0, 0, NULL};
  check(&k, ALGOS("direct", "im2col"), NULL);
}

Test(conv, groups_2_and_4) {
  struct ccase k2 = {2, 8, 9, 7, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 0, NULL};
  check(&k2, ALGOS("direct", "im2col"), NULL);
  struct ccase k4 = {1, 12, 8, 8, 20, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 4, 1, 0, NULL};
  check(&k4, ALGOS("direct", "im2col"), NULL);
}

Test(conv, depthwise_and_multiplier) {
  struct ccase k = {2, 16, 13, 11, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, 1, 0, NULL};
  check(&k, ALGOS("depthwise", "direct", "im2col"), NULL);
  struct ccase s2 = {1, 8, 14, 14, 8, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 8, 1, 0, NULL};
  check(&s2, ALGOS("depthwise", "direct"), NULL);
  struct ccase m = {1, 6, 9, 10, 12, 5, 5, 1, 1, 2, 2, 4, 4, 4, 4, 6, 0, 0, NULL};
  check(&m, ALGOS("depthwise", "direct", "im2col"), NULL);
}

Test(conv, depthwise_vector_epilogues) {
  /* rows of 40 and 20 outputs: full 32- and 16-wide tiles take the vector store with the
     vectorized epilogue, the rest of each row the scalar one */
  struct ccase k = {2, 4, 5, 40, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, 1, 0, NULL};
  struct ccase k16 = {1, 3, 4, 20, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 0, NULL};
  struct op_epilogue e[] = {
      {.act = OP_ACT_RELU, .has_residual = 1},
      {.act = OP_ACT_LEAKY_RELU, .alpha = 0.2f, .has_residual = 1, .residual_after_act = 1},
      {.act = OP_ACT_CLIP, .alpha = 0.0f, .beta = 6.0f},
      {.act = OP_ACT_SIGMOID},
      {.act = OP_ACT_TANH},
  };
  /* alternate the two widths to keep the number of kernel builds down */
  for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
    check(i % 2 ? &k16 : &k, ALGOS("depthwise"), &e[i]);
}

Test(conv, depthwise_in_kernel_pads) {
  /* conv_depthwise.cl reads X in place: every run of 16 outputs is interior (plain vectors),
     border (masked vectors) or at the tensor's ends (lane gather). Widths off the vector (37, 35
     outputs), rows narrower than one run (5), 1x1 maps, stride 1, 2 and 3 (the gather path),
     pads 0..2, dilation 2, multiplier 2, batch 3, each against the naive reference */
  struct ccase k[] = {
      {3, 5, 9, 37, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5, 1, 0, NULL},
      {2, 6, 11, 70, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 6, 1, 0, NULL},
      {1, 4, 8, 71, 4, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 4, 1, 0, NULL},
      {2, 3, 1, 1, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 0, NULL},
      {1, 7, 5, 5, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 7, 1, 0, NULL},
      {2, 4, 10, 40, 8, 5, 5, 1, 1, 2, 2, 4, 4, 2, 2, 4, 1, 0, NULL},
      {1, 3, 9, 50, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3, 1, 0, NULL},
  };
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) check(&k[i], ALGOS("depthwise"), NULL);
  /* MobileNetV2's fused epilogue: bias + Clip(0, 6), and + residual on a stride-1 block */
  struct op_epilogue clip = {.act = OP_ACT_CLIP, .alpha = 0.0f, .beta = 6.0f},
                     res = {.act = OP_ACT_CLIP, .alpha = 0.0f, .beta = 6.0f, .has_residual = 1};
  check(&k[1], ALGOS("depthwise"), &clip);
  check(&k[0], ALGOS("depthwise"), &res);
}

Test(conv, narrow_stems) {
  /* the narrow algorithm (<= 4 input channels per group): MobileNetV2's stem 3x3/2 pad 1,
     SqueezeNet's unpadded one, ResNet's 7x7/2 pad 3 (reduced maps), K off its register tile
     (10, 7), 2 input channels per group, batch 2, the fused epilogue, a 1-D conv */
  struct ccase k[] = {
      {2, 3, 33, 35, 10, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, NULL},
      {1, 3, 31, 40, 7, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0, NULL},
      {1, 3, 30, 38, 8, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, 0, 0, NULL},
      {2, 4, 9, 21, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 0, NULL},
      {1, 2, 1, 45, 5, 1, 5, 1, 1, 1, 1, 0, 2, 0, 2, 1, 1, 1, NULL},
  };
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) check(&k[i], ALGOS("narrow"), NULL);
  struct op_epilogue e = {.act = OP_ACT_RELU, .has_residual = 1, .residual_after_act = 1};
  check(&k[0], ALGOS("narrow"), &e);
}

Test(conv, pointwise_1x1) {
  struct ccase k = {3, 17, 7, 9, 23, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, NULL};
  check(&k, ALGOS("direct", "gemm", "im2col"), NULL);
  struct ccase g = {2, 8, 5, 5, 6, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 1, 0, NULL};
  check(&g, ALGOS("direct", "gemm", "im2col"), NULL);
  struct ccase s2 = {1, 16, 9, 9, 24, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0, NULL};
  check(&s2, ALGOS("direct", "gemm", "im2col"), NULL);
}

Test(conv, products_in_either_engine_layout) {
  /* gemm and im2col hand the GEMM engine plain columns (CLBlast, or grouped convs) or write our
     packed kernel's B panels themselves (groups 1): force each implementation so both layouts
     run, on strided 1x1s, a padded 3x3/2, groups 2, batch 3 (panels per image) and column counts
     off the 16-wide panel, with bias, activation and residual fused into the product */
  const struct ccase cases[] = {
      {3, 16, 9, 9, 24, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0, NULL},
      {2, 8, 11, 7, 10, 1, 1, 3, 2, 1, 1, 0, 0, 0, 0, 2, 1, 0, NULL},
      {3, 5, 13, 11, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, NULL},
      {2, 6, 9, 10, 8, 3, 3, 1, 2, 2, 1, 2, 1, 0, 2, 2, 1, 0, NULL},
  };
  const struct op_epilogue relu_res = {.act = OP_ACT_RELU, .has_residual = 1};
  const char *const impls[] = {"packed", "clblast"};
  for (int i = 0; i < 2; i++) {
    tu_set_option("gemm.impl", impls[i]);
    for (size_t j = 0; j < sizeof cases / sizeof cases[0]; j++) {
      const struct ccase *k = &cases[j];
      if (k->R == 1)
        check(k, ALGOS("gemm", "im2col"), j % 2 ? &relu_res : NULL);
      else
        check(k, ALGOS("im2col"), j % 2 ? &relu_res : NULL);
    }
  }
  tu_set_option("gemm.impl", NULL);
}

Test(conv, auto_pad_modes) {
  struct ccase u = {1, 3, 8, 7, 4, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0, "SAME_UPPER"};
  check(&u, ALGOS("direct", "im2col"), NULL);
  struct ccase l = {1, 3, 8, 7, 4, 4, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, "SAME_LOWER"};
  check(&l, ALGOS("direct", "im2col"), NULL);
  struct ccase v = {1, 3, 8, 7, 4, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, "VALID"};
  check(&v, ALGOS("direct", "winograd2", "winograd4", "im2col"), NULL);
}

Test(conv, one_dimensional) {
  struct ccase k = {2, 5, 1, 37, 6, 1, 5, 1, 2, 1, 1, 0, 2, 0, 1, 1, 1, 1, NULL};
  check(&k, ALGOS("direct", "im2col"), NULL);
}

Test(conv, fused_epilogues) {
  struct ccase k = {2, 9, 10, 10, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, NULL};
  struct op_epilogue e[] = {
      {.act = OP_ACT_RELU, .has_residual = 1},
      {.act = OP_ACT_RELU, .has_residual = 1, .residual_after_act = 1},
      {.act = OP_ACT_LEAKY_RELU, .alpha = 0.1f},
      {.act = OP_ACT_CLIP, .alpha = 0.0f, .beta = 0.5f},
      {.act = OP_ACT_SIGMOID},
      {.act = OP_ACT_TANH, .has_residual = 1},
  };
  /* each epilogue through one algorithm, rotating, so every kernel family sees the residual
     both before and after the activation without building every combination */
  const char *const rot[] = {"direct", "winograd4", "im2col"};
  for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
    const char *const one[] = {rot[i % 3], NULL};
    check(&k, one, &e[i]);
  }
  struct ccase p = {1, 8, 4, 4, 8, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, NULL};
  check(&p, ALGOS("gemm"), &e[0]);
  struct ccase d = {1, 8, 6, 6, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8, 1, 0, NULL};
  check(&d, ALGOS("depthwise"), &e[3]);
}

Test(conv, winograd_error) {
  /* a ResNet-like 64-channel layer: report the measured error of each Winograd variant */
  struct ccase k = {1, 64, 16, 16, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, NULL};
  double e2 = run_case(&k, "winograd2", NULL, 5), e4 = run_case(&k, "winograd4", NULL, 5),
         ed = run_case(&k, "direct", NULL, 5);
  cr_log_info("max rel error, C=K=64 16x16: direct %.2e, F(2x2,3x3) %.2e, F(4x4,3x3) %.2e", ed, e2,
              e4);
  cr_assert(ed <= 1e-4 && e2 <= 1e-4 && e4 <= 1e-3, "direct %.3g F2 %.3g F4 %.3g", ed, e2, e4);
}

Test(conv, winograd_through_clblast) {
  /* the GPU path of the Winograd products (CLBlast strided-batched SGEMM), forced on PoCL */
  tu_set_option("conv.blas", "1");
  struct ccase k = {2, 12, 9, 10, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, NULL};
  check(&k, ALGOS("winograd2", "winograd4"), NULL);
  tu_set_option("conv.blas", NULL);
}

Test(conv, heuristic_picks) {
  struct {
    struct ccase k;
    const char *cpu;
  } cases[] = {
      {{1, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, NULL}, "winograd4"},
      {{1, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 32, 0, 0, NULL}, "depthwise"},
      {{1, 3, 16, 16, 8, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, 0, 0, NULL}, "direct"},
      {{1, 16, 14, 14, 32, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 0, NULL}, "gemm"},
      {{1, 8, 40, 40, 64, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, NULL}, "direct"},
  };
  tu_set_option("conv.algo", NULL);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct ccase *k = &cases[i].k;
    struct nncl__attr attrs[8];
    int64_t store[16];
    int na = make_attrs(k, attrs, store);
    nncl_array x = TU_RAND(1, k->N, k->C, k->H, k->W),
               w = TU_RAND(2, k->K, k->C / k->groups, k->R, k->S);
    const nncl_array *in[] = {&x, &w};
    struct op_instance *oi;
    cr_assert_eq(op_instance_create(tu_ctx(), "Conv", 17, attrs, na, 2, in, 1, NULL, NULL, &oi),
                 NNCL_OK);
    if (nncl_context_device(tu_ctx())->is_cpu)
      cr_assert_str_eq(op_instance_call(oi)->algo, cases[i].cpu);
    op_instance_destroy(oi);
    nncl_array_free(&x);
    nncl_array_free(&w);
  }
}

/* Weights that are not constant at plan time (computed by an upstream node): the call is driven
   by hand with no host values, as the executor does for such a node. */
static void run_nonconst(const char *op_type, const char *algo, const struct ccase *k,
                         int transpose) {
  struct nncl__attr attrs[8];
  int64_t store[16];
  int na = make_attrs(k, attrs, store);
  nncl_array x = TU_RAND(3, k->N, k->C, k->H, k->W);
  nncl_array w = transpose ? TU_RAND(4, k->C, k->K / k->groups, k->R, k->S)
                           : TU_RAND(4, k->K, k->C / k->groups, k->R, k->S);
  nncl_array b = TU_RAND(5, k->K);
  struct op_tensor t[4] = {0};
  const nncl_array *arr[3] = {&x, &w, &b};
  for (int i = 0; i < 3; i++) {
    t[i].dtype = NNCL_FLOAT32;
    t[i].shape = arr[i]->shape;
  }
  const struct op_def *def = op_get(op_lookup(op_type));
  struct op_call c = {.ctx = tu_ctx(),
                      .def = def,
                      .op_type = op_type,
                      .node_name = "nonconst",
                      .opset = 17,
                      .attrs = attrs,
                      .n_attrs = na,
                      .n_in = 3,
                      .n_out = 1,
                      .in = t,
                      .out = t + 3};
  tu_set_option("conv.algo", algo);
  size_t ws = 0;
  cr_assert_eq(def->infer(&c), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_eq(def->plan(&c, &ws), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  tu_set_option("conv.algo", NULL);
  cr_assert_str_eq(c.algo, algo);
  for (int i = 0; i < 3; i++)
    cr_assert_eq(
        nncl__buffer_from_host(tu_ctx(), arr[i]->data, nncl_array_bytes(arr[i]), "in", &t[i].mem),
        NNCL_OK);
  size_t ny = (size_t)nncl_shape_numel(&t[3].shape);
  cr_assert_eq(nncl__buffer_create(tu_ctx(), ny * 4, "out", &t[3].mem), NNCL_OK);
  if (ws) cr_assert_eq(nncl__buffer_create(tu_ctx(), ws, "ws", &c.workspace), NNCL_OK);
  cr_assert_eq(def->enqueue(&c), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  float *got = malloc(ny * 4), *want = malloc(ny * 4);
  cr_assert_eq(nncl__buffer_download(tu_ctx(), t[3].mem, 0, got, ny * 4), NNCL_OK);
  struct conv_ref_geom g = ref_geom(k);
  if (transpose)
    conv_transpose_ref(&g, x.data, w.data, b.data, NULL, NULL, want);
  else
    conv_ref(&g, x.data, w.data, b.data, NULL, NULL, want);
  double e = tu_max_rel_error(got, want, ny);
  cr_assert(e <= 1e-4, "%s %s with computed weights: max rel error %.3g", op_type, algo, e);
  def->release(&c);
  for (int i = 0; i < 4; i++) nncl__buffer_release(t[i].mem);
  nncl__buffer_release(c.workspace);
  free(got);
  free(want);
  nncl_array_free(&x);
  nncl_array_free(&w);
  nncl_array_free(&b);
}

Test(conv, computed_weights) {
  struct ccase k = {2, 6, 9, 8, 10, 3, 3, 2, 1, 1, 1, 1, 0, 1, 1, 2, 1, 0, NULL};
  const char *const algos[] = {"direct", "im2col", "depthwise"};
  for (int i = 0; i < 2; i++) run_nonconst("Conv", algos[i], &k, 0);
  struct ccase d = {1, 6, 7, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6, 1, 0, NULL};
  run_nonconst("Conv", algos[2], &d, 0);
  struct ccase p = {2, 6, 5, 4, 10, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, NULL};
  run_nonconst("Conv", "gemm", &p, 0);
  struct ccase t = {2, 6, 4, 5, 4, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 2, 1, 0, NULL};
  run_nonconst("ConvTranspose", "gemm", &t, 1);
}

Test(conv, autotune_remembers_winner) {
  char dir[] = "/tmp/nncl_conv_tuneXXXXXX";
  cr_assert(mkdtemp(dir));
  setenv("NNCL_CACHE_DIR", dir, 1);
  nncl_context *ctx;
  char msg[512];
  cr_assert_eq(nncl_context_create(NULL, &ctx, msg, sizeof msg), NNCL_OK, "%s", msg);
  cr_assert_eq(nncl_context_set_option(ctx, "conv.autotune", "1"), NNCL_OK);
  struct ccase k = {1, 16, 10, 10, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, NULL};
  struct nncl__attr attrs[8];
  int64_t store[16];
  int na = make_attrs(&k, attrs, store);
  nncl_array x = TU_RAND(1, 1, 16, 10, 10), w = TU_RAND(2, 16, 16, 3, 3), b = TU_RAND(3, 16);
  const nncl_array *in[] = {&x, &w, &b};
  struct op_instance *oi;
  cr_assert_eq(op_instance_create(ctx, "Conv", 17, attrs, na, 3, in, 1, NULL, NULL, &oi), NNCL_OK,
               "%s", nncl_context_last_error(ctx));
  char first[32];
  snprintf(first, sizeof first, "%s", op_instance_call(oi)->algo);
  /* the tuned instance still computes the right thing */
  cr_assert_eq(op_instance_enqueue(oi), NNCL_OK);
  nncl_array out;
  cr_assert_eq(op_instance_read(oi, &out), NNCL_OK);
  float want[1600];
  struct conv_ref_geom g = ref_geom(&k);
  conv_ref(&g, x.data, w.data, b.data, NULL, NULL, want);
  cr_assert(tu_max_rel_error(out.data, want, 1600) <= tol(first));
  nncl_array_free(&out);
  op_instance_destroy(oi);
  char path[256], line[1024];
  snprintf(path, sizeof path, "%s/conv_autotune.txt", dir);
  FILE *f = fopen(path, "r");
  cr_assert(f, "no autotune file at %s", path);
  cr_assert(fgets(line, sizeof line, f));
  fclose(f);
  cr_assert(strstr(line, first), "file line '%s' does not name %s", line, first);
  /* rewrite the winner: a later plan must take it from the file without timing */
  char *sp = strrchr(line, ' ');
  cr_assert(sp);
  strcpy(sp, " im2col\n");
  f = fopen(path, "w");
  fputs(line, f);
  fclose(f);
  cr_assert_eq(op_instance_create(ctx, "Conv", 17, attrs, na, 3, in, 1, NULL, NULL, &oi), NNCL_OK);
  cr_assert_str_eq(op_instance_call(oi)->algo, "im2col");
  op_instance_destroy(oi);
  nncl_context_destroy(ctx);
  remove(path);
  rmdir(dir);
  nncl_array_free(&x);
  nncl_array_free(&w);
  nncl_array_free(&b);
  (void)all_algos;
}

Test(conv, empty_batch) {
  struct ccase k = {0, 8, 6, 6, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, NULL};
  const char *const algos[] = {"direct", "winograd4", "im2col"};
  for (int i = 0; i < 3; i++) {
    struct nncl__attr attrs[8];
    int64_t store[16];
    int na = make_attrs(&k, attrs, store);
    nncl_array x = TU_ZEROS(NNCL_FLOAT32, 0, 8, 6, 6), w = TU_RAND(2, 8, 8, 3, 3),
               b = TU_RAND(3, 8), out;
    const nncl_array *in[] = {&x, &w, &b};
    tu_set_option("conv.algo", algos[i]);
    tu_run_op("Conv", 17, attrs, na, 3, in, 1, &out);
    tu_set_option("conv.algo", NULL);
    cr_assert_eq(out.shape.rank, 4);
    cr_assert_eq(out.shape.dims[0], 0);
    cr_assert_eq(out.shape.dims[1], 8);
    nncl_array_free(&out);
    nncl_array_free(&x);
    nncl_array_free(&w);
    nncl_array_free(&b);
  }
}

static nncl_status try_conv(const struct ccase *k, int64_t wc) {
  struct nncl__attr attrs[8];
  int64_t store[16];
  int na = make_attrs(k, attrs, store);
  nncl_array x = TU_RAND(1, k->N, k->C, k->H, k->W), w = TU_RAND(2, k->K, wc, k->R, k->S), out;
  const nncl_array *in[] = {&x, &w};
  nncl_status st = tu_try_op("Conv", 17, attrs, na, 2, in, 1, &out);
  if (st == NNCL_OK) nncl_array_free(&out);
  nncl_array_free(&x);
  nncl_array_free(&w);
  return st;
}

Test(conv, bad_parameters) {
  struct ccase neg = {1, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, -1, 0, 0, 0, 1, 0, 0, NULL};
  cr_assert_eq(try_conv(&neg, 4), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "negative pads"), "%s",
            nncl_context_last_error(tu_ctx()));
  struct ccase grp = {1, 6, 8, 8, 4, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 4, 0, 0, NULL};
  cr_assert_eq(try_conv(&grp, 1), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "divisible by group"), "%s",
            nncl_context_last_error(tu_ctx()));
  struct ccase small = {1, 2, 3, 3, 2, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, NULL};
  cr_assert_eq(try_conv(&small, 2), NNCL_ERR_SHAPE);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "output size"), "%s",
            nncl_context_last_error(tu_ctx()));
  struct ccase wc = {1, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, NULL};
  cr_assert_eq(try_conv(&wc, 3), NNCL_ERR_SHAPE);
  /* 3-D convolution is reported as unsupported, naming the input */
  nncl_array x = TU_RAND(1, 1, 2, 4, 4, 4), w = TU_RAND(2, 2, 2, 3, 3, 3), out;
  const nncl_array *in[] = {&x, &w};
  cr_assert_eq(tu_try_op("Conv", 17, NULL, 0, 2, in, 1, &out), NNCL_ERR_UNSUPPORTED);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "[1, 2, 4, 4, 4]"));
  nncl_array_free(&x);
  nncl_array_free(&w);
}

/* One run of the case with algo forced, gemm.impl packed and gemm.prepack as given: the output
   and the kernels one enqueue launched. */
static nncl_array run_prepack(const struct ccase *k, const char *algo,
                              const struct op_epilogue *epi, const char *prepack,
                              unsigned long long *launches) {
  struct nncl__attr attrs[8];
  int64_t store[16];
  int na = make_attrs(k, attrs, store);
  nncl_array x = TU_RAND(5, k->N, k->C, k->H, k->W);
  nncl_array w = TU_RAND(6, k->K, k->C / k->groups, k->R, k->S), b = TU_RAND(7, k->K), res = {0};
  struct conv_ref_geom g = ref_geom(k);
  int64_t oh, ow;
  conv_ref_out_size(&g, 0, &oh, &ow);
  if (epi && epi->has_residual) res = TU_RAND(8, k->N, k->K, oh, ow);
  const nncl_array *in[3] = {&x, &w, &b};
  tu_set_option("conv.algo", algo);
  tu_set_option("gemm.impl", "packed");
  tu_set_option("gemm.prepack", prepack);
  struct op_instance *oi;
  nncl_status st = op_instance_create(tu_ctx(), "Conv", 17, attrs, na, 3, in, 1, epi,
                                      epi && epi->has_residual ? &res : NULL, &oi);
  cr_assert_eq(st, NNCL_OK, "%s: %s", algo, nncl_context_last_error(tu_ctx()));
  cr_assert_str_eq(op_instance_call(oi)->algo, algo);
  nncl_stats s0, s1;
  nncl_context_stats(tu_ctx(), &s0);
  cr_assert_eq(op_instance_enqueue(oi), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  nncl_context_stats(tu_ctx(), &s1);
  *launches = s1.kernel_launches - s0.kernel_launches;
  nncl_array out;
  cr_assert_eq(op_instance_read(oi, &out), NNCL_OK);
  /* the reference too, so a path that is wrong both ways cannot pass */
  size_t ny = (size_t)nncl_shape_numel(&out.shape);
  float *want = malloc(ny * sizeof *want);
  cr_assert(want);
  conv_ref(&g, x.data, w.data, b.data, epi, res.data, want);
  char what[160];
  snprintf(what, sizeof what, "%s gemm.prepack=%s N%lld C%lld K%lld %lldx%lld s%lld g%lld", algo,
           prepack, (long long)k->N, (long long)k->C, (long long)k->K, (long long)k->R,
           (long long)k->S, (long long)k->sh, (long long)k->groups);
  tu_assert_close((const float *)out.data, want, ny, 1e-4, 1e-5, what);
  op_instance_destroy(oi);
  tu_set_option("conv.algo", NULL);
  tu_set_option("gemm.impl", NULL);
  tu_set_option("gemm.prepack", NULL);
  free(want);
  nncl_array_free(&x);
  nncl_array_free(&w);
  nncl_array_free(&b);
  nncl_array_free(&res);
  return out;
}

/* Constant weights of a conv our packed GEMM runs are packed into its row panels once at plan
   time: a run launches one gemm_pack_a fewer per group than with gemm.prepack=0, and gives the
   same bits (the same kernels over the same panels), at Kg off the 6-row panel, groups 2 and 3,
   batch 3 (one packed A for every image), strided 1x1 (unfold) and 3x3 im2col, bias, activation
   and residual fused. Both runs also match the reference (rtol 1e-4, atol 1e-5: float sums of at
   most 27 products of values in [-1, 1)). */
Test(conv, gemm_weights_packed_once) {
  const struct ccase cases[] = {
      {3, 12, 5, 7, 14, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 1, 0, NULL},
      {2, 16, 9, 9, 13, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0, NULL},
      {3, 9, 7, 6, 15, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 0, NULL},
      {1, 3, 8, 9, 20, 3, 3, 2, 2, 1, 1, 1, 0, 1, 0, 1, 1, 0, NULL},
  };
  const struct op_epilogue relu_res = {.act = OP_ACT_RELU, .has_residual = 1};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct ccase *k = &cases[i];
    const char *algo = k->R == 1 ? "gemm" : "im2col";
    const struct op_epilogue *epi = i % 2 ? &relu_res : NULL;
    unsigned long long once, every;
    nncl_array a = run_prepack(k, algo, epi, "1", &once);
    nncl_array b = run_prepack(k, algo, epi, "0", &every);
    cr_assert_eq(
        every - once, (unsigned long long)k->groups,
        "%s case %zu: %llu launches with W packed at plan time, %llu without (groups %lld)", algo,
        i, once, every, (long long)k->groups);
    const size_t n = (size_t)nncl_shape_numel(&a.shape);
    const float *pa = a.data, *pb = b.data;
    for (size_t j = 0; j < n; j++)
      cr_assert(memcmp(&pa[j], &pb[j], 4) == 0,
                "%s case %zu: element %zu is %.9g packed once, %.9g packed every run", algo, i, j,
                pa[j], pb[j]);
    nncl_array_free(&a);
    nncl_array_free(&b);
  }
}
