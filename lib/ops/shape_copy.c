/* shape_copy.c: the shape family's shared strided copy, pad and fill launches and host evaluation
   of small integer tensors (see shape_copy.h for why). */
#include "shape_copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *shape_esize_suffix(size_t esize) {
  switch (esize) {
  case 1: return "b1";
  case 2: return "b2";
  case 4: return "b4";
  case 8: return "b8";
  case 16: return "b16";
  default: return NULL;
  }
}

nncl_status shape_check_dtype(const struct op_call *c, nncl_dtype dt, const char *what) {
  size_t e = nncl_dtype_size(dt);
  if (dt == NNCL_UNDEFINED || e == 0 || e > 8)
    return op_error(c, NNCL_ERR_DTYPE, "%s has unsupported dtype %s", what, nncl_dtype_name(dt));
  return NNCL_OK;
}

void shape_strides(const nncl_shape *shape, int64_t *strides) {
  int64_t s = 1;
  for (int d = shape->rank - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape->dims[d];
  }
}

void shape_copy_init(struct shape_copy *s, nncl_dtype dt, const nncl_shape *shape) {
  memset(s, 0, sizeof *s);
  s->rank = shape->rank;
  s->esize = nncl_dtype_size(dt);
  memcpy(s->dims, shape->dims, sizeof s->dims);
  shape_strides(shape, s->os);
}

void shape_local_2d(const struct op_call *c, size_t n0, size_t n1, size_t local[3]) {
  /* 256 items for GPUs and CPUs alike: on PoCL a 64-item group of a copy moves too few bytes
     to pay for its scheduling (measured 1.2x slower than 256 on [64, 512, 512] copies). Sizes
     come from a short menu because PoCL compiles a kernel once per distinct group shape. */
  size_t l = 256, m = c->ctx->info.max_work_group_size;
  while (m && l > m) l /= 2;
  size_t l0 = n0 <= 8 ? 8 : n0 <= 64 ? 64 : 256;
  if (l0 > l) l0 = l;
  size_t l1 = n1 <= 1 ? 1 : n1 <= 4 ? 4 : 32;
  if (l1 > l / l0) l1 = l / l0 ? l / l0 : 1;
  local[0] = l0;
  local[1] = l1;
  local[2] = 1;
}

/* Drops size-1 dims and merges neighbours that are contiguous on both sides (collapse_dims, whose
   innermost-first result is turned back to outermost first). */
static void simplify(struct shape_copy *s) {
  int64_t st[2][NNCL_MAX_RANK];
  memcpy(st[0], s->is, sizeof st[0]);
  memcpy(st[1], s->os, sizeof st[1]);
  struct collapse cl;
  collapse_dims(s->rank, s->dims, 2, st, NULL, &cl);
  if (cl.rank == 0) { /* a single element */
    s->rank = 1;
    s->dims[0] = 1;
    s->is[0] = s->os[0] = 1;
    return;
  }
  s->rank = cl.rank;
  for (int d = 0; d < cl.rank; d++) {
    s->dims[d] = cl.dims[cl.rank - 1 - d];
    s->is[d] = cl.strides[0][cl.rank - 1 - d];
    s->os[d] = cl.strides[1][cl.rank - 1 - d];
  }
}

/* Treats k consecutive elements as one wider element when every run, stride and offset allows. */
static void widen(struct shape_copy *s) {
  int last = s->rank - 1;
  if (s->is[last] != 1 || s->os[last] != 1) return;
  for (size_t w = 16; w > s->esize; w /= 2) {
    if (w % s->esize) continue;
    int64_t k = (int64_t)(w / s->esize);
    int ok = s->dims[last] % k == 0 && s->ioff % k == 0 && s->ooff % k == 0;
    for (int d = 0; ok && d < last; d++) ok = s->is[d] % k == 0 && s->os[d] % k == 0;
    if (!ok) continue;
    s->dims[last] /= k;
    for (int d = 0; d < last; d++) {
      s->is[d] /= k;
      s->os[d] /= k;
    }
    s->ioff /= k;
    s->ooff /= k;
    s->esize = w;
    return;
  }
}

