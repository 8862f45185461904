/* test_train_trainer.c: the trainer against PyTorch, and its errors. Fixtures in
   tests/data/train/ come from tools/make_train_fixtures.py: a small CNN (conv, ReLU, max-pool,
   strided conv, linear) exported to ONNX, three batches, PyTorch's gradients on the first batch
   and its parameters after three steps of SGD (momentum, weight decay), Adam and AdamW.
   Tolerance: gradients 1e-4 relative + 1e-6 absolute, parameters 1e-4 relative + 2e-6 absolute:
   both sides compute in float32 with different summation orders (float32 round-off ~1e-6
   relative per reduction), and three optimizer steps carry that into the weights; a wrong rule
   or a missed term moves them by 1e-3 or more. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/onnx.h"
#include "nncl/train.h"
#include "optim.h"
#include "test_util.h"
#include "trainer_internal.h"

static nncl_array load_npy(const char *file) { return tu_data_npy("train", file); }

static nncl_graph *load_model(void) { return tu_data_onnx("train", "small_cnn.onnx"); }

/* Batch b (8 samples) of the fixture's x and y. */
static void batch(const nncl_array *x, const nncl_array *y, int b, nncl_array *xb, nncl_array *yb) {
  *xb = (nncl_array){.dtype = NNCL_FLOAT32, .shape = x->shape};
  xb->shape.dims[0] = 8;
  xb->data = (float *)x->data + (size_t)b * 8 * 144;
  *yb = (nncl_array){.dtype = NNCL_INT64, .shape = {.rank = 1, .dims = {8}}};
  yb->data = (int64_t *)y->data + (size_t)b * 8;
}

static void step_ok(nncl_trainer *t, const nncl_array *x, const nncl_array *y, float *loss) {
  nncl_status st = nncl_trainer_step(t, x, y, loss);
  cr_assert_eq(st, NNCL_OK, "step: %s", nncl_context_last_error(tu_ctx()));
}

