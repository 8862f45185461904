/* runtime.h: the library-internal view of a context: OpenCL handles, error recording, program
   and kernel lookup, kernel launch, device buffers, CLBlast calls. Every layer above calls this. */
#ifndef NNCL_RUNTIME_H
#define NNCL_RUNTIME_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "nncl/context.h"
#include "nncl/tensor.h"
#include "options.h"
#include "checked.h"

struct program_cache;   /* program.c */
struct nncl__gemm_memo; /* gemm_engine.c */
struct prof_session;    /* profiling records, see prof_record below */

/* One profiled kernel or transfer (kept only while a profiling session is active). */
struct prof_record {
  cl_event event;
  const char *kernel; /* kernel or CLBlast routine name (static string) */
  int node;           /* executor node index (ctx->current_node at launch), -1 outside a graph */
  double host_enqueue_ns; /* host wall clock when enqueued, relative to session start */
  double host_enqueue_dur_ns;
};

struct nncl_context {
  nncl_device_info info;
  cl_platform_id platform;
  cl_device_id device;
  cl_context cl;
  cl_command_queue queue;
  char cache_dir[1024];  /* "" when the disk cache is off */
  char kernel_dir[1024]; /* $NNCL_KERNEL_DIR, read .cl files from disk when set */
  struct program_cache *programs;
  /* defaults for every graph on this context (options.def) */
  struct nncl__options options;
  nncl_stats stats;
  char last_error[4096];
  cl_int last_cl_error;
  nncl_log_fn log_fn;
  void *log_user;
  /* profiling: when prof_enabled, every launch records an event in prof[]. */
  bool prof_enabled;
  struct prof_record *prof;
  size_t prof_count, prof_cap;
  double prof_t0_ns;
  int current_node;
  /* Graphs and tensors made on this context that are still alive. nncl_context_destroy with
     objects alive only marks the context destroyed (their calls then fail with NNCL_ERR_STATE)
     and the last object's destroy frees it, so a misordered destroy is never a use-after-free. */
  int n_objects;
  bool destroyed;
  /* matrix products: the choice per shape (measured once) and the packing scratch */
  struct nncl__gemm_memo *gemm_memo;
  /* Set while nncl_graph_plan_dry plans ops: nncl__kernel_get hands out NULL kernels without
     building, launches and GEMMs return at once, nothing is timed (choices are the remembered or
     heuristic ones, never stored). The plan it makes is read, never run. */
  bool plan_dry;
  /* Several devices (nncl_context_create_devices): dev[0] is the context the caller holds, dev[i]
     (i > 0) a child context per further device with its own queue, program cache and matrix
     memo, sharing the cl_context of the devices of its platform (so buffers and events cross
     between them). A child's root is dev[0]: errors and logs recorded on a child reach it. */
  struct nncl_context **dev;
  int n_dev;
  int dev_index;             /* position in root->dev */
  struct nncl_context *root; /* NULL on the context the caller holds */
  bool owns_cl;              /* this device created ctx->cl (the first of its platform) */
  /* where graphs put their nodes ("name:1,Conv:0", nncl_context_set_placement; root only) */
  char placement[1024];
  /* internal test hooks for placement costs and refusals (lib/graph/place_cost.h; root only) */
  const struct nncl__place_hooks *place_hooks;
  /* during a pipelined run (lib/graph/pipeline.c): the end of the previous batch on this
     device's queue, which a transfer waits for before overwriting what that batch still reads
     here; NULL otherwise */
  cl_event batch_fence;
  /* internal test hook (root only; NULL in normal use): nonzero makes building kernels/<source>.cl
     for device `dev` fail as a compiler error would, to test placement's fallback */
  int (*build_fail_hook)(const struct nncl_context *dev, const char *source, void *user);
  void *build_fail_user;
};

/* Device i of a context (0: ctx itself), NULL when out of range. */
static inline nncl_context *nncl__ctx_dev(nncl_context *ctx, int i) {
  return i == 0 ? ctx : i > 0 && i < ctx->n_dev ? ctx->dev[i] : NULL;
}

