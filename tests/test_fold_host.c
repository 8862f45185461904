/* test_fold_host.c: constant folding on the host (graph.fold_host, lib/ops/elementwise_host.c and
   the shape ops' infer) gives exactly the values that folding the same nodes on the device gives,
   fetches no kernel doing so, and leaves expressions it does not read to the device. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/nncl.h"
#include "test_util.h"

static void constant(nncl_graph *g, const char *name, nncl_dtype dt, int rank, const int64_t *dims,
                     const int64_t *v) {
  nncl_shape s = {.rank = rank};
  memcpy(s.dims, dims, (size_t)rank * sizeof *dims);
  nncl_array a;
  cr_assert_eq(nncl_array_alloc(&a, dt, &s), NNCL_OK);
  for (int64_t i = 0; i < nncl_shape_numel(&s); i++) switch (dt) {
    case NNCL_INT64: ((int64_t *)a.data)[i] = v[i]; break;
    case NNCL_INT32: ((int32_t *)a.data)[i] = (int32_t)v[i]; break;
    case NNCL_FLOAT32: ((float *)a.data)[i] = (float)v[i] * 0.25f; break;
    default: ((uint8_t *)a.data)[i] = (uint8_t)v[i]; break;
    }
  cr_assert_eq(nncl_graph_add_constant(g, name, &a), NNCL_OK);
  nncl_array_free(&a);
}

/* A node whose one output is a graph output named `name`. */
static nncl_node *node(nncl_graph *g, const char *op, const char *name, int n_in,
                       const char *const *in) {
  nncl_node *n = NULL;
  cr_assert_eq(nncl_graph_add_node(g, op, name, n_in, in, 1, (const char *[]){name}, &n), NNCL_OK,
               "%s: %s", name, nncl_context_last_error(nncl_graph_context(g)));
  cr_assert_eq(nncl_graph_add_output(g, name), NNCL_OK);
  return n;
}

#define IN(...)                                                                                    \
  (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)), (const char *[]) { __VA_ARGS__ }

/* Shape arithmetic as PyTorch exports it, and the edges of the integer expressions: truncating
   division, /0 and INT_MIN / -1 (defined as 0 and wrap-around by elementwise_table.h), overflow
   wrapping in int32 and int64, broadcasting, a variadic chain, Where, Cast to every integer type,
   and copies of a float tensor (Expand, Transpose, Concat, Slice). */
static nncl_graph *shape_graph(nncl_context *ctx) {
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_graph_create(ctx, &g), NNCL_OK);
  const int64_t six[] = {6}, one[] = {1}, col[] = {2, 1}, three[] = {3}, fd[] = {2, 1, 16};
  constant(g, "a64", NNCL_INT64, 1, six, (int64_t[]){7, -7, INT64_MIN, INT64_MAX, 0, 5});
  constant(g, "b64", NNCL_INT64, 1, six, (int64_t[]){2, 2, -1, -1, 0, -3});
  constant(g, "a32", NNCL_INT32, 1, six, (int64_t[]){7, -7, INT32_MIN, INT32_MAX, 0, 5});
  constant(g, "b32", NNCL_INT32, 1, six, (int64_t[]){2, 2, -1, -1, 0, -3});
  constant(g, "s64", NNCL_INT64, 1, one, (int64_t[]){3});
  constant(g, "col", NNCL_INT64, 2, col, (int64_t[]){1, -1});
  constant(g, "row", NNCL_INT64, 1, three, (int64_t[]){4, 5, 6});
  constant(g, "mask", NNCL_BOOL, 1, six, (int64_t[]){1, 0, 1, 0, 0, 1});
  constant(g, "eshape", NNCL_INT64, 1, three, (int64_t[]){2, 3, 16});
  int64_t ramp[32];
  for (int i = 0; i < 32; i++) ramp[i] = i - 7;
  constant(g, "f", NNCL_FLOAT32, 3, fd, ramp);
  node(g, "Add", "add", IN("a64", "b64"));
  node(g, "Sub", "sub", IN("a64", "b64"));
  node(g, "Mul", "mul", IN("a64", "b64"));
  node(g, "Div", "div", IN("a64", "b64"));
  node(g, "Div", "div32", IN("a32", "b32"));
  node(g, "Mul", "mul32", IN("a32", "b32"));
  node(g, "Sub", "sub32", IN("a32", "b32"));
  node(g, "Equal", "equal", IN("a64", "b64"));
  node(g, "Less", "less32", IN("a32", "b32"));
  node(g, "GreaterOrEqual", "ge_scalar", IN("a64", "s64"));
  node(g, "Max", "max3", IN("a64", "b64", "s64"));
  node(g, "Sum", "sum_bcast", IN("col", "row"));
  node(g, "Mul", "mul_bcast", IN("col", "row"));
  node(g, "Where", "where", IN("mask", "a64", "b64"));
  node(g, "Neg", "neg", IN("a64"));
  node(g, "Abs", "abs32", IN("a32"));
  node(g, "Sign", "sign", IN("a64"));
  node(g, "Relu", "relu", IN("a32"));
  node(g, "Not", "not", IN("mask"));
  node(g, "Xor", "xor", IN("mask", "not"));
  const struct {
    const char *name;
    int64_t to;
  } casts[] = {{"to_int32", 6}, {"to_int64", 7}, {"to_int8", 3}, {"to_uint8", 2}, {"to_bool", 9}};
  for (size_t i = 0; i < sizeof casts / sizeof casts[0]; i++) {
    nncl_node *n = node(g, "Cast", casts[i].name, IN(i == 1 ? "a32" : "a64"));
    cr_assert_eq(nncl_node_set_int(g, n, "to", casts[i].to), NNCL_OK);
  }
  node(g, "Expand", "expand", IN("f", "eshape"));
  nncl_node *t = node(g, "Transpose", "transpose", IN("expand"));
  cr_assert_eq(nncl_node_set_ints(g, t, "perm", (int64_t[]){2, 0, 1}, 3), NNCL_OK);
  nncl_node *c = node(g, "Concat", "concat", IN("f", "f"));
  cr_assert_eq(nncl_node_set_int(g, c, "axis", 1), NNCL_OK);
  return g;
}

