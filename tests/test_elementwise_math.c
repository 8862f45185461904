/* test_elementwise_math.c: the element-wise table rows Mod (integer and float, both fmod modes,
   zero and -1 divisors, broadcast), IsInf (every detect flag) and Shrink (hard and soft) against
   tests/ref/elementwise_math_ref.c. Tolerances: exact for integer Mod and IsInf; float Mod and
   Shrink 1e-6 (one float operation per element on both sides). */
#include <math.h>
#include <stdlib.h>

#include "ref/elementwise_math_ref.h"
#include "test_util.h"

static nncl_array int_array(nncl_dtype dt, const nncl_shape *s) {
  return tu_zeros(dt, s->rank, s->dims);
}

/* ---- Mod ---- */
Test(mod, int64_both_modes_with_zero_and_minus_one_divisors) {
  uint32_t st = 7;
  for (int t = 0; t < 4; t++) {
    nncl_shape s = tu_rand_shape(&st, 1 + t % 3, 1, 33);
    nncl_array a = int_array(NNCL_INT64, &s), b = int_array(NNCL_INT64, &s), out;
    int64_t n = nncl_shape_numel(&s), *pa = a.data, *pb = b.data;
    for (int64_t i = 0; i < n; i++) {
      pa[i] = tu_rand_int(&st, -1000, 1000);
      pb[i] = i % 11 == 0 ? 0 : i % 13 == 0 ? -1 : tu_rand_int(&st, -37, 37);
    }
    for (int fm = 0; fm < 2; fm++) {
      struct nncl__attr at[] = {A_INT("fmod", fm)};
      const nncl_array *in[] = {&a, &b};
      tu_run_op("Mod", 13, at, 1, 2, in, 1, &out);
      cr_assert_eq(out.dtype, NNCL_INT64);
      const int64_t *g = out.data;
      for (int64_t i = 0; i < n; i++)
        cr_assert_eq(g[i], ref_mod_i64(pa[i], pb[i], fm), "Mod fmod=%d: %lld %% %lld gave %lld", fm,
                     (long long)pa[i], (long long)pb[i], (long long)g[i]);
      nncl_array_free(&out);
    }
    nncl_array_free(&a);
    nncl_array_free(&b);
  }
}

Test(mod, int32_broadcast_divisor) {
  uint32_t st = 11;
  nncl_shape s = {.rank = 3, .dims = {3, 5, 7}}, sb = {.rank = 2, .dims = {1, 7}};
  nncl_array a = int_array(NNCL_INT32, &s), b = int_array(NNCL_INT32, &sb), out;
  int32_t *pa = a.data, *pb = b.data;
  for (int64_t i = 0; i < 105; i++) pa[i] = (int32_t)tu_rand_int(&st, -500, 500);
  for (int i = 0; i < 7; i++) pb[i] = (int32_t)(i % 2 ? -(i + 2) : i + 2);
  const nncl_array *in[] = {&a, &b};
  tu_run_op("Mod", 13, NULL, 0, 2, in, 1, &out);
  const int32_t *g = out.data;
  for (int64_t i = 0; i < 105; i++)
    cr_assert_eq(g[i], (int32_t)ref_mod_i64(pa[i], pb[i % 7], 0), "element %lld", (long long)i);
  nncl_array_free(&out);
  nncl_array_free(&a);
  nncl_array_free(&b);
}

Test(mod, float32_fmod_and_python_modes) {
  nncl_array a = TU_RAND(3, 4, 9, 17), b = TU_RAND(4, 4, 9, 17), out;
  int64_t n = 4 * 9 * 17;
  float *pa = a.data, *pb = b.data, *want = malloc((size_t)n * sizeof *want);
  for (int64_t i = 0; i < n; i++) {
    pa[i] *= 20.0f;
    pb[i] = pb[i] < 0 ? pb[i] * 3.0f - 0.25f : pb[i] * 3.0f + 0.25f;
  }
  for (int fm = 0; fm < 2; fm++) {
    struct nncl__attr at[] = {A_INT("fmod", fm)};
    const nncl_array *in[] = {&a, &b};
    tu_run_op("Mod", 13, at, 1, 2, in, 1, &out);
    for (int64_t i = 0; i < n; i++) want[i] = ref_mod_f32(pa[i], pb[i], fm);
    tu_assert_close((const float *)out.data, want, (size_t)n, 1e-6, 1e-6, "Mod float32");
    nncl_array_free(&out);
  }
  free(want);
  nncl_array_free(&a);
  nncl_array_free(&b);
}

/* ---- IsInf, Shrink ---- */
Test(isinf, detect_flags) {
  nncl_array x = TU_RAND(5, 3, 41), out;
  float *px = x.data;
  for (int i = 0; i < 123; i += 5)
    px[i] = (i / 5) % 3 == 0 ? INFINITY : (i / 5) % 3 == 1 ? -INFINITY : NAN;
  for (int f = 0; f < 4; f++) {
    struct nncl__attr at[] = {A_INT("detect_positive", f & 1), A_INT("detect_negative", f >> 1)};
    const nncl_array *in[] = {&x};
    tu_run_op("IsInf", 10, at, 2, 1, in, 1, &out);
    cr_assert_eq(out.dtype, NNCL_BOOL);
    const uint8_t *g = out.data;
    for (int i = 0; i < 123; i++)
      cr_assert_eq(g[i] != 0, ref_isinf(px[i], f & 1, f >> 1), "IsInf flags %d element %d (%g)", f,
                   i, (double)px[i]);
    nncl_array_free(&out);
  }
  nncl_array_free(&x);
}

Test(shrink, hard_and_soft) {
  nncl_array x = TU_RAND(6, 2, 3, 37), out;
  const float *px = x.data;
  float want[222];
  const float params[][2] = {{0.5f, 0.0f}, {0.3f, 0.3f}, {0.0f, 0.1f}};
  for (int t = 0; t < 3; t++) {
    struct nncl__attr at[] = {A_FLOAT("lambd", params[t][0]), A_FLOAT("bias", params[t][1])};
    const nncl_array *in[] = {&x};
    tu_run_op("Shrink", 9, at, 2, 1, in, 1, &out);
    for (int i = 0; i < 222; i++) want[i] = ref_shrink(px[i], params[t][0], params[t][1]);
    tu_assert_close((const float *)out.data, want, 222, 1e-6, 1e-7, "Shrink");
    nncl_array_free(&out);
  }
  nncl_array_free(&x);
}
