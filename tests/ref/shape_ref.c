/* shape_ref.c: naive references for the shape family (see shape_ref.h). */
#include "shape_ref.h"

#include <stdlib.h>
#include <string.h>

/* Linear index <-> coordinates in C order. */
static void decode(int64_t i, const nncl_shape *s, int64_t *c) {
  for (int d = s->rank - 1; d >= 0; d--) {
    c[d] = s->dims[d] ? i % s->dims[d] : 0;
    i = s->dims[d] ? i / s->dims[d] : 0;
  }
}

static int64_t encode(const int64_t *c, const nncl_shape *s) {
  int64_t i = 0;
  for (int d = 0; d < s->rank; d++) i = i * s->dims[d] + c[d];
  return i;
}

static void put(void *out, int64_t o, const void *in, int64_t i, size_t es) {
  memcpy((char *)out + o * (int64_t)es, (const char *)in + i * (int64_t)es, es);
}

void ref_transpose(const void *in, const nncl_shape *s, const int *perm, size_t es, void *out) {
  nncl_shape os = {.rank = s->rank};
  for (int d = 0; d < s->rank; d++) os.dims[d] = s->dims[perm[d]];
  int64_t n = nncl_shape_numel(&os), oc[NNCL_MAX_RANK], ic[NNCL_MAX_RANK];
  for (int64_t o = 0; o < n; o++) {
    decode(o, &os, oc);
    for (int d = 0; d < s->rank; d++) ic[perm[d]] = oc[d];
    put(out, o, in, encode(ic, s), es);
  }
}

void ref_concat(int n, const void *const *in, const nncl_shape *shapes, int axis, size_t es,
                void *out) {
  nncl_shape os = shapes[0];
  os.dims[axis] = 0;
  for (int i = 0; i < n; i++) os.dims[axis] += shapes[i].dims[axis];
  int64_t total = nncl_shape_numel(&os), c[NNCL_MAX_RANK];
  for (int64_t o = 0; o < total; o++) {
    decode(o, &os, c);
    int k = 0;
    while (c[axis] >= shapes[k].dims[axis]) c[axis] -= shapes[k++].dims[axis];
    put(out, o, in[k], encode(c, &shapes[k]), es);
  }
}

void ref_slice(const void *in, const nncl_shape *s, const int64_t *starts, const int64_t *ends,
               const int64_t *axes, const int64_t *steps, int n, size_t es, void *out,
               nncl_shape *out_shape) {
  /* Per axis, the list of input indices taken (Python slice semantics). */
  int64_t *take[NNCL_MAX_RANK];
  nncl_shape os = *s;
  for (int d = 0; d < s->rank; d++) {
    take[d] = malloc((size_t)(s->dims[d] + 1) * sizeof(int64_t));
    for (int64_t i = 0; i < s->dims[d]; i++) take[d][i] = i;
  }
  for (int k = 0; k < n; k++) {
    int ax = (int)(axes ? axes[k] : k);
    if (ax < 0) ax += s->rank;
    int64_t d = s->dims[ax], step = steps ? steps[k] : 1, st = starts[k], en = ends[k];
    /* ONNX's rule (its spec text; the numpy-based reference differs only for a start below
       -dim with a negative step): start in [0, dim] or [0, dim - 1], end in [0, dim] or
       [-1, dim - 1] for positive or negative steps. */
    int64_t upper = step > 0 ? d : d - 1;
    if (st < 0) st += d;
    if (en < 0) en += d;
    st = st < 0 ? 0 : st > upper ? upper : st;
    en = en < (step > 0 ? 0 : -1) ? (step > 0 ? 0 : -1) : en > upper ? upper : en;
    int64_t m = 0;
    for (int64_t i = st; step > 0 ? i < en : i > en; i += step) take[ax][m++] = i;
    os.dims[ax] = m;
  }
  int64_t total = nncl_shape_numel(&os), c[NNCL_MAX_RANK];
  for (int64_t o = 0; o < total; o++) {
    decode(o, &os, c);
    for (int d = 0; d < s->rank; d++) c[d] = take[d][c[d]];
    put(out, o, in, encode(c, s), es);
  }
  for (int d = 0; d < s->rank; d++) free(take[d]);
  *out_shape = os;
}

