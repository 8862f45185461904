/* test_quiet_build.c: a cold build of every kernel file writes nothing to the process's stderr
   (the OpenCL compiler's "N warnings generated." included); build logs reach the log callback. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime.h"
#include "test_util.h"

static int n_logged;
static void count_log(void *user, nncl_log_level level, const char *message) {
  (void)user;
  (void)level;
  if (strstr(message, "compiled kernels/")) n_logged++;
}

Test(quiet_build, cold_build_of_every_kernel_writes_nothing_to_stderr) {
  /* Cold caches: a fresh nncl cache folder, and PoCL's own kernel cache off (a warm PoCL cache
     would skip the compiler and hide its output). */
  char cache[] = "/tmp/nncl-quiet-XXXXXX";
  cr_assert(mkdtemp(cache));
  setenv("NNCL_CACHE_DIR", cache, 1);
  setenv("POCL_KERNEL_CACHE", "0", 1);
  unsetenv("NNCL_KERNEL_DIR"); /* kernel developers keep their warnings */
  const char *data = getenv("NNCL_TEST_DATA");
  cr_assert(data, "NNCL_TEST_DATA is not set (meson test sets it)");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/../../kernels", data);

  /* fd 2 goes to a temporary file for the whole build, then comes back. */
  FILE *captured = tmpfile();
  cr_assert(captured);
  fflush(stderr);
  int saved = dup(2);
  cr_assert(saved >= 0 && dup2(fileno(captured), 2) == 2);

  nncl_context *ctx = NULL;
  char msg[1024];
  nncl_status st = nncl_context_create(getenv("NNCL_DEVICE"), &ctx, msg, sizeof msg);
  int n_files = 0, n_bad = 0;
  char bad[2048] = "";
  if (st == NNCL_OK) {
    nncl_context_set_log(ctx, count_log, NULL);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      size_t n = strlen(e->d_name);
      if (n < 4 || strcmp(e->d_name + n - 3, ".cl") != 0) continue;
      char source[256];
      snprintf(source, sizeof source, "%.*s", (int)(n - 3), e->d_name);
      cl_kernel k;
      /* builds the program with its default -D values, then finds no such kernel */
      if (nncl__kernel_get(ctx, source, "", "no_such_kernel", &k) != NNCL_ERR_KERNEL_NOT_FOUND) {
        n_bad++;
        snprintf(bad + strlen(bad), sizeof bad - strlen(bad), " %s", source);
      }
      n_files++;
    }
    if (d) closedir(d);
    nncl_context_destroy(ctx);
  }

  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  cr_assert_eq(st, NNCL_OK, "%s", msg);
  char text[4096] = "";
  long size = ftell(captured);
  rewind(captured);
  size_t got = fread(text, 1, sizeof text - 1, captured);
  text[got] = 0;
  fclose(captured);
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache);
  cr_assert_eq(system(cmd), 0);
  cr_assert_gt(n_files, 20, "found %d kernel files in %s", n_files, dir);
  cr_assert_eq(n_bad, 0, "kernel files that did not build:%s", bad);
  cr_assert_eq(n_logged, n_files, "%d builds logged for %d files", n_logged, n_files);
  cr_assert_eq(size, 0, "a cold build wrote %ld bytes to stderr:\n%s", size, text);
}
