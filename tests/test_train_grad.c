/* test_train_grad.c: every backward rule checked by central finite differences. Each case is a
   small graph on random awkward shapes (odd sizes, stride 2, asymmetric pads, dilation, groups,
   broadcasting); the loss is sum(y * r) for a fixed random r (or the graph's own scalar loss).
   nncl's autodiff pass appends the backward nodes and the device computes every input's
   gradient in float32; the reference is (L(x + h) - L(x - h)) / 2h evaluated in double by the
   host interpreter of test_train_ref.c (h = 1e-4: truncation error ~1e-8, far below float32).
   Tolerance: |got - fd| <= 1e-3 |fd| + 1e-4 max(1, max |fd|): float32 sums of up to ~10^3
   products carry ~1e-5 relative error, so 1e-3 leaves a 100x margin while a wrong index, sign
   or scale (errors of order 1) still fails. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "nncl/graph.h"
#include "nncl/train.h"
#include "test_train_ref.h"
#include "test_util.h"

struct gin {
  const char *name;
  nncl_shape shape;
  float lo, hi;
};

struct gcase {
  struct tr_node nodes[TR_MAX_NODES];
  int n_nodes;
  struct gin in[6]; /* float graph inputs: every one is differentiated */
  int n_in;
  const char *labels; /* optional int64 constant [N] with values < n_classes */
  nncl_shape labels_shape;
  int n_classes;
  const char *shape_const; /* optional int64 constant (a Reshape target) */
  int64_t shape_vals[8];
  int n_shape;
  struct {
    const char *name;
    int n;
    int64_t v[8];
  } ic[6]; /* more int64 constants (1-D): Slice's starts/ends/axes, Pad's pads */
  int n_ic;
  const char *y; /* output: loss = sum(y * r), or y itself when scalar_loss */
  int scalar_loss;
};

#define SHAPE(...)                                                                                 \
  ((nncl_shape){.rank = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),                 \
                .dims = {__VA_ARGS__}})

static void set_attr(nncl_graph *g, nncl_node *n, const struct nncl__attr *a) {
  nncl_status st = NNCL_ERR_INVALID_ARGUMENT;
  switch (a->type) {
  case ATTR_INT: st = nncl_node_set_int(g, n, a->name, a->i); break;
  case ATTR_FLOAT: st = nncl_node_set_float(g, n, a->name, a->f); break;
  case ATTR_STRING: st = nncl_node_set_string(g, n, a->name, a->s); break;
  case ATTR_INTS: st = nncl_node_set_ints(g, n, a->name, a->ints, a->n); break;
  default: break;
  }
  cr_assert_eq(st, NNCL_OK);
}

/* The case's data: inputs, labels and r, from fixed seeds. */
struct gdata {
  float *x[6];
  int64_t *labels;
  float *r;
  nncl_shape y_shape;
};

/* Loss of the host interpreter at inputs xd (double). */
static double host_loss(const struct gcase *c, struct gdata *d, double *const *xd) {
  struct tr_env e = {0};
  for (int i = 0; i < c->n_in; i++) {
    tr_set_f(&e, c->in[i].name, &c->in[i].shape, d->x[i]);
    struct tr_value *v = tr_get(&e, c->in[i].name);
    memcpy(v->d, xd[i], (size_t)nncl_shape_numel(&c->in[i].shape) * sizeof(double));
  }
  if (c->labels) tr_set_i(&e, c->labels, &c->labels_shape, d->labels);
  if (c->shape_const) {
    nncl_shape s = SHAPE(c->n_shape);
    tr_set_i(&e, c->shape_const, &s, c->shape_vals);
  }
  for (int k = 0; k < c->n_ic; k++) {
    nncl_shape s = SHAPE(c->ic[k].n);
    tr_set_i(&e, c->ic[k].name, &s, c->ic[k].v);
  }
  tr_run(&e, c->nodes, c->n_nodes);
  struct tr_value *y = tr_get(&e, c->y);
  d->y_shape = y->shape;
  double L = 0.0;
  int64_t n = nncl_shape_numel(&y->shape);
  if (!d->r) {
    d->r = malloc((size_t)n * sizeof *d->r);
    tu_fill(d->r, (size_t)n, 977, -1.0f, 1.0f);
  }
  for (int64_t k = 0; k < n; k++) L += c->scalar_loss ? y->d[k] : y->d[k] * (double)d->r[k];
  tr_free(&e);
  return L;
}

/* host_loss's arguments for tu_assert_fd_gradient */
struct fd_arg {
  const struct gcase *c;
  struct gdata *d;
  double *const *xd;
};
static double fd_loss(void *arg) {
  const struct fd_arg *a = arg;
  return host_loss(a->c, a->d, a->xd);
}

