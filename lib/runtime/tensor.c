/* tensor.c: dtypes, shapes, host arrays and device tensors. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

struct nncl_tensor {
  nncl_context *ctx;
  nncl_dtype dtype;
  nncl_shape shape;
  size_t bytes;
  cl_mem mem;
};

const char *nncl_dtype_name(nncl_dtype t) {
  switch (t) {
#define NNCL_X_CASE(id, name, size)                                                                \
  case id: return name;
    NNCL_DTYPE_LIST(NNCL_X_CASE)
#undef NNCL_X_CASE
  default: return "invalid";
  }
}

nncl_dtype nncl__dtype_from_onnx(int64_t code) {
  switch (code) {
  case 1: return NNCL_FLOAT32;
  case 2: return NNCL_UINT8;
  case 3: return NNCL_INT8;
  case 6: return NNCL_INT32;
  case 7: return NNCL_INT64;
  case 9: return NNCL_BOOL;
  case 10: return NNCL_FLOAT16;
  default: return NNCL_UNDEFINED;
  }
}

size_t nncl_dtype_size(nncl_dtype t) {
  switch (t) {
#define NNCL_X_CASE(id, name, size)                                                                \
  case id: return size;
    NNCL_DTYPE_LIST(NNCL_X_CASE)
#undef NNCL_X_CASE
  default: return 0;
  }
}

int64_t nncl__shape_numel_checked(const nncl_shape *s, size_t elem_size) {
  if (!s || s->rank < 0 || s->rank > NNCL_MAX_RANK) return -1;
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++)
    if (s->dims[i] < 0 || !nncl__mul_ok(n, s->dims[i], &n)) return -1;
  int64_t bytes;
  if (!nncl__mul_ok(n, elem_size ? (int64_t)elem_size : 1, &bytes) || bytes > NNCL__MAX_BYTES)
    return -1;
  return n;
}

nncl_status nncl__shape_check(nncl_context *ctx, nncl_status status, const nncl_shape *s,
                              nncl_dtype dtype, const char *what) {
  if (nncl__shape_numel_checked(s, nncl_dtype_size(dtype)) >= 0) return NNCL_OK;
  if (!s) return nncl__error(ctx, status, "%s: no shape given", what);
  if (s->rank < 0 || s->rank > NNCL_MAX_RANK)
    return nncl__error(ctx, status, "%s: rank %d is outside 0..%d", what, s->rank, NNCL_MAX_RANK);
  char sb[256];
  nncl_shape_format(s, sb, sizeof sb);
  for (int i = 0; i < s->rank; i++)
    if (s->dims[i] < 0)
      return nncl__error(ctx, status, "%s: shape %s has a negative dim at axis %d", what, sb, i);
  return nncl__error(ctx, status, "%s: shape %s of %s holds more than 2^62 bytes", what, sb,
                     nncl_dtype_name(dtype));
}

/* -1 for a NULL or invalid shape and for an element count beyond 2^62 (see checked.h). */
int64_t nncl_shape_numel(const nncl_shape *s) { return nncl__shape_numel_checked(s, 0); }

