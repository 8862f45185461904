/* nncl/tensor.h: device tensors, host arrays, and .npy files. */
#ifndef NNCL_TENSOR_H
#define NNCL_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "nncl/context.h"
#include "nncl/export.h"
#include "nncl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NNCL_MAX_RANK 8

/* X-macro: id, name, element size. Room is kept for float16 and int8. */
#define NNCL_DTYPE_LIST(X)                                                                         \
  X(NNCL_UNDEFINED, "undefined", 0)                                                                \
  X(NNCL_FLOAT32, "float32", 4)                                                                    \
  X(NNCL_FLOAT16, "float16", 2)                                                                    \
  X(NNCL_INT8, "int8", 1)                                                                          \
  X(NNCL_UINT8, "uint8", 1)                                                                        \
  X(NNCL_BOOL, "bool", 1)                                                                          \
  X(NNCL_INT32, "int32", 4)                                                                        \
  X(NNCL_INT64, "int64", 8)

typedef enum nncl_dtype {
#define NNCL_X_ENUM(id, name, size) id,
  NNCL_DTYPE_LIST(NNCL_X_ENUM)
#undef NNCL_X_ENUM
      NNCL_DTYPE_COUNT
} nncl_dtype;

NNCL_API const char *nncl_dtype_name(nncl_dtype t);
NNCL_API size_t nncl_dtype_size(nncl_dtype t);

typedef struct nncl_shape {
  int rank;
  int64_t dims[NNCL_MAX_RANK];
} nncl_shape;

/* Element count; -1 when s is NULL, its rank is outside 0..8, a dim is negative (unknown) or the
   count exceeds 2^62 (so it can never wrap). */
NNCL_API int64_t nncl_shape_numel(const nncl_shape *s);
/* Writes e.g. "[1, 3, 224, 224]" into buf; returns buf. "(null)" for a NULL shape; a rank above 8
   shows 8 dims and the rank. */
NNCL_API char *nncl_shape_format(const nncl_shape *s, char *buf, size_t len);

/* A host array: C-order data owned by the array (free with nncl_array_free). nncl_array_alloc
   gives NNCL_ERR_SHAPE for a negative dim or more than 2^62 bytes; nncl_array_bytes is 0 for a NULL
   array or an invalid shape. */
typedef struct nncl_array {
  nncl_dtype dtype;
  nncl_shape shape;
  void *data;
} nncl_array;

NNCL_API nncl_status nncl_array_alloc(nncl_array *a, nncl_dtype dtype, const nncl_shape *shape);
NNCL_API void nncl_array_free(nncl_array *a);
NNCL_API size_t nncl_array_bytes(const nncl_array *a);

/* .npy files (format 1.0-3.0): float32 or int64, little-endian, C order. Other dtypes, Fortran
   order or a malformed header give NNCL_ERR_FORMAT; ctx (may be NULL) receives the message. */
NNCL_API nncl_status nncl_npy_load(nncl_context *ctx, const char *path, nncl_array *out);
NNCL_API nncl_status nncl_npy_save(nncl_context *ctx, const char *path, const nncl_array *a);
/* Same as nncl_npy_load over bytes in memory. */
NNCL_API nncl_status nncl_npy_parse(nncl_context *ctx, const void *bytes, size_t len,
                                    nncl_array *out);

typedef struct nncl_tensor nncl_tensor;

/* A contiguous (NCHW for images) tensor in device memory. It belongs to its context and must be
   destroyed before it (see nncl_context_destroy). */
NNCL_API nncl_status nncl_tensor_create(nncl_context *ctx, nncl_dtype dtype,
                                        const nncl_shape *shape, nncl_tensor **out);
NNCL_API void nncl_tensor_destroy(nncl_tensor *t);
NNCL_API nncl_status nncl_tensor_write(nncl_tensor *t, const void *host, size_t bytes);
NNCL_API nncl_status nncl_tensor_read(const nncl_tensor *t, void *host, size_t bytes);
NNCL_API const nncl_shape *nncl_tensor_shape(const nncl_tensor *t);
NNCL_API nncl_dtype nncl_tensor_dtype(const nncl_tensor *t);
NNCL_API size_t nncl_tensor_bytes(const nncl_tensor *t);
/* Convenience: a tensor holding a copy of a host array, and the reverse. */
NNCL_API nncl_status nncl_tensor_from_array(nncl_context *ctx, const nncl_array *a,
                                            nncl_tensor **out);
NNCL_API nncl_status nncl_tensor_to_array(const nncl_tensor *t, nncl_array *out);

#ifdef __cplusplus
}
#endif
#endif