static void check_case(const struct gcase *c) {
  nncl_context *ctx = tu_ctx();
  struct gdata d = {0};
  double *xd[6];
  for (int i = 0; i < c->n_in; i++) {
    size_t n = (size_t)nncl_shape_numel(&c->in[i].shape);
    d.x[i] = malloc(n * sizeof(float));
    xd[i] = malloc(n * sizeof(double));
    tu_fill(d.x[i], n, 101u + (uint32_t)i * 31u, c->in[i].lo, c->in[i].hi);
    for (size_t k = 0; k < n; k++) xd[i][k] = d.x[i][k];
  }
  if (c->labels) {
    int64_t n = nncl_shape_numel(&c->labels_shape);
    d.labels = malloc((size_t)n * sizeof *d.labels);
    for (int64_t k = 0; k < n; k++) d.labels[k] = (k * 7 + 3) % c->n_classes;
  }
  double L = host_loss(c, &d, xd);

  /* the same graph in nncl, loss appended, then the autodiff pass */
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(ctx, &g), NNCL_OK);
  for (int i = 0; i < c->n_in; i++)
    cr_assert_eq(nncl_graph_add_input(g, c->in[i].name, NNCL_FLOAT32, &c->in[i].shape), NNCL_OK);
  if (c->labels) {
    nncl_array a = {.dtype = NNCL_INT64, .shape = c->labels_shape, .data = d.labels};
    cr_assert_eq(nncl_graph_add_constant(g, c->labels, &a), NNCL_OK);
  }
  if (c->shape_const) {
    nncl_array a = {.dtype = NNCL_INT64, .shape = SHAPE(c->n_shape), .data = (void *)c->shape_vals};
    cr_assert_eq(nncl_graph_add_constant(g, c->shape_const, &a), NNCL_OK);
  }
  for (int k = 0; k < c->n_ic; k++) {
    nncl_array a = {.dtype = NNCL_INT64, .shape = SHAPE(c->ic[k].n), .data = (void *)c->ic[k].v};
    cr_assert_eq(nncl_graph_add_constant(g, c->ic[k].name, &a), NNCL_OK);
  }
  for (int k = 0; k < c->n_nodes; k++) {
    const struct tr_node *t = &c->nodes[k];
    nncl_node *n;
    /* extra outputs of multi-output ops (nncl.DropoutTrain's scale) get derived names */
    char extra[64];
    snprintf(extra, sizeof extra, "%s.extra", t->out);
    const char *outs[] = {t->out, extra};
    int n_out = !strcmp(t->op, "nncl.DropoutTrain") ? 2 : 1;
    if (t->out2) outs[1] = t->out2, n_out = 2;
    const char *outs3[3] = {t->out, t->out2, t->out3};
    if (t->out3) n_out = 3;
    cr_assert_eq(
        nncl_graph_add_node(g, t->op, NULL, t->n_in, t->in, n_out, t->out3 ? outs3 : outs, &n),
        NNCL_OK, "%s", nncl_context_last_error(ctx));
    for (int a = 0; a < t->n_attrs; a++) set_attr(g, n, &t->attrs[a]);
  }
  const char *loss = c->y;
  if (!c->scalar_loss) {
    nncl_array r = {.dtype = NNCL_FLOAT32, .shape = d.y_shape, .data = d.r};
    cr_assert_eq(nncl_graph_add_constant(g, "loss_weights", &r), NNCL_OK);
    const char *mi[] = {c->y, "loss_weights"}, *mo = "yr", *lo = "loss";
    cr_assert_eq(nncl_graph_add_node(g, "Mul", NULL, 2, mi, 1, &mo, NULL), NNCL_OK);
    nncl_node *n;
    cr_assert_eq(nncl_graph_add_node(g, "ReduceSum", NULL, 1, &mo, 1, &lo, &n), NNCL_OK);
    cr_assert_eq(nncl_node_set_int(g, n, "keepdims", 0), NNCL_OK);
    loss = "loss";
  }
  cr_assert_eq(nncl_graph_add_output(g, loss), NNCL_OK);
  for (int i = 0; i < c->n_in; i++) {
    nncl_array a = {.dtype = NNCL_FLOAT32, .shape = c->in[i].shape, .data = d.x[i]};
    cr_assert_eq(nncl_graph_set_input(g, c->in[i].name, &a), NNCL_OK);
  }
  const char *wrt[6];
  char *grads[6];
  for (int i = 0; i < c->n_in; i++) wrt[i] = c->in[i].name;
  nncl_status st = nncl__autodiff(g, loss, c->n_in, wrt, grads);
  cr_assert_eq(st, NNCL_OK, "autodiff: %s", nncl_context_last_error(ctx));
  for (int i = 0; i < c->n_in; i++) cr_assert_eq(nncl_graph_add_output(g, grads[i]), NNCL_OK);
  st = nncl_graph_run(g);
  cr_assert_eq(st, NNCL_OK, "run: %s", nncl_context_last_error(ctx));

  /* the device's forward agrees with the reference (so the reference is the right function) */
  nncl_array lv;
  cr_assert_eq(nncl_graph_get_output(g, 0, &lv), NNCL_OK);
  float lf = ((float *)lv.data)[0];
  cr_assert(fabs(lf - L) <= 1e-4 * (1.0 + fabs(L)), "loss %.8g on the device, %.8g on the host",
            (double)lf, L);
  nncl_array_free(&lv);

  struct fd_arg fa = {c, &d, xd};
  for (int i = 0; i < c->n_in; i++) {
    nncl_array ga;
    cr_assert_eq(nncl_graph_get_output(g, 1 + i, &ga), NNCL_OK);
    size_t n = (size_t)nncl_shape_numel(&c->in[i].shape);
    cr_assert_eq((size_t)nncl_shape_numel(&ga.shape), n, "gradient of %s has %lld elements",
                 c->in[i].name, (long long)nncl_shape_numel(&ga.shape));
    char what[96];
    snprintf(what, sizeof what, "d loss / d %s", c->in[i].name);
    tu_assert_fd_gradient((const float *)ga.data, xd[i], n, fd_loss, &fa, what);
    nncl_array_free(&ga);
    free(grads[i]);
  }
  nncl_graph_destroy(g);
  for (int i = 0; i < c->n_in; i++) {
    free(d.x[i]);
    free(xd[i]);
  }
  free(d.labels);
  free(d.r);
}

