/* gemm_engine.c: the one matrix-product entry point. Every product of the library (Gemm, MatMul,
   Einsum, 1x1/im2col convolution, ConvTranspose, RNN projections, attention) comes here; for each
   (device, shape) it runs either our kernels (kernels/gemm.cl) or CLBlast, whichever was measured
   faster the first time the shape was seen. The choice is kept in memory on the context and in
   gemm_autotune.txt next to the program cache (tune_store.c), so later processes do not measure
   again. Our kernels also apply the fused epilogue in their stores; after CLBlast it is one pass
   more (kernels/gemm_epilogue.cl). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

#define MEMO_FILE "gemm_autotune.txt"
/* Part of every remembered key: bump it when a kernel changes enough to change the choice. */
#define GEMM_TUNE_VERSION 2
#define GEMV_MAX_M 8

struct memo_entry {
  bool ta, tb, ac, bc; /* ac/bc: const_packs()'s flags */
  size_t m, n, k, batch;
  struct nncl__gemm_choice choice;
};

struct nncl__gemm_memo {
  struct memo_entry *e;
  size_t count, cap;
  cl_mem ws_a, ws_b; /* packing scratch of PACKED, grown by prepare only */
  size_t ws_a_bytes, ws_b_bytes;
  int mr, nr;            /* register tile from the device's preferred vector width */
  unsigned clblast_warm; /* bit (ta, tb, batched): CLBlast compiled that routine already */
};

const char *nncl__gemm_impl_name(int impl) {
  static const char *const names[NNCL_GEMM_IMPL_COUNT] = {"auto", "clblast", "packed", "gemv",
                                                          "local"};
  return impl >= 0 && impl < NNCL_GEMM_IMPL_COUNT ? names[impl] : "unknown";
}

static int impl_from_name(const char *name) {
  for (int i = 1; i < NNCL_GEMM_IMPL_COUNT; i++)
    if (strcmp(nncl__gemm_impl_name(i), name) == 0) return i;
  return -1;
}

void nncl__gemm_memo_free(nncl_context *ctx) {
  struct nncl__gemm_memo *mm = ctx->gemm_memo;
  if (!mm) return;
  nncl__buffer_release(mm->ws_a);
  nncl__buffer_release(mm->ws_b);
  free(mm->e);
  free(mm);
  ctx->gemm_memo = NULL;
}

static nncl_status memo_get(nncl_context *ctx, struct nncl__gemm_memo **out) {
  if (!ctx->gemm_memo) {
    struct nncl__gemm_memo *mm = calloc(1, sizeof *mm);
    if (!mm) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "GEMM choice table");
    /* Two vectors of the preferred width per row (two AVX2 registers on PoCL's haswell target),
       6 rows: 12 accumulators + 2 B vectors + 1 broadcast of the 16 registers; devices with
       16-wide vectors (AVX-512: 32 registers) take 12 rows of one vector. */
    cl_uint w = 0;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof w, &w, NULL) !=
            CL_SUCCESS ||
        w == 0)
      w = 4;
    mm->nr = w >= 8 ? 16 : 2 * (int)w < 4 ? 4 : 2 * (int)w;
    mm->mr = w >= 16 ? 12 : 6;
    ctx->gemm_memo = mm;
  }
  *out = ctx->gemm_memo;
  return NNCL_OK;
}

static size_t batch_of(const struct nncl__gemm *g) { return g->batch ? g->batch : 1; }

static bool has_epilogue(const struct nncl__gemm *g) {
  return g->has_bias || g->has_res || (g->epi_options && *g->epi_options);
}

/* CLBlast computes alpha op(A) op(B) + beta C only; a bias or epilogue is a pass after it over a
   contiguous C, which gemm_epilogue.cl handles for one matrix at offset 0. */
static bool clblast_eligible(const struct nncl__gemm *g) {
  if (!has_epilogue(g)) return true;
  return batch_of(g) == 1 && g->c_off == 0 && g->ldc == g->n && g->bias_off == 0 &&
         g->res_off == 0 && g->bias_rs <= 0x7fffffff && g->bias_cs <= 0x7fffffff;
}

/* Our implementation for the shape: the skinny path for few rows, else by device type. */
static int our_impl(const nncl_context *ctx, const struct nncl__gemm *g) {
  if (g->half_storage) return NNCL_GEMM_PACKED;
  if (g->m <= GEMV_MAX_M) return NNCL_GEMM_GEMV;
  return ctx->info.is_gpu ? NNCL_GEMM_LOCAL : NNCL_GEMM_PACKED;
}