static void against_pytorch_clipped(const nncl_optimizer_options *o, const char *prefix, int grads,
                                    float clip) {
  nncl_graph *m = load_model();
  nncl_array x = load_npy("x.npy"), y = load_npy("y.npy");
  nncl_trainer_options to;
  nncl_trainer_options_default(&to);
  to.optim = *o;
  to.clip_norm = clip;
  nncl_trainer *t;
  cr_assert_eq(nncl_trainer_create(m, &to, &t), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_trainer_num_params(t), 6);
  for (int b = 0; b < 3; b++) {
    nncl_array xb, yb;
    batch(&x, &y, b, &xb, &yb);
    float loss;
    step_ok(t, &xb, &yb, &loss);
    if (clip > 0.0f) /* clipping must really act, or this test is plain SGD */
      cr_assert(nncl_trainer_last_grad_norm(t) > clip, "gradient norm %g is below the clip",
                nncl_trainer_last_grad_norm(t));
    if (b == 0) /* PyTorch's first-batch loss, printed by the fixture script */
      cr_assert(fabsf(loss - 1.580195f) < 2e-6f, "first loss %.7f, PyTorch 1.580195", loss);
    for (int i = 0; grads && b == 0 && i < 6; i++) {
      char file[256];
      snprintf(file, sizeof file, "grad.%s.npy", nncl_trainer_param_name(t, i));
      nncl_array want = load_npy(file), got;
      cr_assert_eq(nncl_graph_get_output_by_name(t->train, t->grad[i], &got), NNCL_OK);
      size_t n = (size_t)nncl_shape_numel(&want.shape);
      cr_assert_eq((size_t)nncl_shape_numel(&got.shape), n);
      tu_assert_close((float *)got.data, (float *)want.data, n, 1e-4, 1e-6, file);
      nncl_array_free(&want);
      nncl_array_free(&got);
    }
  }
  for (int i = 0; i < 6; i++) {
    char file[256];
    snprintf(file, sizeof file, "%s.%s.npy", prefix, nncl_trainer_param_name(t, i));
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

static void against_pytorch(const nncl_optimizer_options *o, const char *prefix, int grads) {
  against_pytorch_clipped(o, prefix, grads, 0.0f);
}

Test(train_trainer, sgd_clipped_matches_pytorch) {
  nncl_optimizer_options o;
  nncl_optimizer_options_default(NNCL_OPTIM_SGD, &o);
  o.lr = 0.1f, o.momentum = 0.9f;
  against_pytorch_clipped(&o, "sgdclip", 0, 0.2f);
}

Test(train_trainer, sgd_momentum_weight_decay_matches_pytorch) {
  nncl_optimizer_options o;
  nncl_optimizer_options_default(NNCL_OPTIM_SGD, &o);
  o.lr = 0.1f, o.momentum = 0.9f, o.weight_decay = 5e-4f;
  against_pytorch(&o, "sgd", 1);
}

Test(train_trainer, adam_matches_pytorch) {
  nncl_optimizer_options o;
  nncl_optimizer_options_default(NNCL_OPTIM_ADAM, &o);
  o.lr = 0.01f, o.weight_decay = 1e-4f;
  against_pytorch(&o, "adam", 0);
}

Test(train_trainer, adamw_matches_pytorch) {
  nncl_optimizer_options o;
  nncl_optimizer_options_default(NNCL_OPTIM_ADAMW, &o);
  o.lr = 0.01f, o.weight_decay = 0.05f;
  against_pytorch(&o, "adamw", 0);
}

/* evaluate sees the trained parameters; a checkpoint restores parameters and optimizer state, so
   the step after resuming equals the step after saving. */
Test(train_trainer, evaluate_and_checkpoint_resume) {
  nncl_graph *m = load_model();
  nncl_array x = load_npy("x.npy"), y = load_npy("y.npy"), xb, yb;
  nncl_trainer_options to;
  nncl_trainer_options_default(&to);
  nncl_optimizer_options_default(NNCL_OPTIM_ADAM, &to.optim);
  to.optim.lr = 0.01f;
  nncl_trainer *t;
  cr_assert_eq(nncl_trainer_create(m, &to, &t), NNCL_OK);
  batch(&x, &y, 0, &xb, &yb);
  float l0, e0, l1, l2;
  int64_t correct = -1;
  cr_assert_eq(nncl_trainer_evaluate(t, &xb, &yb, &e0, &correct), NNCL_OK);
  cr_assert(correct >= 0 && correct <= 8);
  step_ok(t, &xb, &yb, &l0);
  cr_assert(fabsf(e0 - l0) < 1e-6f, "evaluate %.7f vs step %.7f before any update", e0, l0);
  cr_assert_eq(nncl_trainer_evaluate(t, &xb, &yb, &e0, NULL), NNCL_OK);
  cr_assert(e0 < l0, "loss after one Adam step %.6f is not below %.6f", e0, l0);
  char path[] = "/tmp/nncl_test_ckpt_XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  cr_assert_eq(nncl_trainer_save_checkpoint(t, path), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  batch(&x, &y, 1, &xb, &yb);
  step_ok(t, &xb, &yb, &l1);
  nncl_array after;
  cr_assert_eq(nncl_trainer_get_param(t, 0, &after), NNCL_OK);
  cr_assert_eq(nncl_trainer_load_checkpoint(t, path), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_trainer_steps(t), 1);
  step_ok(t, &xb, &yb, &l2);
  cr_assert_eq(l1, l2);
  nncl_array again;
  cr_assert_eq(nncl_trainer_get_param(t, 0, &again), NNCL_OK);
  cr_assert_eq(memcmp(after.data, again.data, nncl_array_bytes(&after)), 0,
               "resumed step differs from the original step");
  remove(path);
  nncl_array_free(&after);
  nncl_array_free(&again);
  nncl_trainer_destroy(t);
  nncl_graph_destroy(m);
  nncl_array_free(&x);
  nncl_array_free(&y);
}

/* int32 labels: the same first loss as PyTorch's (int64 in the fixture), the same step as int64
   labels (bit-identical parameters: the labels are widened exactly), and the same range check. */
Test(train_trainer, int32_labels) {
  nncl_graph *m = load_model();
  nncl_array x = load_npy("x.npy"), y = load_npy("y.npy"), xb, yb;
  batch(&x, &y, 0, &xb, &yb);
  int32_t lab32[8];
  for (int k = 0; k < 8; k++) lab32[k] = (int32_t)((const int64_t *)yb.data)[k];
  nncl_array y32 = {.dtype = NNCL_INT32, .shape = yb.shape, .data = lab32};
  nncl_trainer_options to;
  nncl_trainer_options_default(&to);
  nncl_trainer *t64, *t32;
  cr_assert_eq(nncl_trainer_create(m, &to, &t64), NNCL_OK);
  cr_assert_eq(nncl_trainer_create(m, &to, &t32), NNCL_OK);
  float l64, l32;
  step_ok(t64, &xb, &yb, &l64);
  step_ok(t32, &xb, &y32, &l32);
  cr_assert(fabsf(l32 - 1.580195f) < 2e-6f, "first loss %.7f with int32 labels, PyTorch 1.580195",
            l32);
  cr_assert_eq(nncl_trainer_last_correct(t32), nncl_trainer_last_correct(t64));
  for (int i = 0; i < nncl_trainer_num_params(t64); i++) {
    nncl_array a, b;
    cr_assert_eq(nncl_trainer_get_param(t64, i, &a), NNCL_OK);
    cr_assert_eq(nncl_trainer_get_param(t32, i, &b), NNCL_OK);
    cr_assert_eq(memcmp(a.data, b.data, nncl_array_bytes(&a)), 0, "%s differs after one step",
                 nncl_trainer_param_name(t64, i));
    nncl_array_free(&a);
    nncl_array_free(&b);
  }
  float e = 0;
  int64_t c = -1;
  cr_assert_eq(nncl_trainer_evaluate(t32, &xb, &y32, &e, &c), NNCL_OK);
  cr_assert(c >= 0 && c <= 8);
  lab32[5] = 5; /* the fixture's model has 5 classes */
  cr_assert_eq(nncl_trainer_step(t32, &xb, &y32, NULL), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "label 5 of sample 5"), "%s",
            nncl_context_last_error(tu_ctx()));
  nncl_trainer_destroy(t64);
  nncl_trainer_destroy(t32);
  nncl_graph_destroy(m);
  nncl_array_free(&x);
  nncl_array_free(&y);
}

/* Memory and profile of training: parameter bytes are the fixture model's six tensors (conv1
   4x1x3x3 + 4, conv2 6x4x3x3 + 6, fc 5x54 + 5 floats), Adam keeps two states per parameter and
   SGD with momentum one; the arena exists only once a step has planned the train graph; the
   profile needs a step and then shows the weight gradient op. */
Test(train_trainer, memory_and_profile) {
  nncl_graph *m = load_model();
  nncl_array x = load_npy("x.npy"), y = load_npy("y.npy"), xb, yb;
  batch(&x, &y, 0, &xb, &yb);
  const uint64_t param_bytes = 4 * (36 + 4 + 216 + 6 + 270 + 5);
  for (int adam = 0; adam < 2; adam++) {
    nncl_trainer_options to;
    nncl_trainer_options_default(&to);
    nncl_optimizer_options_default(adam ? NNCL_OPTIM_ADAM : NNCL_OPTIM_SGD, &to.optim);
    to.optim.momentum = adam ? 0.0f : 0.9f;
    nncl_trainer *t;
    cr_assert_eq(nncl_trainer_create(m, &to, &t), NNCL_OK);
    nncl_trainer_memory mem;
    cr_assert_eq(nncl_trainer_memory_use(t, &mem), NNCL_OK);
    cr_assert_eq(mem.param_bytes, param_bytes, "parameters %llu bytes",
                 (unsigned long long)mem.param_bytes);
    cr_assert_eq(mem.optimizer_bytes, (adam ? 2 : 1) * param_bytes);
    cr_assert_eq(mem.arena_bytes, 0);
    nncl_profile p;
    cr_assert_eq(nncl_trainer_profile(t, 1, &p), NNCL_ERR_STATE);
    step_ok(t, &xb, &yb, NULL);
    cr_assert_eq(nncl_trainer_memory_use(t, &mem), NNCL_OK);
    cr_assert_gt(mem.arena_bytes, 0);
    cr_assert_eq(nncl_trainer_profile(t, 1, &p), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
    int found = 0;
    for (int i = 0; i < p.n_ops; i++) found |= !strcmp(p.ops[i].op_type, "nncl.ConvGradWeight");
    cr_assert(found, "no nncl.ConvGradWeight among %d op types of the train graph", p.n_ops);
    nncl_profile_free(&p);
    nncl_trainer_destroy(t);
  }
  nncl_graph_destroy(m);
  nncl_array_free(&x);
  nncl_array_free(&y);
}

Test(train_trainer, bad_input_gives_clear_errors) {
  nncl_context *ctx = tu_ctx();
  nncl_graph *m = load_model();
  nncl_array x = load_npy("x.npy"), y = load_npy("y.npy"), xb, yb;
  nncl_trainer *t;
  /* no trainable tensors */
  const char *all[] = {"conv1.weight", "conv1.bias", "conv2.weight",
                       "conv2.bias",   "fc.weight",  "fc.bias"};
  nncl_trainer_options to;
  nncl_trainer_options_default(&to);
  to.freeze = all;
  to.n_freeze = 6;
  cr_assert_eq(nncl_trainer_create(m, &to, &t), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(ctx), "no trainable tensor"), "%s",
            nncl_context_last_error(ctx));
  to.n_freeze = 1;
  to.freeze = (const char *[]){"no.such"};
  cr_assert_eq(nncl_trainer_create(m, &to, &t), NNCL_ERR_NOT_FOUND);
  to.n_freeze = 0;
  cr_assert_eq(nncl_trainer_create(m, &to, &t), NNCL_OK);
  batch(&x, &y, 0, &xb, &yb);
  /* labels out of range */
  int64_t bad[8] = {0, 1, 2, 3, 4, 5, 0, 1};
  nncl_array yl = {.dtype = NNCL_INT64, .shape = {.rank = 1, .dims = {8}}, .data = bad};
  cr_assert_eq(nncl_trainer_step(t, &xb, &yl, NULL), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(ctx), "label 5 of sample 5 is outside [0, 5)"), "%s",
            nncl_context_last_error(ctx));
  /* shape mismatch: 7 labels for 8 samples */
  yl.shape.dims[0] = 7;
  cr_assert_eq(nncl_trainer_step(t, &xb, &yl, NULL), NNCL_ERR_SHAPE);
  /* NaN or infinite loss: the step fails and leaves the parameters alone */
  nncl_array before, after;
  cr_assert_eq(nncl_trainer_get_param(t, 0, &before), NNCL_OK);
  /* an infinite bias makes every logit infinite, so log-softmax gives NaN (a NaN input would not
     do: the fused conv ReLU maps NaN to 0) */
  nncl_array bias;
  cr_assert_eq(nncl_trainer_get_param(t, 5, &bias), NNCL_OK);
  cr_assert_str_eq(nncl_trainer_param_name(t, 5), "fc.bias");
  for (int k = 0; k < 5; k++) ((float *)bias.data)[k] = INFINITY;
  cr_assert_eq(nncl_trainer_set_param(t, 5, &bias), NNCL_OK);
  nncl_array_free(&bias);
  nncl_status st = nncl_trainer_step(t, &xb, &yb, NULL);
  cr_assert_eq(st, NNCL_ERR_STATE, "%s: %s", nncl_status_string(st), nncl_context_last_error(ctx));
  cr_assert(strstr(nncl_context_last_error(ctx), "parameters were not updated"), "%s",
            nncl_context_last_error(ctx));
  cr_assert_eq(nncl_trainer_get_param(t, 0, &after), NNCL_OK);
  cr_assert_eq(memcmp(before.data, after.data, nncl_array_bytes(&before)), 0);
  cr_assert_eq(nncl_trainer_steps(t), 0);
  nncl_array_free(&before);
  nncl_array_free(&after);
  nncl_trainer_destroy(t);
  nncl_graph_destroy(m);
  nncl_array_free(&x);
  nncl_array_free(&y);
}

