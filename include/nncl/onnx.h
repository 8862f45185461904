/* nncl/onnx.h: ONNX model import. */
#ifndef NNCL_ONNX_H
#define NNCL_ONNX_H

#include "nncl/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parses an .onnx file (external data files are read from its folder) into a graph. Errors name
   the file and what is wrong; nothing crashes on malformed input. */
NNCL_API nncl_status nncl_onnx_load(nncl_context *ctx, const char *path, nncl_graph **out);
/* Same from bytes in memory; base_dir (may be NULL) locates external data. */
NNCL_API nncl_status nncl_onnx_load_memory(nncl_context *ctx, const void *bytes, size_t len,
                                           const char *base_dir, nncl_graph **out);
/* Reads an ONNX TensorProto file (test_data_set_N/input_K.pb) into a host array; *name receives
   the tensor's name (malloc'ed, may be NULL when unnamed; free it). */
NNCL_API nncl_status nncl_onnx_load_tensor(nncl_context *ctx, const char *path, nncl_array *out,
                                           char **name);
/* Writes a host array as a TensorProto file. */
NNCL_API nncl_status nncl_onnx_save_tensor(nncl_context *ctx, const char *path, const nncl_array *a,
                                           const char *name);

/* What an ONNX file declares that a loaded graph does not keep: the model's metadata and each
   graph input's and output's declared element type and shape with its symbolic dim names (the
   "batch" of dim_param). Bindings such as the Python package report these as they are written. */
typedef struct nncl_onnx_value {
  char *name;
  int32_t onnx_type; /* TensorProto.DataType as declared (1 float, 10 float16, ...); 0 if none */
  nncl_dtype dtype;  /* the same as an nncl dtype; NNCL_UNDEFINED when nncl lacks it */
  int rank;          /* -1 when no shape is declared */
  int64_t dims[NNCL_MAX_RANK];    /* -1 where the dim is symbolic or unset */
  char *dim_names[NNCL_MAX_RANK]; /* dim_param ("batch"), NULL where there is none */
} nncl_onnx_value;

typedef struct nncl_onnx_model_info {
  int64_t ir_version, model_version;
  /* Never NULL: "" where the file has none. */
  char *producer_name, *producer_version, *domain, *doc_string, *graph_name, *graph_doc_string;
  int n_metadata; /* metadata_props, in file order */
  char **metadata_keys, **metadata_values;
  int n_inputs; /* graph inputs that are not initializers, in the order nncl_graph_input_name uses */
  nncl_onnx_value *inputs;
  int n_outputs;
  nncl_onnx_value *outputs;
} nncl_onnx_model_info;

/* Reads the metadata and declared interface of an .onnx file (or of bytes in memory) into *out
   (free with nncl_onnx_model_info_free). Errors as nncl_onnx_load's for a malformed file; a rank
   above NNCL_MAX_RANK is NNCL_ERR_UNSUPPORTED. On error *out is empty. */
NNCL_API nncl_status nncl_onnx_model_info_read(nncl_context *ctx, const char *path,
                                               nncl_onnx_model_info *out);
NNCL_API nncl_status nncl_onnx_model_info_parse(nncl_context *ctx, const void *bytes, size_t len,
                                                nncl_onnx_model_info *out);
NNCL_API void nncl_onnx_model_info_free(nncl_onnx_model_info *info);

#ifdef __cplusplus
}
#endif
#endif
