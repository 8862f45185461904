/* test_onnx_load.c: the ONNX importer end to end: the reference models (tests/models, exported
   from PyTorch by tools/make_models.py) load with the right interface and match PyTorch; typed
   initializers, initializers listed as inputs, Constant nodes, external data, dim_param batches;
   unsupported ops reported all at once; re-running allocates and builds nothing; and truncated,
   corrupted or hostile files give named errors without crashing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nncl/onnx.h"
#include "test_util.h"

static char g_path[1024];

/* tests/models/<rel> (NNCL_TEST_DATA points at tests/data). */
static const char *model_path(const char *rel) {
  const char *data = getenv("NNCL_TEST_DATA");
  cr_assert(data, "NNCL_TEST_DATA is not set (run through meson test)");
  snprintf(g_path, sizeof g_path, "%s/../models/%s", data, rel);
  return g_path;
}

static nncl_graph *load(const char *rel) {
  nncl_graph *g = NULL;
  nncl_status st = nncl_onnx_load(tu_ctx(), model_path(rel), &g);
  cr_assert_eq(st, NNCL_OK, "%s: %s", rel, nncl_context_last_error(tu_ctx()));
  return g;
}

static nncl_array read_pb(const char *rel) {
  nncl_array a;
  cr_assert_eq(nncl_onnx_load_tensor(tu_ctx(), model_path(rel), &a, NULL), NNCL_OK, "%s: %s", rel,
               nncl_context_last_error(tu_ctx()));
  return a;
}

/* Runs g on <dir>/test_data_set_<k> (one input, one output) and compares with rtol/atol. */
static void check_data_set(nncl_graph *g, const char *dir, int k, double rtol, double atol) {
  char rel[256];
  snprintf(rel, sizeof rel, "%s/test_data_set_%d/input_0.pb", dir, k);
  nncl_array x = read_pb(rel);
  snprintf(rel, sizeof rel, "%s/test_data_set_%d/output_0.pb", dir, k);
  nncl_array want = read_pb(rel);
  cr_assert_eq(nncl_graph_set_input(g, nncl_graph_input_name(g, 0), &x), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s: %s", dir, nncl_context_last_error(tu_ctx()));
  nncl_array got;
  cr_assert_eq(nncl_graph_get_output(g, 0, &got), NNCL_OK);
  cr_assert_eq(got.shape.rank, want.shape.rank);
  for (int d = 0; d < got.shape.rank; d++) cr_assert_eq(got.shape.dims[d], want.shape.dims[d]);
  tu_assert_close((float *)got.data, (float *)want.data, (size_t)nncl_shape_numel(&want.shape),
                  rtol, atol, dir);
  nncl_array_free(&x);
  nncl_array_free(&want);
  nncl_array_free(&got);
}

static int op_count(const nncl_graph *g, const char *op) {
  const char *types[64];
  int counts[64];
  int n = nncl_graph_op_counts(g, types, counts, 64);
  for (int i = 0; i < n; i++)
    if (strcmp(types[i], op) == 0) return counts[i];
  return 0;
}

Test(onnx_load, reference_models_interface) {
  nncl_graph *g = load("resnet_mini/model.onnx");
  cr_assert_eq(nncl_graph_opset(g), 13);
  cr_assert_eq(nncl_graph_num_inputs(g), 1, "weights are constants, not inputs");
  cr_assert_eq(nncl_graph_num_outputs(g), 1);
  cr_assert_str_eq(nncl_graph_input_name(g, 0), "input");
  cr_assert_str_eq(nncl_graph_output_name(g, 0), "output");
  nncl_dtype dt;
  nncl_shape s;
  cr_assert_eq(nncl_graph_input_info(g, 0, &dt, &s), NNCL_OK);
  cr_assert_eq(dt, NNCL_FLOAT32);
  cr_assert(s.rank == 4 && s.dims[0] == -1 && s.dims[1] == 3 && s.dims[2] == 32 && s.dims[3] == 32,
            "the dynamic batch dim reads as -1");
  cr_assert_eq(op_count(g, "Conv"), 9);
  cr_assert_eq(op_count(g, "BatchNormalization"), 9);
  cr_assert_eq(op_count(g, "Add"), 3);
  nncl_graph_destroy(g);
  /* Constant nodes become constants: MobileNet's Clip bounds are no nodes. */
  g = load("mobilenet_mini/model.onnx");
  cr_assert_eq(op_count(g, "Constant"), 0);
  cr_assert_eq(op_count(g, "Clip"), 12);
  nncl_graph_destroy(g);
}

/* PyTorch's outputs, batch 1 then another batch (re-planned), for each CNN style. */
Test(onnx_load, reference_models_match_pytorch) {
  const char *models[] = {"resnet_mini", "vgg_mini", "mobilenet_mini"};
  for (int m = 0; m < 3; m++) {
    char rel[64];
    snprintf(rel, sizeof rel, "%s/model.onnx", models[m]);
    nncl_graph *g = load(rel);
    check_data_set(g, models[m], 0, 1e-4, 1e-5);
    check_data_set(g, models[m], 1, 1e-4, 1e-5);
    check_data_set(g, models[m], 0, 1e-4, 1e-5);
    nncl_graph_destroy(g);
  }
  nncl_graph *g = load("lstm_mini/model.onnx");
  check_data_set(g, "lstm_mini", 0, 1e-4, 1e-5);
  nncl_graph_destroy(g);
}

/* Running again with same-shaped inputs allocates nothing on the device and builds no program. */
Test(onnx_load, rerun_allocates_and_builds_nothing) {
  nncl_graph *g = load("resnet_mini/model.onnx");
  check_data_set(g, "resnet_mini", 0, 1e-4, 1e-5);
  nncl_stats a, b;
  nncl_context_stats(tu_ctx(), &a);
  check_data_set(g, "resnet_mini", 0, 1e-4, 1e-5);
  check_data_set(g, "resnet_mini", 0, 1e-4, 1e-5);
  nncl_context_stats(tu_ctx(), &b);
  cr_assert_eq(b.device_allocs, a.device_allocs, "%llu device allocations on re-run",
               (unsigned long long)(b.device_allocs - a.device_allocs));
  cr_assert_eq(b.program_builds + b.program_disk_hits, a.program_builds + a.program_disk_hits,
               "programs built on re-run");
  cr_assert_gt(b.kernel_launches, a.kernel_launches);
  nncl_graph_destroy(g);
}

Test(onnx_load, typed_fields_initializer_inputs_and_constants) {
  nncl_graph *g = load("loader_typed_fields/model.onnx");
  cr_assert_eq(nncl_graph_num_inputs(g), 1, "W is an initializer listed as an input: a constant");
  cr_assert_str_eq(nncl_graph_input_name(g, 0), "X");
  cr_assert_eq(op_count(g, "Constant"), 0);
  cr_assert_eq(op_count(g, "MatMul"), 1);
  check_data_set(g, "loader_typed_fields", 0, 1e-5, 1e-6);
  nncl_graph_destroy(g);
}

Test(onnx_load, external_data) {
  nncl_graph *g = load("loader_external/model.onnx");
  check_data_set(g, "loader_external", 0, 1e-6, 1e-7);
  nncl_graph_destroy(g);
  /* From memory: the folder must be given, else the error names the missing file. */
  FILE *f = fopen(model_path("loader_external/model.onnx"), "rb");
  cr_assert(f);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  cr_assert_eq(nncl_onnx_load_memory(tu_ctx(), buf, n, NULL, &g), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "weights.bin"), "%s",
            nncl_context_last_error(tu_ctx()));
  cr_assert_null(g);
  cr_assert_eq(nncl_onnx_load_memory(tu_ctx(), buf, n, model_path("loader_external"), &g), NNCL_OK,
               "%s", nncl_context_last_error(tu_ctx()));
  check_data_set(g, "loader_external", 0, 1e-6, 1e-7);
  nncl_graph_destroy(g);
}

