/* onnx_info.c: an ONNX model's metadata and declared interface (symbolic dim names included),
   which the graph IR does not keep; see nncl_onnx_model_info_read in nncl/onnx.h. */
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"
#include "runtime.h"

/* A copy of s ("" for NULL); NULL only when out of memory. */
static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

static void value_free(nncl_onnx_value *v) {
  free(v->name);
  for (int d = 0; d < NNCL_MAX_RANK; d++) free(v->dim_names[d]);
  memset(v, 0, sizeof *v);
}

static nncl_status value_read(nncl_context *ctx, const char *file, const Onnx__ValueInfoProto *vi,
                              nncl_onnx_value *v) {
  memset(v, 0, sizeof *v);
  v->rank = -1;
  if (!vi || !vi->name || !*vi->name)
    return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: a graph input or output has no name", file);
  if (!(v->name = strdup(vi->name)))
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s: '%s'", file, vi->name);
  const Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
    return NNCL_OK; /* not a tensor, or no type declared: nothing more to report */
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  v->onnx_type = tt->has_elem_type ? tt->elem_type : 0;
  v->dtype = nncl__dtype_from_onnx(v->onnx_type);
  if (!tt->shape) return NNCL_OK;
  if (tt->shape->n_dim > NNCL_MAX_RANK)
    return nncl__error(ctx, NNCL_ERR_UNSUPPORTED, "%s: '%s' has rank %zu (max %d)", file, vi->name,
                       tt->shape->n_dim, NNCL_MAX_RANK);
  v->rank = (int)tt->shape->n_dim;
  for (int d = 0; d < v->rank; d++) {
    const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
    v->dims[d] = -1;
    if (!dim) continue;
    if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
        dim->dim_value >= 0)
      v->dims[d] = dim->dim_value;
    else if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
             dim->dim_param && *dim->dim_param && !(v->dim_names[d] = strdup(dim->dim_param)))
      return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s: '%s'", file, vi->name);
  }
  return NNCL_OK;
}

static nncl_status info_fill(nncl_context *ctx, const char *file, const Onnx__ModelProto *m,
                             nncl_onnx_model_info *out) {
  const Onnx__GraphProto *g = m->graph;
  if (!g) return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: the model has no graph", file);
  out->ir_version = m->has_ir_version ? m->ir_version : 0;
  out->model_version = m->has_model_version ? m->model_version : 0;
  if (!(out->producer_name = dup_or_empty(m->producer_name)) ||
      !(out->producer_version = dup_or_empty(m->producer_version)) ||
      !(out->domain = dup_or_empty(m->domain)) ||
      !(out->doc_string = dup_or_empty(m->doc_string)) ||
      !(out->graph_name = dup_or_empty(g->name)) ||
      !(out->graph_doc_string = dup_or_empty(g->doc_string)))
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s: model metadata", file);
  if (m->n_metadata_props > 0x7fffffff || g->n_input > 0x7fffffff || g->n_output > 0x7fffffff)
    return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: too many metadata entries, inputs or outputs",
                       file);
  size_t nm = m->n_metadata_props, ni = g->n_input, no = g->n_output;
  out->metadata_keys = calloc(nm ? nm : 1, sizeof *out->metadata_keys);
  out->metadata_values = calloc(nm ? nm : 1, sizeof *out->metadata_values);
  out->inputs = calloc(ni ? ni : 1, sizeof *out->inputs);
  out->outputs = calloc(no ? no : 1, sizeof *out->outputs);
  if (!out->metadata_keys || !out->metadata_values || !out->inputs || !out->outputs)
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s: model interface", file);
  for (size_t i = 0; i < nm; i++) {
    const Onnx__StringStringEntryProto *e = m->metadata_props[i];
    out->n_metadata++; /* counted first so that free releases a half-made entry */
    if (!(out->metadata_keys[i] = dup_or_empty(e ? e->key : NULL)) ||
        !(out->metadata_values[i] = dup_or_empty(e ? e->value : NULL)))
      return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s: metadata", file);
  }
  for (size_t i = 0; i < ni; i++) {
    const Onnx__ValueInfoProto *vi = g->input[i];
    if (vi && vi->name && onnx_name_is_initializer(g, vi->name)) continue; /* a weight */
    NNCL_TRY(value_read(ctx, file, vi, &out->inputs[out->n_inputs++]));
  }
  for (size_t i = 0; i < no; i++)
    NNCL_TRY(value_read(ctx, file, g->output[i], &out->outputs[out->n_outputs++]));
  return NNCL_OK;
}

nncl_status nncl_onnx_model_info_parse(nncl_context *ctx, const void *bytes, size_t len,
                                       nncl_onnx_model_info *out) {
  if (out) memset(out, 0, sizeof *out);
  if (!out || (!bytes && len))
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "nncl_onnx_model_info_parse: NULL argument");
  Onnx__ModelProto *m;
  NNCL_TRY(onnx_unpack_model(ctx, bytes, len, "<memory>", &m));
  nncl_status st = info_fill(ctx, "<memory>", m, out);
  onnx__model_proto__free_unpacked(m, onnx_allocator());
  if (st != NNCL_OK) nncl_onnx_model_info_free(out);
  return st;
}

nncl_status nncl_onnx_model_info_read(nncl_context *ctx, const char *path,
                                      nncl_onnx_model_info *out) {
  if (out) memset(out, 0, sizeof *out);
  if (!path || !out)
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "nncl_onnx_model_info_read: NULL argument");
  void *bytes = NULL;
  size_t len = 0;
  NNCL_TRY(onnx_read_file(ctx, path, &bytes, &len));
  Onnx__ModelProto *m;
  nncl_status st = onnx_unpack_model(ctx, bytes, len, path, &m);
  if (st == NNCL_OK) {
    st = info_fill(ctx, path, m, out);
    onnx__model_proto__free_unpacked(m, onnx_allocator());
  }
  free(bytes);
  if (st != NNCL_OK) nncl_onnx_model_info_free(out);
  return st;
}

void nncl_onnx_model_info_free(nncl_onnx_model_info *info) {
  if (!info) return;
  free(info->producer_name);
  free(info->producer_version);
  free(info->domain);
  free(info->doc_string);
  free(info->graph_name);
  free(info->graph_doc_string);
  for (int i = 0; i < info->n_metadata; i++) {
    free(info->metadata_keys[i]);
    free(info->metadata_values[i]);
  }
  free(info->metadata_keys);
  free(info->metadata_values);
  for (int i = 0; i < info->n_inputs; i++) value_free(&info->inputs[i]);
  for (int i = 0; i < info->n_outputs; i++) value_free(&info->outputs[i]);
  free(info->inputs);
  free(info->outputs);
  memset(info, 0, sizeof *info);
}