/* The gemm.impl option as enum nncl__gemm_impl (its values are listed in the enum's order). */
static int option_impl(const nncl_context *ctx) {
  const char *v = nncl__option_value(&ctx->options, NNCL__OPT_GEMM_IMPL);
  return strcmp(v, "auto") == 0 ? NNCL_GEMM_AUTO : impl_from_name(v);
}

/* A forced implementation where it can run the shape, else ours. */
static int forced_impl(const nncl_context *ctx, const struct nncl__gemm *g) {
  int f = option_impl(ctx);
  if (f == NNCL_GEMM_CLBLAST && !clblast_eligible(g)) return our_impl(ctx, g);
  if (f == NNCL_GEMM_GEMV && g->m > GEMV_MAX_M) return our_impl(ctx, g);
  if (f <= NNCL_GEMM_AUTO || f >= NNCL_GEMM_IMPL_COUNT) return our_impl(ctx, g);
  return f;
}

/* Bytes of the packed panels of A and of B. */
static size_t packed_a_bytes(const struct nncl__gemm_memo *mm, const struct nncl__gemm *g) {
  size_t mp = (g->m + (size_t)mm->mr - 1) / (size_t)mm->mr;
  return batch_of(g) * g->k * mp * (size_t)mm->mr * sizeof(float);
}
static size_t packed_b_bytes(const struct nncl__gemm_memo *mm, const struct nncl__gemm *g) {
  size_t np = (g->n + (size_t)mm->nr - 1) / (size_t)mm->nr;
  return batch_of(g) * g->k * np * (size_t)mm->nr * sizeof(float);
}

/* Whether A (bit 0) and B (bit 1) of g are packed at plan time rather than in every run: the
   choice is timed that way and remembered apart. */
static int const_packs(const nncl_context *ctx, const struct nncl__gemm *g) {
  if (!nncl__option_on(&ctx->options, NNCL__OPT_GEMM_PREPACK)) return 0;
  return (g->a_const ? 1 : 0) | (g->b_const ? 2 : 0);
}

static nncl_status grow(nncl_context *ctx, cl_mem *buf, size_t *have, size_t need) {
  if (need <= *have) return NNCL_OK;
  nncl__buffer_release(*buf);
  *buf = NULL;
  *have = 0;
  NNCL_TRY(nncl__buffer_create(ctx, need, "GEMM packing scratch", buf));
  *have = need;
  return NNCL_OK;
}

/* Work-group side of gemm_local: 16 x 16 unless the device allows fewer items. */
static int local_ts(const nncl_context *ctx) {
  return ctx->info.max_work_group_size >= 256 ? 16 : 8;
}

/* gemm_gemv without TRANS_B: 16-wide vectors per item. More make each row's read longer and
   contiguous (the hardware prefetcher follows it), as long as GV x M accumulators fit the
   registers. */
static int gemv_vectors(const struct nncl__gemm *g) { return g->m <= 2 ? 4 : g->m <= 4 ? 2 : 1; }

/* gemm_tile's order: row panels first when all of packed A is smaller than packed B, so each B
   panel is read from memory once by consecutive work-groups while A stays in cache (an MLP's
   64 rows against 4096 x 4096 weights); else column panels first. */
static int rows_first(const struct nncl__gemm_memo *mm, const struct nncl__gemm *g) {
  return packed_a_bytes(mm, g) < packed_b_bytes(mm, g);
}

/* gemm_tile reads one matrix of A panels for every batch item: a constant A packed at plan time
   with batch stride 0 (a conv's weights over its images) is packed once, not once per item. */
static int a_shared(const struct nncl__gemm *g) { return g->a_packed && g->a_stride == 0; }

static void kernel_options(const nncl_context *ctx, const struct nncl__gemm_memo *mm,
                           const struct nncl__gemm *g, int impl, char *buf, size_t len) {
  int mr = impl == NNCL_GEMM_GEMV ? (int)g->m : mm->mr;
  int nr = impl == NNCL_GEMM_GEMV ? 16 : mm->nr;
  snprintf(buf, len,
           "-DMR=%d -DNR=%d -DGV=%d -DTRANS_A=%d -DTRANS_B=%d -DBETA_NZ=%d -DHAS_BIAS=%d -DTS=%d "
           "-DRPT=4 -DROWS_FIRST=%d -DA_SHARED=%d %s%s",
           mr, nr, gemv_vectors(g), g->trans_a, g->trans_b, g->beta != 0.0f, g->has_bias,
           local_ts(ctx), impl == NNCL_GEMM_PACKED && rows_first(mm, g), a_shared(g),
           g->epi_options ? g->epi_options : "", g->half_storage ? " -DNNCL_HALF_STORE" : "");
}