/* The trained ONNX holds exactly the trained weights and runs as an ordinary model. */
Test(train_trainer, save_onnx_round_trip) {
  nncl_graph *m = load_model();
  nncl_array x = load_npy("x.npy"), y = load_npy("y.npy"), xb, yb;
  nncl_trainer *t, *t2;
  cr_assert_eq(nncl_trainer_create(m, NULL, &t), NNCL_OK);
  batch(&x, &y, 0, &xb, &yb);
  step_ok(t, &xb, &yb, NULL);
  char src[1024], path[] = "/tmp/nncl_test_onnx_XXXXXX";
  tu_data_path(src, sizeof src, "train", "small_cnn.onnx");
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  cr_assert_eq(nncl_trainer_save_onnx(t, src, path), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  nncl_graph *m2;
  cr_assert_eq(nncl_onnx_load(tu_ctx(), path, &m2), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_trainer_create(m2, NULL, &t2), NNCL_OK);
  for (int i = 0; i < nncl_trainer_num_params(t); i++) {
    nncl_array a, b;
    cr_assert_eq(nncl_trainer_get_param(t, i, &a), NNCL_OK);
    cr_assert_eq(nncl_trainer_get_param(t2, i, &b), NNCL_OK);
    cr_assert_str_eq(nncl_trainer_param_name(t, i), nncl_trainer_param_name(t2, i));
    cr_assert_eq(memcmp(a.data, b.data, nncl_array_bytes(&a)), 0, "%s differs",
                 nncl_trainer_param_name(t, i));
    nncl_array_free(&a);
    nncl_array_free(&b);
  }
  cr_assert_eq(nncl_graph_set_input(m2, "input", &xb), NNCL_OK);
  cr_assert_eq(nncl_graph_run(m2), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  remove(path);
  nncl_trainer_destroy(t);
  nncl_trainer_destroy(t2);
  nncl_graph_destroy(m);
  nncl_graph_destroy(m2);
  nncl_array_free(&x);
  nncl_array_free(&y);
}

/* BatchNormalization in training mode: batch statistics in the forward and backward pass, and
   running statistics updated as PyTorch does (unbiased variance, momentum 0.1 = ONNX 0.9).
   After three SGD steps every parameter matches PyTorch (1e-4 relative + 2e-6 absolute, as
   above) and so do running_mean and running_var (same tolerance); evaluate then uses them. */
Test(train_trainer, batchnorm_training_mode_matches_pytorch) {
  char path[1024];
  tu_data_path(path, sizeof path, "train", "bn_cnn.onnx");
  nncl_graph *m;
  cr_assert_eq(nncl_onnx_load(tu_ctx(), path, &m), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  nncl_array x = load_npy("x.npy"), y = load_npy("y.npy"), xb, yb;
  nncl_trainer_options to;
  nncl_trainer_options_default(&to);
  to.optim.lr = 0.1f, to.optim.momentum = 0.9f;
  nncl_trainer *t;
  cr_assert_eq(nncl_trainer_create(m, &to, &t), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_trainer_num_params(t), 8, "running statistics must not be trained");
  for (int b = 0; b < 3; b++) {
    batch(&x, &y, b, &xb, &yb);
    step_ok(t, &xb, &yb, NULL);
  }
  for (int i = 0; i < 8; i++) {
    char file[256];
    snprintf(file, sizeof file, "bn.%s.npy", nncl_trainer_param_name(t, i));
    nncl_array want = load_npy(file), got;
    cr_assert_eq(nncl_trainer_get_param(t, i, &got), NNCL_OK);
    tu_assert_close((float *)got.data, (float *)want.data, (size_t)nncl_shape_numel(&want.shape),
                    1e-4, 2e-6, file);
    nncl_array_free(&want);
    nncl_array_free(&got);
  }
  cr_assert_eq(t->n_bn, 1);
  nncl_array rm = load_npy("bn.bn.running_mean.npy"), rv = load_npy("bn.bn.running_var.npy");
  tu_assert_close((float *)t->bn[0].mean.data, (float *)rm.data, 4, 1e-4, 2e-6, "running_mean");
  tu_assert_close((float *)t->bn[0].var.data, (float *)rv.data, 4, 1e-4, 2e-6, "running_var");
  float loss;
  int64_t correct;
  cr_assert_eq(nncl_trainer_evaluate(t, &xb, &yb, &loss, &correct), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  cr_assert(isfinite(loss));
  /* the saved ONNX carries the running statistics; a checkpoint restores them */
  char out[] = "/tmp/nncl_test_bn_XXXXXX";
  int fd = mkstemp(out);
  cr_assert(fd >= 0);
  cr_assert_eq(nncl_trainer_save_onnx(t, path, out), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  nncl_graph *m2;
  cr_assert_eq(nncl_onnx_load(tu_ctx(), out, &m2), NNCL_OK);
  int v = graph_find_value(m2, "bn.running_var");
  cr_assert(v >= 0 && m2->values[v].constant.data);
  cr_assert_eq(memcmp(m2->values[v].constant.data, t->bn[0].var.data, 16), 0);
  nncl_graph_destroy(m2);
  cr_assert_eq(nncl_trainer_save_checkpoint(t, out), NNCL_OK);
  float keep[4];
  memcpy(keep, t->bn[0].mean.data, sizeof keep);
  step_ok(t, &xb, &yb, NULL);
  cr_assert_neq(memcmp(keep, t->bn[0].mean.data, sizeof keep), 0);
  cr_assert_eq(nncl_trainer_load_checkpoint(t, out), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  cr_assert_eq(memcmp(keep, t->bn[0].mean.data, sizeof keep), 0);
  remove(out);
  nncl_array_free(&rm), nncl_array_free(&rv);
  nncl_trainer_destroy(t);
  nncl_graph_destroy(m);
  nncl_array_free(&x);
  nncl_array_free(&y);
}

static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Dropout in training mode inside the trainer: the step-0 mask of seed 5 (the documented draw of
   kernels/train_dropout.cl, recomputed here) scales the logits of a linear layer; one SGD step
   with lr 1 must move the weights by exactly the host gradient of mean cross-entropy through that
   mask (1e-5 relative + 1e-6 absolute: float32 sums of 20 products), and evaluate must see no
   dropout (its loss equals the host loss without the mask). */
Test(train_trainer, dropout_training_mode) {
  nncl_context *ctx = tu_ctx();
  nncl_graph *m;
  cr_assert_eq(nncl_graph_create(ctx, &m), NNCL_OK);
  nncl_shape xs = {.rank = 2, .dims = {-1, 20}};
  cr_assert_eq(nncl_graph_add_input(m, "x", NNCL_FLOAT32, &xs), NNCL_OK);
  nncl_array w = TU_RAND(1, 5, 20), b = TU_RAND(2, 5), x = TU_RAND(3, 8, 20);
  float ratio = 0.4f;
  nncl_array r = {.dtype = NNCL_FLOAT32, .shape = {.rank = 0}, .data = &ratio};
  cr_assert_eq(nncl_graph_add_constant(m, "w", &w), NNCL_OK);
  cr_assert_eq(nncl_graph_add_constant(m, "b", &b), NNCL_OK);
  cr_assert_eq(nncl_graph_add_constant(m, "ratio", &r), NNCL_OK);
  nncl_node *gn;
  const char *gi[] = {"x", "w", "b"}, *go = "z", *di[] = {"z", "ratio"}, *dout = "logits";
  cr_assert_eq(nncl_graph_add_node(m, "Gemm", "fc", 3, gi, 1, &go, &gn), NNCL_OK);
  cr_assert_eq(nncl_node_set_int(m, gn, "transB", 1), NNCL_OK);
  cr_assert_eq(nncl_graph_add_node(m, "Dropout", "drop", 2, di, 1, &dout, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(m, "logits"), NNCL_OK);
  nncl_trainer_options to;
  nncl_trainer_options_default(&to);
  to.optim.lr = 1.0f;
  to.seed = 5;
  nncl_trainer *t;
  cr_assert_eq(nncl_trainer_create(m, &to, &t), NNCL_OK, "%s", nncl_context_last_error(ctx));
  int64_t lab[8] = {0, 1, 2, 3, 4, 0, 1, 2};
  nncl_array y = {.dtype = NNCL_INT64, .shape = {.rank = 1, .dims = {8}}, .data = lab};
  /* host: z, mask, gradient */
  const float *W = w.data, *B = b.data, *X = x.data;
  double z[40], dz[40], loss_nodrop = 0.0;
  uint64_t key = mix64(5u ^ mix64(0u + 0x9E3779B97F4A7C15ull));
  float keep = 1.0f / (1.0f - ratio);
  for (int i = 0; i < 8; i++) {
    double yv[5], mx = -1e30, s = 0.0, mz = -1e30, sz = 0.0;
    for (int k = 0; k < 5; k++) {
      z[i * 5 + k] = B[k];
      for (int j = 0; j < 20; j++) z[i * 5 + k] += (double)X[i * 20 + j] * W[k * 20 + j];
      float u = (float)(mix64(key + (uint64_t)(i * 5 + k)) >> 40) * (1.0f / 16777216.0f);
      double sc = u >= ratio ? keep : 0.0;
      yv[k] = z[i * 5 + k] * sc;
      dz[i * 5 + k] = sc; /* holds the scale until the softmax is known */
      mx = fmax(mx, yv[k]);
      mz = fmax(mz, z[i * 5 + k]);
    }
    for (int k = 0; k < 5; k++) s += exp(yv[k] - mx), sz += exp(z[i * 5 + k] - mz);
    for (int k = 0; k < 5; k++) dz[i * 5 + k] *= (exp(yv[k] - mx) / s - (k == lab[i])) / 8.0;
    loss_nodrop -= (z[i * 5 + lab[i]] - mz - log(sz)) / 8.0;
  }
  float l0;
  cr_assert_eq(nncl_trainer_evaluate(t, &x, &y, &l0, NULL), NNCL_OK, "%s",
               nncl_context_last_error(ctx));
  cr_assert(fabs(l0 - loss_nodrop) < 1e-5 * (1 + loss_nodrop), "evaluate %.7f, host %.7f", l0,
            loss_nodrop);
  step_ok(t, &x, &y, NULL);
  nncl_array w1;
  cr_assert_eq(nncl_trainer_get_param(t, 0, &w1), NNCL_OK);
  cr_assert_str_eq(nncl_trainer_param_name(t, 0), "w");
  float want[100];
  for (int k = 0; k < 5; k++)
    for (int j = 0; j < 20; j++) {
      double g = 0.0;
      for (int i = 0; i < 8; i++) g += dz[i * 5 + k] * X[i * 20 + j];
      want[k * 20 + j] = (float)(W[k * 20 + j] - g);
    }
  tu_assert_close((float *)w1.data, want, 100, 1e-5, 1e-6, "weights after one dropout step");
  nncl_array_free(&w1);
  nncl_trainer_destroy(t);
  nncl_graph_destroy(m);
  nncl_array_free(&w), nncl_array_free(&b), nncl_array_free(&x);
}
