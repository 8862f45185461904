/* gradcam.c: Grad-CAM of one picture: the class score's gradient at a layer by the library's
   autodiff, channel weights and the ReLU of the weighted sum on the host (a few thousand values). */
#include "gradcam.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo_cam.h"

#define GRAD_NAME "gradcam/grad"

/* Prints (to stderr: the CLI's error output) the values a layer name can be, when it is unknown. */
static void list_layers(const nncl_graph *g, const char *layer) {
  fprintf(stderr, "gradcam: no value named '%s'; the graph's node outputs are:\n", layer);
  for (int i = 0; i < nncl_graph_num_nodes(g); i++) {
    const char *v = nncl_graph_node_output_name(g, i);
    if (v) fprintf(stderr, "  %s (%s)\n", v, nncl_graph_node_op_type(g, i));
  }
}

static int has_value(const nncl_graph *g, const char *name) {
  for (int i = 0; i < nncl_graph_num_nodes(g); i++) {
    const char *v = nncl_graph_node_output_name(g, i);
    if (v && strcmp(v, name) == 0) return 1;
  }
  return 0;
}

nncl_status gradcam_compute(nncl_graph *g, const char *layer, const nncl_array *input, int klass,
                            gradcam_map *out) {
  memset(out, 0, sizeof *out);
  nncl_array logits = {0}, act = {0}, grad = {0}, onehot = {0};
  nncl_status st;
  if (!has_value(g, layer)) {
    list_layers(g, layer);
    return NNCL_ERR_NOT_FOUND;
  }
  const char *in_name = nncl_graph_input_name(g, 0), *out_name = nncl_graph_output_name(g, 0);
  if ((st = nncl_graph_set_input(g, in_name, input)) != NNCL_OK || (st = nncl_graph_run(g)) ||
      (st = nncl_graph_get_output(g, 0, &logits)))
    goto done;
  if (logits.dtype != NNCL_FLOAT32 || logits.shape.rank != 2 || logits.shape.dims[0] != 1) {
    fprintf(stderr, "gradcam: output 0 '%s' is not float32 scores [1, classes]\n", out_name);
    st = NNCL_ERR_SHAPE;
    goto done;
  }
  const int k = (int)logits.shape.dims[1];
  const float *l = logits.data;
  if (klass >= k) {
    fprintf(stderr, "gradcam: class %d is out of range: the model has %d classes\n", klass, k);
    st = NNCL_ERR_INVALID_ARGUMENT;
    goto done;
  }
  if (klass < 0) {
    klass = 0;
    for (int j = 1; j < k; j++)
      if (l[j] > l[klass]) klass = j;
  }
  out->klass = klass;
  out->score = l[klass];
  /* score = sum(logits * onehot): autodiff differentiates the sum of a value's elements */
  if ((st = nncl_array_alloc(&onehot, NNCL_FLOAT32, &logits.shape)) != NNCL_OK) goto done;
  memset(onehot.data, 0, nncl_array_bytes(&onehot));
  ((float *)onehot.data)[klass] = 1.0f;
  const char *mul_in[2] = {out_name, "gradcam/onehot"}, *mul_out[1] = {"gradcam/score"};
  const char *wrt[1] = {layer}, *names[1] = {GRAD_NAME};
  if ((st = nncl_graph_add_constant(g, "gradcam/onehot", &onehot)) ||
      (st = nncl_graph_add_node(g, "Mul", "gradcam/select", 2, mul_in, 1, mul_out, NULL)) ||
      (st = nncl_graph_add_gradients(g, "gradcam/score", 1, wrt, names)) ||
      (st = nncl_graph_add_output(g, layer)) || (st = nncl_graph_run(g)) ||
      (st = nncl_graph_get_output_by_name(g, layer, &act)) ||
      (st = nncl_graph_get_output_by_name(g, GRAD_NAME, &grad)))
    goto done;
  if (act.shape.rank != 4 || act.shape.dims[0] != 1 || act.dtype != NNCL_FLOAT32) {
    char sb[96];
    fprintf(stderr, "gradcam: layer '%s' is %s, expected float32 feature maps [1, C, h, w]\n",
            layer, nncl_shape_format(&act.shape, sb, sizeof sb));
    st = NNCL_ERR_SHAPE;
    goto done;
  }
  const int c = (int)act.shape.dims[1], h = (int)act.shape.dims[2], w = (int)act.shape.dims[3];
  const size_t hw = (size_t)h * (size_t)w;
  double *sum = calloc(hw, sizeof *sum);
  if (!sum || !(out->cam = malloc(hw * sizeof *out->cam))) {
    free(sum);
    st = NNCL_ERR_OUT_OF_HOST_MEMORY;
    goto done;
  }
  const float *a = act.data, *dg = grad.data;
  for (int ch = 0; ch < c; ch++) {
    double wc = 0.0;
    for (size_t i = 0; i < hw; i++) wc += dg[(size_t)ch * hw + i];
    wc /= (double)hw;
    for (size_t i = 0; i < hw; i++) sum[i] += wc * a[(size_t)ch * hw + i];
  }
  for (size_t i = 0; i < hw; i++) out->cam[i] = sum[i] > 0.0 ? (float)sum[i] : 0.0f;
  free(sum);
  out->h = h;
  out->w = w;
done:
  nncl_array_free(&logits);
  nncl_array_free(&act);
  nncl_array_free(&grad);
  nncl_array_free(&onehot);
  return st;
}

void gradcam_resize(const float *cam, int h, int w, float *dst, int oh, int ow) {
  float lo = cam[0], hi = cam[0];
  for (int i = 1; i < h * w; i++) {
    lo = fminf(lo, cam[i]);
    hi = fmaxf(hi, cam[i]);
  }
  const float range = hi - lo + DEMO_CAM_EPS;
  for (int y = 0; y < oh; y++) {
    float sy = fminf(fmaxf(((float)y + 0.5f) * (float)h / (float)oh - 0.5f, 0.0f), (float)h - 1);
    int y0 = (int)sy, y1 = y0 + 1 < h ? y0 + 1 : y0;
    float fy = sy - (float)y0;
    for (int x = 0; x < ow; x++) {
      float sx = fminf(fmaxf(((float)x + 0.5f) * (float)w / (float)ow - 0.5f, 0.0f), (float)w - 1);
      int x0 = (int)sx, x1 = x0 + 1 < w ? x0 + 1 : x0;
      float fx = sx - (float)x0;
      float v = (1 - fy) * ((1 - fx) * cam[y0 * w + x0] + fx * cam[y0 * w + x1]) +
                fy * ((1 - fx) * cam[y1 * w + x0] + fx * cam[y1 * w + x1]);
      dst[(size_t)y * ow + x] = (v - lo) / range;
    }
  }
}
