/* test_rnn_layers.c: the RNN Y-layout pass (lib/graph/pass_rnn.c) on stacked bidirectional layers
   built the way PyTorch exports them: Y [seq, 2, batch, H] -> Transpose(0, 2, 1, 3) -> Reshape
   [seq, batch, 2H] -> next layer. Fused, the Transposes disappear (each layer writes Y in the
   order the next one reads) and only the recurrent nodes launch work; the outputs must equal the
   unfused graph's (NNCL_NO_FUSION=1), within rtol 1e-5, atol 1e-6. When Y is read elsewhere too,
   the Transpose stays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/graph.h"
#include "test_util.h"

#define S 6
#define B 3
#define I 5
#define H 8

static void constant(nncl_graph *g, const char *name, nncl_array a) {
  cr_assert_eq(nncl_graph_add_constant_move(g, name, &a), NNCL_OK);
}

/* One bidirectional layer named l<k> reading `in` ([S, B, in_size]), writing `out` [S, B, 2H]
   through Transpose + Reshape; its raw Y is "l<k>.y". */
static void layer(nncl_graph *g, const char *op, int k, const char *in, int in_size,
                  const char *out) {
  int gates = strcmp(op, "LSTM") == 0 ? 4 : 3;
  char w[32], r[32], b[32], y[32], yt[32], name[32];
  snprintf(w, sizeof w, "l%d.W", k);
  snprintf(r, sizeof r, "l%d.R", k);
  snprintf(b, sizeof b, "l%d.B", k);
  snprintf(y, sizeof y, "l%d.y", k);
  snprintf(yt, sizeof yt, "l%d.yt", k);
  snprintf(name, sizeof name, "l%d", k);
  nncl_array wa = TU_RAND(10 + (uint32_t)k, 2, gates * H, in_size);
  nncl_array ra = TU_RAND(20 + (uint32_t)k, 2, gates * H, H),
             ba = TU_RAND(30 + (uint32_t)k, 2, 2 * gates * H);
  constant(g, w, wa);
  constant(g, r, ra);
  constant(g, b, ba);
  const char *ins[] = {in, w, r, b};
  nncl_node *n;
  cr_assert_eq(nncl_graph_add_node(g, op, name, 4, ins, 1, (const char *[]){y}, &n), NNCL_OK);
  cr_assert_eq(nncl_node_set_int(g, n, "hidden_size", H), NNCL_OK);
  cr_assert_eq(nncl_node_set_string(g, n, "direction", "bidirectional"), NNCL_OK);
  const char *tin = y;
  cr_assert_eq(nncl_graph_add_node(g, "Transpose", NULL, 1, &tin, 1, (const char *[]){yt}, &n),
               NNCL_OK);
  cr_assert_eq(nncl_node_set_ints(g, n, "perm", (const int64_t[]){0, 2, 1, 3}, 4), NNCL_OK);
  const char *rin[] = {yt, "merged_shape"};
  cr_assert_eq(nncl_graph_add_node(g, "Reshape", NULL, 2, rin, 1, &out, NULL), NNCL_OK);
}

/* Three stacked layers; with y_also_output, the middle layer's raw Y is a graph output too. */
static nncl_graph *stack(const char *op, int y_also_output) {
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  nncl_shape xs = {.rank = 3, .dims = {S, B, I}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &xs), NNCL_OK);
  constant(g, "merged_shape", TU_I64(S, B, 2 * H));
  layer(g, op, 0, "x", I, "h0");
  layer(g, op, 1, "h0", 2 * H, "h1");
  layer(g, op, 2, "h1", 2 * H, "y");
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  if (y_also_output) cr_assert_eq(nncl_graph_add_output(g, "l1.y"), NNCL_OK);
  return g;
}

struct result {
  nncl_array y[2];
  int n_out, kernels, transposes;
};

static struct result run(const char *op, int y_also_output, int fuse) {
  struct result r = {0};
  nncl_graph *g = stack(op, y_also_output);
  cr_assert_eq(nncl_graph_set_option(g, "graph.fusion", fuse ? "1" : "0"), NNCL_OK);
  nncl_array x = TU_RAND(7, S, B, I);
  cr_assert_eq(nncl_graph_set_input(g, "x", &x), NNCL_OK);
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  r.n_out = nncl_graph_num_outputs(g);
  for (int i = 0; i < r.n_out; i++) cr_assert_eq(nncl_graph_get_output(g, i, &r.y[i]), NNCL_OK);
  nncl_graph_summary sum;
  cr_assert_eq(nncl_graph_summarize(g, &sum), NNCL_OK);
  r.kernels = sum.n_kernel_nodes;
  for (int i = 0; i < nncl_graph_num_planned_nodes(g); i++) {
    nncl_node_info info;
    cr_assert_eq(nncl_graph_planned_node(g, i, &info), NNCL_OK);
    r.transposes += strcmp(info.op_type, "Transpose") == 0;
  }
  nncl_array_free(&x);
  nncl_graph_destroy(g);
  return r;
}

static void check(const char *op, int y_also_output, int want_kernels, int want_transposes) {
  struct result f = run(op, y_also_output, 1), u = run(op, y_also_output, 0);
  char what[96];
  snprintf(what, sizeof what, "3 bidirectional %s layers%s", op,
           y_also_output ? ", Y also output" : "");
  cr_assert_eq(u.transposes, 3, "%s: unfused has %d Transposes", what, u.transposes);
  cr_assert_eq(f.transposes, want_transposes, "%s: %d Transposes left, expected %d", what,
               f.transposes, want_transposes);
  cr_assert_eq(f.kernels, want_kernels, "%s: %d kernel nodes, expected %d", what, f.kernels,
               want_kernels);
  for (int i = 0; i < f.n_out; i++) {
    size_t n = (size_t)nncl_shape_numel(&u.y[i].shape);
    cr_assert_eq((size_t)nncl_shape_numel(&f.y[i].shape), n);
    tu_assert_close((float *)f.y[i].data, (float *)u.y[i].data, n, 1e-5, 1e-6, what);
    cr_log_info("%s: output %d max rel error %.2e", what, i,
                tu_max_rel_error(f.y[i].data, u.y[i].data, n));
    nncl_array_free(&f.y[i]);
    nncl_array_free(&u.y[i]);
  }
}

Test(rnn_layers, bidirectional_lstm_stack_has_no_copies) { check("LSTM", 0, 3, 0); }

Test(rnn_layers, bidirectional_gru_stack_has_no_copies) { check("GRU", 0, 3, 0); }

Test(rnn_layers, shared_y_keeps_its_transpose) { check("LSTM", 1, 4, 1); }
