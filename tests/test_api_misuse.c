/* test_api_misuse.c: the public C API under misuse: NULL arguments, ranks above 8, negative dims,
   reading outputs before any run, and a context destroyed before its graph. Each call must return
   a status (with a message where a context exists), never crash, read out of bounds or use freed
   memory (check-asan runs this under ASan and UBSan). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nncl/graph.h"
#include "test_util.h"

static const char *last(void) { return nncl_context_last_error(tu_ctx()); }

Test(api_misuse, shape_helpers_take_null_and_bad_ranks) {
  cr_assert_eq(nncl_shape_numel(NULL), -1);
  cr_assert_eq(nncl_array_bytes(NULL), 0);
  char buf[64];
  cr_assert_str_eq(nncl_shape_format(NULL, buf, sizeof buf), "(null)");
  cr_assert_null(nncl_shape_format(&(nncl_shape){0}, NULL, 10));
  /* rank 100 in a shape allocated to its exact size: ASan sees any read past dims[7] */
  nncl_shape *s = malloc(sizeof *s);
  s->rank = 100;
  for (int i = 0; i < NNCL_MAX_RANK; i++) s->dims[i] = 2;
  cr_assert_eq(nncl_shape_numel(s), -1);
  char big[256];
  nncl_shape_format(s, big, sizeof big);
  cr_assert(strstr(big, "(rank 100)"), "%s", big);
  s->rank = 2;
  s->dims[1] = -3;
  cr_assert_eq(nncl_shape_numel(s), -1, "a negative dim has no element count");
  free(s);
}

