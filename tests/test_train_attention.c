/* test_train_attention.c: the backward rules a Transformer needs, and training a Transformer
   encoder layer against PyTorch.

   Rules (LayerNormalization, Gather, MatMul with broadcast batches, scaled Softmax with additive
   -inf masks, Where, Pow, Erf) are checked by central finite differences, as test_train_grad.c
   does: loss = sum(y * r) for a fixed random r, nncl's autodiff computes every input's gradient
   on the device in float32, the reference is (L(x + h) - L(x - h)) / 2h in double by the host
   interpreter of test_train_ref.c (h = 1e-4, truncation ~1e-8). Cases here also take float
   constants (masks with -inf), int64 indices of any shape and boolean conditions. Tolerance
   |got - fd| <= 1e-3 |fd| + 1e-4 max(1, max |fd|), test_train_grad.c's: float32 sums carry
   ~1e-5 relative error, a wrong index, sign or scale errors of order 1.

   The encoder: fixtures in tests/data/train/tf_* come from tools/make_transformer_fixtures.py:
   nn.Embedding(20, 32) -> nn.TransformerEncoderLayer(32, 4 heads, ff 64, dropout 0, exact GELU,
   batch_first) -> mean over 7 tokens -> nn.Linear(32, 5), exported at opset 17 (LayerNormalization
   nodes) and 13 (LayerNorm as ReduceMean/Sub/Pow/Sqrt/Div), three batches of 8 sequences,
   PyTorch's first-batch gradients and its parameters after three Adam steps.
   Tolerances: loss 2e-6 absolute (float32 round-off of a sum of 8 log-probabilities ~1.4);
   gradients 1e-4 relative + 1e-6 x the tensor's largest |gradient|: both sides are float32 with
   other summation orders through ~10 chained reductions (LayerNorm's variance, softmax, means);
   measured within 1/10 of that bound, while a missed term or a wrong scale moves a gradient by
   10% or more. Parameters after Adam: 1e-4 relative + 1e-5 absolute. Adam steps by
   lr m / sqrt(v), about lr whatever the gradient's size, so an element whose gradient is ~1e-3 of
   its tensor's largest carries its float32 noise (~1e-3 relative) into a step of lr = 0.01:
   1e-5. The key projection's bias (in_proj_bias[32:64]) has exactly zero gradient (softmax is
   shift-invariant along the keys), so both sides step on round-off there: its gradient is checked
   to be below 1e-6 of the tensor's largest on both sides and its Adam result is not compared. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nncl/onnx.h"
#include "nncl/train.h"
#include "autodiff.h"
#include "op.h"
#include "test_train_ref.h"
#include "test_util.h"
#include "trainer_internal.h"

static nncl_array load_npy(const char *file) { return tu_data_npy("train", file); }

static nncl_graph *load_model(const char *file) { return tu_data_onnx("train", file); }

/* Batch b (8 sequences of 7 tokens) of the fixture's x and y. */
static void batch(const nncl_array *x, const nncl_array *y, int b, nncl_array *xb, nncl_array *yb) {
  *xb = (nncl_array){.dtype = NNCL_INT64, .shape = {.rank = 2, .dims = {8, 7}}};
  xb->data = (int64_t *)x->data + (size_t)b * 8 * 7;
  *yb = (nncl_array){.dtype = NNCL_INT64, .shape = {.rank = 1, .dims = {8}}};
  yb->data = (int64_t *)y->data + (size_t)b * 8;
}

#define N_PARAMS 15

/* Three Adam steps (lr 0.01) on the model file with token batches from x_file; checks the first
   loss and gradients (fixtures <prefix>_grad.*) and the parameters after the last step
   (<prefix>_adam.*). */