char *nncl_shape_format(const nncl_shape *s, char *buf, size_t len) {
  size_t used = 0;
  if (!buf || !len) return buf;
  buf[0] = 0;
  if (!s) {
    snprintf(buf, len, "(null)");
    return buf;
  }
  int w = snprintf(buf, len, "[");
  used = w > 0 ? (size_t)w : 0;
  /* a rank outside 0..8 is shown, never followed past the dims array */
  int rank = s->rank < 0 ? 0 : s->rank > NNCL_MAX_RANK ? NNCL_MAX_RANK : s->rank;
  for (int i = 0; i < rank && used < len; i++) {
    w = snprintf(buf + used, len - used, "%s%lld", i ? ", " : "", (long long)s->dims[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
  if (used < len && rank != s->rank)
    snprintf(buf + used, len - used, "] (rank %d)", s->rank);
  else if (used < len)
    snprintf(buf + used, len - used, "]");
  return buf;
}

nncl_status nncl_array_alloc(nncl_array *a, nncl_dtype dtype, const nncl_shape *shape) {
  if (!a || nncl_dtype_size(dtype) == 0) return NNCL_ERR_INVALID_ARGUMENT;
  int64_t n = nncl__shape_numel_checked(shape, nncl_dtype_size(dtype));
  if (n < 0)
    return shape && shape->rank >= 0 && shape->rank <= NNCL_MAX_RANK ? NNCL_ERR_SHAPE
                                                                     : NNCL_ERR_INVALID_ARGUMENT;
  a->dtype = dtype;
  a->shape = *shape;
  size_t bytes = (size_t)n * nncl_dtype_size(dtype);
  /* aligned so that a host-unified device can use the data in place (nncl__buffer_over_host) */
  if (bytes > SIZE_MAX - NNCL_ARRAY_ALIGN) return NNCL_ERR_OUT_OF_HOST_MEMORY;
  size_t padded = (bytes + NNCL_ARRAY_ALIGN - 1) / NNCL_ARRAY_ALIGN * NNCL_ARRAY_ALIGN;
  a->data = aligned_alloc(NNCL_ARRAY_ALIGN, padded ? padded : NNCL_ARRAY_ALIGN);
  if (a->data) memset(a->data, 0, padded ? padded : NNCL_ARRAY_ALIGN);
  return a->data ? NNCL_OK : NNCL_ERR_OUT_OF_HOST_MEMORY;
}

void nncl_array_free(nncl_array *a) {
  if (!a) return;
  free(a->data);
  a->data = NULL;
}

size_t nncl_array_bytes(const nncl_array *a) {
  int64_t n = a ? nncl__shape_numel_checked(&a->shape, nncl_dtype_size(a->dtype)) : -1;
  return n < 0 ? 0 : (size_t)n * nncl_dtype_size(a->dtype);
}

nncl_status nncl_tensor_create(nncl_context *ctx, nncl_dtype dtype, const nncl_shape *shape,
                               nncl_tensor **out) {
  if (!out) return NNCL_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!ctx) return NNCL_ERR_INVALID_ARGUMENT;
  NNCL_TRY(nncl__context_check_alive(ctx, "tensor create"));
  if (nncl_dtype_size(dtype) == 0)
    return nncl__error(ctx, NNCL_ERR_DTYPE, "tensor dtype %d is not a storable type", (int)dtype);
  NNCL_TRY(nncl__shape_check(ctx,
                             shape && shape->rank >= 0 && shape->rank <= NNCL_MAX_RANK
                                 ? NNCL_ERR_SHAPE
                                 : NNCL_ERR_INVALID_ARGUMENT,
                             shape, dtype, "tensor"));
  nncl_tensor *t = calloc(1, sizeof *t);
  if (!t) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "tensor");
  t->ctx = ctx;
  nncl__context_retain(ctx);
  t->dtype = dtype;
  t->shape = *shape;
  t->bytes = nncl_array_bytes(&(nncl_array){.dtype = dtype, .shape = *shape});
  char sb[128];
  char what[192];
  snprintf(what, sizeof what, "tensor %s %s", nncl_dtype_name(dtype),
           nncl_shape_format(shape, sb, sizeof sb));
  nncl_status st = nncl__buffer_create(ctx, t->bytes, what, &t->mem);
  if (st != NNCL_OK) {
    nncl__context_release(ctx);
    free(t);
    return st;
  }
  *out = t;
  return NNCL_OK;
}

void nncl_tensor_destroy(nncl_tensor *t) {
  if (!t) return;
  nncl__buffer_release(t->mem);
  nncl__context_release(t->ctx);
  free(t);
}

nncl_status nncl_tensor_write(nncl_tensor *t, const void *host, size_t bytes) {
  if (!t || (!host && bytes)) return NNCL_ERR_INVALID_ARGUMENT;
  NNCL_TRY(nncl__context_check_alive(t->ctx, "tensor write"));
  if (bytes != t->bytes)
    return nncl__error(t->ctx, NNCL_ERR_SHAPE,
                       "tensor write of %zu bytes into a tensor of %zu bytes", bytes, t->bytes);
  return nncl__buffer_upload(t->ctx, t->mem, 0, host, bytes);
}

nncl_status nncl_tensor_read(const nncl_tensor *t, void *host, size_t bytes) {
  if (!t || (!host && bytes)) return NNCL_ERR_INVALID_ARGUMENT;
  NNCL_TRY(nncl__context_check_alive(t->ctx, "tensor read"));
  if (bytes != t->bytes)
    return nncl__error(t->ctx, NNCL_ERR_SHAPE,
                       "tensor read of %zu bytes from a tensor of %zu bytes", bytes, t->bytes);
  return nncl__buffer_download(t->ctx, t->mem, 0, host, bytes);
}

const nncl_shape *nncl_tensor_shape(const nncl_tensor *t) { return t ? &t->shape : NULL; }
nncl_dtype nncl_tensor_dtype(const nncl_tensor *t) { return t ? t->dtype : NNCL_UNDEFINED; }
size_t nncl_tensor_bytes(const nncl_tensor *t) { return t ? t->bytes : 0; }
cl_mem nncl__tensor_mem(const nncl_tensor *t) { return t ? t->mem : NULL; }

nncl_status nncl_tensor_from_array(nncl_context *ctx, const nncl_array *a, nncl_tensor **out) {
  if (!a || !out) return NNCL_ERR_INVALID_ARGUMENT;
  NNCL_TRY(nncl_tensor_create(ctx, a->dtype, &a->shape, out));
  nncl_status st = nncl_tensor_write(*out, a->data, nncl_array_bytes(a));
  if (st != NNCL_OK) {
    nncl_tensor_destroy(*out);
    *out = NULL;
  }
  return st;
}

nncl_status nncl_tensor_to_array(const nncl_tensor *t, nncl_array *out) {
  if (!t || !out) return NNCL_ERR_INVALID_ARGUMENT;
  if (nncl_array_alloc(out, t->dtype, &t->shape) != NNCL_OK)
    return nncl__error(t->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "host copy of a tensor");
  nncl_status st = nncl_tensor_read(t, out->data, t->bytes);
  if (st != NNCL_OK) nncl_array_free(out);
  return st;
}
