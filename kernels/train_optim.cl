/* train_optim.cl: optimizer updates (lib/train/optim.c), each one fused kernel that reads a
   parameter's gradient and state once and writes the parameter and state once, with PyTorch's
   update rules written in the same order (torch.optim single-tensor implementations):
   - optim_sgd: d = g + wd p; with momentum: buf = d on the first step, else
     buf = momentum buf + (1 - dampening) d; d = nesterov ? d + momentum buf : buf; p -= lr d.
   - optim_adam: (Adam) g += l2 p; (AdamW) p *= decay first, decay = 1 - lr wd;
     m = lerp(m, g, 1 - beta1); v = beta2 v + (1 - beta2) g^2;
     p -= step_size m / (sqrt(v) / bc2_sqrt + eps), step_size = lr / (1 - beta1^t) and
     bc2_sqrt = sqrt(1 - beta2^t) computed on the host in double.
   Both scale the gradient by gscale first (gradient clipping; 1 when off). optim_sumsq gives the
   sum of squares of one gradient for the global norm, in one work-group (fixed tree order).
   No -D parameters. */
#include "common/index.cl"

__kernel void optim_sgd(__global float *p, __global const float *g, __global float *buf,
                        const uint n, const float lr, const float momentum, const float dampening,
                        const float wd, const int nesterov, const int first, const float gscale) {
  const uint i = get_global_id(0);
  GUARD(i, n);
  const float pv = p[i];
  float d = g[i] * gscale;
  if (wd != 0.0f) d = d + wd * pv;
  if (momentum != 0.0f) {
    const float b = first ? d : momentum * buf[i] + (1.0f - dampening) * d;
    buf[i] = b;
    d = nesterov ? d + momentum * b : b;
  }
  p[i] = pv - lr * d;
}

__kernel void optim_adam(__global float *p, __global const float *g, __global float *m,
                         __global float *v, const uint n, const float decay, const float l2,
                         const float beta1, const float beta2, const float step_size,
                         const float bc2_sqrt, const float eps, const float gscale) {
  const uint i = get_global_id(0);
  GUARD(i, n);
  float pv = p[i];
  if (decay != 1.0f) pv = pv * decay;
  float gv = g[i] * gscale;
  if (l2 != 0.0f) gv = gv + l2 * pv;
  const float mv = m[i] + (1.0f - beta1) * (gv - m[i]);
  const float vv = beta2 * v[i] + (1.0f - beta2) * gv * gv;
  m[i] = mv;
  v[i] = vv;
  p[i] = pv - step_size * (mv / (sqrt(vv) / bc2_sqrt + eps));
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
