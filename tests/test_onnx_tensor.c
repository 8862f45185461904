/* test_onnx_tensor.c: the ONNX TensorProto reader and writer (test-data .pb files, initializer
   encodings: raw_data, typed fields, external data, sparse) and the wire pre-check, including
   every malformed-input path: each must give a named error, never a crash or a leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_internal.h"
#include "runtime.h"
#include "test_util.h"

#define NODE_DATA "/usr/share/libonnx-testdata/data/node"

static char g_dir[64];

/* A fresh temporary folder per test (removed with its files at the end). */
static const char *tmpdir(void) {
  if (!g_dir[0]) {
    snprintf(g_dir, sizeof g_dir, "/tmp/nncl_onnx_tensor_XXXXXX");
    cr_assert(mkdtemp(g_dir), "mkdtemp");
  }
  return g_dir;
}

static void cleanup(void) {
  if (!g_dir[0]) return;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  cr_assert_eq(system(cmd), 0);
  g_dir[0] = 0;
}

static void write_file(const char *path, const void *bytes, size_t len) {
  FILE *f = fopen(path, "wb");
  cr_assert(f, "cannot write %s", path);
  cr_assert_eq(fwrite(bytes, 1, len, f), len);
  fclose(f);
}

/* Packs a TensorProto into DIR/name and returns the path (static buffer). */
static const char *write_proto(const Onnx__TensorProto *t, const char *name) {
  static char path[256];
  snprintf(path, sizeof path, "%s/%s", tmpdir(), name);
  size_t n = onnx__tensor_proto__get_packed_size(t);
  uint8_t *buf = malloc(n + 1);
  onnx__tensor_proto__pack(t, buf);
  write_file(path, buf, n);
  free(buf);
  return path;
}

static nncl_status load(const char *path, nncl_array *a) {
  return nncl_onnx_load_tensor(tu_ctx(), path, a, NULL);
}

static void assert_error(nncl_status got, nncl_status want, const char *needle) {
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert_eq(got, want, "status %s, expected %s (%s)", nncl_status_name(got),
               nncl_status_name(want), msg);
  cr_assert(strstr(msg, needle), "message \"%s\" lacks \"%s\"", msg, needle);
}

TestSuite(onnx_tensor, .fini = cleanup);

Test(onnx_tensor, save_load_roundtrip_every_dtype) {
  const nncl_dtype dts[] = {NNCL_FLOAT32, NNCL_FLOAT16, NNCL_INT8, NNCL_UINT8,
                            NNCL_BOOL,    NNCL_INT32,   NNCL_INT64};
  for (size_t k = 0; k < sizeof dts / sizeof *dts; k++) {
    nncl_shape s = {3, {2, 3, 5}};
    nncl_array a;
    cr_assert_eq(nncl_array_alloc(&a, dts[k], &s), NNCL_OK);
    unsigned char *p = a.data;
    for (size_t i = 0; i < nncl_array_bytes(&a); i++) p[i] = (unsigned char)(i * 37 + k);
    if (dts[k] == NNCL_BOOL)
      for (size_t i = 0; i < nncl_array_bytes(&a); i++) p[i] &= 1;
    char path[256];
    snprintf(path, sizeof path, "%s/t%zu.pb", tmpdir(), k);
    cr_assert_eq(nncl_onnx_save_tensor(tu_ctx(), path, &a, "x_name"), NNCL_OK, "%s",
                 nncl_context_last_error(tu_ctx()));
    nncl_array b;
    char *name = NULL;
    cr_assert_eq(nncl_onnx_load_tensor(tu_ctx(), path, &b, &name), NNCL_OK, "%s",
                 nncl_context_last_error(tu_ctx()));
    cr_assert_eq(b.dtype, dts[k]);
    cr_assert_eq(b.shape.rank, 3);
    cr_assert(b.shape.dims[0] == 2 && b.shape.dims[1] == 3 && b.shape.dims[2] == 5);
    cr_assert_eq(memcmp(a.data, b.data, nncl_array_bytes(&a)), 0, "%s data differs",
                 nncl_dtype_name(dts[k]));
    cr_assert_str_eq(name, "x_name");
    free(name);
    nncl_array_free(&a);
    nncl_array_free(&b);
  }
}

