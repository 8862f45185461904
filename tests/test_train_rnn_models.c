/* test_train_rnn_models.c: whole recurrent networks trained by nncl_trainer against PyTorch.
   Fixtures in tests/data/train_rnn/ come from tools/make_rnn_fixtures.py: an LSTM and a GRU
   sequence classifier (time-first input [7, N, 5], hidden 6, the last hidden state through a
   linear layer to 4 classes) exported to ONNX by PyTorch with its gate-reordering Slice/Concat
   nodes, three batches of 4 sequences (batch axis 1), PyTorch's gradients of the mean
   cross-entropy on the first batch and its parameters after three Adam steps (lr 0.01).
   Tolerance as tests/test_train_trainer.c: gradients 1e-4 relative + 1e-6 absolute, parameters
   1e-4 relative + 2e-6 absolute: both sides compute in float32 with different summation orders
   (round-off ~1e-6 relative per reduction over 7 steps); a wrong gate, step or sign moves them
   by 1e-3 or more. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/onnx.h"
#include "nncl/train.h"
#include "test_util.h"
#include "trainer_internal.h"

enum { T = 7, FEAT = 5, BATCH = 4, N_PARAMS = 6 };

static nncl_array load_npy(const char *file) { return tu_data_npy("train_rnn", file); }

/* Batch b of x [T, 12, F] (columns 4b .. 4b + 3 of axis 1, copied) and its labels. */
static void batch(const nncl_array *x, const nncl_array *y, int b, nncl_array *xb, nncl_array *yb) {
  nncl_shape s = {.rank = 3, .dims = {T, BATCH, FEAT}};
  cr_assert_eq(nncl_array_alloc(xb, NNCL_FLOAT32, &s), NNCL_OK);
  const int64_t n = x->shape.dims[1];
  for (int t = 0; t < T; t++)
    memcpy((float *)xb->data + (size_t)t * BATCH * FEAT,
           (const float *)x->data + ((size_t)t * (size_t)n + (size_t)b * BATCH) * FEAT,
           sizeof(float) * BATCH * FEAT);
  *yb = (nncl_array){.dtype = NNCL_INT64, .shape = {.rank = 1, .dims = {BATCH}}};
  yb->data = (int64_t *)y->data + (size_t)b * BATCH;
}

/* Gradients on the first batch, then three Adam steps, against PyTorch; first_loss is the loss
   make_rnn_fixtures.py printed. */
static void against_pytorch(const char *cell, float first_loss) {
  char path[1024];
  tu_data_path(path, sizeof path, "train_rnn",
               strcmp(cell, "lstm") ? "gru_classifier.onnx" : "lstm_classifier.onnx");
  nncl_graph *m;
  cr_assert_eq(nncl_onnx_load(tu_ctx(), path, &m), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  nncl_array x = load_npy("x.npy"), y = load_npy("y.npy");
  nncl_trainer_options to;
  nncl_trainer_options_default(&to);
  nncl_optimizer_options_default(NNCL_OPTIM_ADAM, &to.optim);
  to.optim.lr = 0.01f;
  to.batch_axis = 1; /* time-first [T, N, F] */
  nncl_trainer *t;
  cr_assert_eq(nncl_trainer_create(m, &to, &t), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_trainer_num_params(t), N_PARAMS);
  for (int b = 0; b < 3; b++) {
    nncl_array xb, yb;
    batch(&x, &y, b, &xb, &yb);
    float loss;
    nncl_status st = nncl_trainer_step(t, &xb, &yb, &loss);
    cr_assert_eq(st, NNCL_OK, "%s step: %s", cell, nncl_context_last_error(tu_ctx()));
    nncl_array_free(&xb);
    if (b) continue;
    cr_assert(fabsf(loss - first_loss) < 4e-6f, "%s first loss %.7f, PyTorch %.7f", cell, loss,
              first_loss);
    for (int i = 0; i < N_PARAMS; i++) {
      char file[256];
      snprintf(file, sizeof file, "grad.%s.%s.npy", cell, nncl_trainer_param_name(t, i));
      nncl_array want = load_npy(file), got;
      cr_assert_eq(nncl_graph_get_output_by_name(t->train, t->grad[i], &got), NNCL_OK);
      size_t n = (size_t)nncl_shape_numel(&want.shape);
      cr_assert_eq((size_t)nncl_shape_numel(&got.shape), n, "%s", file);
      tu_assert_close((float *)got.data, (float *)want.data, n, 1e-4, 1e-6, file);
      nncl_array_free(&want);
      nncl_array_free(&got);
    }
  }
  for (int i = 0; i < N_PARAMS; i++) {
    char file[256];
    snprintf(file, sizeof file, "adam.%s.%s.npy", cell, nncl_trainer_param_name(t, i));
    nncl_array want = load_npy(file), got;
    cr_assert_eq(nncl_trainer_get_param(t, i, &got), NNCL_OK);
    tu_assert_close((float *)got.data, (float *)want.data, (size_t)nncl_shape_numel(&want.shape),
                    1e-4, 2e-6, file);
    nncl_array_free(&want);
    nncl_array_free(&got);
  }
  nncl_trainer_destroy(t);
  nncl_graph_destroy(m);
  nncl_array_free(&x);
  nncl_array_free(&y);
}

Test(train_rnn_models, lstm_classifier_matches_pytorch) { against_pytorch("lstm", 1.2343199f); }

Test(train_rnn_models, gru_classifier_adam_matches_pytorch) { against_pytorch("gru", 1.5997036f); }

/* A time-first batch given to a trainer that expects samples on axis 0 is a clear error naming
   the axis, and an impossible axis is refused at creation. */
Test(train_rnn_models, wrong_batch_axis_is_a_clear_error) {
  char path[1024];
  tu_data_path(path, sizeof path, "train_rnn", "gru_classifier.onnx");
  nncl_graph *m;
  cr_assert_eq(nncl_onnx_load(tu_ctx(), path, &m), NNCL_OK);
  nncl_array x = load_npy("x.npy"), y = load_npy("y.npy"), xb, yb;
  nncl_trainer_options to;
  nncl_trainer_options_default(&to);
  nncl_trainer *t;
  to.batch_axis = -1;
  cr_assert_eq(nncl_trainer_create(m, &to, &t), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "batch axis -1"), "%s",
            nncl_context_last_error(tu_ctx()));
  to.batch_axis = 0;
  cr_assert_eq(nncl_trainer_create(m, &to, &t), NNCL_OK);
  batch(&x, &y, 0, &xb, &yb);
  cr_assert_eq(nncl_trainer_step(t, &xb, &yb, NULL), NNCL_ERR_SHAPE);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "(batch axis 0)"), "%s",
            nncl_context_last_error(tu_ctx()));
  nncl_array_free(&xb);
  nncl_trainer_destroy(t);
  nncl_graph_destroy(m);
  nncl_array_free(&x);
  nncl_array_free(&y);
}

