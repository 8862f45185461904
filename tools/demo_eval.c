/* demo_eval.c: batch inference over a labelled image set through the public graph API, with
   accuracy, confusion counts and timings. */
#include "demo_eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo_progress.h"

void demo_pixels_to_input(const uint8_t *px, size_t n, float *dst) {
  for (size_t i = 0; i < n; i++) dst[i] = (float)px[i] / 255.0f;
}

int demo_argmax_softmax(const float *logits, int k, float *prob) {
  int best = 0;
  for (int i = 1; i < k; i++)
    if (logits[i] > logits[best]) best = i;
  double sum = 0.0;
  for (int i = 0; i < k; i++) sum += exp((double)logits[i] - (double)logits[best]);
  *prob = (float)(1.0 / sum);
  return best;
}

void demo_eval_free(demo_eval *e) {
  free(e->pred);
  free(e->confidence);
  memset(e, 0, sizeof *e);
}

nncl_status demo_eval_run(nncl_graph *g, const demo_idx *images, const demo_idx *labels, int batch,
                          const char *label, demo_eval *out) {
  memset(out, 0, sizeof *out);
  const long n = (long)images->count;
  const size_t item = images->item_size;
  nncl_status st = NNCL_OK;
  nncl_array in, logits;
  memset(&in, 0, sizeof in);
  memset(&logits, 0, sizeof logits);
  if (batch > n) batch = (int)n;
  nncl_shape shape = {4, {batch, 1, 28, 28}};
  out->count = n;
  out->pred = malloc((size_t)n);
  out->confidence = malloc((size_t)n * sizeof(float));
  if (!out->pred || !out->confidence ||
      (st = nncl_array_alloc(&in, NNCL_FLOAT32, &shape)) != NNCL_OK) {
    demo_eval_free(out);
    return st != NNCL_OK ? st : NNCL_ERR_OUT_OF_HOST_MEMORY;
  }
  const char *input = nncl_graph_input_name(g, 0);
  demo_progress bar;
  demo_progress_start(&bar, stdout, label, n);
  for (long start = 0; start < n; start += batch) {
    const long b = n - start < batch ? n - start : batch;
    double t0 = demo_now();
    in.shape.dims[0] = b; /* the last batch may be short; the buffer holds a full one */
    demo_pixels_to_input(images->data + (size_t)start * item, (size_t)b * item, in.data);
    if ((st = nncl_graph_set_input(g, input, &in)) != NNCL_OK ||
        (st = nncl_graph_run(g)) != NNCL_OK ||
        (st = nncl_graph_get_output(g, 0, &logits)) != NNCL_OK) {
      demo_progress_end(&bar);
      fprintf(stderr, "nncl: %s, images %ld-%ld: %s: %s\n", label, start, start + b - 1,
              nncl_status_string(st), nncl_context_last_error(nncl_graph_context(g)));
      break;
    }
    if (logits.dtype != NNCL_FLOAT32 || logits.shape.rank != 2 || logits.shape.dims[0] != b ||
        logits.shape.dims[1] != DEMO_NUM_CLASSES) {
      char got[96];
      demo_progress_end(&bar);
      fprintf(stderr, "nncl: %s: output 0 is %s %s, expected float32 logits [%ld, %d]\n", label,
              nncl_dtype_name(logits.dtype), nncl_shape_format(&logits.shape, got, sizeof got), b,
              DEMO_NUM_CLASSES);
      st = NNCL_ERR_SHAPE;
      break;
    }
    double secs = demo_now() - t0;
    if (start == 0) {
      out->first_batch_s = secs;
    } else {
      out->steady_s += secs;
      out->steady_images += b;
    }
    const float *l = logits.data;
    for (long i = 0; i < b; i++) {
      long k = start + i;
      out->pred[k] = (uint8_t)demo_argmax_softmax(l + i * DEMO_NUM_CLASSES, DEMO_NUM_CLASSES,
                                                  &out->confidence[k]);
      uint8_t y = labels->data[k];
      out->correct += out->pred[k] == y;
      out->confusion[y][out->pred[k]]++;
    }
    nncl_array_free(&logits);
    demo_progress_update(&bar, start + b);
  }
  if (st == NNCL_OK) demo_progress_end(&bar);
  nncl_array_free(&logits);
  nncl_array_free(&in);
  if (st != NNCL_OK) demo_eval_free(out);
  return st;
}
