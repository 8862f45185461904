/* options.h: the library-internal side of the options table (options.def): ids, a set of values
   and its parsing. A context holds the defaults, a graph its overrides, a plan the two merged. */
#ifndef NNCL_OPTIONS_H
#define NNCL_OPTIONS_H

#include "nncl/context.h"

enum nncl__option {
#define OPTION(id, ...) NNCL__OPT_##id,
#include "options.def"
#undef OPTION
  NNCL__OPT_COUNT
};

/* One value per option: 0 when unset (a context's unset option is the default, a graph's follows
   its context), else 1 + the index of its value among the allowed ones. Zeroed memory is therefore
   a valid set, all unset. */
struct nncl__options {
  unsigned char v[NNCL__OPT_COUNT];
};

/* Defaults from the environment variables of the table's env column. On a value the option does
   not allow, returns NNCL_ERR_INVALID_ARGUMENT with msg naming the variable and the values. */
nncl_status nncl__options_from_env(struct nncl__options *o, char *msg, size_t msg_len);
/* out = over where set, else base. */
void nncl__options_merge(const struct nncl__options *base, const struct nncl__options *over,
                         struct nncl__options *out);
/* The value's text ("auto", "1"); an unset option gives its default. */
const char *nncl__option_value(const struct nncl__options *o, enum nncl__option id);
/* A boolean option is on ("1"). */
int nncl__option_on(const struct nncl__options *o, enum nncl__option id);
/* Finds key and the index of value among its allowed values (booleans also take true/false,
   on/off, yes/no); *value_code is what nncl__options stores (0 for value NULL: unset). Unknown key or value:
   NNCL_ERR_INVALID_ARGUMENT, msg listing the keys or the allowed values. */
nncl_status nncl__option_parse(const char *key, const char *value, int *id, int *value_code,
                               char *msg, size_t msg_len);

#endif
