/* test_shape_util.h: helpers for the shape family's tests: random tensors of any dtype, random
   shapes, and a run that reads every output back from the device (so kernels are tested even when
   infer() also computed the value on the host, which it then must match byte for byte). */
#ifndef NNCL_TEST_SHAPE_UTIL_H
#define NNCL_TEST_SHAPE_UTIL_H

#include "test_util.h"
#include "ref/shape_ref.h"

/* Deterministic random numbers (xorshift). */
uint32_t sh_rand_u32(uint32_t *state);
/* Random int in [lo, hi]. */
int64_t sh_rand_int(uint32_t *state, int64_t lo, int64_t hi);
/* An array of dtype dt filled with random bits (float32: values in [-1, 1)). */
nncl_array sh_rand_array(nncl_dtype dt, uint32_t seed, const nncl_shape *s);
nncl_shape sh_shape(int rank, const int64_t *dims);
#define SH_SHAPE(...)                                                                              \
  sh_shape((int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__})
/* A random shape of rank r with dims in [lo, hi]. */
nncl_shape sh_rand_shape(uint32_t *state, int r, int64_t lo, int64_t hi);
/* Int64 scalar (rank 0). */
nncl_array sh_i64_scalar(int64_t v);

/* Runs the op through op_instance (infer, plan, enqueue) and downloads every output from the
   device into out[]. Where infer also set a host value, asserts it equals the device result.
   *had_host (may be NULL) reports whether output 0 had a host value. */
void sh_run(const char *op, int opset, const struct nncl__attr *attrs, int n_attrs, int n_in,
            const nncl_array *const *in, int n_out, nncl_array *out, int *had_host);
/* Asserts byte equality of out against want (dtype and shape too), naming the first difference. */
void sh_assert_equal(const nncl_array *got, const void *want, const nncl_shape *want_shape,
                     const char *what);
/* Expects the op to fail with status st and a message containing every non-NULL needle. */
void sh_expect_error(const char *op, int opset, const struct nncl__attr *attrs, int n_attrs,
                     int n_in, const nncl_array *const *in, int n_out, nncl_status st,
                     const char *needle1, const char *needle2);
void sh_free(nncl_array *a, int n);

#endif
