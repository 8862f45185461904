/* cli.h: what the nncl subcommands share: the command table entry, option helpers, error output. */
#ifndef NNCL_CLI_H
#define NNCL_CLI_H

#include <stdio.h>

#include "nncl/nncl.h"

struct cli_command {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
  const char *usage;
};

/* True when argv[i] equals flag. */
int cli_is(const char *arg, const char *flag);
/* Value of "--flag VALUE" or "--flag=VALUE" at argv[*i] (advances *i); NULL otherwise. */
const char *cli_value(int argc, char **argv, int *i, const char *flag);
/* Takes every "--option KEY=VALUE" (or "--option=KEY=VALUE"), "--precision P" (the option
   graph.precision=P), "--devices LIST" and "--place SPEC" off argv, for any subcommand, and keeps them for cli_open_context. Prints the reason and returns -1 on a malformed one. */
int cli_take_options(int *argc, char **argv);
/* Opens the device named by --device (NULL: default), or the devices --devices lists ("all",
   "P:D,P:D", "gpu,cpu"; see nncl_context_create_devices) with the --place placement, and sets the --option values on it (the
   defaults of every graph it plans); prints the reason and returns NULL on failure. Its log goes to
   stderr: kernel builds on a terminal (the first one says where they are cached), everything with
   --verbose. */
nncl_context *cli_open_context(const char *device);
/* Prints "nncl: <what>: <status>: <last error>" to stderr; returns 1. */
int cli_fail(nncl_context *ctx, nncl_status st, const char *what);
/* The one wording for a bad option: "nncl CMD: unknown option ARG (nncl CMD --help lists them)";
   returns 2. cmd may be "bench conv". */
int cli_unknown_option(const char *cmd, const char *arg);
/* A flag's number: the whole of v in [lo, hi] (a double also finite), else prints "nncl CMD: FLAG
   takes ..., not "v"" and returns 2; 0 when *out was set. */
int cli_long(const char *cmd, const char *flag, const char *v, long long lo, long long hi,
             long long *out);
int cli_double(const char *cmd, const char *flag, const char *v, double lo, double hi, double *out);
/* Prints "usage: ..." for a command to stderr; returns 2. */
int cli_usage(const struct cli_command *c);
/* --verbose (taken out of argv by main): kernel builds and compiler logs go to stderr. */
extern int cli_verbose;
/* Prints a cJSON tree to stdout and frees it. */
struct cJSON;
void cli_print_json(struct cJSON *root);

#endif