/* The kernels of each implementation of ours, in launch order. */
static const char *const impl_kernels[NNCL_GEMM_IMPL_COUNT][3] = {
    [NNCL_GEMM_PACKED] = {"gemm_pack_a", "gemm_pack_b", "gemm_tile"},
    [NNCL_GEMM_GEMV] = {"gemm_gemv"},
    [NNCL_GEMM_LOCAL] = {"gemm_local"}};

/* Enqueues the product with our kernels (impl PACKED, GEMV or LOCAL). */
static nncl_status run_ours(nncl_context *ctx, const struct nncl__gemm *g, int impl) {
  struct nncl__gemm_memo *mm;
  NNCL_TRY(memo_get(ctx, &mm));
  char opts[512];
  kernel_options(ctx, mm, g, impl, opts, sizeof opts);
  const long a_off = (long)g->a_off, lda = (long)g->lda, a_st = (long)g->a_stride;
  const long b_off = (long)g->b_off, ldb = (long)g->ldb, b_st = (long)g->b_stride;
  const long c_off = (long)g->c_off, ldc = (long)g->ldc, c_st = (long)g->c_stride;
  const long bias_off = (long)g->bias_off, bias_rs = (long)g->bias_rs, bias_cs = (long)g->bias_cs;
  const long res_off = (long)g->res_off;
  const cl_int M = (cl_int)g->m, N = (cl_int)g->n, K = (cl_int)g->k;
  cl_mem bias = g->has_bias ? g->bias : g->c, res = g->has_res ? g->res : g->c;
  const size_t batch = batch_of(g);
#define OUT_ARGS                                                                                   \
  NNCL_ARG(g->c), NNCL_ARG(c_off), NNCL_ARG(ldc), NNCL_ARG(c_st), NNCL_ARG(g->alpha),              \
      NNCL_ARG(g->beta), NNCL_ARG(bias), NNCL_ARG(bias_off), NNCL_ARG(bias_rs), NNCL_ARG(bias_cs), \
      NNCL_ARG(g->bias_scale), NNCL_ARG(res), NNCL_ARG(res_off), NNCL_ARG(M), NNCL_ARG(N)
  if (impl == NNCL_GEMM_GEMV) {
    cl_kernel kg;
    NNCL_TRY(nncl__kernel_get(ctx, "gemm", opts, "gemm_gemv", &kg));
    const size_t cols = g->trans_b ? 4 : 16 * (size_t)gemv_vectors(g);
    const size_t groups = (g->n + cols - 1) / cols;
    size_t global[2] = {groups, batch}, local[2] = {ctx->info.is_gpu ? 64 : 1, 1};
    return NNCL_LAUNCH(ctx, kg, "gemm_gemv", 2, global, local, NNCL_ARG(g->a), NNCL_ARG(a_off),
                       NNCL_ARG(lda), NNCL_ARG(a_st), NNCL_ARG(g->b), NNCL_ARG(b_off),
                       NNCL_ARG(ldb), NNCL_ARG(b_st), NNCL_ARG(K), OUT_ARGS);
  }
  if (impl == NNCL_GEMM_LOCAL) {
    cl_kernel kl;
    NNCL_TRY(nncl__kernel_get(ctx, "gemm", opts, "gemm_local", &kl));
    size_t ts = (size_t)local_ts(ctx), lb = ts * 4;
    size_t global[3] = {(g->n + lb - 1) / lb * ts, (g->m + lb - 1) / lb * ts, batch};
    size_t local[3] = {ts, ts, 1};
    return NNCL_LAUNCH(ctx, kl, "gemm_local", 3, global, local, NNCL_ARG(g->a), NNCL_ARG(a_off),
                       NNCL_ARG(lda), NNCL_ARG(a_st), NNCL_ARG(g->b), NNCL_ARG(b_off),
                       NNCL_ARG(ldb), NNCL_ARG(b_st), NNCL_ARG(K), OUT_ARGS);
  }
  /* PACKED: pack both operands into the scratch (B unless packed at plan time), then one register
     tile per work-item. */
  if ((!g->a_packed && packed_a_bytes(mm, g) > mm->ws_a_bytes) ||
      (!g->b_packed && packed_b_bytes(mm, g) > mm->ws_b_bytes))
    return nncl__error(ctx, NNCL_ERR_STATE,
                       "GEMM m=%zu n=%zu k=%zu batch=%zu: packing scratch was not prepared", g->m,
                       g->n, g->k, batch);
  cl_kernel kpa, kpb, kt;
  NNCL_TRY(nncl__kernel_get(ctx, "gemm", opts, "gemm_pack_a", &kpa));
  NNCL_TRY(nncl__kernel_get(ctx, "gemm", opts, "gemm_pack_b", &kpb));
  NNCL_TRY(nncl__kernel_get(ctx, "gemm", opts, "gemm_tile", &kt));
  const size_t mp = (g->m + (size_t)mm->mr - 1) / (size_t)mm->mr;
  const size_t np = (g->n + (size_t)mm->nr - 1) / (size_t)mm->nr;
  if (g->k > 0) {
    const size_t lk = g->k >= 64 ? 64 : 1;
    size_t ga[3] = {g->k, mp, batch}, gb[3] = {g->k, np, batch}, l[3] = {lk, 1, 1};
    if (!g->a_packed)
      NNCL_TRY(NNCL_LAUNCH(ctx, kpa, "gemm_pack_a", 3, ga, l, NNCL_ARG(g->a), NNCL_ARG(a_off),
                           NNCL_ARG(lda), NNCL_ARG(a_st), NNCL_ARG(mm->ws_a), NNCL_ARG(M),
                           NNCL_ARG(K)));
    if (!g->b_packed)
      NNCL_TRY(NNCL_LAUNCH(ctx, kpb, "gemm_pack_b", 3, gb, l, NNCL_ARG(g->b), NNCL_ARG(b_off),
                           NNCL_ARG(ldb), NNCL_ARG(b_st), NNCL_ARG(mm->ws_b), NNCL_ARG(N),
                           NNCL_ARG(K)));
  }
  /* One tile per work-group: PoCL runs a work-group per core and vectorises the item's body; a
     GPU never gets here (it takes gemm_local). */
  size_t gt[3] = {np, mp, batch}, lt[3] = {1, 1, 1};
  if (rows_first(mm, g)) gt[0] = mp, gt[1] = np;
  cl_mem wa = g->a_packed ? g->a_packed : mm->ws_a ? mm->ws_a : g->a;
  cl_mem wb = g->b_packed ? g->b_packed : mm->ws_b ? mm->ws_b : g->b;
  return NNCL_LAUNCH(ctx, kt, "gemm_tile", 3, gt, lt, NNCL_ARG(wa), NNCL_ARG(wb), NNCL_ARG(K),
                     OUT_ARGS);
#undef OUT_ARGS
}

