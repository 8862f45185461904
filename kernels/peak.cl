/* peak.cl: microkernels that measure what a device can do (`nncl bench peak`, in the spirit of
   clpeak): float32 multiply-add throughput, global memory read/write/copy bandwidth, and an empty
   kernel for launch latency. The profiler reads each layer against these roofs.

   -D PEAK_READS: float4 loads (or stores) per work-item in the bandwidth kernels (default 16);
                  work-item i touches elements i, i + G, i + 2G, ... (G = global size) so that
                  neighbouring work-items touch neighbouring addresses on every iteration.
   -D PEAK_FMA:   1 when the device has hardware single-precision FMA (CL_FP_FMA): fma() is then
                  one instruction, while mad() may become a multiply and an add (PoCL does that);
                  0 (default) uses mad(), the fast choice where fma() is emulated in software. */
#include "common/index.cl"

#ifndef PEAK_READS
#define PEAK_READS 16
#endif
#ifndef PEAK_FMA
#define PEAK_FMA 0
#endif

#if PEAK_FMA
#define PEAK_MULADD(x, y, z) fma((x), (y), (z))
#else
#define PEAK_MULADD(x, y, z) mad((x), (y), (z))
#endif

/* Eight independent multiply-add chains per work-item: enough to hide FMA latency on CPUs (whose
   cores run a work-group's items one after another, so the chains are the only parallelism in
   flight) and on GPUs (where many resident work-items hide it anyway). x = x * m + c cannot be
   folded without reassociation, and m < 1 keeps the values bounded and away from denormals. */
#define PEAK_MAD8()                                                                                \
  x0 = PEAK_MULADD(x0, m, c);                                                                      \
  x1 = PEAK_MULADD(x1, m, c);                                                                      \
  x2 = PEAK_MULADD(x2, m, c);                                                                      \
  x3 = PEAK_MULADD(x3, m, c);                                                                      \
  x4 = PEAK_MULADD(x4, m, c);                                                                      \
  x5 = PEAK_MULADD(x5, m, c);                                                                      \
  x6 = PEAK_MULADD(x6, m, c);                                                                      \
  x7 = PEAK_MULADD(x7, m, c)

/* 64 multiply-adds (8 per chain) per loop iteration: the loop counter costs nothing next to it. */
#define PEAK_MAD64()                                                                               \
  PEAK_MAD8();                                                                                     \
  PEAK_MAD8();                                                                                     \
  PEAK_MAD8();                                                                                     \
  PEAK_MAD8();                                                                                     \
  PEAK_MAD8();                                                                                     \
  PEAK_MAD8();                                                                                     \
  PEAK_MAD8();                                                                                     \
  PEAK_MAD8()

/* One body per vector type: `iters` loop iterations of 64 multiply-adds of type T, i.e.
   128 * iters * width(T) floating-point operations per work-item. The result is stored only when
   it exceeds `threshold`: the benchmark passes FLT_MAX, which the bounded chains never exceed, so
   the work cannot be dropped yet no memory traffic enters the measurement; tests pass -FLT_MAX
   to read every result. Items past n (the grid is rounded up to the work-group size) compute but
   never store. */
#define PEAK_FMA_BODY(T, SUM)                                                                      \
  const uint gid = get_global_id(0);                                                               \
  T m = (T)(mul), c = (T)(add);                                                                    \
  T x0 = (T)((float)(gid & 7u) * 0.125f), x1 = x0 + (T)(0.01f), x2 = x0 + (T)(0.02f),              \
    x3 = x0 + (T)(0.03f), x4 = x0 + (T)(0.04f), x5 = x0 + (T)(0.05f), x6 = x0 + (T)(0.06f),        \
    x7 = x0 + (T)(0.07f);                                                                          \
  for (uint it = 0; it < iters; it++) {                                                            \
    PEAK_MAD64();                                                                                  \
  }                                                                                                \
  T s = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));                                         \
  float total = SUM;                                                                               \
  if (total > threshold && gid < n) out[gid] = total

__kernel void peak_fma_float(__global float *out, const uint n, const uint iters, const float mul,
                             const float add, const float threshold) {
  PEAK_FMA_BODY(float, s);
}

