/* onnx_tensor.c: ONNX TensorProto <-> host arrays: dtype mapping, raw_data / typed fields /
   external data, sparse tensors, and the TensorProto files of the ONNX test layout
   (nncl_onnx_load_tensor / nncl_onnx_save_tensor). Every size is checked against the shape
   before anything is allocated, so a hostile file cannot make us allocate more than it holds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"
#include "runtime.h"

/* ONNX TensorProto.DataType values (onnx.proto); named here because the generated enum covers
   only the proto's own spelling. */
enum {
  OT_UNDEFINED = 0,
  OT_FLOAT = 1,
  OT_UINT8 = 2,
  OT_INT8 = 3,
  OT_UINT16 = 4,
  OT_INT16 = 5,
  OT_INT32 = 6,
  OT_INT64 = 7,
  OT_STRING = 8,
  OT_BOOL = 9,
  OT_FLOAT16 = 10,
  OT_DOUBLE = 11,
  OT_UINT32 = 12,
  OT_UINT64 = 13,
  OT_COMPLEX64 = 14,
  OT_COMPLEX128 = 15,
  OT_BFLOAT16 = 16
};

int32_t onnx_dtype_from_nncl(nncl_dtype dt) {
  switch (dt) {
  case NNCL_FLOAT32: return OT_FLOAT;
  case NNCL_FLOAT16: return OT_FLOAT16;
  case NNCL_INT8: return OT_INT8;
  case NNCL_UINT8: return OT_UINT8;
  case NNCL_BOOL: return OT_BOOL;
  case NNCL_INT32: return OT_INT32;
  case NNCL_INT64: return OT_INT64;
  default: return OT_UNDEFINED;
  }
}

const char *onnx_dtype_name(int32_t t) {
  static const char *const names[] = {"undefined",  "float",   "uint8",  "int8",   "uint16",
                                      "int16",      "int32",   "int64",  "string", "bool",
                                      "float16",    "double",  "uint32", "uint64", "complex64",
                                      "complex128", "bfloat16"};
  if (t >= 0 && t < (int32_t)(sizeof names / sizeof *names)) return names[t];
  return "unknown";
}

static int host_is_little_endian(void) {
  const uint16_t one = 1;
  unsigned char b;
  memcpy(&b, &one, 1);
  return b == 1;
}

/* raw_data and external data are little-endian; swap each element on big-endian hosts. */
static void le_to_host(void *data, size_t n, size_t esize) {
  if (esize <= 1 || host_is_little_endian()) return;
  unsigned char *p = data;
  for (size_t i = 0; i < n; i++, p += esize)
    for (size_t a = 0, b = esize - 1; a < b; a++, b--) {
      unsigned char t = p[a];
      p[a] = p[b];
      p[b] = t;
    }
}

/* Shape from TensorProto dims with rank, sign and overflow checks; *numel gets the element count. */
static nncl_status dims_to_shape(nncl_context *ctx, const int64_t *dims, size_t n_dims,
                                 size_t esize, const char *where, nncl_shape *shape,
                                 size_t *numel) {
  if (n_dims > NNCL_MAX_RANK)
    return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: rank %zu exceeds nncl's maximum %d", where,
                       n_dims, NNCL_MAX_RANK);
  memset(shape, 0, sizeof *shape);
  shape->rank = (int)n_dims;
  size_t n = 1;
  for (size_t i = 0; i < n_dims; i++) {
    if (dims[i] < 0)
      return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: dimension %zu is negative (%lld)", where, i,
                         (long long)dims[i]);
    shape->dims[i] = dims[i];
  }
  /* A zero dim makes the whole tensor empty, whatever the others say. */
  for (size_t i = 0; i < n_dims; i++)
    if (dims[i] == 0) n = 0;
  if (n) {
    for (size_t i = 0; i < n_dims; i++) {
      if ((uint64_t)dims[i] > (SIZE_MAX / esize) / n)
        return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: element count overflows (dims too large)",
                           where);
      n *= (size_t)dims[i];
    }
  }
  *numel = n;
  return NNCL_OK;
}

/* True when `loc` is a relative path that stays inside its folder (no "..", not absolute). */
static int location_is_safe(const char *loc) {
  if (!*loc || loc[0] == '/' || loc[0] == '\\') return 0;
  const char *p = loc;
  while (*p) {
    const char *e = p;
    while (*e && *e != '/' && *e != '\\') e++;
    if (e - p == 2 && p[0] == '.' && p[1] == '.') return 0;
    p = *e ? e + 1 : e;
  }
  return 1;
}

