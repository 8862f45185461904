/* style_net.h: the built-in feature network of `nncl style`: conv 3x3 + ReLU layers with fixed
   random Gaussian filters at three scales (average pooling between them), whose Gram matrices
   describe a texture (Ustyuzhaninov et al. 2017: random shallow networks synthesise textures). */
#ifndef NNCL_STYLE_NET_H
#define NNCL_STYLE_NET_H

#include <stdint.h>

#include "nncl/nncl.h"

#define STYLE_NET_LEVELS 3

typedef struct style_net_spec {
  int in_channels;             /* 1 or 3 */
  int width[STYLE_NET_LEVELS]; /* filters per level */
  uint64_t seed;               /* the filters are a function of the seed alone */
} style_net_spec;

/* The CLI's network: 3 -> 32 -> 64 -> 128 filters, seed 1. */
void style_net_default(style_net_spec *s, int in_channels);

/* Filters of level l (0-based) as the network uses them: [width[l], fan-in channels, 3, 3] from
   N(0, 2 / fan_in) (He's scale, so activations keep their size through the levels). */
nncl_status style_net_filters(const style_net_spec *s, int l, nncl_array *out);

/* Appends the network to g reading value `input` [1, C, H, W]; level l's ReLU output is named
   "style/relu<l+1>" (level l > 0 first averages 2x2 blocks of the previous level). */
nncl_status style_net_build(nncl_graph *g, const style_net_spec *s, const char *input);

/* Name of level l's output, as style_net_build names it (static storage). */
const char *style_net_layer(int l);

#endif
