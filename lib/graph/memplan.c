/* memplan.c: places every intermediate tensor in its device's arena by liveness
   (greedy by size, first fit among tensors alive at the same time), aliases views and in-place
   element-wise outputs onto their input, uploads constants once per device that reads them,
   gives the nodes of a device one shared scratch buffer, and binds buffers to op calls. Devices
   run their queues independently, so a value a transfer node reads lives to the end of the run
   and a transfer's output from the start: no other tensor of either device ever shares their
   bytes, and a transfer needs no wait besides the one on its producer.
   Offsets honour CL_DEVICE_MEM_BASE_ADDR_ALIGN so each tensor is a valid sub-buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

static size_t value_bytes(const struct pvalue *v) {
  return (size_t)nncl_shape_numel(&v->shape) * nncl_dtype_size(v->dtype);
}

static int add_storage(struct plan *p, enum storage_kind kind, size_t bytes, int first) {
  if (p->n_st == p->cap_st) {
    int cap = p->cap_st ? p->cap_st * 2 : 64;
    struct storage *n = realloc(p->st, (size_t)cap * sizeof *n);
    if (!n) return -1;
    p->st = n;
    p->cap_st = cap;
  }
  struct storage *s = &p->st[p->n_st];
  memset(s, 0, sizeof *s);
  s->kind = kind;
  s->bytes = bytes;
  s->first = first;
  s->last = first;
  return p->n_st++;
}

static int by_size_desc(const void *a, const void *b, void *ctx) {
  const struct storage *st = ctx;
  size_t x = st[*(const int *)a].bytes, y = st[*(const int *)b].bytes;
  return (x < y) - (x > y);
}

/* qsort_r is not C11; a small insertion sort is plenty for a few thousand tensors. */
static void sort_idx(int *idx, int n, struct storage *st) {
  for (int i = 1; i < n; i++) {
    int x = idx[i], j = i - 1;
    while (j >= 0 && by_size_desc(&idx[j], &x, st) > 0) {
      idx[j + 1] = idx[j];
      j--;
    }
    idx[j + 1] = x;
  }
}

static size_t align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

static void place_arena(struct plan *p, size_t align, int dev) {
  int *idx = malloc(((size_t)p->n_st + 1) * sizeof *idx);
  int *placed = malloc(((size_t)p->n_st + 1) * sizeof *placed);
  int n = 0, np = 0;
  if (!idx || !placed) {
    free(idx);
    free(placed);
    /* fall back to no sharing: every tensor its own slot */
    size_t off = 0;
    for (int i = 0; i < p->n_st; i++)
      if (p->st[i].kind == ST_ARENA && p->st[i].device == dev) {
        p->st[i].offset = off;
        off = align_up(off + p->st[i].bytes, align);
      }
    p->dev_arena_bytes[dev] = off;
    return;
  }
  for (int i = 0; i < p->n_st; i++)
    if (p->st[i].kind == ST_ARENA && p->st[i].device == dev) idx[n++] = i;
  sort_idx(idx, n, p->st);
  size_t top = 0;
  for (int a = 0; a < n; a++) {
    struct storage *s = &p->st[idx[a]];
    size_t off = 0;
    /* retry until no overlapping placed tensor intersects [off, off + bytes) */
    for (int moved = 1; moved;) {
      moved = 0;
      for (int b = 0; b < np; b++) {
        struct storage *o = &p->st[placed[b]];
        if (o->last < s->first || s->last < o->first) continue; /* not alive together */
        size_t oend = o->offset + align_up(o->bytes, align);
        if (off < oend && o->offset < off + align_up(s->bytes, align)) {
          off = oend;
          moved = 1;
        }
      }
    }
    s->offset = off;
    placed[np++] = idx[a];
    if (off + align_up(s->bytes, align) > top) top = off + align_up(s->bytes, align);
  }
  p->dev_arena_bytes[dev] = top;
  free(idx);
  free(placed);
}

/* Concat without copies. When every input of a Concat is one contiguous block of its output
   (all dims before the axis are 1: batch 1 along channels, or axis 0) starting at an offset the
   device can take a sub-buffer at, each input's producer writes its slice of the output and the
   Concat runs nothing. Only where no reader could tell: each input is made by a node of the same
   device that is neither a view nor in place (its output is its own bytes), is no constant, graph
   input or output, is concatenated once (not twice, not into two Concats) and has no view reading
   it (a view would outlive the output's reservation unseen); the output is no graph output and no
   other Concat's input. The output's storage is reserved from the first producer to the last read
   of it or of any input; inputs become ST_SLICE storages, which in-place nodes never take. Marks
   the Concats in elided[] (per plan node). */
