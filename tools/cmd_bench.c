/* cmd_bench.c: `nncl bench WHAT [options]`: dispatches to one benchmark table per file
   (bench_*.c). Every table prints its yardstick measured in the same run. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

/* Each returns a process exit code; argv[0] is the table name. */
struct bench_table {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
  const char *options;
};

#define BENCH_TABLE(name, summary, fn, options) int fn(int argc, char **argv);
#include "bench_tables.def"
#undef BENCH_TABLE

static const struct bench_table tables[] = {
#define BENCH_TABLE(name, summary, fn, options) {name, summary, fn, options},
#include "bench_tables.def"
#undef BENCH_TABLE
    {NULL, NULL, NULL, NULL}};

static void list_tables(FILE *f) {
  fprintf(f, "usage: nncl bench TABLE [options]   (nncl bench TABLE --help: its options)\n");
  for (int i = 0; tables[i].name; i++) fprintf(f, "  %-8s %s\n", tables[i].name, tables[i].summary);
}

static int run(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    list_tables(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (int i = 0; tables[i].name; i++) {
    if (strcmp(argv[1], tables[i].name) != 0) continue;
    for (int a = 2; a < argc; a++)
      if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
        printf("usage: nncl bench %s %s\n  %s\n", tables[i].name, tables[i].options,
               tables[i].summary);
        return 0;
      }
    return tables[i].run(argc - 1, argv + 1);
  }
  fprintf(stderr, "nncl bench: unknown table \"%s\"\n", argv[1]);
  list_tables(stderr);
  return 2;
}

const struct cli_command cmd_bench = {
    "bench", "benchmarks against same-run yardsticks", run,
    "nncl bench gemm|conv|ops|rnn|peak|model [options] (nncl bench TABLE --help)"};
