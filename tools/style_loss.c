/* style_loss.c: the Gram-matrix style loss and the content loss as graph nodes, their targets
   computed by the same graph on the two pictures (see style_loss.h). */
#include "style_loss.h"

#include <stdio.h>
#include <string.h>

static int has_value(const nncl_graph *g, const char *name) {
  for (int i = 0; i < nncl_graph_num_nodes(g); i++) {
    const char *v = nncl_graph_node_output_name(g, i);
    if (v && strcmp(v, name) == 0) return 1;
  }
  return 0;
}

static int is_output(const nncl_graph *g, const char *name) {
  for (int i = 0; i < nncl_graph_num_outputs(g); i++)
    if (strcmp(nncl_graph_output_name(g, i), name) == 0) return 1;
  return 0;
}

static nncl_status need_layer(const nncl_graph *g, const char *layer) {
  if (has_value(g, layer)) return NNCL_OK;
  fprintf(stderr, "nncl style: no value named '%s'; the graph's node outputs are:\n", layer);
  for (int i = 0; i < nncl_graph_num_nodes(g); i++) {
    const char *v = nncl_graph_node_output_name(g, i);
    if (v) fprintf(stderr, "  %s (%s)\n", v, nncl_graph_node_op_type(g, i));
  }
  return NNCL_ERR_NOT_FOUND;
}

static nncl_status add_output_once(nncl_graph *g, const char *name) {
  return is_output(g, name) ? NNCL_OK : nncl_graph_add_output(g, name);
}

static nncl_status add_scalar(nncl_graph *g, const char *name, float v) {
  const nncl_shape one = {1, {1}};
  nncl_array a = {NNCL_FLOAT32, one, &v};
  return nncl_graph_add_constant(g, name, &a);
}

static nncl_status add2(nncl_graph *g, const char *op, const char *name, const char *a,
                        const char *b, const char *out) {
  const char *in[2] = {a, b};
  return nncl_graph_add_node(g, op, name, 2, in, 1, &out, NULL);
}

static double mean_square(const nncl_array *a) {
  const int64_t n = nncl_shape_numel(&a->shape);
  const float *p = a->data;
  double s = 0.0;
  for (int64_t i = 0; i < n; i++) s += (double)p[i] * p[i];
  return n > 0 ? s / (double)n : 0.0;
}

/* <prefix>/term = weight / mean(target^2) * mean((value - target)^2) */
static nncl_status add_mse_term(nncl_graph *g, const char *prefix, const char *value,
                                const nncl_array *target, float weight) {
  char tgt[64], diff[64], sq[64], mean[64], w[64], term[64], node[64];
  snprintf(tgt, sizeof tgt, "%s/target", prefix);
  snprintf(diff, sizeof diff, "%s/diff", prefix);
  snprintf(sq, sizeof sq, "%s/sq", prefix);
  snprintf(mean, sizeof mean, "%s/mse", prefix);
  snprintf(w, sizeof w, "%s/weight", prefix);
  snprintf(term, sizeof term, "%s/term", prefix);
  const double ms = mean_square(target);
  nncl_status st;
  if ((st = nncl_graph_add_constant(g, tgt, target)) ||
      (st = add_scalar(g, w, (float)(weight / (ms > 0.0 ? ms : 1.0)))))
    return st;
  snprintf(node, sizeof node, "%s/sub", prefix);
  if ((st = add2(g, "Sub", node, value, tgt, diff))) return st;
  snprintf(node, sizeof node, "%s/square", prefix);
  if ((st = add2(g, "Mul", node, diff, diff, sq))) return st;
  nncl_node *n;
  snprintf(node, sizeof node, "%s/mean", prefix);
  const char *sq_in = sq, *mean_out = mean;
  if ((st = nncl_graph_add_node(g, "ReduceMean", node, 1, &sq_in, 1, &mean_out, &n)) ||
      (st = nncl_node_set_int(g, n, "keepdims", 0)))
    return st;
  snprintf(node, sizeof node, "%s/weigh", prefix);
  return add2(g, "Mul", node, mean, w, term);
}

/* <prefix>/gram = F F^T / (C h w) of value [1, C, ...] viewed as F [C, h w] */
static nncl_status add_gram(nncl_graph *g, const char *prefix, const char *value,
                            const nncl_shape *shape) {
  char shp[64], rows[64], cols[64], prod[64], scale[64], gram[64], node[64];
  snprintf(shp, sizeof shp, "%s/shape", prefix);
  snprintf(rows, sizeof rows, "%s/rows", prefix);
  snprintf(cols, sizeof cols, "%s/cols", prefix);
  snprintf(prod, sizeof prod, "%s/prod", prefix);
  snprintf(scale, sizeof scale, "%s/scale", prefix);
  snprintf(gram, sizeof gram, "%s/gram", prefix);
  int64_t dims[2] = {shape->dims[1], -1};
  const nncl_shape two = {1, {2}};
  nncl_array shape_arr = {NNCL_INT64, two, dims};
  nncl_status st;
  if ((st = nncl_graph_add_constant(g, shp, &shape_arr)) ||
      (st = add_scalar(g, scale, (float)(1.0 / (double)nncl_shape_numel(shape)))))
    return st;
  snprintf(node, sizeof node, "%s/reshape", prefix);
  if ((st = add2(g, "Reshape", node, value, shp, rows))) return st;
  snprintf(node, sizeof node, "%s/transpose", prefix);
  const char *t_in = rows, *t_out = cols;
  if ((st = nncl_graph_add_node(g, "Transpose", node, 1, &t_in, 1, &t_out, NULL))) return st;
  snprintf(node, sizeof node, "%s/matmul", prefix);
  if ((st = add2(g, "MatMul", node, rows, cols, prod))) return st;
  snprintf(node, sizeof node, "%s/normalise", prefix);
  return add2(g, "Mul", node, prod, scale, gram);
}