static nncl_status plan_concat_views(nncl_graph *g, struct plan *p, const int *last, size_t align,
                                     char *elided) {
  if (!nncl__option_on(&p->opts, NNCL__OPT_GRAPH_CONCAT_VIEWS)) return NNCL_OK;
  int *pos = malloc(((size_t)p->n_n + 1) * sizeof *pos);
  char *claimed = calloc((size_t)p->n_v + 1, 1), *viewed = calloc((size_t)p->n_v + 1, 1);
  if (!pos || !claimed || !viewed) {
    free(pos);
    free(claimed);
    free(viewed);
    return nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "memory plan");
  }
  for (int i = 0; i < p->n_n; i++) pos[i] = -1;
  for (int k = 0; k < p->n_order; k++) pos[p->order[k]] = k;
  /* values a view reads: writing them into a slice would hide the view's reads from the output */
  for (int k = 0; k < p->n_order; k++) {
    const struct pnode *n = &p->n[p->order[k]];
    if ((n->def->flags & OP_VIEW) && n->n_in > 0 && n->in[0] >= 0) viewed[n->in[0]] = 1;
  }
  nncl_status st = NNCL_OK;
  for (int k = 0; k < p->n_order && st == NNCL_OK; k++) {
    const struct pnode *n = &p->n[p->order[k]];
    if (n->op != OP_CONCAT || n->n_out != 1 || n->out[0] < 0 || n->res >= 0) continue;
    const int c = n->out[0];
    const struct pvalue *cv = &p->v[c];
    const nncl_shape *cs = &cv->shape;
    const struct nncl__attr *ax = plan_node_attr(n, "axis");
    if (!ax || plan_is_graph_output(g, c) || claimed[c] || nncl_shape_numel(cs) <= 0) continue;
    int axis = (int)(ax->i < 0 ? ax->i + cs->rank : ax->i);
    int ok = axis >= 0 && axis < cs->rank;
    for (int d = 0; ok && d < axis; d++) ok = cs->dims[d] == 1;
    size_t off = 0;
    for (int i = 0; ok && i < n->n_in; i++) {
      const int v = n->in[i];
      const struct pvalue *x = v >= 0 ? &p->v[v] : NULL;
      const struct pnode *pr = x && x->producer >= 0 ? &p->n[x->producer] : NULL;
      ok = pr && pos[x->producer] >= 0 && !x->host && x->storage < 0 && !claimed[v] && !viewed[v] &&
           !plan_is_graph_output(g, v) && x->dtype == cv->dtype && pr->device == n->device &&
           !(pr->def->flags & (OP_VIEW | OP_INPLACE)) && pr->op != OP_TRANSFER &&
           pr->op != OP_CONCAT && off % align == 0;
      for (int j = 0; ok && j < i; j++) ok = n->in[j] != v;
      if (ok) off += value_bytes(x);
    }
    if (!ok || off != value_bytes(cv)) continue;
    /* the output's storage, reserved from the first producer to the last reader of any part */
    int first = k, end = last[c];
    for (int i = 0; i < n->n_in; i++) {
      if (pos[p->v[n->in[i]].producer] < first) first = pos[p->v[n->in[i]].producer];
      if (last[n->in[i]] > end) end = last[n->in[i]];
    }
    int s = add_storage(p, ST_ARENA, value_bytes(cv), first);
    if (s >= 0) {
      p->st[s].device = n->device;
      p->st[s].last = end;
      p->v[c].storage = s;
    }
    off = 0;
    for (int i = 0; i < n->n_in && s >= 0; i++) {
      const int v = n->in[i];
      int si = add_storage(p, ST_SLICE, value_bytes(&p->v[v]), pos[p->v[v].producer]);
      if (si < 0) {
        s = -1;
        break;
      }
      p->st[si].device = n->device;
      p->st[si].parent = s;
      p->st[si].offset = off;
      p->st[si].last = end;
      p->v[v].storage = si;
      claimed[v] = 1;
      off += p->st[si].bytes;
    }
    if (s < 0)
      st = nncl__error(g->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "memory plan");
    else
      elided[p->order[k]] = 1;
  }
  free(pos);
  free(claimed);
  free(viewed);
  return st;
}

static int reads_value(const struct pnode *n, int v) {
  if (n->res == v) return 1;
  for (int k = 0; k < n->n_in; k++)
    if (n->in[k] == v) return 1;
  return 0;
}