Test(api_misuse, npy_save_checks_its_arguments) {
  char path[] = "/tmp/nncl_api_misuse_XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  nncl_array a = {.dtype = NNCL_FLOAT32, .shape = {.rank = 1, .dims = {4}}, .data = NULL};
  cr_assert_eq(nncl_npy_save(tu_ctx(), path, &a), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(last(), "no data"), "%s", last());
  cr_assert_eq(nncl_npy_save(tu_ctx(), NULL, &a), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert_eq(nncl_npy_save(tu_ctx(), path, NULL), NNCL_ERR_INVALID_ARGUMENT);
  a.shape.rank = 9;
  a.data = (void *)path;
  cr_assert_eq(nncl_npy_save(tu_ctx(), path, &a), NNCL_ERR_SHAPE);
  unlink(path);
}

static nncl_graph *relu_graph(void) {
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  nncl_shape s = {.rank = 2, .dims = {-1, 4}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  const char *i = "x", *o = "y";
  cr_assert_eq(nncl_graph_add_node(g, "Relu", "relu", 1, &i, 1, &o, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  return g;
}

Test(api_misuse, graph_calls_with_null_and_bad_values) {
  nncl_graph *g = relu_graph();
  cr_assert_eq(nncl_graph_op_counts(g, NULL, NULL, 4), 0);
  const char *types[4];
  int counts[4];
  cr_assert_eq(nncl_graph_op_counts(g, types, counts, 4), 1);
  cr_assert_str_eq(types[0], "Relu");

  nncl_array v = {.dtype = NNCL_FLOAT32, .shape = {.rank = 2, .dims = {3, 4}}, .data = NULL};
  cr_assert_eq(nncl_graph_set_input(g, "x", &v), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(last(), "no data"), "%s", last());
  cr_assert_eq(nncl_graph_set_input(g, "x", NULL), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert_eq(nncl_graph_set_input(g, NULL, &v), NNCL_ERR_INVALID_ARGUMENT);
  float data[12] = {0};
  v.data = data;
  v.shape.rank = 9;
  cr_assert_eq(nncl_graph_set_input(g, "x", &v), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert(strstr(last(), "rank 9"), "%s", last());
  v.shape.rank = 2;
  v.shape.dims[0] = -3;
  nncl_status st = nncl_graph_set_input(g, "x", &v);
  cr_assert_eq(st, NNCL_ERR_SHAPE, "negative dim: %s (%s)", nncl_status_name(st), last());
  cr_assert(strstr(last(), "negative"), "%s", last());

  nncl_array c = {.dtype = NNCL_FLOAT32, .shape = {.rank = 1, .dims = {4}}, .data = NULL};
  cr_assert_eq(nncl_graph_add_constant(g, "w", &c), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert_eq(nncl_graph_add_constant_move(g, "w", &c), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert_eq(nncl_graph_add_constant(g, NULL, &c), NNCL_ERR_INVALID_ARGUMENT);
  c.shape.dims[0] = -1;
  c.data = data;
  cr_assert_eq(nncl_graph_add_constant_move(g, "w", &c), NNCL_ERR_SHAPE);
  cr_assert_eq(c.data, (void *)data, "a refused move must leave the caller's data alone");
  nncl_graph_destroy(g);
}

/* Outputs of a plan that never ran hold whatever the arena held: an error, not zeros. Relu of
   known values after the run is exact, so the comparison tolerance is 0. */
Test(api_misuse, outputs_need_a_run) {
  nncl_graph *g = relu_graph();
  nncl_array x = TU_RAND(3, 2, 4), y;
  cr_assert_eq(nncl_graph_set_input(g, "x", &x), NNCL_OK, "%s", last());
  cr_assert_eq(nncl_graph_plan(g), NNCL_OK, "%s", last());
  nncl_status st = nncl_graph_get_output(g, 0, &y);
  cr_assert_eq(st, NNCL_ERR_STATE, "get_output before run gave %s", nncl_status_name(st));
  cr_assert_null(y.data);
  cr_assert(strstr(last(), "nncl_graph_run"), "%s", last());
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", last());
  cr_assert_eq(nncl_graph_get_output(g, 0, &y), NNCL_OK, "%s", last());
  float want[8];
  for (int i = 0; i < 8; i++) {
    float v = ((float *)x.data)[i];
    want[i] = v > 0 ? v : 0;
  }
  tu_assert_close((float *)y.data, want, 8, 0, 0, "relu");
  nncl_array_free(&y);
  nncl_array_free(&x);
  nncl_graph_destroy(g);
}

/* Destroying a context while a graph and a tensor live: their calls fail with NNCL_ERR_STATE and
   the context is freed with the last of them (ASan/LSan see neither a use-after-free nor a leak). */
Test(api_misuse, context_destroyed_before_its_graph) {
  nncl_context *ctx;
  char msg[512];
  cr_assert_eq(nncl_context_create(NULL, &ctx, msg, sizeof msg), NNCL_OK, "%s", msg);
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(ctx, &g), NNCL_OK);
  nncl_shape s = {.rank = 1, .dims = {4}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  const char *i = "x", *o = "y";
  cr_assert_eq(nncl_graph_add_node(g, "Relu", "relu", 1, &i, 1, &o, NULL), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  float data[4] = {1, -1, 2, -2};
  nncl_array x = {.dtype = NNCL_FLOAT32, .shape = s, .data = data};
  cr_assert_eq(nncl_graph_set_input(g, "x", &x), NNCL_OK);
  nncl_tensor *t;
  cr_assert_eq(nncl_tensor_create(ctx, NNCL_FLOAT32, &s, &t), NNCL_OK);
  nncl_context_destroy(ctx);
  nncl_status st = nncl_graph_run(g);
  cr_assert_eq(st, NNCL_ERR_STATE, "run after context destroy gave %s", nncl_status_name(st));
  cr_assert(strstr(nncl_context_last_error(ctx), "context was destroyed"), "%s",
            nncl_context_last_error(ctx));
  cr_assert_eq(nncl_tensor_write(t, data, sizeof data), NNCL_ERR_STATE);
  nncl_context_destroy(ctx); /* a second destroy is harmless */
  nncl_graph_destroy(g);
  nncl_tensor_destroy(t); /* the last object frees the context */
}
