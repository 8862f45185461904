/* style_net.c: the built-in random-filter feature network of `nncl style` (see style_net.h). */
#include "style_net.h"
#include "rand_stream.h"

#include <math.h>
#include <stdio.h>

static const char *const layer_names[STYLE_NET_LEVELS] = {"style/relu1", "style/relu2",
                                                          "style/relu3"};

void style_net_default(style_net_spec *s, int in_channels) {
  s->in_channels = in_channels;
  s->width[0] = 32;
  s->width[1] = 64;
  s->width[2] = 128;
  s->seed = 1;
}

const char *style_net_layer(int l) {
  return l >= 0 && l < STYLE_NET_LEVELS ? layer_names[l] : NULL;
}

nncl_status style_net_filters(const style_net_spec *s, int l, nncl_array *out) {
  if (l < 0 || l >= STYLE_NET_LEVELS) return NNCL_ERR_INVALID_ARGUMENT;
  const int fan_c = l == 0 ? s->in_channels : s->width[l - 1];
  const nncl_shape shape = {4, {s->width[l], fan_c, 3, 3}};
  nncl_status st = nncl_array_alloc(out, NNCL_FLOAT32, &shape);
  if (st != NNCL_OK) return st;
  /* each level its own stream, so changing one level's width leaves the others' filters alone */
  uint64_t state = s->seed * 0x100000001b3ull + (uint64_t)l;
  const double sigma = sqrt(2.0 / (double)(fan_c * 9));
  float *w = out->data;
  const int64_t n = nncl_shape_numel(&shape);
  for (int64_t i = 0; i < n; i += 2) { /* Box-Muller: two normal deviates per pair of uniforms */
    double r = sqrt(-2.0 * log(rand_stream_unit(&state))),
           a = 6.283185307179586 * rand_stream_unit(&state);
    w[i] = (float)(sigma * r * cos(a));
    if (i + 1 < n) w[i + 1] = (float)(sigma * r * sin(a));
  }
  return NNCL_OK;
}

nncl_status style_net_build(nncl_graph *g, const style_net_spec *s, const char *input) {
  const char *x = input;
  char pooled[32], conv_name[32], conv_out[32], pool_name[32], relu_name[32];
  for (int l = 0; l < STYLE_NET_LEVELS; l++) {
    if (l > 0) {
      snprintf(pool_name, sizeof pool_name, "style/pool%d", l + 1);
      snprintf(pooled, sizeof pooled, "style/pooled%d", l + 1);
      nncl_status st = nncl_graph_pool2d(g, pool_name, "AveragePool", x, pooled, 2, 2, 0);
      if (st != NNCL_OK) return st;
      x = pooled;
    }
    nncl_array w = {0};
    nncl_status st = style_net_filters(s, l, &w);
    if (st != NNCL_OK) return st;
    snprintf(conv_name, sizeof conv_name, "style/conv%d", l + 1);
    snprintf(conv_out, sizeof conv_out, "style/conv%d_out", l + 1);
    snprintf(relu_name, sizeof relu_name, "style/relu_node%d", l + 1);
    st = nncl_graph_conv2d(g, conv_name, x, conv_out, &w, NULL, 1, 1, 1, 1);
    nncl_array_free(&w);
    if (st != NNCL_OK) return st;
    if ((st = nncl_graph_activation(g, relu_name, "Relu", conv_out, layer_names[l])) != NNCL_OK)
      return st;
    x = layer_names[l];
  }
  return NNCL_OK;
}
