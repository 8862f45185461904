/* options.c: the options table (options.def) as data, value parsing and validation, the public
   listing, and a context's options (its defaults for every graph on it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime.h"

#define OPTION(id, key, type, env, env_value, doc, ...)                                            \
  static const char *const values_##id[] = {__VA_ARGS__, NULL};
#include "options.def"
#undef OPTION

static const nncl_option_info table[NNCL__OPT_COUNT] = {
#define OPTION(id, key, type, env, env_value, doc, ...)                                            \
  {key, type, values_##id, env, env_value, doc},
#include "options.def"
#undef OPTION
};

int nncl_option_count(void) { return NNCL__OPT_COUNT; }

const nncl_option_info *nncl_option_get(int i) {
  return i >= 0 && i < NNCL__OPT_COUNT ? &table[i] : NULL;
}

void nncl__options_merge(const struct nncl__options *base, const struct nncl__options *over,
                         struct nncl__options *out) {
  for (int i = 0; i < NNCL__OPT_COUNT; i++) out->v[i] = over->v[i] ? over->v[i] : base->v[i];
}

const char *nncl__option_value(const struct nncl__options *o, enum nncl__option id) {
  return table[id].values[o->v[id] ? o->v[id] - 1 : 0];
}

int nncl__option_on(const struct nncl__options *o, enum nncl__option id) {
  return strcmp(nncl__option_value(o, id), "1") == 0;
}

/* "a|b|c" into buf. */
static void join_values(const char *const *values, char *buf, size_t len) {
  size_t at = 0;
  buf[0] = 0;
  for (int i = 0; values[i] && at < len; i++)
    at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? "|" : "", values[i]);
}

/* The canonical text of a boolean spelt another common way, else value itself. */
static const char *bool_alias(const char *value) {
  static const char *const on[] = {"true", "on", "yes"}, *const off[] = {"false", "off", "no"};
  for (int i = 0; i < 3; i++) {
    if (strcasecmp(value, on[i]) == 0) return "1";
    if (strcasecmp(value, off[i]) == 0) return "0";
  }
  return value;
}

nncl_status nncl__option_parse(const char *key, const char *value, int *id, int *value_code,
                               char *msg, size_t msg_len) {
  int k = 0;
  while (k < NNCL__OPT_COUNT && (!key || strcmp(key, table[k].key) != 0)) k++;
  if (k == NNCL__OPT_COUNT) {
    size_t at =
        (size_t)snprintf(msg, msg_len, "unknown option '%s'; options are:", key ? key : "(null)");
    for (int i = 0; i < NNCL__OPT_COUNT && at < msg_len; i++)
      at += (size_t)snprintf(msg + at, msg_len - at, " %s", table[i].key);
    return NNCL_ERR_INVALID_ARGUMENT;
  }
  *id = k;
  *value_code = 0;
  if (!value) return NNCL_OK;
  const nncl_option_info *t = &table[k];
  const char *v = t->type == NNCL_OPTION_BOOL ? bool_alias(value) : value;
  for (int i = 0; t->values[i]; i++)
    if (strcmp(v, t->values[i]) == 0) {
      *value_code = i + 1;
      return NNCL_OK;
    }
  char allowed[512];
  join_values(t->values, allowed, sizeof allowed);
  snprintf(msg, msg_len, "option %s cannot be '%s'; it takes %s", t->key, value, allowed);
  return NNCL_ERR_INVALID_ARGUMENT;
}

nncl_status nncl__options_from_env(struct nncl__options *o, char *msg, size_t msg_len) {
  for (int k = 0; k < NNCL__OPT_COUNT; k++) {
    const nncl_option_info *t = &table[k];
    const char *e = t->env ? getenv(t->env) : NULL;
    if (!e || !*e) continue;
    int id, code;
    char why[1024];
    nncl_status st =
        nncl__option_parse(t->key, t->env_value ? t->env_value : e, &id, &code, why, sizeof why);
    if (st != NNCL_OK) {
      if (msg && msg_len) snprintf(msg, msg_len, "environment %s=%s: %s", t->env, e, why);
      return st;
    }
    o->v[id] = (unsigned char)code;
  }
  return NNCL_OK;
}

nncl_status nncl_context_set_option(nncl_context *ctx, const char *key, const char *value) {
  if (!ctx) return NNCL_ERR_INVALID_ARGUMENT;
  char why[1024];
  int id, code;
  nncl_status st = nncl__option_parse(key, value, &id, &code, why, sizeof why);
  if (st != NNCL_OK) return nncl__error(ctx, st, "%s", why);
  /* every device's ops read the same defaults */
  for (int i = 0; i < ctx->n_dev; i++) ctx->dev[i]->options.v[id] = (unsigned char)code;
  return NNCL_OK;
}

nncl_status nncl_context_get_option(nncl_context *ctx, const char *key, const char **value) {
  if (!ctx || !value) return NNCL_ERR_INVALID_ARGUMENT;
  char why[1024];
  int id, code;
  nncl_status st = nncl__option_parse(key, NULL, &id, &code, why, sizeof why);
  if (st != NNCL_OK) return nncl__error(ctx, st, "%s", why);
  *value = nncl__option_value(&ctx->options, (enum nncl__option)id);
  return NNCL_OK;
}
