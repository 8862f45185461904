/* nncl/train.h: training a graph: a trainer built from an inference graph (autodiff appends the
   backward pass to a copy of it), a loss, an optimizer with PyTorch's update rules, steps on
   batches, evaluation, checkpoints. See docs/TRAINING.md. */
#ifndef NNCL_TRAIN_H
#define NNCL_TRAIN_H

#include "nncl/graph.h"
#include "nncl/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nncl_optimizer_kind {
  NNCL_OPTIM_SGD,  /* torch.optim.SGD */
  NNCL_OPTIM_ADAM, /* torch.optim.Adam (weight decay added to the gradient) */
  NNCL_OPTIM_ADAMW /* torch.optim.AdamW (decoupled weight decay) */
} nncl_optimizer_kind;

typedef struct nncl_optimizer_options {
  nncl_optimizer_kind kind;
  float lr;
  float weight_decay;
  float momentum, dampening; /* SGD */
  int nesterov;              /* SGD: needs momentum > 0 and dampening 0, as in PyTorch */
  float beta1, beta2, eps;   /* Adam, AdamW */
} nncl_optimizer_options;

/* PyTorch's defaults for the kind: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0 (AdamW
   1e-2), no momentum. */
NNCL_API void nncl_optimizer_options_default(nncl_optimizer_kind kind, nncl_optimizer_options *o);

/* Learning-rate schedules, per step t = 0, 1, ... as PyTorch's schedulers stepped once per
   optimizer step: StepLR (lr gamma^floor(t / step_size)), CosineAnnealingLR (min_lr + (lr -
   min_lr)(1 + cos(pi t / total_steps)) / 2), each times LinearLR(start_factor = 1 / warmup,
   total_iters = warmup) when warmup_steps > 0. */
typedef enum nncl_lr_schedule_kind {
  NNCL_LR_CONSTANT,
  NNCL_LR_STEP,
  NNCL_LR_COSINE
} nncl_lr_schedule_kind;

typedef struct nncl_lr_schedule {
  nncl_lr_schedule_kind kind;
  int64_t warmup_steps;
  int64_t step_size;   /* NNCL_LR_STEP */
  float gamma;         /* NNCL_LR_STEP */
  int64_t total_steps; /* NNCL_LR_COSINE */
  float min_lr;        /* NNCL_LR_COSINE */
} nncl_lr_schedule;

/* The learning rate at step t for base rate lr. */
NNCL_API float nncl_lr_schedule_at(const nncl_lr_schedule *s, float lr, int64_t t);

typedef enum nncl_loss_kind {
  NNCL_LOSS_CROSS_ENTROPY, /* softmax cross-entropy of logits [N, C] against int64 or int32 labels [N],
                              mean over the batch (nn.CrossEntropyLoss) */
  NNCL_LOSS_MSE            /* mean squared error against float targets shaped as the output */
} nncl_loss_kind;

typedef struct nncl_trainer_options {
  nncl_loss_kind loss;
  nncl_optimizer_options optim;
  /* Trainable tensors: every float initializer of the graph except those named here. */
  const char *const *freeze;
  int n_freeze;
  /* Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_): when the L2 norm of all
     gradients together exceeds clip_norm, every gradient is scaled by clip_norm / (norm + 1e-6)
     before the update. 0 turns it off. */
  float clip_norm;
  /* Seed of Dropout's masks in training mode (each step draws a new mask from seed and step). */
  int64_t seed;
  /* Axis of the model input that holds the samples (labels stay [N]): 0, or 1 for a time-first
     sequence [T, N, F] as ONNX RNN/LSTM/GRU read it. */
  int batch_axis;
} nncl_trainer_options;

/* Cross-entropy and SGD with PyTorch's defaults. */
NNCL_API void nncl_trainer_options_default(nncl_trainer_options *o);

/* Automatic differentiation on any graph: appends to g the nodes computing the gradient of the sum
   of value `loss`'s elements with respect to each value wrt[i] (graph inputs, initializers or
   intermediate values, float32), and makes each gradient a graph output named grad_names[i]
   (copied) or, when that is NULL, "<wrt>.grad". Every graph input must be set first (shapes are
   learnt by planning). Errors: an op on the path without a backward rule (naming the node and
   op), a value that does not affect the loss, unknown names. */
NNCL_API nncl_status nncl_graph_add_gradients(nncl_graph *g, const char *loss, int n_wrt,
                                              const char *const *wrt,
                                              const char *const *grad_names);

