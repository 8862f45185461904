/* op_exec.c: runs one op on host arrays, start to finish. The executor folds constants with it and
   the op tests drive every kernel through it, so both use the real infer/plan/enqueue path. */
#include <stdlib.h>
#include <string.h>

#include "op.h"

nncl_status op_run(nncl_context *ctx, const char *op_type, int opset, const struct nncl_attr *attrs,
                   int n_attrs, int n_in, const nncl_array *const *in, int n_out, nncl_array *out,
                   const struct op_epilogue *epi, const nncl_array *res) {
  if (!ctx || !op_type || n_in < 0 || n_out <= 0 || !out) return NNCL_ERR_INVALID_ARGUMENT;
  int id = op_lookup(op_type);
  if (id < 0) return nncl_error(ctx, NNCL_ERR_UNSUPPORTED, "op type %s is not supported", op_type);
  const struct op_def *def = op_get(id);
  struct op_call c = {.ctx = ctx, .def = def, .op_type = op_type, .node_name = op_type,
                      .opset = opset, .attrs = attrs, .n_attrs = n_attrs, .n_in = n_in,
                      .n_out = n_out};
  if (n_in < def->min_in || n_in > def->max_in || n_out < def->min_out || n_out > def->max_out)
    return op_error(&c, NNCL_ERR_INVALID_ARGUMENT, "takes %d..%d inputs and %d..%d outputs, got %d and %d",
                    def->min_in, def->max_in, def->min_out, def->max_out, n_in, n_out);
  struct op_tensor *t = calloc((size_t)(n_in + n_out + 1), sizeof *t);
  if (!t) return nncl_error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "op_run");
  c.in = t;
  c.out = t + n_in;
  struct op_tensor *rt = t + n_in + n_out;
  for (int i = 0; i < n_in; i++) {
    if (!in || !in[i]) continue;
    c.in[i].dtype = in[i]->dtype;
    c.in[i].shape = in[i]->shape;
    c.in[i].host = (nncl_array *)in[i];
  }
  if (epi) c.epi = *epi;
  if (c.epi.has_residual) {
    if (!res) {
      free(t);
      return op_error(&c, NNCL_ERR_INVALID_ARGUMENT, "epilogue asks for a residual but none given");
    }
    rt->dtype = res->dtype;
    rt->shape = res->shape;
    rt->host = (nncl_array *)res;
    c.res = rt;
  }
  for (int i = 0; i < n_out; i++) memset(&out[i], 0, sizeof out[i]);
  size_t ws = 0;
  nncl_status st = def->infer(&c);
  if (st == NNCL_OK && def->plan) st = def->plan(&c, &ws);
  /* device buffers */
  for (int i = 0; st == NNCL_OK && i < n_in + n_out + (c.res ? 1 : 0); i++) {
    struct op_tensor *x = &t[i];
    if (x->dtype == NNCL_UNDEFINED) continue;
    size_t bytes = (size_t)nncl_shape_numel(&x->shape) * nncl_dtype_size(x->dtype);
    int is_input = i < n_in || x == rt;
    if (is_input)
      st = nncl_buffer_from_host(ctx, x->host->data, bytes ? bytes : 4, "op input", &x->mem);
    else if (!(def->flags & OP_VIEW) || i != n_in)
      st = nncl_buffer_create(ctx, bytes, "op output", &x->mem);
  }
  if (st == NNCL_OK && ws) st = nncl_buffer_create(ctx, ws, "op workspace", &c.workspace);
  if (st == NNCL_OK && (def->flags & OP_VIEW)) {
    c.out[0].mem = c.in[0].mem;
    clRetainMemObject(c.out[0].mem);
  }
  if (st == NNCL_OK && def->enqueue) st = def->enqueue(&c);
  for (int i = 0; st == NNCL_OK && i < n_out; i++) {
    struct op_tensor *x = &c.out[i];
    if (x->dtype == NNCL_UNDEFINED) continue;
    st = nncl_array_alloc(&out[i], x->dtype, &x->shape);
    if (st != NNCL_OK) {
      st = nncl_error(ctx, st, "op_run: host output");
      break;
    }
    size_t bytes = nncl_array_bytes(&out[i]);
    if (x->host)
      memcpy(out[i].data, x->host->data, bytes);
    else
      st = nncl_buffer_download(ctx, x->mem, 0, out[i].data, bytes);
  }
  if (def->release) def->release(&c);
  for (int i = 0; i < n_in + n_out + 1; i++) {
    nncl_buffer_release(t[i].mem);
    if (i >= n_in && i < n_in + n_out && t[i].host) {
      nncl_array_free(t[i].host);
      free(t[i].host);
    }
  }
  nncl_buffer_release(c.workspace);
  free(t);
  if (st != NNCL_OK)
    for (int i = 0; i < n_out; i++) nncl_array_free(&out[i]);
  return st;
}
