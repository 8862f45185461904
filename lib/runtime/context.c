/* context.c: creates and destroys a context: the OpenCL context and its one in-order queue with
   profiling enabled, the device facts, the program cache and its on-disk directory, and its
   options' defaults (options.def's environment variables, read only while creating it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

#ifndef NNCL_VERSION_STRING
#define NNCL_VERSION_STRING "0.0.0"
#endif

const char *nncl_version(void) { return NNCL_VERSION_STRING; }

/* $NNCL_CACHE_DIR ("off" disables), else $XDG_CACHE_HOME/nncl, else ~/.cache/nncl. */
static void resolve_cache_dir(char *out, size_t n) {
  const char *env = getenv("NNCL_CACHE_DIR");
  out[0] = 0;
  if (env && *env) {
    if (strcmp(env, "off") != 0) snprintf(out, n, "%s", env);
    return;
  }
  const char *xdg = getenv("XDG_CACHE_HOME");
  if (xdg && *xdg) {
    snprintf(out, n, "%s/nncl", xdg);
    return;
  }
  const char *home = getenv("HOME");
  if (home && *home) snprintf(out, n, "%s/.cache/nncl", home);
}

static void set_msg(char *msg, size_t len, const char *text) {
  if (msg && len) snprintf(msg, len, "%s", text);
}

nncl_status nncl_context_create(const char *device_spec, nncl_context **out, char *msg,
                                size_t msg_len) {
  if (!out) return NNCL_ERR_INVALID_ARGUMENT;
  *out = NULL;
  nncl_device_info *list = NULL;
  int count = 0, index = 0;
  nncl_status st = nncl_devices_list(&list, &count, msg, msg_len);
  if (st != NNCL_OK) return st;
  st = nncl_device_select(list, count, device_spec, &index, msg, msg_len);
  if (st != NNCL_OK) {
    nncl_devices_free(list);
    return st;
  }
  nncl_context *ctx = calloc(1, sizeof *ctx);
  if (!ctx) {
    nncl_devices_free(list);
    set_msg(msg, msg_len, "out of host memory creating the context");
    return NNCL_ERR_OUT_OF_HOST_MEMORY;
  }
  ctx->info = list[index];
  nncl_devices_free(list);
  ctx->current_node = -1;
  st = nncl__device_ids(index, &ctx->platform, &ctx->device, msg, msg_len);
  if (st != NNCL_OK) {
    free(ctx);
    return st;
  }
  cl_int err = CL_SUCCESS;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->platform, 0};
  ctx->cl = clCreateContext(props, 1, &ctx->device, NULL, NULL, &err);
  if (err != CL_SUCCESS) {
    if (msg)
      snprintf(msg, msg_len, "clCreateContext on %s failed: %s (%d)", ctx->info.name,
               nncl_cl_error_name(err), err);
    free(ctx);
    return err == CL_OUT_OF_HOST_MEMORY ? NNCL_ERR_OUT_OF_HOST_MEMORY : NNCL_ERR_OPENCL;
  }
  ctx->queue = clCreateCommandQueue(ctx->cl, ctx->device, CL_QUEUE_PROFILING_ENABLE, &err);
  if (err != CL_SUCCESS) {
    if (msg)
      snprintf(msg, msg_len, "clCreateCommandQueue on %s failed: %s (%d)", ctx->info.name,
               nncl_cl_error_name(err), err);
    clReleaseContext(ctx->cl);
    free(ctx);
    return NNCL_ERR_OPENCL;
  }
  st = nncl__options_from_env(&ctx->options, msg, msg_len);
  if (st != NNCL_OK) {
    nncl_context_destroy(ctx);
    return st;
  }
  resolve_cache_dir(ctx->cache_dir, sizeof ctx->cache_dir);
  const char *kd = getenv("NNCL_KERNEL_DIR");
  if (kd && *kd) snprintf(ctx->kernel_dir, sizeof ctx->kernel_dir, "%s", kd);
  *out = ctx;
  return NNCL_OK;
}

static void context_free(nncl_context *ctx) {
  if (ctx->queue) clFinish(ctx->queue);
  for (size_t i = 0; i < ctx->prof_count; i++)
    if (ctx->prof[i].event) clReleaseEvent(ctx->prof[i].event);
  free(ctx->prof);
  nncl__gemm_memo_free(ctx);
  nncl__program_cache_free(ctx);
  if (ctx->queue) clReleaseCommandQueue(ctx->queue);
  if (ctx->cl) clReleaseContext(ctx->cl);
  free(ctx);
}

void nncl_context_destroy(nncl_context *ctx) {
  if (!ctx || ctx->destroyed) return;
  ctx->destroyed = true;
  if (ctx->n_objects == 0) context_free(ctx);
}

void nncl__context_retain(nncl_context *ctx) { ctx->n_objects++; }

void nncl__context_release(nncl_context *ctx) {
  if (--ctx->n_objects == 0 && ctx->destroyed) context_free(ctx);
}

nncl_status nncl__context_check_alive(nncl_context *ctx, const char *what) {
  if (!ctx->destroyed) return NNCL_OK;
  return nncl__error(ctx, NNCL_ERR_STATE,
                     "%s: its context was destroyed (destroy graphs and tensors before their "
                     "context)",
                     what);
}

const nncl_device_info *nncl_context_device(const nncl_context *ctx) {
  return ctx ? &ctx->info : NULL;
}

void nncl_context_stats(const nncl_context *ctx, nncl_stats *out) {
  if (!out) return;
  if (!ctx) {
    memset(out, 0, sizeof *out);
    return;
  }
  *out = ctx->stats;
}

const char *nncl_context_cache_dir(const nncl_context *ctx) { return ctx ? ctx->cache_dir : ""; }

nncl_status nncl_context_finish(nncl_context *ctx) {
  if (!ctx) return NNCL_ERR_INVALID_ARGUMENT;
  cl_int err = clFinish(ctx->queue);
  if (err != CL_SUCCESS) return nncl__cl_error(ctx, err, "clFinish");
  return NNCL_OK;
}
