/* nncl.c: the nncl command-line tool's entry point: dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const struct cli_command *commands[] = {
#define CLI_COMMAND(sym) &sym,
#include "commands.def"
#undef CLI_COMMAND
};

static void usage(FILE *f) {
  fprintf(
      f,
      "nncl %s: deep-learning inference on any OpenCL device\n\nusage: nncl COMMAND [options]\n\n",
      nncl_version());
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
  fprintf(f, "\nnncl COMMAND --help (or nncl help COMMAND) shows a command's options.\n--verbose "
             "shows kernel builds and compiler logs. NNCL_DEVICE picks the default device.\n"
             "Every command that opens a device takes --option KEY=VALUE (repeatable): tuning and\n"
             "debugging switches such as conv.algo or graph.fusion; nncl options lists them.\n"
             "--precision fp32|fp16-storage|fp16 is --option graph.precision=...: float16 storage\n"
             "with float arithmetic on any device (fp16 also requires cl_khr_fp16); ops without a\n"
             "half-storage kernel are refused at plan time (docs/DESIGN.md, Precision).\n"
             "--devices all|P:D,P:D|gpu,cpu (instead of --device) spans several devices;\n"
             "--place NODE_OR_OP_TYPE:DEVICE,... puts nodes on them.\n");
}

static const struct cli_command *find(const char *name) {
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (strcmp(name, commands[i]->name) == 0) return commands[i];
  return NULL;
}

int main(int argc, char **argv) {
  /* --verbose works with every command, anywhere on the line */
  int n = 0;
  for (int a = 0; a < argc; a++) {
    if (a > 0 && (cli_is(argv[a], "--verbose") || cli_is(argv[a], "-v"))) {
      cli_verbose = 1;
      continue;
    }
    argv[n++] = argv[a];
  }
  argc = n;
  argv[argc] = NULL;
  if (cli_take_options(&argc, argv) != 0) return 2; /* one place for every command */
  if (argc < 2 || cli_is(argv[1], "--help") || cli_is(argv[1], "-h") ||
      (cli_is(argv[1], "help") && argc == 2)) {
    usage(stdout);
    return argc < 2 ? 2 : 0;
  }
  if (cli_is(argv[1], "--version")) {
    printf("nncl %s\n", nncl_version());
    return 0;
  }
  if (cli_is(argv[1], "help")) { /* nncl help CMD [TABLE] is CMD [TABLE] --help */
    const struct cli_command *c = find(argv[2]);
    if (!c) {
      fprintf(stderr, "nncl: unknown command \"%s\"\n\n", argv[2]);
      usage(stderr);
      return 2;
    }
    if (c == &cmd_bench) { /* bench answers --help itself: one text per table */
      char *args[] = {argv[2], argc > 3 ? argv[3] : "--help", "--help", NULL};
      return c->run(argc > 3 ? 3 : 2, args);
    }
    printf("usage: %s\n", c->usage);
    return 0;
  }
  const struct cli_command *c = find(argv[1]);
  if (!c) {
    fprintf(stderr, "nncl: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return 2;
  }
  if (c != &cmd_bench) /* bench answers --help itself: one text per table */
    for (int a = 2; a < argc; a++)
      if (cli_is(argv[a], "--help") || cli_is(argv[a], "-h")) {
        printf("usage: %s\n", c->usage);
        return 0;
      }
  return c->run(argc - 1, argv + 1);
}
