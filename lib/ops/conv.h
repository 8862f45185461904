/* conv.h: what the conv family's files share: the parsed geometry of a Conv/ConvTranspose node,
   the algorithms, the per-node state kept between plan and enqueue, and each algorithm's
   plan/enqueue pair. conv.c owns attributes, shapes and the choice; one file per algorithm. */
#ifndef NNCL_CONV_H
#define NNCL_CONV_H

#include "op.h"

/* Algorithms. The names are what NNCL_CONV_ALGO, c->algo and the autotune file use. */
#define CONV_ALGO_LIST(X)                                                                          \
  X(CONV_DIRECT, "direct")       /* implicit GEMM over a phase-packed input */                     \
  X(CONV_WINOGRAD2, "winograd2") /* F(2x2,3x3) */                                                  \
  X(CONV_WINOGRAD4, "winograd4") /* F(4x4,3x3) */                                                  \
  X(CONV_GEMM, "gemm")           /* 1x1: one product per image (strided: subsampled) */            \
  X(CONV_IM2COL, "im2col")       /* im2col + the GEMM engine */                                    \
  X(CONV_DEPTHWISE, "depthwise") /* groups == C */                                                 \
  X(CONV_NARROW, "narrow")       /* <= 4 input channels per group (stems), direct from X */        \
  X(CONVT_DIRECT, "direct")      /* ConvTranspose: gather, no atomics */                           \
  X(CONVT_GEMM, "gemm")          /* ConvTranspose: GEMM + col2im */

enum conv_algo {
#define CONV_X(id, name) id,
  CONV_ALGO_LIST(CONV_X)
#undef CONV_X
      CONV_ALGO_COUNT
};
const char *conv_algo_name(enum conv_algo a);

/* Geometry, 2-D (a 1-D conv has H = OH = R = 1). For ConvTranspose, C is the input channel count,
   K the output channel count, and (H, W) -> (OH, OW) is the upsampling direction. */
struct conv_geom {
  int transpose;
  int64_t N, C, H, W, K, R, S, OH, OW;
  int64_t sh, sw, dh, dw; /* stride, dilation */
  int64_t pt, pl, pb, pr; /* pads: top, left, bottom, right */
  int64_t groups, Cg, Kg; /* per-group channel counts */
  int has_bias;
};

/* Register tile of the direct and Winograd product kernels: *mr output channels x 16 * *nv
   positions per work-item, sized to the device's vector registers (conv.c). */
void conv_register_tile(const struct op_call *c, int *mr, int *nv);

/* Per-node state, made by plan, freed by release. */
struct conv_state {
  struct conv_geom g;
  enum conv_algo algo;
  int use_blas;   /* Winograd / ConvTranspose GEMM stage through CLBlast (GPU) */
  char opts[512]; /* -D options of the main kernels (epilogue and tile sizes) */
  cl_kernel k[4]; /* kernels fetched in plan, meaning per algorithm */
  cl_mem w;       /* packed / transformed weights (NULL when packed in enqueue) */
  cl_mem taps;    /* direct/depthwise: tap offsets + phase codes */
  int wprepacked; /* w holds packed weights made in plan */
  /* direct / depthwise: phase-packed input geometry */
  int64_t hph, wph, nph, cs; /* phase rows, columns, used phases, channel stride */
  int maxoff;                /* largest tap offset */
  int rowtile;               /* direct: tiles are runs of one output row */
  int pack_input;            /* 0: the input is used in place (1x1, stride 1, no pads) */
  int panel;                 /* gemm/im2col: unfold into the GEMM engine's B panels this wide */
  cl_mem *a_packed;          /* gemm/im2col: constant W packed per group at plan time, or NULL */
  size_t xp_floats;          /* per-chunk floats of the packed input (with slack) */
  /* Winograd */
  int wm, alpha;  /* output tile m, alpha = m + 2 */
  int mr, nv;     /* register tile of the direct and Winograd gemm kernels: mr rows,
                                16*nv columns */
  int64_t th, tw; /* tiles per image */
  int64_t ppad;   /* tile columns per chunk, padded to 16 * nv */
  int64_t kpad;   /* K padded to mr */
  /* chunking over the batch (workspace bound) */
  int64_t chunk;    /* images per chunk */
  size_t ws_off[3]; /* workspace offsets in bytes */
  size_t ws_bytes;
};

