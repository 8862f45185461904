/* elementwise_ref.c: naive references for element-wise, softmax and reduce ops (see .h). Straight
   from the ONNX operator definitions, in double precision, no cleverness. */
#include "elementwise_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define IS(name) (strcmp(op, name) == 0)

int ref_unary(const char *op, double x, double alpha, double beta, double *y) {
  double r;
  if (IS("Relu"))
    r = x > 0 ? x : 0;
  else if (IS("LeakyRelu"))
    r = x >= 0 ? x : alpha * x;
  else if (IS("Elu"))
    r = x >= 0 ? x : alpha * (exp(x) - 1);
  else if (IS("Selu"))
    r = x > 0 ? beta * x : beta * (alpha * exp(x) - alpha);
  else if (IS("Celu"))
    r = fmax(0, x) + fmin(0, alpha * (exp(x / alpha) - 1));
  else if (IS("Sigmoid"))
    r = 1 / (1 + exp(-x));
  else if (IS("HardSigmoid"))
    r = fmax(0, fmin(1, alpha * x + beta));
  else if (IS("HardSwish"))
    r = x * fmax(0, fmin(1, x / 6 + 0.5));
  else if (IS("Tanh"))
    r = tanh(x);
  else if (IS("Softplus"))
    r = log(exp(x) + 1);
  else if (IS("Softsign"))
    r = x / (1 + fabs(x));
  else if (IS("Clip"))
    r = x < alpha ? alpha : x > beta ? beta : x;
  else if (IS("ThresholdedRelu"))
    r = x > alpha ? x : 0;
  else if (IS("Gelu"))
    r = alpha != 0 ? 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)))
                   : 0.5 * x * (1 + erf(x / sqrt(2)));
  else if (IS("Exp"))
    r = exp(x);
  else if (IS("Log"))
    r = log(x);
  else if (IS("Sqrt"))
    r = sqrt(x);
  else if (IS("Reciprocal"))
    r = 1 / x;
  else if (IS("Neg"))
    r = -x;
  else if (IS("Abs"))
    r = fabs(x);
  else if (IS("Sign"))
    r = x > 0 ? 1 : x < 0 ? -1 : 0;
  else if (IS("Erf"))
    r = erf(x);
  else if (IS("Floor"))
    r = floor(x);
  else if (IS("Ceil"))
    r = ceil(x);
  else if (IS("Round"))
    r = nearbyint(x);
  else if (IS("Sin"))
    r = sin(x);
  else if (IS("Cos"))
    r = cos(x);
  else if (IS("Tan"))
    r = tan(x);
  else if (IS("Asin"))
    r = asin(x);
  else if (IS("Acos"))
    r = acos(x);
  else if (IS("Atan"))
    r = atan(x);
  else if (IS("Sinh"))
    r = sinh(x);
  else if (IS("Cosh"))
    r = cosh(x);
  else if (IS("Asinh"))
    r = asinh(x);
  else if (IS("Acosh"))
    r = acosh(x);
  else if (IS("Atanh"))
    r = atanh(x);
  else if (IS("Not"))
    r = x == 0;
  else if (IS("IsNaN"))
    r = isnan(x) ? 1 : 0;
  else
    return 0;
  *y = r;
  return 1;
}

int ref_binary(const char *op, double a, double b, double *y) {
  double r;
  if (IS("Add") || IS("Sum"))
    r = a + b;
  else if (IS("Sub"))
    r = a - b;
  else if (IS("Mul"))
    r = a * b;
  else if (IS("Div"))
    r = a / b;
  else if (IS("Pow"))
    r = pow(a, b);
  else if (IS("PRelu"))
    r = a < 0 ? a * b : a;
  else if (IS("Max"))
    r = a > b ? a : b;
  else if (IS("Min"))
    r = a < b ? a : b;
  else if (IS("Equal"))
    r = a == b;
  else if (IS("Less"))
    r = a < b;
  else if (IS("Greater"))
    r = a > b;
  else if (IS("LessOrEqual"))
    r = a <= b;
  else if (IS("GreaterOrEqual"))
    r = a >= b;
  else if (IS("And"))
    r = a != 0 && b != 0;
  else if (IS("Or"))
    r = a != 0 || b != 0;
  else if (IS("Xor"))
    r = (a != 0) != (b != 0);
  else
    return 0;
  *y = r;
  return 1;
}

size_t ref_bcast_index(const nncl_shape *out, const nncl_shape *in, size_t i) {
  size_t idx = 0, stride = 1;
  for (int k = out->rank - 1; k >= 0; k--) {
    size_t coord = i % (size_t)out->dims[k];
    i /= (size_t)out->dims[k];
    int ik = k - (out->rank - in->rank);
    if (ik < 0) continue;
    size_t d = (size_t)in->dims[ik];
    if (d != 1) idx += coord * stride;
    stride *= d;
  }
  return idx;
}

