/* test_util.h: what every Criterion test shares: a context on the test device (PoCL here),
   random data, closeness checks with the worst element named, and one-op runs. */
#ifndef NNCL_TEST_UTIL_H
#define NNCL_TEST_UTIL_H

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>

#include "nncl/graph.h"
#include "op.h"

/* The context for this test process ($NNCL_DEVICE or the default device); created once, destroyed
   at exit. Fails the test (never skips) when no device exists. */
nncl_context *tu_ctx(void);

/* Uniform random floats in [lo, hi) from a fixed seed (xorshift, reproducible everywhere). */
void tu_fill(float *x, size_t n, uint32_t seed, float lo, float hi);
/* A float32 host array of the given dims filled with tu_fill; free with nncl_array_free. */
nncl_array tu_rand(uint32_t seed, int rank, const int64_t *dims);
#define TU_RAND(seed, ...)                                                                         \
  tu_rand((seed), (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),                       \
          (int64_t[]){__VA_ARGS__})
/* An array of the given dtype and dims, zeroed. */
nncl_array tu_zeros(nncl_dtype dt, int rank, const int64_t *dims);
#define TU_ZEROS(dt, ...)                                                                          \
  tu_zeros((dt), (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),                        \
           (int64_t[]){__VA_ARGS__})
/* An int64 array holding the given values as a 1-D tensor. */
nncl_array tu_i64(int n, const int64_t *v);
#define TU_I64(...)                                                                                \
  tu_i64((int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__})

/* Largest |got - want| / (atol + rtol * |want|) over n elements: <= 1 means close. *worst gets the
   index of the worst element. NaN in either side counts as infinitely far unless both are NaN. */
double tu_close_ratio(const float *got, const float *want, size_t n, double rtol, double atol,
                      size_t *worst);
/* Asserts that every element satisfies |got - want| <= atol + rtol * |want|, naming the worst. */
#define tu_assert_close(got, want, n, rtol, atol, what)                                            \
  do {                                                                                             \
    size_t tu_w_ = 0;                                                                              \
    double tu_r_ = tu_close_ratio((got), (want), (n), (rtol), (atol), &tu_w_);                     \
    cr_assert(tu_r_ <= 1.0, "%s: element %zu is %.8g, expected %.8g (rtol %g, atol %g)", (what),   \
              tu_w_, (double)(got)[tu_w_], (double)(want)[tu_w_], (double)(rtol), (double)(atol)); \
  } while (0)
/* Max relative error max|g - w| / max(max|w|, tiny): one number to report in test messages. */
double tu_max_rel_error(const float *got, const float *want, size_t n);

/* The finite-difference gradient check of the training tests: the device's gradient got[n] of a
   scalar loss against central differences of the host's double reference loss(arg) in each of
   the n doubles at x (step 1e-4: truncation error ~1e-8 for smooth losses; x is restored), within
   |got - fd| <= 1e-3 |fd| + 1e-4 max(1, max |fd|): float32 sums on the device against a double
   reference, scaled by the largest derivative so near-zero entries are judged by the tensor's
   scale. Names the worst element with `what`. */
void tu_assert_fd_gradient(const float *got, double *x, size_t n, double (*loss)(void *arg),
                           void *arg, const char *what);

/* Runs one op through op_run on the test context and asserts success, printing the context's
   last error otherwise. */
void tu_run_op(const char *op_type, int opset, const struct nncl__attr *attrs, int n_attrs,
               int n_in, const nncl_array *const *in, int n_out, nncl_array *out);
/* Like tu_run_op but returns the status instead of asserting (for error tests). */
nncl_status tu_try_op(const char *op_type, int opset, const struct nncl__attr *attrs, int n_attrs,
                      int n_in, const nncl_array *const *in, int n_out, nncl_array *out);

/* Sets an option on the test context (value NULL: back to its default), asserting success. Tests
   that force an algorithm set it before the op plans and reset it after. */
void tu_set_option(const char *key, const char *value);
/* Random test choices (shapes, indices, axes): one xorshift32 step on *s, and a uniform integer in
   [lo, hi] from one step. */
uint32_t tu_xorshift(uint32_t *s);
int64_t tu_rand_int(uint32_t *s, int64_t lo, int64_t hi);
/* A shape of `rank` dims drawn from awkward sizes (1, 2, 3, 5, 7, 13, 17, 31, 33) clamped to
   [lo, hi]. */
nncl_shape tu_rand_shape(uint32_t *s, int rank, int64_t lo, int64_t hi);
/* An int64 or int32 array of shape s holding v. */
nncl_array tu_ints(nncl_dtype dt, const nncl_shape *s, const int64_t *v);

/* Integer tensors (quantized data): random integers in [lo, hi] as a uint8 / int8 / int32 array
   from a fixed seed; the range of a quantized type; an array widened to int32 (malloc'd); and an
   exact comparison naming the first differing element. */
nncl_array tu_int_rand(nncl_dtype dt, uint32_t seed, int rank, const int64_t *dims, int lo, int hi);
#define TU_INT_RAND(dt, seed, lo, hi, ...)                                                         \
  tu_int_rand((dt), (seed), (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),             \
              (int64_t[]){__VA_ARGS__}, (lo), (hi))
int tu_qmin(nncl_dtype t);
int tu_qmax(nncl_dtype t);
int32_t *tu_widen(const nncl_array *a);
void tu_assert_ints(const nncl_array *got, nncl_dtype dt, const int32_t *want, int64_t n,
                    const char *what);

/* Files under tests/data ($NNCL_TEST_DATA, set by meson test): dir/file's path, as a host array
   or as a loaded ONNX graph; a missing variable or a load error fails the test with the library's
   message. */
void tu_data_path(char *buf, size_t len, const char *dir, const char *file);
nncl_array tu_data_npy(const char *dir, const char *file);
nncl_graph *tu_data_onnx(const char *dir, const char *file);

#endif
