/* rand_stream.h: splitmix64, the reproducible random stream the CLI's built-in networks draw their
   initial weights from (the same seed gives the same weights on every machine). */
#ifndef NNCL_TOOLS_RAND_STREAM_H
#define NNCL_TOOLS_RAND_STREAM_H

#include <stdint.h>

static inline uint64_t rand_stream_u64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* uniform in (0, 1]: never 0, so Box-Muller's logarithm is finite */
static inline double rand_stream_unit(uint64_t *state) {
  return ((double)(rand_stream_u64(state) >> 11) + 1.0) / 9007199254740992.0;
}

#endif
