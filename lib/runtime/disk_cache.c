/* disk_cache.c: device binaries on disk, keyed by a hash of everything that changes them. The file
   holds its full key and a checksum; a stale, truncated or damaged file is rejected and replaced. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "disk_cache.h"

#define CACHE_MAGIC "NNCLPRG1"
#define CACHE_FORMAT 1
#define SOURCE_MARK "\n--source--\n"

#ifndef NNCL_VERSION_STRING
#define NNCL_VERSION_STRING "0.0.0"
#endif

char *disk_cache_key(nncl_context *ctx, const char *source_text, const char *options) {
  const nncl_device_info *d = &ctx->info;
  const char *fmt =
      "nncl program cache format %d\nlibrary %s\nplatform %s | %s\ndevice %s | %s\ndriver %s\n"
      "options %s" SOURCE_MARK "%s";
  int n =
      snprintf(NULL, 0, fmt, CACHE_FORMAT, NNCL_VERSION_STRING, d->platform_name,
               d->platform_version, d->name, d->version, d->driver_version, options, source_text);
  char *key = n > 0 ? malloc((size_t)n + 1) : NULL;
  if (!key) return NULL;
  snprintf(key, (size_t)n + 1, fmt, CACHE_FORMAT, NNCL_VERSION_STRING, d->platform_name,
           d->platform_version, d->name, d->version, d->driver_version, options, source_text);
  return key;
}

const char *disk_cache_key_source(const char *key) {
  const char *p = strstr(key, SOURCE_MARK);
  return p ? p + strlen(SOURCE_MARK) : key;
}

void disk_cache_path(const nncl_context *ctx, const char *key, char *out, size_t n) {
  char hex[33];
  nncl__hash_hex(key, strlen(key), hex);
  snprintf(out, n, "%s/%s.clbin", ctx->cache_dir, hex);
}

int nncl__mkdirs(const char *dir) {
  char path[1024];
  snprintf(path, sizeof path, "%s", dir);
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(path, 0755) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  if (mkdir(path, 0755) != 0 && errno != EEXIST) return -1;
  return 0;
}

static unsigned char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *buf = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long n = ftell(f);
    rewind(f);
    if (n > 0 && (buf = malloc((size_t)n)) != NULL) {
      if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
      } else {
        *len = (size_t)n;
      }
    }
  }
  fclose(f);
  return buf;
}

static int get_u64(const unsigned char *buf, size_t len, size_t *pos, uint64_t *v) {
  if (len - *pos < 8 || *pos > len) return -1;
  memcpy(v, buf + *pos, 8);
  *pos += 8;
  return 0;
}

static nncl_status reject(nncl_context *ctx, const char *path, const char *why) {
  ctx->stats.disk_cache_rejects++;
  nncl__log(ctx, NNCL_LOG_WARN, "program cache file %s rejected (%s); rebuilding", path, why);
  return NNCL_ERR_FORMAT;
}

/* What can be checked of a binary before the driver sees it: a driver may assert (and so abort
   the process) on a malformed one, as PoCL's pocl_binary_deserialize does, so a file whose
   checksum is valid but whose binary was zeroed or cut must be caught here. NULL when plausible. */
static const char *binary_implausible(const nncl_context *ctx, const unsigned char *bin,
                                      size_t len) {
  size_t nonzero = 0;
  for (size_t i = 0; i < len && !nonzero; i++) nonzero = bin[i] != 0;
  if (!nonzero) return "binary is all zeros";
  /* PoCL's binaries start with the 8-byte id "poclbin" and a fixed header (device id, version,
     kernel count): anything shorter or differently marked is not one */
  if (strstr(ctx->info.platform_name, "Portable Computing Language") &&
      (len < 8 + 8 + 4 + 4 || memcmp(bin, "poclbin", 8) != 0))
    return "not a PoCL binary (no poclbin header)";
  return NULL;
}

/* A marker "<file>.loading" holding our pid exists while the driver loads a cached binary. If a
   driver abort kills the process mid-load, the marker stays behind with a dead pid and the next
   process removes the binary instead of loading it again. Returns 1 when the marker is ours
   (remove it after loading), 0 when another live process is loading the same file, -1 when a
   process died loading it. */
static int mark_loading(const char *marker) {
  for (int attempt = 0; attempt < 2; attempt++) {
    int fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      char pid[32];
      int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
      int ok = write(fd, pid, (size_t)n) == n;
      close(fd);
      return ok ? 1 : 0;
    }
    if (errno != EEXIST) return 0; /* cannot mark (read-only cache): load unguarded */
    FILE *f = fopen(marker, "r");
    long other = 0;
    if (f) {
      if (fscanf(f, "%ld", &other) != 1) other = 0;
      fclose(f);
    }
    if (other > 0 && (kill((pid_t)other, 0) == 0 || errno == EPERM)) return 0;
    if (other > 0) return -1;
    /* a marker being written right now, or garbage: treat an empty one as stale once */
    remove(marker);
  }
  return 0;
}