static void against_pytorch(const char *model, const char *x_file, const char *prefix,
                            float first_loss) {
  nncl_graph *m = load_model(model);
  nncl_array x = load_npy(x_file), y = load_npy("tf_y.npy");
  nncl_trainer_options to;
  nncl_trainer_options_default(&to);
  nncl_optimizer_options_default(NNCL_OPTIM_ADAM, &to.optim);
  to.optim.lr = 0.01f;
  nncl_trainer *t;
  cr_assert_eq(nncl_trainer_create(m, &to, &t), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_trainer_num_params(t), N_PARAMS);
  for (int b = 0; b < 3; b++) {
    nncl_array xb, yb;
    batch(&x, &y, b, &xb, &yb);
    float loss;
    nncl_status st = nncl_trainer_step(t, &xb, &yb, &loss);
    cr_assert_eq(st, NNCL_OK, "step: %s", nncl_context_last_error(tu_ctx()));
    if (b) continue;
    /* PyTorch's first-batch loss, printed by the fixture script */
    cr_assert(fabsf(loss - first_loss) < 2e-6f, "first loss %.7f, PyTorch %.7f", loss, first_loss);
    for (int i = 0; i < N_PARAMS; i++) {
      char file[256];
      snprintf(file, sizeof file, "%s_grad.%s.npy", prefix, nncl_trainer_param_name(t, i));
      nncl_array want = load_npy(file), got;
      cr_assert_eq(nncl_graph_get_output_by_name(t->train, t->grad[i], &got), NNCL_OK);
      size_t n = (size_t)nncl_shape_numel(&want.shape);
      cr_assert_eq((size_t)nncl_shape_numel(&got.shape), n, "%s", file);
      double big = 0.0;
      for (size_t k = 0; k < n; k++) big = fmax(big, fabs(((float *)want.data)[k]));
      tu_assert_close((float *)got.data, (float *)want.data, n, 1e-4, 1e-6 * big, file);
      if (!strcmp(nncl_trainer_param_name(t, i), "enc.self_attn.in_proj_bias"))
        for (int k = 32; k < 64; k++)
          cr_assert(fabs(((float *)got.data)[k]) <= 1e-6 * big &&
                        fabs(((float *)want.data)[k]) <= 1e-6 * big,
                    "key bias gradient %d: %g here, %g in PyTorch", k,
                    (double)((float *)got.data)[k], (double)((float *)want.data)[k]);
      nncl_array_free(&want);
      nncl_array_free(&got);
    }
  }
  for (int i = 0; i < N_PARAMS; i++) {
    char file[256];
    snprintf(file, sizeof file, "%s_adam.%s.npy", prefix, nncl_trainer_param_name(t, i));
    nncl_array want = load_npy(file), got;
    cr_assert_eq(nncl_trainer_get_param(t, i, &got), NNCL_OK);
    const float *g = got.data, *w = want.data;
    size_t n = (size_t)nncl_shape_numel(&want.shape);
    if (!strcmp(nncl_trainer_param_name(t, i), "enc.self_attn.in_proj_bias")) {
      tu_assert_close(g, w, 32, 1e-4, 1e-5, "query bias after Adam");
      tu_assert_close(g + 64, w + 64, 32, 1e-4, 1e-5, "value bias after Adam");
    } else {
      tu_assert_close(g, w, n, 1e-4, 1e-5, file);
    }
    nncl_array_free(&want);
    nncl_array_free(&got);
  }
  nncl_trainer_destroy(t);
  nncl_graph_destroy(m);
  nncl_array_free(&x);
  nncl_array_free(&y);
}

static int count_op(const nncl_graph *g, int op) {
  int n = 0;
  for (int k = 0; k < g->plan->n_n; k++) n += g->plan->n[k].op == op;
  return n;
}

/* Training runs the attention unfused (docs/TRAINING.md): the backward needs the softmax
   probabilities, which autodiff's nodes read, so the fusion pass (one reader per score value)
   leaves the train graph's MatMul/Softmax/MatMul alone, while the eval graph of the same model
   fuses them into nncl.Attention, and PyTorch's decomposed LayerNorm into LayerNormalization. */