nncl_status shape_copy_plan(const struct op_call *c, struct shape_copy *s, int64_t in_numel,
                            int64_t out_numel) {
  s->empty = 0;
  s->tiled = 0;
  s->blocked = 0;
  for (int d = 0; d < s->rank; d++)
    if (s->dims[d] == 0) s->empty = 1;
  if (s->empty) return NNCL_OK;
  if (in_numel >= INT32_MAX || out_numel >= INT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED,
                    "tensors of 2^31 elements or more are not supported (%lld and %lld elements)",
                    (long long)in_numel, (long long)out_numel);
  simplify(s);
  widen(s);
  int last = s->rank - 1;
  /* A transpose whose output-contiguous dim is strided in the input goes through a local tile
     when both swapped dims are long enough to fill one; otherwise the plain copy is cheaper. */
  if (s->rank >= 2 && s->os[last] == 1 && s->is[last] != 1 && s->is[last] != 0 &&
      s->dims[last] >= 16) {
    for (int d = 0; d < last; d++)
      if (s->is[d] == 1 && s->dims[d] >= 16) {
        s->tiled = 1;
        s->ta = d;
      }
  }
  const char *suf = shape_esize_suffix(s->esize);
  if (!suf)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "no copy kernel for %zu-byte elements", s->esize);
  /* CPUs: register blocks, no barrier (shape.cl). The option transpose.algo forces one. */
  const char *f = op_option(c, NNCL__OPT_TRANSPOSE_ALGO);
  s->blocked = s->tiled && (strcmp(f, "auto") ? strcmp(f, "blocked") == 0 : c->ctx->info.is_cpu);
  char name[64];
  snprintf(name, sizeof name, "%s_%s",
           s->blocked ? "shape_transpose8"
           : s->tiled ? "shape_transpose"
                      : "shape_copy",
           suf);
  return nncl__kernel_get(c->ctx, "shape", NULL, name, &s->k);
}

/* The outer dims of a plan (all but the ones the grid covers directly), innermost first. */
static cl_uint outer_dims(const struct shape_copy *s, int skip_a, int skip_b, cl_uint8 *rd,
                          cl_int8 *ris, cl_int8 *ros, cl_uint *n2) {
  cl_uint nr = 0;
  *n2 = 1;
  memset(rd, 0, sizeof *rd);
  memset(ris, 0, sizeof *ris);
  memset(ros, 0, sizeof *ros);
  for (int d = s->rank - 1; d >= 0; d--) {
    if (d == skip_a || d == skip_b) continue;
    rd->s[nr] = (cl_uint)s->dims[d];
    ris->s[nr] = (cl_int)s->is[d];
    ros->s[nr] = (cl_int)s->os[d];
    *n2 *= (cl_uint)s->dims[d];
    nr++;
  }
  return nr;
}

nncl_status shape_copy_enqueue(const struct op_call *c, const struct shape_copy *s, cl_mem in,
                               cl_mem out) {
  if (s->empty) return NNCL_OK;
  cl_uint8 rd;
  cl_int8 ris, ros;
  cl_uint n2;
  cl_int ioff = (cl_int)s->ioff, ooff = (cl_int)s->ooff;
  int last = s->rank - 1;
  if (s->tiled) {
    cl_uint nr = outer_dims(s, s->ta, last, &rd, &ris, &ros, &n2);
    cl_uint na = (cl_uint)s->dims[s->ta], nb = (cl_uint)s->dims[last];
    cl_int isb = (cl_int)s->is[last], osa = (cl_int)s->os[s->ta];
    size_t local[3] = {32, 8, 1};
    size_t global[3] = {op_round_up(na, 32), op_round_up(nb, 32) / 4, n2};
    if (s->blocked) {
      /* a work-item per 8x8 block; a work-group's eight blocks run along b, so together they
         write 64 contiguous output elements per row (measured on PoCL: about 2x faster than
         groups along a) */
      local[0] = 1;
      local[1] = 8;
      global[0] = (na + 7) / 8;
      global[1] = op_round_up((nb + 7) / 8, 8);
    }
    return NNCL_LAUNCH(c->ctx, s->k, c->op_type, 3, global, local, NNCL_ARG(in), NNCL_ARG(out),
                       NNCL_ARG(ioff), NNCL_ARG(ooff), NNCL_ARG(na), NNCL_ARG(nb), NNCL_ARG(isb),
                       NNCL_ARG(osa), NNCL_ARG(rd), NNCL_ARG(ris), NNCL_ARG(ros), NNCL_ARG(nr));
  }
  int d1 = s->rank >= 2 ? last - 1 : -1;
  cl_uint nr = outer_dims(s, last, d1, &rd, &ris, &ros, &n2);
  cl_uint n0 = (cl_uint)s->dims[last], n1 = d1 >= 0 ? (cl_uint)s->dims[d1] : 1;
  cl_int is0 = (cl_int)s->is[last], os0 = (cl_int)s->os[last];
  cl_int is1 = d1 >= 0 ? (cl_int)s->is[d1] : 0, os1 = d1 >= 0 ? (cl_int)s->os[d1] : 0;
  size_t local[3], global[3] = {n0, n1, n2};
  shape_local_2d(c, n0, n1, local);
  return NNCL_LAUNCH(c->ctx, s->k, c->op_type, 3, global, local, NNCL_ARG(in), NNCL_ARG(out),
                     NNCL_ARG(ioff), NNCL_ARG(ooff), NNCL_ARG(n0), NNCL_ARG(n1), NNCL_ARG(n2),
                     NNCL_ARG(is0), NNCL_ARG(is1), NNCL_ARG(os0), NNCL_ARG(os1), NNCL_ARG(rd),
                     NNCL_ARG(ris), NNCL_ARG(ros), NNCL_ARG(nr));
}