/* Plans (host folding on or off) and runs g; returns every output and counts kernel fetches and
   launches during planning. */
static nncl_array *plan_and_read(nncl_graph *g, int host, uint64_t *fetches, uint64_t *launches) {
  nncl_context *ctx = nncl_graph_context(g);
  cr_assert_eq(nncl_graph_set_option(g, "graph.fold_host", host ? "1" : "0"), NNCL_OK);
  nncl_stats s0, s1;
  nncl_context_stats(ctx, &s0);
  cr_assert_eq(nncl_graph_plan(g), NNCL_OK, "%s", nncl_context_last_error(ctx));
  nncl_context_stats(ctx, &s1);
  *fetches = (s1.program_builds + s1.program_disk_hits + s1.program_memory_hits) -
             (s0.program_builds + s0.program_disk_hits + s0.program_memory_hits);
  *launches = s1.kernel_launches - s0.kernel_launches;
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(ctx));
  int n = nncl_graph_num_outputs(g);
  nncl_array *out = calloc((size_t)n, sizeof *out);
  cr_assert(out);
  for (int i = 0; i < n; i++)
    cr_assert_eq(nncl_graph_get_output(g, i, &out[i]), NNCL_OK, "%s", nncl_context_last_error(ctx));
  return out;
}

/* Exact: both paths compute the same integer expressions or move the same bytes. */
static void assert_same(nncl_graph *g, const nncl_array *host, const nncl_array *dev) {
  for (int i = 0; i < nncl_graph_num_outputs(g); i++) {
    const char *name = nncl_graph_output_name(g, i);
    cr_assert_eq(host[i].dtype, dev[i].dtype, "%s: dtype", name);
    cr_assert(memcmp(&host[i].shape, &dev[i].shape, sizeof host[i].shape) == 0, "%s: shape", name);
    size_t es = nncl_dtype_size(host[i].dtype), n = nncl_array_bytes(&host[i]) / es;
    for (size_t k = 0; k < n; k++)
      cr_assert(
          memcmp((const char *)host[i].data + k * es, (const char *)dev[i].data + k * es, es) == 0,
          "%s: element %zu differs between host and device folding (exact match expected)", name,
          k);
  }
}

static void free_outputs(nncl_graph *g, nncl_array *a) {
  for (int i = 0; i < nncl_graph_num_outputs(g); i++) nncl_array_free(&a[i]);
  free(a);
}

static const int64_t *ints_of(nncl_graph *g, const nncl_array *out, const char *name) {
  for (int i = 0; i < nncl_graph_num_outputs(g); i++)
    if (strcmp(nncl_graph_output_name(g, i), name) == 0) {
      cr_assert_eq(out[i].dtype, NNCL_INT64, "%s", name);
      return out[i].data;
    }
  cr_assert_fail("no output %s", name);
  return NULL;
}

Test(fold_host, host_and_device_folding_agree_and_host_fetches_no_kernel) {
  nncl_graph *g = shape_graph(tu_ctx());
  uint64_t fetch_dev, launch_dev, fetch_host, launch_host;
  nncl_array *dev = plan_and_read(g, 0, &fetch_dev, &launch_dev);
  nncl_array *host = plan_and_read(g, 1, &fetch_host, &launch_host);
  /* the device path really ran (else this compares the host with itself) */
  cr_assert_gt(fetch_dev, 0, "folding on the device fetched no kernel");
  cr_assert_gt(launch_dev, 0, "folding on the device launched nothing");
  cr_assert_eq(fetch_host, 0, "host folding fetched %llu kernels", (unsigned long long)fetch_host);
  cr_assert_eq(launch_host, 0, "host folding launched %llu kernels",
               (unsigned long long)launch_host);
  assert_same(g, host, dev);
  /* independent reference for division (elementwise_table.h: C's truncation, x/0 = 0,
     INT64_MIN/-1 wraps to INT64_MIN) */
  const int64_t want[] = {3, -3, INT64_MIN, -INT64_MAX, 0, -1};
  const int64_t *div = ints_of(g, host, "div");
  for (int i = 0; i < 6; i++)
    cr_assert_eq(div[i], want[i], "div element %d: %lld, want %lld", i, (long long)div[i],
                 (long long)want[i]);
  free_outputs(g, host);
  free_outputs(g, dev);
  nncl_graph_destroy(g);
}