Test(onnx_load, dim_param_batch) {
  nncl_graph *g = load("loader_dim_param/model.onnx");
  nncl_dtype dt;
  nncl_shape s;
  cr_assert_eq(nncl_graph_input_info(g, 0, &dt, &s), NNCL_OK);
  cr_assert(s.rank == 2 && s.dims[0] == -1 && s.dims[1] == 4);
  check_data_set(g, "loader_dim_param", 0, 0, 0);
  /* Another batch re-plans. */
  nncl_array x = TU_RAND(5, 7, 4), y;
  cr_assert_eq(nncl_graph_set_input(g, "X", &x), NNCL_OK);
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_graph_get_output(g, 0, &y), NNCL_OK);
  cr_assert_eq(y.shape.dims[0], 7);
  float want[28];
  for (int i = 0; i < 28; i++) want[i] = ((float *)x.data)[i] > 0 ? ((float *)x.data)[i] : 0;
  tu_assert_close((float *)y.data, want, 28, 0, 0, "Relu at batch 7");
  nncl_array_free(&x);
  nncl_array_free(&y);
  nncl_graph_destroy(g);
}

/* One error lists every unsupported op type with its opset and the first node using it. */
Test(onnx_load, unsupported_ops_reported_together) {
  nncl_graph *g = load("loader_unsupported/model.onnx");
  cr_assert_eq(op_count(g, "FooBar"), 2);
  cr_assert_eq(op_count(g, "com.example::Baz"), 1, "other domains keep their domain");
  cr_assert_eq(nncl_graph_plan(g), NNCL_ERR_UNSUPPORTED);
  const char *msg = nncl_context_last_error(tu_ctx());
  cr_assert(strstr(msg, "FooBar") && strstr(msg, "foo_first") && strstr(msg, "com.example::Baz") &&
                strstr(msg, "baz0") && strstr(msg, "11"),
            "%s", msg);
  cr_assert_null(strstr(msg, "foo_second"), "only the first node per type: %s", msg);
  nncl_graph_destroy(g);
}

static uint8_t *slurp(const char *rel, size_t *len) {
  FILE *f = fopen(model_path(rel), "rb");
  cr_assert(f, "%s", rel);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)n);
  cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return b;
}