/* The pass CLBlast's product needs after it (bias, activation, residual). */
static nncl_status epilogue_kernel(nncl_context *ctx, const struct nncl__gemm *g, cl_kernel *ke) {
  char opts[400];
  snprintf(opts, sizeof opts, "%s -DHAS_C=%d", g->epi_options ? g->epi_options : "", g->has_bias);
  return nncl__kernel_get(ctx, "gemm_epilogue", opts, "gemm_epilogue_apply", ke);
}

/* CLBlast, then the epilogue pass when there is one. */
static nncl_status run_clblast(nncl_context *ctx, const struct nncl__gemm *g) {
  NNCL_TRY(nncl__clblast_sgemm(ctx, g->trans_a, g->trans_b, g->m, g->n, g->k, g->alpha, g->a,
                               g->a_off, g->lda, g->a_stride, g->b, g->b_off, g->ldb, g->b_stride,
                               g->beta, g->c, g->c_off, g->ldc, g->c_stride, batch_of(g)));
  if (!has_epilogue(g)) return NNCL_OK;
  cl_kernel ke;
  NNCL_TRY(epilogue_kernel(ctx, g, &ke));
  cl_mem bias = g->has_bias ? g->bias : g->c, res = g->has_res ? g->res : g->c;
  cl_int rs = (cl_int)g->bias_rs, cs = (cl_int)g->bias_cs;
  cl_uint rows = (cl_uint)g->m, cols = (cl_uint)g->n;
  size_t local[2] = {g->n >= 64 ? 64 : 16, 1}, global[2] = {g->n, g->m};
  return NNCL_LAUNCH(ctx, ke, "gemm_epilogue", 2, global, local, NNCL_ARG(g->c), NNCL_ARG(bias),
                     NNCL_ARG(rs), NNCL_ARG(cs), NNCL_ARG(g->bias_scale), NNCL_ARG(res),
                     NNCL_ARG(rows), NNCL_ARG(cols));
}

static nncl_status run_impl(nncl_context *ctx, const struct nncl__gemm *g, int impl) {
  return impl == NNCL_GEMM_CLBLAST ? run_clblast(ctx, g) : run_ours(ctx, g, impl);
}

/* CLBlast compiles a routine's kernels on its first call (seconds on some devices); one call on
   tiny scratch buffers per (transposes, batched) keeps that out of the first run. */
