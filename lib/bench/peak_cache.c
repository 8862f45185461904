/* peak_cache.c: reads and writes peak-<hash>.json in the context's cache directory. The hash and
   the "key" field inside the file cover platform, device and driver, so a driver update or
   another device re-measures. JSON (cJSON) keeps the file readable by people and scripts. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk_cache.h"
#include "peak_cache.h"

#define PEAK_CACHE_FORMAT 2

/* The figures a cache file must hold, by name: one table for writing and reading. */
/* clang-format off */
#define PEAK_FIELDS(X)                                                                     \
  X(fma_gflops) X(fma_gflops_float) X(fma_gflops_float4) X(fma_gflops_float8)            \
  X(fma_gflops_float16) X(read_gbps)                                                       \
  X(write_gbps) X(copy_gbps) X(mem_gbps) X(h2d_gbps) X(d2h_gbps) X(launch_us)              \
  X(launch_b2b_us) X(measure_seconds) X(measured_unix)
/* clang-format on */

static void cache_key(const nncl_context *ctx, char *out, size_t n) {
  const nncl_device_info *d = &ctx->info;
  snprintf(out, n, "nncl peak cache format %d\nplatform %s | %s\ndevice %s | %s\ndriver %s\n",
           PEAK_CACHE_FORMAT, d->platform_name, d->platform_version, d->name, d->version,
           d->driver_version);
}

char *nncl_bench_peak_path(nncl_context *ctx, char *buf, size_t len) {
  if (!buf || !len) return buf;
  buf[0] = 0;
  if (!ctx || !ctx->cache_dir[0]) return buf;
  char key[1024], hex[33];
  cache_key(ctx, key, sizeof key);
  nncl__hash_hex(key, strlen(key), hex);
  snprintf(buf, len, "%s/peak-%s.json", ctx->cache_dir, hex);
  return buf;
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long n = ftell(f);
    rewind(f);
    if (n > 0 && n < (1 << 20) && (buf = malloc((size_t)n + 1)) != NULL) {
      if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
      } else {
        buf[n] = 0;
      }
    }
  }
  fclose(f);
  return buf;
}

nncl_status peak_cache_load(nncl_context *ctx, nncl_peak *out) {
  char path[1200], key[1024];
  nncl_bench_peak_path(ctx, path, sizeof path);
  if (!path[0]) return NNCL_ERR_NOT_FOUND;
  char *text = read_text(path);
  if (!text) return NNCL_ERR_NOT_FOUND;
  cJSON *root = cJSON_Parse(text);
  free(text);
  cache_key(ctx, key, sizeof key);
  const cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "key");
  int ok = cJSON_IsString(k) && strcmp(k->valuestring, key) == 0;
  nncl_peak p;
  memset(&p, 0, sizeof p);
#define READ_FIELD(f)                                                                              \
  if (ok) {                                                                                        \
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, #f);                                   \
    if (cJSON_IsNumber(v) && v->valuedouble >= 0)                                                  \
      p.f = v->valuedouble;                                                                        \
    else                                                                                           \
      ok = 0;                                                                                      \
  }
  PEAK_FIELDS(READ_FIELD)
#undef READ_FIELD
  cJSON_Delete(root);
  if (!ok || p.fma_gflops <= 0 || p.mem_gbps <= 0) {
    nncl__log(ctx, NNCL_LOG_INFO, "peak cache %s is stale or damaged; measuring again", path);
    return NNCL_ERR_NOT_FOUND;
  }
  snprintf(p.device, sizeof p.device, "%s", ctx->info.name);
  snprintf(p.driver, sizeof p.driver, "%s", ctx->info.driver_version);
  p.from_cache = 1;
  *out = p;
  return NNCL_OK;
}

void peak_cache_store(nncl_context *ctx, const nncl_peak *p) {
  char path[1200], tmp[1300], key[1024];
  nncl_bench_peak_path(ctx, path, sizeof path);
  if (!path[0]) return;
  cache_key(ctx, key, sizeof key);
  cJSON *root = cJSON_CreateObject();
  int ok = root && cJSON_AddStringToObject(root, "key", key) &&
           cJSON_AddStringToObject(root, "device", p->device) &&
           cJSON_AddStringToObject(root, "driver", p->driver);
#define WRITE_FIELD(f) ok = ok && cJSON_AddNumberToObject(root, #f, p->f);
  PEAK_FIELDS(WRITE_FIELD)
#undef WRITE_FIELD
  char *text = ok ? cJSON_Print(root) : NULL;
  cJSON_Delete(root);
  if (!text) return;
  snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
  ok = nncl__mkdirs(ctx->cache_dir) == 0;
  FILE *f = ok ? fopen(tmp, "wb") : NULL;
  ok = f && fputs(text, f) >= 0;
  if (f && fclose(f) != 0) ok = 0;
  if (ok && rename(tmp, path) != 0) ok = 0;
  if (!ok) {
    remove(tmp);
    nncl__log(ctx, NNCL_LOG_WARN, "cannot write the peak cache file %s", path);
  }
  free(text);
}
