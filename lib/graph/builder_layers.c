/* builder_layers.c: typed builder helpers for the common layers (conv2d, pooling, dense,
   activation, LSTM), written on top of the generic add_node/add_constant calls. */
#include <stdio.h>
#include <string.h>

#include "graph_internal.h"

/* "<layer>.<suffix>" into buf. */
static const char *sub(char *buf, size_t n, const char *layer, const char *suffix) {
  snprintf(buf, n, "%s.%s", layer, suffix);
  return buf;
}

static nncl_status need(nncl_graph *g, int ok, const char *layer, const char *what) {
  if (ok) return NNCL_OK;
  return g ? nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT, "layer '%s': %s", layer ? layer : "",
                         what)
           : NNCL_ERR_INVALID_ARGUMENT;
}

nncl_status nncl_graph_conv2d(nncl_graph *g, const char *name, const char *input,
                              const char *output, const nncl_array *weight, const nncl_array *bias,
                              int stride, int pad, int dilation, int groups) {
  NNCL_TRY(need(g, g && name && input && output && weight, name,
                "needs a name, input, output and weight"));
  NNCL_TRY(need(g, weight->shape.rank == 4, name, "conv2d weight must be [K, C/groups, R, S]"));
  char wn[512], bn[512];
  NNCL_TRY(nncl_graph_add_constant(g, sub(wn, sizeof wn, name, "weight"), weight));
  if (bias) NNCL_TRY(nncl_graph_add_constant(g, sub(bn, sizeof bn, name, "bias"), bias));
  const char *ins[] = {input, wn, bn};
  nncl_node *n;
  NNCL_TRY(nncl_graph_add_node(g, "Conv", name, bias ? 3 : 2, ins, 1, &output, &n));
  int64_t s[2] = {stride, stride}, d[2] = {dilation, dilation}, p[4] = {pad, pad, pad, pad};
  int64_t k[2] = {weight->shape.dims[2], weight->shape.dims[3]};
  NNCL_TRY(nncl_node_set_ints(g, n, "kernel_shape", k, 2));
  NNCL_TRY(nncl_node_set_ints(g, n, "strides", s, 2));
  NNCL_TRY(nncl_node_set_ints(g, n, "dilations", d, 2));
  NNCL_TRY(nncl_node_set_ints(g, n, "pads", p, 4));
  return nncl_node_set_int(g, n, "group", groups);
}

nncl_status nncl_graph_pool2d(nncl_graph *g, const char *name, const char *op_type,
                              const char *input, const char *output, int kernel, int stride,
                              int pad) {
  NNCL_TRY(need(g, g && op_type && input && output, name, "needs an op type, input and output"));
  nncl_node *n;
  NNCL_TRY(nncl_graph_add_node(g, op_type, name, 1, &input, 1, &output, &n));
  if (strncmp(op_type, "Global", 6) == 0) return NNCL_OK;
  int64_t k[2] = {kernel, kernel}, s[2] = {stride, stride}, p[4] = {pad, pad, pad, pad};
  NNCL_TRY(nncl_node_set_ints(g, n, "kernel_shape", k, 2));
  NNCL_TRY(nncl_node_set_ints(g, n, "strides", s, 2));
  return nncl_node_set_ints(g, n, "pads", p, 4);
}

nncl_status nncl_graph_dense(nncl_graph *g, const char *name, const char *input, const char *output,
                             const nncl_array *weight, const nncl_array *bias) {
  NNCL_TRY(need(g, g && name && input && output && weight, name,
                "needs a name, input, output and weight"));
  NNCL_TRY(
      need(g, weight->shape.rank == 2, name, "dense weight must be [out_features, in_features]"));
  char wn[512], bn[512];
  NNCL_TRY(nncl_graph_add_constant(g, sub(wn, sizeof wn, name, "weight"), weight));
  if (bias) NNCL_TRY(nncl_graph_add_constant(g, sub(bn, sizeof bn, name, "bias"), bias));
  const char *ins[] = {input, wn, bn};
  nncl_node *n;
  NNCL_TRY(nncl_graph_add_node(g, "Gemm", name, bias ? 3 : 2, ins, 1, &output, &n));
  return nncl_node_set_int(g, n, "transB", 1);
}

nncl_status nncl_graph_activation(nncl_graph *g, const char *name, const char *op_type,
                                  const char *input, const char *output) {
  NNCL_TRY(need(g, g && op_type && input && output, name, "needs an op type, input and output"));
  return nncl_graph_add_node(g, op_type, name, 1, &input, 1, &output, NULL);
}

nncl_status nncl_graph_lstm(nncl_graph *g, const char *name, const char *input, const char *y,
                            const char *y_h, const char *y_c, const nncl_array *W,
                            const nncl_array *R, const nncl_array *B, int hidden_size) {
  NNCL_TRY(need(g, g && name && input && W && R && hidden_size > 0, name,
                "needs a name, input, W, R and hidden_size > 0"));
  char wn[512], rn[512], bn[512];
  NNCL_TRY(nncl_graph_add_constant(g, sub(wn, sizeof wn, name, "W"), W));
  NNCL_TRY(nncl_graph_add_constant(g, sub(rn, sizeof rn, name, "R"), R));
  if (B) NNCL_TRY(nncl_graph_add_constant(g, sub(bn, sizeof bn, name, "B"), B));
  const char *ins[] = {input, wn, rn, B ? bn : ""};
  const char *outs[] = {y ? y : "", y_h ? y_h : "", y_c ? y_c : ""};
  int n_out = y_c ? 3 : y_h ? 2 : 1;
  nncl_node *n;
  NNCL_TRY(nncl_graph_add_node(g, "LSTM", name, B ? 4 : 3, ins, n_out, outs, &n));
  return nncl_node_set_int(g, n, "hidden_size", hidden_size);
}