/* Truncated anywhere, the model gives NNCL_ERR_FORMAT and no graph. */
Test(onnx_load, truncated_files_are_format_errors) {
  size_t len;
  uint8_t *b = slurp("mobilenet_mini/model.onnx", &len);
  for (size_t cut = 0; cut < len; cut += cut < 256 ? 1 : 997) {
    nncl_graph *g = (nncl_graph *)1;
    nncl_status st = nncl_onnx_load_memory(tu_ctx(), b, cut, NULL, &g);
    cr_assert_eq(st, NNCL_ERR_FORMAT, "cut at %zu of %zu: %s (%s)", cut, len, nncl_status_name(st),
                 nncl_context_last_error(tu_ctx()));
    cr_assert_null(g);
    cr_assert(strstr(nncl_context_last_error(tu_ctx()), "<memory>"));
  }
  free(b);
  /* The file name is in the message when loading from disk. */
  nncl_graph *g = NULL;
  char path[256];
  snprintf(path, sizeof path, "/tmp/nncl_onnx_load_cut_%d.onnx", (int)getpid());
  b = slurp("resnet_mini/model.onnx", &len);
  FILE *f = fopen(path, "wb");
  cr_assert(f);
  fwrite(b, 1, len / 2, f);
  fclose(f);
  cr_assert_eq(nncl_onnx_load(tu_ctx(), path, &g), NNCL_ERR_FORMAT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), path), "%s",
            nncl_context_last_error(tu_ctx()));
  remove(path);
  free(b);
  cr_assert_eq(nncl_onnx_load(tu_ctx(), "/nonexistent/model.onnx", &g), NNCL_ERR_IO);
  cr_assert_null(g);
}

/* Random byte corruption: whatever the status, no crash, and a graph only on success. */
Test(onnx_load, corrupted_files_do_not_crash) {
  size_t len;
  uint8_t *orig = slurp("loader_typed_fields/model.onnx", &len);
  uint8_t *b = malloc(len);
  uint32_t s = 12345;
  int ok = 0;
  for (int trial = 0; trial < 400; trial++) {
    memcpy(b, orig, len);
    for (int k = 0; k < 1 + trial % 4; k++) {
      s ^= s << 13, s ^= s >> 17, s ^= s << 5;
      b[s % len] ^= (uint8_t)(1u << ((s >> 16) % 8));
    }
    nncl_graph *g = NULL;
    nncl_status st = nncl_onnx_load_memory(tu_ctx(), b, len, NULL, &g);
    cr_assert((st == NNCL_OK) == (g != NULL));
    if (st == NNCL_OK) {
      ok++;
      nncl_graph_plan(g); /* may fail on odd shapes or names; must not crash */
    }
    nncl_graph_destroy(g);
  }
  cr_assert_gt(ok, 0, "some flips (in weights or names) leave a loadable model");
  free(b);
  free(orig);
}

/* Hand-written protobuf: fields nested 100 levels deep, and a node without an opset import. */
Test(onnx_load, hostile_structure) {
  static uint8_t buf[1 << 14];
  size_t len = 0;
  for (int i = 0; i < 100; i++) {
    const unsigned fields[] = {6, 5,
                               1}; /* AttributeProto.g, NodeProto.attribute, GraphProto.node */
    for (int f = 0; f < 3; f++) {
      uint8_t hdr[8];
      size_t h = 0;
      hdr[h++] = (uint8_t)(fields[f] << 3 | 2);
      size_t v = len;
      do {
        hdr[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
      } while (v);
      memmove(buf + h, buf, len);
      memcpy(buf, hdr, h);
      len += h;
    }
  }
  memmove(buf + 3, buf, len);
  buf[0] = 7 << 3 | 2, buf[1] = (uint8_t)((len & 0x7f) | 0x80), buf[2] = (uint8_t)(len >> 7);
  len += 3;
  cr_assert_lt(len, 1 << 14);
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_onnx_load_memory(tu_ctx(), buf, len, NULL, &g), NNCL_ERR_FORMAT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "nested"), "%s",
            nncl_context_last_error(tu_ctx()));
  /* ModelProto { graph { node { input "x" output "y" op_type "Relu" } } } with no opset_import. */
  const uint8_t no_opset[] = {0x3a, 0x0e, 0x0a, 0x0c, 0x0a, 0x01, 'x', 0x12,
                              0x01, 'y',  0x22, 0x04, 'R',  'e',  'l', 'u'};
  cr_assert_eq(nncl_onnx_load_memory(tu_ctx(), no_opset, sizeof no_opset, NULL, &g),
               NNCL_ERR_FORMAT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "opset"), "%s",
            nncl_context_last_error(tu_ctx()));
  cr_assert_eq(nncl_onnx_load_memory(tu_ctx(), "", 0, NULL, &g), NNCL_ERR_FORMAT);
  cr_assert_eq(nncl_onnx_load_memory(tu_ctx(), NULL, 0, NULL, NULL), NNCL_ERR_INVALID_ARGUMENT);
}