Test(onnx_tensor, scalar_and_empty_tensors) {
  nncl_shape s0 = {0, {0}}, se = {2, {3, 0}};
  nncl_array a, b;
  cr_assert_eq(nncl_array_alloc(&a, NNCL_FLOAT32, &s0), NNCL_OK);
  *(float *)a.data = 2.5f;
  char path[256];
  snprintf(path, sizeof path, "%s/scalar.pb", tmpdir());
  cr_assert_eq(nncl_onnx_save_tensor(tu_ctx(), path, &a, NULL), NNCL_OK);
  cr_assert_eq(load(path, &b), NNCL_OK);
  cr_assert_eq(b.shape.rank, 0);
  cr_assert_eq(*(float *)b.data, 2.5f);
  nncl_array_free(&a);
  nncl_array_free(&b);
  cr_assert_eq(nncl_array_alloc(&a, NNCL_INT64, &se), NNCL_OK);
  snprintf(path, sizeof path, "%s/empty.pb", tmpdir());
  cr_assert_eq(nncl_onnx_save_tensor(tu_ctx(), path, &a, "e"), NNCL_OK);
  cr_assert_eq(load(path, &b), NNCL_OK);
  cr_assert(b.shape.rank == 2 && b.shape.dims[0] == 3 && b.shape.dims[1] == 0);
  nncl_array_free(&a);
  nncl_array_free(&b);
}

/* raw_data of ONNX_TAKE_MIN_BYTES or more becomes the array's block as protobuf-c unpacked it
   (no second copy); below that it is copied. Either way the array holds the file's bytes exactly,
   starts on NNCL_ARRAY_ALIGN (so a host-unified device can use it in place) and is zero up to the
   next multiple of it, as nncl_array_alloc's arrays are. Sizes straddle the threshold. */
Test(onnx_tensor, raw_data_arrays_are_aligned_and_exact) {
  const size_t sizes[] = {ONNX_TAKE_MIN_BYTES - 4, ONNX_TAKE_MIN_BYTES, ONNX_TAKE_MIN_BYTES + 4,
                          ONNX_TAKE_MIN_BYTES + 100, (size_t)1 << 20};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
    size_t n = sizes[k] / sizeof(float);
    float *f = malloc(n * sizeof *f);
    for (size_t i = 0; i < n; i++) f[i] = (float)(i * 2654435761u % 100003) * 0.25f - 7.f;
    int64_t dim = (int64_t)n;
    Onnx__TensorProto t = ONNX__TENSOR_PROTO__INIT;
    t.n_dims = 1, t.dims = &dim, t.has_data_type = 1, t.data_type = 1;
    t.has_raw_data = 1, t.raw_data.len = n * sizeof *f, t.raw_data.data = (uint8_t *)f;
    nncl_array a;
    cr_assert_eq(load(write_proto(&t, "raw.pb"), &a), NNCL_OK, "%s",
                 nncl_context_last_error(tu_ctx()));
    cr_assert_eq(a.dtype, NNCL_FLOAT32);
    cr_assert(a.shape.rank == 1 && a.shape.dims[0] == dim);
    cr_assert_eq((uintptr_t)a.data % NNCL_ARRAY_ALIGN, 0, "%zu bytes: data at %p", sizes[k],
                 a.data);
    const float *g = a.data;
    for (size_t i = 0; i < n; i++)
      cr_assert(memcmp(&g[i], &f[i], sizeof *f) == 0, "%zu bytes: element %zu is %g, not %g",
                sizes[k], i, (double)g[i], (double)f[i]);
    size_t padded = (n * sizeof *f + NNCL_ARRAY_ALIGN - 1) / NNCL_ARRAY_ALIGN * NNCL_ARRAY_ALIGN;
    for (size_t b = n * sizeof *f; b < padded; b++)
      cr_assert_eq(((const unsigned char *)a.data)[b], 0, "%zu bytes: padding byte %zu is not 0",
                   sizes[k], b);
    nncl_array_free(&a);
    free(f);
  }
}