typedef struct nncl_trainer nncl_trainer;

/* A trainer for `model` (an inference graph with one input, whose first output is the logits
   [N, C] for cross-entropy or the prediction for MSE). The model is copied: its float
   initializers (minus o->freeze) become trainable parameters; the model itself is not changed.
   Errors: no trainable tensor, a frozen name that is no initializer, bad optimizer options. */
NNCL_API nncl_status nncl_trainer_create(nncl_graph *model, const nncl_trainer_options *o,
                                         nncl_trainer **out);
NNCL_API void nncl_trainer_destroy(nncl_trainer *t);
/* One optimizer step on the batch x (the model input) with targets y (int64 or int32 labels [N] in [0, C)
   for cross-entropy; float32 shaped as the output for MSE). *loss (may be NULL) gets the batch's
   loss before the update. Labels out of range, shape mismatches and a NaN loss are errors; on a
   NaN loss the parameters are left as they were. The first step (and a new batch size) plans. */
NNCL_API nncl_status nncl_trainer_step(nncl_trainer *t, const nncl_array *x, const nncl_array *y,
                                       float *loss);
/* Loss and, for cross-entropy, the number of samples whose arg-max logit is the label, with the
   current parameters and no update. loss and correct may be NULL. */
NNCL_API nncl_status nncl_trainer_evaluate(nncl_trainer *t, const nncl_array *x,
                                           const nncl_array *y, float *loss, int64_t *correct);
/* The trainable parameters: count, names, current values (copied out), replacement (e.g. an
   initialisation made by the caller). */
NNCL_API int nncl_trainer_num_params(const nncl_trainer *t);
NNCL_API const char *nncl_trainer_param_name(const nncl_trainer *t, int i);
NNCL_API nncl_status nncl_trainer_get_param(nncl_trainer *t, int i, nncl_array *out);
NNCL_API nncl_status nncl_trainer_set_param(nncl_trainer *t, int i, const nncl_array *value);
/* Kaiming-uniform initialisation as PyTorch's Conv and Linear layers do by default
   (weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)) i.e. kaiming_uniform_(a=sqrt(5)), biases likewise),
   and its RNN/LSTM/GRU layers (W, R and B from U(-1/sqrt(hidden), 1/sqrt(hidden))), from a seed;
   other parameters keep their values. */
NNCL_API nncl_status nncl_trainer_init_kaiming(nncl_trainer *t, uint64_t seed);
/* Learning rate of the next steps (schedules); steps taken so far. */
NNCL_API void nncl_trainer_set_lr(nncl_trainer *t, float lr);
NNCL_API int64_t nncl_trainer_steps(const nncl_trainer *t);
/* Writes the trained model as ONNX: model_path (the file the model graph was loaded from) with
   every trained initializer's data replaced by its current value. */
NNCL_API nncl_status nncl_trainer_save_onnx(nncl_trainer *t, const char *model_path,
                                            const char *out_path);
/* Device memory of training, in bytes, once a step has planned the train graph (zeros before):
   the arena holding every intermediate (saved activations and gradients, planned by liveness),
   the shared scratch of the nodes, the trainable parameters and the optimizer state. */
typedef struct nncl_trainer_memory {
  uint64_t arena_bytes, workspace_bytes, param_bytes, optimizer_bytes;
} nncl_trainer_memory;
NNCL_API nncl_status nncl_trainer_memory_use(nncl_trainer *t, nncl_trainer_memory *out);
/* Profiles the train graph (forward, loss and backward, without the optimizer update) on the
   last step's batch: nncl_graph_profile's figures per node and op type (free with
   nncl_profile_free). Needs a step first. */
NNCL_API nncl_status nncl_trainer_profile(nncl_trainer *t, int runs, nncl_profile *out);
/* Global L2 norm of the last step's gradients (before clipping). */
NNCL_API double nncl_trainer_last_grad_norm(const nncl_trainer *t);
/* Samples whose arg-max logit was the label in the last step's batch (cross-entropy; else 0). */
NNCL_API int64_t nncl_trainer_last_correct(const nncl_trainer *t);
/* Checkpoint: parameters, optimizer state and step count in one file; load restores them into
   a trainer made from the same model and options (names and sizes are checked). */
NNCL_API nncl_status nncl_trainer_save_checkpoint(nncl_trainer *t, const char *path);
NNCL_API nncl_status nncl_trainer_load_checkpoint(nncl_trainer *t, const char *path);

#ifdef __cplusplus
}
#endif
#endif
