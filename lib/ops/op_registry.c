/* op_registry.c: the op table generated from ops.def: id -> definition and name, name -> id. */
#include <string.h>

#include "op.h"

#define OP(id, name, def) extern const struct op_def def;
#include "ops.def"
#undef OP

static const struct {
  const char *name;
  const struct op_def *def;
} table[OP_COUNT + 1] = {
#define OP(id, name, def) {name, &def},
#include "ops.def"
#undef OP
    {NULL, NULL}};

int op_lookup(const char *op_type) {
  if (!op_type) return -1;
  for (int i = 0; i < OP_COUNT; i++)
    if (strcmp(table[i].name, op_type) == 0) return i;
  return -1;
}

const struct op_def *op_get(int id) { return id >= 0 && id < OP_COUNT ? table[id].def : NULL; }
const char *op_name(int id) { return id >= 0 && id < OP_COUNT ? table[id].name : "?"; }
