/* model_io.h: what the model-level commands (run, test, info, bench model) share: loading a model
   with a printed error, reading input files, generating inputs, resolving unknown dims, and
   comparing arrays of any dtype. */
#ifndef NNCL_MODEL_IO_H
#define NNCL_MODEL_IO_H

#include "cli.h"

/* Loads an ONNX file; prints "nncl: <path>: ..." and returns NULL on failure. */
nncl_graph *mi_load_model(nncl_context *ctx, const char *path);

/* Reads input file `path` for graph input `slot` and converts it to the input's dtype: .npy
   (float32/64, int8/32/64, uint8, bool; by content, not name) or ONNX TensorProto .pb. Names
   the formats read when given an image or anything else. Prints the reason and returns non-zero
   on failure. */
int mi_read_input(nncl_context *ctx, const nncl_graph *g, int slot, const char *path,
                  nncl_array *out);

/* "'x' float32 [?, 3, 224, 224], 'y' ..." : the graph's inputs, for messages. */
void mi_list_inputs(const nncl_graph *g, char *buf, size_t len);

/* How model commands size the inputs they generate: --shape NAME=D0,D1,... names one input's
   shape; else the model's own dims, its unknown ones filled: the batch dim (mi_batch_axis) with
   --batch (1 when not given), the others with 1. A fixed dim is never overridden
   (nncl_graph_set_input refuses). */
typedef struct mi_sizes {
  int64_t batch; /* --batch N, or 0 when not given */
  const char *shapes[16];
  int n_shapes;
} mi_sizes;
/* The dim --batch fills in a declared input shape: dim 0 when the model leaves it open, else the
   first open dim (a sequence-first [T, N, F] model exported with a symbolic N), -1 when the model
   fixes every dim (it has no batch dim of ours to set or to report). */
int mi_batch_axis(const nncl_shape *declared);
/* Consumes "--batch N" or "--shape NAME=DIMS" at argv[*i]: returns 1 when it did, 0 when argv[*i]
   is neither, -1 after printing why a value is bad. */
int mi_parse_size_option(int argc, char **argv, int *i, mi_sizes *sz, const char *cmd);
/* Checks that every --shape names an input and has its rank, and says (on stderr) when --batch
   applies to no input because the model fixes every dim. Returns non-zero on an error. */
int mi_check_sizes(const nncl_graph *g, const mi_sizes *sz, const char *cmd);
/* Graph input i's shape for generated data (see mi_sizes); *note (may be NULL) gets a few words
   on what was filled in ("" when the declared shape is used as is). NNCL_ERR_UNSUPPORTED when
   the rank is unknown and no --shape gives it. */
nncl_status mi_input_shape(const nncl_graph *g, int i, const mi_sizes *sz, nncl_shape *shape,
                           char *note, size_t note_len);
/* Bytes of an array of this dtype and shape, or 0 when the product overflows 2^62. */
uint64_t mi_checked_bytes(nncl_dtype dt, const nncl_shape *shape);

/* A generated input: uniform floats in [-1, 1) from `seed` for float types, zeros otherwise.
   Prints why and returns non-zero when the shape is too large for the host or for one buffer
   on ctx's device, or memory runs out. */
int mi_generate(nncl_context *ctx, const char *cmd, const char *name, nncl_dtype dt,
                const nncl_shape *shape, uint32_t seed, nncl_array *out);

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
