/* fuzz_onnx_load.c: libFuzzer harness for the ONNX loader (nncl_onnx_load_memory): any byte
   string must give NNCL_OK with a graph or an error without one, never a crash, a leak or an
   out-of-bounds access (built with AddressSanitizer by tests/fuzz/run.sh, never by default).
   With NNCL_FUZZ_PLAN=1 every loaded graph is also planned (shape inference on hostile shapes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "nncl/nncl.h"

static nncl_context *g_ctx;
static int g_plan;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  char msg[1024];
  if (nncl_context_create(NULL, &g_ctx, msg, sizeof msg) != NNCL_OK) {
    fprintf(stderr, "fuzz_onnx_load: no device: %s\n", msg);
    abort();
  }
  const char *p = getenv("NNCL_FUZZ_PLAN");
  g_plan = p && *p == '1';
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nncl_graph *g = NULL;
  nncl_status st = nncl_onnx_load_memory(g_ctx, data, size, NULL, &g);
  if ((st == NNCL_OK) != (g != NULL)) abort();
  if (st != NNCL_OK && !*nncl_context_last_error(g_ctx)) abort(); /* errors must say why */
  if (g && g_plan) nncl_graph_plan(g);
  nncl_graph_destroy(g);
  return 0;
}
