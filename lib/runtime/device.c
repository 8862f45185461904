/* device.c: enumerates OpenCL platforms and devices, reads their facts once, and resolves a
   device string ("gpu", "cpu", "P:D", name substring) to one of them. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "runtime.h"

static void str_info_platform(cl_platform_id p, cl_platform_info what, char *out, size_t n) {
  out[0] = 0;
  if (clGetPlatformInfo(p, what, n, out, NULL) != CL_SUCCESS) out[0] = 0;
  out[n - 1] = 0;
}

static void str_info_device(cl_device_id d, cl_device_info what, char *out, size_t n) {
  out[0] = 0;
  if (clGetDeviceInfo(d, what, n, out, NULL) != CL_SUCCESS) out[0] = 0;
  out[n - 1] = 0;
}

static void read_facts(cl_platform_id p, cl_device_id d, nncl_device_info *info) {
  str_info_platform(p, CL_PLATFORM_NAME, info->platform_name, sizeof info->platform_name);
  str_info_platform(p, CL_PLATFORM_VERSION, info->platform_version, sizeof info->platform_version);
  str_info_device(d, CL_DEVICE_NAME, info->name, sizeof info->name);
  str_info_device(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
  str_info_device(d, CL_DEVICE_VERSION, info->version, sizeof info->version);
  str_info_device(d, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
  str_info_device(d, CL_DEVICE_OPENCL_C_VERSION, info->c_version, sizeof info->c_version);
  cl_device_type type = 0;
  clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL);
  info->is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
  info->is_cpu = (type & CL_DEVICE_TYPE_CPU) != 0;
  cl_uint u = 0;
  clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof u, &u, NULL);
  info->compute_units = u;
  u = 0;
  clGetDeviceInfo(d, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof u, &u, NULL);
  info->clock_mhz = u;
  cl_ulong ul = 0;
  clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof ul, &ul, NULL);
  info->global_mem_bytes = ul;
  ul = 0;
  clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ul, &ul, NULL);
  info->max_alloc_bytes = ul;
  ul = 0;
  clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof ul, &ul, NULL);
  info->local_mem_bytes = ul;
  size_t wg = 0;
  clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
  info->max_work_group_size = wg;
  u = 0;
  clGetDeviceInfo(d, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof u, &u, NULL);
  info->mem_base_addr_align_bytes = u / 8 ? u / 8 : 128;
  cl_device_local_mem_type lt = CL_LOCAL;
  clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_TYPE, sizeof lt, &lt, NULL);
  info->local_mem_is_global = lt == CL_GLOBAL;
  cl_bool hu = CL_FALSE;
  clGetDeviceInfo(d, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof hu, &hu, NULL);
  info->host_unified_memory = hu == CL_TRUE;
  size_t ext_len = 0;
  if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_len) == CL_SUCCESS && ext_len) {
    char *ext = malloc(ext_len + 1);
    if (ext && clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, ext_len, ext, NULL) == CL_SUCCESS) {
      ext[ext_len] = 0;
      info->has_fp16 = strstr(ext, "cl_khr_fp16") != NULL;
      info->has_fp64 = strstr(ext, "cl_khr_fp64") != NULL;
    }
    free(ext);
  }
}

/* The ICD loader reports a driver whose library failed to load as "no platform"; under a memory
   limit (ulimit -v) that is the usual cause, since a driver with its compiler maps a few hundred
   MiB. So before saying "no platform", probe whether 256 MiB can be mapped (mmap, not malloc:
   nothing is touched and no sanitizer's allocator is involved). 1 and a reason when it cannot. */
static int host_memory_short(char *why, size_t n) {
  const size_t probe = (size_t)256 << 20;
  void *p =
      mmap(NULL, probe, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p != MAP_FAILED) {
    munmap(p, probe);
    return 0;
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    snprintf(why, n, "the address-space limit (ulimit -v) is %llu MiB",
             (unsigned long long)(rl.rlim_cur >> 20));
  else
    snprintf(why, n, "256 MiB could not be mapped");
  return 1;
}

static void set_msg(char *msg, size_t len, const char *text) {
  if (msg && len) snprintf(msg, len, "%s", text);
}

/* Walks every platform/device, calling fn for each; stops early when fn returns non-zero. */
typedef int (*device_visit_fn)(void *user, cl_platform_id p, cl_device_id d, int pi, int di);

static nncl_status visit_devices(device_visit_fn fn, void *user, char *msg, size_t msg_len) {
  cl_uint np = 0;
  cl_int err = clGetPlatformIDs(0, NULL, &np);
  char why[128];
  if (err == CL_OUT_OF_HOST_MEMORY ||
      ((err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && np == 0)) &&
       host_memory_short(why, sizeof why))) {
    if (msg)
      snprintf(msg, msg_len,
               "out of host memory loading the OpenCL driver (%s); OpenCL drivers with their "
               "compiler need a few hundred MiB",
               err == CL_OUT_OF_HOST_MEMORY ? "clGetPlatformIDs: CL_OUT_OF_HOST_MEMORY" : why);
    return NNCL_ERR_OUT_OF_HOST_MEMORY;
  }
  if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && np == 0)) {
    if (msg)
      snprintf(msg, msg_len,
               "no OpenCL platform found (is an ICD such as pocl-opencl-icd installed and "
               "registered in /etc/OpenCL/vendors?)");
    return NNCL_ERR_NO_PLATFORM;
  }
  if (err != CL_SUCCESS) {
    if (msg)
      snprintf(msg, msg_len, "clGetPlatformIDs failed: %s (%d)", nncl_cl_error_name(err), err);
    return NNCL_ERR_OPENCL;
  }
  cl_platform_id *ps = calloc(np, sizeof *ps);
  if (!ps) {
    set_msg(msg, msg_len, "out of host memory listing OpenCL platforms");
    return NNCL_ERR_OUT_OF_HOST_MEMORY;
  }
  clGetPlatformIDs(np, ps, NULL);
  int stop = 0;
  for (cl_uint pi = 0; pi < np && !stop; pi++) {
    cl_uint nd = 0;
    if (clGetDeviceIDs(ps[pi], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0) continue;
    cl_device_id *ds = calloc(nd, sizeof *ds);
    if (!ds) {
      free(ps);
      set_msg(msg, msg_len, "out of host memory listing OpenCL devices");
      return NNCL_ERR_OUT_OF_HOST_MEMORY;
    }
    clGetDeviceIDs(ps[pi], CL_DEVICE_TYPE_ALL, nd, ds, NULL);
    for (cl_uint di = 0; di < nd && !stop; di++) stop = fn(user, ps[pi], ds[di], (int)pi, (int)di);
    free(ds);
  }
  free(ps);
  return NNCL_OK;
}

