/* cmd_selftest.c: `nncl selftest [--device D] [--json]`: builds and checks kernels on a device. */
#include <cjson/cJSON.h>
#include <stdio.h>

#include "commands.h"

static int run(int argc, char **argv) {
  const char *device = NULL, *v;
  int json = 0;
  for (int i = 1; i < argc; i++) {
    if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if (cli_is(argv[i], "--json"))
      json = 1;
    else {
      cli_unknown_option("selftest", argv[i]);
      return 2;
    }
  }
  nncl_context *ctx = cli_open_context(device);
  if (!ctx) return 1;
  nncl_selftest_report r;
  nncl_status st = nncl_selftest(ctx, &r);
  nncl_stats stats;
  nncl_context_stats(ctx, &stats);
  if (st != NNCL_OK) {
    int rc = cli_fail(ctx, st, "selftest");
    nncl_context_destroy(ctx);
    return rc;
  }
  if (json) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "device", nncl_context_device(ctx)->name);
    cJSON *arr = cJSON_AddArrayToObject(root, "checks");
    for (int i = 0; i < r.count; i++) {
      cJSON *c = cJSON_CreateObject();
      cJSON_AddStringToObject(c, "name", r.checks[i].name);
      cJSON_AddBoolToObject(c, "passed", r.checks[i].passed);
      cJSON_AddNumberToObject(c, "max_abs_error", r.checks[i].max_abs_error);
      cJSON_AddNumberToObject(c, "seconds", r.checks[i].seconds);
      cJSON_AddItemToArray(arr, c);
    }
    cJSON_AddNumberToObject(root, "passed", r.passed);
    cJSON_AddNumberToObject(root, "failed", r.count - r.passed);
    cJSON_AddNumberToObject(root, "program_builds", (double)stats.program_builds);
    cJSON_AddNumberToObject(root, "program_disk_hits", (double)stats.program_disk_hits);
    cli_print_json(root);
  } else {
    printf("selftest on %s\n", nncl_context_device(ctx)->name);
    for (int i = 0; i < r.count; i++)
      printf("  %-4s %-34s %s, %.3f s\n", r.checks[i].passed ? "ok" : "FAIL", r.checks[i].name,
             r.checks[i].detail, r.checks[i].seconds);
    printf("programs: %llu compiled, %llu loaded from the cache (%s)\n",
           (unsigned long long)stats.program_builds, (unsigned long long)stats.program_disk_hits,
           *nncl_context_cache_dir(ctx) ? nncl_context_cache_dir(ctx) : "disk cache off");
    printf("%d passed, %d failed\n", r.passed, r.count - r.passed);
  }
  nncl_context_destroy(ctx);
  return r.passed == r.count ? 0 : 1;
}

const struct cli_command cmd_selftest = {"selftest", "build and check a few kernels on a device",
                                         run, "nncl selftest [--device D] [--json]"};
