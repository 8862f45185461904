/* test_runtime.c: the foundation: device selection, program build and the disk cache (hits,
   damaged files, build failures), kernels against C, tensors and errors. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "disk_cache.h"
#include "nncl/selftest.h"
#include "test_util.h"

/* ---- device selection ---- */

Test(devices, list_has_a_device_with_facts) {
  nncl_device_info *list;
  int n;
  char msg[1024];
  cr_assert_eq(nncl_devices_list(&list, &n, msg, sizeof msg), NNCL_OK, "%s", msg);
  cr_assert_gt(n, 0);
  cr_assert_gt(list[0].compute_units, 0);
  cr_assert_gt(list[0].global_mem_bytes, 0);
  cr_assert_gt(list[0].max_work_group_size, 0);
  cr_assert_gt(strlen(list[0].name), 0);
  cr_assert_gt(strlen(list[0].driver_version), 0);
  nncl_devices_free(list);
}

/* Under a 120 MiB address-space limit the OpenCL driver cannot load; that must be reported as out
   of host memory, not "no OpenCL platform found". Runs in a child process (the limit must not
   touch the test runner) that has not loaded OpenCL yet. Not under AddressSanitizer, whose own
   allocator aborts the process when the limit is hit, before nncl can report anything. */
#if !defined(__SANITIZE_ADDRESS__)
Test(devices, low_memory_is_reported_as_such) {
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  pid_t child = fork();
  cr_assert_geq(child, 0);
  if (child == 0) {
    struct rlimit rl = {.rlim_cur = (rlim_t)120 << 20, .rlim_max = (rlim_t)120 << 20};
    if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(100);
    nncl_device_info *list = NULL;
    int count = 0;
    char msg[512] = "";
    nncl_status st = nncl_devices_list(&list, &count, msg, sizeof msg);
    if (write(fds[1], msg, strlen(msg)) < 0) _exit(101);
    _exit((int)st);
  }
  close(fds[1]);
  char msg[512] = "";
  ssize_t n = read(fds[0], msg, sizeof msg - 1);
  msg[n > 0 ? n : 0] = 0;
  close(fds[0]);
  int status = 0;
  cr_assert_eq(waitpid(child, &status, 0), child);
  cr_assert(WIFEXITED(status), "the child died (signal %d)", WTERMSIG(status));
  cr_assert_eq(WEXITSTATUS(status), NNCL_ERR_OUT_OF_HOST_MEMORY, "status %s: %s",
               nncl_status_name((nncl_status)WEXITSTATUS(status)), msg);
  cr_assert(strstr(msg, "out of host memory") && strstr(msg, "120 MiB"), "%s", msg);
}
#endif

Test(devices, selection_strings) {
  nncl_device_info *list;
  int n, idx = -1;
  char msg[2048];
  cr_assert_eq(nncl_devices_list(&list, &n, msg, sizeof msg), NNCL_OK);
  int has_cpu = 0, has_gpu = 0;
  for (int i = 0; i < n; i++) {
    has_cpu |= list[i].is_cpu;
    has_gpu |= list[i].is_gpu;
  }
  char pd[32];
  snprintf(pd, sizeof pd, "%d:%d", list[n - 1].platform_index, list[n - 1].device_index);
  cr_assert_eq(nncl_device_select(list, n, pd, &idx, msg, sizeof msg), NNCL_OK);
  cr_assert_eq(idx, n - 1);
  if (has_cpu) {
    cr_assert_eq(nncl_device_select(list, n, "cpu", &idx, msg, sizeof msg), NNCL_OK);
    cr_assert(list[idx].is_cpu);
  }
  if (has_gpu) {
    cr_assert_eq(nncl_device_select(list, n, "GPU", &idx, msg, sizeof msg), NNCL_OK);
    cr_assert(list[idx].is_gpu);
  }
  /* case-insensitive name substring: take 3 middle characters of the name, upper-cased */
  char sub[4] = {0};
  size_t len = strlen(list[0].name);
  memcpy(sub, list[0].name + (len > 3 ? len / 2 - 1 : 0), len >= 3 ? 3 : len);
  for (char *c = sub; *c; c++)
    if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 32);
  cr_assert_eq(nncl_device_select(list, n, sub, &idx, msg, sizeof msg), NNCL_OK, "%s", sub);
  /* bad strings: clear error listing what exists */
  cr_assert_eq(nncl_device_select(list, n, "no-such-device-xyz", &idx, msg, sizeof msg),
               NNCL_ERR_NO_DEVICE);
  cr_assert(strstr(msg, "no-such-device-xyz") && strstr(msg, list[0].name), "%s", msg);
  cr_assert_eq(nncl_device_select(list, n, "99:99", &idx, msg, sizeof msg), NNCL_ERR_NO_DEVICE);
  if (!has_gpu)
    cr_assert_eq(nncl_device_select(list, n, "gpu", &idx, msg, sizeof msg), NNCL_ERR_NO_DEVICE);
  nncl_devices_free(list);
}

