/* run_loop.c: times the C API doing what nncl.InferenceSession.run does per call (set every input
   from host memory, run, read every output into a new host array, free it), for
   tools/python_run_overhead.py to set against the Python call on the same model.
   usage: run_loop MODEL.onnx INPUT.bin DTYPE_CODE DIMS... -- RUNS
   Prints the median and minimum microseconds per call over RUNS calls after 10 warm-up calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nncl/nncl.h"

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return 1e6 * (double)ts.tv_sec + 1e-3 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int call(nncl_graph *g, const nncl_array *x) {
  if (nncl_graph_set_input(g, nncl_graph_input_name(g, 0), x) != NNCL_OK) return -1;
  if (nncl_graph_run(g) != NNCL_OK) return -1;
  for (int i = 0; i < nncl_graph_num_outputs(g); i++) {
    nncl_array out;
    if (nncl_graph_get_output(g, i, &out) != NNCL_OK) return -1;
    nncl_array_free(&out);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: run_loop MODEL.onnx INPUT.bin DTYPE_CODE DIMS... -- RUNS\n");
    return 2;
  }
  nncl_array x = {.dtype = (nncl_dtype)atoi(argv[3])};
  int a = 4;
  while (a < argc && strcmp(argv[a], "--") != 0 && x.shape.rank < NNCL_MAX_RANK)
    x.shape.dims[x.shape.rank++] = atoll(argv[a++]);
  if (a + 1 >= argc) return 2;
  int runs = atoi(argv[a + 1]);
  if (runs < 1) return 2;
  size_t bytes = (size_t)nncl_shape_numel(&x.shape) * nncl_dtype_size(x.dtype);
  FILE *f = fopen(argv[2], "rb");
  x.data = malloc(bytes ? bytes : 1);
  if (!f || !x.data || fread(x.data, 1, bytes, f) != bytes) {
    fprintf(stderr, "run_loop: cannot read %zu bytes from %s\n", bytes, argv[2]);
    return 1;
  }
  fclose(f);
  nncl_context *ctx;
  nncl_graph *g;
  char msg[1024];
  if (nncl_context_create(NULL, &ctx, msg, sizeof msg) != NNCL_OK) {
    fprintf(stderr, "run_loop: %s\n", msg);
    return 1;
  }
  if (nncl_onnx_load(ctx, argv[1], &g) != NNCL_OK) {
    fprintf(stderr, "run_loop: %s\n", nncl_context_last_error(ctx));
    return 1;
  }
  double *t = malloc(sizeof *t * (size_t)runs);
  for (int i = 0; i < 10 + runs; i++) {
    double t0 = now_us();
    if (!t || call(g, &x) != 0) {
      fprintf(stderr, "run_loop: %s\n", nncl_context_last_error(ctx));
      return 1;
    }
    if (i >= 10) t[i - 10] = now_us() - t0;
  }
  qsort(t, (size_t)runs, sizeof *t, cmp);
  printf("%.3f %.3f\n", t[runs / 2], t[0]);
  free(t);
  free(x.data);
  nncl_graph_destroy(g);
  nncl_context_destroy(ctx);
  return 0;
}
