/* train_dropout.cl: Dropout in training mode (lib/train/op_dropout_train.c). Counter-based
   randomness: element i of the step's draw is a hash (SplitMix64's finaliser, a bijection of
   64-bit counters with good avalanche) of (seed, step, i), so a (seed, step) pair always gives
   the same mask on every device and work-group size, and no RNG state is kept. An element is
   kept when its uniform u in [0, 1) is >= ratio; scale holds 1 / (1 - ratio) for kept elements
   and 0 otherwise, which is also the gradient's factor.
   No -D parameters. */
#include "common/index.cl"

inline ulong dropout_mix(ulong z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
  return z ^ (z >> 31);
}

__kernel void dropout_train(__global const float *x, __global const long *step, __global float *y,
                            __global float *scale, const uint n, const ulong seed,
                            const float ratio, const float keep_scale) {
  const uint i = get_global_id(0);
  GUARD(i, n);
  const ulong key = dropout_mix(seed ^ dropout_mix((ulong)step[0] + 0x9E3779B97F4A7C15UL));
  const float u = (float)(dropout_mix(key + (ulong)i) >> 40) * (1.0f / 16777216.0f);
  const float s = u >= ratio ? keep_scale : 0.0f;
  scale[i] = s;
  y[i] = x[i] * s;
}