Test(train_attention, training_keeps_attention_unfused_eval_fuses) {
  nncl_graph *m = load_model("tf_encoder13.onnx");
  nncl_array x = load_npy("tf_x.npy"), y = load_npy("tf_y.npy"), xb, yb;
  batch(&x, &y, 0, &xb, &yb);
  nncl_trainer_options to;
  nncl_trainer_options_default(&to);
  nncl_trainer *t;
  cr_assert_eq(nncl_trainer_create(m, &to, &t), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  float loss;
  int64_t correct;
  cr_assert_eq(nncl_trainer_step(t, &xb, &yb, &loss), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_trainer_evaluate(t, &xb, &yb, &loss, &correct), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  cr_assert_eq(count_op(t->train, OP_ATTENTION), 0);
  cr_assert_eq(count_op(t->eval, OP_ATTENTION), 1);
  cr_assert_eq(count_op(t->eval, OP_LAYER_NORMALIZATION), 2);
  nncl_trainer_destroy(t);
  nncl_graph_destroy(m);
  nncl_array_free(&x);
  nncl_array_free(&y);
}

Test(train_attention, encoder_opset17_layernorm_matches_pytorch) {
  against_pytorch("tf_encoder.onnx", "tf_x.npy", "tf", 1.3667458f);
}

Test(train_attention, encoder_opset13_decomposed_layernorm_matches_pytorch) {
  against_pytorch("tf_encoder13.onnx", "tf_x.npy", "tf", 1.3667458f);
}

/* Token 0 as padding (src_key_padding_mask, exported as Equal/Where and an additive -inf mask on
   the scores): padded keys get probability 0 and their scores gradient 0, not NaN. */
Test(train_attention, encoder_with_padding_mask_matches_pytorch) {
  against_pytorch("tf_masked.onnx", "tf_xm.npy", "tf_mask", 1.4493706f);
}

/* ---- finite-difference checks of the rules ---- */

#define SHAPE(...)                                                                                 \
  ((nncl_shape){.rank = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),                 \
                .dims = {__VA_ARGS__}})

struct fin { /* a float graph input: every one is differentiated */
  const char *name;
  nncl_shape shape;
  float lo, hi;
};

struct fconst { /* a constant: float (masks), int64 (indices) or bool (conditions, as 0/1) */
  const char *name;
  nncl_dtype dtype;
  nncl_shape shape;
  const float *f;
  const int64_t *i;
};

struct fcase {
  struct tr_node nodes[TR_MAX_NODES];
  int n_nodes;
  struct fin in[4];
  int n_in;
  struct fconst k[8];
  int n_k;
  const char *y; /* loss = sum(y * r) */
};

/* The reference's loss sum(y * r) at inputs xd; with r NULL, only y's shape (into *ys). */
static double fd_loss(const struct fcase *c, double *const *xd, const float *r, nncl_shape *ys) {
  struct tr_env e = {0};
  for (int i = 0; i < c->n_in; i++) {
    size_t n = (size_t)nncl_shape_numel(&c->in[i].shape);
    float *zero = calloc(n + 1, sizeof *zero);
    tr_set_f(&e, c->in[i].name, &c->in[i].shape, zero);
    free(zero);
    memcpy(tr_get(&e, c->in[i].name)->d, xd[i], n * sizeof(double));
  }
  for (int k = 0; k < c->n_k; k++) {
    const struct fconst *q = &c->k[k];
    if (q->dtype == NNCL_FLOAT32)
      tr_set_f(&e, q->name, &q->shape, q->f);
    else /* int64 indices, and bool conditions held as 0/1 */
      tr_set_i(&e, q->name, &q->shape, q->i);
  }
  tr_run(&e, c->nodes, c->n_nodes);
  struct tr_value *y = tr_get(&e, c->y);
  double L = 0.0;
  for (int64_t k = 0; r && k < nncl_shape_numel(&y->shape); k++) L += y->d[k] * (double)r[k];
  if (ys) *ys = y->shape;
  tr_free(&e);
  return L;
}

/* fd_loss's arguments for tu_assert_fd_gradient */
struct fd_arg {
  const struct fcase *c;
  double *const *xd;
  const float *r;
};
static double fd_loss_of(void *arg) {
  const struct fd_arg *a = arg;
  return fd_loss(a->c, a->xd, a->r, NULL);
}

static void fd_check(const struct fcase *c) {
  nncl_context *ctx = tu_ctx();
  float *x[4];
  double *xd[4];
  for (int i = 0; i < c->n_in; i++) {
    size_t n = (size_t)nncl_shape_numel(&c->in[i].shape);
    x[i] = malloc(n * sizeof *x[i]);
    xd[i] = malloc(n * sizeof *xd[i]);
    tu_fill(x[i], n, 211u + (uint32_t)i * 17u, c->in[i].lo, c->in[i].hi);
    for (size_t k = 0; k < n; k++) xd[i][k] = x[i][k];
  }
  nncl_shape ys;
  fd_loss(c, xd, NULL, &ys);
  size_t ny = (size_t)nncl_shape_numel(&ys);
  float *r = malloc(ny * sizeof *r);
  tu_fill(r, ny, 977, -1.0f, 1.0f);
  double L = fd_loss(c, xd, r, NULL);

  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(ctx, &g), NNCL_OK);
  for (int i = 0; i < c->n_in; i++)
    cr_assert_eq(nncl_graph_add_input(g, c->in[i].name, NNCL_FLOAT32, &c->in[i].shape), NNCL_OK);
  for (int k = 0; k < c->n_k; k++) {
    const struct fconst *q = &c->k[k];
    size_t n = (size_t)nncl_shape_numel(&q->shape);
    uint8_t *b = NULL;
    nncl_array a = {.dtype = q->dtype, .shape = q->shape, .data = (void *)q->f};
    if (q->dtype == NNCL_INT64) a.data = (void *)q->i;
    if (q->dtype == NNCL_BOOL) {
      b = malloc(n + 1);
      for (size_t j = 0; j < n; j++) b[j] = q->i[j] != 0;
      a.data = b;
    }
    cr_assert_eq(nncl_graph_add_constant(g, q->name, &a), NNCL_OK);
    free(b);
  }
  for (int k = 0; k < c->n_nodes; k++) {
    const struct tr_node *t = &c->nodes[k];
    nncl_node *n;
    cr_assert_eq(nncl_graph_add_node(g, t->op, NULL, t->n_in, t->in, 1, &t->out, &n), NNCL_OK, "%s",
                 nncl_context_last_error(ctx));
    for (int a = 0; a < t->n_attrs; a++)
      cr_assert_eq(nncl__node_set_attr(g, n, &t->attrs[a]), NNCL_OK);
  }
  nncl_array ra = {.dtype = NNCL_FLOAT32, .shape = ys, .data = r};
  cr_assert_eq(nncl_graph_add_constant(g, "loss_weights", &ra), NNCL_OK);
  const char *mi[] = {c->y, "loss_weights"}, *mo = "yr", *lo = "loss";
  cr_assert_eq(nncl_graph_add_node(g, "Mul", NULL, 2, mi, 1, &mo, NULL), NNCL_OK);
  nncl_node *rn;
  cr_assert_eq(nncl_graph_add_node(g, "ReduceSum", NULL, 1, &mo, 1, &lo, &rn), NNCL_OK);
  cr_assert_eq(nncl_node_set_int(g, rn, "keepdims", 0), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "loss"), NNCL_OK);
  for (int i = 0; i < c->n_in; i++) {
    nncl_array a = {.dtype = NNCL_FLOAT32, .shape = c->in[i].shape, .data = x[i]};
    cr_assert_eq(nncl_graph_set_input(g, c->in[i].name, &a), NNCL_OK);
  }
  const char *wrt[4];
  char *grads[4];
  for (int i = 0; i < c->n_in; i++) wrt[i] = c->in[i].name;
  cr_assert_eq(nncl__autodiff(g, "loss", c->n_in, wrt, grads), NNCL_OK, "autodiff: %s",
               nncl_context_last_error(ctx));
  for (int i = 0; i < c->n_in; i++) cr_assert_eq(nncl_graph_add_output(g, grads[i]), NNCL_OK);
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "run: %s", nncl_context_last_error(ctx));

  nncl_array lv;
  cr_assert_eq(nncl_graph_get_output(g, 0, &lv), NNCL_OK);
  float lf = ((float *)lv.data)[0];
  cr_assert(fabs(lf - L) <= 1e-4 * (1.0 + fabs(L)), "loss %.8g on the device, %.8g on the host",
            (double)lf, L);
  nncl_array_free(&lv);
  struct fd_arg fa = {c, xd, r};
  for (int i = 0; i < c->n_in; i++) {
    nncl_array ga;
    cr_assert_eq(nncl_graph_get_output(g, 1 + i, &ga), NNCL_OK);
    size_t n = (size_t)nncl_shape_numel(&c->in[i].shape);
    cr_assert_eq((size_t)nncl_shape_numel(&ga.shape), n, "gradient of %s", c->in[i].name);
    char what[96];
    snprintf(what, sizeof what, "d loss / d %s", c->in[i].name);
    tu_assert_fd_gradient((const float *)ga.data, xd[i], n, fd_loss_of, &fa, what);
    nncl_array_free(&ga);
    free(grads[i]);
  }
  nncl_graph_destroy(g);
  for (int i = 0; i < c->n_in; i++) free(x[i]), free(xd[i]);
  free(r);
}