static int parse_u64(const char *s, uint64_t *out) {
  if (!s || !*s || *s == '-' || *s == '+') return 0;
  errno = 0;
  char *end = NULL;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end) return 0;
  *out = v;
  return 1;
}

/* Opens the file of an external-data tensor positioned at its data, after checking the location,
   offset and length against the tensor's `bytes` and the file's real size (so nothing is
   allocated for data the file does not hold). */
static nncl_status open_external(nncl_context *ctx, const Onnx__TensorProto *t,
                                 const char *base_dir, const char *where, size_t bytes,
                                 FILE **out) {
  *out = NULL;
  const char *location = NULL, *offset_s = NULL, *length_s = NULL;
  for (size_t i = 0; i < t->n_external_data; i++) {
    const Onnx__StringStringEntryProto *e = t->external_data[i];
    if (!e || !e->key) continue;
    if (strcmp(e->key, "location") == 0)
      location = e->value;
    else if (strcmp(e->key, "offset") == 0)
      offset_s = e->value;
    else if (strcmp(e->key, "length") == 0)
      length_s = e->value;
  }
  if (!location)
    return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: external data without a location", where);
  if (!location_is_safe(location))
    return nncl__error(ctx, NNCL_ERR_FORMAT,
                       "%s: external data location \"%s\" leaves the model's folder", where,
                       location);
  uint64_t offset = 0, length = bytes;
  if (offset_s && !parse_u64(offset_s, &offset))
    return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: external data offset \"%s\" is not a number",
                       where, offset_s);
  if (length_s && !parse_u64(length_s, &length))
    return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: external data length \"%s\" is not a number",
                       where, length_s);
  if (length != bytes)
    return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: external data length %llu, expected %zu bytes",
                       where, (unsigned long long)length, bytes);
  if (!base_dir)
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT,
                       "%s: external data \"%s\" needs the model's folder (base_dir is NULL)",
                       where, location);
  size_t plen = strlen(base_dir) + strlen(location) + 2;
  char *path = malloc(plen);
  if (!path) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s: external data path", where);
  snprintf(path, plen, "%s/%s", base_dir, location);
  FILE *f = NULL;
  uint64_t size = 0;
  /* location_is_safe refused ".." and absolute paths; a symbolic link beside the model may still
     point anywhere, so the resolved path must stay inside the model's folder too. */
  nncl_status st = nncl__path_inside(ctx, path, base_dir, where);
  if (st == NNCL_OK) st = nncl__open_regular(ctx, path, where, &f, &size);
  if (st != NNCL_OK) {
  } else if (offset > size || bytes > size - offset) {
    st = nncl__error(ctx, NNCL_ERR_FORMAT,
                     "%s: external data %s holds %llu bytes, the tensor needs %zu at offset %llu",
                     where, path, (unsigned long long)size, bytes, (unsigned long long)offset);
  } else if (fseeko(f, (off_t)offset, SEEK_SET) != 0) {
    st = nncl__error(ctx, NNCL_ERR_IO, "%s: seeking in external data %s failed", where, path);
  }
  free(path);
  if (st != NNCL_OK) {
    if (f) fclose(f);
    return st;
  }
  *out = f;
  return NNCL_OK;
}

static void *onnx_alloc(void *unused, size_t size) {
  (void)unused;
  if (size < ONNX_TAKE_MIN_BYTES) return malloc(size);
  if (size > SIZE_MAX - NNCL_ARRAY_ALIGN) return NULL;
  size_t padded = (size + NNCL_ARRAY_ALIGN - 1) / NNCL_ARRAY_ALIGN * NNCL_ARRAY_ALIGN;
  unsigned char *p = aligned_alloc(NNCL_ARRAY_ALIGN, padded);
  if (p) memset(p + size, 0, padded - size); /* protobuf-c fills [0, size) */
  return p;
}

static void onnx_free(void *unused, void *p) {
  (void)unused;
  free(p);
}

ProtobufCAllocator *onnx_allocator(void) {
  /* a table of two functions, no state: every unpack may share it */
  static ProtobufCAllocator a = {onnx_alloc, onnx_free, NULL};
  return &a;
}