#define NODE(op_, out_, ...)                                                                       \
  ((struct tr_node){.op = (op_),                                                                   \
                    .out = (out_),                                                                 \
                    .in = {__VA_ARGS__},                                                           \
                    .n_in = (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *))})
#define IN(nm, ...) ((struct gin){.name = (nm), .shape = SHAPE(__VA_ARGS__), .lo = -1, .hi = 1})

static void with_attrs(struct tr_node *n, int k, const struct nncl__attr *a) {
  for (int i = 0; i < k; i++) n->attrs[n->n_attrs++] = a[i];
}
#define ATTRS(node, ...)                                                                           \
  with_attrs(&(node),                                                                              \
             (int)(sizeof((struct nncl__attr[]){__VA_ARGS__}) / sizeof(struct nncl__attr)),        \
             (struct nncl__attr[]){__VA_ARGS__})

Test(train_grad, conv_groups_stride2_asym_pads_dilation) {
  struct gcase c = {.n_in = 3, .n_nodes = 1, .y = "y"};
  c.in[0] = IN("x", 2, 4, 9, 7);
  c.in[1] = IN("w", 6, 2, 3, 3);
  c.in[2] = IN("b", 6);
  c.nodes[0] = NODE("Conv", "y", "x", "w", "b");
  ATTRS(c.nodes[0], A_INTS("strides", 2, 2), A_INTS("pads", 1, 0, 2, 1), A_INTS("dilations", 1, 2),
        A_INT("group", 2));
  check_case(&c);
}

Test(train_grad, conv_depthwise_multiplier) {
  struct gcase c = {.n_in = 2, .n_nodes = 1, .y = "y"};
  c.in[0] = IN("x", 1, 3, 8, 8);
  c.in[1] = IN("w", 6, 1, 3, 3);
  c.nodes[0] = NODE("Conv", "y", "x", "w");
  ATTRS(c.nodes[0], A_INTS("pads", 1, 1, 1, 1), A_INT("group", 3));
  check_case(&c);
}

Test(train_grad, conv_1x1_and_stride3_odd) {
  struct gcase c = {.n_in = 3, .n_nodes = 2, .y = "z"};
  c.in[0] = IN("x", 3, 3, 5, 5);
  c.in[1] = IN("w", 4, 3, 1, 1);
  c.in[2] = IN("v", 2, 4, 2, 3);
  c.nodes[0] = NODE("Conv", "y", "x", "w");
  c.nodes[1] = NODE("Conv", "z", "y", "v");
  ATTRS(c.nodes[1], A_INTS("strides", 3, 2));
  check_case(&c);
}

Test(train_grad, conv_transpose_groups_stride2_output_padding) {
  struct gcase c = {.n_in = 3, .n_nodes = 1, .y = "y"};
  c.in[0] = IN("x", 2, 4, 5, 4);
  c.in[1] = IN("w", 4, 3, 3, 3);
  c.in[2] = IN("b", 6);
  c.nodes[0] = NODE("ConvTranspose", "y", "x", "w", "b");
  ATTRS(c.nodes[0], A_INTS("strides", 2, 2), A_INTS("pads", 1, 0, 0, 1),
        A_INTS("output_padding", 1, 1), A_INTS("dilations", 1, 2), A_INT("group", 2));
  check_case(&c);
}

Test(train_grad, gemm_trans_alpha_beta_broadcast_bias) {
  struct gcase c = {.n_in = 3, .n_nodes = 1, .y = "y"};
  c.in[0] = IN("a", 5, 7);
  c.in[1] = IN("b", 4, 7);
  c.in[2] = IN("c", 4);
  c.nodes[0] = NODE("Gemm", "y", "a", "b", "c");
  ATTRS(c.nodes[0], A_INT("transB", 1), A_FLOAT("alpha", 0.7f), A_FLOAT("beta", 1.3f));
  check_case(&c);
}

Test(train_grad, gemm_transA_column_bias) {
  struct gcase c = {.n_in = 3, .n_nodes = 1, .y = "y"};
  c.in[0] = IN("a", 7, 5);
  c.in[1] = IN("b", 7, 3);
  c.in[2] = IN("c", 5, 1);
  c.nodes[0] = NODE("Gemm", "y", "a", "b", "c");
  ATTRS(c.nodes[0], A_INT("transA", 1));
  check_case(&c);
}

Test(train_grad, matmul_2d_and_batched_rows) {
  struct gcase c = {.n_in = 3, .n_nodes = 2, .y = "z"};
  c.in[0] = IN("a", 2, 3, 5);
  c.in[1] = IN("b", 5, 4);
  c.in[2] = IN("m", 4, 3);
  c.nodes[0] = NODE("MatMul", "y", "a", "b");
  c.nodes[1] = NODE("MatMul", "z", "y", "m");
  check_case(&c);
}

Test(train_grad, add_sub_broadcast) {
  struct gcase c = {.n_in = 3, .n_nodes = 2, .y = "z"};
  c.in[0] = IN("a", 2, 3, 4);
  c.in[1] = IN("b", 3, 1);
  c.in[2] = IN("e", 2, 1, 1);
  c.nodes[0] = NODE("Add", "y", "a", "b");
  c.nodes[1] = NODE("Sub", "z", "e", "y");
  check_case(&c);
}

