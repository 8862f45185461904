/* conv_autotune.c: the remembered winners of NNCL_CONV_AUTOTUNE=1, one "key algo" line per
   (device, layer shape) in conv_autotune.txt next to the program cache (the runtime's tune store,
   tune_store.c, keeps the file). */
#include <stdio.h>
#include <string.h>

#include "conv.h"

void conv_autotune_key(const struct op_call *c, const struct conv_geom *g, char *buf, size_t len) {
  char dev[800];
  nncl__tune_device_key(c->ctx, dev, sizeof dev);
  snprintf(buf, len,
           "%s|%s|n%lld_c%lld_h%lld_w%lld_k%lld_r%lld_s%lld_st%lldx%lld_d%lldx%lld_p%lld.%lld.%lld."
           "%lld_g%lld_w%d",
           dev, g->transpose ? "convT" : "conv", (long long)g->N, (long long)g->C, (long long)g->H,
           (long long)g->W, (long long)g->K, (long long)g->R, (long long)g->S, (long long)g->sh,
           (long long)g->sw, (long long)g->dh, (long long)g->dw, (long long)g->pt, (long long)g->pl,
           (long long)g->pb, (long long)g->pr, (long long)g->groups, conv_host_weights(c) != NULL);
}

/* Algorithm id from a name, within the Conv or ConvTranspose range. */
static int algo_id(const char *key, const char *name) {
  int t = strstr(key, "|convT|") != NULL;
  for (int a = t ? CONVT_DIRECT : 0; a < (t ? CONV_ALGO_COUNT : CONVT_DIRECT); a++)
    if (strcmp(conv_algo_name((enum conv_algo)a), name) == 0) return a;
  return -1;
}

int conv_autotune_lookup(nncl_context *ctx, const char *key) {
  char name[128];
  return nncl__tune_lookup(ctx, "conv_autotune.txt", key, name, sizeof name) ? algo_id(key, name)
                                                                             : -1;
}

void conv_autotune_store(nncl_context *ctx, const char *key, int algo) {
  nncl__tune_store(ctx, "conv_autotune.txt", key, conv_algo_name((enum conv_algo)algo));
}
