/* test_peak.c: the device peak microbenchmarks: the microkernels compute what they claim (checked
   against C), the measurement returns sane figures, and the per-device cache file round-trips,
   rejects stale or damaged files and is re-measured by nncl_bench_peak. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nncl/bench.h"
#include "peak_cache.h"
#include "runtime.h"
#include "test_util.h"

/* What peak_fma_<type> computes for work-item gid: 8 chains x <- x * m + c, 8 steps per chain
   per iteration, summed; `width` equal lanes. mad() may or may not round the product, so the
   comparison allows a few ulps per step. */
static float fma_reference(unsigned gid, unsigned iters, float m, float c, int width) {
  float x[8];
  x[0] = (float)(gid & 7u) * 0.125f;
  for (int j = 1; j < 8; j++) x[j] = x[0] + 0.01f * (float)j;
  for (unsigned it = 0; it < iters * 8; it++)
    for (int j = 0; j < 8; j++) x[j] = x[j] * m + c;
  float s = ((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]));
  return s * (float)width;
}

static void check_fma_variant(const char *kernel, int width, const char *options) {
  nncl_context *ctx = tu_ctx();
  cl_kernel k;
  cr_assert_eq(nncl__kernel_get(ctx, "peak", options, kernel, &k), NNCL_OK, "%s",
               nncl_context_last_error(ctx));
  enum { N = 100 }; /* not a multiple of the work-group size: the extra items must not write */
  cl_mem out;
  cr_assert_eq(nncl__buffer_create(ctx, 128 * 4, "fma out", &out), NNCL_OK);
  cr_assert_eq(nncl__buffer_fill_zero(ctx, out, 0, 128 * 4), NNCL_OK);
  const cl_uint n = N, iters = 5;
  const float m = 0.999f, c = 0.001f, threshold = -FLT_MAX;
  size_t global = N, local = 32;
  cr_assert_eq(NNCL_LAUNCH(ctx, k, kernel, 1, &global, &local, NNCL_ARG(out), NNCL_ARG(n),
                           NNCL_ARG(iters), NNCL_ARG(m), NNCL_ARG(c), NNCL_ARG(threshold)),
               NNCL_OK, "%s", nncl_context_last_error(ctx));
  float got[128], want[N];
  cr_assert_eq(nncl__buffer_download(ctx, out, 0, got, sizeof got), NNCL_OK);
  for (unsigned i = 0; i < N; i++) want[i] = fma_reference(i, iters, m, c, width);
  tu_assert_close(got, want, N, 1e-5, 1e-6, kernel);
  for (int i = N; i < 128; i++)
    cr_assert_eq(got[i], 0.0f, "%s: item %d past the end stored", kernel, i);
  nncl__buffer_release(out);
}

/* Both multiply-add flavours: fma() (devices with hardware FMA) and mad() (the others). */
static void check_fma(const char *kernel, int width) {
  for (int use_fma = 0; use_fma < 2; use_fma++)
    check_fma_variant(kernel, width, use_fma ? "-D PEAK_FMA=1" : "-D PEAK_FMA=0");
}

Test(peak_kernels, fma_float_matches_c) { check_fma("peak_fma_float", 1); }
Test(peak_kernels, fma_float4_matches_c) { check_fma("peak_fma_float4", 4); }
Test(peak_kernels, fma_float8_matches_c) { check_fma("peak_fma_float8", 8); }
Test(peak_kernels, fma_float16_matches_c) { check_fma("peak_fma_float16", 16); }

/* Read, write and copy on an awkward length (not a multiple of the work per item) so the bounds
   checks are exercised. */