Test(train_grad, mul_div_broadcast_and_reuse) {
  struct gcase c = {.n_in = 2, .n_nodes = 3, .y = "z"};
  c.in[0] = IN("a", 3, 4);
  c.in[1] = IN("b", 2, 3, 1);
  c.in[1].lo = 0.5f, c.in[1].hi = 1.5f; /* away from the pole of a / b */
  c.nodes[0] = NODE("Mul", "y", "a", "b");
  c.nodes[1] = NODE("Div", "q", "y", "b");
  c.nodes[2] = NODE("Mul", "z", "q", "a"); /* a read twice: gradients add up */
  check_case(&c);
}

Test(train_grad, relu_sigmoid_leaky_tanh) {
  struct gcase c = {.n_in = 1, .n_nodes = 3, .y = "t"};
  c.in[0] = IN("x", 3, 5, 7);
  c.in[0].lo = -2, c.in[0].hi = 2;
  c.nodes[0] = NODE("Relu", "r", "x");
  c.nodes[1] = NODE("Sigmoid", "s", "x");
  c.nodes[2] = NODE("Add", "u", "r", "s");
  c.nodes[3] = NODE("LeakyRelu", "k", "u");
  ATTRS(c.nodes[3], A_FLOAT("alpha", 0.2f));
  c.nodes[4] = NODE("Tanh", "t", "k");
  c.n_nodes = 5;
  check_case(&c);
}

Test(train_grad, softplus_gelu_hardswish) {
  struct gcase c = {.n_in = 1, .n_nodes = 5, .y = "y"};
  c.in[0] = IN("x", 5, 11);
  c.in[0].lo = -4, c.in[0].hi = 4; /* both HardSwish kinks (+-3) inside */
  c.nodes[0] = NODE("Softplus", "s", "x");
  c.nodes[1] = NODE("Gelu", "g", "x");
  c.nodes[2] = NODE("HardSwish", "h", "x");
  c.nodes[3] = NODE("Add", "a", "s", "g");
  c.nodes[4] = NODE("Add", "y", "a", "h");
  check_case(&c);
}

/* Elu (alpha 0.7), Selu (ONNX's defaults), HardSigmoid (alpha 0.3, beta 0.4: kinks at -4/3 and
   2) and tanh-approximated Gelu over [-4, 4]. */
Test(train_grad, elu_selu_hardsigmoid_gelu_tanh) {
  struct gcase c = {.n_in = 1, .n_nodes = 7, .y = "y"};
  c.in[0] = IN("x", 3, 7, 5);
  c.in[0].lo = -4, c.in[0].hi = 4;
  c.nodes[0] = NODE("Elu", "e", "x");
  ATTRS(c.nodes[0], A_FLOAT("alpha", 0.7f));
  c.nodes[1] = NODE("Selu", "s", "x");
  c.nodes[2] = NODE("HardSigmoid", "h", "x");
  ATTRS(c.nodes[2], A_FLOAT("alpha", 0.3f), A_FLOAT("beta", 0.4f));
  c.nodes[3] = NODE("Gelu", "g", "x");
  ATTRS(c.nodes[3], A_STR("approximate", "tanh"));
  c.nodes[4] = NODE("Add", "a", "e", "s");
  c.nodes[5] = NODE("Add", "b", "a", "h");
  c.nodes[6] = NODE("Add", "y", "b", "g");
  check_case(&c);
}

Test(train_grad, sqrt_reciprocal) {
  struct gcase c = {.n_in = 1, .n_nodes = 2, .y = "y"};
  c.in[0] = IN("x", 4, 7);
  c.in[0].lo = 0.5f, c.in[0].hi = 2.0f;
  c.nodes[0] = NODE("Sqrt", "s", "x");
  c.nodes[1] = NODE("Reciprocal", "y", "s");
  check_case(&c);
}

/* PRelu with a per-channel slope [C, 1, 1] broadcast over [N, C, H, W]. */
Test(train_grad, prelu_per_channel_slope) {
  struct gcase c = {.n_in = 2, .n_nodes = 1, .y = "y"};
  c.in[0] = IN("x", 2, 3, 4, 5);
  c.in[1] = IN("slope", 3, 1, 1);
  c.nodes[0] = NODE("PRelu", "y", "x", "slope");
  check_case(&c);
}

Test(train_grad, maxpool_overlapping_padded) {
  struct gcase c = {.n_in = 1, .n_nodes = 1, .y = "y"};
  c.in[0] = IN("x", 2, 3, 9, 8);
  c.nodes[0] = NODE("MaxPool", "y", "x");
  ATTRS(c.nodes[0], A_INTS("kernel_shape", 3, 3), A_INTS("strides", 2, 2),
        A_INTS("pads", 1, 1, 1, 0));
  check_case(&c);
}

Test(train_grad, maxpool_dilated_ceil) {
  struct gcase c = {.n_in = 1, .n_nodes = 1, .y = "y"};
  c.in[0] = IN("x", 1, 2, 10, 9);
  c.nodes[0] = NODE("MaxPool", "y", "x");
  ATTRS(c.nodes[0], A_INTS("kernel_shape", 2, 3), A_INTS("strides", 2, 3),
        A_INTS("dilations", 2, 1), A_INT("ceil_mode", 1));
  check_case(&c);
}