/* Places each device's arena and makes every tensor's sub-buffer (a slice inside its parent's). */
static nncl_status place_buffers(nncl_context *ctx, struct plan *p, size_t align) {
  for (int d = 0; d < ctx->n_dev; d++) {
    place_arena(p, align, d);
    p->arena_bytes += p->dev_arena_bytes[d];
    if (p->dev_arena_bytes[d])
      NNCL_TRY(nncl__buffer_create(ctx->dev[d], p->dev_arena_bytes[d], "the activation arena",
                                   &p->arena[d]));
  }
  for (int s = 0; s < p->n_st; s++) {
    struct storage *x = &p->st[s];
    if (x->kind != ST_ARENA && x->kind != ST_SLICE) continue;
    size_t origin = x->kind == ST_SLICE ? p->st[x->parent].offset + x->offset : x->offset;
    cl_buffer_region r = {origin, x->bytes ? x->bytes : 4};
    size_t top = p->dev_arena_bytes[x->device];
    if (r.origin + r.size > top) r.size = top - r.origin;
    cl_int err;
    if (!p->arena[x->device] || r.size == 0) {
      NNCL_TRY(nncl__buffer_create(ctx->dev[x->device], 4, "empty tensor", &x->mem));
      continue;
    }
    x->mem = clCreateSubBuffer(p->arena[x->device], CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION,
                               &r, &err);
    if (err != CL_SUCCESS)
      return nncl__cl_error(ctx, err, "sub-buffer at offset %zu (%zu bytes) of the arena", r.origin,
                            r.size);
  }
  return NNCL_OK;
}

/* Binds device buffers into every op call, then drops the Concats planned as views from the
   order: their inputs' producers already wrote the output. */
static void bind_buffers(nncl_graph *g, struct plan *p, const char *elided) {
  for (int k = 0; k < p->n_order; k++) {
    int i = p->order[k];
    struct pnode *n = &p->n[i];
    plan_bind_call(g, p, i);
    for (int j = 0; j < n->n_in; j++)
      if (n->in[j] >= 0 && p->v[n->in[j]].storage >= 0)
        n->t[j].mem = p->st[p->v[n->in[j]].storage].mem;
    for (int j = 0; j < n->n_out; j++)
      if (n->out[j] >= 0 && p->v[n->out[j]].storage >= 0)
        n->call.out[j].mem = p->st[p->v[n->out[j]].storage].mem;
    if (n->res >= 0) n->call.res->mem = p->st[p->v[n->res].storage].mem;
    n->call.workspace = n->ws_storage >= 0 ? p->st[n->ws_storage].mem : NULL;
  }
  int kept = 0;
  for (int k = 0; k < p->n_order; k++) {
    if (elided[p->order[k]])
      p->n[p->order[k]].alive = 0;
    else
      p->order[kept++] = p->order[k];
  }
  p->n_order = kept;
}