Test(peak_kernels, read_write_copy_touch_every_element) {
  nncl_context *ctx = tu_ctx();
  enum { N4 = 1000, READS = 16 };
  size_t local = 16, global = (N4 + READS - 1) / READS; /* rounded up to 64 by the launch */
  float host[N4 * 4];
  tu_fill(host, N4 * 4, 7, -1, 1);
  cl_mem src, dst, sums;
  cr_assert_eq(nncl__buffer_from_host(ctx, host, sizeof host, "src", &src), NNCL_OK);
  cr_assert_eq(nncl__buffer_create(ctx, sizeof host + 64, "dst", &dst), NNCL_OK);
  cr_assert_eq(nncl__buffer_fill_zero(ctx, dst, 0, sizeof host + 64), NNCL_OK);
  cr_assert_eq(nncl__buffer_create(ctx, 64 * 4, "sums", &sums), NNCL_OK);
  cl_uint n4 = N4;
  cl_kernel kr, kw, kc;
  cr_assert_eq(nncl__kernel_get(ctx, "peak", "-D PEAK_FMA=1", "peak_read", &kr), NNCL_OK);
  cr_assert_eq(nncl__kernel_get(ctx, "peak", "-D PEAK_FMA=1", "peak_write", &kw), NNCL_OK);
  cr_assert_eq(nncl__kernel_get(ctx, "peak", "-D PEAK_FMA=1", "peak_copy", &kc), NNCL_OK);

  const float threshold = -FLT_MAX;
  cr_assert_eq(NNCL_LAUNCH(ctx, kr, NULL, 1, &global, &local, NNCL_ARG(src), NNCL_ARG(sums),
                           NNCL_ARG(n4), NNCL_ARG(threshold)),
               NNCL_OK);
  float got[64], want[64] = {0};
  cr_assert_eq(nncl__buffer_download(ctx, sums, 0, got, sizeof got), NNCL_OK);
  /* Item g of the rounded grid (G = 64) sums float4 elements g, g + G, ... below N4. */
  for (unsigned g = 0; g < 64; g++) {
    float acc[4] = {0, 0, 0, 0};
    for (unsigned r = 0; r < READS; r++) {
      unsigned i = g + r * 64;
      if (i < N4)
        for (int l = 0; l < 4; l++) acc[l] += host[i * 4 + l];
    }
    want[g] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  }
  tu_assert_close(got, want, 64, 1e-5, 1e-5, "peak_read sums");

  cr_assert_eq(
      NNCL_LAUNCH(ctx, kc, NULL, 1, &global, &local, NNCL_ARG(src), NNCL_ARG(dst), NNCL_ARG(n4)),
      NNCL_OK);
  static float copy[N4 * 4 + 16];
  cr_assert_eq(nncl__buffer_download(ctx, dst, 0, copy, sizeof host + 64), NNCL_OK);
  tu_assert_close(copy, host, N4 * 4, 0, 0, "peak_copy");
  for (int i = 0; i < 16; i++) cr_assert_eq(copy[N4 * 4 + i], 0.0f, "peak_copy wrote past the end");

  const float value = 2.0f;
  cr_assert_eq(
      NNCL_LAUNCH(ctx, kw, NULL, 1, &global, &local, NNCL_ARG(dst), NNCL_ARG(n4), NNCL_ARG(value)),
      NNCL_OK);
  cr_assert_eq(nncl__buffer_download(ctx, dst, 0, copy, sizeof host + 64), NNCL_OK);
  for (int i = 0; i < N4 * 4; i++)
    cr_assert_eq(copy[i], value + (float)(i % 4), "peak_write element %d is %g", i, copy[i]);
  for (int i = 0; i < 16; i++)
    cr_assert_eq(copy[N4 * 4 + i], 0.0f, "peak_write wrote past the end");
  nncl__buffer_release(src);
  nncl__buffer_release(dst);
  nncl__buffer_release(sums);
}

static int sane(double v, double lo, double hi) { return isfinite(v) && v > lo && v < hi; }
static int same(double a, double b) { return fabs(a - b) <= 1e-12 * fabs(b); }

