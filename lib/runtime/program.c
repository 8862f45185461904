/* program.c: builds OpenCL programs on first use from embedded (or $NNCL_KERNEL_DIR) sources with
   their #include "common/..." lines spliced in, and keeps them in a per-context memory cache in
   front of the on-disk binary cache (disk_cache.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk_cache.h"
#include "runtime.h"

struct kernel_entry {
  char *name;
  cl_kernel kernel;
};

struct program_entry {
  char *source;
  char *options;
  cl_program program;
  struct kernel_entry *kernels;
  size_t n_kernels;
};

struct program_cache {
  struct program_entry *entries;
  size_t count, cap;
};

void nncl__program_cache_free(nncl_context *ctx) {
  struct program_cache *pc = ctx->programs;
  if (!pc) return;
  for (size_t i = 0; i < pc->count; i++) {
    struct program_entry *e = &pc->entries[i];
    for (size_t k = 0; k < e->n_kernels; k++) {
      clReleaseKernel(e->kernels[k].kernel);
      free(e->kernels[k].name);
    }
    free(e->kernels);
    if (e->program) clReleaseProgram(e->program);
    free(e->source);
    free(e->options);
  }
  free(pc->entries);
  free(pc);
  ctx->programs = NULL;
}

static char *read_file_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) != 0) {
    fclose(f);
    return NULL;
  }
  long n = ftell(f);
  rewind(f);
  char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  if (buf) buf[n] = 0;
  fclose(f);
  return buf;
}

/* Raw text of kernels/<name> (name has its ".cl"), from disk when $NNCL_KERNEL_DIR is set. */
static char *raw_source(nncl_context *ctx, const char *name) {
  if (ctx->kernel_dir[0]) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", ctx->kernel_dir, name);
    return read_file_text(path);
  }
  const char *s = nncl__embedded_source(name);
  return s ? strdup(s) : NULL;
}

struct text {
  char *p;
  size_t len, cap;
};

static int text_add(struct text *t, const char *s, size_t n) {
  if (t->len + n + 1 > t->cap) {
    size_t cap = (t->len + n + 1) * 2;
    char *p = realloc(t->p, cap);
    if (!p) return -1;
    t->p = p;
    t->cap = cap;
  }
  memcpy(t->p + t->len, s, n);
  t->len += n;
  t->p[t->len] = 0;
  return 0;
}

/* Splices `#include "x.cl"` lines (each file once) so the source hash covers everything the
   compiler sees and no include path is needed at run time. */
static nncl_status expand(nncl_context *ctx, const char *name, struct text *out, char **seen,
                          int *n_seen, int depth) {
  for (int i = 0; i < *n_seen; i++)
    if (strcmp(seen[i], name) == 0) return NNCL_OK;
  if (depth > 8 || *n_seen >= 32)
    return nncl__error(ctx, NNCL_ERR_KERNEL_NOT_FOUND, "kernels/%s: includes nested too deeply",
                       name);
  char *src = raw_source(ctx, name);
  if (!src)
    return nncl__error(ctx, NNCL_ERR_KERNEL_NOT_FOUND, "kernel source kernels/%s not found%s%s",
                       name, ctx->kernel_dir[0] ? " in NNCL_KERNEL_DIR=" : "", ctx->kernel_dir);
  seen[(*n_seen)++] = strdup(name);
  nncl_status st = NNCL_OK;
  char *line = src;
  while (*line && st == NNCL_OK) {
    char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line + 1) : strlen(line);
    char inc[256];
    if (sscanf(line, " #include \"%255[^\"]\"", inc) == 1) {
      st = expand(ctx, inc, out, seen, n_seen, depth + 1);
      if (st == NNCL_OK && text_add(out, "\n", 1)) st = NNCL_ERR_OUT_OF_HOST_MEMORY;
    } else if (text_add(out, line, n)) {
      st = NNCL_ERR_OUT_OF_HOST_MEMORY;
    }
    line += n;
  }
  free(src);
  return st;
}

