/* cli_util.c: option parsing (including every command's --option KEY=VALUE), context opening,
   error printing and JSON output for the CLI. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The --option values taken off the command line, applied to the context in order. */
#define CLI_MAX_OPTIONS 64
static const char *options[CLI_MAX_OPTIONS];
static int n_options;
/* --devices LIST and --place SPEC, taken off the command line with the options: every model
   command spans those devices and places its nodes so. */
static const char *devices, *place;
/* the text of --precision P as an option, "graph.precision=P" */
static char precision_option[64];

int cli_take_options(int *argc, char **argv) {
  int kept = 0;
  for (int i = 0; i < *argc; i++) {
    const char *d = cli_value(*argc, argv, &i, "--devices");
    if (d) {
      devices = d;
      continue;
    }
    const char *pl = cli_value(*argc, argv, &i, "--place");
    if (pl) {
      place = pl;
      continue;
    }
    const char *v = cli_value(*argc, argv, &i, "--option");
    /* --precision P is --option graph.precision=P: one parse and one error wording for both */
    const char *prec = v ? NULL : cli_value(*argc, argv, &i, "--precision");
    if (prec) {
      if (strlen(prec) >= sizeof precision_option - 17) {
        fprintf(stderr, "nncl: --precision %s: expected fp32, fp16-storage or fp16\n", prec);
        return -1;
      }
      snprintf(precision_option, sizeof precision_option, "graph.precision=%s", prec);
      v = precision_option;
    }
    if (!v) {
      argv[kept++] = argv[i];
      continue;
    }
    if (!strchr(v, '=') || v[0] == '=') {
      fprintf(stderr, "nncl: --option %s: expected KEY=VALUE (nncl options lists the keys)\n", v);
      return -1;
    }
    if (n_options == CLI_MAX_OPTIONS) {
      fprintf(stderr, "nncl: more than %d --option flags\n", CLI_MAX_OPTIONS);
      return -1;
    }
    options[n_options++] = v;
  }
  argv[kept] = NULL;
  *argc = kept;
  return 0;
}

int cli_verbose;

/* Cold start takes seconds per kernel file: on a terminal (or with --verbose) each build is shown
   as it happens, the first one saying that it happens once and where the result is kept. */
static void log_to_stderr(void *user, nncl_log_level level, const char *message) {
  nncl_context *ctx = user;
  static int builds;
  int is_build = strncmp(message, "compiled ", 9) == 0;
  if (is_build && (cli_verbose || isatty(2))) {
    if (builds++ == 0) {
      const char *dir = nncl_context_cache_dir(ctx);
      fprintf(stderr, "nncl: compiling OpenCL kernels for %s on first use, once: %s%s\n",
              nncl_context_device(ctx)->name,
              *dir ? "cached in " : "not cached (NNCL_CACHE_DIR=off)", dir);
    }
    const char *end = strchr(message, ' ') ? strchr(message + 9, ' ') : NULL;
    fprintf(stderr, "nncl:   [%d] %.*s\n", builds, end ? (int)(end - message - 9) : 100,
            message + 9);
  } else if (cli_verbose || level == NNCL_LOG_WARN) {
    fprintf(stderr, "nncl: %s\n", message);
  }
}

nncl_context *cli_open_context(const char *device) {
  nncl_context *ctx = NULL;
  char msg[4096];
  if (device && devices) {
    fprintf(stderr, "nncl: give --device or --devices, not both\n");
    return NULL;
  }
  nncl_status st = devices ? nncl_context_create_devices(devices, &ctx, msg, sizeof msg)
                           : nncl_context_create(device, &ctx, msg, sizeof msg);
  if (st != NNCL_OK) {
    fprintf(stderr, "nncl: cannot open device: %s: %s\n", nncl_status_string(st), msg);
    return NULL;
  }
  for (int i = 0; i < n_options; i++) {
    char key[256];
    size_t n = (size_t)(strchr(options[i], '=') - options[i]);
    snprintf(key, sizeof key, "%.*s", (int)(n < sizeof key ? n : sizeof key - 1), options[i]);
    st = nncl_context_set_option(ctx, key, options[i] + n + 1);
    if (st != NNCL_OK) {
      fprintf(stderr, "nncl: --option %s: %s\n", options[i], nncl_context_last_error(ctx));
      nncl_context_destroy(ctx);
      return NULL;
    }
  }
  if (place && nncl_context_set_placement(ctx, place) != NNCL_OK) {
    fprintf(stderr, "nncl: --place %s: %s\n", place, nncl_context_last_error(ctx));
    nncl_context_destroy(ctx);
    return NULL;
  }
  nncl_context_set_log(ctx, log_to_stderr, ctx);
  return ctx;
}

int cli_unknown_option(const char *cmd, const char *arg) {
  fprintf(stderr, "nncl %s: unknown option %s (nncl %s --help lists them)\n", cmd, arg, cmd);
  return 2;
}

int cli_long(const char *cmd, const char *flag, const char *v, long long lo, long long hi,
             long long *out) {
  char *end;
  errno = 0;
  long long k = strtoll(v, &end, 10);
  if (end == v || *end || errno || k < lo || k > hi) {
    fprintf(stderr, "nncl %s: %s takes a whole number in [%lld, %lld], not \"%s\"\n", cmd, flag, lo,
            hi, v);
    return 2;
  }
  *out = k;
  return 0;
}

int cli_double(const char *cmd, const char *flag, const char *v, double lo, double hi,
               double *out) {
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (end == v || *end || errno || !isfinite(d) || d < lo || d > hi) {
    fprintf(stderr, "nncl %s: %s takes a number in [%g, %g], not \"%s\"\n", cmd, flag, lo, hi, v);
    return 2;
  }
  *out = d;
  return 0;
}

int cli_usage(const struct cli_command *c) {
  fprintf(stderr, "usage: %s\n", c->usage);
  return 2;
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
