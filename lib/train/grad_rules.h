/* grad_rules.h: the backward rules (lib/train/grad_*.c) that op_defs point their `backward`
   member at; op.h includes it so op families name their rule in their op_def. */
#ifndef NNCL_GRAD_RULES_H
#define NNCL_GRAD_RULES_H

#include "nncl/status.h"

struct op_grad;

nncl_status nncl__grad_batchnorm(struct op_grad *g);       /* grad_batchnorm.c: inference */
nncl_status nncl__grad_conv(struct op_grad *g);            /* grad_conv.c */
nncl_status nncl__grad_pool(struct op_grad *g);            /* grad_pool.c */
nncl_status nncl__grad_gemm(struct op_grad *g);            /* grad_gemm.c: Gemm */
nncl_status nncl__grad_matmul(struct op_grad *g);          /* grad_gemm.c: MatMul */
nncl_status nncl__grad_binary(struct op_grad *g);          /* grad_elementwise.c */
nncl_status nncl__grad_unary(struct op_grad *g);           /* grad_elementwise.c */
nncl_status nncl__grad_reshape(struct op_grad *g);         /* grad_shape.c */
nncl_status nncl__grad_identity(struct op_grad *g);        /* grad_shape.c */
nncl_status nncl__grad_reduce(struct op_grad *g);          /* grad_shape.c */
nncl_status nncl__grad_softmax_ce_loss(struct op_grad *g); /* grad_loss.c */
nncl_status nncl__grad_transpose(struct op_grad *g);       /* grad_shape.c */
nncl_status nncl__grad_concat(struct op_grad *g);          /* grad_shape.c */
nncl_status nncl__grad_slice(struct op_grad *g);           /* grad_shape.c */
nncl_status nncl__grad_pad(struct op_grad *g);             /* grad_shape.c */
nncl_status nncl__grad_split(struct op_grad *g);           /* grad_shape.c */
nncl_status nncl__grad_softmax(struct op_grad *g);         /* grad_softmax.c: and LogSoftmax */
nncl_status nncl__grad_layer_norm(struct op_grad *g);      /* grad_norm.c */
nncl_status nncl__grad_gather(struct op_grad *g);          /* grad_gather.c */
nncl_status nncl__grad_where(struct op_grad *g);           /* grad_elementwise.c */
nncl_status nncl__grad_rnn(struct op_grad *g);             /* grad_rnn.c: RNN, LSTM, GRU */

#endif