static nncl_status full_source(nncl_context *ctx, const char *source, char **out) {
  char name[512];
  snprintf(name, sizeof name, "%s.cl", source);
  struct text t = {0};
  char *seen[32];
  int n_seen = 0;
  nncl_status st = expand(ctx, name, &t, seen, &n_seen, 0);
  for (int i = 0; i < n_seen; i++) free(seen[i]);
  if (st != NNCL_OK) {
    free(t.p);
    return st;
  }
  *out = t.p;
  return NNCL_OK;
}

static nncl_status build_log_error(nncl_context *ctx, cl_program prog, cl_int err,
                                   const char *source, const char *options) {
  size_t len = 0;
  clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len);
  char *log = malloc(len + 1);
  if (log) {
    log[0] = 0;
    clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, len, log, NULL);
    log[len] = 0;
  }
  nncl__error(ctx, NNCL_ERR_BUILD_FAILED,
              "building kernels/%s.cl with options \"%s\" for %s failed: %s (%d)\n%s", source,
              options, ctx->info.name, nncl_cl_error_name(err), (int)err, log ? log : "");
  ctx->last_cl_error = err;
  free(log);
  return NNCL_ERR_BUILD_FAILED;
}

/* A successful build's compiler output (warnings), for the log callback only: the library never
   prints, and the CLI shows it with --verbose. */
static void log_build_output(nncl_context *ctx, cl_program prog, const char *source) {
  size_t len = 0;
  if (!ctx->log_fn ||
      clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) != CL_SUCCESS ||
      len < 2)
    return;
  char *log = malloc(len + 1);
  if (!log) return;
  if (clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, len, log, NULL) ==
      CL_SUCCESS) {
    log[len] = 0;
    size_t n = strlen(log);
    while (n && (log[n - 1] == '\n' || log[n - 1] == ' ')) log[--n] = 0;
    if (n) nncl__log(ctx, NNCL_LOG_DEBUG, "build log of kernels/%s.cl:\n%s", source, log);
  }
  free(log);
}

static nncl_status compile(nncl_context *ctx, const char *source, const char *text,
                           const char *options, cl_program *out) {
  cl_int err;
  const char *srcs[] = {text};
  cl_program prog = clCreateProgramWithSource(ctx->cl, 1, srcs, NULL, &err);
  if (err != CL_SUCCESS)
    return nncl__cl_error(ctx, err, "clCreateProgramWithSource(kernels/%s.cl)", source);
  /* The compiler writes "N warnings generated." straight to the process's stderr (PoCL/clang:
     AVX-512 ABI notes about float16 vectors on every CPU without it), and the library must not
     print. -w (an OpenCL build option) silences warnings; it is not part of the cache key, as it
     changes no code. Kernel developers (NNCL_KERNEL_DIR) keep their warnings. */
  const int quiet = !ctx->kernel_dir[0];
  char *build_options = malloc(strlen(options) + 4);
  if (!build_options) {
    clReleaseProgram(prog);
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "build options of kernels/%s.cl", source);
  }
  snprintf(build_options, strlen(options) + 4, "%s%s", options,
           quiet ? (*options ? " -w" : "-w") : "");
  err = clBuildProgram(prog, 1, &ctx->device, build_options, NULL, NULL);
  free(build_options);
  if (err != CL_SUCCESS) {
    nncl_status st = build_log_error(ctx, prog, err, source, options);
    clReleaseProgram(prog);
    return st;
  }
  ctx->stats.program_builds++;
  nncl__log(ctx, NNCL_LOG_INFO, "compiled kernels/%s.cl [%s]", source, options);
  log_build_output(ctx, prog, source);
  *out = prog;
  return NNCL_OK;
}

