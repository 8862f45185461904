/* context.c: creates and destroys a context: per device an in-order queue with profiling enabled
   (one cl_context per platform), the device facts, the program cache and its on-disk directory, and its
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

/* A device's queue; its cl_context (ctx->cl) is already set. */
static nncl_status open_queue(nncl_context *c, char *msg, size_t msg_len) {
  cl_int err = CL_SUCCESS;
  c->queue = clCreateCommandQueue(c->cl, c->device, CL_QUEUE_PROFILING_ENABLE, &err);
  if (err == CL_SUCCESS) return NNCL_OK;
  if (msg)
    snprintf(msg, msg_len, "clCreateCommandQueue on %s failed: %s (%d)", c->info.name,
             nncl_cl_error_name(err), err);
  return NNCL_ERR_OPENCL;
}

/* One cl_context for the devices of dev[from]'s platform among dev[from..n) that have none yet:
   devices of one platform share buffers and events, so moving a tensor is a device copy. */
static nncl_status open_platform(nncl_context **dev, int from, int n, char *msg, size_t msg_len) {
  cl_device_id ids[NNCL_MAX_DEVICES];
  cl_uint k = 0;
  for (int i = from; i < n; i++)
    if (!dev[i]->cl && dev[i]->platform == dev[from]->platform) ids[k++] = dev[i]->device;
  cl_int err = CL_SUCCESS;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)dev[from]->platform,
                                   0};
  cl_context cl = clCreateContext(props, k, ids, NULL, NULL, &err);
  if (err != CL_SUCCESS) {
    if (msg)
      snprintf(msg, msg_len, "clCreateContext on %s failed: %s (%d)", dev[from]->info.name,
               nncl_cl_error_name(err), err);
    return err == CL_OUT_OF_HOST_MEMORY ? NNCL_ERR_OUT_OF_HOST_MEMORY : NNCL_ERR_OPENCL;
  }
  dev[from]->owns_cl = true;
  for (int i = from; i < n; i++)
    if (!dev[i]->cl && dev[i]->platform == dev[from]->platform) dev[i]->cl = cl;
  return NNCL_OK;
}

/* The context over the devices list[idx[0..n)); idx[0] becomes the context the caller holds. */
static nncl_status context_open(const nncl_device_info *list, const int *idx, int n,
                                nncl_context **out, char *msg, size_t msg_len) {
  nncl_context *root = calloc(1, sizeof *root);
  nncl_context **dev = calloc((size_t)n, sizeof *dev);
  if (!root || !dev) {
    free(root);
    free(dev);
    set_msg(msg, msg_len, "out of host memory creating the context");
    return NNCL_ERR_OUT_OF_HOST_MEMORY;
  }
  root->dev = dev;
  root->n_dev = n;
  dev[0] = root;
  nncl_status st = NNCL_OK;
  for (int i = 1; i < n && st == NNCL_OK; i++) {
    dev[i] = calloc(1, sizeof *dev[i]);
    if (!dev[i]) {
      set_msg(msg, msg_len, "out of host memory creating the context");
      st = NNCL_ERR_OUT_OF_HOST_MEMORY;
    }
  }
  for (int i = 0; i < n && st == NNCL_OK; i++) {
    nncl_context *c = dev[i];
    c->info = list[idx[i]];
    c->current_node = -1;
    c->dev_index = i;
    c->root = i ? root : NULL;
    st = nncl__device_ids(idx[i], &c->platform, &c->device, msg, msg_len);
  }
  for (int i = 0; i < n && st == NNCL_OK; i++)
    if (!dev[i]->cl) st = open_platform(dev, i, n, msg, msg_len);
  for (int i = 0; i < n && st == NNCL_OK; i++) st = open_queue(dev[i], msg, msg_len);
  if (st == NNCL_OK) st = nncl__options_from_env(&root->options, msg, msg_len);
  if (st != NNCL_OK) {
    nncl_context_destroy(root);
    return st;
  }
  resolve_cache_dir(root->cache_dir, sizeof root->cache_dir);
  const char *kd = getenv("NNCL_KERNEL_DIR");
  if (kd && *kd) snprintf(root->kernel_dir, sizeof root->kernel_dir, "%s", kd);
  for (int i = 1; i < n; i++) {
    dev[i]->options = root->options;
    memcpy(dev[i]->cache_dir, root->cache_dir, sizeof root->cache_dir);
    memcpy(dev[i]->kernel_dir, root->kernel_dir, sizeof root->kernel_dir);
  }
  *out = root;
  return NNCL_OK;
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
  if (st == NNCL_OK) st = context_open(list, &index, 1, out, msg, msg_len);
  nncl_devices_free(list);
  return st;
}

