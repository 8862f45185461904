/* cli_util.c: option parsing, context opening, error printing and JSON output for the CLI. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_is(const char *arg, const char *flag) { return strcmp(arg, flag) == 0; }

const char *cli_value(int argc, char **argv, int *i, const char *flag) {
  size_t n = strlen(flag);
  const char *a = argv[*i];
  if (strncmp(a, flag, n) != 0) return NULL;
  if (a[n] == '=') return a + n + 1;
  if (a[n] != 0) return NULL;
  if (*i + 1 >= argc) {
    fprintf(stderr, "nncl: %s needs a value\n", flag);
    exit(2);
  }
  (*i)++;
  return argv[*i];
}

nncl_context *cli_open_context(const char *device) {
  nncl_context *ctx = NULL;
  char msg[4096];
  nncl_status st = nncl_context_create(device, &ctx, msg, sizeof msg);
  if (st != NNCL_OK) {
    fprintf(stderr, "nncl: cannot open device: %s: %s\n", nncl_status_string(st), msg);
    return NULL;
  }
  return ctx;
}

int cli_fail(nncl_context *ctx, nncl_status st, const char *what) {
  const char *detail = ctx ? nncl_context_last_error(ctx) : "";
  fprintf(stderr, "nncl: %s: %s%s%s\n", what, nncl_status_string(st), *detail ? ": " : "", detail);
  return 1;
}

void cli_print_json(cJSON *root) {
  char *text = cJSON_Print(root);
  if (text) {
    fputs(text, stdout);
    fputc('\n', stdout);
    free(text);
  }
  cJSON_Delete(root);
}