nncl_status onnx_tensor_to_array(nncl_context *ctx, Onnx__TensorProto *t, const char *base_dir,
                                 const char *where, nncl_array *out) {
  memset(out, 0, sizeof *out);
  if (!t) return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: missing tensor", where);
  int32_t ot = t->has_data_type ? t->data_type : OT_UNDEFINED;
  nncl_dtype dt = nncl__dtype_from_onnx(ot);
  if (dt == NNCL_UNDEFINED)
    return nncl__error(ctx, ot == OT_UNDEFINED ? NNCL_ERR_FORMAT : NNCL_ERR_DTYPE,
                       "%s: element type %s (%d) is not supported", where, onnx_dtype_name(ot),
                       (int)ot);
  if (t->segment)
    return nncl__error(ctx, NNCL_ERR_UNSUPPORTED, "%s: segmented tensors are not supported", where);
  size_t esize = nncl_dtype_size(dt), numel = 0;
  nncl_shape shape;
  NNCL_TRY(dims_to_shape(ctx, t->dims, t->n_dims, esize, where, &shape, &numel));
  size_t bytes = numel * esize;
  int external =
      t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;

  /* Decide where the data is and check its size before allocating. */
  size_t typed_n = 0;
  const char *typed_name = NULL;
  switch (dt) {
  case NNCL_FLOAT32:
    typed_n = t->n_float_data;
    typed_name = "float_data";
    break;
  case NNCL_INT64:
    typed_n = t->n_int64_data;
    typed_name = "int64_data";
    break;
  default:
    typed_n = t->n_int32_data;
    typed_name = "int32_data";
    break;
  }
  if (external) {
    if (t->has_raw_data || typed_n)
      return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: external tensor also carries inline data",
                         where);
  } else if (t->has_raw_data) {
    if (typed_n)
      return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: both raw_data and %s are set", where,
                         typed_name);
    if (t->raw_data.len != bytes)
      return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: raw_data holds %zu bytes, %s %s needs %zu",
                         where, t->raw_data.len, nncl_dtype_name(dt),
                         nncl_shape_format(&shape, (char[96]){0}, 96), bytes);
  } else if (typed_n != numel) {
    return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: %s holds %zu values, %s %s needs %zu", where,
                       typed_name, typed_n, nncl_dtype_name(dt),
                       nncl_shape_format(&shape, (char[96]){0}, 96), numel);
  }

  /* raw_data that onnx_alloc aligned and padded is already an array's block: the array takes it
     (a 46 MB ResNet-18 then costs one copy out of the file instead of three passes). */
  if (t->has_raw_data && bytes >= ONNX_TAKE_MIN_BYTES &&
      (uintptr_t)t->raw_data.data % NNCL_ARRAY_ALIGN == 0) {
    out->dtype = dt;
    out->shape = shape;
    out->data = t->raw_data.data;
    t->raw_data.data = NULL; /* protobuf-c's free skips it */
    t->raw_data.len = 0;
    le_to_host(out->data, numel, esize);
    return NNCL_OK;
  }
  FILE *ext = NULL;
  if (external) NNCL_TRY(open_external(ctx, t, base_dir, where, bytes, &ext));
  if (nncl_array_alloc(out, dt, &shape) != NNCL_OK) {
    if (ext) fclose(ext);
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s: %zu bytes", where, bytes);
  }
  nncl_status st = NNCL_OK;
  if (ext) {
    if (fread(out->data, 1, bytes, ext) != bytes)
      st = nncl__error(ctx, NNCL_ERR_IO, "%s: reading external data failed", where);
    fclose(ext);
    le_to_host(out->data, numel, esize);
  } else if (t->has_raw_data) {
    if (bytes) memcpy(out->data, t->raw_data.data, bytes);
    le_to_host(out->data, numel, esize);
  } else if (dt == NNCL_FLOAT32) {
    if (bytes) memcpy(out->data, t->float_data, bytes);
  } else if (dt == NNCL_INT64) {
    if (bytes) memcpy(out->data, t->int64_data, bytes);
  } else if (dt == NNCL_INT32) {
    if (bytes) memcpy(out->data, t->int32_data, bytes);
  } else if (dt == NNCL_FLOAT16) {
    /* float16 values travel as their bit patterns in the low 16 bits of int32_data. */
    uint16_t *d = out->data;
    for (size_t i = 0; i < numel; i++) d[i] = (uint16_t)(uint32_t)t->int32_data[i];
  } else if (dt == NNCL_BOOL) {
    uint8_t *d = out->data;
    for (size_t i = 0; i < numel; i++) d[i] = t->int32_data[i] != 0;
  } else { /* int8, uint8 */
    uint8_t *d = out->data;
    for (size_t i = 0; i < numel; i++) d[i] = (uint8_t)t->int32_data[i];
  }
  if (st != NNCL_OK) nncl_array_free(out);
  return st;
}

