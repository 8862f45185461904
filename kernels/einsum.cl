/* einsum.cl: the general Einsum kernel (lib/ops/einsum.c), used for every equation the host
   cannot lower to a CLBlast GEMM (diagonals, sums over an axis, transposes, broadcasts, one or
   two operands). One work-item per output element: its coordinates give base offsets into each
   operand through per-label strides (a label repeated in one operand has the sum of its strides,
   which walks the diagonal; a broadcast dim has stride 0), then it loops over the contracted
   labels' index space accumulating a[.] * b[.] (or a[.] alone).
   Labels are counted innermost first. float32 (_f32; the type is a macro parameter so other
   element types are one line each).
   No -D parameters. */
#include "common/index.cl"

#define EINSUM_GENERIC(SUF, T)                                                                     \
  __kernel void einsum_generic_##SUF(                                                              \
      __global const T *a, __global const T *b, __global T *out, const uint n, const uint two,     \
      const uint ro, const uint8 od, const long8 oa, const long8 ob, const uint rc,                \
      const uint8 cd, const long8 ca, const long8 cb, const uint nc) {                             \
    const uint g = get_global_id(0);                                                               \
    GUARD(g, n);                                                                                   \
    uint d[8], e[8];                                                                               \
    long sa[8], sb[8], ta[8], tb[8];                                                               \
    vstore8(od, 0, d);                                                                             \
    vstore8(oa, 0, sa);                                                                            \
    vstore8(ob, 0, sb);                                                                            \
    vstore8(cd, 0, e);                                                                             \
    vstore8(ca, 0, ta);                                                                            \
    vstore8(cb, 0, tb);                                                                            \
    long pa = 0, pb = 0;                                                                           \
    uint r = g;                                                                                    \
    for (uint i = 0; i < ro; ++i) {                                                                \
      const uint c = r % d[i];                                                                     \
      r /= d[i];                                                                                   \
      pa += (long)c * sa[i];                                                                       \
      pb += (long)c * sb[i];                                                                       \
    }                                                                                              \
    T acc = (T)0;                                                                                  \
    for (uint j = 0; j < nc; ++j) {                                                                \
      long qa = pa, qb = pb;                                                                       \
      uint s = j;                                                                                  \
      for (uint i = 0; i < rc; ++i) {                                                              \
        const uint c = s % e[i];                                                                   \
        s /= e[i];                                                                                 \
        qa += (long)c * ta[i];                                                                     \
        qb += (long)c * tb[i];                                                                     \
      }                                                                                            \
      acc += two ? a[qa] * b[qb] : a[qa];                                                          \
    }                                                                                              \
    out[g] = acc;                                                                                  \
  }

EINSUM_GENERIC(f32, float)