nncl_status plan_memory(nncl_graph *g, struct plan *p) {
  nncl_context *ctx = g->ctx;
  size_t align = 64;
  for (int d = 0; d < ctx->n_dev; d++)
    if (ctx->dev[d]->info.mem_base_addr_align_bytes > align)
      align = ctx->dev[d]->info.mem_base_addr_align_bytes;
  int *last = malloc(((size_t)p->n_v + 1) * sizeof *last);
  char *elided = calloc((size_t)p->n_n + 1, 1); /* Concats planned as views */
  p->input_storage = malloc(((size_t)g->n_inputs + 1) * sizeof *p->input_storage);
  if (!last || !elided || !p->input_storage) {
    free(last);
    free(elided);
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "memory plan");
  }
  p->n_inputs = g->n_inputs;
  /* last read position of every value (graph outputs live to the end) */
  for (int v = 0; v < p->n_v; v++) last[v] = plan_is_graph_output(g, v) ? p->n_order : -1;
  for (int k = 0; k < p->n_order; k++) {
    const struct pnode *n = &p->n[p->order[k]];
    for (int i = 0; i < n->n_in; i++)
      if (n->in[i] >= 0 && last[n->in[i]] < k) last[n->in[i]] = k;
    if (n->res >= 0 && last[n->res] < k) last[n->res] = k;
    if (n->op == OP_TRANSFER) last[n->in[0]] = p->n_order;
  }
  nncl_status st = NNCL_OK;
  /* graph inputs: own buffers, so the caller's data never moves */
  for (int k = 0; k < g->n_inputs && st == NNCL_OK; k++) {
    int v = g->inputs[k];
    int s = add_storage(p, ST_INPUT, value_bytes(&p->v[v]), -1);
    if (s < 0) {
      st = nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "memory plan");
      break;
    }
    p->v[v].storage = s;
    p->input_storage[k] = s;
    st = nncl__buffer_create(ctx, p->st[s].bytes, g->values[v].name, &p->st[s].mem);
  }
  /* constants read by kernels: uploaded once, or used in place on host-unified devices (their
     host arrays, the IR's or the plan's, outlive the plan's buffers) */
  p->weight_bytes = 0;
  for (int v = 0; v < p->n_v && st == NNCL_OK; v++) {
    struct pvalue *x = &p->v[v];
    if (!x->host || x->storage >= 0 || last[v] < 0) continue;
    int used = 0;
    for (int k = 0; k < p->n_order && !used; k++) used = reads_value(&p->n[p->order[k]], v);
    if (!used) continue;
    int s = add_storage(p, ST_CONST, nncl_array_bytes(x->host), -1);
    if (s < 0) {
      st = nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "memory plan");
      break;
    }
    p->st[s].device = x->device > 0 ? x->device : 0;
    x->storage = s;
    p->weight_bytes += p->st[s].bytes;
    /* an empty value's host block is 1 byte: upload exactly its bytes (none); the buffer itself
       gets its minimum size in nncl__buffer_create */
    nncl_context *dev = nncl__ctx_dev(ctx, p->st[s].device);
    const char *what = v < g->n_values ? g->values[v].name : "folded weight";
    st = nncl__option_on(&p->opts, NNCL__OPT_GRAPH_HOST_WEIGHTS)
             ? nncl__buffer_over_host(dev, x->host->data, p->st[s].bytes, what, &p->st[s].mem)
             : nncl__buffer_from_host(dev, x->host->data, p->st[s].bytes, what, &p->st[s].mem);
  }
  if (st == NNCL_OK) st = plan_concat_views(g, p, last, align, elided);
  /* node outputs and workspaces, in execution order */
  p->intermediates_bytes = 0;
  for (int k = 0; k < p->n_order && st == NNCL_OK; k++) {
    struct pnode *n = &p->n[p->order[k]];
    for (int i = 0; i < n->n_out && st == NNCL_OK; i++) {
      int v = n->out[i];
      if (v < 0) continue;
      struct pvalue *x = &p->v[v];
      if (x->storage >= 0) { /* placed by plan_concat_views: a Concat's output or a slice of it */
        if (p->st[x->storage].kind == ST_ARENA) p->intermediates_bytes += value_bytes(x);
        continue;
      }
      int in0 = n->n_in > 0 ? n->in[0] : -1;
      int s = -1;
      if (i == 0 && in0 >= 0 && (n->def->flags & OP_VIEW)) {
        s = p->v[in0].storage; /* same bytes, new shape */
      } else if (i == 0 && in0 >= 0 && (n->def->flags & OP_INPLACE) && p->v[in0].storage >= 0 &&
                 p->st[p->v[in0].storage].kind == ST_ARENA && p->st[p->v[in0].storage].last <= k &&
                 last[in0] <= k && p->st[p->v[in0].storage].bytes == value_bytes(x) &&
                 nncl__option_on(&p->opts, NNCL__OPT_GRAPH_INPLACE)) {
        s = p->v[in0].storage;
      }
      if (!(n->def->flags & OP_VIEW) || i > 0) p->intermediates_bytes += value_bytes(x);
      if (s < 0) {
        s = add_storage(p, ST_ARENA, value_bytes(x), n->op == OP_TRANSFER ? 0 : k);
        if (s < 0) st = nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "memory plan");
        if (s >= 0) p->st[s].device = n->device;
      }
      if (s >= 0) {
        x->storage = s;
        if (last[v] > p->st[s].last) p->st[s].last = last[v];
      }
    }
    n->ws_storage = -1;
  }
  /* A device's nodes run one at a time on its in-order queue, so one scratch buffer of the
     largest request serves them all; keeping it out of the arena makes the arena the
     activations' footprint alone. */
  for (int d = 0; d < ctx->n_dev && st == NNCL_OK; d++) {
    size_t ws_bytes = 0;
    for (int k = 0; k < p->n_order; k++)
      if (p->n[p->order[k]].device == d && p->n[p->order[k]].ws_bytes > ws_bytes)
        ws_bytes = p->n[p->order[k]].ws_bytes;
    if (!ws_bytes) continue;
    int ws = add_storage(p, ST_SCRATCH, ws_bytes, 0);
    if (ws < 0) st = nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "memory plan");
    if (ws >= 0) {
      p->st[ws].device = d;
      st = nncl__buffer_create(ctx->dev[d], ws_bytes, "op workspace", &p->st[ws].mem);
    }
    for (int k = 0; k < p->n_order && st == NNCL_OK; k++)
      if (p->n[p->order[k]].ws_bytes && p->n[p->order[k]].device == d)
        p->n[p->order[k]].ws_storage = ws;
  }
  free(last);
  if (st != NNCL_OK) {
    free(elided);
    return st;
  }
  p->arena_bytes = 0;
  st = place_buffers(ctx, p, align);
  if (st == NNCL_OK) bind_buffers(g, p, elided);
  free(elided);
  return st;
}
