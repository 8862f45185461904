/* common/index.cl: helpers shared by kernel families. Included with #include "common/index.cl",
   which the runtime splices in before compiling. */
#ifndef NNCL_COMMON_INDEX_CL
#define NNCL_COMMON_INDEX_CL

/* Global sizes are rounded up to the work-group size, so kernels return early past the end. */
#define GUARD(i, n)                                                                                \
  if ((i) >= (n)) return

/* An ONNX index into a dim of size n: negative values count from the end; -1 when it is still
   out of range (Gather, GatherElements, GatherND and Gather's gradient give that place zero). */
static inline long onnx_index(long v, const long n) {
  if (v < 0) v += n;
  return v >= 0 && v < n ? v : -1;
}

#endif
