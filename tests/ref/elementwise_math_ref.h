/* elementwise_math_ref.h: naive C references for the element-wise rows Mod, IsInf and Shrink,
   written from the ONNX definitions. */
#ifndef NNCL_ELEMENTWISE_MATH_REF_H
#define NNCL_ELEMENTWISE_MATH_REF_H

#include <stdint.h>

/* ONNX Mod: fmod != 0 keeps the dividend's sign (C fmod), else the divisor's (Python). */
int64_t ref_mod_i64(int64_t a, int64_t b, int fmod_mode);
float ref_mod_f32(float a, float b, int fmod_mode);
int ref_isinf(float x, int detect_pos, int detect_neg);
float ref_shrink(float x, float lambd, float bias);

#endif
