/* disk_cache.h: the on-disk cache of compiled program binaries. */
#ifndef NNCL_DISK_CACHE_H
#define NNCL_DISK_CACHE_H
#include "runtime.h"

/* Key text: cache format, library version, platform, device, driver, options, then the full
   source. malloc'ed; NULL when out of memory. */
char *disk_cache_key(nncl_context *ctx, const char *source_text, const char *options);
/* The source text inside a key made by disk_cache_key. */
const char *disk_cache_key_source(const char *key);
/* NNCL_OK and a built program when a valid file for this key exists; any damage, mismatch or
   load failure counts a reject and returns an error, leaving no message behind. */
nncl_status disk_cache_load(nncl_context *ctx, const char *key, cl_program *out);
/* Best effort: write to a temp file and rename; failures are logged, never fatal. */
void disk_cache_store(nncl_context *ctx, const char *key, cl_program prog);
/* Path of the cache file for this key (for tests that damage it). */
void disk_cache_path(const nncl_context *ctx, const char *key, char *out, size_t n);
/* Creates dir and its parents; 0 on success. */
int nncl__mkdirs(const char *dir);
#endif
