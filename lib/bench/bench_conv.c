/* bench_conv.c: `nncl bench conv`: the fixed table of real convolution layers (ResNet-18, the
   1x1s and 3x3s of ResNet-50, VGG-16, AlexNet conv1, SqueezeNet conv1, MobileNetV2 stem, pointwise
   and depthwise, a DeconvNet-style upsampling layer), each timed through the real op path with
   every eligible algorithm forced in turn, the heuristic's pick, and the CLBlast SGEMM of the
   layer's implicit GEMM size as the same-run yardstick. */
#include <stdio.h>
#include <string.h>

#include "nncl/bench.h"
#include "op.h"

/* net, name, transpose, C, H, W, K, R, S, stride, pad, groups, output_padding, quick */
static const nncl_bench_conv_layer layers[] = {
    {"resnet18", "conv1 7x7/2 3->64", 0, 3, 224, 224, 64, 7, 7, 2, 3, 1, 0, 1},
    {"resnet18", "layer1 3x3 64->64", 0, 64, 56, 56, 64, 3, 3, 1, 1, 1, 0, 1},
    {"resnet18", "layer2.0 3x3/2 64->128", 0, 64, 56, 56, 128, 3, 3, 2, 1, 1, 0, 0},
    {"resnet18", "layer2 3x3 128->128", 0, 128, 28, 28, 128, 3, 3, 1, 1, 1, 0, 1},
    {"resnet18", "layer2 down 1x1/2 64->128", 0, 64, 56, 56, 128, 1, 1, 2, 0, 1, 0, 0},
    {"resnet18", "layer3.0 3x3/2 128->256", 0, 128, 28, 28, 256, 3, 3, 2, 1, 1, 0, 0},
    {"resnet18", "layer3 3x3 256->256", 0, 256, 14, 14, 256, 3, 3, 1, 1, 1, 0, 1},
    {"resnet18", "layer3 down 1x1/2 128->256", 0, 128, 28, 28, 256, 1, 1, 2, 0, 1, 0, 1},
    {"resnet18", "layer4.0 3x3/2 256->512", 0, 256, 14, 14, 512, 3, 3, 2, 1, 1, 0, 0},
    {"resnet18", "layer4 3x3 512->512", 0, 512, 7, 7, 512, 3, 3, 1, 1, 1, 0, 1},
    {"resnet18", "layer4 down 1x1/2 256->512", 0, 256, 14, 14, 512, 1, 1, 2, 0, 1, 0, 0},
    {"resnet50", "layer1 1x1 64->256", 0, 64, 56, 56, 256, 1, 1, 1, 0, 1, 0, 0},
    {"resnet50", "layer1 1x1 256->64", 0, 256, 56, 56, 64, 1, 1, 1, 0, 1, 0, 0},
    {"resnet50", "layer2 down 1x1/2 256->512", 0, 256, 56, 56, 512, 1, 1, 2, 0, 1, 0, 0},
    {"resnet50", "layer2 1x1 512->128", 0, 512, 28, 28, 128, 1, 1, 1, 0, 1, 0, 0},
    {"resnet50", "layer3 1x1 1024->256", 0, 1024, 14, 14, 256, 1, 1, 1, 0, 1, 0, 0},
    {"resnet50", "layer3 1x1 256->1024", 0, 256, 14, 14, 1024, 1, 1, 1, 0, 1, 0, 0},
    {"resnet50", "layer4 1x1 2048->512", 0, 2048, 7, 7, 512, 1, 1, 1, 0, 1, 0, 0},
    {"resnet50", "layer4 1x1 512->2048", 0, 512, 7, 7, 2048, 1, 1, 1, 0, 1, 0, 0},
    {"resnet50", "layer1 3x3 64->64", 0, 64, 56, 56, 64, 3, 3, 1, 1, 1, 0, 0},
    {"resnet50", "layer2.0 3x3/2 128->128", 0, 128, 56, 56, 128, 3, 3, 2, 1, 1, 0, 0},
    {"resnet50", "layer2 3x3 128->128", 0, 128, 28, 28, 128, 3, 3, 1, 1, 1, 0, 0},
    {"resnet50", "layer3.0 3x3/2 256->256", 0, 256, 28, 28, 256, 3, 3, 2, 1, 1, 0, 0},
    {"resnet50", "layer3 3x3 256->256", 0, 256, 14, 14, 256, 3, 3, 1, 1, 1, 0, 0},
    {"resnet50", "layer4.0 3x3/2 512->512", 0, 512, 14, 14, 512, 3, 3, 2, 1, 1, 0, 0},
    {"resnet50", "layer4 3x3 512->512", 0, 512, 7, 7, 512, 3, 3, 1, 1, 1, 0, 0},
    {"vgg16", "conv1_1 3x3 3->64", 0, 3, 224, 224, 64, 3, 3, 1, 1, 1, 0, 0},
    {"vgg16", "conv1_2 3x3 64->64", 0, 64, 224, 224, 64, 3, 3, 1, 1, 1, 0, 0},
    {"vgg16", "conv2_1 3x3 64->128", 0, 64, 112, 112, 128, 3, 3, 1, 1, 1, 0, 0},
    {"vgg16", "conv2_2 3x3 128->128", 0, 128, 112, 112, 128, 3, 3, 1, 1, 1, 0, 0},
    {"vgg16", "conv3_1 3x3 128->256", 0, 128, 56, 56, 256, 3, 3, 1, 1, 1, 0, 0},
    {"vgg16", "conv3_2 3x3 256->256", 0, 256, 56, 56, 256, 3, 3, 1, 1, 1, 0, 0},
    {"vgg16", "conv4_1 3x3 256->512", 0, 256, 28, 28, 512, 3, 3, 1, 1, 1, 0, 0},
    {"vgg16", "conv4_2 3x3 512->512", 0, 512, 28, 28, 512, 3, 3, 1, 1, 1, 0, 0},
    {"vgg16", "conv5 3x3 512->512", 0, 512, 14, 14, 512, 3, 3, 1, 1, 1, 0, 0},
    {"alexnet", "conv1 11x11/4 3->64", 0, 3, 224, 224, 64, 11, 11, 4, 2, 1, 0, 1},
    {"squeezenet", "conv1 3x3/2 3->64", 0, 3, 224, 224, 64, 3, 3, 2, 0, 1, 0, 0},
    {"mobilenetv2", "stem 3x3/2 3->32", 0, 3, 224, 224, 32, 3, 3, 2, 1, 1, 0, 0},
    {"mobilenetv2", "pw 16->96 @112", 0, 16, 112, 112, 96, 1, 1, 1, 0, 1, 0, 0},
    {"mobilenetv2", "pw 96->24 @56", 0, 96, 56, 56, 24, 1, 1, 1, 0, 1, 0, 0},
    {"mobilenetv2", "pw 384->64 @14", 0, 384, 14, 14, 64, 1, 1, 1, 0, 1, 0, 0},
    {"mobilenetv2", "pw 320->1280 @7", 0, 320, 7, 7, 1280, 1, 1, 1, 0, 1, 0, 0},
    {"mobilenetv2", "dw 3x3 32 @112", 0, 32, 112, 112, 32, 3, 3, 1, 1, 32, 0, 0},
    {"mobilenetv2", "dw 3x3/2 96 @112", 0, 96, 112, 112, 96, 3, 3, 2, 1, 96, 0, 0},
    {"mobilenetv2", "dw 3x3 144 @56", 0, 144, 56, 56, 144, 3, 3, 1, 1, 144, 0, 1},
    {"mobilenetv2", "dw 3x3/2 144 @56", 0, 144, 56, 56, 144, 3, 3, 2, 1, 144, 0, 0},
    {"mobilenetv2", "dw 3x3 192 @28", 0, 192, 28, 28, 192, 3, 3, 1, 1, 192, 0, 0},
    {"mobilenetv2", "dw 3x3/2 192 @28", 0, 192, 28, 28, 192, 3, 3, 2, 1, 192, 0, 0},
    {"mobilenetv2", "dw 3x3 384 @14", 0, 384, 14, 14, 384, 3, 3, 1, 1, 384, 0, 0},
    {"mobilenetv2", "dw 3x3 576 @14", 0, 576, 14, 14, 576, 3, 3, 1, 1, 576, 0, 0},
    {"mobilenetv2", "dw 3x3/2 576 @14", 0, 576, 14, 14, 576, 3, 3, 2, 1, 576, 0, 0},
    {"mobilenetv2", "dw 3x3 960 @7", 0, 960, 7, 7, 960, 3, 3, 1, 1, 960, 0, 0},
    {"deconvnet", "deconv 3x3/2 256->128 28->56", 1, 256, 28, 28, 128, 3, 3, 2, 1, 1, 1, 1},
};

