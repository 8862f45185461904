/* test_overflow.c: hostile dims never wrap. Every element count that comes from a file, an
   attribute or the API goes through the checked helpers (lib/runtime/checked.h); each case here
   once wrapped (or was undefined behaviour under UBSan) and must now give a named error, or, where
   the op is well defined (Slice with a huge step), the exact answer. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nncl/graph.h"
#include "test_util.h"

#define P2(k) ((int64_t)1 << (k))

static const char *last(void) { return nncl_context_last_error(tu_ctx()); }

static void assert_mentions(const char *what) {
  cr_assert(strstr(last(), what), "error \"%s\" does not mention \"%s\"", last(), what);
}

Test(overflow, npy_shape_product_is_checked) {
  /* 116 bytes as in the report: shape (2^62+1, 4) of float32, 16 bytes of data. */
  char hdr[128];
  int w =
      snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, 4), }",
               (long long)(P2(62) + 1));
  unsigned char buf[256] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)w, 0};
  memcpy(buf + 10, hdr, (size_t)w);
  nncl_array a;
  nncl_status st = nncl_npy_parse(tu_ctx(), buf, 10 + (size_t)w + 16, &a);
  cr_assert_eq(st, NNCL_ERR_SHAPE, "got %s: %s", nncl_status_name(st), last());
  cr_assert_null(a.data);
  assert_mentions("4611686018427387905");
}

Test(overflow, tensor_create_checks_bytes) {
  nncl_tensor *t = (nncl_tensor *)1;
  nncl_shape s = {.rank = 2, .dims = {P2(40), P2(40)}};
  nncl_status st = nncl_tensor_create(tu_ctx(), NNCL_FLOAT32, &s, &t);
  cr_assert_eq(st, NNCL_ERR_SHAPE, "got %s: %s", nncl_status_name(st), last());
  cr_assert_null(t);
  assert_mentions("1099511627776");
  nncl_array a;
  cr_assert_eq(nncl_array_alloc(&a, NNCL_FLOAT32, &s), NNCL_ERR_SHAPE);
  cr_assert_eq(nncl_shape_numel(&s), -1, "2^80 elements must not wrap");
}

