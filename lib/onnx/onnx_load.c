/* onnx_load.c: ONNX ModelProto -> graph IR through the public builder API (nncl/graph.h).
   Initializers (raw, typed, external, sparse) become constants, graph inputs that are also
   initializers stay constants, Constant nodes become constants, nodes of other domains keep
   their domain as "domain::Type" so planning reports them as unsupported. Every count, name
   and size is validated; a malformed file gives NNCL_ERR_FORMAT naming the file and the problem. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_import.h"
#include "onnx_internal.h"
#include "runtime.h"

/* What one load needs to name things in messages and to find external data. */
struct loader {
  nncl_context *ctx;
  int opset;            /* default-domain opset, 0 when the model imports none */
  const char *file;     /* file name for messages ("<memory>" for in-memory models) */
  const char *base_dir; /* folder of external data, may be NULL */
  nncl_graph *g;
};

static int is_default_domain(const char *d) { return !d || !*d || strcmp(d, "ai.onnx") == 0; }

/* Default-domain opset of the model; 0 when the model imports none (legal when every node
   belongs to another domain). */
static nncl_status model_opset(struct loader *L, const Onnx__ModelProto *m, int *opset) {
  *opset = 0;
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = m->opset_import[i];
    if (!o || !is_default_domain(o->domain)) continue;
    if (!o->has_version || o->version < 1 || o->version > 1000)
      return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: invalid default-domain opset version %lld",
                         L->file, o && o->has_version ? (long long)o->version : -1LL);
    *opset = (int)o->version;
  }
  return NNCL_OK; /* 0 is fine as long as no default-domain node needs it (load_node checks) */
}

int onnx_name_is_initializer(const Onnx__GraphProto *g, const char *name) {
  for (size_t i = 0; i < g->n_initializer; i++)
    if (g->initializer[i] && g->initializer[i]->name && strcmp(g->initializer[i]->name, name) == 0)
      return 1;
  for (size_t i = 0; i < g->n_sparse_initializer; i++) {
    const Onnx__SparseTensorProto *s = g->sparse_initializer[i];
    if (s && s->values && s->values->name && strcmp(s->values->name, name) == 0) return 1;
  }
  return 0;
}

/* Adds a converted constant, taking its data; frees it on failure too. */
static nncl_status add_constant(struct loader *L, const char *name, nncl_array *a) {
  nncl_status st = nncl_graph_add_constant_move(L->g, name, a);
  nncl_array_free(a);
  return st;
}

static nncl_status load_initializers(struct loader *L, const Onnx__GraphProto *g) {
  char where[512];
  for (size_t i = 0; i < g->n_initializer; i++) {
    Onnx__TensorProto *t = g->initializer[i];
    if (!t || !t->name || !*t->name)
      return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: initializer %zu has no name", L->file, i);
    snprintf(where, sizeof where, "%s: initializer '%s'", L->file, t->name);
    nncl_array a;
    NNCL_TRY(onnx_tensor_to_array(L->ctx, t, L->base_dir, where, &a));
    NNCL_TRY(add_constant(L, t->name, &a));
  }
  for (size_t i = 0; i < g->n_sparse_initializer; i++) {
    const Onnx__SparseTensorProto *s = g->sparse_initializer[i];
    const char *name = s && s->values ? s->values->name : NULL;
    if (!name || !*name)
      return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: sparse initializer %zu has no name", L->file,
                         i);
    snprintf(where, sizeof where, "%s: sparse initializer '%s'", L->file, name);
    nncl_array a;
    NNCL_TRY(onnx_sparse_to_array(L->ctx, s, L->base_dir, where, &a));
    NNCL_TRY(add_constant(L, name, &a));
  }
  return NNCL_OK;
}