#define NODE(op_, out_, ...)                                                                       \
  ((struct tr_node){.op = (op_),                                                                   \
                    .out = (out_),                                                                 \
                    .in = {__VA_ARGS__},                                                           \
                    .n_in = (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *))})
#define IN(nm, ...) ((struct fin){.name = (nm), .shape = SHAPE(__VA_ARGS__), .lo = -1, .hi = 1})
#define KF(nm, data, ...)                                                                          \
  ((struct fconst){.name = (nm), .dtype = NNCL_FLOAT32, .shape = SHAPE(__VA_ARGS__), .f = (data)})
#define KI(nm, data, ...)                                                                          \
  ((struct fconst){.name = (nm), .dtype = NNCL_INT64, .shape = SHAPE(__VA_ARGS__), .i = (data)})
#define KS(nm, ptr) ((struct fconst){.name = (nm), .dtype = NNCL_FLOAT32, .f = (ptr)}) /* scalar */
#define KSI(nm, ptr) ((struct fconst){.name = (nm), .dtype = NNCL_INT64, .i = (ptr)})
#define KB(nm, data, ...)                                                                          \
  ((struct fconst){.name = (nm), .dtype = NNCL_BOOL, .shape = SHAPE(__VA_ARGS__), .i = (data)})

static void with_attrs(struct tr_node *n, int k, const struct nncl__attr *a) {
  for (int i = 0; i < k; i++) n->attrs[n->n_attrs++] = a[i];
}
#define ATTRS(node, ...)                                                                           \
  with_attrs(&(node),                                                                              \
             (int)(sizeof((struct nncl__attr[]){__VA_ARGS__}) / sizeof(struct nncl__attr)),        \
             (struct nncl__attr[]){__VA_ARGS__})