static nncl_status warm_clblast(nncl_context *ctx, struct nncl__gemm_memo *mm,
                                const struct nncl__gemm *g) {
  const bool batched = batch_of(g) > 1;
  const unsigned bit = 1u << (g->trans_a * 4 + g->trans_b * 2 + batched);
  if (mm->clblast_warm & bit) return NNCL_OK;
  cl_mem t = NULL;
  nncl_status st = nncl__buffer_create(ctx, 64 * 4, "GEMM warm-up", &t);
  if (st == NNCL_OK) st = nncl__buffer_fill_zero(ctx, t, 0, 64 * 4);
  if (st == NNCL_OK)
    st = nncl__clblast_sgemm(ctx, g->trans_a, g->trans_b, 2, 2, 2, 1.0f, t, 0, 2, 4, t, 16, 2, 4,
                             0.0f, t, 32, 2, 4, batched ? 2 : 1);
  if (st == NNCL_OK) st = nncl_context_finish(ctx);
  nncl__buffer_release(t);
  if (st == NNCL_OK) mm->clblast_warm |= bit;
  return st;
}

/* Builds what impl needs for g (kernels, scratch), so running it compiles and allocates nothing. */
static nncl_status ready(nncl_context *ctx, const struct nncl__gemm *g, int impl) {
  if (ctx->plan_dry) return NNCL_OK; /* a dry plan never runs */
  struct nncl__gemm_memo *mm;
  NNCL_TRY(memo_get(ctx, &mm));
  if (impl == NNCL_GEMM_PACKED) {
    if (!g->a_packed) NNCL_TRY(grow(ctx, &mm->ws_a, &mm->ws_a_bytes, packed_a_bytes(mm, g)));
    NNCL_TRY(grow(ctx, &mm->ws_b, &mm->ws_b_bytes, packed_b_bytes(mm, g)));
  }
  if (impl == NNCL_GEMM_CLBLAST) {
    cl_kernel ke; /* built here, at plan time, where a build failure can still move the node */
    if (has_epilogue(g)) NNCL_TRY(epilogue_kernel(ctx, g, &ke));
    return warm_clblast(ctx, mm, g);
  }
  char opts[512];
  kernel_options(ctx, mm, g, impl, opts, sizeof opts);
  for (int i = 0; i < 3 && impl_kernels[impl][i]; i++) {
    cl_kernel k;
    NNCL_TRY(nncl__kernel_get(ctx, "gemm", opts, impl_kernels[impl][i], &k));
  }
  return NNCL_OK;
}

/* ---------------------------- measuring a shape ---------------------------- */

struct trial {
  nncl_context *ctx;
  struct nncl__gemm g;
  int impl;
};

static nncl_status trial_fn(void *arg) {
  struct trial *t = arg;
  return run_impl(t->ctx, &t->g, t->impl);
}

/* Fastest time of `runs` runs of impl (after `warmup`) on scratch operands of g's shape (compact
   layout, no epilogue). */
static nncl_status measure(nncl_context *ctx, const struct nncl__gemm *shape, int impl, int warmup,
                           int runs, double *seconds) {
  const size_t batch = batch_of(shape);
  struct trial t = {.ctx = ctx, .impl = impl};
  struct nncl__gemm *g = &t.g;
  *g = (struct nncl__gemm){.trans_a = shape->trans_a,
                           .trans_b = shape->trans_b,
                           .m = shape->m,
                           .n = shape->n,
                           .k = shape->k,
                           .batch = batch,
                           .alpha = 1.0f,
                           .beta = shape->beta,
                           .lda = shape->trans_a ? shape->m : shape->k,
                           .ldb = shape->trans_b ? shape->k : shape->n,
                           .ldc = shape->n};
  g->a_stride = shape->a_stride ? shape->m * shape->k : 0;
  g->b_stride = shape->b_stride ? shape->k * shape->n : 0;
  g->c_stride = shape->m * shape->n;
  size_t a_bytes = (g->a_stride ? batch : 1) * shape->m * shape->k * 4 + 4;
  size_t b_bytes = (g->b_stride ? batch : 1) * shape->k * shape->n * 4 + 4;
  size_t c_bytes = batch * shape->m * shape->n * 4 + 4;
  /* operands packed at plan time are timed as already packed (zeros: the time is the same) */
  const int cp = impl == NNCL_GEMM_PACKED ? const_packs(ctx, shape) : 0;
  struct nncl__gemm_memo *mm;
  nncl_status st = memo_get(ctx, &mm);
  size_t ap_bytes = 0, bp_bytes = 0;
  if (st == NNCL_OK && (cp & 1)) {
    struct nncl__gemm one = *g;
    if (!g->a_stride) one.batch = 1; /* one A for every item: packed once, read A_SHARED */
    ap_bytes = packed_a_bytes(mm, &one);
    st = nncl__buffer_create(ctx, ap_bytes, "GEMM timing packed A", &g->a_packed);
    if (st == NNCL_OK) st = nncl__buffer_fill_zero(ctx, g->a_packed, 0, ap_bytes);
  }
  if (st == NNCL_OK && (cp & 2)) {
    bp_bytes = packed_b_bytes(mm, g);
    st = nncl__buffer_create(ctx, bp_bytes, "GEMM timing packed B", &g->b_packed);
    if (st == NNCL_OK) st = nncl__buffer_fill_zero(ctx, g->b_packed, 0, bp_bytes);
  }
  if (st == NNCL_OK) st = ready(ctx, g, impl);
  if (st == NNCL_OK) st = nncl__buffer_create(ctx, a_bytes, "GEMM timing operand", &g->a);
  if (st == NNCL_OK) st = nncl__buffer_create(ctx, b_bytes, "GEMM timing operand", &g->b);
  if (st == NNCL_OK) st = nncl__buffer_create(ctx, c_bytes, "GEMM timing result", &g->c);
  if (st == NNCL_OK) st = nncl__buffer_fill_zero(ctx, g->a, 0, a_bytes);
  if (st == NNCL_OK) st = nncl__buffer_fill_zero(ctx, g->b, 0, b_bytes);
  if (st == NNCL_OK) st = nncl__buffer_fill_zero(ctx, g->c, 0, c_bytes);
  /* the timing runs are not part of any profile being recorded */
  const bool prof = ctx->prof_enabled;
  ctx->prof_enabled = false;
  if (st == NNCL_OK) st = nncl__time_fastest(ctx, warmup, runs, trial_fn, &t, seconds);
  ctx->prof_enabled = prof;
  nncl__buffer_release(g->a);
  nncl__buffer_release(g->b);
  nncl__buffer_release(g->c);
  nncl__buffer_release(g->a_packed);
  nncl__buffer_release(g->b_packed);
  return st;
}

