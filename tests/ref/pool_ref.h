/* pool_ref.h: naive C references for the pooling ops, written straight from the ONNX definitions
   (every window tap visited, positions tested one by one), for tests/test_pool.c. */
#ifndef NNCL_POOL_REF_H
#define NNCL_POOL_REF_H

#include <stdint.h>

enum pool_ref_autopad { REF_NOTSET, REF_SAME_UPPER, REF_SAME_LOWER, REF_VALID };

/* Window geometry over sr (1..3) spatial axes. */
struct pool_ref_geom {
  int sr;
  int64_t n, c;             /* batch, channels */
  int64_t in[3], out[3];    /* spatial extents */
  int64_t k[3], s[3], d[3]; /* kernel, stride, dilation */
  int64_t pb[3], pe[3];     /* begin / end pads actually used */
};

/* Fills g->out, g->pb and g->pe from in, k, s, d, the pads attribute (2*sr values, begin then
   end; NULL = 0), auto_pad and ceil_mode. Returns 0 when the output would be empty. */
int pool_ref_geom_init(struct pool_ref_geom *g, const int64_t *pads, enum pool_ref_autopad ap,
                       int ceil_mode);
/* Output element count. */
int64_t pool_ref_out_numel(const struct pool_ref_geom *g);

/* MaxPool; idx (may be NULL) gets the flattened input index, spatial part column-major when
   col_major. */
void pool_ref_max(const float *x, const struct pool_ref_geom *g, float *y, int64_t *idx,
                  int col_major);
/* AveragePool; include_pad counts taps inside the padded extent. */
void pool_ref_avg(const float *x, const struct pool_ref_geom *g, int include_pad, float *y);
/* LpPool: (sum |x|^p)^(1/p) over the window. */
void pool_ref_lp(const float *x, const struct pool_ref_geom *g, double p, float *y);
/* Global pools over rows of n elements: op 0 mean, 1 max, 2 Lp norm with exponent p. */
void pool_ref_global(const float *x, int64_t rows, int64_t n, int op, double p, float *y);
/* MaxUnpool as the ONNX reference does it: scatter into the default unpooled shape
   [rows, def[0..sr)] (y[idx[i]] = x[i]), then zero-pad at the end of each spatial axis to
   [rows, out[0..sr)]. y gets rows * prod(out) elements. */
void pool_ref_unpool(const float *x, const int64_t *idx, int64_t n, int64_t rows, int sr,
                     const int64_t *def, const int64_t *out, float *y);

#endif
