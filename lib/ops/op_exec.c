/* op_exec.c: runs one op on host arrays, start to finish. The executor folds constants with it,
   the op tests drive every kernel through it and the benchmarks time it, so all of them use the
   real infer/plan/enqueue path. */
#include <stdlib.h>
#include <string.h>

#include "op.h"

struct op_instance {
  struct op_call c;
  struct op_tensor *t; /* n_in inputs, n_out outputs, 1 residual */
  int n_t;
};

void op_instance_destroy(struct op_instance *oi) {
  if (!oi) return;
  if (oi->c.def && oi->c.def->release) oi->c.def->release(&oi->c);
  for (int i = 0; i < oi->n_t; i++) {
    nncl__buffer_release(oi->t[i].mem);
    if (i >= oi->c.n_in && i < oi->c.n_in + oi->c.n_out && oi->t[i].host) {
      nncl_array_free(oi->t[i].host);
      free(oi->t[i].host);
    }
  }
  nncl__buffer_release(oi->c.workspace);
  free(oi->t);
  free(oi);
}

nncl_status op_instance_create(nncl_context *ctx, const char *op_type, int opset,
                               const struct nncl__attr *attrs, int n_attrs, int n_in,
                               const nncl_array *const *in, int n_out,
                               const struct op_epilogue *epi, const nncl_array *res,
                               struct op_instance **out) {
  if (!ctx || !op_type || n_in < 0 || n_out <= 0 || !out) return NNCL_ERR_INVALID_ARGUMENT;
  *out = NULL;
  int id = op_lookup(op_type);
  if (id < 0) return nncl__error(ctx, NNCL_ERR_UNSUPPORTED, "op type %s is not supported", op_type);
  const struct op_def *def = op_get(id);
  struct op_instance *oi = calloc(1, sizeof *oi);
  if (!oi) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "op instance");
  struct op_call *c = &oi->c;
  *c = (struct op_call){.ctx = ctx,
                        .def = def,
                        .op_type = op_type,
                        .node_name = op_type,
                        .opset = opset,
                        .attrs = attrs,
                        .n_attrs = n_attrs,
                        .n_in = n_in,
                        .n_out = n_out};
  if (n_in < def->min_in || n_in > def->max_in || n_out < def->min_out || n_out > def->max_out) {
    nncl_status st = op_error(c, NNCL_ERR_INVALID_ARGUMENT,
                              "takes %d..%d inputs and %d..%d outputs, got %d and %d", def->min_in,
                              def->max_in, def->min_out, def->max_out, n_in, n_out);
    c->def = NULL;
    op_instance_destroy(oi);
    return st;
  }
  oi->n_t = n_in + n_out + 1;
  oi->t = calloc((size_t)oi->n_t, sizeof *oi->t);
  if (!oi->t) {
    c->def = NULL;
    op_instance_destroy(oi);
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "op instance");
  }
  c->in = oi->t;
  c->out = oi->t + n_in;
  struct op_tensor *rt = oi->t + n_in + n_out;
  for (int i = 0; i < n_in; i++) {
    if (!in || !in[i]) continue;
    c->in[i].dtype = in[i]->dtype;
    c->in[i].shape = in[i]->shape;
    c->in[i].host = (nncl_array *)in[i];
  }
  if (epi) c->epi = *epi;
  nncl_status st = NNCL_OK;
  if (c->epi.has_residual) {
    if (!res) {
      st = op_error(c, NNCL_ERR_INVALID_ARGUMENT, "epilogue asks for a residual but none given");
    } else {
      rt->dtype = res->dtype;
      rt->shape = res->shape;
      rt->host = (nncl_array *)res;
      c->res = rt;
    }
  }
  size_t ws = 0;
  if (st == NNCL_OK) st = def->infer(c);
  if (st == NNCL_OK) st = op_check_outputs(c);
  if (st == NNCL_OK && def->plan) st = def->plan(c, &ws);
  for (int i = 0; st == NNCL_OK && i < oi->n_t; i++) {
    struct op_tensor *x = &oi->t[i];
    if (x->dtype == NNCL_UNDEFINED) continue;
    size_t bytes = (size_t)nncl_shape_numel(&x->shape) * nncl_dtype_size(x->dtype);
    int is_input = i < n_in || x == rt;
    if (is_input) {
      st = nncl__buffer_create(ctx, bytes, "op input", &x->mem);
      if (st == NNCL_OK) st = nncl__buffer_upload(ctx, x->mem, 0, x->host->data, bytes);
    } else if (!(def->flags & OP_VIEW) || i != n_in)
      st = nncl__buffer_create(ctx, bytes, "op output", &x->mem);
  }
  if (st == NNCL_OK && ws) st = nncl__buffer_create(ctx, ws, "op workspace", &c->workspace);
  if (st == NNCL_OK && (def->flags & OP_VIEW)) {
    c->out[0].mem = c->in[0].mem;
    clRetainMemObject(c->out[0].mem);
  }
  if (st != NNCL_OK) {
    op_instance_destroy(oi);
    return st;
  }
  *out = oi;
  return NNCL_OK;
}

struct op_call *op_instance_call(struct op_instance *oi) {
  return &oi->c;
}

nncl_status op_instance_enqueue(struct op_instance *oi) {
  return oi->c.def->enqueue ? oi->c.def->enqueue(&oi->c) : NNCL_OK;
}

static nncl_status enqueue_fn(void *oi) { return op_instance_enqueue(oi); }

nncl_status op_instance_time(struct op_instance *oi, int warmup, int runs, double *median_s) {
  return nncl__time_median(oi->c.ctx, warmup, runs, enqueue_fn, oi, median_s);
}

nncl_status op_instance_read(struct op_instance *oi, nncl_array *out) {
  struct op_call *c = &oi->c;
  nncl_status st = NNCL_OK;
  for (int i = 0; i < c->n_out; i++) memset(&out[i], 0, sizeof out[i]);
  for (int i = 0; st == NNCL_OK && i < c->n_out; i++) {
    struct op_tensor *x = &c->out[i];
    if (x->dtype == NNCL_UNDEFINED) continue;
    if (nncl_array_alloc(&out[i], x->dtype, &x->shape) != NNCL_OK) {
      st = nncl__error(c->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "host copy of an op output");
      break;
    }
    size_t bytes = nncl_array_bytes(&out[i]);
    if (x->host)
      memcpy(out[i].data, x->host->data, bytes);
    else
      st = nncl__buffer_download(c->ctx, x->mem, 0, out[i].data, bytes);
  }
  if (st != NNCL_OK)
    for (int i = 0; i < c->n_out; i++) nncl_array_free(&out[i]);
  return st;
}

nncl_status op_run(nncl_context *ctx, const char *op_type, int opset,
                   const struct nncl__attr *attrs, int n_attrs, int n_in,
                   const nncl_array *const *in, int n_out, nncl_array *out,
                   const struct op_epilogue *epi, const nncl_array *res) {
  if (!out) return NNCL_ERR_INVALID_ARGUMENT;
  for (int i = 0; i < n_out; i++) memset(&out[i], 0, sizeof out[i]);
  struct op_instance *oi;
  NNCL_TRY(op_instance_create(ctx, op_type, opset, attrs, n_attrs, n_in, in, n_out, epi, res, &oi));
  nncl_status st = op_instance_enqueue(oi);
  if (st == NNCL_OK) st = op_instance_read(oi, out);
  op_instance_destroy(oi);
  return st;
}
