/* pass_precision.c: graph.precision at plan time. fp16-storage (and fp16, the same storage on a
   device with cl_khr_fp16) holds the graph's float tensors as float16 on the device: float32
   constants are converted here, every other float value becomes float16, and Cast nodes at the
   graph's float32 inputs and outputs keep what the caller sees float32. Kernels compute in float
   (kernels/common/storage.cl). An op without a half-storage kernel is refused by name, never run
   as fp32 silently. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

/* ONNX TensorProto codes for Cast's `to` attribute (what nncl info shows for the edge casts) */
#define ONNX_FLOAT 1
#define ONNX_FLOAT16 10

/* fp16 keeps its promise of half arithmetic later (docs/DESIGN.md, "Precision"), so it needs the
   extension now: device 0 (which holds the graph's inputs and outputs), then every node's. */
static nncl_status check_extension(nncl_graph *g, struct plan *p) {
  nncl_context *d0 = nncl__ctx_dev(g->ctx, 0);
  if (!d0->info.has_fp16)
    return nncl__error(g->ctx, NNCL_ERR_UNSUPPORTED,
                       "graph.precision=fp16: device '%s' lacks the OpenCL extension cl_khr_fp16 "
                       "(fp16 requires it; graph.precision=fp16-storage runs float16 storage on "
                       "any device); use graph.precision=fp16-storage or fp32",
                       d0->info.name);
  for (int k = 0; k < p->n_order; k++) {
    const struct pnode *n = &p->n[p->order[k]];
    nncl_context *dc = nncl__ctx_dev(g->ctx, n->device);
    if (dc && !dc->info.has_fp16)
      return nncl__error(g->ctx, NNCL_ERR_UNSUPPORTED,
                         "graph.precision=fp16: device %d '%s' (node '%s', %s) lacks the OpenCL "
                         "extension cl_khr_fp16; use graph.precision=fp16-storage or fp32",
                         n->device, dc->info.name, n->name ? n->name : "", n->op_type);
  }
  return NNCL_OK;
}

/* Value index of input, output or residual slot j of n (-1 when absent). */
static int slot_value(const struct pnode *n, int j) {
  if (j < n->n_in) return n->in[j];
  if (j < n->n_in + n->n_out) return n->out[j - n->n_in];
  return n->res;
}

static int *slot_ref(struct pnode *n, int j) {
  if (j < n->n_in) return &n->in[j];
  if (j < n->n_in + n->n_out) return &n->out[j - n->n_in];
  return &n->res;
}

/* Every node that holds a float32 tensor must have a half-storage kernel (or be a view); the
   whole graph runs on device 0 (transfers between devices of half values are not built). */
static nncl_status check_nodes(nncl_graph *g, struct plan *p, const char *prec) {
  for (int k = 0; k < p->n_order; k++) {
    const struct pnode *n = &p->n[p->order[k]];
    int has_float = 0;
    for (int j = 0; j < n->n_in + n->n_out + 1 && !has_float; j++) {
      int v = slot_value(n, j);
      has_float = v >= 0 && p->v[v].dtype == NNCL_FLOAT32;
    }
    if (!has_float) continue;
    if (n->device != 0)
      return nncl__error(g->ctx, NNCL_ERR_UNSUPPORTED,
                         "graph.precision=%s: node '%s' (%s) is placed on device %d; float16 "
                         "storage runs on one device only; use graph.precision=fp32",
                         prec, n->name ? n->name : "", n->op_type, n->device);
    if (!(n->def->flags & (OP_HALF_STORAGE | OP_VIEW)))
      return nncl__error(g->ctx, NNCL_ERR_UNSUPPORTED,
                         "graph.precision=%s: op %s (node '%s') has no float16-storage kernel; "
                         "use graph.precision=fp32",
                         prec, n->op_type, n->name ? n->name : "");
  }
  return NNCL_OK;
}

/* A plan-owned float16 copy of the float32 array a (rounded to nearest even); NULL when out of
   memory. */
static nncl_array *half_copy(const nncl_array *a) {
  nncl_array *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  if (nncl_array_alloc(h, NNCL_FLOAT16, &a->shape) != NNCL_OK) {
    free(h);
    return NULL;
  }
  const float *src = a->data;
  uint16_t *dst = h->data;
  for (int64_t i = 0, n = nncl_shape_numel(&a->shape); i < n; i++)
    dst[i] = nncl__half_from_float(src[i]);
  return h;
}