/* Windows tiling the input exactly (stride = kernel, no pads): the planner's "tiled" max-pool
   gradient, with a non-square window and with one-row windows; and an input one column too wide,
   which must
   fall back to the gathering kernel (the last column is in no window: its gradient is 0). */
Test(train_grad, maxpool_tiled_2d) {
  struct gcase c = {.n_in = 1, .n_nodes = 1, .y = "y"};
  c.in[0] = IN("x", 2, 3, 6, 9);
  c.nodes[0] = NODE("MaxPool", "y", "x");
  ATTRS(c.nodes[0], A_INTS("kernel_shape", 2, 3), A_INTS("strides", 2, 3));
  check_case(&c);
}

Test(train_grad, maxpool_tiled_one_row) {
  struct gcase c = {.n_in = 1, .n_nodes = 1, .y = "y"};
  c.in[0] = IN("x", 3, 2, 1, 12);
  c.nodes[0] = NODE("MaxPool", "y", "x");
  ATTRS(c.nodes[0], A_INTS("kernel_shape", 1, 3), A_INTS("strides", 1, 3));
  check_case(&c);
}

Test(train_grad, maxpool_untiled_edge_column) {
  struct gcase c = {.n_in = 1, .n_nodes = 1, .y = "y"};
  c.in[0] = IN("x", 2, 2, 4, 7);
  c.nodes[0] = NODE("MaxPool", "y", "x");
  ATTRS(c.nodes[0], A_INTS("kernel_shape", 2, 2), A_INTS("strides", 2, 2));
  check_case(&c);
}

Test(train_grad, averagepool_pads_both_counts_ceil) {
  struct gcase c = {.n_in = 1, .n_nodes = 3, .y = "z"};
  c.in[0] = IN("x", 2, 2, 7, 8);
  c.nodes[0] = NODE("AveragePool", "p", "x");
  ATTRS(c.nodes[0], A_INTS("kernel_shape", 3, 3), A_INTS("strides", 2, 2),
        A_INTS("pads", 1, 1, 1, 1), A_INT("ceil_mode", 1));
  c.nodes[1] = NODE("AveragePool", "q", "x");
  ATTRS(c.nodes[1], A_INTS("kernel_shape", 3, 3), A_INTS("strides", 2, 2),
        A_INTS("pads", 1, 1, 1, 1), A_INT("ceil_mode", 1), A_INT("count_include_pad", 1));
  c.nodes[2] = NODE("Mul", "z", "p", "q");
  check_case(&c);
}

Test(train_grad, global_average_pool_flatten_reshape) {
  struct gcase c = {
      .n_in = 2, .n_nodes = 4, .y = "z", .shape_const = "shp", .n_shape = 2, .shape_vals = {-1, 3}};
  c.in[0] = IN("x", 2, 3, 5, 7);
  c.in[1] = IN("v", 3, 4, 5);
  c.nodes[0] = NODE("GlobalAveragePool", "p", "x");
  c.nodes[1] = NODE("Reshape", "q", "p", "shp");
  c.nodes[2] = NODE("Flatten", "f", "v");
  ATTRS(c.nodes[2], A_INT("axis", 1));
  c.nodes[3] = NODE("MatMul", "z", "q", "f");
  check_case(&c);
}

Test(train_grad, reduce_mean_axes) {
  struct gcase c = {.n_in = 1, .n_nodes = 1, .y = "y"};
  c.in[0] = IN("x", 3, 4, 5);
  c.nodes[0] = NODE("ReduceMean", "y", "x");
  ATTRS(c.nodes[0], A_INTS("axes", 1), A_INT("keepdims", 0));
  check_case(&c);
}

Test(train_grad, softmax_and_log_softmax_axes) {
  struct gcase c = {.n_in = 1, .n_nodes = 3, .y = "y"};
  c.in[0] = IN("x", 3, 4, 5);
  c.in[0].lo = -2, c.in[0].hi = 2;
  c.nodes[0] = NODE("Softmax", "s", "x");
  ATTRS(c.nodes[0], A_INT("axis", 1));
  c.nodes[1] = NODE("LogSoftmax", "l", "x");
  c.nodes[2] = NODE("Mul", "y", "s", "l");
  check_case(&c);
}

Test(train_grad, concat_transpose_exp) {
  struct gcase c = {.n_in = 2, .n_nodes = 3, .y = "y"};
  c.in[0] = IN("a", 2, 3, 4);
  c.in[1] = IN("b", 2, 5, 4);
  c.nodes[0] = NODE("Concat", "c", "a", "b");
  ATTRS(c.nodes[0], A_INT("axis", 1));
  c.nodes[1] = NODE("Transpose", "t", "c");
  ATTRS(c.nodes[1], A_INTS("perm", 2, 0, 1));
  c.nodes[2] = NODE("Exp", "y", "t");
  check_case(&c);
}

