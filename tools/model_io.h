/* model_io.h: what the model-level commands (run, test, info, bench model) share: loading a model
   with a printed error, reading input files, generating inputs, resolving unknown dims, and
   comparing arrays of any dtype. */
#ifndef NNCL_MODEL_IO_H
#define NNCL_MODEL_IO_H

#include "cli.h"

/* Loads an ONNX file; prints "nncl: <path>: ..." and returns NULL on failure. */
nncl_graph *mi_load_model(nncl_context *ctx, const char *path);

/* Reads an input file: ".npy" by extension, else an ONNX TensorProto (.pb). *name (may be NULL)
   gets the TensorProto's name when it has one (free it). */
nncl_status mi_read_array(nncl_context *ctx, const char *path, nncl_array *out, char **name);

/* Graph input i's shape with unknown dims resolved: dim 0 -> batch, others -> 1 (*guessed set
   when any dim was unknown). NNCL_ERR_UNSUPPORTED when the rank itself is unknown. */
nncl_status mi_input_shape(const nncl_graph *g, int i, int64_t batch, nncl_shape *shape,
                           int *guessed);

/* A generated input: uniform floats in [-1, 1) from `seed` for float types, zeros otherwise. */
nncl_status mi_generate(nncl_dtype dt, const nncl_shape *shape, uint32_t seed, nncl_array *out);

/* Element i of an array of any numeric dtype, as a double. */
double mi_get(const nncl_array *a, size_t i);

/* Comparison of a result against an expected array with |got - want| <= atol + rtol * |want|. */
typedef struct mi_compare_result {
  int ok;            /* shapes, dtypes and every element agree */
  char problem[256]; /* why not, when it is not a value mismatch (shape, dtype) */
  double max_abs, max_rel;
  size_t worst; /* index of the element furthest outside the tolerance (or largest error) */
  double got_worst, want_worst;
  size_t n_bad;
} mi_compare_result;
void mi_compare(const nncl_array *got, const nncl_array *want, double rtol, double atol,
                mi_compare_result *r);

/* True when the name ends with the suffix. */
int mi_ends_with(const char *s, const char *suffix);

#endif