/* Every graph and tensor retains its context once and releases it when destroyed. */
void nncl__context_retain(nncl_context *ctx);
void nncl__context_release(nncl_context *ctx);
/* NNCL_OK, or NNCL_ERR_STATE naming `what` when ctx was destroyed while `what` was alive. */
nncl_status nncl__context_check_alive(nncl_context *ctx, const char *what);

/* cl ids of the device at `index` in nncl_devices_list order (device.c). */
nncl_status nncl__device_ids(int index, cl_platform_id *p, cl_device_id *d, char *msg,
                             size_t msg_len);

/* ---- errors (error.c) ---- */
/* Records the message as the context's last error and returns status. ctx may be NULL. */
nncl_status nncl__error(nncl_context *ctx, nncl_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records an OpenCL failure: "<what>: CL_OUT_OF_RESOURCES (-5)"; maps CL memory errors to
   NNCL_ERR_OUT_OF_DEVICE_MEMORY. */
nncl_status nncl__cl_error(nncl_context *ctx, cl_int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void nncl__log(nncl_context *ctx, nncl_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define NNCL_TRY(expr)                                                                             \
  do {                                                                                             \
    nncl_status nncl__try_s_ = (expr);                                                             \
    if (nncl__try_s_ != NNCL_OK) return nncl__try_s_;                                              \
  } while (0)

/* ---- files (safe_file.c) ---- */
/* Opens path for reading only when it is a regular file (never blocks on a FIFO); *size (may be
   NULL) receives its size. Errors name `what` and the path. */
nncl_status nncl__open_regular(nncl_context *ctx, const char *path, const char *what, FILE **out,
                               uint64_t *size);
/* NNCL_OK when path, with every symbolic link resolved, lies inside folder dir (also resolved). */
nncl_status nncl__path_inside(nncl_context *ctx, const char *path, const char *dir,
                              const char *what);

/* ---- programs and kernels (program.c, disk_cache.c, the generated embedded_kernels.c) ---- */
/* Returns a kernel `kernel_name` from kernels/<source>.cl built with `options` ("-D..." string,
   may be NULL). Built on first use, then served from memory or the disk cache. The kernel is
   owned by the context's cache: do not release it. Kernels are shared, so callers set every
   argument right before each launch (the queue is in-order and a context is single-threaded).
   While ctx->plan_dry, *out is NULL and nothing is built. */
nncl_status nncl__kernel_get(nncl_context *ctx, const char *source, const char *options,
                             const char *kernel_name, cl_kernel *out);
/* Embedded kernel sources (generated at build time from the files kernels/meson.build lists),
   by path relative to kernels/: "conv_direct.cl", "common/index.cl"; NULL when absent. */
const char *nncl__embedded_source(const char *name);
void nncl__program_cache_free(nncl_context *ctx);

/* ---- launches (launch.c) ---- */
struct nncl__karg {
  size_t size;
  const void *ptr; /* NULL with size > 0 means __local memory of that many bytes */
};
#define NNCL_ARG(x) ((struct nncl__karg){sizeof(x), &(x)})
#define NNCL_LOCAL(bytes) ((struct nncl__karg){(bytes), NULL})
/* Sets all arguments and enqueues. Global sizes are rounded up to multiples of local sizes (kernels
   bound-check), so no OpenCL 2.0 non-uniform work-groups are needed. local may be NULL. `label` (a
   static string) names the launch in errors and profiles; NULL records it as "kernel". */
nncl_status nncl__launch_args(nncl_context *ctx, cl_kernel k, const char *label, cl_uint dims,
                              const size_t *global, const size_t *local, size_t nargs,
                              const struct nncl__karg *args);
#define NNCL_LAUNCH(ctx, k, label, dims, global, local, ...)                                       \
  nncl__launch_args((ctx), (k), (label), (dims), (global), (local),                                \
                    sizeof((const struct nncl__karg[]){__VA_ARGS__}) / sizeof(struct nncl__karg),  \
                    (const struct nncl__karg[]){__VA_ARGS__})
/* Returns the event slot for an enqueue made outside nncl__launch_args (CLBlast, copies): NULL when
   not profiling, else a slot the caller passes as the event argument. Call nncl__prof_commit after. */
cl_event *nncl__prof_slot(nncl_context *ctx, const char *label);
void nncl__prof_commit(nncl_context *ctx, cl_event *slot, cl_int enqueue_status);
double nncl__now_ns(void);
/* Median wall time of `runs` rounds of fn, each waited for with clFinish, after `warmup` rounds
   (timing.c). */
nncl_status nncl__time_median(nncl_context *ctx, int warmup, int runs, nncl_status (*fn)(void *),
                              void *arg, double *median_s);
/* The same rounds' fastest time: what plan-time choices compare, since on a shared machine load
   only ever adds time, and one preempted round must not flip a choice that is then stored. */
nncl_status nncl__time_fastest(nncl_context *ctx, int warmup, int runs, nncl_status (*fn)(void *),
                               void *arg, double *fastest_s);

/* ---- buffers (buffer.c) ---- */
nncl_status nncl__buffer_create(nncl_context *ctx, size_t bytes, const char *what, cl_mem *out);
nncl_status nncl__buffer_upload(nncl_context *ctx, cl_mem dst, size_t offset, const void *src,
                                size_t bytes);
nncl_status nncl__buffer_download(nncl_context *ctx, cl_mem src, size_t offset, void *dst,
                                  size_t bytes);
nncl_status nncl__buffer_copy(nncl_context *ctx, cl_mem src, size_t src_off, cl_mem dst,
                              size_t dst_off, size_t bytes);
nncl_status nncl__buffer_fill_zero(nncl_context *ctx, cl_mem dst, size_t offset, size_t bytes);
/* Creates a buffer holding a copy of host data. */
nncl_status nncl__buffer_from_host(nncl_context *ctx, const void *src, size_t bytes,
                                   const char *what, cl_mem *out);
/* Host arrays (nncl_array_alloc) start at this alignment, the common
   CL_DEVICE_MEM_BASE_ADDR_ALIGN, so a device can use them in place. */
#define NNCL_ARRAY_ALIGN 128
/* A buffer for read-only data that outlives it: on a device with host-unified memory and src
   aligned to CL_DEVICE_MEM_BASE_ADDR_ALIGN, the buffer is src itself (CL_MEM_USE_HOST_PTR, no
   copy; counted in stats.host_buffers); otherwise a copy as nncl__buffer_from_host makes. src
   must stay allocated and unchanged until the buffer is released. */
nncl_status nncl__buffer_over_host(nncl_context *ctx, const void *src, size_t bytes,
                                   const char *what, cl_mem *out);
/* A host block aligned to NNCL_ARRAY_ALIGN (size rounded up to it), for data that
   nncl__buffer_adopt hands to the device; NULL when out of memory. Freed by free(). The caller
   writes every one of its `bytes` (they are not cleared: that would be a second pass over every
   transformed weight); the rounding past them is zeroed. */
void *nncl__host_alloc(size_t bytes);
/* A buffer made from a host block the caller gives away (from nncl__host_alloc), such as weights
   transformed at plan time: with in_place on a device with host-unified memory, the buffer is the
   block itself (CL_MEM_USE_HOST_PTR, counted in stats.host_buffers), freed by the buffer's
   destructor callback, so plan time pays neither a device allocation nor a copy; otherwise a
   copy (nncl__buffer_from_host) and the block is freed at once. data is freed on every path,
   errors included. */
nncl_status nncl__buffer_adopt(nncl_context *ctx, void *data, size_t bytes, int in_place,
                               const char *what, cl_mem *out);
void nncl__buffer_release(cl_mem m);

/* IEEE float16 bits of f rounded to nearest even (as vstore_half), and back (half.c). */
uint16_t nncl__half_from_float(float f);
float nncl__half_to_float(uint16_t h);

/* The dtype of an ONNX TensorProto.DataType code, the numbering models and the Cast / EyeLike
   attributes use (tensor.c); NNCL_UNDEFINED for types nncl does not hold. */
nncl_dtype nncl__dtype_from_onnx(int64_t code);
/* cl_mem behind a public tensor (tensor.c). */
cl_mem nncl__tensor_mem(const nncl_tensor *t);

/* ---- matrix products (gemm_engine.c: our kernels or CLBlast behind one call) ---- */
/* Implementations of a product. AUTO measures ours against CLBlast once per (device, shape) and
   remembers the faster (memory, then gemm_autotune.txt in the cache folder). */
/* In the order of the gemm.impl option's values (options.def), so the option's index is the enum. */
enum nncl__gemm_impl {
  NNCL_GEMM_AUTO,
  NNCL_GEMM_CLBLAST,
  NNCL_GEMM_PACKED, /* packed panels + register tiles (CPU-class devices) */
  NNCL_GEMM_GEMV,   /* M <= 8: streams B once */
  NNCL_GEMM_LOCAL,  /* local-memory tiles (GPUs) */
  NNCL_GEMM_IMPL_COUNT
};
const char *nncl__gemm_impl_name(int impl);

/* One (strided batched) row-major product C = epi(alpha op(A) op(B) + beta C + bias), offsets,
   leading dims and batch strides in elements (a stride 0 repeats the operand). The optional
   epilogue adds bias[bias_off + i * bias_rs + j * bias_cs] * bias_scale, then the activation and
   residual of `epi_options` (op_epilogue_options' string; res has C's layout). */
struct nncl__gemm {
  bool trans_a, trans_b;
  size_t m, n, k, batch; /* batch 0 means 1 */
  float alpha, beta;
  cl_mem a, b, c;
  size_t a_off, lda, a_stride, b_off, ldb, b_stride, c_off, ldc, c_stride;
  bool has_bias, has_res; /* what prepare sees (buffers may not exist yet at plan time) */
  cl_mem bias;
  size_t bias_off, bias_rs, bias_cs;
  float bias_scale;
  cl_mem res;
  size_t res_off;
  const char *epi_options; /* NULL or "": no activation, no residual */
  cl_mem b_packed;         /* B already in PACKED's panels (nncl__gemm_pack_b), or NULL */
  /* A (B) is a constant its caller packs at plan time when PACKED runs (nncl__gemm_pack_a/_b,
     gemm.prepack on): the choice then times PACKED without that operand's pack, as runs will be.
     Set it alike at plan and at run (it is part of the remembered choice's key). */
  bool a_const, b_const;
  /* A already in PACKED's row panels (nncl__gemm_pack_a), or NULL; with a_stride 0 one matrix of
     panels serves every batch item. prepare reads it as a flag (it selects the kernel form). */
  cl_mem a_packed;
  /* A, B, C, bias and residual are float16 (graph.precision's storage, kernels/common/storage.cl),
     arithmetic float: only PACKED has that form, so it always runs */
  bool half_storage;
};
/* What the choice for one shape was, and the two measured medians (0 when not measured). */
struct nncl__gemm_choice {
  int impl;
  double t_ours_s, t_clblast_s;
};
/* Plan-time half: chooses (timing both once when not known), builds the kernels and grows the
   packing scratch, so nncl__gemm_run for this shape neither builds nor allocates. The cl_mem
   fields of g are not read (they may be NULL). out may be NULL. */
nncl_status nncl__gemm_prepare(nncl_context *ctx, const struct nncl__gemm *g,
                               struct nncl__gemm_choice *out);
/* Plan-time packing of a B that never changes (a layer's weights, b_host laid out as g->b would
   hold it, b_bytes long): when g runs as PACKED, op(B) is packed once into a new buffer *out (the
   caller's) that runs pass as g->b_packed, so they launch no gemm_pack_b and re-read no raw B.
   *out is NULL when another implementation runs g, and in a dry plan. */
nncl_status nncl__gemm_pack_b(nncl_context *ctx, const struct nncl__gemm *g, const void *b_host,
                              size_t b_bytes, cl_mem *out);
/* The same for an A that never changes (a conv's or a MatMul's weights, a_host laid out as g->a
   would hold it): packed once into *out ([batch][ceil(M/MR)][K][MR], zero rows past M; one batch
   item when g->a_stride is 0), which runs pass as g->a_packed, so they launch no gemm_pack_a.
   *out is NULL when another implementation runs g, and in a dry plan. in_place (the graph's
   graph.host_weights): the pack reads a_host where it lies on host-unified devices, else a copy.
   Call it before nncl__gemm_prepare with g->a_packed set, so the scratch for A is not grown. */
nncl_status nncl__gemm_pack_a(nncl_context *ctx, const struct nncl__gemm *g, const void *a_host,
                              size_t a_bytes, bool in_place, cl_mem *out);
/* Rows MR of PACKED's A panels on this device. */
nncl_status nncl__gemm_panel_height(nncl_context *ctx, int *mr);
/* Columns NR of PACKED's B panels on this device: a caller that writes B straight into panels
   ([batch][ceil(N/NR)][K][NR], zero columns past N) passes that buffer as g->b_packed. */
nncl_status nncl__gemm_panel_width(nncl_context *ctx, int *nr);
/* Enqueues the product (prepares first when this shape was never prepared). */
nncl_status nncl__gemm_run(nncl_context *ctx, const struct nncl__gemm *g);
void nncl__gemm_memo_free(nncl_context *ctx);

/* Shorthands of nncl__gemm_run without epilogue (the historical call shape). */
nncl_status nncl__sgemm(nncl_context *ctx, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                        float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                        size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc);
nncl_status nncl__sgemm_strided_batched(nncl_context *ctx, bool trans_a, bool trans_b, size_t m,
                                        size_t n, size_t k, float alpha, cl_mem a, size_t a_off,
                                        size_t lda, size_t a_stride, cl_mem b, size_t b_off,
                                        size_t ldb, size_t b_stride, float beta, cl_mem c,
                                        size_t c_off, size_t ldc, size_t c_stride, size_t batch);

/* ---- CLBlast (blas.c) ---- */
/* Strided batched row-major SGEMM through CLBlast (batch 1 calls plain Sgemm). */
nncl_status nncl__clblast_sgemm(nncl_context *ctx, bool trans_a, bool trans_b, size_t m, size_t n,
                                size_t k, float alpha, cl_mem a, size_t a_off, size_t lda,
                                size_t a_stride, cl_mem b, size_t b_off, size_t ldb,
                                size_t b_stride, float beta, cl_mem c, size_t c_off, size_t ldc,
                                size_t c_stride, size_t batch);

/* ---- remembered choices (tune_store.c) ---- */
/* "key value" lines in <cache dir>/<file>: the value of the last line for key, or false when
   there is none (no cache folder, no file, no line). */
bool nncl__tune_lookup(nncl_context *ctx, const char *file, const char *key, char *value,
                       size_t value_len);
/* Replaces key's line (temp file + rename, so a crash never leaves half a file); silently does
   nothing when the cache folder is off or not writable: remembering is optional. */
void nncl__tune_store(nncl_context *ctx, const char *file, const char *key, const char *value);
/* "<device name>|<version>|<driver>" with blanks as '_', the device part of every key. */
void nncl__tune_device_key(const nncl_context *ctx, char *buf, size_t len);

/* ---- hashing (hash.c, xxhash) ---- */
/* 128-bit hash of a byte string as 32 hex characters + NUL. */
void nncl__hash_hex(const void *data, size_t len, char out[33]);

#endif