static void tune_key(const nncl_context *ctx, const struct nncl__gemm *g, char *buf, size_t len) {
  char dev[800];
  nncl__tune_device_key(ctx, dev, sizeof dev);
  snprintf(buf, len, "%s|gemm%d|ta%d_tb%d_m%zu_n%zu_k%zu_b%zu_p%d", dev, GEMM_TUNE_VERSION,
           g->trans_a, g->trans_b, g->m, g->n, g->k, batch_of(g), const_packs(ctx, g));
}

static struct memo_entry *memo_find(const nncl_context *ctx, struct nncl__gemm_memo *mm,
                                    const struct nncl__gemm *g) {
  const int cp = const_packs(ctx, g);
  for (size_t i = 0; i < mm->count; i++) {
    struct memo_entry *e = &mm->e[i];
    if (e->ta == g->trans_a && e->tb == g->trans_b && e->m == g->m && e->n == g->n &&
        e->k == g->k && e->batch == batch_of(g) && e->ac == (cp & 1) && e->bc == ((cp & 2) != 0))
      return e;
  }
  return NULL;
}

static nncl_status memo_add(nncl_context *ctx, struct nncl__gemm_memo *mm,
                            const struct nncl__gemm *g, const struct nncl__gemm_choice *ch) {
  if (mm->count == mm->cap) {
    size_t cap = mm->cap ? 2 * mm->cap : 16;
    struct memo_entry *e = realloc(mm->e, cap * sizeof *e);
    if (!e) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "GEMM choice table");
    mm->e = e;
    mm->cap = cap;
  }
  mm->e[mm->count++] = (struct memo_entry){.ta = g->trans_a,
                                           .tb = g->trans_b,
                                           .m = g->m,
                                           .n = g->n,
                                           .k = g->k,
                                           .batch = batch_of(g),
                                           .ac = const_packs(ctx, g) & 1,
                                           .bc = (const_packs(ctx, g) & 2) != 0,
                                           .choice = *ch};
  return NNCL_OK;
}

