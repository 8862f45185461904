/* nncl/train.h: training a graph: a trainer built from an inference graph (autodiff appends the
   backward pass to a copy of it), a loss, an optimizer with PyTorch's update rules, steps on
   batches, evaluation, checkpoints. See docs/TRAINING.md. */
#ifndef NNCL_TRAIN_H
#define NNCL_TRAIN_H

#include "nncl/graph.h"

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

typedef enum nncl_loss_kind {
  NNCL_LOSS_CROSS_ENTROPY, /* softmax cross-entropy of logits [N, C] against int64 labels [N],
                              mean over the batch (nn.CrossEntropyLoss) */
  NNCL_LOSS_MSE            /* mean squared error against float targets shaped as the output */
} nncl_loss_kind;

typedef struct nncl_trainer_options {
  nncl_loss_kind loss;
  nncl_optimizer_options optim;
  /* Trainable tensors: every float initializer of the graph except those named here. */
  const char *const *freeze;
  int n_freeze;
} nncl_trainer_options;

/* Cross-entropy and SGD with PyTorch's defaults. */
NNCL_API void nncl_trainer_options_default(nncl_trainer_options *o);

#ifdef __cplusplus
}
#endif
#endif
