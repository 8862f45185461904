/* train_onnx.c: nncl_trainer_save_onnx: the trained model as ONNX. The source file is parsed
   again and only the trained initializers' data (and BatchNorm running statistics) are replaced
   (as raw_data), so everything else (graph, opset, metadata, frozen weights) is written back
   exactly as it was read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"
#include "trainer_internal.h"

static nncl_status read_file(nncl_context *ctx, const char *path, uint8_t **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return nncl__error(ctx, NNCL_ERR_IO, "save ONNX: cannot read '%s'", path);
  long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  nncl_status st = NNCL_OK;
  if (n < 0 || (size_t)n > ONNX_MAX_FILE_BYTES || fseek(f, 0, SEEK_SET) != 0)
    st = nncl__error(ctx, NNCL_ERR_IO, "save ONNX: cannot size '%s'", path);
  *out = st == NNCL_OK ? malloc((size_t)n + 1) : NULL;
  if (st == NNCL_OK && !*out) st = nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "save ONNX");
  if (st == NNCL_OK && fread(*out, 1, (size_t)n, f) != (size_t)n)
    st = nncl__error(ctx, NNCL_ERR_IO, "save ONNX: cannot read '%s'", path);
  fclose(f);
  if (st != NNCL_OK) {
    free(*out);
    *out = NULL;
  }
  *len = (size_t)(n > 0 ? n : 0);
  return st;
}

static nncl_status write_file(nncl_context *ctx, const char *path, const uint8_t *buf, size_t len) {
  size_t pl = strlen(path) + 8;
  char *tmp = malloc(pl);
  if (!tmp) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "save ONNX");
  snprintf(tmp, pl, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  int ok = f && fwrite(buf, 1, len, f) == len;
  if (f && fclose(f) != 0) ok = 0;
  if (ok && rename(tmp, path) != 0) ok = 0;
  if (!ok) remove(tmp);
  free(tmp);
  return ok ? NNCL_OK : nncl__error(ctx, NNCL_ERR_IO, "save ONNX: cannot write '%s'", path);
}

nncl_status nncl_trainer_save_onnx(nncl_trainer *t, const char *model_path, const char *out_path) {
  if (!t || !model_path || !out_path) return NNCL_ERR_INVALID_ARGUMENT;
  uint8_t *bytes = NULL;
  size_t len = 0;
  NNCL_TRY(read_file(t->ctx, model_path, &bytes, &len));
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, bytes);
  free(bytes);
  if (!m || !m->graph) {
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    return nncl__error(t->ctx, NNCL_ERR_FORMAT, "save ONNX: '%s' is not an ONNX model", model_path);
  }
  Onnx__GraphProto *g = m->graph;
  /* the unpacked message owns its buffers: swap ours in, and the originals back before freeing */
  ProtobufCBinaryData *saved = calloc(g->n_initializer + 1, sizeof *saved);
  size_t *saved_nf = calloc(g->n_initializer + 1, sizeof *saved_nf);
  protobuf_c_boolean *saved_has = calloc(g->n_initializer + 1, sizeof *saved_has);
  int n_out = t->n_params + 2 * t->n_bn; /* parameters, then BatchNorm running statistics */
  nncl_array *vals = calloc((size_t)n_out + 1, sizeof *vals);
  int *swapped = calloc(g->n_initializer + 1, sizeof *swapped);
  nncl_status st = saved && saved_nf && saved_has && vals && swapped
                       ? NNCL_OK
                       : nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "save ONNX");
  for (int i = 0; i < n_out && st == NNCL_OK; i++) {
    const struct train_bn *bn = i < t->n_params ? NULL : &t->bn[(i - t->n_params) / 2];
    int is_var = (i - t->n_params) % 2;
    const char *name = !bn ? t->param[i] : is_var ? bn->var_name : bn->mean_name;
    size_t k = 0;
    while (k < g->n_initializer && strcmp(g->initializer[k]->name, name) != 0) k++;
    if (k == g->n_initializer) {
      st = nncl__error(t->ctx, NNCL_ERR_NOT_FOUND,
                       "save ONNX: '%s' is no initializer of '%s' (the trainer must be made from "
                       "this file)",
                       name, model_path);
      break;
    }
    Onnx__TensorProto *tp = g->initializer[k];
    if (tp->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ||
        tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
      st = nncl__error(t->ctx, NNCL_ERR_UNSUPPORTED,
                       "save ONNX: initializer '%s' is not float32 stored in the file", name);
      break;
    }
    if (!bn) {
      st = nncl_trainer_get_param(t, i, &vals[i]);
    } else {
      const nncl_array *src = is_var ? &bn->var : &bn->mean;
      st = nncl_array_alloc(&vals[i], NNCL_FLOAT32, &src->shape);
      if (st == NNCL_OK) memcpy(vals[i].data, src->data, nncl_array_bytes(src));
    }
    if (st != NNCL_OK) break;
    saved[k] = tp->raw_data;
    saved_nf[k] = tp->n_float_data;
    saved_has[k] = tp->has_raw_data;
    swapped[k] = 1;
    tp->raw_data.data = vals[i].data;
    tp->raw_data.len = nncl_array_bytes(&vals[i]);
    tp->has_raw_data = 1;
    tp->n_float_data = 0; /* float_data stays allocated; the count hides it while packing */
  }
  /* a model exported in training mode has BatchNorms with statistics outputs: the inference
     graph drops them while nothing reads them (counts restored before freeing) */
  size_t *saved_nout = calloc(g->n_node + 1, sizeof *saved_nout);
  if (!saved_nout && st == NNCL_OK) st = nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "save");
  for (size_t k = 0; saved_nout && k < g->n_node; k++) saved_nout[k] = g->node[k]->n_output;
  for (size_t k = 0; st == NNCL_OK && k < g->n_node; k++) {
    Onnx__NodeProto *n = g->node[k];
    if (strcmp(n->op_type, "BatchNormalization") != 0 || n->n_output < 2) continue;
    int read = 0;
    for (size_t o = 1; o < n->n_output && !read; o++) {
      if (!n->output[o][0]) continue;
      for (size_t j = 0; j < g->n_node && !read; j++)
        for (size_t i = 0; i < g->node[j]->n_input && !read; i++)
          read = !strcmp(g->node[j]->input[i], n->output[o]);
      for (size_t j = 0; j < g->n_output && !read; j++)
        read = !strcmp(g->output[j]->name, n->output[o]);
    }
    if (!read) n->n_output = 1;
  }
  if (st == NNCL_OK) {
    size_t n = onnx__model_proto__get_packed_size(m);
    uint8_t *buf = malloc(n + 1);
    if (!buf) st = nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "save ONNX");
    if (buf) {
      onnx__model_proto__pack(m, buf);
      st = write_file(t->ctx, out_path, buf, n);
      free(buf);
    }
  }
  for (size_t k = 0; swapped && k < g->n_initializer; k++)
    if (swapped[k]) {
      g->initializer[k]->raw_data = saved[k];
      g->initializer[k]->n_float_data = saved_nf[k];
      g->initializer[k]->has_raw_data = saved_has[k];
    }
  for (size_t k = 0; saved_nout && k < g->n_node; k++) g->node[k]->n_output = saved_nout[k];
  free(saved_nout);
  for (int i = 0; vals && i < n_out; i++) nncl_array_free(&vals[i]);
  free(vals);
  free(saved);
  free(saved_nf);
  free(saved_has);
  free(swapped);
  onnx__model_proto__free_unpacked(m, NULL);
  return st;
}
