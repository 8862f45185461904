/* collapse.c: dimension collapsing shared by the op families (see collapse.h). */
#include "collapse.h"

#include <string.h>

void collapse_dims(int rank, const int64_t *dims, int n, int64_t (*strides)[NNCL_MAX_RANK],
                   const int *kind, struct collapse *out) {
  memset(out, 0, sizeof *out);
  int r = 0;
  for (int d = rank - 1; d >= 0; d--) { /* innermost first */
    if (dims[d] == 1) continue;
    int k = kind ? kind[d] : 0;
    int merge = r > 0 && out->kind[r - 1] == k;
    for (int j = 0; merge && j < n; j++)
      if (strides[j][d] != out->strides[j][r - 1] * out->dims[r - 1]) merge = 0;
    if (merge) {
      out->dims[r - 1] *= dims[d];
      continue;
    }
    out->dims[r] = dims[d];
    out->kind[r] = k;
    for (int j = 0; j < n; j++) out->strides[j][r] = strides[j][d];
    r++;
  }
  out->rank = r;
}

void collapse_reduction(const nncl_shape *shape, const int *red, struct collapse *out) {
  int64_t st[1][NNCL_MAX_RANK], run = 1;
  for (int d = shape->rank - 1; d >= 0; d--) {
    st[0][d] = run;
    run *= shape->dims[d];
  }
  collapse_dims(shape->rank, shape->dims, 1, st, red, out);
}

void collapse_split(const struct collapse *c, cl_uint meta[SPLIT_LEN], size_t *kept,
                    size_t *reduced) {
  memset(meta, 0, SPLIT_LEN * sizeof *meta);
  cl_uint kr = 0, rr = 0;
  *kept = *reduced = 1;
  for (int i = 0; i < c->rank; i++) {
    if (c->kind[i]) {
      meta[SPLIT_RED_DIMS + rr] = (cl_uint)c->dims[i];
      meta[SPLIT_RED_STRIDES + rr++] = (cl_uint)c->strides[0][i];
      *reduced *= (size_t)c->dims[i];
    } else {
      meta[SPLIT_KEPT_DIMS + kr] = (cl_uint)c->dims[i];
      meta[SPLIT_KEPT_STRIDES + kr++] = (cl_uint)c->strides[0][i];
      *kept *= (size_t)c->dims[i];
    }
  }
  meta[SPLIT_KEPT_RANK] = kr;
  meta[SPLIT_RED_RANK] = rr;
}
