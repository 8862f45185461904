/* elementwise_math_ref.c: naive references for tests/test_elementwise_math.c (see
   elementwise_math_ref.h). */
#include "elementwise_math_ref.h"

#include <math.h>

int64_t ref_mod_i64(int64_t a, int64_t b, int fmod_mode) {
  if (b == 0) return 0;
  if (b == -1) return 0;
  int64_t r = a % b;
  if (!fmod_mode && r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

float ref_mod_f32(float a, float b, int fmod_mode) {
  float r = fmodf(a, b);
  if (!fmod_mode && r != 0.0f && ((r < 0.0f) != (b < 0.0f))) r += b;
  return r;
}

int ref_isinf(float x, int detect_pos, int detect_neg) {
  if (!isinf(x)) return 0;
  return x > 0 ? detect_pos != 0 : detect_neg != 0;
}

float ref_shrink(float x, float lambd, float bias) {
  if (x < -lambd) return x + bias;
  if (x > lambd) return x - bias;
  return 0.0f;
}