/* One measurement (a few seconds on PoCL), then every cache behaviour against that file. */
Test(peak, measure_cache_and_reject, .timeout = 240) {
  nncl_context *ctx = tu_ctx();
  char path[1200];
  nncl_bench_peak_path(ctx, path, sizeof path);
  cr_assert(path[0], "tests run with NNCL_CACHE_DIR set, so the peak cache has a path");
  cr_assert(strstr(path, "/peak-") && strstr(path, ".json"), "%s", path);

  nncl_peak p;
  cr_assert_eq(nncl_bench_peak(ctx, 1, &p), NNCL_OK, "%s", nncl_context_last_error(ctx));
  cr_assert_eq(p.from_cache, 0);
  cr_assert(sane(p.fma_gflops_float, 0.01, 1e6) && sane(p.fma_gflops_float4, 0.01, 1e6) &&
                sane(p.fma_gflops_float8, 0.01, 1e6) && sane(p.fma_gflops_float16, 0.01, 1e6),
            "FMA %g %g %g %g", p.fma_gflops_float, p.fma_gflops_float4, p.fma_gflops_float8,
            p.fma_gflops_float16);
  cr_assert(sane(p.read_gbps, 0.01, 1e5) && sane(p.write_gbps, 0.01, 1e5) &&
                sane(p.copy_gbps, 0.01, 1e5),
            "memory %g %g %g", p.read_gbps, p.write_gbps, p.copy_gbps);
  cr_assert(sane(p.h2d_gbps, 0.01, 1e5) && sane(p.d2h_gbps, 0.01, 1e5), "transfer %g %g",
            p.h2d_gbps, p.d2h_gbps);
  cr_assert(sane(p.launch_us, 0, 1e6) && sane(p.launch_b2b_us, 0, 1e6), "launch %g %g", p.launch_us,
            p.launch_b2b_us);
  cr_assert(p.fma_gflops >= p.fma_gflops_float && p.fma_gflops >= p.fma_gflops_float4 &&
            p.fma_gflops >= p.fma_gflops_float8 && p.fma_gflops >= p.fma_gflops_float16);
  cr_assert(p.mem_gbps >= p.read_gbps && p.mem_gbps >= p.write_gbps && p.mem_gbps >= p.copy_gbps);
  cr_assert(strcmp(p.device, nncl_context_device(ctx)->name) == 0);
  cr_log_info(
      "peaks: FMA %.1f/%.1f/%.1f/%.1f GFLOP/s, read %.2f write %.2f copy %.2f GB/s, h2d %.2f "
      "d2h %.2f GB/s, launch %.1f us (%.1f back to back), %.2f s",
      p.fma_gflops_float, p.fma_gflops_float4, p.fma_gflops_float8, p.fma_gflops_float16,
      p.read_gbps, p.write_gbps, p.copy_gbps, p.h2d_gbps, p.d2h_gbps, p.launch_us, p.launch_b2b_us,
      p.measure_seconds);

  /* The file was written and reads back the same figures. */
  nncl_peak c;
  cr_assert_eq(nncl_bench_peak_load(ctx, &c), NNCL_OK);
  cr_assert_eq(c.from_cache, 1);
  /* cJSON prints 15 significant digits when they read back within an ulp or so. */
  cr_assert(same(c.fma_gflops, p.fma_gflops) && same(c.fma_gflops_float4, p.fma_gflops_float4));
  cr_assert(same(c.mem_gbps, p.mem_gbps) && same(c.copy_gbps, p.copy_gbps));
  cr_assert(same(c.h2d_gbps, p.h2d_gbps) && same(c.d2h_gbps, p.d2h_gbps));
  cr_assert(same(c.launch_us, p.launch_us) && same(c.launch_b2b_us, p.launch_b2b_us));
  cr_assert_eq(nncl_bench_peak(ctx, 0, &c), NNCL_OK);
  cr_assert_eq(c.from_cache, 1, "a cached device is not measured again");

  /* Damaged file: rejected, then re-measured and rewritten by nncl_bench_peak. */
  FILE *f = fopen(path, "w");
  cr_assert(f);
  fputs("{\"key\": \"trunc", f);
  fclose(f);
  cr_assert_eq(nncl_bench_peak_load(ctx, &c), NNCL_ERR_NOT_FOUND);

  /* Another device or driver's figures (same file name, other key): rejected. */
  nncl_peak other = p;
  peak_cache_store(ctx, &other);
  cr_assert_eq(nncl_bench_peak_load(ctx, &c), NNCL_OK);
  char *text = NULL;
  {
    f = fopen(path, "rb");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    text = calloc((size_t)n + 1, 1);
    cr_assert(fread(text, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
  }
  char *drv = strstr(text, "driver ");
  cr_assert(drv, "the key names the driver");
  drv[7] = drv[7] == 'X' ? 'Y' : 'X';
  f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  free(text);
  cr_assert_eq(nncl_bench_peak_load(ctx, &c), NNCL_ERR_NOT_FOUND);

  /* A file missing a figure: rejected. */
  peak_cache_store(ctx, &other);
  other.mem_gbps = 0; /* the roofs must be positive */
  peak_cache_store(ctx, &other);
  cr_assert_eq(nncl_bench_peak_load(ctx, &c), NNCL_ERR_NOT_FOUND);

  /* Restore a valid file for the other tests in this build folder. */
  peak_cache_store(ctx, &p);
  cr_assert_eq(nncl_bench_peak_load(ctx, &c), NNCL_OK);
}
