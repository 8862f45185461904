/* trainer_internal.h: the trainer's fields, shared by trainer.c and checkpoint.c. */
#ifndef NNCL_TRAINER_INTERNAL_H
#define NNCL_TRAINER_INTERNAL_H

#include "graph_internal.h"
#include "nncl/train.h"

/* Names the trainer adds to its graphs. */
#define TRAIN_TARGET "nncl.train.target"
#define TRAIN_LOSS "nncl.train.loss_value"
#define TRAIN_STEP "nncl.train.step" /* int64 [1]: the step's counter for Dropout's draws */

struct nncl__optim;

/* A BatchNormalization node trained with batch statistics (train_bn.c). */
struct train_bn {
  char *mean_name, *var_name;   /* the running-statistics initializers */
  char *batch_mean, *batch_var; /* graph outputs of the train graph */
  nncl_array mean, var;         /* running statistics (host, authoritative) */
  float momentum, epsilon;      /* ONNX attributes */
};

/* Someone who handles the gradients between backward and the optimizer (lib/dist all-reduces
   them): begin before the train graph runs, enqueued(k) after each of its nodes is enqueued (so
   work on finished gradients can start while backward runs), ready once the run is done, before
   clipping and the update read grads[i] (device buffers it may rewrite). NULL members are skipped. */
struct nncl__grad_hook {
  nncl_status (*begin)(void *user, nncl_trainer *t);
  nncl_status (*enqueued)(void *user, int k);
  nncl_status (*ready)(void *user, nncl_trainer *t, const cl_mem *grads);
  void *user;
};

struct nncl_trainer {
  nncl_context *ctx;
  nncl_loss_kind loss;
  nncl_optimizer_options optim;
  float lr;
  int n_params;
  char **param;      /* names (initializers of the model) */
  nncl_array *init;  /* host values: authoritative until the first step builds the graph */
  int *kind;         /* 1 weight, 2 bias of a Conv/Gemm/MatMul (Kaiming init), else 0 */
  int64_t *fan_in;   /* of that layer's weight */
  nncl_graph *train; /* forward + loss + backward */
  nncl_graph *eval;  /* forward + loss */
  char **grad;       /* gradient value names in train (after the first step) */
  int built;
  int64_t last_correct; /* of the last step's batch */
  float clip_norm;      /* 0: no clipping */
  double last_norm;     /* global gradient norm of the last step (when clipping) */
  struct nncl__optim *opt;
  struct train_bn *bn;
  int n_bn;
  int bn_dirty;    /* running statistics changed since the eval graph last got them */
  int has_dropout; /* the train graph reads TRAIN_STEP */
  int64_t seed;
  struct nncl__grad_hook hook; /* all NULL: none */
  int batch_axis;              /* of the model input (nncl_trainer_options) */
};

/* train_bn.c */
int nncl__bn_is_stat(const nncl_graph *m, int v); /* v is a BatchNormalization mean or var */
nncl_status nncl__bn_register(nncl_trainer *t, const nncl_graph *m);
void nncl__bn_free(nncl_trainer *t);
/* Appends the training-mode form of BatchNormalization node n of m to g. */
nncl_status nncl__bn_emit_training(nncl_trainer *t, nncl_graph *g, const nncl_graph *m,
                                   const struct nncl_node *n);
nncl_status nncl__bn_update(nncl_trainer *t);    /* after a step: running statistics */
nncl_status nncl__bn_sync_eval(nncl_trainer *t); /* running statistics into the eval graph */

/* Installs h (copied; NULL removes it). */
void nncl__trainer_set_grad_hook(nncl_trainer *t, const struct nncl__grad_hook *h);

/* Device buffer holding parameter i (the train plan's input buffer; plans when needed). */
nncl_status nncl__trainer_param_mem(nncl_trainer *t, int i, cl_mem *out);

#endif
