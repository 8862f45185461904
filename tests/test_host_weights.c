/* test_host_weights.c: weights used in place in host memory (graph.host_weights=1, the default:
   constants and the Winograd / packed conv filters made at plan time, CL_MEM_USE_HOST_PTR on a
   host-unified device such as PoCL's CPU device) give the same bits as weights copied into device
   buffers (=0), with every conv algorithm that transforms weights; and planning the same graph
   again gives the same bits. Exact equality is the right bar: the same kernels read the same
   floats, only where they lie differs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/nncl.h"
#include "test_util.h"

/* Runs g on its planned input and returns output 0 (caller frees). */
static nncl_array run_once(nncl_graph *g, const char *what) {
  nncl_context *ctx = nncl_graph_context(g);
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s: %s", what, nncl_context_last_error(ctx));
  nncl_array y;
  cr_assert_eq(nncl_graph_get_output(g, 0, &y), NNCL_OK, "%s: %s", what,
               nncl_context_last_error(ctx));
  return y;
}

static void same_bits(const nncl_array *a, const nncl_array *b, const char *what) {
  size_t n = nncl_array_bytes(a) / sizeof(float);
  cr_assert_eq(nncl_array_bytes(a), nncl_array_bytes(b), "%s: sizes differ", what);
  const float *x = a->data, *y = b->data;
  for (size_t i = 0; i < n; i++)
    cr_assert(memcmp(&x[i], &y[i], sizeof(float)) == 0, "%s: element %zu is %.9g, not %.9g", what,
              i, (double)y[i], (double)x[i]);
}

static void check_model(const char *rel, const char *conv_algo) {
  const char *data = getenv("NNCL_TEST_DATA");
  cr_assert(data, "NNCL_TEST_DATA is not set (meson test sets it)");
  char path[4096], what[256];
  snprintf(path, sizeof path, "%s/%s", data, rel);
  nncl_context *ctx = tu_ctx();
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_onnx_load(ctx, path, &g), NNCL_OK, "%s: %s", rel, nncl_context_last_error(ctx));
  cr_assert_eq(nncl_graph_set_option(g, "conv.algo", conv_algo), NNCL_OK);
  nncl_dtype dt;
  nncl_shape s;
  cr_assert_eq(nncl_graph_input_info(g, 0, &dt, &s), NNCL_OK);
  for (int d = 0; d < s.rank; d++)
    if (s.dims[d] < 0) s.dims[d] = 2; /* batch 2 */
  nncl_array x;
  cr_assert_eq(nncl_array_alloc(&x, NNCL_FLOAT32, &s), NNCL_OK);
  float *xf = x.data;
  for (int64_t i = 0; i < nncl_shape_numel(&s); i++)
    xf[i] = (float)((i * 7919) % 2003) / 1001.f - 1;

  const int unified = nncl_context_device(ctx)->host_unified_memory;
  nncl_array ref = {0};
  const char *const order[] = {"1", "0", "1"}; /* the last plans the first setting again */
  for (int k = 0; k < 3; k++) {
    snprintf(what, sizeof what, "%s conv.algo=%s graph.host_weights=%s (plan %d)", rel, conv_algo,
             order[k], k + 1);
    cr_assert_eq(nncl_graph_set_option(g, "graph.host_weights", order[k]), NNCL_OK);
    cr_assert_eq(nncl_graph_set_input(g, nncl_graph_input_name(g, 0), &x), NNCL_OK, "%s: %s", what,
                 nncl_context_last_error(ctx));
    nncl_stats s0, s1;
    nncl_context_stats(ctx, &s0);
    cr_assert_eq(nncl_graph_plan(g), NNCL_OK, "%s: %s", what, nncl_context_last_error(ctx));
    nncl_context_stats(ctx, &s1);
    const uint64_t in_place = s1.host_buffers - s0.host_buffers;
    if (order[k][0] == '0' || !unified)
      cr_assert_eq(in_place, 0, "%s: %llu buffers over host memory", what,
                   (unsigned long long)in_place);
    else
      cr_assert_gt(in_place, 0, "%s: no buffer over host memory on a host-unified device", what);
    nncl_array y = run_once(g, what);
    if (k == 0)
      ref = y;
    else {
      same_bits(&ref, &y, what);
      nncl_array_free(&y);
    }
  }
  nncl_array_free(&ref);
  nncl_array_free(&x);
  nncl_graph_destroy(g);
}

/* ResNet-mini: 3x3 convs (Winograd-eligible), 1x1/2 downsampling, BatchNorm folded into new
   constants, Gemm weights. Each forced algorithm makes its own transformed weights. */
Test(host_weights, resnet_mini_auto) { check_model("../models/resnet_mini/model.onnx", "auto"); }
Test(host_weights, resnet_mini_winograd2) {
  check_model("../models/resnet_mini/model.onnx", "winograd2");
}
Test(host_weights, resnet_mini_winograd4) {
  check_model("../models/resnet_mini/model.onnx", "winograd4");
}
Test(host_weights, resnet_mini_direct) {
  check_model("../models/resnet_mini/model.onnx", "direct");
}
