/* classify_image.c: classify one grey picture (binary PGM, "P5") with an image classifier whose
   input is [N, 1, H, W] and whose output 0 is [N, classes], such as models/fashion_cnn.onnx:
   the picture is scaled to H x W (nearest pixel), pixels to [0, 1], and the best class printed
   with its softmax probability. Every call checked, everything freed.
   Usage: classify_image MODEL.onnx PICTURE.pgm */
#include <math.h>
#include <nncl/nncl.h>
#include <stdio.h>
#include <stdlib.h>

/* A binary PGM's pixels (malloc'ed), or NULL. */
static unsigned char *read_pgm(const char *path, int *w, int *h) {
  FILE *f = fopen(path, "rb");
  int maxval;
  unsigned char *px = NULL;
  if (f && fscanf(f, "P5 %d %d %d", w, h, &maxval) == 3 && maxval == 255 && *w > 0 && *h > 0 &&
      *w <= 16384 && *h <= 16384 && fgetc(f) != EOF && (px = malloc((size_t)*w * (size_t)*h)) &&
      fread(px, 1, (size_t)*w * (size_t)*h, f) != (size_t)*w * (size_t)*h) {
    free(px);
    px = NULL;
  }
  if (f) fclose(f);
  return px;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL.onnx PICTURE.pgm\n", argv[0]);
    return 2;
  }
  int w, h;
  unsigned char *px = read_pgm(argv[2], &w, &h);
  if (!px) {
    fprintf(stderr, "%s: not a readable 8-bit binary PGM\n", argv[2]);
    return 1;
  }
  char msg[1024];
  nncl_context *ctx = NULL;
  nncl_graph *g = NULL;
  nncl_array x = {0}, y = {0};
  nncl_shape shape;
  nncl_dtype dtype;
  nncl_status st = nncl_context_create(NULL, &ctx, msg, sizeof msg);
  if (st != NNCL_OK) {
    fprintf(stderr, "no device: %s: %s\n", nncl_status_string(st), msg);
    free(px);
    return 1;
  }
  int rc = 1;
  if ((st = nncl_onnx_load(ctx, argv[1], &g)) != NNCL_OK) goto fail;
  if ((st = nncl_graph_input_info(g, 0, &dtype, &shape)) != NNCL_OK) goto fail;
  if (shape.rank != 4 || shape.dims[1] != 1 || shape.dims[2] < 1 || shape.dims[3] < 1) {
    fprintf(stderr, "%s: expected a [N, 1, H, W] input\n", argv[1]);
    goto done;
  }
  shape.dims[0] = 1; /* one picture */
  if ((st = nncl_array_alloc(&x, NNCL_FLOAT32, &shape)) != NNCL_OK) goto fail;
  const int64_t oh = shape.dims[2], ow = shape.dims[3];
  float *in = x.data;
  for (int64_t r = 0; r < oh; r++)
    for (int64_t c = 0; c < ow; c++)
      in[r * ow + c] = px[(size_t)(r * h / oh) * (size_t)w + (size_t)(c * w / ow)] / 255.0f;
  if ((st = nncl_graph_set_input(g, nncl_graph_input_name(g, 0), &x)) != NNCL_OK ||
      (st = nncl_graph_run(g)) != NNCL_OK || (st = nncl_graph_get_output(g, 0, &y)) != NNCL_OK)
    goto fail;
  if (y.dtype != NNCL_FLOAT32 || y.shape.rank != 2 || y.shape.dims[1] < 1) {
    fprintf(stderr, "%s: output 0 is not [1, classes] float32\n", argv[1]);
    goto done;
  }
  const float *logit = y.data;
  int best = 0;
  double sum = 0;
  for (int k = 1; k < (int)y.shape.dims[1]; k++)
    if (logit[k] > logit[best]) best = k;
  for (int k = 0; k < (int)y.shape.dims[1]; k++) sum += exp((double)logit[k] - logit[best]);
  printf("%s: class %d (%.1f%%)\n", argv[2], best, 100.0 / sum);
  rc = 0;
  goto done;
fail:
  fprintf(stderr, "%s: %s: %s\n", argv[1], nncl_status_string(st), nncl_context_last_error(ctx));
done:
  nncl_array_free(&x); /* NULL-safe, as are the destroys */
  nncl_array_free(&y);
  nncl_graph_destroy(g);
  nncl_context_destroy(ctx);
  free(px);
  return rc;
}