/* Mod reads the fmod attribute as alpha and Pow with an integer base calls pow: the host evaluator
   does not read them, so they fold on the device, with the same values. A Split whose second part
   exceeds OP_FOLD_HOST_MAX folds on the device while its small first part came from infer. */
Test(fold_host, what_the_host_does_not_compute_folds_on_the_device) {
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  const int64_t four[] = {4};
  constant(g, "a", NNCL_INT64, 1, four, (int64_t[]){7, -7, 7, 3});
  constant(g, "b", NNCL_INT64, 1, four, (int64_t[]){2, 2, -3, 4});
  node(g, "Mod", "mod", IN("a", "b"));
  node(g, "Pow", "pow", IN("a", "b"));
  enum { N_SPLIT = 4 + 4097 };
  int64_t *ramp = malloc(N_SPLIT * sizeof *ramp);
  cr_assert(ramp);
  for (int i = 0; i < N_SPLIT; i++) ramp[i] = i - 7;
  constant(g, "long", NNCL_FLOAT32, 1, (int64_t[]){N_SPLIT}, ramp);
  free(ramp);
  constant(g, "parts", NNCL_INT64, 1, (int64_t[]){2}, (int64_t[]){4, 4097});
  cr_assert_eq(nncl_graph_add_node(g, "Split", "split", 2, (const char *[]){"long", "parts"}, 2,
                                   (const char *[]){"part0", "part1"}, NULL),
               NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "part0"), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "part1"), NNCL_OK);
  uint64_t fetch_host, launch_host;
  nncl_array *host = plan_and_read(g, 1, &fetch_host, &launch_host);
  cr_assert_gt(fetch_host, 0, "Mod and Pow were not folded on the device");
  /* Python's modulo (fmod=0): the divisor's sign; 3^4 = 81 exactly */
  const int64_t want_mod[] = {1, 1, -2, 3}, want_pow[] = {49, 49, 0, 81};
  const int64_t *mod = ints_of(g, host, "mod"), *pw = ints_of(g, host, "pow");
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(mod[i], want_mod[i], "mod element %d: %lld", i, (long long)mod[i]);
    cr_assert_eq(pw[i], want_pow[i], "pow element %d: %lld", i, (long long)pw[i]);
  }
  /* the split parts hold the constant's values (i - 7) / 4, exact in float */
  for (int o = 2; o < 4; o++) {
    const float *f = host[o].data;
    int64_t n = nncl_shape_numel(&host[o].shape), first = o == 2 ? 0 : 4;
    cr_assert_eq(n, o == 2 ? 4 : 4097, "%s", nncl_graph_output_name(g, o));
    for (int64_t i = 0; i < n; i++)
      cr_assert_eq(f[i], (float)(first + i - 7) * 0.25f, "%s element %lld: %g",
                   nncl_graph_output_name(g, o), (long long)i, f[i]);
  }
  free_outputs(g, host);
  nncl_graph_destroy(g);
}

/* Whole PyTorch exports: the outputs are bit for bit those of device folding. */
static void model_agrees(const char *rel) {
  const char *data = getenv("NNCL_TEST_DATA");
  cr_assert(data, "NNCL_TEST_DATA is not set (meson test sets it)");
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", data, rel);
  nncl_context *ctx = tu_ctx();
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_onnx_load(ctx, path, &g), NNCL_OK, "%s: %s", rel, nncl_context_last_error(ctx));
  for (int i = 0; i < nncl_graph_num_inputs(g); i++) {
    nncl_dtype dt;
    nncl_shape s;
    cr_assert_eq(nncl_graph_input_info(g, i, &dt, &s), NNCL_OK);
    for (int d = 0; d < s.rank; d++)
      if (s.dims[d] < 0) s.dims[d] = 2;
    nncl_array a;
    cr_assert_eq(nncl_array_alloc(&a, dt, &s), NNCL_OK);
    memset(a.data, 0, nncl_array_bytes(&a));
    if (dt == NNCL_FLOAT32) tu_fill(a.data, (size_t)nncl_shape_numel(&s), 11u + (uint32_t)i, -1, 1);
    cr_assert_eq(nncl_graph_set_input(g, nncl_graph_input_name(g, i), &a), NNCL_OK, "%s: %s", rel,
                 nncl_context_last_error(ctx));
    nncl_array_free(&a);
  }
  uint64_t f, l;
  nncl_array *dev = plan_and_read(g, 0, &f, &l);
  nncl_array *host = plan_and_read(g, 1, &f, &l);
  assert_same(g, host, dev);
  free_outputs(g, host);
  free_outputs(g, dev);
  nncl_graph_destroy(g);
}

Test(fold_host, attention_export_agrees) { model_agrees("../models/mha/model.onnx"); }

Test(fold_host, lstm_export_agrees) { model_agrees("../models/lstm2_bidir/model.onnx"); }