/* Slice (negative, clamped and end-relative bounds) then Pad out by other amounts. */
Test(train_grad, slice_then_pad) {
  struct gcase c = {.n_in = 1, .n_nodes = 2, .y = "y", .n_ic = 4};
  c.in[0] = IN("x", 4, 7, 6);
  c.ic[0].name = "st", c.ic[0].n = 2, c.ic[0].v[0] = 1, c.ic[0].v[1] = -4;
  c.ic[1].name = "en", c.ic[1].n = 2, c.ic[1].v[0] = 100, c.ic[1].v[1] = -1;
  c.ic[2].name = "ax", c.ic[2].n = 2, c.ic[2].v[0] = 0, c.ic[2].v[1] = 2;
  c.ic[3].name = "pads", c.ic[3].n = 6;
  int64_t pads[6] = {0, 1, 2, 1, 0, 1};
  memcpy(c.ic[3].v, pads, sizeof pads);
  c.nodes[0] = NODE("Slice", "s", "x", "st", "en", "ax");
  c.nodes[1] = NODE("Pad", "y", "s", "pads");
  check_case(&c);
}

/* Strided and reversed Slice: steps -2, 3 and -1 on three axes of odd sizes, with a clamped
   start and an end past the front, then Tanh so the gradient is not all ones. */
Test(train_grad, slice_strided_negative_steps) {
  struct gcase c = {.n_in = 1, .n_nodes = 2, .y = "y", .n_ic = 4};
  c.in[0] = IN("x", 5, 9, 8);
  int64_t st[3] = {-1, 1, 100}, en[3] = {-100, 9, 0}, ax[3] = {0, 1, 2}, sp[3] = {-2, 3, -1};
  c.ic[0].name = "st", c.ic[0].n = 3, memcpy(c.ic[0].v, st, sizeof st);
  c.ic[1].name = "en", c.ic[1].n = 3, memcpy(c.ic[1].v, en, sizeof en);
  c.ic[2].name = "ax", c.ic[2].n = 3, memcpy(c.ic[2].v, ax, sizeof ax);
  c.ic[3].name = "sp", c.ic[3].n = 3, memcpy(c.ic[3].v, sp, sizeof sp);
  c.nodes[0] = NODE("Slice", "s", "x", "st", "en", "ax", "sp");
  c.nodes[1] = NODE("Tanh", "y", "s");
  check_case(&c);
}

/* Reflect Pad wider than the axis (repeated reflections), then edge Pad, then wrap Pad: each
   border element's gradient gathers every copy the padding made of it. */
Test(train_grad, pad_reflect_edge_wrap) {
  struct gcase c = {.n_in = 1, .n_nodes = 4, .y = "y", .n_ic = 3};
  c.in[0] = IN("x", 2, 5, 4);
  int64_t p1[6] = {0, 3, 1, 0, 2, 6}, p2[6] = {1, 0, 2, 0, 1, 1}, p3[6] = {0, 2, 0, 1, 0, 3};
  c.ic[0].name = "p1", c.ic[0].n = 6, memcpy(c.ic[0].v, p1, sizeof p1);
  c.ic[1].name = "p2", c.ic[1].n = 6, memcpy(c.ic[1].v, p2, sizeof p2);
  c.ic[2].name = "p3", c.ic[2].n = 6, memcpy(c.ic[2].v, p3, sizeof p3);
  c.nodes[0] = NODE("Pad", "a", "x", "p1");
  ATTRS(c.nodes[0], A_STR("mode", "reflect"));
  c.nodes[1] = NODE("Pad", "b", "a", "p2");
  ATTRS(c.nodes[1], A_STR("mode", "edge"));
  c.nodes[2] = NODE("Pad", "w", "b", "p3");
  ATTRS(c.nodes[2], A_STR("mode", "wrap"));
  c.nodes[3] = NODE("Tanh", "y", "w");
  check_case(&c);
}

/* Inference-mode BatchNormalization (running statistics as inputs): gradients of X, scale,
   bias, mean and variance, on a 4-D input with odd sizes and a non-default epsilon. */
Test(train_grad, batchnorm_inference) {
  struct gcase c = {.n_in = 5, .n_nodes = 1, .y = "y"};
  c.in[0] = IN("x", 3, 4, 5, 3);
  c.in[1] = IN("scale", 4);
  c.in[2] = IN("bias", 4);
  c.in[3] = IN("mean", 4);
  c.in[4] = IN("var", 4);
  c.in[1].lo = 0.5f, c.in[1].hi = 1.5f;
  c.in[4].lo = 0.5f, c.in[4].hi = 1.5f;
  c.nodes[0] = NODE("BatchNormalization", "y", "x", "scale", "bias", "mean", "var");
  ATTRS(c.nodes[0], A_FLOAT("epsilon", 1e-3f));
  check_case(&c);
}

/* Split three ways; the middle part is never used, so its gradient is zeros. */
Test(train_grad, split_with_an_unused_output) {
  struct gcase c = {.n_in = 1, .n_nodes = 3, .y = "y"};
  c.in[0] = IN("x", 3, 7, 2);
  c.nodes[0] = NODE("Split", "a", "x");
  c.nodes[0].out2 = "b", c.nodes[0].out3 = "c";
  ATTRS(c.nodes[0], A_INT("axis", 1), A_INTS("split", 2, 1, 4));
  c.nodes[1] = NODE("Tanh", "t", "c");
  c.nodes[2] = NODE("Concat", "y", "a", "t");
  ATTRS(c.nodes[2], A_INT("axis", 1));
  check_case(&c);
}

Test(train_grad, softmax_cross_entropy_mean) {
  struct gcase c = {.n_in = 1,
                    .n_nodes = 1,
                    .y = "l",
                    .scalar_loss = 1,
                    .labels = "t",
                    .labels_shape = SHAPE(5),
                    .n_classes = 7};
  c.in[0] = IN("x", 5, 7);
  c.in[0].lo = -3, c.in[0].hi = 3;
  c.nodes[0] = NODE("SoftmaxCrossEntropyLoss", "l", "x", "t");
  check_case(&c);
}

