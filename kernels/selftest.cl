/* selftest.cl: tiny kernels that prove a device builds and runs code correctly (`nncl selftest`,
   runtime tests). Not used by models.
   -D SCALE: factor applied by selftest_axpby (default 1.0f). */
#include "common/index.cl"

#ifndef SCALE
#define SCALE 1.0f
#endif

__kernel void selftest_vadd(__global const float *a, __global const float *b, __global float *c,
                            const uint n) {
  const uint i = get_global_id(0);
  GUARD(i, n);
  c[i] = a[i] + b[i];
}

/* y = SCALE * (alpha * x + y): exercises -D options and scalar arguments. */
__kernel void selftest_axpby(const float alpha, __global const float *x, __global float *y,
                             const uint n) {
  const uint i = get_global_id(0);
  GUARD(i, n);
  y[i] = SCALE * (alpha * x[i] + y[i]);
}

/* Work-group reduction through local memory: out[g] = sum of the group's inputs. */
__kernel void selftest_group_sum(__global const float *x, __global float *out, __local float *tmp,
                                 const uint n) {
  const uint i = get_global_id(0), l = get_local_id(0), ls = get_local_size(0);
  tmp[l] = i < n ? x[i] : 0.0f;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint s = ls / 2; s > 0; s >>= 1) {
    if (l < s) tmp[l] += tmp[l + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (l == 0) out[get_group_id(0)] = tmp[0];
}

/* Deliberately broken when -D SELFTEST_BREAK is given: lets tests check build-failure errors. */
#ifdef SELFTEST_BREAK
__kernel void selftest_broken(__global float *x) { x[0] = undefined_symbol_for_test; }
#endif
