/* rnn_ref.h: naive C reference of ONNX RNN, LSTM and GRU, written from the operator equations
   (one time step at a time, double precision, no shared code with lib/ops/rnn.c). */
#ifndef NNCL_RNN_REF_H
#define NNCL_RNN_REF_H

#include <stdint.h>

enum { REF_RNN, REF_LSTM, REF_GRU };
/* Activation codes in the order of the ONNX list: Relu, Tanh, Sigmoid, Affine, LeakyRelu,
   ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus. */
enum {
  RA_RELU,
  RA_TANH,
  RA_SIGMOID,
  RA_AFFINE,
  RA_LEAKY,
  RA_THRESH,
  RA_STANH,
  RA_HSIG,
  RA_ELU,
  RA_SOFTSIGN,
  RA_SOFTPLUS
};

struct rnn_ref {
  int cell, dirs, reverse_only, layout; /* reverse_only: direction = "reverse" */
  int seq, batch, in, hidden;
  const float *x, *w, *r, *b, *h0, *c0, *p; /* ONNX layouts; b, h0, c0, p may be NULL */
  const int32_t *lens;                      /* may be NULL */
  int act[6];                               /* per direction: f, g, h (cell's count) */
  float alpha[6], beta[6];
  float clip; /* <= 0: none */
  int input_forget, lbr;
  float *y, *yh, *yc; /* outputs in ONNX layouts (yc only for LSTM) */
};

void ref_rnn(const struct rnn_ref *c);

/* The same in double precision throughout (the gradient tests' finite differences need it): c
   gives the configuration (its float pointers are not read), io the data, every output written. */
struct rnn_ref_data {
  const double *x, *w, *r, *b, *h0, *c0, *p; /* b, h0, c0, p may be NULL */
  double *y, *yh, *yc;                       /* yc only for LSTM */
};
void ref_rnn_double(const struct rnn_ref *c, const struct rnn_ref_data *io);

#endif