static nncl_status load_inputs(struct loader *L, const Onnx__GraphProto *g) {
  for (size_t i = 0; i < g->n_input; i++) {
    const Onnx__ValueInfoProto *v = g->input[i];
    if (!v || !v->name || !*v->name)
      return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: graph input %zu has no name", L->file, i);
    if (onnx_name_is_initializer(g, v->name)) continue; /* a weight with a default: a constant */
    const Onnx__TypeProto *tp = v->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
      return nncl__error(L->ctx, NNCL_ERR_UNSUPPORTED,
                         "%s: graph input '%s' is not a tensor (sequences, maps and optionals are "
                         "not supported)",
                         L->file, v->name);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    int32_t et = tt->has_elem_type ? tt->elem_type : 0;
    nncl_dtype dt = nncl__dtype_from_onnx(et);
    if (dt == NNCL_UNDEFINED)
      return nncl__error(
          L->ctx, et ? NNCL_ERR_DTYPE : NNCL_ERR_FORMAT,
          "%s: graph input '%s' has element type %s (%d), which nncl does not support", L->file,
          v->name, onnx_dtype_name(et), (int)et);
    nncl_shape shape = {0};
    if (!tt->shape)
      return nncl__error(L->ctx, NNCL_ERR_UNSUPPORTED,
                         "%s: graph input '%s' declares no shape; nncl needs at least its rank",
                         L->file, v->name);
    if (tt->shape->n_dim > NNCL_MAX_RANK)
      return nncl__error(L->ctx, NNCL_ERR_UNSUPPORTED, "%s: graph input '%s' has rank %zu (max %d)",
                         L->file, v->name, tt->shape->n_dim, NNCL_MAX_RANK);
    shape.rank = (int)tt->shape->n_dim;
    for (size_t d = 0; d < tt->shape->n_dim; d++) {
      const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
      int64_t val = -1; /* dim_param ("batch") or unset: known when an input is set */
      if (dim && dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
        if (dim->dim_value < 0)
          return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: graph input '%s' dim %zu is %lld",
                             L->file, v->name, d, (long long)dim->dim_value);
        val = dim->dim_value;
      }
      shape.dims[d] = val;
    }
    NNCL_TRY(nncl_graph_add_input(L->g, v->name, dt, &shape));
  }
  return NNCL_OK;
}

/* The attribute's type, inferred from the set field for files older than IR version 2. */
static Onnx__AttributeProto__AttributeType attr_type(const Onnx__AttributeProto *a) {
  if (a->has_type) return a->type;
  if (a->has_f) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  if (a->has_i) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  if (a->has_s) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
  if (a->t) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
  if (a->g) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
  if (a->sparse_tensor) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR;
  if (a->n_floats) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
  if (a->n_ints) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  if (a->n_strings) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
  return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

static char *binary_to_cstr(const ProtobufCBinaryData *b) {
  char *s = malloc(b->len + 1);
  if (!s) return NULL;
  if (b->len) memcpy(s, b->data, b->len);
  s[b->len] = 0;
  return s;
}

static nncl_status set_attribute(struct loader *L, nncl_node *n, const char *node_desc,
                                 const Onnx__AttributeProto *a) {
  if (!a || !a->name || !*a->name)
    return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: %s: attribute without a name", L->file,
                       node_desc);
  if (a->ref_attr_name && *a->ref_attr_name)
    return nncl__error(L->ctx, NNCL_ERR_FORMAT,
                       "%s: %s: attribute '%s' refers to a function attribute outside a function",
                       L->file, node_desc, a->name);
  nncl_graph *g = L->g;
  char where[1100];
  switch (attr_type(a)) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
    return nncl_node_set_float(g, n, a->name, a->f);
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return nncl_node_set_int(g, n, a->name, a->i);
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
    char *s = binary_to_cstr(&a->s);
    if (!s)
      return nncl__error(L->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s: attribute string", L->file);
    nncl_status st = nncl_node_set_string(g, n, a->name, s);
    free(s);
    return st;
  }
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
    if (a->n_floats > 0x7fffffff) break;
    return nncl_node_set_floats(g, n, a->name, a->floats, (int)a->n_floats);
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
    if (a->n_ints > 0x7fffffff) break;
    return nncl_node_set_ints(g, n, a->name, a->ints, (int)a->n_ints);
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: {
    if (a->n_strings > 0x7fffffff) break;
    char **v = calloc(a->n_strings ? a->n_strings : 1, sizeof *v);
    nncl_status st = v ? NNCL_OK : NNCL_ERR_OUT_OF_HOST_MEMORY;
    for (size_t i = 0; st == NNCL_OK && i < a->n_strings; i++)
      if (!(v[i] = binary_to_cstr(&a->strings[i]))) st = NNCL_ERR_OUT_OF_HOST_MEMORY;
    if (st == NNCL_OK)
      st = nncl_node_set_strings(g, n, a->name, (const char *const *)v, (int)a->n_strings);
    else
      st = nncl__error(L->ctx, st, "%s: attribute strings", L->file);
    for (size_t i = 0; v && i < a->n_strings; i++) free(v[i]);
    free(v);
    return st;
  }
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR: {
    snprintf(where, sizeof where, "%.200s: %s: attribute '%.200s'", L->file, node_desc, a->name);
    nncl_array t;
    if (attr_type(a) == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR)
      NNCL_TRY(onnx_tensor_to_array(L->ctx, a->t, L->base_dir, where, &t));
    else
      NNCL_TRY(onnx_sparse_to_array(L->ctx, a->sparse_tensor, L->base_dir, where, &t));
    nncl_status st = nncl_node_set_tensor(g, n, a->name, &t);
    nncl_array_free(&t);
    return st;
  }
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO:
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS:
    /* Only control flow (If, Loop, Scan) and sequence ops take these, and nncl runs none of
         them: planning reports such a node as unsupported, so the attribute is not needed. */
    return NNCL_OK;
  default: break;
  }
  return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: %s: attribute '%s' has an invalid type or size",
                     L->file, node_desc, a->name);
}