/* Sums the values names[0..n) into `out` with a chain of Adds (a copy through Identity for one). */
static nncl_status add_sum(nncl_graph *g, const char *prefix, char names[][96], int n,
                           const char *out) {
  char acc[96], next[96], node[96];
  snprintf(acc, sizeof acc, "%s", names[0]);
  for (int i = 1; i < n; i++) {
    snprintf(next, sizeof next, i + 1 == n ? "%s" : "%s/partial%d", i + 1 == n ? out : prefix, i);
    snprintf(node, sizeof node, "%s/add%d", prefix, i);
    nncl_status st = add2(g, "Add", node, acc, names[i], next);
    if (st != NNCL_OK) return st;
    snprintf(acc, sizeof acc, "%s", next);
  }
  if (n > 1) return NNCL_OK;
  snprintf(node, sizeof node, "%s/copy", prefix);
  const char *in = names[0];
  return nncl_graph_add_node(g, "Identity", node, 1, &in, 1, &out, NULL);
}

#define STYLE_MAX_LAYERS 32

nncl_status style_loss_build(nncl_graph *g, const style_loss_spec *s, const nncl_array *content,
                             const nncl_array *style) {
  if (s->n_style < 1 || s->n_style > STYLE_MAX_LAYERS) {
    fprintf(stderr, "nncl style: between 1 and %d style layers, not %d\n", STYLE_MAX_LAYERS,
            s->n_style);
    return NNCL_ERR_INVALID_ARGUMENT;
  }
  nncl_status st;
  if ((st = need_layer(g, s->content_layer))) return st;
  for (int i = 0; i < s->n_style; i++)
    if ((st = need_layer(g, s->style_layers[i]))) return st;
  nncl_array fc = {0}, grams[STYLE_MAX_LAYERS] = {{0}};
  char prefix[32], terms[STYLE_MAX_LAYERS][96], gram_name[64];
  /* run 1, the content picture: the content target, and the style layers' shapes */
  if ((st = add_output_once(g, s->content_layer))) return st;
  for (int i = 0; i < s->n_style; i++)
    if ((st = add_output_once(g, s->style_layers[i]))) return st;
  if ((st = nncl_graph_set_input(g, s->image, content)) || (st = nncl_graph_run(g)) ||
      (st = nncl_graph_get_output_by_name(g, s->content_layer, &fc)))
    goto done;
  nncl_shape shapes[STYLE_MAX_LAYERS];
  for (int i = 0; i < s->n_style; i++) { /* every shape first: a new node invalidates the run */
    nncl_array f = {0};
    if ((st = nncl_graph_get_output_by_name(g, s->style_layers[i], &f))) goto done;
    const nncl_dtype dt = f.dtype;
    shapes[i] = f.shape;
    nncl_array_free(&f);
    if (dt != NNCL_FLOAT32 || shapes[i].rank < 3 || shapes[i].dims[0] != 1) {
      char sb[96];
      fprintf(stderr, "nncl style: style layer '%s' is %s, expected float32 features [1, C, ...]\n",
              s->style_layers[i], nncl_shape_format(&shapes[i], sb, sizeof sb));
      st = NNCL_ERR_SHAPE;
      goto done;
    }
  }
  for (int i = 0; i < s->n_style; i++) {
    snprintf(prefix, sizeof prefix, "style/s%d", i + 1);
    snprintf(gram_name, sizeof gram_name, "%s/gram", prefix);
    if ((st = add_gram(g, prefix, s->style_layers[i], &shapes[i])) ||
        (st = nncl_graph_add_output(g, gram_name)))
      goto done;
  }
  /* run 2, the style picture: the Gram targets, by the same nodes the loss uses */
  if ((st = nncl_graph_set_input(g, s->image, style)) || (st = nncl_graph_run(g))) goto done;
  for (int i = 0; i < s->n_style; i++) {
    snprintf(gram_name, sizeof gram_name, "style/s%d/gram", i + 1);
    if ((st = nncl_graph_get_output_by_name(g, gram_name, &grams[i]))) goto done;
  }
  for (int i = 0; i < s->n_style; i++) {
    snprintf(prefix, sizeof prefix, "style/s%d", i + 1);
    snprintf(gram_name, sizeof gram_name, "%s/gram", prefix);
    if ((st = add_mse_term(g, prefix, gram_name, &grams[i], s->style_weight / (float)s->n_style)))
      goto done;
    snprintf(terms[i], sizeof terms[i], "%s/term", prefix);
  }
  char content_term[1][96] = {"style/c/term"};
  const char *wrt[1] = {s->image}, *grad[1] = {STYLE_GRAD};
  if ((st = add_sum(g, "style/s", terms, s->n_style, STYLE_LOSS_STYLE)) ||
      (st = add_mse_term(g, "style/c", s->content_layer, &fc, s->content_weight)) ||
      (st = add_sum(g, "style/c", content_term, 1, STYLE_LOSS_CONTENT)) ||
      (st = add2(g, "Add", "style/total", STYLE_LOSS_STYLE, STYLE_LOSS_CONTENT, STYLE_LOSS)) ||
      (st = nncl_graph_add_output(g, STYLE_LOSS)) ||
      (st = nncl_graph_add_output(g, STYLE_LOSS_STYLE)) ||
      (st = nncl_graph_add_output(g, STYLE_LOSS_CONTENT)) ||
      (st = nncl_graph_add_gradients(g, STYLE_LOSS, 1, wrt, grad)))
    goto done;
done:
  nncl_array_free(&fc);
  for (int i = 0; i < s->n_style; i++) nncl_array_free(&grams[i]);
  return st;
}