void shape_copy_host(const struct shape_copy *s, const void *in, void *out) {
  int64_t c[NNCL_MAX_RANK] = {0}, n = 1;
  for (int d = 0; d < s->rank; d++) n *= s->dims[d];
  const char *src = in;
  char *dst = out;
  for (int64_t i = 0; i < n; i++) {
    int64_t io = s->ioff, oo = s->ooff;
    for (int d = 0; d < s->rank; d++) {
      io += c[d] * s->is[d];
      oo += c[d] * s->os[d];
    }
    memcpy(dst + oo * (int64_t)s->esize, src + io * (int64_t)s->esize, s->esize);
    for (int d = s->rank - 1; d >= 0; d--) {
      if (++c[d] < s->dims[d]) break;
      c[d] = 0;
    }
  }
}

nncl_status shape_pad_plan(const struct op_call *c, struct shape_pad *p, nncl_dtype dt,
                           const nncl_shape *in, const nncl_shape *out, const int64_t *pb,
                           enum shape_pad_mode mode, uint64_t value_bits) {
  memset(p, 0, sizeof *p);
  int64_t in_n = nncl_shape_numel(in), out_n = nncl_shape_numel(out);
  if (out_n == 0) {
    p->empty = 1;
    return NNCL_OK;
  }
  if (in_n >= INT32_MAX || out_n >= INT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED,
                    "tensors of 2^31 elements or more are not supported (%lld and %lld elements)",
                    (long long)in_n, (long long)out_n);
  int64_t st[NNCL_MAX_RANK];
  shape_strides(in, st);
  int r = in->rank;
  p->rank = r < 2 ? 2 : r;
  p->n2 = 1;
  for (int k = 0; k < p->rank; k++) {
    int d = r - 1 - k; /* innermost first; missing dims are size 1 */
    p->od.s[k] = d >= 0 ? (cl_uint)out->dims[d] : 1;
    p->id.s[k] = d >= 0 ? (cl_int)in->dims[d] : 1;
    p->is.s[k] = d >= 0 ? (cl_int)st[d] : 0;
    p->pb.s[k] = d >= 0 ? (cl_int)pb[d] : 0;
    if (k >= 2) p->n2 *= p->od.s[k];
  }
  p->mode = (cl_int)mode;
  p->value = value_bits;
  char name[64];
  snprintf(name, sizeof name, "shape_pad_%s", shape_esize_suffix(nncl_dtype_size(dt)));
  return nncl__kernel_get(c->ctx, "shape", NULL, name, &p->k);
}

