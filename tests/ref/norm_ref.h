/* norm_ref.h: naive C references for the normalization ops (double precision, two-pass
   statistics), written from the ONNX definitions, for tests/test_norm.c. */
#ifndef NNCL_NORM_REF_H
#define NNCL_NORM_REF_H

#include <stdint.h>

/* BatchNormalization (inference) of [n, c, s] data. spatial: parameters per channel; otherwise
   per element of a sample (c * s parameters, opset 7 spatial=0). */
void norm_ref_batch(const float *x, int64_t n, int64_t c, int64_t s, const float *scale,
                    const float *bias, const float *mean, const float *var, double eps, int spatial,
                    float *y);
/* InstanceNormalization of [n, c, s] data, parameters per channel. */
void norm_ref_instance(const float *x, int64_t n, int64_t c, int64_t s, const float *scale,
                       const float *bias, double eps, float *y);
/* LayerNormalization over rows of len elements; scale/bias (bias may be NULL) have np elements
   used at i % np. mean/invstd (may be NULL) get one value per row. */
void norm_ref_layer(const float *x, int64_t rows, int64_t len, const float *scale,
                    const float *bias, int64_t np, double eps, float *y, float *mean,
                    float *invstd);
/* LRN across channels of [n, c, s] data. */
void norm_ref_lrn(const float *x, int64_t n, int64_t c, int64_t s, int64_t size, double alpha,
                  double beta, double bias, float *y);

/* MeanVarianceNormalization over the axes in `mask` (bit d = dim d) of a tensor of `rank` dims:
   y = (x - mean) / (sqrt(mean((x - mean)^2)) + 1e-9), in double. */
void norm_ref_mvn(const float *x, int rank, const int64_t *dims, unsigned mask, float *y);

/* BatchNormalization with training_mode = 1 (biased batch variance, in double): y and the
   running statistics input * momentum + batch statistic * (1 - momentum). */
void norm_ref_batch_train(const float *x, int64_t n, int64_t c, int64_t s, const float *scale,
                          const float *bias, const float *in_mean, const float *in_var, float eps,
                          float momentum, float *y, float *run_mean, float *run_var);

#endif
