/* nncl/context.h: OpenCL device enumeration and selection, and the context every call hangs off. */
#ifndef NNCL_CONTEXT_H
#define NNCL_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "nncl/export.h"
#include "nncl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nncl_context nncl_context;

/* Facts about one device, read once when it is enumerated. */
typedef struct nncl_device_info {
  int platform_index, device_index;
  char platform_name[128];
  char platform_version[128];
  char name[256];
  char vendor[128];
  char version[128]; /* CL_DEVICE_VERSION */
  char driver_version[128];
  char c_version[128]; /* CL_DEVICE_OPENCL_C_VERSION */
  int is_gpu, is_cpu;
  unsigned compute_units;
  unsigned clock_mhz;
  uint64_t global_mem_bytes;
  uint64_t max_alloc_bytes;
  uint64_t local_mem_bytes;
  size_t max_work_group_size;
  unsigned mem_base_addr_align_bytes;
  int has_fp16;
  int has_fp64;
  int local_mem_is_global; /* CL_GLOBAL local memory type (CPUs) */
  int host_unified_memory; /* CL_DEVICE_HOST_UNIFIED_MEMORY: device reads host memory directly */
} nncl_device_info;

/* Enumerates every device of every platform. On success *out is a malloc'ed array the caller
   frees with nncl_devices_free, and *count its length (NNCL_ERR_NO_PLATFORM when there is none). */
NNCL_API nncl_status nncl_devices_list(nncl_device_info **out, int *count, char *msg,
                                       size_t msg_len);
NNCL_API void nncl_devices_free(nncl_device_info *list);

/* Index into the list that `spec` selects: "gpu", "cpu", "P:D", or a case-insensitive substring of
   the device name; NULL or "" means $NNCL_DEVICE, else the first GPU, else the first device.
   NNCL_ERR_NO_DEVICE with a message listing the available devices when nothing matches. */
NNCL_API nncl_status nncl_device_select(const nncl_device_info *list, int count, const char *spec,
                                        int *index, char *msg, size_t msg_len);

/* Creates a context (OpenCL context plus one in-order, profiling-enabled queue) on the device that
   `device_spec` selects (see nncl_device_select). On failure *out is NULL and, when msg is not
   NULL, msg holds the reason. */
NNCL_API nncl_status nncl_context_create(const char *device_spec, nncl_context **out, char *msg,
                                         size_t msg_len);
/* Most devices one context spans. */
#define NNCL_MAX_DEVICES 16
/* Creates a context over several devices: `devices_spec` is "all" (every device, in
   nncl_devices_list order) or device specs as nncl_device_select takes, separated by commas
   ("0:0,0:1", "gpu,cpu"); naming a device twice is an error. One spec (or NULL) gives the
   context nncl_context_create gives. Device 0, the first named, is the context's device
   (nncl_context_device): graph inputs and outputs live there. Every device has its own in-order
   queue; devices of one platform share one OpenCL context (tensors move between them by device
   copies), devices of different platforms get one each. */
NNCL_API nncl_status nncl_context_create_devices(const char *devices_spec, nncl_context **out,
                                                 char *msg, size_t msg_len);
/* Where graphs plan their nodes on a context of several devices: "KEY:I[,KEY:I...]" puts the
   nodes named KEY, else of op type KEY, else every node for KEY "*" (a name wins over a type,
   a type over "*"), on device I. Other nodes go to
   device 0, views to their input's device; a device that lacks what a node needs (fp16, local
   memory, fp64) passes it to the next device that has it (none: planning fails naming the node),
   and a node whose kernel does not build on the device placement chose by itself moves to
   another (a device named here: planning fails naming the node, the device and the build log). Transfer nodes (op type nncl.Transfer) copy a tensor where
   the device changes. NULL or "" clears it. Takes effect when a graph next plans.
   NNCL_ERR_INVALID_ARGUMENT naming the entry when one is malformed or names a device the context
   does not have. */
NNCL_API nncl_status nncl_context_set_placement(nncl_context *ctx, const char *spec);
/* Lifetime: every graph and tensor made on a context must be destroyed before the context. When
   some are still alive, destroy only marks the context: their calls then fail with NNCL_ERR_STATE
   ("its context was destroyed") and the last one's destroy frees the context. NULL-safe. */
