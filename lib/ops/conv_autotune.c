/* conv_autotune.c: the remembered winners of NNCL_CONV_AUTOTUNE=1, one "key algo" line per
   (device, layer shape) in conv_autotune.txt next to the program cache. Rewritten through a temp
   file and a rename, so a crash never leaves half a file; an unreadable file means "not tuned". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conv.h"

static int file_path(nncl_context *ctx, char *buf, size_t len) {
  const char *dir = nncl_context_cache_dir(ctx);
  if (!dir || !*dir) return 0;
  return snprintf(buf, len, "%s/conv_autotune.txt", dir) < (int)len;
}

void conv_autotune_key(const struct op_call *c, const struct conv_geom *g, char *buf, size_t len) {
  const nncl_device_info *d = &c->ctx->info;
  char dev[800];
  snprintf(dev, sizeof dev, "%.255s|%.127s|%.127s", d->name, d->version, d->driver_version);
  for (char *p = dev; *p; p++)
    if (*p == ' ' || *p == '\t' || *p == '\n') *p = '_';
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
  char path[1200], line[1024];
  if (!file_path(ctx, path, sizeof path)) return -1;
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int found = -1;
  size_t kl = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, kl) != 0 || line[kl] != ' ') continue;
    char *name = line + kl + 1;
    name[strcspn(name, "\r\n")] = 0;
    found = algo_id(key, name); /* later lines win */
  }
  fclose(f);
  return found;
}

void conv_autotune_store(nncl_context *ctx, const char *key, int algo) {
  char path[1200], tmp[1300], line[1024];
  if (!file_path(ctx, path, sizeof path)) return;
  snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
  FILE *out = fopen(tmp, "w");
  if (!out) return; /* the cache directory may not exist yet or be read-only: tuning is optional */
  FILE *in = fopen(path, "r");
  size_t kl = strlen(key);
  if (in) {
    while (fgets(line, sizeof line, in))
      if (!(strncmp(line, key, kl) == 0 && line[kl] == ' ')) fputs(line, out);
    fclose(in);
  }
  fprintf(out, "%s %s\n", key, conv_algo_name((enum conv_algo)algo));
  if (fclose(out) != 0 || rename(tmp, path) != 0) remove(tmp);
}