void ref_softmax(const float *x, float *y, size_t outer, size_t len, size_t inner, int log_) {
  for (size_t o = 0; o < outer; o++)
    for (size_t i = 0; i < inner; i++) {
      const float *xr = x + o * len * inner + i;
      float *yr = y + o * len * inner + i;
      double m = -INFINITY, s = 0;
      for (size_t k = 0; k < len; k++) m = fmax(m, xr[k * inner]);
      for (size_t k = 0; k < len; k++) s += exp(xr[k * inner] - m);
      for (size_t k = 0; k < len; k++)
        yr[k * inner] = (float)(log_ ? xr[k * inner] - m - log(s) : exp(xr[k * inner] - m) / s);
    }
}

/* Walks every input element, adding it to the output element of its kept coordinates. */
static size_t out_index(const nncl_shape *s, const int *mask, size_t i) {
  size_t o = 0, stride = 1;
  for (int k = s->rank - 1; k >= 0; k--) {
    size_t coord = i % (size_t)s->dims[k];
    i /= (size_t)s->dims[k];
    if (mask[k]) continue;
    o += coord * stride;
    stride *= (size_t)s->dims[k];
  }
  return o;
}

static void out_sizes(const nncl_shape *s, const int *mask, size_t *n_out, size_t *n_red) {
  *n_out = 1;
  *n_red = 1;
  for (int k = 0; k < s->rank; k++) {
    if (mask[k])
      *n_red *= (size_t)s->dims[k];
    else
      *n_out *= (size_t)s->dims[k];
  }
}

void ref_reduce(const char *op, const float *x, const nncl_shape *s, const int *mask, float *y) {
  size_t n_out, n_red, n = (size_t)nncl_shape_numel(s);
  out_sizes(s, mask, &n_out, &n_red);
  double *acc = malloc((n_out + 1) * sizeof *acc), *mx = malloc((n_out + 1) * sizeof *mx);
  if (!acc || !mx) {
    free(acc);
    free(mx);
    return;
  }
  double init = IS("ReduceMax") ? -INFINITY : IS("ReduceMin") ? INFINITY : IS("ReduceProd") ? 1 : 0;
  for (size_t j = 0; j < n_out; j++) {
    acc[j] = init;
    mx[j] = -INFINITY;
  }
  if (IS("ReduceLogSumExp"))
    for (size_t i = 0; i < n; i++) {
      size_t o = out_index(s, mask, i);
      mx[o] = fmax(mx[o], x[i]);
    }
  for (size_t i = 0; i < n; i++) {
    size_t o = out_index(s, mask, i);
    double v = x[i];
    if (IS("ReduceMax"))
      acc[o] = fmax(acc[o], v);
    else if (IS("ReduceMin"))
      acc[o] = fmin(acc[o], v);
    else if (IS("ReduceProd"))
      acc[o] *= v;
    else if (IS("ReduceL1"))
      acc[o] += fabs(v);
    else if (IS("ReduceL2") || IS("ReduceSumSquare"))
      acc[o] += v * v;
    else if (IS("ReduceLogSumExp"))
      acc[o] += isinf(mx[o]) ? exp(v) : exp(v - mx[o]);
    else
      acc[o] += v;
  }
  for (size_t j = 0; j < n_out; j++) {
    double r = acc[j];
    if (IS("ReduceMean"))
      r /= (double)n_red;
    else if (IS("ReduceL2"))
      r = sqrt(r);
    else if (IS("ReduceLogSumExp"))
      r = isinf(mx[j]) ? log(r) : mx[j] + log(r);
    else if (IS("ReduceLogSum"))
      r = log(r);
    y[j] = (float)r;
  }
  free(acc);
  free(mx);
}

void ref_reduce_i64(const char *op, const int64_t *x, const nncl_shape *s, const int *mask,
                    int64_t *y) {
  size_t n_out, n_red, n = (size_t)nncl_shape_numel(s);
  out_sizes(s, mask, &n_out, &n_red);
  for (size_t j = 0; j < n_out; j++)
    y[j] = IS("ReduceMax") ? INT64_MIN : IS("ReduceMin") ? INT64_MAX : IS("ReduceProd") ? 1 : 0;
  for (size_t i = 0; i < n; i++) {
    size_t o = out_index(s, mask, i);
    if (IS("ReduceMax"))
      y[o] = x[i] > y[o] ? x[i] : y[o];
    else if (IS("ReduceMin"))
      y[o] = x[i] < y[o] ? x[i] : y[o];
    else if (IS("ReduceProd"))
      y[o] *= x[i];
    else
      y[o] += x[i];
  }
}

void ref_arg(const float *x, int64_t *y, size_t outer, size_t len, size_t inner, int is_min,
             int last) {
  for (size_t o = 0; o < outer; o++)
    for (size_t i = 0; i < inner; i++) {
      const float *xr = x + o * len * inner + i;
      size_t best = 0;
      for (size_t k = 1; k < len; k++) {
        float v = xr[k * inner], b = xr[best * inner];
        int better = is_min ? v < b : v > b;
        if (better || (last && v == b)) best = k;
      }
      y[o * inner + i] = (int64_t)best;
    }
}
