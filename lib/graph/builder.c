/* builder.c: the graph IR and the public builder API: values, constants, nodes with attributes,
   inputs and outputs. Building never touches the device; planning does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_import.h"
#include "graph_internal.h"

static void attr_free(struct nncl__attr *a) {
  free(a->name);
  free(a->s);
  free(a->ints);
  free(a->floats);
  if (a->strs)
    for (int i = 0; i < a->n; i++) free(a->strs[i]);
  free(a->strs);
  if (a->t) {
    nncl_array_free(a->t);
    free(a->t);
  }
}

static void node_free(struct nncl_node *n) {
  if (!n) return;
  free(n->name);
  free(n->op_type);
  free(n->in);
  free(n->out);
  for (int i = 0; i < n->n_attrs; i++) attr_free(&n->attrs[i]);
  free(n->attrs);
  free(n);
}

nncl_status nncl_graph_create(nncl_context *ctx, nncl_graph **out) {
  if (!ctx || !out) return NNCL_ERR_INVALID_ARGUMENT;
  *out = NULL;
  NNCL_TRY(nncl__context_check_alive(ctx, "graph create"));
  *out = calloc(1, sizeof **out);
  if (!*out) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "graph");
  (*out)->ctx = ctx;
  nncl__context_retain(ctx);
  (*out)->opset = 17;
  (*out)->needs_plan = 1;
  return NNCL_OK;
}

void nncl_graph_destroy(nncl_graph *g) {
  if (!g) return;
  graph_plan_free(g);
  for (int i = 0; i < g->n_values; i++) {
    free(g->values[i].name);
    nncl_array_free(&g->values[i].constant);
  }
  free(g->values);
  for (int i = 0; i < g->n_nodes; i++) node_free(g->nodes[i]);
  free(g->nodes);
  for (int i = 0; i < g->n_inputs; i++) {
    nncl_array_free(&g->pending[i]);
    nncl_array_free(&g->input_values[i]);
  }
  free(g->pending);
  free(g->input_values);
  free(g->input_is_value);
  free(g->input_shapes);
  free(g->input_shape_set);
  free(g->inputs);
  free(g->outputs);
  for (int i = 0; i < g->n_refused_builds; i++) free(g->refused_builds[i].node);
  free(g->refused_builds);
  nncl__context_release(g->ctx);
  free(g);
}

nncl_context *nncl_graph_context(const nncl_graph *g) { return g ? g->ctx : NULL; }
void nncl_graph_set_opset(nncl_graph *g, int opset) {
  if (g) {
    g->opset = opset;
    g->needs_plan = 1;
  }
}
int nncl_graph_opset(const nncl_graph *g) { return g ? g->opset : 0; }

int graph_find_value(const nncl_graph *g, const char *name) {
  for (int i = 0; i < g->n_values; i++)
    if (strcmp(g->values[i].name, name) == 0) return i;
  return -1;
}

int graph_value(nncl_graph *g, const char *name) {
  int v = graph_find_value(g, name);
  if (v >= 0) return v;
  if (g->n_values == g->cap_values) {
    int cap = g->cap_values ? g->cap_values * 2 : 64;
    struct gvalue *n = realloc(g->values, (size_t)cap * sizeof *n);
    if (!n) return -1;
    g->values = n;
    g->cap_values = cap;
  }
  struct gvalue *x = &g->values[g->n_values];
  memset(x, 0, sizeof *x);
  x->name = strdup(name);
  if (!x->name) return -1;
  x->producer = -1;
  return g->n_values++;
}

static nncl_status oom(nncl_graph *g, const char *what) {
  return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "out of host memory adding %s", what);
}

static int push_int(int **arr, int *n, int v) {
  int *a = realloc(*arr, (size_t)(*n + 1) * sizeof *a);
  if (!a) return -1;
  a[(*n)++] = v;
  *arr = a;
  return 0;
}

nncl_status nncl_graph_add_input(nncl_graph *g, const char *name, nncl_dtype dtype,
                                 const nncl_shape *shape) {
  if (!g || !name || !*name || !shape || shape->rank < 0 || shape->rank > NNCL_MAX_RANK ||
      nncl_dtype_size(dtype) == 0)
    return g ? nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT,
                           "graph input needs a name, a storable dtype and a shape of rank 0..8")
             : NNCL_ERR_INVALID_ARGUMENT;
  int v = graph_find_value(g, name);
  if (v >= 0 && (g->values[v].is_input || g->values[v].constant.data || g->values[v].producer >= 0))
    return nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT, "graph input '%s' is already defined",
                       name);
  v = graph_value(g, name);
  if (v < 0) return oom(g, "an input");
  nncl_array *pending = realloc(g->pending, (size_t)(g->n_inputs + 1) * sizeof *pending);
  if (pending) g->pending = pending;
  nncl_shape *shapes = realloc(g->input_shapes, (size_t)(g->n_inputs + 1) * sizeof *shapes);
  if (shapes) g->input_shapes = shapes;
  int *set = realloc(g->input_shape_set, (size_t)(g->n_inputs + 1) * sizeof *set);
  if (set) g->input_shape_set = set;
  int *is_value = realloc(g->input_is_value, (size_t)(g->n_inputs + 1) * sizeof *is_value);
  if (is_value) g->input_is_value = is_value;
  nncl_array *values = realloc(g->input_values, (size_t)(g->n_inputs + 1) * sizeof *values);
  if (values) g->input_values = values;
  if (!pending || !shapes || !set || !is_value || !values) return oom(g, "an input");
  memset(&g->pending[g->n_inputs], 0, sizeof *g->pending);
  memset(&g->input_values[g->n_inputs], 0, sizeof *g->input_values);
  g->input_is_value[g->n_inputs] = 0;
  g->input_shapes[g->n_inputs] = *shape;
  g->input_shape_set[g->n_inputs] = 0;
  int n = g->n_inputs;
  if (push_int(&g->inputs, &n, v)) return oom(g, "an input");
  g->n_inputs = n;
  g->values[v].is_input = 1;
  g->values[v].dtype = dtype;
  g->values[v].shape = *shape;
  g->values[v].has_shape = 1;
  g->needs_plan = 1;
  return NNCL_OK;
}

nncl_status nncl_graph_add_constant_move(nncl_graph *g, const char *name, nncl_array *value) {
  if (!g || !name || !*name || !value)
    return g ? nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT, "constant needs a name and a value")
             : NNCL_ERR_INVALID_ARGUMENT;
  char what[300];
  snprintf(what, sizeof what, "constant '%s'", name);
  NNCL_TRY(nncl__shape_check(g->ctx, NNCL_ERR_SHAPE, &value->shape, value->dtype, what));
  if (!value->data && nncl_array_bytes(value))
    return nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT, "constant '%s' has no data", name);
  int v = graph_find_value(g, name);
  if (v >= 0 && (g->values[v].is_input || g->values[v].constant.data || g->values[v].producer >= 0))
    return nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT, "constant '%s' is already defined", name);
  v = graph_value(g, name);
  if (v < 0) return oom(g, "a constant");
  struct gvalue *x = &g->values[v];
  x->constant = *value;
  if (!x->constant.data) {
    x->constant.data = malloc(1);
    if (!x->constant.data) return oom(g, "a constant");
  }
  value->data = NULL;
  x->dtype = x->constant.dtype;
  x->shape = x->constant.shape;
  x->has_shape = 1;
  g->needs_plan = 1;
  return NNCL_OK;
}

nncl_status nncl_graph_add_constant(nncl_graph *g, const char *name, const nncl_array *value) {
  if (!g || !value || !name)
    return g ? nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT, "constant needs a name and a value")
             : NNCL_ERR_INVALID_ARGUMENT;
  char what[300];
  snprintf(what, sizeof what, "constant '%s'", name);
  NNCL_TRY(nncl__shape_check(g->ctx, NNCL_ERR_SHAPE, &value->shape, value->dtype, what));
  if (!value->data && nncl_array_bytes(value))
    return nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT, "constant '%s' has no data", name);
  nncl_array copy;
  if (nncl_array_alloc(&copy, value->dtype, &value->shape) != NNCL_OK) return oom(g, "a constant");
  if (nncl_array_bytes(value)) memcpy(copy.data, value->data, nncl_array_bytes(value));
  nncl_status st = nncl_graph_add_constant_move(g, name, &copy);
  nncl_array_free(&copy);
  return st;
}

nncl_status nncl_graph_add_node(nncl_graph *g, const char *op_type, const char *name, int n_in,
                                const char *const *inputs, int n_out, const char *const *outputs,
                                nncl_node **out) {
  if (out) *out = NULL;
  if (!g) return NNCL_ERR_INVALID_ARGUMENT;
  if (!op_type || !*op_type || n_in < 0 || n_out < 1 || (n_in && !inputs) || !outputs)
    return nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT,
                       "node '%s' needs an op type and at least one output", name ? name : "");
  if (g->n_nodes == g->cap_nodes) {
    int cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
    struct nncl_node **n = realloc(g->nodes, (size_t)cap * sizeof *n);
    if (!n) return oom(g, "a node");
    g->nodes = n;
    g->cap_nodes = cap;
  }
  struct nncl_node *n = calloc(1, sizeof *n);
  if (!n) return oom(g, "a node");
  n->op_type = strdup(op_type);
  n->op = op_lookup(op_type);
  n->in = calloc((size_t)n_in + 1, sizeof *n->in);
  n->out = calloc((size_t)n_out, sizeof *n->out);
  if (name && *name) {
    n->name = strdup(name);
  } else {
    size_t len = strlen(op_type) + 24;
    n->name = malloc(len);
    if (n->name) snprintf(n->name, len, "%s_%d", op_type, g->n_nodes);
  }
  if (!n->op_type || !n->in || !n->out || !n->name) {
    node_free(n);
    return oom(g, "a node");
  }
  n->n_in = n_in;
  n->n_out = n_out;
  nncl_status st = NNCL_OK;
  for (int i = 0; i < n_in && st == NNCL_OK; i++) {
    if (!inputs[i] || !*inputs[i]) {
      n->in[i] = -1;
      continue;
    }
    n->in[i] = graph_value(g, inputs[i]);
    if (n->in[i] < 0) st = oom(g, "a node input");
  }
  for (int i = 0; i < n_out && st == NNCL_OK; i++) {
    if (!outputs[i] || !*outputs[i]) {
      n->out[i] = -1;
      continue;
    }
    int v = graph_value(g, outputs[i]);
    if (v < 0) {
      st = oom(g, "a node output");
    } else if (g->values[v].producer >= 0 || g->values[v].is_input || g->values[v].constant.data) {
      st = nncl__error(g->ctx, NNCL_ERR_INVALID_ARGUMENT,
                       "node '%s' (%s) writes '%s', which is already produced elsewhere", n->name,
                       op_type, outputs[i]);
    } else {
      g->values[v].producer = g->n_nodes;
      n->out[i] = v;
    }
  }
  if (st != NNCL_OK) {
    for (int i = 0; i < n_out; i++)
      if (n->out[i] > 0 && g->values[n->out[i]].producer == g->n_nodes)
        g->values[n->out[i]].producer = -1;
    node_free(n);
    return st;
  }
  g->nodes[g->n_nodes++] = n;
  g->needs_plan = 1;
  if (out) *out = n;
  return NNCL_OK;
}

static struct nncl__attr *new_attr(nncl_graph *g, nncl_node *n, const char *name,
                                   enum attr_type t) {
  if (!g || !n || !name) return NULL;
  for (int i = 0; i < n->n_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0) {
      attr_free(&n->attrs[i]);
      memset(&n->attrs[i], 0, sizeof n->attrs[i]);
      n->attrs[i].name = strdup(name);
      n->attrs[i].type = t;
      return n->attrs[i].name ? &n->attrs[i] : NULL;
    }
  struct nncl__attr *a = realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *a);
  if (!a) return NULL;
  n->attrs = a;
  struct nncl__attr *x = &a[n->n_attrs];
  memset(x, 0, sizeof *x);
  x->name = strdup(name);
  if (!x->name) return NULL;
  x->type = t;
  n->n_attrs++;
  g->needs_plan = 1;
  return x;
}

nncl_status nncl_node_set_int(nncl_graph *g, nncl_node *n, const char *attr, int64_t v) {
  struct nncl__attr *a = new_attr(g, n, attr, ATTR_INT);
  if (!a) return g ? oom(g, "an attribute") : NNCL_ERR_INVALID_ARGUMENT;
  a->i = v;
  return NNCL_OK;
}

nncl_status nncl_node_set_float(nncl_graph *g, nncl_node *n, const char *attr, float v) {
  struct nncl__attr *a = new_attr(g, n, attr, ATTR_FLOAT);
  if (!a) return g ? oom(g, "an attribute") : NNCL_ERR_INVALID_ARGUMENT;
  a->f = v;
  return NNCL_OK;
}

nncl_status nncl_node_set_string(nncl_graph *g, nncl_node *n, const char *attr, const char *v) {
  struct nncl__attr *a = new_attr(g, n, attr, ATTR_STRING);
  if (!a || !v || !(a->s = strdup(v)))
    return g ? oom(g, "an attribute") : NNCL_ERR_INVALID_ARGUMENT;
  return NNCL_OK;
}

nncl_status nncl_node_set_ints(nncl_graph *g, nncl_node *n, const char *attr, const int64_t *v,
                               int count) {
  struct nncl__attr *a = new_attr(g, n, attr, ATTR_INTS);
  if (!a || count < 0 || (count && !v))
    return g ? oom(g, "an attribute") : NNCL_ERR_INVALID_ARGUMENT;
  a->ints = malloc((size_t)count * sizeof *v + 1);
  if (!a->ints) return oom(g, "an attribute");
  if (count) memcpy(a->ints, v, (size_t)count * sizeof *v);
  a->n = count;
  return NNCL_OK;
}

nncl_status nncl_node_set_floats(nncl_graph *g, nncl_node *n, const char *attr, const float *v,
                                 int count) {
  struct nncl__attr *a = new_attr(g, n, attr, ATTR_FLOATS);
  if (!a || count < 0 || (count && !v))
    return g ? oom(g, "an attribute") : NNCL_ERR_INVALID_ARGUMENT;
  a->floats = malloc((size_t)count * sizeof *v + 1);
  if (!a->floats) return oom(g, "an attribute");
  if (count) memcpy(a->floats, v, (size_t)count * sizeof *v);
  a->n = count;
  return NNCL_OK;
}

nncl_status nncl_node_set_strings(nncl_graph *g, nncl_node *n, const char *attr,
                                  const char *const *v, int count) {
  struct nncl__attr *a = new_attr(g, n, attr, ATTR_STRINGS);
  if (!a || count < 0 || (count && !v))
    return g ? oom(g, "an attribute") : NNCL_ERR_INVALID_ARGUMENT;
  a->strs = calloc((size_t)count + 1, sizeof *a->strs);
  if (!a->strs) return oom(g, "an attribute");
  a->n = count;
  for (int i = 0; i < count; i++)
    if (!(a->strs[i] = strdup(v[i] ? v[i] : ""))) return oom(g, "an attribute");
  return NNCL_OK;
}

nncl_status nncl_node_set_tensor(nncl_graph *g, nncl_node *n, const char *attr,
                                 const nncl_array *v) {
  struct nncl__attr *a = new_attr(g, n, attr, ATTR_TENSOR);
  if (!a || !v) return g ? oom(g, "an attribute") : NNCL_ERR_INVALID_ARGUMENT;
  a->t = calloc(1, sizeof *a->t);
  if (!a->t || nncl_array_alloc(a->t, v->dtype, &v->shape) != NNCL_OK)
    return oom(g, "an attribute");
  if (nncl_array_bytes(v)) memcpy(a->t->data, v->data, nncl_array_bytes(v));
  return NNCL_OK;
}

nncl_status nncl_graph_add_output(nncl_graph *g, const char *name) {
  if (!g || !name || !*name) return NNCL_ERR_INVALID_ARGUMENT;
  int v = graph_value(g, name);
  if (v < 0) return oom(g, "an output");
  int n = g->n_outputs;
  if (push_int(&g->outputs, &n, v)) return oom(g, "an output");
  g->n_outputs = n;
  g->values[v].is_output = 1;
  g->needs_plan = 1;
  return NNCL_OK;
}

int nncl_graph_num_inputs(const nncl_graph *g) { return g ? g->n_inputs : 0; }
int nncl_graph_num_outputs(const nncl_graph *g) { return g ? g->n_outputs : 0; }
const char *nncl_graph_input_name(const nncl_graph *g, int i) {
  return g && i >= 0 && i < g->n_inputs ? g->values[g->inputs[i]].name : NULL;
}
const char *nncl_graph_output_name(const nncl_graph *g, int i) {
  return g && i >= 0 && i < g->n_outputs ? g->values[g->outputs[i]].name : NULL;
}
int nncl_graph_num_nodes(const nncl_graph *g) { return g ? g->n_nodes : 0; }
const char *nncl_graph_node_op_type(const nncl_graph *g, int i) {
  return g && i >= 0 && i < g->n_nodes ? g->nodes[i]->op_type : NULL;
}
const char *nncl_graph_node_output_name(const nncl_graph *g, int i) {
  if (!g || i < 0 || i >= g->n_nodes || g->nodes[i]->n_out < 1 || g->nodes[i]->out[0] < 0)
    return NULL;
  return g->values[g->nodes[i]->out[0]].name;
}

int nncl_graph_op_counts(const nncl_graph *g, const char **op_types, int *counts, int max) {
  int n = 0;
  if (!g || !op_types || !counts || max <= 0) return 0;
  for (int i = 0; i < g->n_nodes; i++) {
    int j = 0;
    while (j < n && strcmp(op_types[j], g->nodes[i]->op_type) != 0) j++;
    if (j < n) {
      counts[j]++;
    } else if (n < max) {
      op_types[n] = g->nodes[i]->op_type;
      counts[n++] = 1;
    }
  }
  return n;
}

nncl_status nncl__graph_mark_computed_constant(nncl_graph *g, const char *name) {
  int v = g && name ? graph_find_value(g, name) : -1;
  if (v < 0 || !g->values[v].constant.data) return NNCL_ERR_NOT_FOUND;
  g->values[v].from_constant_node = 1;
  return NNCL_OK;
}