/* The choice for g's shape: remembered in memory, then on disk, else measured now. */
static nncl_status choose(nncl_context *ctx, const struct nncl__gemm *g,
                          struct nncl__gemm_choice *out) {
  struct nncl__gemm_memo *mm;
  NNCL_TRY(memo_get(ctx, &mm));
  const struct memo_entry *e = memo_find(ctx, mm, g);
  if (e) {
    *out = e->choice;
    return NNCL_OK;
  }
  char key[1200], value[256], name[32];
  tune_key(ctx, g, key, sizeof key);
  struct nncl__gemm_choice ch = {.impl = -1};
  if (nncl__tune_lookup(ctx, MEMO_FILE, key, value, sizeof value) &&
      sscanf(value, "%31s %lf %lf", name, &ch.t_ours_s, &ch.t_clblast_s) == 3)
    ch.impl = impl_from_name(name);
  if (ch.impl <= NNCL_GEMM_AUTO && ctx->plan_dry) {
    /* a dry plan times nothing: ours, neither remembered nor stored */
    *out = (struct nncl__gemm_choice){.impl = our_impl(ctx, g)};
    return NNCL_OK;
  }
  if (ch.impl <= NNCL_GEMM_AUTO) {
    const int ours = our_impl(ctx, g);
    NNCL_TRY(measure(ctx, g, ours, 1, 3, &ch.t_ours_s));
    /* One CLBlast run after one warm-up (which compiles the kernel CLBlast picks for this size):
       when it alone takes twice ours, more runs cannot change the answer, and on PoCL they would
       cost seconds per large shape. CLBlast may refuse a shape or a device (no tuned kernels):
       then ours it is. */
    if (measure(ctx, g, NNCL_GEMM_CLBLAST, 1, 1, &ch.t_clblast_s) != NNCL_OK)
      ch.t_clblast_s = 0;
    else if (ch.t_clblast_s < 2.0 * ch.t_ours_s &&
             measure(ctx, g, NNCL_GEMM_CLBLAST, 0, 3, &ch.t_clblast_s) != NNCL_OK)
      ch.t_clblast_s = 0;
    ch.impl = ch.t_clblast_s > 0 && ch.t_clblast_s < ch.t_ours_s ? NNCL_GEMM_CLBLAST : ours;
    snprintf(value, sizeof value, "%s %.9g %.9g", nncl__gemm_impl_name(ch.impl), ch.t_ours_s,
             ch.t_clblast_s);
    nncl__tune_store(ctx, MEMO_FILE, key, value);
  }
  NNCL_TRY(memo_add(ctx, mm, g, &ch));
  *out = ch;
  return NNCL_OK;
}

/* The implementation that will run g: forced, else chosen, then moved to ours when CLBlast cannot
   apply g's epilogue. */
static nncl_status resolve(nncl_context *ctx, const struct nncl__gemm *g,
                           struct nncl__gemm_choice *out) {
  if (option_impl(ctx) != NNCL_GEMM_AUTO || g->half_storage) {
    *out = (struct nncl__gemm_choice){.impl = forced_impl(ctx, g)};
    return NNCL_OK;
  }
  NNCL_TRY(choose(ctx, g, out));
  if (out->impl == NNCL_GEMM_CLBLAST && !clblast_eligible(g)) out->impl = our_impl(ctx, g);
  return NNCL_OK;
}

nncl_status nncl__gemm_prepare(nncl_context *ctx, const struct nncl__gemm *g,
                               struct nncl__gemm_choice *out) {
  struct nncl__gemm_choice ch;
  NNCL_TRY(resolve(ctx, g, &ch));
  NNCL_TRY(ready(ctx, g, ch.impl));
  if (g->k == 0) NNCL_TRY(ready(ctx, g, our_impl(ctx, g)));
  if (out) *out = ch;
  return NNCL_OK;
}

/* Packs a constant operand (A when `rows`, else B; host_data laid out as g->a or g->b would hold
   it) into a new buffer with the engine's own pack kernel, so the panel layout has one
   definition. *out stays NULL unless g runs as PACKED. */
static nncl_status pack_constant(nncl_context *ctx, const struct nncl__gemm *g, bool rows,
                                 const void *host_data, size_t bytes, bool in_place, cl_mem *out) {
  *out = NULL;
  if (ctx->plan_dry || g->k == 0 || (rows ? g->m : g->n) == 0 ||
      !nncl__option_on(&ctx->options, NNCL__OPT_GEMM_PREPACK))
    return NNCL_OK;
  struct nncl__gemm_choice ch;
  NNCL_TRY(resolve(ctx, g, &ch));
  if (ch.impl != NNCL_GEMM_PACKED) return NNCL_OK;
  struct nncl__gemm_memo *mm;
  NNCL_TRY(memo_get(ctx, &mm));
  /* an A repeated over the batch (stride 0) is packed once: gemm_tile reads it with A_SHARED */
  const size_t items = rows && g->a_stride == 0 ? 1 : batch_of(g);
  const size_t tile = (size_t)(rows ? mm->mr : mm->nr), len = rows ? g->m : g->n;
  const size_t panels = (len + tile - 1) / tile;
  cl_mem raw = NULL, packed = NULL;
  cl_kernel kp = NULL;
  const char *kname = rows ? "gemm_pack_a" : "gemm_pack_b";
  /* in place: read where it lies on host-unified devices (CPUs), the pack being its only reader */
  const char *what = rows ? "GEMM constant A" : "GEMM constant B";
  nncl_status st = in_place ? nncl__buffer_over_host(ctx, host_data, bytes, what, &raw)
                            : nncl__buffer_from_host(ctx, host_data, bytes, what, &raw);
  if (st == NNCL_OK)
    st = nncl__buffer_create(ctx, items * g->k * panels * tile * sizeof(float),
                             rows ? "GEMM packed constant A" : "GEMM packed constant B", &packed);
  if (st == NNCL_OK) {
    /* the program the runs use (A_SHARED follows a_packed), so no second one is built */
    struct nncl__gemm run_g = *g;
    if (rows) run_g.a_packed = packed;
    char opts[512];
    kernel_options(ctx, mm, &run_g, NNCL_GEMM_PACKED, opts, sizeof opts);
    st = nncl__kernel_get(ctx, "gemm", opts, kname, &kp);
  }
  const long off = (long)(rows ? g->a_off : g->b_off), ld = (long)(rows ? g->lda : g->ldb);
  const long stride = (long)(rows ? g->a_stride : g->b_stride);
  const cl_int L = (cl_int)len, K = (cl_int)g->k;
  size_t gp[3] = {g->k, panels, items}, l[3] = {g->k >= 64 ? 64 : 1, 1, 1};
  if (st == NNCL_OK)
    st = NNCL_LAUNCH(ctx, kp, kname, 3, gp, l, NNCL_ARG(raw), NNCL_ARG(off), NNCL_ARG(ld),
                     NNCL_ARG(stride), NNCL_ARG(packed), NNCL_ARG(L), NNCL_ARG(K));
  if (st == NNCL_OK) st = nncl_context_finish(ctx); /* raw goes before the plan ends */
  nncl__buffer_release(raw);
  if (st != NNCL_OK) {
    nncl__buffer_release(packed);
    return st;
  }
  *out = packed;
  return NNCL_OK;
}

