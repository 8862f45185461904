/* grad.h: what a backward rule sees (struct op_grad: one forward node with its shapes, the
   gradients flowing into its outputs) and the helpers rules emit gradient nodes with. */
#ifndef NNCL_GRAD_H
#define NNCL_GRAD_H

#include "graph_internal.h"

struct autodiff;

struct op_grad {
  /* The forward node as an op sees it: op type, node name, opset, attributes, and the dtype and
     shape of every input and output (host values only for constants; no buffers). */
  struct op_call fwd;
  struct op_tensor t[16 + 8];
  const char *x[16]; /* forward input value names ("" for an absent optional input) */
  const char *y[8];  /* forward output value names ("" when absent) */
  const char *dy[8]; /* gradient flowing into output i, NULL when none does */
  int need[16];      /* input i needs a gradient (it leads to a trainable value) */
  struct autodiff *ad;
};

/* Appends node op_type(in...) -> n_out fresh values to the graph; their names go to out[] (owned
   by the pass, valid until it ends). in[i] may be "" for an absent optional input. */
nncl_status grad_emit(struct op_grad *g, const char *op_type, int n_in, const char *const *in,
                      int n_out, const char **out, const struct nncl__attr *attrs, int n_attrs);
/* Single-output form. */
nncl_status grad_emit1(struct op_grad *g, const char *op_type, int n_in, const char *const *in,
                       const struct nncl__attr *attrs, int n_attrs, const char **out);
/* A new constant (copied) and its name. */
nncl_status grad_const(struct op_grad *g, const nncl_array *a, const char **out);
nncl_status grad_const_i64(struct op_grad *g, int n, const int64_t *v, const char **out);
nncl_status grad_const_f32(struct op_grad *g, float v, const char **out); /* a scalar */
/* ReduceSum over axes (opset-aware: axes as input from 13, attribute before). */
nncl_status grad_reduce_sum(struct op_grad *g, const char *x, int n_axes, const int64_t *axes,
                            int keepdims, const char **out);
/* Unsqueeze (opset-aware likewise). */
nncl_status grad_unsqueeze(struct op_grad *g, const char *x, int n_axes, const int64_t *axes,
                           const char **out);
/* dy (shape of the broadcast result) summed down to shape `to`: the gradient of an input that
   NumPy broadcasting stretched. Returns dy itself when nothing was broadcast. */
nncl_status grad_unbroadcast(struct op_grad *g, const char *dy, const nncl_shape *from,
                             const nncl_shape *to, const char **out);
/* Reshape(v, Shape(like)): v given like's shape, read at plan time, so batch size may change. */
nncl_status grad_reshape_like(struct op_grad *g, const char *v, const char *like, const char **out);
/* Adds `name` to the gradient of forward input i (several contributions are summed). */
nncl_status grad_give(struct op_grad *g, int i, const char *name);
/* The error for an op (or an op's mode) without a backward rule, naming the node and op. */
nncl_status grad_no_rule(struct op_grad *g, const char *why);

#endif