/* Replaces the float32 constant of value v by its float16 copy. */
static nncl_status convert_constant(nncl_graph *g, struct plan *p, int v) {
  nncl_array *h = half_copy(p->v[v].host);
  if (!h)
    return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "float16 copy of constant '%s'",
                       v < g->n_values ? g->values[v].name : "folded");
  if (p->v[v].host_owned) {
    nncl_array_free(p->v[v].host);
    free(p->v[v].host);
  }
  p->v[v].host = h;
  p->v[v].host_owned = 1;
  p->v[v].dtype = NNCL_FLOAT16;
  return NNCL_OK;
}

/* Appends Cast(from) -> to on device 0, named after the graph value `edge`; -1 when out of
   memory. */
static int add_cast(nncl_graph *g, struct plan *p, int from, int to, int edge, int onnx_to) {
  char name[300];
  snprintf(name, sizeof name, "%s:%s", g->values[edge].name,
           onnx_to == ONNX_FLOAT16 ? "to_float16" : "to_float32");
  struct nncl__attr a = {.name = (char *)"to", .type = ATTR_INT, .i = onnx_to};
  return plan_append_node(p, "Cast", name, a, from, to, 0);
}

/* The storage rewrite: values read or written by scheduled nodes that are float32 become float16;
   a graph input or output among them keeps its float32 value at the edge and gets a float16 twin
   (map) that the nodes use, joined by a Cast. */
static nncl_status to_half_storage(nncl_graph *g, struct plan *p) {
  const int n_v = p->n_v;
  int *map = malloc((size_t)(n_v ? n_v : 1) * sizeof *map);
  if (!map || plan_reserve_nodes(p, g->n_inputs + g->n_outputs) != 0) {
    free(map);
    return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "float16 storage");
  }
  for (int v = 0; v < n_v; v++) map[v] = -2; /* -2: not seen, -1: converted in place */
  nncl_status st = NNCL_OK;
  for (int k = 0; k < p->n_order && st == NNCL_OK; k++) {
    struct pnode *n = &p->n[p->order[k]];
    for (int j = 0; j < n->n_in + n->n_out + 1 && st == NNCL_OK; j++) {
      int v = slot_value(n, j);
      if (v < 0 || map[v] != -2 || p->v[v].dtype != NNCL_FLOAT32) continue;
      int edge = v < g->n_values && (g->values[v].is_input || g->values[v].is_output);
      if (!edge) {
        map[v] = -1;
        p->v[v].dtype = NNCL_FLOAT16;
        if (p->v[v].host) st = convert_constant(g, p, v);
        continue;
      }
      int h = plan_add_value(p, NNCL_FLOAT16, &p->v[v].shape);
      if (h < 0) {
        st = nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "float16 storage");
        break;
      }
      p->v[h].device = 0;
      map[v] = h;
      if (p->v[v].host) { /* a constant graph output: nodes read a float16 copy */
        p->v[h].host = half_copy(p->v[v].host);
        p->v[h].host_owned = 1;
        if (!p->v[h].host)
          st = nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "float16 copy of '%s'",
                           g->values[v].name);
      }
    }
  }
  /* nodes use the twins; the edges are joined by Casts */
  for (int k = 0; k < p->n_order && st == NNCL_OK; k++) {
    struct pnode *n = &p->n[p->order[k]];
    for (int j = 0; j < n->n_in + n->n_out + 1; j++) {
      int *r = slot_ref(n, j);
      if (*r >= 0 && *r < n_v && map[*r] >= 0) *r = map[*r];
    }
  }
  for (int v = 0; v < n_v && st == NNCL_OK; v++) {
    if (map[v] < 0) continue;
    int ok;
    if (g->values[v].is_input)
      ok = add_cast(g, p, v, map[v], v, ONNX_FLOAT16);
    else if (p->v[v].producer >= 0 || !p->v[v].host)
      ok = add_cast(g, p, map[v], v, v, ONNX_FLOAT);
    else
      ok = 0; /* a constant output stays the float32 constant */
    if (ok != 0) st = nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "float16 storage casts");
  }
  free(map);
  /* the Casts join the schedule: producers, uses and order follow the new data flow */
  return st == NNCL_OK ? plan_schedule(g, p) : st;
}

nncl_status pass_precision(nncl_graph *g, struct plan *p) {
  const char *prec = nncl__option_value(&p->opts, NNCL__OPT_PRECISION);
  if (strcmp(prec, "fp32") == 0) return NNCL_OK;
  if (strcmp(prec, "fp16") == 0) NNCL_TRY(check_extension(g, p));
  NNCL_TRY(check_nodes(g, p, prec));
  return to_half_storage(g, p);
}