/* Last-axis LayerNorm on odd sizes, default epsilon, then a second one from axis 1 with a large
   epsilon and scale/bias broadcast over the first normalised axis ([5] over [4, 5]). */
Test(train_attention, layer_norm_axes_epsilon_broadcast_params) {
  struct fcase c = {.n_in = 4, .n_nodes = 2, .y = "z"};
  c.in[0] = IN("x", 3, 4, 5);
  c.in[1] = IN("s", 5);
  c.in[2] = IN("b", 5);
  c.in[3] = IN("t", 4, 5);
  c.nodes[0] = NODE("LayerNormalization", "y", "x", "s", "b");
  c.nodes[1] = NODE("LayerNormalization", "z", "y", "t");
  ATTRS(c.nodes[1], A_INT("axis", 1), A_FLOAT("epsilon", 0.3f));
  fd_check(&c);
}

/* An embedding lookup with a 2-D index tensor, repeated and negative indices and rows never
   looked up (their gradient is 0), then Gather along axis 1 with a scalar (rank-0) index. */
Test(train_attention, gather_repeated_negative_indices_and_axis1) {
  static const int64_t idx[8] = {2, -1, 2, 0, 6, 2, -5, 0}, one = -2;
  struct fcase c = {.n_in = 2, .n_nodes = 3, .n_k = 2, .y = "y"};
  c.in[0] = IN("w", 7, 3, 2);
  c.in[1] = IN("v", 2, 5, 3);
  c.k[0] = KI("idx", idx, 2, 4);
  c.k[1] = KSI("one", &one);
  c.nodes[0] = NODE("Gather", "e", "w", "idx");
  c.nodes[1] = NODE("Gather", "f", "v", "one");
  ATTRS(c.nodes[1], A_INT("axis", 1));
  c.nodes[2] = NODE("Tanh", "y", "e");
  c.nodes[3] = NODE("MatMul", "m", "y", "f");
  c.n_nodes = 4;
  c.y = "m";
  fd_check(&c);
}

/* Batch dims broadcast both ways: [2, 1, 3, 4] x [3, 4, 5], then a rank-2 left operand against
   a batched right one. */
Test(train_attention, matmul_broadcast_batches) {
  struct fcase c = {.n_in = 4, .n_nodes = 2, .y = "z"};
  c.in[0] = IN("a", 2, 1, 3, 4);
  c.in[1] = IN("b", 3, 4, 5);
  c.in[2] = IN("p", 3, 3);
  c.in[3] = IN("q", 1, 1, 1, 1); /* reaches the output through a broadcast Mul */
  c.nodes[0] = NODE("MatMul", "y", "a", "b");
  c.nodes[1] = NODE("MatMul", "u", "p", "y");
  c.nodes[2] = NODE("Mul", "z", "u", "q");
  c.n_nodes = 3;
  fd_check(&c);
}

/* Scaled dot-product attention with an additive mask: key 2 is masked for every query (a
   fully-masked position) and a few single entries too; masked scores must get gradient 0, not
   NaN (the reference gives exactly 0 there). Q [2, 3, 4], K^T [2, 4, 5], V [2, 5, 4]. */
