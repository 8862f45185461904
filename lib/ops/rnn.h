/* rnn.h: what the RNN, LSTM and GRU forward (rnn.c) shares with their gradient op
   (lib/train/op_rnn_grad.c): the cell kinds, the input slots and the kernel options. */
#ifndef NNCL_RNN_H
#define NNCL_RNN_H

#include "op.h"

enum rnn_cell { CELL_RNN, CELL_LSTM, CELL_GRU };

/* Inputs: X, W, R, B, sequence_lens, initial_h, initial_c (LSTM), P (LSTM). */
enum { IN_X, IN_W, IN_R, IN_B, IN_LENS, IN_H0, IN_C0, IN_P };

/* Number of directions of node c (0 for an unknown direction); *rev gets bit d set when direction
   d runs backwards. */
int nncl__rnn_dirs(const struct op_call *c, unsigned *rev);

/* The -D options of kernels/rnn.cl for node c (a cell of the given kind): CELL, clip,
   input_forget, linear_before_reset, and each direction's activations with alpha and beta. With
   grad set it adds each activation's derivative (-D DACT_F0=...) for kernels/rnn_grad.cl. */
nncl_status nncl__rnn_kernel_options(const struct op_call *c, enum rnn_cell cell, int dirs,
                                     int grad, char *buf, size_t len);

#endif
