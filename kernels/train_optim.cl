/* train_optim.cl: optimizer updates (lib/train/optim.c), each one fused kernel that reads a
   parameter's gradient and state once and writes the parameter and state once, with PyTorch's
   update rules written in the same order (torch.optim single-tensor implementations):
   - optim_sgd: d = g + wd p; with momentum: buf = d on the first step, else
     buf = momentum buf + (1 - dampening) d; d = nesterov ? d + momentum buf : buf; p -= lr d.
   - optim_adam: (Adam) g += l2 p; (AdamW) p *= decay first, decay = 1 - lr wd;
     m = lerp(m, g, 1 - beta1); v = beta2 v + (1 - beta2) g^2;
     p -= step_size m / (sqrt(v) / bc2_sqrt + eps), step_size = lr / (1 - beta1^t) and
     bc2_sqrt = sqrt(1 - beta2^t) computed on the host in double.
   Both scale the gradient by gscale first (gradient clipping; 1 when off); each launch updates
   up to 16 tensors (see OPTIM_SLOTS). optim_sumsq gives the
   sum of squares of one gradient for the global norm, in one work-group (fixed tree order).
   No -D parameters. */
#include "common/index.cl"

/* The update rules, once each; the kernels below apply them to element j of one tensor. */
inline void sgd_update(__global float *p, __global const float *g, __global float *buf,
                       const uint j, const float lr, const float momentum, const float dampening,
                       const float wd, const int nesterov, const int first, const float gscale) {
  const float pv = p[j];
  float d = g[j] * gscale;
  if (wd != 0.0f) d = d + wd * pv;
  if (momentum != 0.0f) {
    const float b = first ? d : momentum * buf[j] + (1.0f - dampening) * d;
    buf[j] = b;
    d = nesterov ? d + momentum * b : b;
  }
  p[j] = pv - lr * d;
}

inline void adam_update(__global float *p, __global const float *g, __global float *m,
                        __global float *v, const uint j, const float decay, const float l2,
                        const float beta1, const float beta2, const float step_size,
                        const float bc2_sqrt, const float eps, const float gscale) {
  float pv = p[j];
  if (decay != 1.0f) pv = pv * decay;
  float gv = g[j] * gscale;
  if (l2 != 0.0f) gv = gv + l2 * pv;
  const float mv = m[j] + (1.0f - beta1) * (gv - m[j]);
  const float vv = beta2 * v[j] + (1.0f - beta2) * gv * gv;
  m[j] = mv;
  v[j] = vv;
  p[j] = pv - step_size * (mv / (sqrt(vv) / bc2_sqrt + eps));
}

/* Multi-tensor form: one launch updates up to OPTIM_SLOTS tensors (PyTorch's multi_tensor_apply
   idea; OpenCL 1.2 has no pointer tables, so each tensor's buffers are kernel arguments). The
   work-items cover the tensors' elements back to back; e0 < e1 < ... are the running ends of the
   tensors (unused slots end at the total, so they never match), and work-item i updates element
   i - e_(t-1) of tensor t, t = the number of ends <= i. Keep OPTIM_SLOTS equal to optim.c's. */
#define OPTIM_SLOTS 16
#define SLOTS(X)                                                                                   \
  X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define SGD_ARGS(k)                                                                                \
  __global float *p##k, __global const float *g##k, __global float *b##k, const uint e##k,
#define ADAM_ARGS(k)                                                                               \
  __global float *p##k, __global const float *g##k, __global float *m##k, __global float *v##k,    \
      const uint e##k,
#define COUNT_ENDS(k) +(i >= e##k)
#define SGD_CASE(k)                                                                                \
  case k:                                                                                          \
    sgd_update(p##k, g##k, b##k, j, lr, momentum, dampening, wd, nesterov, first, gscale);         \
    break;
#define ADAM_CASE(k)                                                                               \
  case k:                                                                                          \
    adam_update(p##k, g##k, m##k, v##k, j, decay, l2, beta1, beta2, step_size, bc2_sqrt, eps,      \
                gscale);                                                                           \
    break;
#define START_OF(k) +(t == k + 1 ? e##k : 0u)

__kernel void optim_sgd(SLOTS(SGD_ARGS) const uint n, const float lr, const float momentum,
                        const float dampening, const float wd, const int nesterov, const int first,
                        const float gscale) {
  const uint i = get_global_id(0);
  GUARD(i, n);
  const uint t = 0u SLOTS(COUNT_ENDS), j = i - (0u SLOTS(START_OF));
  switch (t) { SLOTS(SGD_CASE) }
}

__kernel void optim_adam(SLOTS(ADAM_ARGS) const uint n, const float decay, const float l2,
                         const float beta1, const float beta2, const float step_size,
                         const float bc2_sqrt, const float eps, const float gscale) {
  const uint i = get_global_id(0);
  GUARD(i, n);
  const uint t = 0u SLOTS(COUNT_ENDS), j = i - (0u SLOTS(START_OF));
  switch (t) { SLOTS(ADAM_CASE) }
}

/* out[slot] = sum of g[i]^2; one work-group of a power-of-two size. */
__kernel void optim_sumsq(__global const float *g, __global float *out, const uint n,
                          const uint slot, __local float *part) {
  const uint lid = get_local_id(0), ls = get_local_size(0);
  float acc = 0.0f;
  for (uint i = lid; i < n; i += ls) acc += g[i] * g[i];
  part[lid] = acc;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint h = ls / 2; h > 0; h /= 2) {
    if (lid < h) part[lid] += part[lid + h];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0) out[slot] = part[0];
}
