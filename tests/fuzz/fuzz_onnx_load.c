/* fuzz_onnx_load.c: libFuzzer harness for what reads untrusted bytes: the ONNX loader
   (nncl_onnx_load_memory), shape inference and small runs of what it loads, and the .npy parser.
   Any byte string must give NNCL_OK with a result or an error with a message, never a crash, a
   leak, an out-of-bounds access or undefined behaviour (tests/fuzz/run.sh builds it with ASan and
   UBSan, never by default). NNCL_FUZZ_MODE picks what each input feeds:
     load  the loader only (default)
     plan  the loader, then nncl_graph_plan (shape inference on hostile shapes; NNCL_FUZZ_PLAN=1
           is the old spelling)
     run   plan, then a run with generated inputs when the graph is small (every input at most
           64 Ki elements, unknown dims taken as 1, arena and weights under 64 MiB), and read every
           output
     npy   nncl_npy_parse */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/nncl.h"

enum mode { MODE_LOAD, MODE_PLAN, MODE_RUN, MODE_NPY };

static nncl_context *g_ctx;
static enum mode g_mode;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  char msg[1024];
  if (nncl_context_create(NULL, &g_ctx, msg, sizeof msg) != NNCL_OK) {
    fprintf(stderr, "fuzz_onnx_load: no device: %s\n", msg);
    abort();
  }
  const char *m = getenv("NNCL_FUZZ_MODE"), *p = getenv("NNCL_FUZZ_PLAN");
  g_mode = p && *p == '1' ? MODE_PLAN : MODE_LOAD;
  if (m && strcmp(m, "plan") == 0) g_mode = MODE_PLAN;
  if (m && strcmp(m, "run") == 0) g_mode = MODE_RUN;
  if (m && strcmp(m, "npy") == 0) g_mode = MODE_NPY;
  if (m && g_mode == MODE_LOAD && strcmp(m, "load") != 0) {
    fprintf(stderr, "fuzz_onnx_load: NNCL_FUZZ_MODE=%s is not load, plan, run or npy\n", m);
    abort();
  }
  return 0;
}

/* Every status but OK must leave a message behind. */
static void check(nncl_status st) {
  if (st != NNCL_OK && !*nncl_context_last_error(g_ctx)) abort();
}

/* Sets every input of g to generated data of a small shape; 0 when the graph is too big to run. */
static int set_small_inputs(nncl_graph *g) {
  for (int i = 0; i < nncl_graph_num_inputs(g); i++) {
    nncl_dtype dt;
    nncl_shape s;
    if (nncl_graph_input_info(g, i, &dt, &s) != NNCL_OK) return 0;
    for (int d = 0; d < s.rank; d++)
      if (s.dims[d] < 0) s.dims[d] = 1;
    int64_t n = nncl_shape_numel(&s);
    if (n < 0 || n > (1 << 16)) return 0;
    nncl_array a;
    if (nncl_array_alloc(&a, dt, &s) != NNCL_OK) return 0;
    if (dt == NNCL_FLOAT32)
      for (int64_t k = 0; k < n; k++) ((float *)a.data)[k] = (float)(k % 7) * 0.25f - 0.5f;
    /* other dtypes stay zero: a valid index, length or mask wherever one is read */
    nncl_status st = nncl_graph_set_input(g, nncl_graph_input_name(g, i), &a);
    nncl_array_free(&a);
    check(st);
    if (st != NNCL_OK) return 0;
  }
  return 1;
}

static void run_small(nncl_graph *g) {
  if (!set_small_inputs(g)) return;
  nncl_status st = nncl_graph_plan(g);
  check(st);
  if (st != NNCL_OK) return;
  nncl_graph_summary sum;
  if (nncl_graph_summarize(g, &sum) != NNCL_OK) return;
  if (sum.arena_bytes + sum.weight_bytes + sum.workspace_bytes > (64u << 20)) return;
  st = nncl_graph_run(g);
  check(st);
  for (int i = 0; st == NNCL_OK && i < nncl_graph_num_outputs(g); i++) {
    nncl_array out;
    check(nncl_graph_get_output(g, i, &out));
    nncl_array_free(&out);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (g_mode == MODE_NPY) {
    nncl_array a;
    nncl_status st = nncl_npy_parse(g_ctx, data, size, &a);
    check(st);
    if ((st == NNCL_OK) != (a.data != NULL)) abort();
    if (st == NNCL_OK && nncl_array_bytes(&a) > size) abort(); /* data must come from the file */
    nncl_array_free(&a);
    return 0;
  }
  nncl_graph *g = NULL;
  nncl_status st = nncl_onnx_load_memory(g_ctx, data, size, NULL, &g);
  if ((st == NNCL_OK) != (g != NULL)) abort();
  check(st);
  if (g && g_mode == MODE_PLAN) check(nncl_graph_plan(g));
  if (g && g_mode == MODE_RUN) run_small(g);
  nncl_graph_destroy(g);
  return 0;
}