Test(train_grad, log_softmax_then_nll_loss) {
  struct gcase c = {.n_in = 1,
                    .n_nodes = 2,
                    .y = "l",
                    .scalar_loss = 1,
                    .labels = "t",
                    .labels_shape = SHAPE(6),
                    .n_classes = 4};
  c.in[0] = IN("x", 6, 4);
  c.nodes[0] = NODE("LogSoftmax", "p", "x");
  ATTRS(c.nodes[0], A_INT("axis", 1));
  c.nodes[1] = NODE("NegativeLogLikelihoodLoss", "l", "p", "t");
  check_case(&c);
}

/* A whole small CNN: conv (stride 2, pad) -> relu -> maxpool -> flatten -> gemm -> softmax CE. */
Test(train_grad, small_cnn_end_to_end) {
  struct gcase c = {.n_in = 5,
                    .n_nodes = 6,
                    .y = "l",
                    .scalar_loss = 1,
                    .labels = "t",
                    .labels_shape = SHAPE(2),
                    .n_classes = 5};
  c.in[0] = IN("x", 2, 2, 9, 8);
  c.in[1] = IN("w", 4, 2, 3, 3);
  c.in[2] = IN("b", 4);
  c.in[3] = IN("fw", 5, 16);
  c.in[4] = IN("fb", 5);
  c.nodes[0] = NODE("Conv", "c", "x", "w", "b");
  ATTRS(c.nodes[0], A_INTS("strides", 2, 2), A_INTS("pads", 1, 1, 1, 1));
  c.nodes[1] = NODE("Relu", "r", "c");
  c.nodes[2] = NODE("MaxPool", "p", "r");
  ATTRS(c.nodes[2], A_INTS("kernel_shape", 2, 2), A_INTS("strides", 2, 2));
  c.nodes[3] = NODE("Flatten", "f", "p");
  c.nodes[4] = NODE("Gemm", "z", "f", "fw", "fb");
  ATTRS(c.nodes[4], A_INT("transB", 1));
  c.nodes[5] = NODE("SoftmaxCrossEntropyLoss", "l", "z", "t");
  check_case(&c);
}

/* Training-mode dropout with a fixed step is a fixed mask: its gradient is the same mask. The
   step travels as the case's int64 constant (value 3). */
Test(train_grad, dropout_train_fixed_step) {
  struct gcase c = {.n_in = 1,
                    .n_nodes = 2,
                    .y = "y",
                    .labels = "step",
                    .labels_shape = SHAPE(1),
                    .n_classes = 1000};
  c.in[0] = IN("x", 6, 9, 5);
  c.nodes[0] = NODE("nncl.DropoutTrain", "d", "x", "step");
  ATTRS(c.nodes[0], A_FLOAT("ratio", 0.3f), A_INT("seed", 11));
  c.nodes[1] = NODE("Tanh", "y", "d");
  check_case(&c);
}

/* The mask: about 1 - ratio of the elements kept (within 5 standard deviations over 10^5),
   Y = X * scale exactly, the same (seed, step) gives the same mask and another step another. */
Test(train_grad, dropout_train_mask_statistics) {
  nncl_array x = TU_RAND(9, 100000), s1 = TU_I64(4), s2 = TU_I64(5);
  struct nncl__attr at[] = {A_FLOAT("ratio", 0.25f), A_INT("seed", 2)};
  const nncl_array *in1[] = {&x, &s1}, *in2[] = {&x, &s2};
  nncl_array a[2], b[2], c2[2];
  tu_run_op("nncl.DropoutTrain", 17, at, 2, 2, in1, 2, a);
  tu_run_op("nncl.DropoutTrain", 17, at, 2, 2, in1, 2, b);
  tu_run_op("nncl.DropoutTrain", 17, at, 2, 2, in2, 2, c2);
  const float *xs = x.data, *y = a[0].data, *sc = a[1].data, *sb = b[1].data, *sc2 = c2[1].data;
  int64_t kept = 0, same = 0;
  for (int k = 0; k < 100000; k++) {
    cr_assert(sc[k] == 0.0f || sc[k] == 1.0f / 0.75f, "scale %g", (double)sc[k]);
    cr_assert_eq(y[k], xs[k] * sc[k]);
    cr_assert_eq(sc[k], sb[k]);
    kept += sc[k] != 0.0f;
    same += (sc[k] != 0.0f) == (sc2[k] != 0.0f);
  }
  double sd = sqrt(100000 * 0.25 * 0.75);
  cr_assert(fabs((double)kept - 75000.0) < 5 * sd, "kept %lld of 100000", (long long)kept);
  cr_assert(same < 70000, "steps 4 and 5 agree on %lld of 100000 elements", (long long)same);
  nncl_array_free(&x), nncl_array_free(&s1), nncl_array_free(&s2);
  for (int i = 0; i < 2; i++)
    nncl_array_free(&a[i]), nncl_array_free(&b[i]), nncl_array_free(&c2[i]);
}

/* The public entry point: gradients of a graph's value with respect to an intermediate value (as
   Grad-CAM needs) under the default "<wrt>.grad" name. y = relu(x) * w, loss = sum(y): dL/dy = 1
   everywhere and dL/dw = relu(x), exactly. */
