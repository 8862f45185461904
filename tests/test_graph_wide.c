/* test_graph_wide.c: nodes with many inputs and outputs through the whole planner: Concat of 40
   inputs and Split into 20 outputs once hit a hidden limit of 16 inputs and 8 outputs per node.
   Checked against a naive C concatenation and split; copies are exact, so the tolerance is 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/graph.h"
#include "test_util.h"

#define N_IN 40
#define N_OUT 20
#define ROWS 3

static const char *last(void) { return nncl_context_last_error(tu_ctx()); }

Test(graph_wide, concat_40_inputs_split_20_outputs) {
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  char names[N_IN][16], outs[N_OUT][16];
  const char *in_names[N_IN], *out_names[N_OUT];
  nncl_array x[N_IN];
  int64_t total = 0;
  for (int i = 0; i < N_IN; i++) {
    snprintf(names[i], sizeof names[i], "x%d", i);
    in_names[i] = names[i];
    int64_t w = 1 + i % 3; /* widths 1, 2, 3: uneven pieces */
    nncl_shape s = {.rank = 2, .dims = {ROWS, w}};
    cr_assert_eq(nncl_graph_add_input(g, names[i], NNCL_FLOAT32, &s), NNCL_OK, "%s", last());
    x[i] = TU_RAND((uint32_t)(100 + i), ROWS, w);
    total += w;
  }
  nncl_node *cat;
  const char *c = "cat";
  cr_assert_eq(nncl_graph_add_node(g, "Concat", "cat", N_IN, in_names, 1, &c, &cat), NNCL_OK);
  cr_assert_eq(nncl_node_set_int(g, cat, "axis", 1), NNCL_OK);
  /* split 80 columns into 20 pieces of 1..7 columns summing to the total */
  int64_t split[N_OUT], used = 0;
  for (int k = 0; k < N_OUT - 1; k++) used += split[k] = 1 + (k * 5) % 7;
  split[N_OUT - 1] = total - used;
  cr_assert_gt(split[N_OUT - 1], 0);
  for (int k = 0; k < N_OUT; k++) {
    snprintf(outs[k], sizeof outs[k], "y%d", k);
    out_names[k] = outs[k];
  }
  nncl_array sp = tu_i64(N_OUT, split);
  cr_assert_eq(nncl_graph_add_constant(g, "split", &sp), NNCL_OK);
  const char *split_in[] = {"cat", "split"};
  nncl_node *spl;
  cr_assert_eq(nncl_graph_add_node(g, "Split", "spl", 2, split_in, N_OUT, out_names, &spl),
               NNCL_OK);
  cr_assert_eq(nncl_node_set_int(g, spl, "axis", 1), NNCL_OK);
  for (int k = 0; k < N_OUT; k++) cr_assert_eq(nncl_graph_add_output(g, out_names[k]), NNCL_OK);
  for (int i = 0; i < N_IN; i++)
    cr_assert_eq(nncl_graph_set_input(g, names[i], &x[i]), NNCL_OK, "%s", last());
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", last());

  /* naive reference: row r of the concatenation is every input's row r in order */
  float *ref = malloc((size_t)(ROWS * total) * sizeof *ref);
  for (int r = 0; r < ROWS; r++) {
    int64_t col = 0;
    for (int i = 0; i < N_IN; i++) {
      int64_t w = x[i].shape.dims[1];
      memcpy(ref + r * total + col, (float *)x[i].data + r * w, (size_t)w * sizeof *ref);
      col += w;
    }
  }
  int64_t col = 0;
  for (int k = 0; k < N_OUT; k++) {
    nncl_array y;
    cr_assert_eq(nncl_graph_get_output(g, k, &y), NNCL_OK, "%s", last());
    cr_assert_eq(y.shape.rank, 2);
    cr_assert_eq(y.shape.dims[0], ROWS);
    cr_assert_eq(y.shape.dims[1], split[k], "output %d has %lld columns, want %lld", k,
                 (long long)y.shape.dims[1], (long long)split[k]);
    float *want = malloc((size_t)(ROWS * split[k]) * sizeof *want);
    for (int r = 0; r < ROWS; r++)
      memcpy(want + r * split[k], ref + r * total + col, (size_t)split[k] * sizeof *want);
    char what[32];
    snprintf(what, sizeof what, "split output %d", k);
    tu_assert_close((float *)y.data, want, (size_t)(ROWS * split[k]), 0, 0, what);
    free(want);
    nncl_array_free(&y);
    col += split[k];
  }
  free(ref);
  nncl_array_free(&sp);
  for (int i = 0; i < N_IN; i++) nncl_array_free(&x[i]);
  nncl_graph_destroy(g);
}