Test(devices, context_on_unknown_device_fails_cleanly) {
  nncl_context *ctx = (nncl_context *)1;
  char msg[2048];
  cr_assert_eq(nncl_context_create("definitely-not-a-device", &ctx, msg, sizeof msg),
               NNCL_ERR_NO_DEVICE);
  cr_assert_null(ctx);
  cr_assert(strstr(msg, "available"), "%s", msg);
}

/* ---- programs and the disk cache ---- */

static char cache_dir[512];

static void fresh_cache_dir(const char *tag) {
  const char *base = getenv("NNCL_CACHE_DIR");
  snprintf(cache_dir, sizeof cache_dir, "%s/%s-%ld",
           base && *base && strcmp(base, "off") ? base : "/tmp", tag, (long)getpid());
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache_dir);
  cr_assert_eq(system(cmd), 0);
  setenv("NNCL_CACHE_DIR", cache_dir, 1);
}

static nncl_context *new_ctx(void) {
  nncl_context *ctx;
  char msg[1024];
  cr_assert_eq(nncl_context_create(NULL, &ctx, msg, sizeof msg), NNCL_OK, "%s", msg);
  return ctx;
}

static void vadd_check(nncl_context *ctx) {
  enum { N = 1000 };
  float a[N], b[N], c[N];
  tu_fill(a, N, 1, -1, 1);
  tu_fill(b, N, 2, -1, 1);
  cl_mem ma, mb, mc;
  cr_assert_eq(nncl__buffer_from_host(ctx, a, sizeof a, "a", &ma), NNCL_OK);
  cr_assert_eq(nncl__buffer_from_host(ctx, b, sizeof b, "b", &mb), NNCL_OK);
  cr_assert_eq(nncl__buffer_create(ctx, sizeof c, "c", &mc), NNCL_OK);
  cl_kernel k;
  cr_assert_eq(nncl__kernel_get(ctx, "selftest", NULL, "selftest_vadd", &k), NNCL_OK, "%s",
               nncl_context_last_error(ctx));
  cl_uint n = N;
  size_t g = N, l = 64; /* 1000 is not a multiple of 64: exercises rounding + bounds check */
  cr_assert_eq(
      NNCL_LAUNCH(ctx, k, "vadd", 1, &g, &l, NNCL_ARG(ma), NNCL_ARG(mb), NNCL_ARG(mc), NNCL_ARG(n)),
      NNCL_OK);
  cr_assert_eq(nncl__buffer_download(ctx, mc, 0, c, sizeof c), NNCL_OK);
  for (int i = 0; i < N; i++) cr_assert_eq(c[i], a[i] + b[i], "element %d", i);
  nncl__buffer_release(ma);
  nncl__buffer_release(mb);
  nncl__buffer_release(mc);
}

Test(programs, second_context_loads_from_disk_with_zero_builds) {
  fresh_cache_dir("cache-hit");
  nncl_context *ctx = new_ctx();
  vadd_check(ctx);
  nncl_stats s;
  nncl_context_stats(ctx, &s);
  cr_assert_eq(s.program_builds, 1);
  cr_assert_eq(s.program_disk_hits, 0);
  /* same program again: memory hit */
  cl_kernel k;
  cr_assert_eq(nncl__kernel_get(ctx, "selftest", NULL, "selftest_axpby", &k), NNCL_OK);
  nncl_context_stats(ctx, &s);
  cr_assert_eq(s.program_builds, 1);
  cr_assert_eq(s.program_memory_hits, 1);
  nncl_context_destroy(ctx);
  /* a new context (as a new process would) loads the binary: zero builds */
  ctx = new_ctx();
  vadd_check(ctx);
  nncl_context_stats(ctx, &s);
  cr_assert_eq(s.program_builds, 0, "second start compiled %llu programs",
               (unsigned long long)s.program_builds);
  cr_assert_eq(s.program_disk_hits, 1);
  nncl_context_destroy(ctx);
}

