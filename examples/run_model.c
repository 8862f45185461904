/* run_model.c: the smallest complete nncl program: load an ONNX model, feed every input with
   zeros of its declared shape (unknown dims as 1), run it once and print each output's shape and
   first values; every call checked, everything freed. Usage: run_model MODEL.onnx */
#include <nncl/nncl.h>
#include <stdio.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.onnx\n", argv[0]);
    return 2;
  }
  char msg[1024];
  nncl_context *ctx = NULL;
  nncl_status st = nncl_context_create(NULL, &ctx, msg, sizeof msg); /* NNCL_DEVICE or default */
  if (st != NNCL_OK) {
    fprintf(stderr, "no device: %s: %s\n", nncl_status_string(st), msg);
    return 1;
  }
  nncl_graph *g = NULL;
  int rc = 1;
  if ((st = nncl_onnx_load(ctx, argv[1], &g)) != NNCL_OK) goto fail;
  for (int i = 0; i < nncl_graph_num_inputs(g); i++) {
    nncl_dtype dtype;
    nncl_shape shape;
    nncl_array x;
    if ((st = nncl_graph_input_info(g, i, &dtype, &shape)) != NNCL_OK) goto fail;
    for (int d = 0; d < shape.rank; d++)
      if (shape.dims[d] < 0) shape.dims[d] = 1; /* a symbolic dim, such as the batch */
    if ((st = nncl_array_alloc(&x, dtype, &shape)) != NNCL_OK) goto fail; /* zeroed */
    st = nncl_graph_set_input(g, nncl_graph_input_name(g, i), &x);
    nncl_array_free(&x);
    if (st != NNCL_OK) goto fail;
  }
  if ((st = nncl_graph_run(g)) != NNCL_OK) goto fail;
  for (int i = 0; i < nncl_graph_num_outputs(g); i++) {
    nncl_array y;
    char dims[128];
    if ((st = nncl_graph_get_output(g, i, &y)) != NNCL_OK) goto fail;
    printf("%s %s %s", nncl_graph_output_name(g, i), nncl_dtype_name(y.dtype),
           nncl_shape_format(&y.shape, dims, sizeof dims));
    int64_t n = nncl_shape_numel(&y.shape);
    for (int64_t k = 0; k < n && k < 4 && y.dtype == NNCL_FLOAT32; k++)
      printf(" %g", ((const float *)y.data)[k]);
    printf("\n");
    nncl_array_free(&y);
  }
  rc = 0;
fail:
  if (rc)
    fprintf(stderr, "%s: %s: %s\n", argv[1], nncl_status_string(st), nncl_context_last_error(ctx));
  nncl_graph_destroy(g); /* both are NULL-safe */
  nncl_context_destroy(ctx);
  return rc;
}