Test(train_attention, scaled_softmax_with_inf_mask) {
  static const float ninf = -INFINITY;
  static float mask[15];
  for (int k = 0; k < 15; k++) mask[k] = (k % 5 == 2 || k == 6 || k == 14) ? ninf : 0.0f;
  static const float scale = 2.0f;
  struct fcase c = {.n_in = 3, .n_nodes = 5, .n_k = 2, .y = "o"};
  c.in[0] = IN("q", 2, 3, 4);
  c.in[1] = IN("kt", 2, 4, 5);
  c.in[2] = IN("v", 2, 5, 4);
  c.k[0] = KF("mask", mask, 3, 5);
  c.k[1] = KS("scale", &scale);
  c.nodes[0] = NODE("MatMul", "s", "q", "kt");
  c.nodes[1] = NODE("Div", "d", "s", "scale");
  c.nodes[2] = NODE("Add", "m", "d", "mask");
  c.nodes[3] = NODE("Softmax", "p", "m");
  ATTRS(c.nodes[3], A_INT("axis", -1));
  c.nodes[4] = NODE("MatMul", "o", "p", "v");
  fd_check(&c);
}

/* PyTorch's pre-opset-17 LayerNorm (ReduceMean, Sub, Pow 2, Sqrt, Div) and exact GELU
   (Div, Erf, Add, Mul), then Where with a broadcast condition choosing between two inputs. */
Test(train_attention, decomposed_layernorm_gelu_where) {
  static const float two = 2.0f, eps = 1e-5f, rt2 = 1.41421356f, one = 1.0f, half = 0.5f;
  static const int64_t cond[5] = {1, 0, 0, 1, 1};
  struct fcase c = {.n_in = 2, .n_k = 6, .y = "w"};
  c.in[0] = IN("x", 3, 5);
  c.in[1] = IN("b", 3, 1);
  c.k[0] = KS("two", &two);
  c.k[1] = KS("eps", &eps);
  c.k[2] = KS("rt2", &rt2);
  c.k[3] = KS("one", &one);
  c.k[4] = KS("half", &half);
  c.k[5] = KB("cond", cond, 5);
  int k = 0;
  c.nodes[k] = NODE("ReduceMean", "mu", "x");
  ATTRS(c.nodes[k], A_INTS("axes", -1));
  k++;
  c.nodes[k++] = NODE("Sub", "xc", "x", "mu");
  c.nodes[k++] = NODE("Pow", "sq", "xc", "two");
  c.nodes[k] = NODE("ReduceMean", "var", "sq");
  ATTRS(c.nodes[k], A_INTS("axes", -1));
  k++;
  c.nodes[k++] = NODE("Add", "ve", "var", "eps");
  c.nodes[k++] = NODE("Sqrt", "sd", "ve");
  c.nodes[k++] = NODE("Div", "n", "xc", "sd");
  c.nodes[k++] = NODE("Div", "g1", "n", "rt2");
  c.nodes[k++] = NODE("Erf", "g2", "g1");
  c.nodes[k++] = NODE("Add", "g3", "g2", "one");
  c.nodes[k++] = NODE("Mul", "g4", "n", "g3");
  c.nodes[k++] = NODE("Mul", "g", "g4", "half");
  c.nodes[k++] = NODE("Where", "w", "cond", "g", "b");
  c.n_nodes = k;
  fd_check(&c);
}

/* Pow with both operands differentiated, the exponent broadcast along rows (base kept positive,
   where the exponent's gradient y log(a) is defined). */
Test(train_attention, pow_base_and_broadcast_exponent) {
  struct fcase c = {.n_in = 2, .n_nodes = 1, .y = "y"};
  c.in[0] = IN("a", 3, 4);
  c.in[0].lo = 0.5f, c.in[0].hi = 2.0f;
  c.in[1] = IN("b", 4);
  c.in[1].lo = -1.0f, c.in[1].hi = 2.5f;
  c.nodes[0] = NODE("Pow", "y", "a", "b");
  fd_check(&c);
}

/* nncl.GatherGrad is deterministic: 4000 lookups into 50 rows (each row hit ~80 times, in an
   order that differs from the row order, a third of them negative) give the same bits on two
   runs and with int32 indices, and equal a host sum in the same order exactly (each row's sum
   runs over the indices in order). */