/* Input coordinate for output coordinate x of an axis of size n, or -1 for the constant. */
static int64_t pad_src(int64_t x, int64_t n, const char *mode) {
  if (x >= 0 && x < n) return x;
  if (strcmp(mode, "constant") == 0) return -1;
  if (strcmp(mode, "edge") == 0) return x < 0 ? 0 : n - 1;
  if (strcmp(mode, "wrap") == 0) return ((x % n) + n) % n;
  /* reflect: bounce off the ends one step at a time, as numpy.pad does */
  if (n == 1) return 0;
  while (x < 0 || x >= n) x = x < 0 ? -x : 2 * (n - 1) - x;
  return x;
}

void ref_pad(const void *in, const nncl_shape *s, const int64_t *pads, const char *mode,
             const void *value, size_t es, void *out, nncl_shape *out_shape) {
  nncl_shape os = *s;
  for (int d = 0; d < s->rank; d++) os.dims[d] += pads[d] + pads[d + s->rank];
  int64_t total = nncl_shape_numel(&os), c[NNCL_MAX_RANK];
  for (int64_t o = 0; o < total; o++) {
    decode(o, &os, c);
    int inside = 1;
    for (int d = 0; d < s->rank; d++) {
      c[d] = pad_src(c[d] - pads[d], s->dims[d], mode);
      if (c[d] < 0) inside = 0;
    }
    if (inside)
      put(out, o, in, encode(c, s), es);
    else
      memcpy((char *)out + o * (int64_t)es, value, es);
  }
  *out_shape = os;
}

void ref_gather(const void *data, const nncl_shape *s, const int64_t *idx, int64_t nidx, int axis,
                size_t es, void *out) {
  /* Output viewed as [pre..., nidx, post...]. */
  nncl_shape os = *s;
  os.dims[axis] = nidx;
  int64_t total = nncl_shape_numel(&os), c[NNCL_MAX_RANK];
  for (int64_t o = 0; o < total; o++) {
    decode(o, &os, c);
    int64_t j = idx[c[axis]];
    c[axis] = j < 0 ? j + s->dims[axis] : j;
    put(out, o, data, encode(c, s), es);
  }
}

void ref_gather_elements(const void *data, const nncl_shape *s, const int64_t *idx,
                         const nncl_shape *q, int axis, size_t es, void *out) {
  int64_t total = nncl_shape_numel(q), c[NNCL_MAX_RANK];
  for (int64_t o = 0; o < total; o++) {
    decode(o, q, c);
    int64_t j = idx[o];
    c[axis] = j < 0 ? j + s->dims[axis] : j;
    put(out, o, data, encode(c, s), es);
  }
}

void ref_tile(const void *in, const nncl_shape *s, const int64_t *rep, size_t es, void *out) {
  nncl_shape os = *s;
  for (int d = 0; d < s->rank; d++) os.dims[d] *= rep[d];
  int64_t total = nncl_shape_numel(&os), c[NNCL_MAX_RANK];
  for (int64_t o = 0; o < total; o++) {
    decode(o, &os, c);
    for (int d = 0; d < s->rank; d++) c[d] %= s->dims[d];
    put(out, o, in, encode(c, s), es);
  }
}

void ref_expand(const void *in, const nncl_shape *s, const nncl_shape *out_shape, size_t es,
                void *out) {
  int64_t total = nncl_shape_numel(out_shape), oc[NNCL_MAX_RANK], ic[NNCL_MAX_RANK];
  int lead = out_shape->rank - s->rank;
  for (int64_t o = 0; o < total; o++) {
    decode(o, out_shape, oc);
    for (int d = 0; d < s->rank; d++) ic[d] = s->dims[d] == 1 ? 0 : oc[d + lead];
    put(out, o, in, encode(ic, s), es);
  }
}