/* Parses attributes and shapes (validated) into g. */
nncl_status conv_geom_parse(const struct op_call *c, struct conv_geom *g);

/* Shared helpers (conv.c). */
/* Host copy of the weights (constant W), or NULL. */
const float *conv_host_weights(const struct op_call *c);
/* Device buffer from host floats into *out. */
nncl_status conv_upload(const struct op_call *c, const float *data, size_t n, const char *what,
                        cl_mem *out);
/* The same for floats the plan made (from nncl__host_alloc), given away: used in place on
   host-unified devices unless graph.host_weights=0 (nncl__buffer_adopt); always freed. */
nncl_status conv_adopt(const struct op_call *c, float *data, size_t n, const char *what,
                       cl_mem *out);
/* Kernel lookup that names the node on failure. */
nncl_status conv_kernel(const struct op_call *c, const char *source, const char *opts,
                        const char *name, cl_kernel *out);
/* Images per chunk so that per_image bytes times the chunk stays within the workspace cap. */
int64_t conv_chunk(int64_t n, size_t per_image);
/* Bias and residual buffers for kernels (a dummy when absent; the kernel does not read it). */
cl_mem conv_bias_mem(const struct op_call *c);
cl_mem conv_res_mem(const struct op_call *c);

/* Phase-pack of the input shared by direct and depthwise (conv_direct.c): tap table, geometry,
   and the pack launch for images [n0, n0 + nimg) into the front of the workspace. */
nncl_status conv_pack_setup(struct op_call *c, struct conv_state *s);
nncl_status conv_pack_enqueue(struct op_call *c, struct conv_state *s, int64_t n0, int64_t nimg);
/* The chunk of input images the direct/depthwise kernels read (packed planes or the input). */
nncl_status conv_chunk_input(struct op_call *c, struct conv_state *s, int64_t n0, int64_t nimg,
                             cl_mem *xp, cl_long *xoff, cl_long *xlen);

/* Eligibility of each algorithm for the geometry (and for constant weights where needed). */
int conv_eligible(const struct op_call *c, const struct conv_geom *g, enum conv_algo a);

/* One plan/enqueue pair per algorithm. plan fills s (kernels, weights, workspace layout). */
nncl_status conv_direct_plan(struct op_call *c, struct conv_state *s);
nncl_status conv_direct_enqueue(struct op_call *c, struct conv_state *s);
nncl_status conv_depthwise_plan(struct op_call *c, struct conv_state *s);
nncl_status conv_depthwise_enqueue(struct op_call *c, struct conv_state *s);
nncl_status conv_winograd_plan(struct op_call *c, struct conv_state *s);
nncl_status conv_winograd_enqueue(struct op_call *c, struct conv_state *s);
nncl_status conv_gemm_plan(struct op_call *c, struct conv_state *s);
nncl_status conv_gemm_enqueue(struct op_call *c, struct conv_state *s);
nncl_status conv_transpose_plan(struct op_call *c, struct conv_state *s);
nncl_status conv_transpose_enqueue(struct op_call *c, struct conv_state *s);

/* Autotune store (conv_autotune.c): the winner for a (device, shape) key, or -1. */
int conv_autotune_lookup(nncl_context *ctx, const char *key);
void conv_autotune_store(nncl_context *ctx, const char *key, int algo);
/* Key text for a geometry on this context's device. */
void conv_autotune_key(const struct op_call *c, const struct conv_geom *g, char *buf, size_t len);

/* Workspace cap per node; the batch is processed in chunks beyond it. */
#define CONV_WORKSPACE_CAP ((size_t)256 << 20)

#endif
