/* tune_store.c: remembered measured choices (conv algorithms, GEMM implementations), one
   "key value" line per (device, shape) in a small text file next to the program cache. Rewritten
   through a temp file and a rename, so a crash never leaves half a file; an unreadable file means
   "not measured yet". */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime.h"

static bool file_path(nncl_context *ctx, const char *file, char *buf, size_t len) {
  const char *dir = nncl_context_cache_dir(ctx);
  if (!dir || !*dir) return false;
  return snprintf(buf, len, "%s/%s", dir, file) < (int)len;
}

void nncl__tune_device_key(const nncl_context *ctx, char *buf, size_t len) {
  const nncl_device_info *d = &ctx->info;
  snprintf(buf, len, "%.255s|%.127s|%.127s", d->name, d->version, d->driver_version);
  for (char *p = buf; *p; p++)
    if (*p == ' ' || *p == '\t' || *p == '\n') *p = '_';
}

bool nncl__tune_lookup(nncl_context *ctx, const char *file, const char *key, char *value,
                       size_t value_len) {
  char path[1200], line[1024];
  if (!file_path(ctx, file, path, sizeof path)) return false;
  FILE *f = fopen(path, "r");
  if (!f) return false;
  bool found = false;
  size_t kl = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, kl) != 0 || line[kl] != ' ') continue;
    char *v = line + kl + 1;
    v[strcspn(v, "\r\n")] = 0;
    snprintf(value, value_len, "%s", v); /* later lines win */
    found = true;
  }
  fclose(f);
  return found;
}

void nncl__tune_store(nncl_context *ctx, const char *file, const char *key, const char *value) {
  char path[1200], tmp[1300], line[1024];
  if (!file_path(ctx, file, path, sizeof path)) return;
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
  fprintf(out, "%s %s\n", key, value);
  if (fclose(out) != 0 || rename(tmp, path) != 0) remove(tmp);
}
