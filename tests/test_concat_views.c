/* test_concat_views.c: Concats planned as views (graph.concat_views, lib/graph/memplan.c). A
   SqueezeNet-like fire module (squeeze conv, two expand convs concatenated along channels, a conv
   reading the concat, and a second reader of one expand output after the concat) must give the
   bits of the copying path (graph.concat_views=0) while the Concat launches nothing (two launches
   fewer: the copy launches one kernel per part). Where a view would be wrong the Concat must keep
   copying, with the same bits: batch 2 along channels (each part is two blocks), a graph input
   concatenated, and one tensor concatenated twice. Exact equality is the right bar: the same
   kernels compute the same floats, only where the expand convs write them differs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/graph.h"
#include "test_util.h"

#define CIN 8
#define HW 8

enum variant { FIRE, GRAPH_INPUT, TWICE };

/* Expand channels whose slab ([1, ch, HW, HW] floats) is a whole number of the device's
   sub-buffer alignment, so batch 1 can be a view on any device. */
static int expand_channels(void) {
  unsigned align = nncl_context_device(tu_ctx())->mem_base_addr_align_bytes;
  unsigned slab = HW * HW * (unsigned)sizeof(float);
  return align <= slab ? 6 : (int)(align / slab) * 2;
}

static void conv(nncl_graph *g, const char *name, const char *in, const char *out, int cin,
                 int cout, int k, uint32_t seed) {
  nncl_array w = TU_RAND(seed, cout, cin, k, k), b = TU_RAND(seed + 1, cout);
  cr_assert_eq(nncl_graph_conv2d(g, name, in, out, &w, &b, 1, k / 2, 1, 1), NNCL_OK, "%s: %s", name,
               nncl_context_last_error(tu_ctx()));
  nncl_array_free(&w);
  nncl_array_free(&b);
}

static nncl_graph *build(enum variant v, int batch) {
  const int e = expand_channels();
  nncl_graph *g;
  cr_assert_eq(nncl_graph_create(tu_ctx(), &g), NNCL_OK);
  nncl_shape s = {.rank = 4, .dims = {batch, CIN, HW, HW}};
  cr_assert_eq(nncl_graph_add_input(g, "x", NNCL_FLOAT32, &s), NNCL_OK);
  conv(g, "squeeze", "x", "s", CIN, 4, 1, 11);
  cr_assert_eq(nncl_graph_activation(g, "squeeze_relu", "Relu", "s", "sr"), NNCL_OK);
  conv(g, "expand1", "sr", "e1", 4, e, 1, 21);
  cr_assert_eq(nncl_graph_activation(g, "expand1_relu", "Relu", "e1", "e1r"), NNCL_OK);
  conv(g, "expand3", "sr", "e3", 4, e, 3, 31);
  cr_assert_eq(nncl_graph_activation(g, "expand3_relu", "Relu", "e3", "e3r"), NNCL_OK);
  const char *parts[3][2] = {{"e1r", "e3r"}, {"x", "e3r"}, {"e1r", "e1r"}};
  const char *cat = "cat";
  nncl_node *n;
  cr_assert_eq(nncl_graph_add_node(g, "Concat", "concat", 2, parts[v], 1, &cat, &n), NNCL_OK);
  cr_assert_eq(nncl_node_set_int(g, n, "axis", 1), NNCL_OK);
  const int cat_ch = v == GRAPH_INPUT ? CIN + e : 2 * e;
  conv(g, "head", "cat", "y", cat_ch, 5, 1, 41);
  /* a reader of an expand output after the Concat: its slice must outlive the Concat */
  conv(g, "tail", "e1r", "z", e, 3, 1, 51);
  cr_assert_eq(nncl_graph_add_output(g, "y"), NNCL_OK);
  cr_assert_eq(nncl_graph_add_output(g, "z"), NNCL_OK);
  nncl_array x = TU_RAND(61, batch, CIN, HW, HW);
  cr_assert_eq(nncl_graph_set_input(g, "x", &x), NNCL_OK);
  nncl_array_free(&x);
  return g;
}

/* Runs g with graph.concat_views=views; outputs into y[2], kernel launches of the run returned. */
static uint64_t run(nncl_graph *g, const char *views, nncl_array y[2], const char *what) {
  nncl_context *ctx = tu_ctx();
  cr_assert_eq(nncl_graph_set_option(g, "graph.concat_views", views), NNCL_OK);
  cr_assert_eq(nncl_graph_plan(g), NNCL_OK, "%s: %s", what, nncl_context_last_error(ctx));
  nncl_stats s0, s1;
  nncl_context_stats(ctx, &s0);
  cr_assert_eq(nncl_graph_run(g), NNCL_OK, "%s: %s", what, nncl_context_last_error(ctx));
  nncl_context_stats(ctx, &s1);
  for (int i = 0; i < 2; i++)
    cr_assert_eq(nncl_graph_get_output(g, i, &y[i]), NNCL_OK, "%s: %s", what,
                 nncl_context_last_error(ctx));
  return s1.kernel_launches - s0.kernel_launches;
}

static void same_bits(const nncl_array *want, const nncl_array *got, const char *what) {
  cr_assert_eq(nncl_array_bytes(want), nncl_array_bytes(got), "%s: sizes differ", what);
  const float *a = want->data, *b = got->data;
  for (size_t i = 0; i < nncl_array_bytes(want) / sizeof(float); i++)
    cr_assert(memcmp(&a[i], &b[i], sizeof(float)) == 0, "%s: element %zu is %.9g, not %.9g", what,
              i, (double)b[i], (double)a[i]);
}

/* fewer: how many launches fewer the view plan must make than the copying one (0: no view). */
static void check(enum variant v, int batch, uint64_t fewer, const char *what) {
  nncl_graph *g = build(v, batch);
  nncl_array copy[2], view[2];
  uint64_t l_copy = run(g, "0", copy, what);
  uint64_t l_view = run(g, "1", view, what);
  cr_assert_eq(l_copy - l_view, fewer,
               "%s: %llu launches copying, %llu with views (expected %llu fewer)", what,
               (unsigned long long)l_copy, (unsigned long long)l_view, (unsigned long long)fewer);
  char w[160];
  for (int i = 0; i < 2; i++) {
    snprintf(w, sizeof w, "%s, output %s", what, i ? "z" : "y");
    same_bits(&copy[i], &view[i], w);
    nncl_array_free(&copy[i]);
    nncl_array_free(&view[i]);
  }
  nncl_graph_destroy(g);
}

Test(concat_views, fire_module_batch1_runs_no_concat_kernel) {
  check(FIRE, 1, 2, "fire module, batch 1");
}
Test(concat_views, batch2_along_channels_keeps_copying) {
  check(FIRE, 2, 0, "fire module, batch 2");
}
Test(concat_views, graph_input_part_keeps_copying) {
  check(GRAPH_INPUT, 1, 0, "graph input concatenated");
}
Test(concat_views, same_tensor_twice_keeps_copying) {
  check(TWICE, 1, 0, "one tensor concatenated twice");
}
