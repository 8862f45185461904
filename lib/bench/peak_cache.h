/* peak_cache.h: the per-device file that keeps `nncl bench peak` figures next to the program
   cache, so the profiler reads them without re-measuring. */
#ifndef NNCL_PEAK_CACHE_H
#define NNCL_PEAK_CACHE_H
#include "nncl/bench.h"
#include "runtime.h"

/* NNCL_OK with the cached figures (from_cache = 1); NNCL_ERR_NOT_FOUND, leaving no error message,
   when the cache is off or the file is missing, unreadable, for another device or driver, or
   lacks a figure. */
nncl_status peak_cache_load(nncl_context *ctx, nncl_peak *out);
/* Best effort: written to a temp file and renamed; failures are logged, never fatal. */
void peak_cache_store(nncl_context *ctx, const nncl_peak *p);
#endif