/* Damage only the binary inside each cache file, then fix up the lengths and the XXH64 so the
   file itself is valid (as a buggy writer or a hostile one would leave it): zeroed, or cut to 16
   bytes. PoCL aborted the process on such a binary before it was checked. */
static void rewrite_binaries(int zero) {
  DIR *d = opendir(cache_dir);
  cr_assert(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    size_t nl = strlen(e->d_name);
    if (nl < 6 || strcmp(e->d_name + nl - 6, ".clbin") != 0) continue;
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", cache_dir, e->d_name);
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    static unsigned char buf[1 << 22];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    uint64_t klen, blen;
    memcpy(&klen, buf + 8, 8);
    size_t pos = 16 + (size_t)klen;
    memcpy(&blen, buf + pos, 8);
    cr_assert_eq(len, pos + 8 + blen + 8, "unexpected cache layout in %s", path);
    if (zero) {
      memset(buf + pos + 8, 0, (size_t)blen);
    } else {
      blen = 16;
      memcpy(buf + pos, &blen, 8);
    }
    uint64_t sum = XXH64(buf, pos + 8 + (size_t)blen, 0);
    memcpy(buf + pos + 8 + blen, &sum, 8);
    f = fopen(path, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(buf, 1, pos + 8 + (size_t)blen + 8, f), pos + 8 + (size_t)blen + 8);
    fclose(f);
    n++;
  }
  closedir(d);
  cr_assert_gt(n, 0, "no cache file to damage");
}

static void damage_all(const char *how) {
  char cmd[1024];
  if (strcmp(how, "truncate") == 0)
    snprintf(cmd, sizeof cmd,
             "for f in '%s'/*.clbin; do head -c 100 \"$f\" > \"$f.t\" && mv \"$f.t\" \"$f\"; done",
             cache_dir);
  else if (strcmp(how, "flip") == 0)
    snprintf(cmd, sizeof cmd,
             "for f in '%s'/*.clbin; do s=$(stat -c %%s \"$f\"); printf '\\xff\\x00\\xff' | dd "
             "of=\"$f\" bs=1 seek=$((s-200)) conv=notrunc 2>/dev/null; done",
             cache_dir);
  else if (strcmp(how, "zero-binary") == 0 || strcmp(how, "cut-binary") == 0) {
    rewrite_binaries(how[0] == 'z');
    return;
  } else
    snprintf(cmd, sizeof cmd, "for f in '%s'/*.clbin; do printf 'garbage' > \"$f\"; done",
             cache_dir);
  cr_assert_eq(system(cmd), 0);
}

static void damaged_case(const char *how) {
  char tag[64];
  snprintf(tag, sizeof tag, "damaged-%s", how);
  fresh_cache_dir(tag);
  nncl_context *ctx = new_ctx();
  vadd_check(ctx);
  nncl_context_destroy(ctx);
  damage_all(how);
  ctx = new_ctx();
  vadd_check(ctx); /* still correct */
  nncl_stats s;
  nncl_context_stats(ctx, &s);
  cr_assert_eq(s.disk_cache_rejects, 1, "%s file not rejected", how);
  cr_assert_eq(s.program_builds, 1);
  nncl_context_destroy(ctx);
  /* the rebuilt file replaced the damaged one */
  ctx = new_ctx();
  vadd_check(ctx);
  nncl_context_stats(ctx, &s);
  cr_assert_eq(s.program_builds, 0);
  cr_assert_eq(s.program_disk_hits, 1);
  nncl_context_destroy(ctx);
}

Test(programs, truncated_cache_file_is_rebuilt) { damaged_case("truncate"); }
Test(programs, corrupted_cache_file_is_rebuilt) { damaged_case("flip"); }
Test(programs, garbage_cache_file_is_rebuilt) { damaged_case("garbage"); }
Test(programs, zeroed_binary_with_valid_checksum_is_rebuilt) { damaged_case("zero-binary"); }
Test(programs, cut_binary_with_valid_checksum_is_rebuilt) { damaged_case("cut-binary"); }

/* A process that died while its driver loaded a cached binary (a driver abort) leaves the
   "<file>.loading" marker with its pid: the next process drops that binary and rebuilds. */