nncl_status disk_cache_load(nncl_context *ctx, const char *key, cl_program *out) {
  if (!ctx->cache_dir[0]) return NNCL_ERR_NOT_FOUND;
  char path[1200];
  disk_cache_path(ctx, key, path, sizeof path);
  size_t len = 0;
  unsigned char *buf = read_all(path, &len);
  if (!buf) return access(path, F_OK) == 0 ? reject(ctx, path, "unreadable") : NNCL_ERR_NOT_FOUND;
  nncl_status st = NNCL_ERR_FORMAT;
  size_t pos = 8;
  uint64_t klen = 0, blen = 0, sum = 0;
  size_t key_len = strlen(key);
  if (len < 8 + 8 + 8 + 8 || memcmp(buf, CACHE_MAGIC, 8) != 0) {
    st = reject(ctx, path, "bad magic or truncated");
  } else if (get_u64(buf, len, &pos, &klen) || klen != key_len || len - pos < klen + 16) {
    st = reject(ctx, path, "stale key or truncated");
  } else if (memcmp(buf + pos, key, key_len) != 0) {
    st = reject(ctx, path, "key mismatch");
  } else {
    pos += klen;
    get_u64(buf, len, &pos, &blen);
    if (blen == 0 || len - pos != blen + 8) {
      st = reject(ctx, path, "truncated binary");
    } else {
      const unsigned char *bin = buf + pos;
      memcpy(&sum, buf + pos + blen, 8);
      const char *bad = binary_implausible(ctx, bin, (size_t)blen);
      char marker[1300];
      snprintf(marker, sizeof marker, "%s.loading", path);
      int sum_ok = sum == XXH64(buf, pos + blen, 0);
      int mark = sum_ok && !bad ? mark_loading(marker) : 0;
      if (!sum_ok) {
        st = reject(ctx, path, "checksum mismatch");
      } else if (bad) {
        st = reject(ctx, path, bad);
        remove(path);
      } else if (mark < 0) {
        st = reject(ctx, path, "a process died while its driver loaded this binary");
        remove(path);
        remove(marker);
      } else {
        cl_int err, bin_status = CL_SUCCESS;
        size_t bl = (size_t)blen;
        cl_program prog =
            clCreateProgramWithBinary(ctx->cl, 1, &ctx->device, &bl, &bin, &bin_status, &err);
        if (err == CL_SUCCESS && bin_status == CL_SUCCESS)
          err = clBuildProgram(prog, 1, &ctx->device, NULL, NULL, NULL);
        else if (err == CL_SUCCESS)
          err = bin_status;
        if (mark > 0) remove(marker);
        if (err == CL_SUCCESS) {
          *out = prog;
          st = NNCL_OK;
        } else {
          if (prog) clReleaseProgram(prog);
          st = reject(ctx, path, nncl_cl_error_name(err));
          remove(path); /* refused once: never offered to the driver again */
        }
      }
    }
  }
  free(buf);
  return st;
}

void disk_cache_store(nncl_context *ctx, const char *key, cl_program prog) {
  if (!ctx->cache_dir[0]) return;
  size_t bin_len = 0;
  if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof bin_len, &bin_len, NULL) !=
          CL_SUCCESS ||
      bin_len == 0)
    return;
  uint64_t klen = strlen(key), blen = bin_len;
  size_t total = 8 + 8 + klen + 8 + blen + 8;
  unsigned char *buf = malloc(total);
  if (!buf) return;
  size_t pos = 0;
  memcpy(buf, CACHE_MAGIC, 8);
  pos = 8;
  memcpy(buf + pos, &klen, 8);
  pos += 8;
  memcpy(buf + pos, key, klen);
  pos += klen;
  memcpy(buf + pos, &blen, 8);
  pos += 8;
  unsigned char *bin = buf + pos;
  if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) != CL_SUCCESS) {
    free(buf);
    return;
  }
  pos += blen;
  uint64_t sum = XXH64(buf, pos, 0);
  memcpy(buf + pos, &sum, 8);
  char path[1200], tmp[1300];
  disk_cache_path(ctx, key, path, sizeof path);
  snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
  if (nncl__mkdirs(ctx->cache_dir) != 0) {
    nncl__log(ctx, NNCL_LOG_WARN, "cannot create program cache directory %s", ctx->cache_dir);
    free(buf);
    return;
  }
  FILE *f = fopen(tmp, "wb");
  int ok = f && fwrite(buf, 1, total, f) == total;
  if (f && fclose(f) != 0) ok = 0;
  if (ok && rename(tmp, path) != 0) ok = 0;
  if (!ok) {
    remove(tmp);
    nncl__log(ctx, NNCL_LOG_WARN, "cannot write program cache file %s", path);
  }
  free(buf);
}