static nncl_graph *relu_graph(const nncl_shape *in) {
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, in), NNCL_OK, "%s", last());
  const char *i = "x", *o = "y";
  cr_assert_eq(nncl_graph_add_node(g, "Relu", "relu", 1, &i, 1, &o, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  return g;
}

Test(overflow, declared_input_of_2_80_elements) {
  nncl_shape s = {.rank = 2, .dims = {P2(40), P2(40)}};
  nncl_graph *g = relu_graph(&s);
  nncl_status st = nncl_graph_plan(g);
  cr_assert_eq(st, NNCL_ERR_SHAPE, "got %s: %s", nncl_status_name(st), last());
  assert_mentions("'x'");
  nncl_graph_destroy(g);
}

static nncl_status expand_to(const int64_t *dims, int rank) {
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  nncl_shape s = {.rank = 3, .dims = {1, 1, 6}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  nncl_array shape = tu_i64(rank, dims);
  cr_assert_eq(nncl_graph_add_constant(g, "shape", &shape), NNCL_OK);
  nncl_array_free(&shape);
  const char *in[] = {"x", "shape"}, *o = "y";
  cr_assert_eq(nncl_graph_add_node(g, "Expand", "big_expand", 2, in, 1, &o, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  nncl_array x = TU_RAND(1, 1, 1, 6);
  cr_assert_eq(nncl_graph_set_input(g, "x", &x), NNCL_OK);
  nncl_array_free(&x);
  nncl_status st = nncl_graph_run(g);
  nncl_graph_destroy(g);
  return st;
}

Test(overflow, expand_to_huge_shapes) {
  nncl_status st = expand_to((int64_t[]){INT64_MAX, 1, 6}, 3);
  cr_assert_eq(st, NNCL_ERR_SHAPE, "[2^63-1, 1, 6]: got %s: %s", nncl_status_name(st), last());
  assert_mentions("big_expand");
  st = expand_to((int64_t[]){P2(31), P2(31), P2(31)}, 3);
  cr_assert_eq(st, NNCL_ERR_SHAPE, "[2^31]^3: got %s: %s", nncl_status_name(st), last());
  assert_mentions("big_expand");
  assert_mentions("2147483648");
}

Test(overflow, conv_dilation_2_62) {
  nncl_array x = TU_RAND(1, 1, 1, 12, 8), w = TU_RAND(2, 1, 1, 3, 3), y[1];
  const nncl_array *in[] = {&x, &w};
  struct nncl__attr a[] = {A_INTS("dilations", P2(62), P2(62))};
  nncl_status st = tu_try_op("Conv", 17, a, 1, 2, in, 1, y);
  cr_assert_neq(st, NNCL_OK, "dilation 2^62 gave an output");
  cr_assert(st == NNCL_ERR_SHAPE || st == NNCL_ERR_INVALID_ARGUMENT, "got %s: %s",
            nncl_status_name(st), last());
  assert_mentions("dilation");
  nncl_array_free(&x);
  nncl_array_free(&w);
}

Test(overflow, gru_hidden_size_int64_max) {
  nncl_array x = TU_RAND(1, 2, 1, 3), w = TU_RAND(2, 1, 3, 3), r = TU_RAND(3, 1, 3, 1), y[2];
  const nncl_array *in[] = {&x, &w, &r};
  struct nncl__attr a[] = {A_INT("hidden_size", INT64_MAX)};
  nncl_status st = tu_try_op("GRU", 17, a, 1, 3, in, 2, y);
  cr_assert_eq(st, NNCL_ERR_INVALID_ARGUMENT, "got %s: %s", nncl_status_name(st), last());
  assert_mentions("hidden_size");
  nncl_array_free(&x);
  nncl_array_free(&w);
  nncl_array_free(&r);
}

/* Steps of INT64_MIN and INT64_MAX are legal ONNX and pick one element each: x[3] walking back,
   x[0] walking forward (numpy's x[3:-5:-2**63] and x[0:4:2**63-1]). Exact copies: tolerance 0. */
Test(overflow, slice_extreme_steps) {
  nncl_array x = TU_RAND(4, 4), st1 = TU_I64(3), en1 = TU_I64(-5), ax = TU_I64(0),
             sp1 = TU_I64(INT64_MIN), st2 = TU_I64(0), en2 = TU_I64(4), sp2 = TU_I64(INT64_MAX);
  const float *xv = x.data;
  nncl_array y;
  const nncl_array *in1[] = {&x, &st1, &en1, &ax, &sp1};
  tu_run_op("Slice", 13, NULL, 0, 5, in1, 1, &y);
  cr_assert_eq(y.shape.rank, 1);
  cr_assert_eq(y.shape.dims[0], 1, "step INT64_MIN: %lld elements", (long long)y.shape.dims[0]);
  cr_assert_eq(((float *)y.data)[0], xv[3]);
  nncl_array_free(&y);
  const nncl_array *in2[] = {&x, &st2, &en2, &ax, &sp2};
  tu_run_op("Slice", 13, NULL, 0, 5, in2, 1, &y);
  cr_assert_eq(y.shape.dims[0], 1, "step INT64_MAX: %lld elements", (long long)y.shape.dims[0]);
  cr_assert_eq(((float *)y.data)[0], xv[0]);
  nncl_array_free(&y);
  nncl_array *all[] = {&x, &st1, &en1, &ax, &sp1, &st2, &en2, &sp2};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) nncl_array_free(all[i]);
}

/* Tile, Pad, Range and Reshape compute dims from values: each sum or product that would wrap is
   a named error (each was signed overflow, undefined behaviour, before). */
Test(overflow, tile_pad_range_reshape) {
  nncl_array x = TU_RAND(5, 2, 3), rep = TU_I64(P2(62), 1), y;
  const nncl_array *tin[] = {&x, &rep};
  nncl_status st = tu_try_op("Tile", 13, NULL, 0, 2, tin, 1, &y);
  cr_assert_eq(st, NNCL_ERR_SHAPE, "Tile: %s: %s", nncl_status_name(st), last());
  nncl_array pads = TU_I64(0, INT64_MAX, 0, 1);
  const nncl_array *pin[] = {&x, &pads};
  st = tu_try_op("Pad", 13, NULL, 0, 2, pin, 1, &y);
  cr_assert_eq(st, NNCL_ERR_SHAPE, "Pad: %s: %s", nncl_status_name(st), last());
  assert_mentions("overflow");
  nncl_array lo = TU_I64(INT64_MIN), hi = TU_I64(INT64_MAX), one = TU_I64(1);
  lo.shape.rank = hi.shape.rank = one.shape.rank = 0; /* scalars */
  const nncl_array *rin[] = {&lo, &hi, &one};
  st = tu_try_op("Range", 11, NULL, 0, 3, rin, 1, &y);
  cr_assert_eq(st, NNCL_ERR_UNSUPPORTED, "Range: %s: %s", nncl_status_name(st), last());
  nncl_array shape = TU_I64(P2(40), P2(40), -1);
  const nncl_array *sin[] = {&x, &shape};
  st = tu_try_op("Reshape", 13, NULL, 0, 2, sin, 1, &y);
  cr_assert_eq(st, NNCL_ERR_SHAPE, "Reshape: %s: %s", nncl_status_name(st), last());
  nncl_array *all[] = {&x, &rep, &pads, &lo, &hi, &one, &shape};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) nncl_array_free(all[i]);
}

/* Clip without bounds has min -inf and max +inf; their int64 copies for integer kernels were a
   float-to-int conversion out of range (undefined; clang's UBSan in the fuzz build caught it on
   the first seed, check-asan now builds with -fsanitize=float-cast-overflow). The result is x,
   exactly. */
Test(overflow, clip_with_infinite_default_bounds) {
  nncl_array x = TU_RAND(9, 3, 5), y;
  const nncl_array *in[] = {&x};
  tu_run_op("Clip", 13, NULL, 0, 1, in, 1, &y);
  tu_assert_close((float *)y.data, (float *)x.data, 15, 0, 0, "Clip without bounds");
  nncl_array_free(&y);
  nncl_array_free(&x);
}
