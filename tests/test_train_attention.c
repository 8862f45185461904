/* test_train_attention.c: training a Transformer encoder layer against PyTorch. Fixtures in
   tests/data/train/tf_* come from tools/make_transformer_fixtures.py: nn.Embedding(20, 32) ->
   nn.TransformerEncoderLayer(32, 4 heads, ff 64, dropout 0, exact GELU, batch_first) -> mean over
   7 tokens -> nn.Linear(32, 5), exported at opset 17 (LayerNormalization nodes) and 13 (LayerNorm
   as ReduceMean/Sub/Pow/Sqrt/Div), three batches of 8 sequences, PyTorch's first-batch gradients
   and its parameters after three Adam steps.
   Tolerances: loss 2e-6 absolute (float32 round-off of a sum of 8 log-probabilities ~1.4);
   gradients 1e-4 relative + 1e-6 x the tensor's largest |gradient|: both sides are float32 with
   other summation orders through ~10 chained reductions (LayerNorm's variance, softmax, means);
   measured within 1/10 of that bound, while a missed term or a wrong scale moves a gradient by
   10% or more. Parameters after Adam: 1e-4 relative + 1e-5 absolute. Adam steps by
   lr m / sqrt(v), about lr whatever the gradient's size, so an element whose gradient is ~1e-3 of
   its tensor's largest carries its float32 noise (~1e-3 relative) into a step of lr = 0.01:
   1e-5. The key projection's bias (in_proj_bias[32:64]) has exactly zero gradient (softmax is
   shift-invariant along the keys), so both sides step on round-off there: its gradient is checked
   to be below 1e-6 of the tensor's largest on both sides and its Adam result is not compared. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/onnx.h"
#include "nncl/train.h"
#include "test_util.h"
#include "trainer_internal.h"

static void fixture_path(char *buf, size_t len, const char *file) {
  const char *data = getenv("NNCL_TEST_DATA");
  cr_assert(data && *data, "NNCL_TEST_DATA is not set (run through meson test)");
  snprintf(buf, len, "%s/train/%s", data, file);
}

static nncl_array load_npy(const char *file) {
  char path[1024];
  nncl_array a;
  fixture_path(path, sizeof path, file);
  cr_assert_eq(nncl_npy_load(tu_ctx(), path, &a), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  return a;
}

static nncl_graph *load_model(const char *file) {
  char path[1024];
  nncl_graph *g;
  fixture_path(path, sizeof path, file);
  cr_assert_eq(nncl_onnx_load(tu_ctx(), path, &g), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  return g;
}

/* Batch b (8 sequences of 7 tokens) of the fixture's x and y. */
static void batch(const nncl_array *x, const nncl_array *y, int b, nncl_array *xb, nncl_array *yb) {
  *xb = (nncl_array){.dtype = NNCL_INT64, .shape = {.rank = 2, .dims = {8, 7}}};
  xb->data = (int64_t *)x->data + (size_t)b * 8 * 7;
  *yb = (nncl_array){.dtype = NNCL_INT64, .shape = {.rank = 1, .dims = {8}}};
  yb->data = (int64_t *)y->data + (size_t)b * 8;
}

#define N_PARAMS 15

/* Three Adam steps (lr 0.01) on the model file; checks the first loss and gradients and the
   parameters after the last step. */
static void against_pytorch(const char *model) {
  nncl_graph *m = load_model(model);
  nncl_array x = load_npy("tf_x.npy"), y = load_npy("tf_y.npy");
  nncl_trainer_options to;
  nncl_trainer_options_default(&to);
  nncl_optimizer_options_default(NNCL_OPTIM_ADAM, &to.optim);
  to.optim.lr = 0.01f;
  nncl_trainer *t;
  cr_assert_eq(nncl_trainer_create(m, &to, &t), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_trainer_num_params(t), N_PARAMS);
  for (int b = 0; b < 3; b++) {
    nncl_array xb, yb;
    batch(&x, &y, b, &xb, &yb);
    float loss;
    nncl_status st = nncl_trainer_step(t, &xb, &yb, &loss);
    cr_assert_eq(st, NNCL_OK, "step: %s", nncl_context_last_error(tu_ctx()));
    if (b) continue;
    /* PyTorch's first-batch loss, printed by the fixture script */
    cr_assert(fabsf(loss - 1.3667458f) < 2e-6f, "first loss %.7f, PyTorch 1.3667458", loss);
    for (int i = 0; i < N_PARAMS; i++) {
      char file[256];
      snprintf(file, sizeof file, "tf_grad.%s.npy", nncl_trainer_param_name(t, i));
      nncl_array want = load_npy(file), got;
      cr_assert_eq(nncl_graph_get_output_by_name(t->train, t->grad[i], &got), NNCL_OK);
      size_t n = (size_t)nncl_shape_numel(&want.shape);
      cr_assert_eq((size_t)nncl_shape_numel(&got.shape), n, "%s", file);
      double big = 0.0;
      for (size_t k = 0; k < n; k++) big = fmax(big, fabs(((float *)want.data)[k]));
      tu_assert_close((float *)got.data, (float *)want.data, n, 1e-4, 1e-6 * big, file);
      if (!strcmp(nncl_trainer_param_name(t, i), "enc.self_attn.in_proj_bias"))
        for (int k = 32; k < 64; k++)
          cr_assert(fabs(((float *)got.data)[k]) <= 1e-6 * big &&
                        fabs(((float *)want.data)[k]) <= 1e-6 * big,
                    "key bias gradient %d: %g here, %g in PyTorch", k,
                    (double)((float *)got.data)[k], (double)((float *)want.data)[k]);
      nncl_array_free(&want);
      nncl_array_free(&got);
    }
  }
  for (int i = 0; i < N_PARAMS; i++) {
    char file[256];
    snprintf(file, sizeof file, "tf_adam.%s.npy", nncl_trainer_param_name(t, i));
    nncl_array want = load_npy(file), got;
    cr_assert_eq(nncl_trainer_get_param(t, i, &got), NNCL_OK);
    const float *g = got.data, *w = want.data;
    size_t n = (size_t)nncl_shape_numel(&want.shape);
    if (!strcmp(nncl_trainer_param_name(t, i), "enc.self_attn.in_proj_bias")) {
      tu_assert_close(g, w, 32, 1e-4, 1e-5, "query bias after Adam");
      tu_assert_close(g + 64, w + 64, 32, 1e-4, 1e-5, "value bias after Adam");
    } else {
      tu_assert_close(g, w, n, 1e-4, 1e-5, file);
    }
    nncl_array_free(&want);
    nncl_array_free(&got);
  }
  nncl_trainer_destroy(t);
  nncl_graph_destroy(m);
  nncl_array_free(&x);
  nncl_array_free(&y);
}

Test(train_attention, encoder_opset17_layernorm_matches_pytorch) {
  against_pytorch("tf_encoder.onnx");
}

Test(train_attention, encoder_opset13_decomposed_layernorm_matches_pytorch) {
  against_pytorch("tf_encoder13.onnx");
}