Test(train_attention, gather_grad_is_bit_identical_and_ordered) {
  enum { V = 50, D = 9, N = 4000 };
  nncl_array dy = TU_RAND(5, N, D), shape = TU_I64(V, D);
  int64_t *idx = malloc(N * sizeof *idx);
  for (int j = 0; j < N; j++) idx[j] = (int64_t)((j * 37 + j / 7) % V) - (j % 3 ? 0 : V);
  nncl_array ia = {.dtype = NNCL_INT64, .shape = SHAPE(N), .data = idx};
  const nncl_array *in[] = {&dy, &ia, &shape};
  struct nncl__attr ax = A_INT("axis", 0);
  nncl_array a, b;
  tu_run_op("nncl.GatherGrad", 17, &ax, 1, 3, in, 1, &a);
  tu_run_op("nncl.GatherGrad", 17, &ax, 1, 3, in, 1, &b);
  cr_assert_eq(nncl_shape_numel(&a.shape), V * D);
  cr_assert(!memcmp(a.data, b.data, V * D * sizeof(float)), "two runs differ");
  float want[V * D] = {0};
  for (int j = 0; j < N; j++)
    for (int i = 0; i < D; i++)
      want[((idx[j] + V) % V) * D + i] += ((const float *)dy.data)[j * D + i];
  cr_assert(!memcmp(a.data, want, sizeof want),
            "the device's sums differ from the ordered host sums");
  /* int32 indices take the other kernel instance: the same bits */
  int32_t *i32 = malloc(N * sizeof *i32);
  for (int j = 0; j < N; j++) i32[j] = (int32_t)idx[j];
  nncl_array ib = {.dtype = NNCL_INT32, .shape = SHAPE(N), .data = i32}, c32;
  const nncl_array *in32[] = {&dy, &ib, &shape};
  tu_run_op("nncl.GatherGrad", 17, &ax, 1, 3, in32, 1, &c32);
  cr_assert(!memcmp(a.data, c32.data, V * D * sizeof(float)), "int32 and int64 indices differ");
  /* the sorted path (forced; it is chosen for large tables) adds the same terms in the same
     order, so it gives the same bits, with either index type */
  struct nncl__attr at[2] = {ax, A_INT("nncl.sort", 1)};
  nncl_array s64, s32;
  tu_run_op("nncl.GatherGrad", 17, at, 2, 3, in, 1, &s64);
  tu_run_op("nncl.GatherGrad", 17, at, 2, 3, in32, 1, &s32);
  cr_assert(!memcmp(a.data, s64.data, V * D * sizeof(float)), "sorted path differs (int64)");
  cr_assert(!memcmp(a.data, s32.data, V * D * sizeof(float)), "sorted path differs (int32)");
  free(idx), free(i32);
  nncl_array_free(&dy), nncl_array_free(&shape), nncl_array_free(&a), nncl_array_free(&b);
  nncl_array_free(&c32), nncl_array_free(&s64), nncl_array_free(&s32);
}

/* Both paths along axis 1 (data [3, 7, 5], 13 indices with repeats, negatives and one out of
   range, which adds nowhere) against the host's ordered sums: the same bits. */
Test(train_attention, gather_grad_axis1_both_paths) {
  enum { O = 3, V = 7, D = 5, N = 13 };
  static const int64_t idx[N] = {3, -1, 3, 0, 9, 6, 3, -7, 2, 2, 0, 5, -4};
  nncl_array dy = TU_RAND(8, O, N, D), shape = TU_I64(O, V, D);
  nncl_array ia = {.dtype = NNCL_INT64, .shape = SHAPE(N), .data = (void *)idx};
  const nncl_array *in[] = {&dy, &ia, &shape};
  float want[O * V * D] = {0};
  for (int o = 0; o < O; o++)
    for (int j = 0; j < N; j++) {
      int64_t r = idx[j] < 0 ? idx[j] + V : idx[j];
      if (r < 0 || r >= V) continue;
      for (int i = 0; i < D; i++)
        want[(o * V + r) * D + i] += ((const float *)dy.data)[(o * N + j) * D + i];
    }
  for (int sort = 0; sort <= 1; sort++) {
    struct nncl__attr at[2] = {A_INT("axis", 1), A_INT("nncl.sort", sort)};
    nncl_array got;
    tu_run_op("nncl.GatherGrad", 17, at, 2, 3, in, 1, &got);
    cr_assert_eq(nncl_shape_numel(&got.shape), O * V * D);
    cr_assert(!memcmp(got.data, want, sizeof want), "path %s differs from the host's sums",
              sort ? "sort" : "rows");
    nncl_array_free(&got);
  }
  nncl_array_free(&dy), nncl_array_free(&shape);
}

