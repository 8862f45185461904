/* nncl/status.h: status codes every fallible nncl call returns, and their names. */
#ifndef NNCL_STATUS_H
#define NNCL_STATUS_H

#include "nncl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X-macro: one line per status, so the enum and the name table cannot drift apart. */
#define NNCL_STATUS_LIST(X)                                                                        \
  X(NNCL_OK, "ok")                                                                                 \
  X(NNCL_ERR_INVALID_ARGUMENT, "invalid argument")                                                 \
  X(NNCL_ERR_NO_PLATFORM, "no OpenCL platform")                                                    \
  X(NNCL_ERR_NO_DEVICE, "no matching OpenCL device")                                               \
  X(NNCL_ERR_OPENCL, "OpenCL call failed")                                                         \
  X(NNCL_ERR_OUT_OF_HOST_MEMORY, "out of host memory")                                             \
  X(NNCL_ERR_OUT_OF_DEVICE_MEMORY, "out of device memory")                                         \
  X(NNCL_ERR_BUILD_FAILED, "kernel build failed")                                                  \
  X(NNCL_ERR_KERNEL_NOT_FOUND, "kernel source or function not found")                              \
  X(NNCL_ERR_IO, "file input/output failed")                                                       \
  X(NNCL_ERR_FORMAT, "malformed file")                                                             \
  X(NNCL_ERR_UNSUPPORTED, "unsupported")                                                           \
  X(NNCL_ERR_SHAPE, "shape mismatch")                                                              \
  X(NNCL_ERR_DTYPE, "unsupported or mismatched data type")                                         \
  X(NNCL_ERR_NOT_FOUND, "name not found")                                                          \
  X(NNCL_ERR_STATE, "call not valid in the current state")                                         \
  X(NNCL_ERR_BLAS, "CLBlast call failed")                                                          \
  X(NNCL_ERR_COMM, "communication between processes failed or timed out")

typedef enum nncl_status {
#define NNCL_X_ENUM(id, text) id,
  NNCL_STATUS_LIST(NNCL_X_ENUM)
#undef NNCL_X_ENUM
      NNCL_STATUS_COUNT
} nncl_status;

/* Short English text for a status; never NULL. */
NNCL_API const char *nncl_status_string(nncl_status s);
/* Symbolic name such as "NNCL_ERR_SHAPE"; never NULL. */
NNCL_API const char *nncl_status_name(nncl_status s);

#ifdef __cplusplus
}
#endif
#endif