int nncl_bench_conv_layers(const nncl_bench_conv_layer **out) {
  if (out) *out = layers;
  return (int)(sizeof layers / sizeof layers[0]);
}

static void out_size(const nncl_bench_conv_layer *l, int *oh, int *ow) {
  if (!l->transpose) {
    *oh = (l->H + 2 * l->pad - l->R) / l->stride + 1;
    *ow = (l->W + 2 * l->pad - l->S) / l->stride + 1;
  } else {
    *oh = l->stride * (l->H - 1) + l->output_padding + l->R - 2 * l->pad;
    *ow = l->stride * (l->W - 1) + l->output_padding + l->S - 2 * l->pad;
  }
}

/* Plans the layer with `algo` forced (NULL: the heuristic) and times it. *ran receives the
   algorithm that actually ran (a forced but ineligible choice falls back). */
static nncl_status time_layer(nncl_context *ctx, const nncl_bench_conv_layer *l, int batch,
                              const char *algo, int runs, char *ran, size_t ran_len,
                              double *seconds) {
  nncl_array x = {0}, w = {0}, b = {0};
  nncl_shape xs = {4, {batch, l->C, l->H, l->W}};
  nncl_shape ws = {
      4,
      {l->transpose ? l->C : l->K, l->transpose ? l->K / l->groups : l->C / l->groups, l->R, l->S}};
  nncl_shape bs = {1, {l->K}};
  nncl_status st = nncl_array_alloc(&x, NNCL_FLOAT32, &xs);
  if (st == NNCL_OK) st = nncl_array_alloc(&w, NNCL_FLOAT32, &ws);
  if (st == NNCL_OK) st = nncl_array_alloc(&b, NNCL_FLOAT32, &bs);
  if (st != NNCL_OK) {
    nncl_array_free(&x);
    nncl_array_free(&w);
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "bench conv arrays");
  }
  /* small deterministic values: timing does not depend on them, but NaNs or denormals would */
  for (int64_t i = 0, n = nncl_shape_numel(&xs); i < n; i++)
    ((float *)x.data)[i] = (float)(i % 7) * 0.1f;
  for (int64_t i = 0, n = nncl_shape_numel(&ws); i < n; i++)
    ((float *)w.data)[i] = (float)(i % 5) * 0.01f;
  for (int64_t i = 0; i < l->K; i++) ((float *)b.data)[i] = 0.1f;
  struct nncl__attr attrs[8];
  int na = 0;
  attrs[na++] = A_INTS("kernel_shape", l->R, l->S);
  attrs[na++] = A_INTS("strides", l->stride, l->stride);
  attrs[na++] = A_INTS("pads", l->pad, l->pad, l->pad, l->pad);
  attrs[na++] = A_INT("group", l->groups);
  struct nncl__attr opad = A_INTS("output_padding", l->output_padding, l->output_padding);
  if (l->transpose) attrs[na++] = opad;
  const nncl_array *in[] = {&x, &w, &b};
  struct op_epilogue epi = {.act = OP_ACT_RELU};
  struct op_instance *oi = NULL;
  /* the op reads conv.algo from the context: set it for this one plan, then put it back */
  unsigned char saved = ctx->options.v[NNCL__OPT_CONV_ALGO];
  st = nncl_context_set_option(ctx, "conv.algo", algo ? algo : "auto");
  if (st == NNCL_OK)
    st = op_instance_create(ctx, l->transpose ? "ConvTranspose" : "Conv", 17, attrs, na, 3, in, 1,
                            &epi, NULL, &oi);
  ctx->options.v[NNCL__OPT_CONV_ALGO] = saved;
  if (st == NNCL_OK) {
    snprintf(ran, ran_len, "%s", op_instance_call(oi)->algo ? op_instance_call(oi)->algo : "?");
    st = op_instance_time(oi, 1, runs, seconds);
  }
  op_instance_destroy(oi);
  nncl_array_free(&x);
  nncl_array_free(&w);
  nncl_array_free(&b);
  return st;
}