Test(train_grad, public_gradient_api) {
  nncl_context *ctx = tu_ctx();
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(ctx, &g), NNCL_OK);
  nncl_shape s = SHAPE(3, 4);
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  cr_assert_eq(nncl_graph_add_input(g, "w", NNCL_FLOAT32, &s), NNCL_OK);
  const char *x = "x", *r = "r", *m[] = {"r", "w"}, *y = "y", *l = "l";
  cr_assert_eq(nncl_graph_add_node(g, "Relu", NULL, 1, &x, 1, &r, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_add_node(g, "Mul", NULL, 2, m, 1, &y, NULL), NNCL_OK);
  nncl_node *n;
  cr_assert_eq(nncl_graph_add_node(g, "ReduceSum", NULL, 1, &y, 1, &l, &n), NNCL_OK);
  cr_assert_eq(nncl_node_set_int(g, n, "keepdims", 0), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "l"), NNCL_OK);
  nncl_array xa = TU_RAND(1, 3, 4), wa = TU_RAND(2, 3, 4);
  cr_assert_eq(nncl_graph_set_input(g, "x", &xa), NNCL_OK);
  cr_assert_eq(nncl_graph_set_input(g, "w", &wa), NNCL_OK);
  const char *wrt[] = {"y", "w"}, *names[] = {NULL, "dw"};
  cr_assert_eq(nncl_graph_add_gradients(g, "l", 2, wrt, names), NNCL_OK, "%s",
               nncl_context_last_error(ctx));
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(ctx));
  nncl_array dy, dw;
  cr_assert_eq(nncl_graph_get_output_by_name(g, "y.grad", &dy), NNCL_OK);
  cr_assert_eq(nncl_graph_get_output_by_name(g, "dw", &dw), NNCL_OK);
  for (int k = 0; k < 12; k++) {
    float rx = ((float *)xa.data)[k] > 0 ? ((float *)xa.data)[k] : 0.0f;
    cr_assert_eq(((float *)dy.data)[k], 1.0f);
    cr_assert_eq(((float *)dw.data)[k], rx);
  }
  cr_assert_eq(nncl_graph_add_gradients(g, "l", 1, (const char *[]){"w"}, names + 1),
               NNCL_ERR_INVALID_ARGUMENT, "a second 'dw' must be refused");
  nncl_array_free(&xa), nncl_array_free(&wa), nncl_array_free(&dy), nncl_array_free(&dw);
  nncl_graph_destroy(g);
}

/* An op without a backward rule: the error names the node and the op. */
Test(train_grad, missing_rule_is_a_clear_error) {
  nncl_context *ctx = tu_ctx();
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(ctx, &g), NNCL_OK);
  nncl_shape s = SHAPE(2, 3);
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  const char *x = "x", *f = "f", *l = "l";
  cr_assert_eq(nncl_graph_add_node(g, "Floor", "the_floor", 1, &x, 1, &f, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_add_node(g, "ReduceSum", NULL, 1, &f, 1, &l, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "l"), NNCL_OK);
  nncl_array a = tu_rand(3, 2, (int64_t[]){2, 3});
  cr_assert_eq(nncl_graph_set_input(g, "x", &a), NNCL_OK);
  char *grad = NULL;
  nncl_status st = nncl__autodiff(g, "l", 1, (const char *[]){"x"}, &grad);
  cr_assert_eq(st, NNCL_ERR_UNSUPPORTED);
  const char *msg = nncl_context_last_error(ctx);
  cr_assert(strstr(msg, "Floor node 'the_floor' has no backward rule"), "message: %s", msg);
  cr_assert_null(grad);
  nncl_array_free(&a);
  nncl_graph_destroy(g);
}

/* nncl.ConvGradWeight in chunks of 1 and 2 images (GEMMs accumulating with beta 1) equals one
   chunk of all 5 (checked above against finite differences): 1e-5 relative, float32 sums in
   another order. */
Test(train_grad, conv_grad_weight_chunks_accumulate) {
  nncl_array x = TU_RAND(5, 5, 4, 9, 7), dy = TU_RAND(6, 5, 6, 5, 2);
  const nncl_array *in[] = {&x, &dy};
  struct nncl__attr base[] = {
      A_INTS("kernel_shape", 3, 3), A_INTS("strides", 2, 2), A_INTS("pads", 1, 0, 2, 1),
      A_INTS("dilations", 1, 2),    A_INT("group", 2),       A_INT("nncl.images_per_chunk", 1)};
  nncl_array whole, one, two;
  tu_run_op("nncl.ConvGradWeight", 17, base, 5, 2, in, 1, &whole);
  tu_run_op("nncl.ConvGradWeight", 17, base, 6, 2, in, 1, &one);
  base[5].i = 2;
  tu_run_op("nncl.ConvGradWeight", 17, base, 6, 2, in, 1, &two);
  size_t n = (size_t)nncl_shape_numel(&whole.shape);
  cr_assert_eq(n, 6 * 2 * 3 * 3);
  tu_assert_close((float *)one.data, (float *)whole.data, n, 1e-5, 1e-6, "chunks of 1");
  tu_assert_close((float *)two.data, (float *)whole.data, n, 1e-5, 1e-6, "chunks of 2");
  nncl_array_free(&x), nncl_array_free(&dy);
  nncl_array_free(&whole), nncl_array_free(&one), nncl_array_free(&two);
}