nncl_status onnx_sparse_to_array(nncl_context *ctx, const Onnx__SparseTensorProto *s,
                                 const char *base_dir, const char *where, nncl_array *out) {
  memset(out, 0, sizeof *out);
  if (!s || !s->values || !s->indices)
    return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: sparse tensor lacks values or indices", where);
  nncl_array values = {0}, indices = {0};
  nncl_status st = onnx_tensor_to_array(ctx, s->values, base_dir, where, &values);
  if (st == NNCL_OK) st = onnx_tensor_to_array(ctx, s->indices, base_dir, where, &indices);
  nncl_shape shape;
  size_t numel = 0, esize = nncl_dtype_size(values.dtype);
  if (st == NNCL_OK)
    st = dims_to_shape(ctx, s->dims, s->n_dims, esize ? esize : 1, where, &shape, &numel);
  int64_t nnz = values.data ? nncl_shape_numel(&values.shape) : 0;
  if (st == NNCL_OK && values.shape.rank != 1)
    st = nncl__error(ctx, NNCL_ERR_FORMAT, "%s: sparse values must be 1-D", where);
  if (st == NNCL_OK && indices.dtype != NNCL_INT64)
    st = nncl__error(ctx, NNCL_ERR_FORMAT, "%s: sparse indices must be int64", where);
  /* Indices are either [NNZ] linear positions or [NNZ, rank] coordinates. */
  int coords = 0;
  if (st == NNCL_OK) {
    if (indices.shape.rank == 1 && indices.shape.dims[0] == nnz)
      coords = 0;
    else if (indices.shape.rank == 2 && indices.shape.dims[0] == nnz &&
             indices.shape.dims[1] == shape.rank)
      coords = 1;
    else
      st = nncl__error(ctx, NNCL_ERR_FORMAT, "%s: sparse indices shape does not match %lld values",
                       where, (long long)nnz);
  }
  /* The dense size is not bounded by the file: cap it so a tiny file cannot demand terabytes. */
  if (st == NNCL_OK && numel > ONNX_MAX_SPARSE_DENSE_BYTES / (esize ? esize : 1))
    st = nncl__error(ctx, NNCL_ERR_UNSUPPORTED,
                     "%s: the dense form of this sparse tensor exceeds %zu bytes", where,
                     (size_t)ONNX_MAX_SPARSE_DENSE_BYTES);
  if (st == NNCL_OK && nncl_array_alloc(out, values.dtype, &shape) != NNCL_OK)
    st = nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s: dense copy of a sparse tensor", where);
  const int64_t *idx = indices.data;
  for (int64_t i = 0; st == NNCL_OK && i < nnz; i++) {
    int64_t lin = 0;
    if (coords) {
      for (int d = 0; d < shape.rank; d++) {
        int64_t c = idx[i * shape.rank + d];
        if (c < 0 || c >= shape.dims[d]) {
          lin = -1;
          break;
        }
        lin = lin * shape.dims[d] + c;
      }
    } else {
      lin = idx[i];
    }
    if (lin < 0 || (uint64_t)lin >= numel) {
      st = nncl__error(ctx, NNCL_ERR_FORMAT, "%s: sparse index %lld is out of range", where,
                       (long long)i);
      break;
    }
    memcpy((char *)out->data + (size_t)lin * esize, (char *)values.data + (size_t)i * esize, esize);
  }
  if (st != NNCL_OK) nncl_array_free(out);
  nncl_array_free(&values);
  nncl_array_free(&indices);
  return st;
}

nncl_status onnx_read_file(nncl_context *ctx, const char *path, void **bytes, size_t *len) {
  *bytes = NULL;
  *len = 0;
  FILE *f;
  uint64_t size;
  NNCL_TRY(nncl__open_regular(ctx, path, "model", &f, &size));
  if (size > ONNX_MAX_FILE_BYTES) {
    fclose(f);
    return nncl__error(ctx, NNCL_ERR_FORMAT, "%s: %llu bytes is more than a protobuf file may hold",
                       path, (unsigned long long)size);
  }
  size_t n = (size_t)size;
  char *buf = malloc(n + 1);
  if (!buf) {
    fclose(f);
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s: %zu bytes", path, n);
  }
  if (fread(buf, 1, n, f) != n) {
    fclose(f);
    free(buf);
    return nncl__error(ctx, NNCL_ERR_IO, "%s: read failed", path);
  }
  fclose(f);
  buf[n] = 0;
  *bytes = buf;
  *len = n;
  return NNCL_OK;
}

