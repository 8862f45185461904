/* buffer.c: device buffer creation and host<->device transfers with named errors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

nncl_status nncl__buffer_create(nncl_context *ctx, size_t bytes, const char *what, cl_mem *out) {
  *out = NULL;
  if (bytes == 0)
    bytes = 4; /* OpenCL forbids empty buffers; zero-size tensors still need a handle */
  if (bytes > ctx->info.max_alloc_bytes && ctx->info.max_alloc_bytes)
    return nncl__error(ctx, NNCL_ERR_OUT_OF_DEVICE_MEMORY,
                       "%s needs %zu bytes, more than the largest buffer %s allows (%llu bytes)",
                       what ? what : "buffer", bytes, ctx->info.name,
                       (unsigned long long)ctx->info.max_alloc_bytes);
  cl_int err;
  cl_mem m = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, bytes, NULL, &err);
  if (err != CL_SUCCESS)
    return nncl__cl_error(ctx, err, "allocating %zu bytes for %s on %s", bytes,
                          what ? what : "buffer", ctx->info.name);
  ctx->stats.device_allocs++;
  ctx->stats.device_alloc_bytes += bytes;
  *out = m;
  return NNCL_OK;
}

nncl_status nncl__buffer_upload(nncl_context *ctx, cl_mem dst, size_t offset, const void *src,
                                size_t bytes) {
  if (bytes == 0) return NNCL_OK;
  cl_event *ev = nncl__prof_slot(ctx, "upload");
  cl_int err = clEnqueueWriteBuffer(ctx->queue, dst, CL_TRUE, offset, bytes, src, 0, NULL, ev);
  nncl__prof_commit(ctx, ev, err);
  if (err != CL_SUCCESS) return nncl__cl_error(ctx, err, "writing %zu bytes to the device", bytes);
  return NNCL_OK;
}

nncl_status nncl__buffer_download(nncl_context *ctx, cl_mem src, size_t offset, void *dst,
                                  size_t bytes) {
  if (bytes == 0) return NNCL_OK;
  cl_event *ev = nncl__prof_slot(ctx, "download");
  cl_int err = clEnqueueReadBuffer(ctx->queue, src, CL_TRUE, offset, bytes, dst, 0, NULL, ev);
  nncl__prof_commit(ctx, ev, err);
  if (err != CL_SUCCESS)
    return nncl__cl_error(ctx, err, "reading %zu bytes from the device", bytes);
  return NNCL_OK;
}

nncl_status nncl__buffer_copy(nncl_context *ctx, cl_mem src, size_t src_off, cl_mem dst,
                              size_t dst_off, size_t bytes) {
  if (bytes == 0) return NNCL_OK;
  cl_event *ev = nncl__prof_slot(ctx, "copy");
  cl_int err = clEnqueueCopyBuffer(ctx->queue, src, dst, src_off, dst_off, bytes, 0, NULL, ev);
  nncl__prof_commit(ctx, ev, err);
  if (err != CL_SUCCESS) return nncl__cl_error(ctx, err, "copying %zu bytes on the device", bytes);
  return NNCL_OK;
}

nncl_status nncl__buffer_fill_zero(nncl_context *ctx, cl_mem dst, size_t offset, size_t bytes) {
  if (bytes == 0) return NNCL_OK;
  static const unsigned char zero[4] = {0, 0, 0, 0};
  size_t pattern = (offset % 4 == 0 && bytes % 4 == 0) ? 4 : 1;
  cl_event *ev = nncl__prof_slot(ctx, "fill");
  cl_int err = clEnqueueFillBuffer(ctx->queue, dst, zero, pattern, offset, bytes, 0, NULL, ev);
  nncl__prof_commit(ctx, ev, err);
  if (err != CL_SUCCESS) return nncl__cl_error(ctx, err, "zero-filling %zu bytes", bytes);
  return NNCL_OK;
}

nncl_status nncl__buffer_from_host(nncl_context *ctx, const void *src, size_t bytes,
                                   const char *what, cl_mem *out) {
  NNCL_TRY(nncl__buffer_create(ctx, bytes, what, out));
  nncl_status st = nncl__buffer_upload(ctx, *out, 0, src, bytes);
  if (st != NNCL_OK) {
    clReleaseMemObject(*out);
    *out = NULL;
  }
  return st;
}

nncl_status nncl__buffer_over_host(nncl_context *ctx, const void *src, size_t bytes,
                                   const char *what, cl_mem *out) {
  const size_t align =
      ctx->info.mem_base_addr_align_bytes ? ctx->info.mem_base_addr_align_bytes : NNCL_ARRAY_ALIGN;
  if (!ctx->info.host_unified_memory || bytes == 0 || (uintptr_t)src % align != 0 ||
      (ctx->info.max_alloc_bytes && bytes > ctx->info.max_alloc_bytes))
    return nncl__buffer_from_host(ctx, src, bytes, what, out);
  cl_int err;
  /* the kernels only read constants; the flags allow writes so that no driver copies for them */
  cl_mem m =
      clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, bytes, (void *)src, &err);
  if (err != CL_SUCCESS) return nncl__buffer_from_host(ctx, src, bytes, what, out);
  ctx->stats.device_allocs++;
  ctx->stats.device_alloc_bytes += bytes;
  ctx->stats.host_buffers++;
  *out = m;
  return NNCL_OK;
}

void *nncl__host_alloc(size_t bytes) {
  if (bytes > SIZE_MAX - NNCL_ARRAY_ALIGN) return NULL;
  size_t padded = (bytes + NNCL_ARRAY_ALIGN - 1) / NNCL_ARRAY_ALIGN * NNCL_ARRAY_ALIGN;
  if (!padded) padded = NNCL_ARRAY_ALIGN;
  void *p = aligned_alloc(NNCL_ARRAY_ALIGN, padded);
  if (p) memset((char *)p + bytes, 0, padded - bytes);
  return p;
}

static void CL_CALLBACK free_adopted(cl_mem m, void *data) {
  (void)m;
  free(data);
}

nncl_status nncl__buffer_adopt(nncl_context *ctx, void *data, size_t bytes, int in_place,
                               const char *what, cl_mem *out) {
  *out = NULL;
  const size_t align =
      ctx->info.mem_base_addr_align_bytes ? ctx->info.mem_base_addr_align_bytes : NNCL_ARRAY_ALIGN;
  if (in_place && ctx->info.host_unified_memory && bytes > 0 && (uintptr_t)data % align == 0 &&
      !(ctx->info.max_alloc_bytes && bytes > ctx->info.max_alloc_bytes)) {
    cl_int err;
    cl_mem m = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, bytes, data, &err);
    if (err == CL_SUCCESS) {
      err = clSetMemObjectDestructorCallback(m, free_adopted, data);
      if (err == CL_SUCCESS) {
        ctx->stats.device_allocs++;
        ctx->stats.device_alloc_bytes += bytes;
        ctx->stats.host_buffers++;
        *out = m;
        return NNCL_OK;
      }
      clReleaseMemObject(m); /* no callback registered: data is still ours, copied below */
    }
  }
  nncl_status st = nncl__buffer_from_host(ctx, data, bytes, what, out);
  free(data);
  return st;
}

void nncl__buffer_release(cl_mem m) {
  if (m) clReleaseMemObject(m);
}
