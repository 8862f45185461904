/* error.c: status names, OpenCL error names, the per-context last error, and the log callback. */
#include <stdio.h>
#include <string.h>

#include "runtime.h"

const char *nncl_status_string(nncl_status s) {
  switch (s) {
#define NNCL_X_CASE(id, text)                                                                      \
  case id: return text;
    NNCL_STATUS_LIST(NNCL_X_CASE)
#undef NNCL_X_CASE
  default: return "unknown status";
  }
}

const char *nncl_status_name(nncl_status s) {
  switch (s) {
#define NNCL_X_CASE(id, text)                                                                      \
  case id: return #id;
    NNCL_STATUS_LIST(NNCL_X_CASE)
#undef NNCL_X_CASE
  default: return "NNCL_STATUS_UNKNOWN";
  }
}

const char *nncl_cl_error_name(int e) {
  switch (e) {
#define C(x)                                                                                       \
  case x: return #x;
    /* clang-format off */
    C(CL_SUCCESS) C(CL_DEVICE_NOT_FOUND) C(CL_DEVICE_NOT_AVAILABLE) C(CL_COMPILER_NOT_AVAILABLE)
    C(CL_MEM_OBJECT_ALLOCATION_FAILURE) C(CL_OUT_OF_RESOURCES) C(CL_OUT_OF_HOST_MEMORY)
    C(CL_PROFILING_INFO_NOT_AVAILABLE) C(CL_MEM_COPY_OVERLAP) C(CL_IMAGE_FORMAT_MISMATCH)
    C(CL_IMAGE_FORMAT_NOT_SUPPORTED) C(CL_BUILD_PROGRAM_FAILURE) C(CL_MAP_FAILURE)
    C(CL_MISALIGNED_SUB_BUFFER_OFFSET) C(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    C(CL_COMPILE_PROGRAM_FAILURE) C(CL_LINKER_NOT_AVAILABLE) C(CL_LINK_PROGRAM_FAILURE)
    C(CL_DEVICE_PARTITION_FAILED) C(CL_KERNEL_ARG_INFO_NOT_AVAILABLE) C(CL_INVALID_VALUE)
    C(CL_INVALID_DEVICE_TYPE) C(CL_INVALID_PLATFORM) C(CL_INVALID_DEVICE) C(CL_INVALID_CONTEXT)
    C(CL_INVALID_QUEUE_PROPERTIES) C(CL_INVALID_COMMAND_QUEUE) C(CL_INVALID_HOST_PTR)
    C(CL_INVALID_MEM_OBJECT) C(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) C(CL_INVALID_IMAGE_SIZE)
    C(CL_INVALID_SAMPLER) C(CL_INVALID_BINARY) C(CL_INVALID_BUILD_OPTIONS) C(CL_INVALID_PROGRAM)
    C(CL_INVALID_PROGRAM_EXECUTABLE) C(CL_INVALID_KERNEL_NAME) C(CL_INVALID_KERNEL_DEFINITION)
    C(CL_INVALID_KERNEL) C(CL_INVALID_ARG_INDEX) C(CL_INVALID_ARG_VALUE) C(CL_INVALID_ARG_SIZE)
    C(CL_INVALID_KERNEL_ARGS) C(CL_INVALID_WORK_DIMENSION) C(CL_INVALID_WORK_GROUP_SIZE)
    C(CL_INVALID_WORK_ITEM_SIZE) C(CL_INVALID_GLOBAL_OFFSET) C(CL_INVALID_EVENT_WAIT_LIST)
    C(CL_INVALID_EVENT) C(CL_INVALID_OPERATION) C(CL_INVALID_GL_OBJECT) C(CL_INVALID_BUFFER_SIZE)
    C(CL_INVALID_MIP_LEVEL) C(CL_INVALID_GLOBAL_WORK_SIZE) C(CL_INVALID_PROPERTY)
    C(CL_INVALID_IMAGE_DESCRIPTOR) C(CL_INVALID_COMPILER_OPTIONS) C(CL_INVALID_LINKER_OPTIONS)
    C(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef C
        /* clang-format on */
        case -1001 : return "CL_PLATFORM_NOT_FOUND_KHR";
  default: return "CL_UNKNOWN_ERROR";
  }
}

/* An error on a device's child context is the context's error: the caller reads the root. */
static void forward_to_root(nncl_context *ctx) {
  if (!ctx->root) return;
  memcpy(ctx->root->last_error, ctx->last_error, sizeof ctx->last_error);
  ctx->root->last_cl_error = ctx->last_cl_error;
}

static nncl_status record(nncl_context *ctx, nncl_status status, cl_int cl_err, const char *fmt,
                          va_list ap) {
  if (!ctx) return status;
  vsnprintf(ctx->last_error, sizeof ctx->last_error, fmt, ap);
  ctx->last_cl_error = cl_err;
  forward_to_root(ctx);
  return status;
}

nncl_status nncl__error(nncl_context *ctx, nncl_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record(ctx, status, 0, fmt, ap);
  va_end(ap);
  return status;
}

nncl_status nncl__cl_error(nncl_context *ctx, cl_int err, const char *fmt, ...) {
  nncl_status st = NNCL_ERR_OPENCL;
  if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES ||
      err == CL_INVALID_BUFFER_SIZE)
    st = NNCL_ERR_OUT_OF_DEVICE_MEMORY;
  else if (err == CL_OUT_OF_HOST_MEMORY)
    st = NNCL_ERR_OUT_OF_HOST_MEMORY;
  if (!ctx) return st;
  char what[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(ctx->last_error, sizeof ctx->last_error, "%s: %s (%d)", what, nncl_cl_error_name(err),
           (int)err);
  ctx->last_cl_error = err;
  forward_to_root(ctx);
  return st;
}

void nncl__log(nncl_context *ctx, nncl_log_level level, const char *fmt, ...) {
  if (ctx && ctx->root) ctx = ctx->root; /* one log per context, whichever device speaks */
  if (!ctx || !ctx->log_fn) return;
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  ctx->log_fn(ctx->log_user, level, buf);
}

const char *nncl_context_last_error(const nncl_context *ctx) { return ctx ? ctx->last_error : ""; }
int nncl_context_last_cl_error(const nncl_context *ctx) { return ctx ? ctx->last_cl_error : 0; }
void nncl_context_set_log(nncl_context *ctx, nncl_log_fn fn, void *user) {
  if (!ctx) return;
  ctx->log_fn = fn;
  ctx->log_user = user;
}
