/* grad_pool.c: backward rules of MaxPool and AveragePool (nncl.MaxPoolGrad / AveragePoolGrad
   with the forward's window made explicit) and GlobalAveragePool (dY / (H*W) expanded to X). */
#include <string.h>

#include "grad.h"

/* Explicit pads of the forward pool: auto_pad resolved from the input and output sizes. */
static nncl_status window(struct op_grad *g, int sr, int64_t *k, int64_t *s, int64_t *d,
                          int64_t *pads) {
  const nncl_shape *x = &g->fwd.in[0].shape, *y = &g->fwd.out[0].shape;
  const int64_t *v;
  int n;
  for (int i = 0; i < sr; i++) k[i] = s[i] = d[i] = 1, pads[i] = pads[i + sr] = 0;
  if ((n = op_attr_ints(&g->fwd, "kernel_shape", &v)) == sr) memcpy(k, v, sizeof *k * sr);
  if ((n = op_attr_ints(&g->fwd, "strides", &v)) == sr) memcpy(s, v, sizeof *s * sr);
  if ((n = op_attr_ints(&g->fwd, "dilations", &v)) == sr) memcpy(d, v, sizeof *d * sr);
  if ((n = op_attr_ints(&g->fwd, "pads", &v)) == 2 * sr) memcpy(pads, v, sizeof *pads * 2 * sr);
  const char *ap = op_attr_str(&g->fwd, "auto_pad", "NOTSET");
  if (!strcmp(ap, "VALID")) {
    for (int i = 0; i < 2 * sr; i++) pads[i] = 0;
  } else if (!strncmp(ap, "SAME_", 5)) {
    for (int i = 0; i < sr; i++) {
      int64_t total = (y->dims[2 + i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - x->dims[2 + i];
      if (total < 0) total = 0;
      pads[i] = !strcmp(ap, "SAME_UPPER") ? total / 2 : total - total / 2;
      pads[i + sr] = total - pads[i];
    }
  }
  return NNCL_OK;
}

nncl_status nncl__grad_pool(struct op_grad *g) {
  const char *dy = g->dy[0];
  if (!dy || !g->need[0]) return NNCL_OK;
  const char *t = g->fwd.op_type, *dx;
  int sr = g->fwd.in[0].shape.rank - 2;
  if (!strcmp(t, "GlobalAveragePool")) {
    int64_t hw = 1;
    for (int i = 0; i < sr; i++) hw *= g->fwd.in[0].shape.dims[2 + i];
    const char *scale, *m, *shape;
    NNCL_TRY(grad_const_f32(g, 1.0f / (float)hw, &scale));
    NNCL_TRY(grad_emit1(g, "Mul", 2, (const char *[]){dy, scale}, NULL, 0, &m));
    NNCL_TRY(grad_emit1(g, "Shape", 1, &g->x[0], NULL, 0, &shape));
    NNCL_TRY(grad_emit1(g, "Expand", 2, (const char *[]){m, shape}, NULL, 0, &dx));
    return grad_give(g, 0, dx);
  }
  int max = !strcmp(t, "MaxPool");
  if (!max && strcmp(t, "AveragePool")) return grad_no_rule(g, NULL);
  if (sr < 1 || sr > 2) return grad_no_rule(g, "for 3 spatial axes");
  int64_t k[2], s[2], d[2], pads[4];
  NNCL_TRY(window(g, sr, k, s, d, pads));
  struct nncl__attr at[5] = {
      {.name = "kernel_shape", .type = ATTR_INTS, .ints = k, .n = sr},
      {.name = "strides", .type = ATTR_INTS, .ints = s, .n = sr},
      {.name = "dilations", .type = ATTR_INTS, .ints = d, .n = sr},
      {.name = "pads", .type = ATTR_INTS, .ints = pads, .n = 2 * sr},
      A_INT("count_include_pad", op_attr_int(&g->fwd, "count_include_pad", 0))};
  NNCL_TRY(grad_emit1(g, max ? "nncl.MaxPoolGrad" : "nncl.AveragePoolGrad", 2,
                      (const char *[]){dy, g->x[0]}, at, 5, &dx));
  return grad_give(g, 0, dx);
}