/* A Constant node becomes a graph constant named after its output. */
static nncl_status load_constant_node(struct loader *L, const Onnx__NodeProto *nd,
                                      const char *desc) {
  if (nd->n_output != 1 || !nd->output[0] || !*nd->output[0])
    return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: %s needs exactly one named output", L->file,
                       desc);
  if (nd->n_attribute != 1 || !nd->attribute[0] || !nd->attribute[0]->name)
    return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: %s needs exactly one value attribute", L->file,
                       desc);
  const Onnx__AttributeProto *a = nd->attribute[0];
  char where[1100];
  snprintf(where, sizeof where, "%.200s: %s: attribute '%.200s'", L->file, desc, a->name);
  nncl_array v = {0};
  nncl_shape shape = {0};
  const char *name = a->name;
  if (strcmp(name, "value") == 0) {
    NNCL_TRY(onnx_tensor_to_array(L->ctx, a->t, L->base_dir, where, &v));
  } else if (strcmp(name, "sparse_value") == 0) {
    NNCL_TRY(onnx_sparse_to_array(L->ctx, a->sparse_tensor, L->base_dir, where, &v));
  } else if (strcmp(name, "value_float") == 0 || strcmp(name, "value_int") == 0) {
    int is_f = name[6] == 'f';
    if (nncl_array_alloc(&v, is_f ? NNCL_FLOAT32 : NNCL_INT64, &shape) != NNCL_OK)
      return nncl__error(L->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s", where);
    if (is_f)
      *(float *)v.data = a->f;
    else
      *(int64_t *)v.data = a->i;
  } else if (strcmp(name, "value_floats") == 0 || strcmp(name, "value_ints") == 0) {
    int is_f = name[6] == 'f';
    size_t n = is_f ? a->n_floats : a->n_ints;
    shape.rank = 1;
    shape.dims[0] = (int64_t)n;
    if (nncl_array_alloc(&v, is_f ? NNCL_FLOAT32 : NNCL_INT64, &shape) != NNCL_OK)
      return nncl__error(L->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s", where);
    if (n)
      memcpy(v.data, is_f ? (const void *)a->floats : (const void *)a->ints, n * (is_f ? 4 : 8));
  } else if (strcmp(name, "value_string") == 0 || strcmp(name, "value_strings") == 0) {
    return nncl__error(L->ctx, NNCL_ERR_DTYPE, "%s: string constants are not supported", where);
  } else {
    return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: unknown Constant attribute", where);
  }
  NNCL_TRY(add_constant(L, nd->output[0], &v));
  /* part of the computation (a scale, a shape), never a parameter to train */
  return nncl__graph_mark_computed_constant(L->g, nd->output[0]);
}

static nncl_status check_names(struct loader *L, const char *desc, const char *what, size_t n,
                               char *const *names) {
  if (n > 0x7fffffff)
    return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: %s has too many %ss", L->file, desc, what);
  for (size_t i = 0; i < n; i++)
    if (!names[i])
      return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: %s: %s %zu is missing", L->file, desc, what,
                         i);
  return NNCL_OK;
}

static nncl_status load_node(struct loader *L, const Onnx__NodeProto *nd, size_t index) {
  if (!nd || !nd->op_type || !*nd->op_type)
    return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: node %zu has no op_type", L->file, index);
  /* Nodes keep their file name; unnamed ones get "<op_type>_<index>" so errors can name them. */
  char gen_name[160], op_type[384], desc[600];
  const char *name = nd->name;
  if (!name || !*name) {
    snprintf(gen_name, sizeof gen_name, "%.100s_%zu", nd->op_type, index);
    name = gen_name;
  }
  if (is_default_domain(nd->domain))
    snprintf(op_type, sizeof op_type, "%.300s", nd->op_type);
  else
    snprintf(op_type, sizeof op_type, "%.80s::%.300s", nd->domain, nd->op_type);
  snprintf(desc, sizeof desc, "node '%.300s' (%.280s)", name, op_type);
  NNCL_TRY(check_names(L, desc, "input", nd->n_input, nd->input));
  NNCL_TRY(check_names(L, desc, "output", nd->n_output, nd->output));
  if (nd->n_output == 0)
    return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: %s has no outputs", L->file, desc);
  if (is_default_domain(nd->domain) && L->opset == 0)
    return nncl__error(L->ctx, NNCL_ERR_FORMAT,
                       "%s: %s is in the default domain, but the model imports no default-domain "
                       "opset",
                       L->file, desc);
  if (is_default_domain(nd->domain) && strcmp(nd->op_type, "Constant") == 0)
    return load_constant_node(L, nd, desc);
  nncl_node *n = NULL;
  NNCL_TRY(nncl_graph_add_node(L->g, op_type, name, (int)nd->n_input,
                               (const char *const *)nd->input, (int)nd->n_output,
                               (const char *const *)nd->output, &n));
  for (size_t i = 0; i < nd->n_attribute; i++)
    NNCL_TRY(set_attribute(L, n, desc, nd->attribute[i]));
  return NNCL_OK;
}

