/* demo_eval.h: runs a Fashion-MNIST classifier (ONNX, input [N, 1, 28, 28] of pixels / 255, first
   output logits [N, 10]) over a data set in batches on the device, and scores it. */
#ifndef NNCL_DEMO_EVAL_H
#define NNCL_DEMO_EVAL_H

#include <stdint.h>

#include "demo_idx.h"
#include "nncl/nncl.h"

typedef struct demo_eval {
  long count;
  uint8_t *pred;     /* [count] predicted class */
  float *confidence; /* [count] softmax probability of the prediction */
  long correct;
  long confusion[DEMO_NUM_CLASSES][DEMO_NUM_CLASSES]; /* [label][prediction] */
  double first_batch_s; /* includes planning, weight upload and kernel builds */
  double steady_s;      /* the other batches: input upload, run, output read-back */
  long steady_images;
} demo_eval;

/* Converts n bytes of pixels into the models' input scale (byte / 255). */
void demo_pixels_to_input(const uint8_t *px, size_t n, float *dst);
/* Index of the largest of k logits; *prob receives its softmax probability. */
int demo_argmax_softmax(const float *logits, int k, float *prob);

/* Runs graph g (input 0 images, output 0 logits) over all images in batches of `batch`, with a
   progress bar labelled `label` on stdout. Returns NNCL_OK, or the failing call's status after
   printing what failed to stderr. */
nncl_status demo_eval_run(nncl_graph *g, const demo_idx *images, const demo_idx *labels, int batch,
                          const char *label, demo_eval *out);
void demo_eval_free(demo_eval *e);

#endif
