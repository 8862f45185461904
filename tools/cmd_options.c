/* cmd_options.c: nncl options: prints the options table (the library's, through the public API)
   as text or as the Markdown table docs/OPTIONS.md holds. */
#include <string.h>

#include "commands.h"

/* "a|b|c" (Markdown tables need the bar escaped) */
static void print_values(const nncl_option_info *o, const char *bar) {
  for (int j = 0; o->values[j]; j++) printf("%s%s", j ? bar : "", o->values[j]);
}

/* "NNCL_X", "NNCL_X (any value: 0)" or "-" */
static void print_env(const nncl_option_info *o, const char *quote) {
  if (!o->env)
    printf("-");
  else if (o->env_value)
    printf("%s%s%s (any value: %s)", quote, o->env, quote, o->env_value);
  else
    printf("%s%s%s", quote, o->env, quote);
}

/* text wrapped at 100 columns, each line indented by 4 */
static void print_wrapped(const char *text) {
  int col = 0;
  while (*text) {
    size_t w = strcspn(text, " ");
    if (col && col + 1 + (int)w > 96) {
      printf("\n");
      col = 0;
    }
    printf("%s%.*s", col ? " " : "    ", (int)w, text);
    col += (int)w + 1;
    text += w;
    while (*text == ' ') text++;
  }
  printf("\n");
}

static int run(int argc, char **argv) {
  int markdown = 0;
  for (int i = 1; i < argc; i++) {
    if (cli_is(argv[i], "--markdown")) {
      markdown = 1;
    } else {
      fprintf(stderr, "usage: %s\n", cmd_options.usage);
      return 2;
    }
  }
  if (markdown)
    printf("| key | values (first: default) | environment default | what it does |\n"
           "|---|---|---|---|\n");
  for (int i = 0; i < nncl_option_count(); i++) {
    const nncl_option_info *o = nncl_option_get(i);
    if (markdown) {
      printf("| `%s` | `", o->key);
      print_values(o, "\\|");
      printf("` | ");
      print_env(o, "`");
      printf(" | %s |\n", o->doc);
    } else {
      printf("%s = ", o->key);
      print_values(o, "|");
      printf("   (env: ");
      print_env(o, "");
      printf(")\n");
      print_wrapped(o->doc);
    }
  }
  return 0;
}

const struct cli_command cmd_options = {
    "options", "the tuning and debugging options every command takes as --option KEY=VALUE", run,
    "nncl options [--markdown]\n"
    "  Lists every option: its values (the first is the default), the environment variable read\n"
    "  as its default when a context is created, and what it does. --markdown prints the table\n"
    "  of docs/OPTIONS.md."};
