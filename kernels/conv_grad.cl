/* conv_grad.cl: Conv's weight gradient (lib/train/op_conv_grad.c), 2-D (a 1-D conv has H = OH =
   R = 1). dW[k, c, r, s] = sum over n, oh, ow of dY[n, k, oh, ow] * X[n, g*Cg + c, ih, iw] with
   ih = oh*sh - pt + r*dh, iw = ow*sw - pl + s*dw, g = k / Kg. One work-group per weight element:
   its work-items stride over the N*OH*OW products and a fixed local tree adds them, so results
   are deterministic (no atomics). The local size must be a power of two.
   No -D parameters. */

__kernel void conv_grad_weight(__global const float *x, __global const float *dy,
                               __global float *dwt, const int N, const int C, const int H,
                               const int W, const int K, const int OH, const int OW, const int R,
                               const int S, const int sh, const int sw, const int dh, const int dw,
                               const int pt, const int pl, const int Cg, const int Kg,
                               __local float *part) {
  const long e = get_group_id(0), nw = (long)K * Cg * R * S;
  const int lid = get_local_id(0), ls = get_local_size(0);
  if (e >= nw) return; /* uniform over the work-group */
  const int s = (int)(e % S), r = (int)(e / S % R), c = (int)(e / ((long)S * R) % Cg),
            k = (int)(e / ((long)S * R * Cg));
  const int ci = k / Kg * Cg + c;
  const long total = (long)N * OH * OW;
  float acc = 0.0f;
  for (long i = lid; i < total; i += ls) {
    const int ow = (int)(i % OW), oh = (int)(i / OW % OH);
    const long n = i / ((long)OW * OH);
    const int ih = oh * sh - pt + r * dh, iw = ow * sw - pl + s * dw;
    if (ih >= 0 && ih < H && iw >= 0 && iw < W)
      acc += dy[((n * K + k) * OH + oh) * OW + ow] * x[((n * C + ci) * H + ih) * W + iw];
  }
  part[lid] = acc;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int h = ls / 2; h > 0; h /= 2) {
    if (lid < h) part[lid] += part[lid + h];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0) dwt[e] = part[0];
}
