/* commands.h: declarations of every subcommand listed in commands.def. */
#ifndef NNCL_COMMANDS_H
#define NNCL_COMMANDS_H
#include "cli.h"
#define CLI_COMMAND(sym) extern const struct cli_command sym;
#include "commands.def"
#undef CLI_COMMAND
#endif