static nncl_status load_graph(struct loader *L, const Onnx__ModelProto *m) {
  const Onnx__GraphProto *g = m->graph;
  if (!g) return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: the model has no graph", L->file);
  NNCL_TRY(model_opset(L, m, &L->opset));
  if (L->opset) nncl_graph_set_opset(L->g, L->opset);
  NNCL_TRY(load_initializers(L, g));
  NNCL_TRY(load_inputs(L, g));
  for (size_t i = 0; i < g->n_node; i++) NNCL_TRY(load_node(L, g->node[i], i));
  if (g->n_output == 0)
    return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: the graph has no outputs", L->file);
  for (size_t i = 0; i < g->n_output; i++) {
    const Onnx__ValueInfoProto *v = g->output[i];
    if (!v || !v->name || !*v->name)
      return nncl__error(L->ctx, NNCL_ERR_FORMAT, "%s: graph output %zu has no name", L->file, i);
    NNCL_TRY(nncl_graph_add_output(L->g, v->name));
  }
  return NNCL_OK;
}

nncl_status onnx_unpack_model(nncl_context *ctx, const void *bytes, size_t len, const char *file,
                              Onnx__ModelProto **out) {
  char why[256];
  *out = NULL;
  if (len == 0)
    return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: empty file (not an ONNX model)", file);
  if (onnx_wire_check(&onnx__model_proto__descriptor, bytes, len, why, sizeof why) != 0)
    return nncl__error(ctx, NNCL_ERR_FORMAT,
                       "%s: not a valid ONNX model (truncated or corrupt): %s", file, why);
  *out = onnx__model_proto__unpack(onnx_allocator(), len, bytes);
  if (!*out)
    return nncl__error(
        ctx, NNCL_ERR_FORMAT,
        "%s: not a valid ONNX model (protobuf decoding failed: truncated or corrupt)", file);
  return NNCL_OK;
}

static nncl_status load_bytes(nncl_context *ctx, const void *bytes, size_t len,
                              const char *base_dir, const char *file, nncl_graph **out) {
  Onnx__ModelProto *m;
  NNCL_TRY(onnx_unpack_model(ctx, bytes, len, file, &m));
  struct loader L = {ctx, 0, file, base_dir, NULL};
  nncl_status st = nncl_graph_create(ctx, &L.g);
  if (st == NNCL_OK) st = load_graph(&L, m);
  onnx__model_proto__free_unpacked(m, onnx_allocator());
  if (st != NNCL_OK) {
    nncl_graph_destroy(L.g);
    return st;
  }
  *out = L.g;
  return NNCL_OK;
}

nncl_status nncl_onnx_load_memory(nncl_context *ctx, const void *bytes, size_t len,
                                  const char *base_dir, nncl_graph **out) {
  if (out) *out = NULL;
  if (!ctx || !out || (!bytes && len))
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "nncl_onnx_load_memory: NULL argument");
  return load_bytes(ctx, bytes, len, base_dir, "<memory>", out);
}

nncl_status nncl_onnx_load(nncl_context *ctx, const char *path, nncl_graph **out) {
  if (out) *out = NULL;
  if (!ctx || !path || !out)
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "nncl_onnx_load: NULL argument");
  void *bytes = NULL;
  size_t len = 0;
  NNCL_TRY(onnx_read_file(ctx, path, &bytes, &len));
  const char *slash = strrchr(path, '/');
  char *dir = NULL;
  if (!slash) {
    dir = strdup(".");
  } else {
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if ((dir = malloc(n + 1))) {
      memcpy(dir, path, n);
      dir[n] = 0;
    }
  }
  nncl_status st = dir ? load_bytes(ctx, bytes, len, dir, path, out)
                       : nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s", path);
  free(dir);
  free(bytes);
  return st;
}