nncl_status nncl__gemm_pack_b(nncl_context *ctx, const struct nncl__gemm *g, const void *b_host,
                              size_t b_bytes, cl_mem *out) {
  return pack_constant(ctx, g, false, b_host, b_bytes, false, out);
}

nncl_status nncl__gemm_pack_a(nncl_context *ctx, const struct nncl__gemm *g, const void *a_host,
                              size_t a_bytes, bool in_place, cl_mem *out) {
  return pack_constant(ctx, g, true, a_host, a_bytes, in_place, out);
}

nncl_status nncl__gemm_panel_height(nncl_context *ctx, int *mr) {
  struct nncl__gemm_memo *mm;
  NNCL_TRY(memo_get(ctx, &mm));
  *mr = mm->mr;
  return NNCL_OK;
}

nncl_status nncl__gemm_panel_width(nncl_context *ctx, int *nr) {
  struct nncl__gemm_memo *mm;
  NNCL_TRY(memo_get(ctx, &mm));
  *nr = mm->nr;
  return NNCL_OK;
}

nncl_status nncl__gemm_run(nncl_context *ctx, const struct nncl__gemm *g) {
  if (g->m == 0 || g->n == 0 || batch_of(g) == 0 || ctx->plan_dry) return NNCL_OK;
  struct nncl__gemm_choice ch;
  NNCL_TRY(resolve(ctx, g, &ch));
  const int impl = g->k == 0 ? our_impl(ctx, g) : ch.impl;
  NNCL_TRY(ready(ctx, g, impl)); /* nothing to do once prepared */
  /* k == 0 leaves beta C + bias; our kernels handle it, CLBlast's behaviour there is its own */
  return run_impl(ctx, g, impl);
}

nncl_status nncl__sgemm(nncl_context *ctx, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                        float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                        size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc) {
  return nncl__sgemm_strided_batched(ctx, trans_a, trans_b, m, n, k, alpha, a, a_off, lda, 0, b,
                                     b_off, ldb, 0, beta, c, c_off, ldc, 0, 1);
}

nncl_status nncl__sgemm_strided_batched(nncl_context *ctx, bool trans_a, bool trans_b, size_t m,
                                        size_t n, size_t k, float alpha, cl_mem a, size_t a_off,
                                        size_t lda, size_t a_stride, cl_mem b, size_t b_off,
                                        size_t ldb, size_t b_stride, float beta, cl_mem c,
                                        size_t c_off, size_t ldc, size_t c_stride, size_t batch) {
  if (batch == 0) return NNCL_OK;
  const struct nncl__gemm g = {.trans_a = trans_a,
                               .trans_b = trans_b,
                               .m = m,
                               .n = n,
                               .k = k,
                               .batch = batch,
                               .alpha = alpha,
                               .beta = beta,
                               .a = a,
                               .b = b,
                               .c = c,
                               .a_off = a_off,
                               .lda = lda,
                               .a_stride = a_stride,
                               .b_off = b_off,
                               .ldb = ldb,
                               .b_stride = b_stride,
                               .c_off = c_off,
                               .ldc = ldc,
                               .c_stride = c_stride};
  return nncl__gemm_run(ctx, &g);
}