nncl_status nncl_bench_conv_run(nncl_context *ctx, const nncl_bench_conv_layer *l, int batch,
                                int runs, int all_algos, nncl_bench_conv_result *r) {
  if (!ctx || !l || !r || batch < 1) return NNCL_ERR_INVALID_ARGUMENT;
  memset(r, 0, sizeof *r);
  int oh, ow;
  out_size(l, &oh, &ow);
  double cg = (double)(l->C / l->groups),
         kk = l->transpose ? (double)(l->K / l->groups) : (double)l->K;
  double spatial = l->transpose ? (double)l->H * l->W : (double)oh * ow;
  double cin = l->transpose ? (double)l->C : cg;
  r->flops = 2.0 * batch * kk * cin * l->R * l->S * spatial;
  r->out_h = oh;
  r->out_w = ow;
  NNCL_TRY(time_layer(ctx, l, batch, NULL, runs, r->picked, sizeof r->picked, &r->picked_seconds));
  r->picked_gflops = r->flops / r->picked_seconds * 1e-9;
  static const char *const conv_algos[] = {"direct", "winograd2", "winograd4", "gemm",
                                           "im2col", "depthwise", "narrow"};
  static const char *const convt_algos[] = {"direct", "gemm"};
  const char *const *names = l->transpose ? convt_algos : conv_algos;
  int n_names = l->transpose ? (int)(sizeof convt_algos / sizeof *convt_algos)
                             : (int)(sizeof conv_algos / sizeof *conv_algos);
  for (int i = 0; all_algos && i < n_names && r->n_algos < NNCL_BENCH_CONV_MAX_ALGOS; i++) {
    char ran[32];
    double t;
    nncl_status st = time_layer(ctx, l, batch, names[i], runs, ran, sizeof ran, &t);
    if (st == NNCL_OK && strcmp(ran, names[i]) != 0) continue; /* not eligible for this layer */
    nncl_bench_conv_algo *a = &r->algos[r->n_algos++];
    snprintf(a->name, sizeof a->name, "%s", names[i]);
    a->seconds = st == NNCL_OK ? t : -1;
    a->gflops = st == NNCL_OK ? r->flops / t * 1e-9 : -1;
  }
  /* yardstick: the implicit GEMM of the layer, M = output channels, N = output pixels of the
     batch, K = reduction length (groups folded in so the FLOPs match) */
  size_t m = (size_t)kk, n = (size_t)batch * (size_t)spatial, k = (size_t)(cin * l->R * l->S);
  if (!l->transpose && l->groups > 1) k = (size_t)(cg * l->R * l->S);
  NNCL_TRY(nncl_bench_sgemm(ctx, m, n, k, runs, &r->sgemm_seconds, &r->sgemm_gflops));
  return NNCL_OK;
}
