/* trainer_internal.h: the trainer's fields, shared by trainer.c and checkpoint.c. */
#ifndef NNCL_TRAINER_INTERNAL_H
#define NNCL_TRAINER_INTERNAL_H

#include "graph_internal.h"
#include "nncl/train.h"

/* Names the trainer adds to its graphs. */
#define TRAIN_TARGET "nncl.train.target"
#define TRAIN_LOSS "nncl.train.loss_value"

struct nncl__optim;

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
};

/* Device buffer holding parameter i (the train plan's input buffer; plans when needed). */
nncl_status nncl__trainer_param_mem(nncl_trainer *t, int i, cl_mem *out);

#endif
