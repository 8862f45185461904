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
  fprintf(f,
          "\nnncl COMMAND --help shows a command's options. NNCL_DEVICE picks the default device.\n"
          "Every command that opens a device takes --option KEY=VALUE (repeatable): tuning and\n"
          "debugging switches such as conv.algo or graph.fusion; nncl options lists them.\n");
}

int main(int argc, char **argv) {
  if (cli_take_options(&argc, argv) != 0) return 2; /* one place for every command */
  if (argc < 2 || cli_is(argv[1], "--help") || cli_is(argv[1], "-h") || cli_is(argv[1], "help")) {
    usage(stdout);
    return argc < 2 ? 2 : 0;
  }
  if (cli_is(argv[1], "--version")) {
    printf("nncl %s\n", nncl_version());
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
    if (strcmp(argv[1], commands[i]->name) != 0) continue;
    for (int a = 2; a < argc; a++)
      if (cli_is(argv[a], "--help") || cli_is(argv[a], "-h")) {
        printf("usage: %s\n", commands[i]->usage);
        return 0;
      }
    return commands[i]->run(argc - 1, argv + 1);
  }
  fprintf(stderr, "nncl: unknown command \"%s\"\n\n", argv[1]);
  usage(stderr);
  return 2;
}