nncl_status shape_pad_enqueue(const struct op_call *c, const struct shape_pad *p, cl_mem in,
                              cl_mem out) {
  if (p->empty) return NNCL_OK;
  size_t local[3], global[3] = {p->od.s[0], p->od.s[1], p->n2};
  shape_local_2d(c, global[0], global[1], local);
  cl_uint rank = (cl_uint)p->rank;
  return NNCL_LAUNCH(c->ctx, p->k, c->op_type, 3, global, local, NNCL_ARG(in), NNCL_ARG(out),
                     NNCL_ARG(p->n2), NNCL_ARG(p->od), NNCL_ARG(p->id), NNCL_ARG(p->is),
                     NNCL_ARG(p->pb), NNCL_ARG(rank), NNCL_ARG(p->mode), NNCL_ARG(p->value));
}

nncl_status shape_fill_kernel(const struct op_call *c, nncl_dtype dt, cl_kernel *k) {
  NNCL_TRY(shape_check_dtype(c, dt, "fill"));
  char name[64];
  snprintf(name, sizeof name, "shape_fill_%s", shape_esize_suffix(nncl_dtype_size(dt)));
  return nncl__kernel_get(c->ctx, "shape", NULL, name, k);
}

nncl_status shape_fill_enqueue(const struct op_call *c, cl_kernel k, cl_mem out, int64_t n,
                               uint64_t value_bits) {
  if (n == 0) return NNCL_OK;
  if (n >= INT32_MAX)
    return op_error(c, NNCL_ERR_UNSUPPORTED, "fills of 2^31 elements or more are not supported");
  cl_uint nn = (cl_uint)n;
  cl_ulong v = value_bits;
  size_t l = op_local_1d(c), g = (size_t)n;
  return NNCL_LAUNCH(c->ctx, k, c->op_type, 1, &g, &l, NNCL_ARG(out), NNCL_ARG(nn), NNCL_ARG(v));
}

static double tensor_bytes(const struct op_tensor *t) {
  return t->dtype == NNCL_UNDEFINED
             ? 0.0
             : (double)nncl_shape_numel(&t->shape) * (double)nncl_dtype_size(t->dtype);
}

void shape_cost_read_as_written(const struct op_call *c, struct op_cost *out) {
  out->flops = 0;
  out->bytes = 2.0 * tensor_bytes(&c->out[0]);
  for (int i = 1; i < c->n_in; i++) out->bytes += tensor_bytes(&c->in[i]);
}

void shape_cost_write_only(const struct op_call *c, struct op_cost *out) {
  out->flops = 0;
  out->bytes = 0;
  for (int i = 0; i < c->n_out; i++) out->bytes += tensor_bytes(&c->out[i]);
}

int shape_input_ints(const struct op_call *c, int i, int64_t *v, int max) {
  if (!op_has_input(c, i) || !c->in[i].host) return -1;
  const nncl_array *a = c->in[i].host;
  int64_t n = nncl_shape_numel(&a->shape);
  if (n > max) return -2;
  if (a->dtype == NNCL_INT64)
    memcpy(v, a->data, (size_t)n * sizeof *v);
  else if (a->dtype == NNCL_INT32)
    for (int64_t k = 0; k < n; k++) v[k] = ((const int32_t *)a->data)[k];
  else
    return -2;
  return (int)n;
}

int shape_host_eligible(const struct op_call *c, int o, int n_in) {
  nncl_dtype dt = c->out[o].dtype;
  /* while folding, small values of any type (the copies are byte moves, exact for all) */
  int64_t max = c->host_fold                           ? OP_FOLD_HOST_MAX
                : dt == NNCL_INT64 || dt == NNCL_INT32 ? SHAPE_HOST_MAX
                                                       : -1;
  int64_t n = nncl_shape_numel(&c->out[o].shape);
  if (n < 0 || n > max || c->out[o].host) return 0;
  for (int i = 0; i < n_in && i < c->n_in; i++)
    if (op_has_input(c, i) && !c->in[i].host) return 0;
  return 1;
}

nncl_status shape_host_alloc(const struct op_call *c, int o, nncl_array **out) {
  *out = NULL;
  if (c->out[o].host) return NNCL_OK;
  nncl_array *a = calloc(1, sizeof *a);
  if (!a || nncl_array_alloc(a, c->out[o].dtype, &c->out[o].shape) != NNCL_OK) {
    free(a);
    return op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "host value of output %d", o);
  }
  c->out[o].host = a;
  *out = a;
  return NNCL_OK;
}