__kernel void peak_fma_float4(__global float *out, const uint n, const uint iters, const float mul,
                              const float add, const float threshold) {
  PEAK_FMA_BODY(float4, (s.x + s.y) + (s.z + s.w));
}

__kernel void peak_fma_float8(__global float *out, const uint n, const uint iters, const float mul,
                              const float add, const float threshold) {
  PEAK_FMA_BODY(float8, ((s.s0 + s.s1) + (s.s2 + s.s3)) + ((s.s4 + s.s5) + (s.s6 + s.s7)));
}

/* The widest type: CPUs with 512-bit vectors (AVX-512) need it to fill their registers. */
__kernel void peak_fma_float16(__global float *out, const uint n, const uint iters, const float mul,
                               const float add, const float threshold) {
  PEAK_FMA_BODY(float16, (((s.s0 + s.s1) + (s.s2 + s.s3)) + ((s.s4 + s.s5) + (s.s6 + s.s7))) +
                             (((s.s8 + s.s9) + (s.sa + s.sb)) + ((s.sc + s.sd) + (s.se + s.sf))));
}

/* Reads n4 float4 (n4 <= global size * PEAK_READS); the sum is stored only when it exceeds
   `threshold` (see above), so the kernel moves no bytes besides the reads it is measuring. */
__kernel void peak_read(__global const float4 *src, __global float *out, const uint n4,
                        const float threshold) {
  const uint gid = get_global_id(0), g = get_global_size(0);
  float4 acc = (float4)(0.0f);
#pragma unroll
  for (uint k = 0; k < PEAK_READS; k++) {
    const uint i = gid + k * g;
    if (i < n4) acc += src[i];
  }
  const float total = (acc.x + acc.y) + (acc.z + acc.w);
  if (total > threshold) out[gid] = total;
}

/* Writes n4 float4. */
__kernel void peak_write(__global float4 *dst, const uint n4, const float value) {
  const uint gid = get_global_id(0), g = get_global_size(0);
  const float4 v = (float4)(value, value + 1.0f, value + 2.0f, value + 3.0f);
#pragma unroll
  for (uint k = 0; k < PEAK_READS; k++) {
    const uint i = gid + k * g;
    if (i < n4) dst[i] = v;
  }
}

/* Copies n4 float4. */
__kernel void peak_copy(__global const float4 *src, __global float4 *dst, const uint n4) {
  const uint gid = get_global_id(0), g = get_global_size(0);
#pragma unroll
  for (uint k = 0; k < PEAK_READS; k++) {
    const uint i = gid + k * g;
    if (i < n4) dst[i] = src[i];
  }
}

/* The same three with each work-item on PEAK_READS consecutive float4 (i = gid * PEAK_READS + k):
   the pattern CPUs stream best, where one core runs a work-group's items one after another. The
   benchmark times both layouts and keeps the faster. */
__kernel void peak_read_blocked(__global const float4 *src, __global float *out, const uint n4,
                                const float threshold) {
  const uint gid = get_global_id(0), base = gid * PEAK_READS;
  float4 acc = (float4)(0.0f);
#pragma unroll
  for (uint k = 0; k < PEAK_READS; k++)
    if (base + k < n4) acc += src[base + k];
  const float total = (acc.x + acc.y) + (acc.z + acc.w);
  if (total > threshold) out[gid] = total;
}

__kernel void peak_write_blocked(__global float4 *dst, const uint n4, const float value) {
  const uint gid = get_global_id(0), base = gid * PEAK_READS;
  const float4 v = (float4)(value, value + 1.0f, value + 2.0f, value + 3.0f);
#pragma unroll
  for (uint k = 0; k < PEAK_READS; k++)
    if (base + k < n4) dst[base + k] = v;
}

__kernel void peak_copy_blocked(__global const float4 *src, __global float4 *dst, const uint n4) {
  const uint gid = get_global_id(0), base = gid * PEAK_READS;
#pragma unroll
  for (uint k = 0; k < PEAK_READS; k++)
    if (base + k < n4) dst[base + k] = src[base + k];
}

/* Does nothing: launch latency and back-to-back launch cost. */
__kernel void peak_empty(__global float *out) { (void)out; }
