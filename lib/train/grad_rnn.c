/* grad_rnn.c: the backward rule of RNN, LSTM and GRU: one gradient node (nncl.RNNGrad,
   nncl.LSTMGrad or nncl.GRUGrad, op_rnn_grad.c) reading the forward's inputs and the gradients of
   Y, Y_h and Y_c, with the forward's attributes, giving the gradients of X, W, R, B, initial_h,
   initial_c and P. sequence_lens is an integer input and has none. */
#include <string.h>

#include "grad.h"
#include "rnn.h"

nncl_status nncl__grad_rnn(struct op_grad *g) {
  const int lstm = !strcmp(g->fwd.op_type, "LSTM"), gru = !strcmp(g->fwd.op_type, "GRU");
  int flows = 0;
  for (int i = 0; i < g->fwd.n_out; i++) flows |= g->dy[i] != NULL;
  if (!flows) return NNCL_OK;
  const char *in[11];
  for (int i = 0; i < 8; i++) in[i] = i < g->fwd.n_in ? g->x[i] : "";
  for (int i = 0; i < 3; i++) in[8 + i] = i < g->fwd.n_out && g->dy[i] ? g->dy[i] : "";
  const char *out[7];
  const int n_out = lstm ? 7 : 5;
  NNCL_TRY(grad_emit(g,
                     lstm  ? "nncl.LSTMGrad"
                     : gru ? "nncl.GRUGrad"
                           : "nncl.RNNGrad",
                     11, in, n_out, out, g->fwd.attrs, g->fwd.n_attrs));
  /* outputs dX, dW, dR, dB, d initial_h, d initial_c, dP for input slots 0, 1, 2, 3, 5, 6, 7 */
  static const int slot[7] = {IN_X, IN_W, IN_R, IN_B, IN_H0, IN_C0, IN_P};
  for (int k = 0; k < n_out; k++)
    if (slot[k] < g->fwd.n_in && in[slot[k]][0]) NNCL_TRY(grad_give(g, slot[k], out[k]));
  return NNCL_OK;
}