/* Initialisation from scratch covers recurrent layers as PyTorch draws them: the demo GRU's W, R
   and B (constant initializers of its GRU node) come out of U(-1/8, 1/8) (hidden 64), spread
   over that range (the largest |value| above 0.12 of 12288 R draws, the smallest below 0.001),
   and differ from the trained values; two seeds give different values. */
Test(train_rnn_models, init_from_scratch_covers_gru_weights) {
  const char *data = getenv("NNCL_TEST_DATA");
  cr_assert(data && *data, "NNCL_TEST_DATA is not set (run through meson test)");
  char path[1024];
  snprintf(path, sizeof path, "%s/../../models/fashion_gru.onnx", data);
  nncl_graph *m;
  cr_assert_eq(nncl_onnx_load(tu_ctx(), path, &m), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  nncl_trainer *t;
  cr_assert_eq(nncl_trainer_create(m, NULL, &t), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  int n = nncl_trainer_num_params(t), seen = 0;
  nncl_array before[8], after[8];
  cr_assert(n <= 8);
  for (int i = 0; i < n; i++) cr_assert_eq(nncl_trainer_get_param(t, i, &before[i]), NNCL_OK);
  cr_assert_eq(nncl_trainer_init_kaiming(t, 7), NNCL_OK);
  for (int i = 0; i < n; i++) {
    cr_assert_eq(nncl_trainer_get_param(t, i, &after[i]), NNCL_OK);
    const float *a = after[i].data, *b = before[i].data;
    size_t k = (size_t)nncl_shape_numel(&after[i].shape);
    if (strncmp(nncl_trainer_param_name(t, i), "onnx::GRU_", 10) != 0) continue;
    seen++;
    double hi = 0, lo = 1, same = 0;
    for (size_t e = 0; e < k; e++) {
      hi = fmax(hi, fabs(a[e]));
      lo = fmin(lo, fabs(a[e]));
      same += a[e] == b[e];
    }
    cr_assert(hi <= 0.125 && hi > 0.12 * (k >= 12288 ? 1.0 : 0.9) && same < 2,
              "%s: max %g, %g kept", nncl_trainer_param_name(t, i), hi, same);
    if (k >= 12288) cr_assert(lo < 1e-3, "%s: min |value| %g", nncl_trainer_param_name(t, i), lo);
  }
  cr_assert_eq(seen, 3, "W, R and B of the GRU");
  cr_assert_eq(nncl_trainer_init_kaiming(t, 8), NNCL_OK);
  nncl_array other;
  cr_assert_eq(nncl_trainer_get_param(t, 0, &other), NNCL_OK);
  cr_assert_neq(memcmp(other.data, after[0].data, nncl_array_bytes(&other)), 0);
  nncl_array_free(&other);
  for (int i = 0; i < n; i++) nncl_array_free(&before[i]), nncl_array_free(&after[i]);
  nncl_trainer_destroy(t);
  nncl_graph_destroy(m);
}