/* The list indices `spec` names: "all", or device specs separated by commas, none twice. */
static nncl_status select_devices(const nncl_device_info *list, int count, const char *spec,
                                  int *idx, int *n, char *msg, size_t msg_len) {
  *n = 0;
  if (spec && strcmp(spec, "all") == 0) {
    for (int i = 0; i < count && i < NNCL_MAX_DEVICES; i++) idx[(*n)++] = i;
    return NNCL_OK;
  }
  const char *p = spec ? spec : "";
  do {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    char one[256];
    if (len >= sizeof one || *n == NNCL_MAX_DEVICES) {
      if (msg) snprintf(msg, msg_len, "device list \"%s\" is too long", spec);
      return NNCL_ERR_INVALID_ARGUMENT;
    }
    memcpy(one, p, len);
    one[len] = 0;
    if (!len && spec && *spec) {
      if (msg) snprintf(msg, msg_len, "device list \"%s\" has an empty entry", spec);
      return NNCL_ERR_INVALID_ARGUMENT;
    }
    int k = 0;
    NNCL_TRY(nncl_device_select(list, count, one, &k, msg, msg_len));
    for (int j = 0; j < *n; j++)
      if (idx[j] == k) {
        if (msg)
          snprintf(msg, msg_len, "device list \"%s\": \"%s\" names device %d:%d (%s) again", spec,
                   one, list[k].platform_index, list[k].device_index, list[k].name);
        return NNCL_ERR_INVALID_ARGUMENT;
      }
    idx[(*n)++] = k;
    p = comma ? comma + 1 : NULL;
  } while (p);
  return NNCL_OK;
}

nncl_status nncl_context_create_devices(const char *devices_spec, nncl_context **out, char *msg,
                                        size_t msg_len) {
  if (!out) return NNCL_ERR_INVALID_ARGUMENT;
  *out = NULL;
  nncl_device_info *list = NULL;
  int count = 0, n = 0, idx[NNCL_MAX_DEVICES];
  nncl_status st = nncl_devices_list(&list, &count, msg, msg_len);
  if (st != NNCL_OK) return st;
  st = select_devices(list, count, devices_spec, idx, &n, msg, msg_len);
  if (st == NNCL_OK) st = context_open(list, idx, n, out, msg, msg_len);
  nncl_devices_free(list);
  return st;
}

/* One device's share of a context (its cl_context is released after every queue on it). */
static void device_free(nncl_context *ctx) {
  if (ctx->queue) clFinish(ctx->queue);
  for (size_t i = 0; i < ctx->prof_count; i++)
    if (ctx->prof[i].event) clReleaseEvent(ctx->prof[i].event);
  free(ctx->prof);
  nncl__gemm_memo_free(ctx);
  nncl__program_cache_free(ctx);
  if (ctx->queue) clReleaseCommandQueue(ctx->queue);
}

static void context_free(nncl_context *ctx) {
  for (int i = 0; i < ctx->n_dev; i++)
    if (ctx->dev[i]) device_free(ctx->dev[i]);
  for (int i = 0; i < ctx->n_dev; i++)
    if (ctx->dev[i] && ctx->dev[i]->owns_cl) clReleaseContext(ctx->dev[i]->cl);
  for (int i = 1; i < ctx->n_dev; i++) free(ctx->dev[i]);
  free(ctx->dev);
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
  for (int i = 1; i < ctx->n_dev; i++) {
    const nncl_stats *d = &ctx->dev[i]->stats;
    out->program_builds += d->program_builds;
    out->program_disk_hits += d->program_disk_hits;
    out->program_memory_hits += d->program_memory_hits;
    out->disk_cache_rejects += d->disk_cache_rejects;
    out->kernel_launches += d->kernel_launches;
    out->device_allocs += d->device_allocs;
    out->device_alloc_bytes += d->device_alloc_bytes;
    out->host_buffers += d->host_buffers;
    out->build_seconds += d->build_seconds;
  }
}

nncl_status nncl_context_set_placement(nncl_context *ctx, const char *spec) {
  if (!ctx) return NNCL_ERR_INVALID_ARGUMENT;
  if (!spec) spec = "";
  if (strlen(spec) >= sizeof ctx->placement)
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "placement \"%.60s...\" is too long", spec);
  for (const char *p = spec; *p;) {
    const char *comma = strchr(p, ',');
    int len = comma ? (int)(comma - p) : (int)strlen(p);
    const char *colon = memchr(p, ':', (size_t)len);
    char *end = NULL;
    long dev = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon == p || end != p + len || dev < 0 || dev >= ctx->n_dev)
      return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT,
                         "placement entry \"%.*s\": expected NODE_OR_OP_TYPE:DEVICE with DEVICE "
                         "in 0..%d (the context's devices)",
                         len, p, ctx->n_dev - 1);
    p = comma ? comma + 1 : p + len;
  }
  snprintf(ctx->placement, sizeof ctx->placement, "%s", spec);
  return NNCL_OK;
}

int nncl_context_device_count(const nncl_context *ctx) { return ctx ? ctx->n_dev : 0; }

const nncl_device_info *nncl_context_device_at(const nncl_context *ctx, int i) {
  return ctx && i >= 0 && i < ctx->n_dev ? &ctx->dev[i]->info : NULL;
}

const char *nncl_context_cache_dir(const nncl_context *ctx) { return ctx ? ctx->cache_dir : ""; }

nncl_status nncl_context_finish(nncl_context *ctx) {
  if (!ctx) return NNCL_ERR_INVALID_ARGUMENT;
  for (int i = 0; i < ctx->n_dev; i++) {
    cl_int err = clFinish(ctx->dev[i]->queue);
    if (err != CL_SUCCESS)
      return nncl__cl_error(ctx, err, "clFinish on %s", ctx->dev[i]->info.name);
  }
  return NNCL_OK;
}