Test(programs, binary_that_killed_a_loader_is_rebuilt) {
  fresh_cache_dir("died-loading");
  nncl_context *ctx = new_ctx();
  vadd_check(ctx);
  nncl_context_destroy(ctx);
  pid_t child = fork();
  if (child == 0) _exit(0);
  cr_assert_gt(child, 0);
  cr_assert_eq(waitpid(child, NULL, 0), child); /* a pid that is surely dead */
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "for f in '%s'/*.clbin; do echo %ld > \"$f.loading\"; done", cache_dir,
           (long)child);
  cr_assert_eq(system(cmd), 0);
  ctx = new_ctx();
  vadd_check(ctx);
  nncl_stats s;
  nncl_context_stats(ctx, &s);
  cr_assert_eq(s.disk_cache_rejects, 1);
  cr_assert_eq(s.program_builds, 1);
  nncl_context_destroy(ctx);
  snprintf(cmd, sizeof cmd, "! ls '%s'/*.loading 2>/dev/null | grep -q .", cache_dir);
  cr_assert_eq(system(cmd), 0, "the stale marker was left behind");
  ctx = new_ctx();
  vadd_check(ctx);
  nncl_context_stats(ctx, &s);
  cr_assert_eq(s.program_disk_hits, 1);
  cr_assert_eq(s.program_builds, 0);
  nncl_context_destroy(ctx);
}

Test(programs, options_are_part_of_the_key) {
  fresh_cache_dir("options");
  nncl_context *ctx = new_ctx();
  cl_kernel k;
  cr_assert_eq(nncl__kernel_get(ctx, "selftest", "-DSCALE=2.0f", "selftest_axpby", &k), NNCL_OK);
  cr_assert_eq(nncl__kernel_get(ctx, "selftest", "-DSCALE=3.0f", "selftest_axpby", &k), NNCL_OK);
  nncl_stats s;
  nncl_context_stats(ctx, &s);
  cr_assert_eq(s.program_builds, 2);
  nncl_context_destroy(ctx);
}

Test(programs, build_failure_carries_log_and_options) {
  fresh_cache_dir("broken");
  nncl_context *ctx = new_ctx();
  cl_kernel k;
  nncl_status st = nncl__kernel_get(ctx, "selftest", "-DSELFTEST_BREAK", "selftest_broken", &k);
  cr_assert_eq(st, NNCL_ERR_BUILD_FAILED);
  const char *msg = nncl_context_last_error(ctx);
  cr_assert(strstr(msg, "kernels/selftest.cl") && strstr(msg, "-DSELFTEST_BREAK") &&
                strstr(msg, "undefined_symbol_for_test"),
            "%s", msg);
  cr_assert_eq(nncl_context_last_cl_error(ctx), CL_BUILD_PROGRAM_FAILURE);
  /* the context still works afterwards */
  vadd_check(ctx);
  nncl_context_destroy(ctx);
}

Test(programs, missing_source_and_kernel_are_named) {
  nncl_context *ctx = tu_ctx();
  cl_kernel k;
  cr_assert_eq(nncl__kernel_get(ctx, "no_such_family", NULL, "x", &k), NNCL_ERR_KERNEL_NOT_FOUND);
  cr_assert(strstr(nncl_context_last_error(ctx), "no_such_family"));
  cr_assert_eq(nncl__kernel_get(ctx, "selftest", NULL, "no_such_kernel", &k),
               NNCL_ERR_KERNEL_NOT_FOUND);
  cr_assert(strstr(nncl_context_last_error(ctx), "no_such_kernel"));
}

Test(programs, cache_off_still_works) {
  setenv("NNCL_CACHE_DIR", "off", 1);
  nncl_context *ctx = new_ctx();
  cr_assert_str_eq(nncl_context_cache_dir(ctx), "");
  vadd_check(ctx);
  nncl_context_destroy(ctx);
}

/* ---- tensors ---- */