/* Bad inputs to nncl.GatherGrad are errors naming the node and the shapes, never a launch. */
Test(train_attention, gather_grad_bad_inputs_are_clear_errors) {
  nncl_array dy = TU_RAND(6, 4, 3), idx = TU_I64(0, 1, 2), shape = TU_I64(5, 3), out;
  struct nncl__attr ax = A_INT("axis", 0);
  const nncl_array *in[] = {&dy, &idx, &shape};
  cr_assert_eq(tu_try_op("nncl.GatherGrad", 17, &ax, 1, 3, in, 1, &out), NNCL_ERR_SHAPE);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "dY [4, 3] is not Gather's output for data [5, 3] and indices [3]"),
            "message: %s", msg);
  nncl_array fidx = TU_RAND(7, 4);
  const nncl_array *in2[] = {&dy, &fidx, &shape};
  cr_assert_eq(tu_try_op("nncl.GatherGrad", 17, &ax, 1, 3, in2, 1, &out), NNCL_ERR_DTYPE);
  msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "indices must be int32 or int64, not float32"), "message: %s", msg);
  nncl_array_free(&dy), nncl_array_free(&idx), nncl_array_free(&shape), nncl_array_free(&fidx);
}

/* The trained encoder saved as ONNX and loaded again: the same 15 parameters (the Constant
   nodes' values stay computation, not parameters), and its logits give the loss the trainer's
   evaluate reports (1e-5 relative: the eval graph and the reloaded model plan the same nodes,
   but the host's log-sum-exp here sums in double). */
Test(train_attention, trained_encoder_saved_as_onnx) {
  nncl_graph *m = load_model("tf_encoder.onnx");
  nncl_array x = load_npy("tf_x.npy"), y = load_npy("tf_y.npy"), xb, yb;
  batch(&x, &y, 0, &xb, &yb);
  nncl_trainer_options to;
  nncl_trainer_options_default(&to);
  nncl_optimizer_options_default(NNCL_OPTIM_ADAM, &to.optim);
  to.optim.lr = 0.01f;
  nncl_trainer *t;
  cr_assert_eq(nncl_trainer_create(m, &to, &t), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_trainer_step(t, &xb, &yb, NULL), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  float loss;
  cr_assert_eq(nncl_trainer_evaluate(t, &xb, &yb, &loss, NULL), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  char src[1024], path[] = "/tmp/nncl_test_tf_XXXXXX";
  tu_data_path(src, sizeof src, "train", "tf_encoder.onnx");
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  close(fd);
  cr_assert_eq(nncl_trainer_save_onnx(t, src, path), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  nncl_graph *m2;
  cr_assert_eq(nncl_onnx_load(tu_ctx(), path, &m2), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  remove(path);
  nncl_trainer *t2;
  cr_assert_eq(nncl_trainer_create(m2, NULL, &t2), NNCL_OK);
  cr_assert_eq(nncl_trainer_num_params(t2), N_PARAMS);
  cr_assert_eq(nncl_graph_set_input(m2, "tokens", &xb), NNCL_OK);
  cr_assert_eq(nncl_graph_run(m2), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  nncl_array logits;
  cr_assert_eq(nncl_graph_get_output(m2, 0, &logits), NNCL_OK);
  cr_assert_eq(nncl_shape_numel(&logits.shape), 8 * 5);
  double ce = 0.0;
  for (int i = 0; i < 8; i++) {
    const float *z = (const float *)logits.data + i * 5;
    double mx = z[0], s = 0.0;
    for (int c = 1; c < 5; c++) mx = fmax(mx, z[c]);
    for (int c = 0; c < 5; c++) s += exp(z[c] - mx);
    ce -= (z[((const int64_t *)yb.data)[i]] - mx - log(s)) / 8.0;
  }
  cr_assert(fabs(ce - loss) <= 1e-5 * fabs(ce), "reloaded model's loss %.7f, evaluate %.7f", ce,
            (double)loss);
  nncl_array_free(&logits);
  nncl_trainer_destroy(t);
  nncl_trainer_destroy(t2);
  nncl_graph_destroy(m);
  nncl_graph_destroy(m2);
  nncl_array_free(&x);
  nncl_array_free(&y);
}
