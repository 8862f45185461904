/* common/pool_taps.cl: the valid kernel taps of one pooling window, shared by the pooling kernels
   (pool.cl) and their gradients (pool_grad.cl) so both clip windows by the same rule. */
#ifndef NNCL_COMMON_POOL_TAPS_CL
#define NNCL_COMMON_POOL_TAPS_CL

/* First and one-past-last kernel tap of output position o whose input position lies in
   [lo, hi). Taps are pos = o*s - p + t*d. */
inline int2 pool_taps(int o, int k, int s, int p, int d, int lo, int hi) {
  const int start = o * s - p;
  int t0 = 0, t1 = k;
  if (start < lo) t0 = (lo - start + d - 1) / d;
  const int last_ok = hi - 1 - start; /* largest t*d allowed */
  if (last_ok < 0)
    t1 = 0;
  else if ((k - 1) * d > last_ok)
    t1 = last_ok / d + 1;
  return (int2)(t0, max(t0, t1));
}

#endif