struct list_acc {
  nncl_device_info *list;
  int count, cap;
  int oom;
};

static int list_visit(void *user, cl_platform_id p, cl_device_id d, int pi, int di) {
  struct list_acc *acc = user;
  if (acc->count == acc->cap) {
    int cap = acc->cap ? acc->cap * 2 : 4;
    nncl_device_info *n = realloc(acc->list, (size_t)cap * sizeof *n);
    if (!n) {
      acc->oom = 1;
      return 1;
    }
    acc->list = n;
    acc->cap = cap;
  }
  nncl_device_info *info = &acc->list[acc->count++];
  memset(info, 0, sizeof *info);
  info->platform_index = pi;
  info->device_index = di;
  read_facts(p, d, info);
  return 0;
}

nncl_status nncl_devices_list(nncl_device_info **out, int *count, char *msg, size_t msg_len) {
  if (!out || !count) return NNCL_ERR_INVALID_ARGUMENT;
  *out = NULL;
  *count = 0;
  struct list_acc acc = {0};
  nncl_status st = visit_devices(list_visit, &acc, msg, msg_len);
  if (st == NNCL_OK && acc.oom) {
    set_msg(msg, msg_len, "out of host memory listing OpenCL devices");
    st = NNCL_ERR_OUT_OF_HOST_MEMORY;
  }
  if (st == NNCL_OK && acc.count == 0) {
    if (msg) snprintf(msg, msg_len, "OpenCL platforms exist but expose no device");
    st = NNCL_ERR_NO_DEVICE;
  }
  if (st != NNCL_OK) {
    free(acc.list);
    return st;
  }
  *out = acc.list;
  *count = acc.count;
  return NNCL_OK;
}

void nncl_devices_free(nncl_device_info *list) { free(list); }

static int icontains(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
      i++;
    if (i == n) return 1;
  }
  return n == 0;
}

static void list_available(const nncl_device_info *list, int count, char *msg, size_t msg_len,
                           size_t used) {
  for (int i = 0; i < count && used < msg_len; i++) {
    int w =
        snprintf(msg + used, msg_len - used, "%s  %d:%d %s (%s, %s)", i ? ";" : "",
                 list[i].platform_index, list[i].device_index, list[i].name, list[i].platform_name,
                 list[i].is_gpu   ? "gpu"
                 : list[i].is_cpu ? "cpu"
                                  : "other");
    if (w < 0) break;
    used += (size_t)w;
  }
}

nncl_status nncl_device_select(const nncl_device_info *list, int count, const char *spec,
                               int *index, char *msg, size_t msg_len) {
  if (!list || count <= 0 || !index) return NNCL_ERR_INVALID_ARGUMENT;
  if (!spec || !*spec) spec = getenv("NNCL_DEVICE");
  if (!spec || !*spec) {
    for (int i = 0; i < count; i++)
      if (list[i].is_gpu) {
        *index = i;
        return NNCL_OK;
      }
    *index = 0;
    return NNCL_OK;
  }
  int want_gpu = strcasecmp(spec, "gpu") == 0, want_cpu = strcasecmp(spec, "cpu") == 0;
  int p = -1, d = -1;
  char tail = 0;
  int is_pd = sscanf(spec, "%d:%d%c", &p, &d, &tail) == 2;
  for (int i = 0; i < count; i++) {
    const nncl_device_info *x = &list[i];
    int ok = want_gpu   ? x->is_gpu
             : want_cpu ? x->is_cpu
             : is_pd    ? (x->platform_index == p && x->device_index == d)
                        : icontains(x->name, spec);
    if (ok) {
      *index = i;
      return NNCL_OK;
    }
  }
  if (msg && msg_len) {
    int w = snprintf(msg, msg_len, "no OpenCL device matches \"%s\"; available:", spec);
    list_available(list, count, msg, msg_len, w > 0 ? (size_t)w : 0);
  }
  return NNCL_ERR_NO_DEVICE;
}

/* Finds the cl ids of device `index` in enumeration order. */
struct find_acc {
  int want, seen;
  cl_platform_id p;
  cl_device_id d;
};

static int find_visit(void *user, cl_platform_id p, cl_device_id d, int pi, int di) {
  (void)pi;
  (void)di;
  struct find_acc *acc = user;
  if (acc->seen++ == acc->want) {
    acc->p = p;
    acc->d = d;
    return 1;
  }
  return 0;
}

nncl_status nncl__device_ids(int index, cl_platform_id *p, cl_device_id *d, char *msg,
                             size_t msg_len) {
  struct find_acc acc = {.want = index};
  NNCL_TRY(visit_devices(find_visit, &acc, msg, msg_len));
  if (!acc.d) return NNCL_ERR_NO_DEVICE;
  *p = acc.p;
  *d = acc.d;
  return NNCL_OK;
}