/* The backend-test files: Abs's expected output is |input| element for element. */
Test(onnx_tensor, reads_onnx_node_test_data) {
  nncl_array x, y;
  char *name = NULL;
  cr_assert_eq(
      nncl_onnx_load_tensor(tu_ctx(), NODE_DATA "/test_abs/test_data_set_0/input_0.pb", &x, &name),
      NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_eq(load(NODE_DATA "/test_abs/test_data_set_0/output_0.pb", &y), NNCL_OK);
  cr_assert_eq(x.dtype, NNCL_FLOAT32);
  cr_assert(x.shape.rank == 3 && x.shape.dims[0] == 3 && x.shape.dims[1] == 4 &&
            x.shape.dims[2] == 5);
  cr_assert_str_eq(name, "x");
  free(name);
  int64_t n = nncl_shape_numel(&x.shape);
  cr_assert_eq(n, nncl_shape_numel(&y.shape));
  const float *xs = x.data, *ys = y.data;
  int negatives = 0;
  for (int64_t i = 0; i < n; i++) {
    cr_assert_eq(ys[i], xs[i] < 0 ? -xs[i] : xs[i]);
    negatives += xs[i] < 0;
  }
  cr_assert(negatives > 0 && negatives < n, "test data should mix signs");
  nncl_array_free(&x);
  nncl_array_free(&y);
  /* int64 and bool test data. */
  cr_assert_eq(load(NODE_DATA "/test_argmax_default_axis_example/test_data_set_0/output_0.pb", &y),
               NNCL_OK);
  cr_assert_eq(y.dtype, NNCL_INT64);
  nncl_array_free(&y);
  cr_assert_eq(load(NODE_DATA "/test_and2d/test_data_set_0/input_0.pb", &y), NNCL_OK);
  cr_assert_eq(y.dtype, NNCL_BOOL);
  nncl_array_free(&y);
}

Test(onnx_tensor, typed_fields) {
  int64_t dims[] = {2, 2};
  Onnx__TensorProto t;
  nncl_array a;
  /* float_data */
  float f[] = {1.5f, -2, 3, 4};
  onnx__tensor_proto__init(&t);
  t.n_dims = 2, t.dims = dims, t.has_data_type = 1, t.data_type = 1, t.n_float_data = 4,
  t.float_data = f;
  cr_assert_eq(load(write_proto(&t, "f.pb"), &a), NNCL_OK);
  cr_assert_eq(a.dtype, NNCL_FLOAT32);
  cr_assert_eq(memcmp(a.data, f, sizeof f), 0);
  nncl_array_free(&a);
  /* int64_data */
  int64_t l[] = {-1, 1LL << 40, 0, 7};
  onnx__tensor_proto__init(&t);
  t.n_dims = 2, t.dims = dims, t.has_data_type = 1, t.data_type = 7, t.n_int64_data = 4,
  t.int64_data = l;
  cr_assert_eq(load(write_proto(&t, "l.pb"), &a), NNCL_OK);
  cr_assert_eq(a.dtype, NNCL_INT64);
  cr_assert_eq(memcmp(a.data, l, sizeof l), 0);
  nncl_array_free(&a);
  /* int32_data for float16 (bit patterns), bool, uint8, int8 and int32 */
  int32_t i32[] = {0x3c00, 0xc000, 0, 1};
  const int types[] = {10, 9, 2, 3, 6};
  for (size_t k = 0; k < 5; k++) {
    onnx__tensor_proto__init(&t);
    t.n_dims = 2, t.dims = dims, t.has_data_type = 1, t.data_type = types[k];
    t.n_int32_data = 4, t.int32_data = i32;
    cr_assert_eq(load(write_proto(&t, "i.pb"), &a), NNCL_OK, "%s",
                 nncl_context_last_error(tu_ctx()));
    if (types[k] == 10) {
      const uint16_t *h = a.data;
      cr_assert(h[0] == 0x3c00 && h[1] == 0xc000 && h[3] == 1);
    } else if (types[k] == 6) {
      cr_assert_eq(memcmp(a.data, i32, sizeof i32), 0);
    } else {
      const uint8_t *b = a.data;
      uint8_t want1 = types[k] == 9 ? 1 : 0; /* 0xc000 truncates to 0 except for bool */
      cr_assert(b[0] == (types[k] == 9 ? 1 : 0) && b[1] == want1 && b[2] == 0 && b[3] == 1,
                "type %d: %u %u %u %u", types[k], b[0], b[1], b[2], b[3]);
    }
    nncl_array_free(&a);
  }
}

Test(onnx_tensor, malformed_tensors_are_named_errors) {
  int64_t dims[] = {2, 3};
  float f[6] = {0};
  Onnx__TensorProto t;
  nncl_array a;
  /* value count does not match the shape */
  onnx__tensor_proto__init(&t);
  t.n_dims = 2, t.dims = dims, t.has_data_type = 1, t.data_type = 1, t.n_float_data = 5,
  t.float_data = f;
  assert_error(load(write_proto(&t, "bad.pb"), &a), NNCL_ERR_FORMAT, "float_data holds 5 values");
  cr_assert_null(a.data);
  /* raw_data size mismatch */
  onnx__tensor_proto__init(&t);
  t.n_dims = 2, t.dims = dims, t.has_data_type = 1, t.data_type = 1;
  t.has_raw_data = 1, t.raw_data.len = 20, t.raw_data.data = (uint8_t *)f;
  assert_error(load(write_proto(&t, "bad.pb"), &a), NNCL_ERR_FORMAT, "raw_data holds 20 bytes");
  /* raw and typed at once */
  t.raw_data.len = 24, t.n_float_data = 6, t.float_data = f;
  assert_error(load(write_proto(&t, "bad.pb"), &a), NNCL_ERR_FORMAT,
               "both raw_data and float_data");
  /* negative dim */
  int64_t neg[] = {2, -3};
  onnx__tensor_proto__init(&t);
  t.n_dims = 2, t.dims = neg, t.has_data_type = 1, t.data_type = 1;
  assert_error(load(write_proto(&t, "bad.pb"), &a), NNCL_ERR_FORMAT, "negative");
  /* rank above nncl's maximum */
  int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  t.n_dims = 9, t.dims = nine;
  assert_error(load(write_proto(&t, "bad.pb"), &a), NNCL_ERR_FORMAT, "rank 9");
  /* element count overflow */
  int64_t huge[] = {1LL << 40, 1LL << 40};
  t.n_dims = 2, t.dims = huge;
  assert_error(load(write_proto(&t, "bad.pb"), &a), NNCL_ERR_FORMAT, "overflows");
  /* unsupported and undefined element types */
  double d[6] = {0};
  onnx__tensor_proto__init(&t);
  t.n_dims = 2, t.dims = dims, t.has_data_type = 1, t.data_type = 11, t.n_double_data = 6,
  t.double_data = d;
  assert_error(load(write_proto(&t, "bad.pb"), &a), NNCL_ERR_DTYPE, "double");
  t.data_type = 8;
  assert_error(load(write_proto(&t, "bad.pb"), &a), NNCL_ERR_DTYPE, "string");
  t.has_data_type = 0;
  assert_error(load(write_proto(&t, "bad.pb"), &a), NNCL_ERR_FORMAT, "undefined");
  /* not a file at all, a missing file, an empty file (a TensorProto without type) */
  char path[256];
  snprintf(path, sizeof path, "%s/garbage.pb", tmpdir());
  write_file(path, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12);
  assert_error(load(path, &a), NNCL_ERR_FORMAT, "garbage.pb");
  assert_error(load("/nonexistent/input_0.pb", &a), NNCL_ERR_IO, "/nonexistent/input_0.pb");
  snprintf(path, sizeof path, "%s/empty.pb", tmpdir());
  write_file(path, "", 0);
  assert_error(load(path, &a), NNCL_ERR_FORMAT, "undefined");
}

/* Every strict prefix of a valid file is an error, never a crash; the whole file loads. */
Test(onnx_tensor, every_truncation_is_an_error) {
  FILE *f = fopen(NODE_DATA "/test_abs/test_data_set_0/input_0.pb", "rb");
  cr_assert(f);
  static uint8_t buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  char path[256];
  snprintf(path, sizeof path, "%s/cut.pb", tmpdir());
  for (size_t len = 0; len <= n; len++) {
    write_file(path, buf, len);
    nncl_array a;
    nncl_status st = load(path, &a);
    if (len == n) {
      cr_assert_eq(st, NNCL_OK);
      nncl_array_free(&a);
    } else {
      cr_assert_eq(st, NNCL_ERR_FORMAT, "prefix of %zu bytes gave %s", len, nncl_status_name(st));
      cr_assert_null(a.data);
    }
  }
}

/* Writes external-data tensor `t` (float [2,3]) whose data lives in `location`. */
static nncl_status load_external(const char *location, const char *offset, const char *length,
                                 nncl_array *a) {
  Onnx__StringStringEntryProto e[3], *ep[3];
  const char *keys[] = {"location", "offset", "length"}, *vals[] = {location, offset, length};
  size_t n = 0;
  for (int i = 0; i < 3; i++) {
    if (!vals[i]) continue;
    onnx__string_string_entry_proto__init(&e[n]);
    e[n].key = (char *)keys[i];
    e[n].value = (char *)vals[i];
    ep[n] = &e[n];
    n++;
  }
  int64_t dims[] = {2, 3};
  Onnx__TensorProto t;
  onnx__tensor_proto__init(&t);
  t.n_dims = 2, t.dims = dims, t.has_data_type = 1, t.data_type = 1;
  t.has_data_location = 1, t.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  t.n_external_data = n, t.external_data = ep;
  return load(write_proto(&t, "ext.pb"), a);
}

Test(onnx_tensor, external_data) {
  float data[8] = {-1, 1, 2, 3, 4, 5, 6, -1};
  char path[256];
  snprintf(path, sizeof path, "%s/weights.bin", tmpdir());
  write_file(path, data, sizeof data);
  nncl_array a;
  cr_assert_eq(load_external("weights.bin", "4", "24", &a), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  cr_assert_eq(memcmp(a.data, data + 1, 24), 0);
  nncl_array_free(&a);
  cr_assert_eq(load_external("./weights.bin", "8", NULL, &a), NNCL_OK);
  cr_assert_eq(memcmp(a.data, data + 2, 24), 0);
  nncl_array_free(&a);
  assert_error(load_external("weights.bin", "12", NULL, &a), NNCL_ERR_FORMAT, "holds 32 bytes");
  assert_error(load_external("weights.bin", "0", "20", &a), NNCL_ERR_FORMAT, "length 20");
  assert_error(load_external("weights.bin", "-4", NULL, &a), NNCL_ERR_FORMAT, "offset");
  assert_error(load_external("../weights.bin", NULL, NULL, &a), NNCL_ERR_FORMAT,
               "leaves the model's folder");
  assert_error(load_external("a/../../etc/passwd", NULL, NULL, &a), NNCL_ERR_FORMAT, "leaves");
  assert_error(load_external("/etc/passwd", NULL, NULL, &a), NNCL_ERR_FORMAT, "leaves");
  assert_error(load_external(NULL, NULL, NULL, &a), NNCL_ERR_FORMAT, "without a location");
  assert_error(load_external("missing.bin", NULL, NULL, &a), NNCL_ERR_IO, "missing.bin");
  /* A huge shape is checked against the file before anything is allocated. */
  int64_t huge[] = {1LL << 20, 1LL << 20, 1LL << 10};
  Onnx__StringStringEntryProto e, *ep = &e;
  onnx__string_string_entry_proto__init(&e);
  e.key = "location", e.value = "weights.bin";
  Onnx__TensorProto t;
  onnx__tensor_proto__init(&t);
  t.n_dims = 3, t.dims = huge, t.has_data_type = 1, t.data_type = 1;
  t.has_data_location = 1, t.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  t.n_external_data = 1, t.external_data = &ep;
  assert_error(load(write_proto(&t, "ext.pb"), &a), NNCL_ERR_FORMAT, "holds 32 bytes");
  cr_assert_null(a.data);
}

/* A symbolic link beside the model may point anywhere: only links that resolve inside the model's
   folder are followed (the link to /etc/passwd was once read into a weight). */
Test(onnx_tensor, external_data_symlinks_stay_in_the_folder) {
  float data[6] = {1, 2, 3, 4, 5, 6};
  char path[256], link[256];
  snprintf(path, sizeof path, "%s/inside.bin", tmpdir());
  write_file(path, data, sizeof data);
  snprintf(link, sizeof link, "%s/good_link.bin", tmpdir());
  cr_assert_eq(symlink("inside.bin", link), 0);
  nncl_array a;
  cr_assert_eq(load_external("good_link.bin", NULL, NULL, &a), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  cr_assert_eq(memcmp(a.data, data, sizeof data), 0);
  nncl_array_free(&a);
  snprintf(link, sizeof link, "%s/evil_link.bin", tmpdir());
  cr_assert_eq(symlink("/etc/passwd", link), 0);
  assert_error(load_external("evil_link.bin", "0", "24", &a), NNCL_ERR_FORMAT,
               "outside the model's folder");
  cr_assert_null(a.data);
}

/* A FIFO named as external data, model, tensor file or .npy is refused at once, never waited on
   (Criterion's timeout turns the old endless wait into a failure). */
Test(onnx_tensor, fifos_are_refused_without_blocking, .timeout = 60) {
  char fifo[256];
  snprintf(fifo, sizeof fifo, "%s/fifo.bin", tmpdir());
  cr_assert_eq(mkfifo(fifo, 0600), 0);
  nncl_array a;
  assert_error(load_external("fifo.bin", NULL, NULL, &a), NNCL_ERR_IO, "not a regular file");
  assert_error(nncl_onnx_load_tensor(tu_ctx(), fifo, &a, NULL), NNCL_ERR_IO, "not a regular file");
  assert_error(nncl_npy_load(tu_ctx(), fifo, &a), NNCL_ERR_IO, "not a regular file");
  nncl_graph *g = NULL;
  assert_error(nncl_onnx_load(tu_ctx(), fifo, &g), NNCL_ERR_IO, "not a regular file");
  cr_assert_null(g);
}

Test(onnx_tensor, sparse_tensors_densify) {
  /* A [3, 4] float tensor with 3 non-zeros, given as linear indices and as coordinates. */
  float vals[] = {1, 2, 3};
  int64_t lin[] = {1, 6, 11}, coords[] = {0, 1, 1, 2, 2, 3};
  int64_t vdims[] = {3}, ldims[] = {3}, cdims[] = {3, 2}, dims[] = {3, 4};
  Onnx__TensorProto v, ix;
  onnx__tensor_proto__init(&v);
  v.n_dims = 1, v.dims = vdims, v.has_data_type = 1, v.data_type = 1, v.n_float_data = 3,
  v.float_data = vals;
  Onnx__SparseTensorProto s;
  onnx__sparse_tensor_proto__init(&s);
  s.values = &v, s.indices = &ix, s.n_dims = 2, s.dims = dims;
  for (int k = 0; k < 2; k++) {
    onnx__tensor_proto__init(&ix);
    ix.has_data_type = 1, ix.data_type = 7;
    if (k == 0)
      ix.n_dims = 1, ix.dims = ldims, ix.n_int64_data = 3, ix.int64_data = lin;
    else
      ix.n_dims = 2, ix.dims = cdims, ix.n_int64_data = 6, ix.int64_data = coords;
    nncl_array a;
    cr_assert_eq(onnx_sparse_to_array(tu_ctx(), &s, NULL, "sparse", &a), NNCL_OK, "%s",
                 nncl_context_last_error(tu_ctx()));
    float want[12] = {0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3};
    cr_assert_eq(memcmp(a.data, want, sizeof want), 0, "layout %d", k);
    nncl_array_free(&a);
  }
  int64_t huge[] = {1LL << 30, 1LL << 30};
  s.dims = huge;
  nncl_array big;
  assert_error(onnx_sparse_to_array(tu_ctx(), &s, NULL, "sparse", &big), NNCL_ERR_UNSUPPORTED,
               "exceeds");
  cr_assert_null(big.data);
  s.dims = dims;
  lin[2] = 12; /* out of range */
  onnx__tensor_proto__init(&ix);
  ix.n_dims = 1, ix.dims = ldims, ix.has_data_type = 1, ix.data_type = 7, ix.n_int64_data = 3,
  ix.int64_data = lin;
  nncl_array a;
  assert_error(onnx_sparse_to_array(tu_ctx(), &s, NULL, "sparse", &a), NNCL_ERR_FORMAT,
               "out of range");
  cr_assert_null(a.data);
}

/* Builds a ModelProto whose graph nests GraphProto attributes `depth` deep, by hand. */
static size_t put_varint(uint8_t *p, uint64_t v) {
  size_t n = 0;
  do {
    p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  return n;
}

/* Wraps buf[0..len) as length-delimited field `field`, in place (moves the payload right). */
static size_t wrap(uint8_t *buf, size_t len, unsigned field) {
  uint8_t hdr[16];
  size_t h = put_varint(hdr, (uint64_t)field << 3 | 2);
  h += put_varint(hdr + h, len);
  memmove(buf + h, buf, len);
  memcpy(buf, hdr, h);
  return len + h;
}

Test(onnx_tensor, wire_check_rejects_deep_nesting_and_truncation) {
  static uint8_t buf[1 << 16];
  char msg[256];
  for (int depth = 10; depth <= 200; depth += 190) {
    size_t len = 0;
    /* Innermost GraphProto is empty; each level is Node.attribute(5).g(6) inside Graph.node(1). */
    for (int i = 0; i < depth; i++) {
      len = wrap(buf, len, 6); /* AttributeProto.g */
      len = wrap(buf, len, 5); /* NodeProto.attribute */
      len = wrap(buf, len, 1); /* GraphProto.node */
    }
    len = wrap(buf, len, 7); /* ModelProto.graph */
    int rc = onnx_wire_check(&onnx__model_proto__descriptor, buf, len, msg, sizeof msg);
    if (depth == 10) {
      cr_assert_eq(rc, 0, "%s", msg);
      Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
      cr_assert_not_null(m, "the shallow file is valid protobuf");
      onnx__model_proto__free_unpacked(m, NULL);
    } else {
      cr_assert_neq(rc, 0);
      cr_assert(strstr(msg, "nested deeper"), "%s", msg);
    }
    /* Cutting the outer length makes every level claim too much. */
    cr_assert_neq(onnx_wire_check(&onnx__model_proto__descriptor, buf, len - 1, msg, sizeof msg),
                  0);
  }
  const uint8_t bad_wire[] = {0x0b}; /* field 1, wire type 3 (groups) */
  cr_assert_neq(onnx_wire_check(&onnx__model_proto__descriptor, bad_wire, 1, msg, sizeof msg), 0);
  cr_assert(strstr(msg, "wire type 3"), "%s", msg);
  const uint8_t field0[] = {0x00, 0x01};
  cr_assert_neq(onnx_wire_check(&onnx__model_proto__descriptor, field0, 2, msg, sizeof msg), 0);
}
