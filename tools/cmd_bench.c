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
};

#define BENCH_TABLE(name, summary, fn) int fn(int argc, char **argv);
#include "bench_tables.def"
#undef BENCH_TABLE

static const struct bench_table tables[] = {
#define BENCH_TABLE(name, summary, fn) {name, summary, fn},
#include "bench_tables.def"
#undef BENCH_TABLE
    {NULL, NULL, NULL}};

static int run(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: nncl bench WHAT [options]\n");
    for (int i = 0; tables[i].name; i++)
      fprintf(stderr, "  %-8s %s\n", tables[i].name, tables[i].summary);
    return 2;
  }
  for (int i = 0; tables[i].name; i++)
    if (strcmp(argv[1], tables[i].name) == 0) return tables[i].run(argc - 1, argv + 1);
  fprintf(stderr, "nncl bench: unknown table \"%s\"\n", argv[1]);
  return 2;
}

const struct cli_command cmd_bench = {
    "bench", "benchmarks against same-run yardsticks", run,
    "nncl bench gemm|conv|ops|rnn|peak|model [--device D] [--json] [--option KEY=VALUE]... ..."};