Test(tensors, round_trip_and_size_errors) {
  nncl_context *ctx = tu_ctx();
  nncl_shape s = {.rank = 4, .dims = {2, 3, 5, 7}};
  nncl_tensor *t;
  cr_assert_eq(nncl_tensor_create(ctx, NNCL_FLOAT32, &s, &t), NNCL_OK);
  cr_assert_eq(nncl_tensor_bytes(t), 210 * 4);
  float in[210], out[210];
  tu_fill(in, 210, 7, -5, 5);
  cr_assert_eq(nncl_tensor_write(t, in, sizeof in), NNCL_OK);
  cr_assert_eq(nncl_tensor_read(t, out, sizeof out), NNCL_OK);
  cr_assert_arr_eq(in, out, sizeof in);
  cr_assert_eq(nncl_tensor_write(t, in, 100), NNCL_ERR_SHAPE);
  cr_assert(strstr(nncl_context_last_error(ctx), "840"));
  nncl_tensor_destroy(t);
  nncl_tensor_destroy(NULL);
  nncl_shape bad = {.rank = 9};
  cr_assert_eq(nncl_tensor_create(ctx, NNCL_FLOAT32, &bad, &t), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert_null(t);
}

Test(tensors, out_of_device_memory_is_an_error_not_a_crash) {
  nncl_context *ctx = tu_ctx();
  nncl_shape huge = {.rank = 2, .dims = {1 << 30, 1 << 20}};
  nncl_tensor *t;
  nncl_status st = nncl_tensor_create(ctx, NNCL_FLOAT32, &huge, &t);
  cr_assert_eq(st, NNCL_ERR_OUT_OF_DEVICE_MEMORY, "%s", nncl_status_name(st));
  cr_assert(strstr(nncl_context_last_error(ctx), "bytes"));
}

Test(tensors, int64_and_empty_round_trip) {
  nncl_context *ctx = tu_ctx();
  nncl_array a = TU_I64(5, -3, 1LL << 40);
  nncl_tensor *t;
  cr_assert_eq(nncl_tensor_from_array(ctx, &a, &t), NNCL_OK);
  nncl_array b;
  cr_assert_eq(nncl_tensor_to_array(t, &b), NNCL_OK);
  cr_assert_eq(b.dtype, NNCL_INT64);
  cr_assert_arr_eq(a.data, b.data, 24);
  nncl_tensor_destroy(t);
  nncl_array_free(&a);
  nncl_array_free(&b);
  nncl_array e = TU_ZEROS(NNCL_FLOAT32, 3, 0, 4);
  cr_assert_eq(nncl_tensor_from_array(ctx, &e, &t), NNCL_OK);
  cr_assert_eq(nncl_tensor_bytes(t), 0);
  nncl_tensor_destroy(t);
  nncl_array_free(&e);
}

/* ---- errors ---- */

/* Constants over host memory: on a host-unified device (PoCL's CPU device is one) an aligned
   nncl_array becomes a buffer over its own bytes (no copy: the buffer's host pointer is the array
   and stats.host_buffers counts it); a misaligned pointer, or a device without unified memory,
   gets a copy. Either way a kernel-side read (a device copy, then a download) gives the data. */
Test(tensors, constants_over_host_memory) {
  nncl_context *ctx = tu_ctx();
  nncl_array a = TU_RAND(9, 1000);
  cr_assert_eq((uintptr_t)a.data % NNCL_ARRAY_ALIGN, 0, "nncl_array_alloc alignment");
  const int unified = ctx->info.host_unified_memory;
  for (int shift = 0; shift < 2; shift++) {
    const float *src = (const float *)a.data + shift;
    const size_t bytes = (1000 - (size_t)shift) * sizeof(float);
    nncl_stats s0, s1;
    nncl_context_stats(ctx, &s0);
    cl_mem m = NULL, copy = NULL;
    cr_assert_eq(nncl__buffer_over_host(ctx, src, bytes, "test constant", &m), NNCL_OK);
    nncl_context_stats(ctx, &s1);
    void *hp = NULL;
    cr_assert_eq(clGetMemObjectInfo(m, CL_MEM_HOST_PTR, sizeof hp, &hp, NULL), CL_SUCCESS);
    const int in_place = unified && shift == 0;
    cr_assert_eq(s1.host_buffers - s0.host_buffers, (uint64_t)in_place, "shift %d", shift);
    cr_assert_eq(hp, in_place ? (void *)src : NULL, "shift %d: host pointer %p", shift, hp);
    cr_assert_eq(nncl__buffer_create(ctx, bytes, "copy", &copy), NNCL_OK);
    cr_assert_eq(nncl__buffer_copy(ctx, m, 0, copy, 0, bytes), NNCL_OK);
    float *back = malloc(bytes);
    cr_assert_eq(nncl__buffer_download(ctx, copy, 0, back, bytes), NNCL_OK);
    cr_assert(memcmp(back, src, bytes) == 0, "shift %d: data differs", shift);
    free(back);
    nncl__buffer_release(copy);
    nncl__buffer_release(m);
  }
  nncl_array_free(&a);
}

/* Blocks given away (nncl__buffer_adopt): in place on a host-unified device, the buffer's host
   pointer is the block and the buffer frees it (LSan in scripts/check-asan sees a leak or a double
   free otherwise); with in_place 0, or without unified memory, a copy, the block freed at once.
   Either way a device-side read gives the data back. */
Test(tensors, adopted_blocks) {
  nncl_context *ctx = tu_ctx();
  const int unified = ctx->info.host_unified_memory;
  for (int in_place = 0; in_place < 2; in_place++) {
    const size_t n = 1000, bytes = n * sizeof(float);
    float *data = nncl__host_alloc(bytes), *keep = malloc(bytes), *back = malloc(bytes);
    cr_assert(data && keep && back);
    cr_assert_eq((uintptr_t)data % NNCL_ARRAY_ALIGN, 0, "nncl__host_alloc alignment");
    for (size_t i = 0; i < n; i++) data[i] = keep[i] = (float)i * 0.25f - 7.0f;
    nncl_stats s0, s1;
    nncl_context_stats(ctx, &s0);
    cl_mem m = NULL, copy = NULL;
    cr_assert_eq(nncl__buffer_adopt(ctx, data, bytes, in_place, "test block", &m), NNCL_OK);
    nncl_context_stats(ctx, &s1);
    const int used = unified && in_place;
    cr_assert_eq(s1.host_buffers - s0.host_buffers, (uint64_t)used, "in_place %d", in_place);
    void *hp = NULL;
    cr_assert_eq(clGetMemObjectInfo(m, CL_MEM_HOST_PTR, sizeof hp, &hp, NULL), CL_SUCCESS);
    cr_assert_eq(hp, used ? (void *)data : NULL, "in_place %d: host pointer %p", in_place, hp);
    cr_assert_eq(nncl__buffer_create(ctx, bytes, "copy", &copy), NNCL_OK);
    cr_assert_eq(nncl__buffer_copy(ctx, m, 0, copy, 0, bytes), NNCL_OK);
    cr_assert_eq(nncl__buffer_download(ctx, copy, 0, back, bytes), NNCL_OK);
    cr_assert(memcmp(back, keep, bytes) == 0, "in_place %d: data differs", in_place);
    nncl__buffer_release(copy);
    nncl__buffer_release(m);
    free(keep);
    free(back);
  }
}

Test(errors, names_and_strings) {
  cr_assert_str_eq(nncl_status_name(NNCL_ERR_SHAPE), "NNCL_ERR_SHAPE");
  cr_assert_str_eq(nncl_status_string(NNCL_OK), "ok");
  cr_assert_str_eq(nncl_status_string((nncl_status)999), "unknown status");
  cr_assert_str_eq(nncl_cl_error_name(-5), "CL_OUT_OF_RESOURCES");
  cr_assert_str_eq(nncl_cl_error_name(-11), "CL_BUILD_PROGRAM_FAILURE");
  cr_assert_str_eq(nncl_cl_error_name(12345), "CL_UNKNOWN_ERROR");
  for (int s = 0; s < NNCL_STATUS_COUNT; s++)
    cr_assert_gt(strlen(nncl_status_string((nncl_status)s)), 1);
}

static int log_calls;
static void count_log(void *user, nncl_log_level level, const char *message) {
  (void)user;
  (void)level;
  cr_assert_gt(strlen(message), 0);
  log_calls++;
}

Test(errors, log_goes_to_the_callback) {
  fresh_cache_dir("log");
  nncl_context *ctx = new_ctx();
  nncl_context_set_log(ctx, count_log, NULL);
  vadd_check(ctx);
  cr_assert_gt(log_calls, 0);
  nncl_context_destroy(ctx);
}

Test(selftest, all_checks_pass) {
  nncl_selftest_report r;
  cr_assert_eq(nncl_selftest(tu_ctx(), &r), NNCL_OK, "%s", nncl_context_last_error(tu_ctx()));
  cr_assert_eq(r.passed, r.count);
  cr_assert_eq(r.count, 4);
}
