/* op_util.c: attribute access, errors that name the node, broadcasting and axis rules shared by
   every op family. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

nncl_status op_error(const struct op_call *c, nncl_status st, const char *fmt, ...) {
  char msg[3072];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return nncl__error(c->ctx, st, "%s node '%s': %s", c->op_type, c->node_name, msg);
}

const struct nncl__attr *op_attr(const struct op_call *c, const char *name) {
  for (int i = 0; i < c->n_attrs; i++)
    if (strcmp(c->attrs[i].name, name) == 0) return &c->attrs[i];
  return NULL;
}

int64_t op_attr_int(const struct op_call *c, const char *name, int64_t def) {
  const struct nncl__attr *a = op_attr(c, name);
  if (!a) return def;
  if (a->type == ATTR_FLOAT) return (int64_t)a->f;
  return a->type == ATTR_INT ? a->i : def;
}

float op_attr_float(const struct op_call *c, const char *name, float def) {
  const struct nncl__attr *a = op_attr(c, name);
  if (!a) return def;
  if (a->type == ATTR_INT) return (float)a->i;
  return a->type == ATTR_FLOAT ? a->f : def;
}

const char *op_attr_str(const struct op_call *c, const char *name, const char *def) {
  const struct nncl__attr *a = op_attr(c, name);
  return a && a->type == ATTR_STRING && a->s ? a->s : def;
}

int op_attr_ints(const struct op_call *c, const char *name, const int64_t **v) {
  const struct nncl__attr *a = op_attr(c, name);
  if (!a || a->type != ATTR_INTS) return -1;
  *v = a->ints;
  return a->n;
}

int op_attr_floats(const struct op_call *c, const char *name, const float **v) {
  const struct nncl__attr *a = op_attr(c, name);
  if (!a || a->type != ATTR_FLOATS) return -1;
  *v = a->floats;
  return a->n;
}

int op_input_ints(const struct op_call *c, int i, const int64_t **v) {
  if (!op_has_input(c, i) || !c->in[i].host || c->in[i].host->dtype != NNCL_INT64) return -1;
  *v = c->in[i].host->data;
  return (int)nncl_shape_numel(&c->in[i].shape);
}

nncl_status op_broadcast_shape(const struct op_call *c, const nncl_shape *a, const nncl_shape *b,
                               nncl_shape *out) {
  int r = a->rank > b->rank ? a->rank : b->rank;
  nncl_shape o = {.rank = r};
  for (int i = 0; i < r; i++) {
    int ia = i - (r - a->rank), ib = i - (r - b->rank);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      char sa[128], sb[128];
      return op_error(c, NNCL_ERR_SHAPE,
                      "shapes %s and %s do not broadcast (axis %d: %lld vs %lld)",
                      OP_SHAPE_STR(a, sa), OP_SHAPE_STR(b, sb), i, (long long)da, (long long)db);
    }
    o.dims[i] = da == 1 ? db : da;
  }
  *out = o;
  return NNCL_OK;
}

nncl_status op_axis(const struct op_call *c, int64_t axis, int rank, const char *what, int *out) {
  if (axis < -rank || axis >= rank)
    return op_error(c, NNCL_ERR_INVALID_ARGUMENT, "%s %lld out of range for rank %d", what,
                    (long long)axis, rank);
  *out = (int)(axis < 0 ? axis + rank : axis);
  return NNCL_OK;
}

size_t op_local_1d(const struct op_call *c) {
  size_t m = c->ctx->info.max_work_group_size;
  size_t l = c->ctx->info.is_cpu ? 64 : 256;
  return m && l > m ? m : l;
}

void op_release_state(struct op_call *c) {
  free(c->state);
  c->state = NULL;
}

nncl_status op_check_outputs(const struct op_call *c) {
  for (int i = 0; i < c->n_out; i++) {
    const struct op_tensor *t = &c->out[i];
    if (t->dtype == NNCL_UNDEFINED) continue;
    if (nncl__shape_numel_checked(&t->shape, nncl_dtype_size(t->dtype)) >= 0) continue;
    char what[160];
    snprintf(what, sizeof what, "output %d", i);
    /* nncl__shape_check writes the reason; op_error adds the node's name in front */
    nncl__shape_check(c->ctx, NNCL_ERR_SHAPE, &t->shape, t->dtype, what);
    char reason[1024];
    snprintf(reason, sizeof reason, "%s", nncl_context_last_error(c->ctx));
    return op_error(c, NNCL_ERR_SHAPE, "%s", reason);
  }
  return NNCL_OK;
}