/* Folder part of path ("." when it has none); malloc'ed. */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return strdup(".");
  size_t n = slash == path ? 1 : (size_t)(slash - path);
  char *d = malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, path, n);
  d[n] = 0;
  return d;
}

nncl_status nncl_onnx_load_tensor(nncl_context *ctx, const char *path, nncl_array *out,
                                  char **name) {
  if (name) *name = NULL;
  if (!path || !out)
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "nncl_onnx_load_tensor: NULL argument");
  memset(out, 0, sizeof *out);
  void *bytes = NULL;
  size_t len = 0;
  NNCL_TRY(onnx_read_file(ctx, path, &bytes, &len));
  char why[256];
  nncl_status st = NNCL_OK;
  Onnx__TensorProto *t = NULL;
  if (onnx_wire_check(&onnx__tensor_proto__descriptor, bytes, len, why, sizeof why) != 0) {
    st = nncl__error(ctx, NNCL_ERR_FORMAT, "%s: not a valid TensorProto: %s", path, why);
  } else {
    t = onnx__tensor_proto__unpack(onnx_allocator(), len, bytes);
    if (!t)
      st = nncl__error(ctx, NNCL_ERR_FORMAT,
                       "%s: not a valid TensorProto (protobuf decoding failed)", path);
  }
  char *dir = st == NNCL_OK ? dir_of(path) : NULL;
  if (st == NNCL_OK && !dir) st = nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s", path);
  if (st == NNCL_OK) {
    size_t wlen = strlen(path) + 8;
    char *where = malloc(wlen);
    if (!where) {
      st = nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s", path);
    } else {
      snprintf(where, wlen, "%s", path);
      st = onnx_tensor_to_array(ctx, t, dir, where, out);
      free(where);
    }
  }
  if (st == NNCL_OK && name && t->name && *t->name) {
    *name = strdup(t->name);
    if (!*name) {
      nncl_array_free(out);
      st = nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s: tensor name", path);
    }
  }
  free(dir);
  if (t) onnx__tensor_proto__free_unpacked(t, onnx_allocator());
  free(bytes);
  return st;
}

nncl_status nncl_onnx_save_tensor(nncl_context *ctx, const char *path, const nncl_array *a,
                                  const char *name) {
  if (!path || !a || (!a->data && nncl_array_bytes(a)))
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "nncl_onnx_save_tensor: NULL argument");
  int32_t ot = onnx_dtype_from_nncl(a->dtype);
  if (ot == OT_UNDEFINED)
    return nncl__error(ctx, NNCL_ERR_DTYPE, "%s: cannot save dtype %s", path,
                       nncl_dtype_name(a->dtype));
  if (a->shape.rank < 0 || a->shape.rank > NNCL_MAX_RANK)
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "%s: rank %d", path, a->shape.rank);
  Onnx__TensorProto t;
  onnx__tensor_proto__init(&t);
  int64_t dims[NNCL_MAX_RANK];
  for (int i = 0; i < a->shape.rank; i++) dims[i] = a->shape.dims[i];
  t.n_dims = (size_t)a->shape.rank;
  t.dims = dims;
  t.has_data_type = 1;
  t.data_type = ot;
  t.name = (char *)(name ? name : "");
  size_t bytes = nncl_array_bytes(a);
  void *le = NULL;
  if (!host_is_little_endian() && nncl_dtype_size(a->dtype) > 1) {
    le = malloc(bytes ? bytes : 1);
    if (!le) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s", path);
    memcpy(le, a->data, bytes);
    le_to_host(le, bytes / nncl_dtype_size(a->dtype), nncl_dtype_size(a->dtype));
  }
  t.has_raw_data = 1;
  t.raw_data.len = bytes;
  t.raw_data.data = le ? le : a->data;
  size_t n = onnx__tensor_proto__get_packed_size(&t);
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) {
    free(le);
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "%s: %zu bytes", path, n);
  }
  onnx__tensor_proto__pack(&t, buf);
  free(le);
  nncl_status st = NNCL_OK;
  FILE *f = fopen(path, "wb");
  if (!f) {
    st = nncl__error(ctx, NNCL_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
  } else {
    if (fwrite(buf, 1, n, f) != n) st = nncl__error(ctx, NNCL_ERR_IO, "%s: write failed", path);
    if (fclose(f) != 0 && st == NNCL_OK)
      st = nncl__error(ctx, NNCL_ERR_IO, "%s: write failed", path);
  }
  free(buf);
  return st;
}