static nncl_status program_get(nncl_context *ctx, const char *source, const char *options,
                               struct program_entry **out) {
  if (!ctx->programs) {
    ctx->programs = calloc(1, sizeof *ctx->programs);
    if (!ctx->programs) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "program cache");
  }
  struct program_cache *pc = ctx->programs;
  for (size_t i = 0; i < pc->count; i++) {
    struct program_entry *e = &pc->entries[i];
    if (strcmp(e->source, source) == 0 && strcmp(e->options, options) == 0) {
      ctx->stats.program_memory_hits++;
      *out = e;
      return NNCL_OK;
    }
  }
  const nncl_context *root = ctx->root ? ctx->root : ctx;
  if (root->build_fail_hook && root->build_fail_hook(ctx, source, root->build_fail_user))
    return nncl__error(
        ctx, NNCL_ERR_BUILD_FAILED,
        "building kernels/%s.cl with options \"%s\" for %s failed: "
        "CL_BUILD_PROGRAM_FAILURE (-11)\nerror: build failure injected by a test hook",
        source, options, ctx->info.name);
  double t0 = nncl__now_ns();
  char *text = NULL;
  NNCL_TRY(full_source(ctx, source, &text));
  char *key = disk_cache_key(ctx, text, options);
  free(text);
  if (!key) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "program cache key");
  cl_program prog = NULL;
  nncl_status st = NNCL_OK;
  if (disk_cache_load(ctx, key, &prog) == NNCL_OK) {
    ctx->stats.program_disk_hits++;
  } else {
    /* The key holds the full source text after its header; compile from there. */
    st = compile(ctx, source, disk_cache_key_source(key), options, &prog);
    if (st == NNCL_OK) disk_cache_store(ctx, key, prog);
  }
  free(key);
  if (st != NNCL_OK) return st;
  ctx->stats.build_seconds += (nncl__now_ns() - t0) * 1e-9;
  if (pc->count == pc->cap) {
    size_t cap = pc->cap ? pc->cap * 2 : 16;
    struct program_entry *n = realloc(pc->entries, cap * sizeof *n);
    if (!n) {
      clReleaseProgram(prog);
      return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "program cache");
    }
    pc->entries = n;
    pc->cap = cap;
  }
  struct program_entry *e = &pc->entries[pc->count];
  memset(e, 0, sizeof *e);
  e->source = strdup(source);
  e->options = strdup(options);
  e->program = prog;
  if (!e->source || !e->options) {
    free(e->source);
    free(e->options);
    clReleaseProgram(prog);
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "program cache");
  }
  pc->count++;
  *out = e;
  return NNCL_OK;
}

nncl_status nncl__kernel_get(nncl_context *ctx, const char *source, const char *options,
                             const char *kernel_name, cl_kernel *out) {
  if (!ctx || !source || !kernel_name || !out) return NNCL_ERR_INVALID_ARGUMENT;
  if (!options) options = "";
  if (ctx->plan_dry) { /* the plan is read, never run: its launches return before using k */
    *out = NULL;
    return NNCL_OK;
  }
  struct program_entry *e = NULL;
  NNCL_TRY(program_get(ctx, source, options, &e));
  for (size_t i = 0; i < e->n_kernels; i++)
    if (strcmp(e->kernels[i].name, kernel_name) == 0) {
      *out = e->kernels[i].kernel;
      return NNCL_OK;
    }
  cl_int err;
  cl_kernel k = clCreateKernel(e->program, kernel_name, &err);
  if (err != CL_SUCCESS) {
    if (err == CL_INVALID_KERNEL_NAME)
      return nncl__error(ctx, NNCL_ERR_KERNEL_NOT_FOUND, "kernel %s not found in kernels/%s.cl",
                         kernel_name, source);
    return nncl__cl_error(ctx, err, "clCreateKernel(%s in kernels/%s.cl)", kernel_name, source);
  }
  struct kernel_entry *n = realloc(e->kernels, (e->n_kernels + 1) * sizeof *n);
  char *name = strdup(kernel_name);
  if (!n || !name) {
    if (n) e->kernels = n;
    free(name);
    clReleaseKernel(k);
    return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "kernel cache");
  }
  e->kernels = n;
  e->kernels[e->n_kernels].name = name;
  e->kernels[e->n_kernels].kernel = k;
  e->n_kernels++;
  *out = k;
  return NNCL_OK;
}
