/* common/index.cl: helpers shared by kernel families. Included with #include "common/index.cl",
   which the runtime splices in before compiling. */
#ifndef NNCL_COMMON_INDEX_CL
#define NNCL_COMMON_INDEX_CL

/* Global sizes are rounded up to the work-group size, so kernels return early past the end. */
#define GUARD(i, n)                                                                                \
  if ((i) >= (n)) return

#endif