NNCL_API void nncl_context_destroy(nncl_context *ctx);

NNCL_API const nncl_device_info *nncl_context_device(const nncl_context *ctx);
/* Number of devices the context spans (1 unless made by nncl_context_create_devices), and device
   i's facts (NULL when out of range). */
NNCL_API int nncl_context_device_count(const nncl_context *ctx);
NNCL_API const nncl_device_info *nncl_context_device_at(const nncl_context *ctx, int i);
/* Text of the last error on this context ("" when none). */
NNCL_API const char *nncl_context_last_error(const nncl_context *ctx);
/* The raw OpenCL error of the last failure (0 when it was not an OpenCL error). */
NNCL_API int nncl_context_last_cl_error(const nncl_context *ctx);
/* Name of an OpenCL error code, e.g. "CL_OUT_OF_RESOURCES". */
NNCL_API const char *nncl_cl_error_name(int cl_error);

/* Counters that show what the context did (tests use them to prove caching), summed over its
   devices. */
typedef struct nncl_stats {
  uint64_t program_builds;      /* compiled from source */
  uint64_t program_disk_hits;   /* loaded from the disk cache */
  uint64_t program_memory_hits; /* found in the in-memory cache */
  uint64_t disk_cache_rejects;  /* cache files found damaged or stale and replaced */
  uint64_t kernel_launches;
  uint64_t device_allocs; /* device buffers created */
  uint64_t device_alloc_bytes;
  uint64_t host_buffers; /* of those, buffers over host memory (zero-copy constants) */
  double build_seconds;  /* wall time spent compiling and loading programs */
} nncl_stats;
NNCL_API void nncl_context_stats(const nncl_context *ctx, nncl_stats *out);

/* Directory of the on-disk program cache, or "" when disabled. */
NNCL_API const char *nncl_context_cache_dir(const nncl_context *ctx);

/* Log messages (program builds, cache misses) go to this callback; the library never prints. */
typedef enum nncl_log_level { NNCL_LOG_DEBUG, NNCL_LOG_INFO, NNCL_LOG_WARN } nncl_log_level;
typedef void (*nncl_log_fn)(void *user, nncl_log_level level, const char *message);
NNCL_API void nncl_context_set_log(nncl_context *ctx, nncl_log_fn fn, void *user);

/* ---- options: named tuning and debugging switches (conv.algo, graph.fusion, ...) ----
   One table defines them all; `nncl options` prints it and docs/OPTIONS.md documents it. A context
   holds the defaults for its graphs (taken from the table, then from the table's environment
   variables when the context is created); a graph may override them (nncl_graph_set_option).
   Graphs read their options when they plan: a graph planned before a context option changes keeps
   its plan until it plans again (a new input shape, or one of its own options set). */
typedef enum nncl_option_type { NNCL_OPTION_CHOICE, NNCL_OPTION_BOOL } nncl_option_type;
typedef struct nncl_option_info {
  const char *key; /* "conv.algo" */
  nncl_option_type type;
  const char *const *values; /* allowed values, NULL-terminated; values[0] is the default */
  const char *env;           /* variable read as the default at context creation, or NULL */
  const char *env_value;     /* what that variable means when set (NULL: its text is the value) */
  const char *doc;
} nncl_option_info;
NNCL_API int nncl_option_count(void);
/* Row i of the table (0 <= i < nncl_option_count()), else NULL. */
NNCL_API const nncl_option_info *nncl_option_get(int i);
/* Sets an option's value for the context (NULL: back to the table's default). Booleans also take
   true/false, on/off, yes/no. An unknown key or a value the option does not allow gives
   NNCL_ERR_INVALID_ARGUMENT, and the last error lists the keys or the allowed values. */
NNCL_API nncl_status nncl_context_set_option(nncl_context *ctx, const char *key, const char *value);
/* The context's value of an option (a static string, e.g. "auto"). */
NNCL_API nncl_status nncl_context_get_option(nncl_context *ctx, const char *key,
                                             const char **value);

/* Waits until every enqueued command has finished, on every device. */
NNCL_API nncl_status nncl_context_finish(nncl_context *ctx);

NNCL_API const char *nncl_version(void);

#ifdef __cplusplus
}
#endif
#endif
