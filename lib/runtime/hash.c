/* hash.c: cache-key hashing through the xxhash library (XXH3 128-bit). */
#include <stdio.h>
#include <xxhash.h>

#include "runtime.h"

void nncl__hash_hex(const void *data, size_t len, char out[33]) {
  XXH128_hash_t h = XXH3_128bits(data, len);
  snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}
