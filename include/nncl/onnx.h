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

#ifdef __cplusplus
}
#endif
#endif
