/* demo_cam.c: builds the class-activation-map subgraph with the graph builder, so the maps are
   computed by the device's Conv, Relu, Reduce*, Sub, Add, Div and Resize ops. A 1x1 convolution
   whose filters are the linear layer's rows weights every feature map by every class at once;
   the caller picks the predicted class's map. */
#include "demo_cam.h"

#include <string.h>

static nncl_status add_const(nncl_graph *g, const char *name, nncl_dtype dt, int rank, int64_t len,
                             const void *values) {
  nncl_array a;
  memset(&a, 0, sizeof a);
  a.dtype = dt;
  a.shape.rank = rank;
  if (rank == 1) a.shape.dims[0] = len;
  a.data = (void *)values; /* nncl_graph_add_constant copies it */
  return nncl_graph_add_constant(g, name, &a);
}

static nncl_status node(nncl_graph *g, const char *op, const char *name, int n_in,
                        const char *const *in, const char *out, nncl_node **n) {
  return nncl_graph_add_node(g, op, name, n_in, in, 1, &out, n);
}

nncl_status demo_cam_add(nncl_graph *g, const char *features, const char *fc_weight, float scale,
                         const char *out_name) {
  static const int64_t filter_shape[4] = {0, 0, 1, 1}; /* [K, C] -> [K, C, 1, 1]; 0 keeps a dim */
  static const int64_t spatial[2] = {2, 3};
  const float eps = DEMO_CAM_EPS;
  const float scales[4] = {1.0f, 1.0f, scale, scale};
  nncl_node *n = NULL;
  nncl_status st;
#define TRY(x)                                                                                     \
  do {                                                                                             \
    if ((st = (x)) != NNCL_OK) return st;                                                          \
  } while (0)
  TRY(add_const(g, "cam/filter_shape", NNCL_INT64, 1, 4, filter_shape));
  TRY(add_const(g, "cam/eps", NNCL_FLOAT32, 0, 1, &eps));
  TRY(add_const(g, "cam/scales", NNCL_FLOAT32, 1, 4, scales));

  TRY(node(g, "Reshape", "cam/filters", 2, (const char *[]){fc_weight, "cam/filter_shape"},
           "cam/filters", NULL));
  TRY(node(g, "Conv", "cam/weighted_sum", 2, (const char *[]){features, "cam/filters"}, "cam/raw",
           NULL));
  TRY(node(g, "Relu", "cam/relu", 1, (const char *[]){"cam/raw"}, "cam/relu", NULL));
  TRY(node(g, "ReduceMax", "cam/max", 1, (const char *[]){"cam/relu"}, "cam/max", &n));
  TRY(nncl_node_set_ints(g, n, "axes", spatial, 2));
  TRY(nncl_node_set_int(g, n, "keepdims", 1));
  TRY(node(g, "ReduceMin", "cam/min", 1, (const char *[]){"cam/relu"}, "cam/min", &n));
  TRY(nncl_node_set_ints(g, n, "axes", spatial, 2));
  TRY(nncl_node_set_int(g, n, "keepdims", 1));
  TRY(node(g, "Sub", "cam/shifted", 2, (const char *[]){"cam/relu", "cam/min"}, "cam/shifted",
           NULL));
  TRY(node(g, "Sub", "cam/range", 2, (const char *[]){"cam/max", "cam/min"}, "cam/range", NULL));
  TRY(node(g, "Add", "cam/range_eps", 2, (const char *[]){"cam/range", "cam/eps"}, "cam/range_eps",
           NULL));
  TRY(node(g, "Div", "cam/normalised", 2, (const char *[]){"cam/shifted", "cam/range_eps"},
           "cam/normalised", NULL));
  TRY(node(g, "Resize", "cam/upsample", 3, (const char *[]){"cam/normalised", "", "cam/scales"},
           out_name, &n));
  TRY(nncl_node_set_string(g, n, "mode", "linear"));
  TRY(nncl_node_set_string(g, n, "coordinate_transformation_mode", "half_pixel"));
  TRY(nncl_graph_add_output(g, out_name));
#undef TRY
  return NNCL_OK;
}
