/* gemm.cl: our SGEMM, row-major C = epi(alpha * op(A) op(B) + beta * C + bias_scale * bias).
   CPU-class devices (PoCL: one work-group per core at a time, the work-item body vectorised by
   LLVM) get big register tiles per work-item over packed panels, so every inner-loop read is
   contiguous:
     gemm_pack_a: A -> Ap[batch][M/MR][K][MR]   (zero rows past M)
     gemm_pack_b: B -> Bp[batch][N/NR][K][NR]   (zero columns past N)
     gemm_tile:   one MR x NR tile of C per work-item (work-group of 1), K in one sweep
   gemm_direct reads A and B where they are (no workspace, for small products), gemm_gemv streams
   B once for M <= 8 rows (batch-1 fully connected layers) and gemm_local is the GPU variant (a
   work-group of TS x TS items shares A and B tiles through local memory).
   Every kernel takes element offsets and batch strides, so views inside one buffer work.

   Options (every one has a default, so the file compiles alone):
   -D MR=6        rows of the register tile (gemm_tile, gemm_direct) or rows of A (gemm_gemv)
   -D NR=16       columns of the register tile: 4, 8 or 16 (one vector)
   -D TRANS_A=0|1, -D TRANS_B=0|1   op(A) = A^T, op(B) = B^T
   -D BETA_NZ=0|1  beta != 0: C is read (beta == 0 never reads C, so NaN there is not kept)
   -D HAS_BIAS=0|1 bias[i * bias_rs + j * bias_cs] * bias_scale is added (a stride 0 broadcasts)
   -D GV=1        gemm_gemv without TRANS_B: NR-wide vectors per item (longer contiguous reads)
   -D ROWS_FIRST=0|1  gemm_tile: gid0 walks row panels (1) or column panels (0); consecutive
                  work-groups share the panel of the other operand, which should be the larger one
                  (read from memory once) while all panels of the smaller stay cached
   -D TS=16       gemm_local: tile side (work-group TS x TS, each item RPT x RPT outputs)
   -D RPT=4       gemm_local: outputs per item along each side
   -D NNCL_HALF_STORE  A, B, C, bias and residual are float16 (common/storage.cl); the panels and
                  the arithmetic stay float. Only the packed path (pack + tile) has that form, so
                  the half build leaves gemm_gemv and gemm_local out.
   plus the epilogue options of common/epilogue.cl (ACT_EXPR, ACT_VEC, ACT_ALPHA, ACT_BETA, HAS_RES,
   RES_AFTER_ACT); the residual has C's layout. */
#include "common/epilogue.cl"
#include "common/storage.cl"

#ifndef MR
#define MR 6
#endif
#ifndef NR
#define NR 16
#endif
#ifndef TRANS_A
#define TRANS_A 0
#endif
#ifndef TRANS_B
#define TRANS_B 0
#endif
#ifndef BETA_NZ
#define BETA_NZ 0
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif
#ifndef GV
#define GV 1
#endif
#ifndef TS
#define TS 16
#endif
#ifndef RPT
#define RPT 4
#endif
#ifndef ROWS_FIRST
#define ROWS_FIRST 0
#endif

#define GEMM_CAT_(a, b) a##b
#define GEMM_CAT(a, b) GEMM_CAT_(a, b)
#define VT GEMM_CAT(float, NR)
#define VLOAD GEMM_CAT(vload, NR)
#define VSTORE GEMM_CAT(vstore, NR)
/* NR-wide loads and stores of a tensor (C, raw B), in its storage type */
#ifdef NNCL_HALF_STORE
#define TLOAD GEMM_CAT(vload_half, NR)
#define TSTORE GEMM_CAT(vstore_half, NR)
#else
#define TLOAD VLOAD
#define TSTORE VSTORE
#endif

/* op(A)(i, k) and op(B)(k, j) of one batch item; the outer parentheses keep `(float16)A_AT(..)`
   a conversion of the element rather than a vector literal of the pointer. */
#if TRANS_A
#define A_AT(a, i, k) (FLOAD((a), (long)(k)*lda + (i)))
#else
#define A_AT(a, i, k) (FLOAD((a), (long)(i)*lda + (k)))
#endif
#if TRANS_B
#define B_AT(b, k, j) (FLOAD((b), (long)(j)*ldb + (k)))
#else
#define B_AT(b, k, j) (FLOAD((b), (long)(k)*ldb + (j)))
#endif

/* The arguments every kernel that writes C takes, after its operands. */
#define GEMM_OUT_ARGS                                                                              \
  __global FBUF *c, const long c_off, const long ldc, const long c_stride, const float alpha,      \
      const float beta, __global const FBUF *bias, const long bias_off, const long bias_rs,        \
      const long bias_cs, const float bias_scale, __global const FBUF *res, const long res_off,    \
      const int M, const int N

/* The arguments above, passed on as they came. */
#define GEMM_OUT_PASS                                                                              \
  c, c_off, ldc, c_stride, alpha, beta, bias, bias_off, bias_rs, bias_cs, bias_scale, res,         \
      res_off, M, N

/* Finishes and writes C[i][j] of the batch item whose C starts at cz and residual at rz: v is the
   raw product sum; alpha, beta C, bias and the epilogue applied. Every kernel's element store. */
inline void gemm_put(float v, const int i, const int j, const long cz, const long rz,
                     GEMM_OUT_ARGS) {
  const long at = cz + (long)i * ldc + j;
  v *= alpha;
#if BETA_NZ
  v += beta * FLOAD(c, at);
#endif
#if HAS_BIAS
  v += bias_scale * FLOAD(bias, bias_off + i * bias_rs + j * bias_cs);
#endif
#if HAS_RES
  FSTORE(c, at, epi_apply(v, FLOAD(res, rz + (long)i * ldc + j)));
#else
  FSTORE(c, at, epi_apply(v, 0.0f));
#endif
}

/* Writes an MR x NR register tile at rows i0.., columns j0.. of batch item z, cropped to M x N.
   Whole rows store one vector when nothing lane-wise is needed. */
inline void gemm_store_tile(VT *acc, const int i0, const int j0, const int z, GEMM_OUT_ARGS) {
  const long cz = c_off + (long)z * c_stride, rz = res_off + (long)z * c_stride;
  for (int r = 0; r < MR && i0 + r < M; r++) {
    float lanes[NR];
    VSTORE(acc[r], 0, lanes);
    for (int l = 0; l < NR && j0 + l < N; l++)
      gemm_put(lanes[l], i0 + r, j0 + l, cz, rz, GEMM_OUT_PASS);
  }
}

/* The fused activation on a row vector: whole-vector when the expression allows it (ACT_VEC),
   else lane by lane through the scalar form, so fused and unfused give the same bits. */
inline VT gemm_act(VT v) {
#if ACT_VEC
  const VT x = v;
  const float alpha = ACT_ALPHA, beta = ACT_BETA;
  return ACT_EXPR;
#else
  float lanes[NR];
  VSTORE(v, 0, lanes);
  for (int l = 0; l < NR; l++) lanes[l] = epi_act(lanes[l]);
  return VLOAD(0, lanes);
#endif
}

/* Full tiles without bias, beta or residual: alpha, activation, one vector store per row. */
inline void gemm_store_tile_fast(VT *acc, const int i0, const int j0, const int z, __global FBUF *c,
                                 const long c_off, const long ldc, const long c_stride,
                                 const float alpha) {
  __global FBUF *o = c + c_off + (long)z * c_stride + (long)i0 * ldc + j0;
  for (int r = 0; r < MR; r++) {
    VT v = acc[r] * alpha;
    TSTORE(gemm_act(v), 0, o + (long)r * ldc);
  }
}

#define GEMM_FAST_STORE (!BETA_NZ && !HAS_BIAS && !HAS_RES)

/* gid0 = k, gid1 = row panel, gid2 = batch item. */
__kernel void gemm_pack_a(__global const FBUF *a, const long a_off, const long lda,
                          const long a_stride, __global float *ap, const int M, const int K) {
  const int k = get_global_id(0), p = get_global_id(1), z = get_global_id(2);
  if (k >= K) return;
  const int mp = (M + MR - 1) / MR;
  __global const FBUF *az = a + a_off + (long)z * a_stride;
  __global float *o = ap + (((long)z * mp + p) * K + k) * MR;
  for (int r = 0; r < MR; r++) {
    const int i = p * MR + r;
    o[r] = i < M ? A_AT(az, i, k) : 0.0f;
  }
}

/* gid0 = k, gid1 = column panel, gid2 = batch item. */
__kernel void gemm_pack_b(__global const FBUF *b, const long b_off, const long ldb,
                          const long b_stride, __global float *bp, const int N, const int K) {
  const int k = get_global_id(0), q = get_global_id(1), z = get_global_id(2);
  if (k >= K) return;
  const int np = (N + NR - 1) / NR;
  __global const FBUF *bz = b + b_off + (long)z * b_stride;
  __global float *o = bp + (((long)z * np + q) * K + k) * NR;
#if !TRANS_B
  if ((q + 1) * NR <= N) {
    VSTORE(TLOAD(0, bz + (long)k * ldb + q * NR), 0, o);
    return;
  }
#endif
  for (int l = 0; l < NR; l++) {
    const int j = q * NR + l;
    o[l] = j < N ? B_AT(bz, k, j) : 0.0f;
  }
}

/* gid0 = column panel, gid1 = row panel (swapped with ROWS_FIRST), gid2 = batch item; work-group
   (1, 1, 1). */
__kernel void gemm_tile(__global const float *ap, __global const float *bp, const int K,
                        GEMM_OUT_ARGS) {
  const int q = get_global_id(ROWS_FIRST ? 1 : 0), p = get_global_id(ROWS_FIRST ? 0 : 1);
  const int z = get_global_id(2);
  const int mp = (M + MR - 1) / MR, np = (N + NR - 1) / NR;
  if (q >= np || p >= mp) return;
  __global const float *pa = ap + ((long)z * mp + p) * K * MR;
  __global const float *pb = bp + ((long)z * np + q) * K * NR;
  VT acc[MR];
  for (int r = 0; r < MR; r++) acc[r] = (VT)0.0f;
  for (int k = 0; k < K; k++) {
    const VT bv = VLOAD(0, pb);
#pragma unroll
    for (int r = 0; r < MR; r++) acc[r] = fma((VT)pa[r], bv, acc[r]);
    pa += MR;
    pb += NR;
  }
#if GEMM_FAST_STORE
  if ((p + 1) * MR <= M && (q + 1) * NR <= N) {
    gemm_store_tile_fast(acc, p * MR, q * NR, z, c, c_off, ldc, c_stride, alpha);
    return;
  }
#endif
  gemm_store_tile(acc, p * MR, q * NR, z, GEMM_OUT_PASS);
}

#ifndef NNCL_HALF_STORE
/* M <= 8 rows (MR = M here): every element of B is read once, so the product runs at memory
   bandwidth. TRANS_B (B is [N][K], a fully connected layer's weights): each item takes 4 columns
   and walks their rows of B with 8-wide vectors. Otherwise each item takes GV * NR columns and
   walks down B's rows. gid0 = column group, gid1 = batch item. */
__kernel void gemm_gemv(__global const float *a, const long a_off, const long lda,
                        const long a_stride, __global const float *b, const long b_off,
                        const long ldb, const long b_stride, const int K, GEMM_OUT_ARGS) {
  const int g = get_global_id(0), z = get_global_id(1);
  __global const float *az = a + a_off + (long)z * a_stride;
  __global const float *bz = b + b_off + (long)z * b_stride;
  const long cz = c_off + (long)z * c_stride, rz = res_off + (long)z * c_stride;
#if TRANS_B
  const int j0 = g * 4;
  if (j0 >= N) return;
  float8 acc[MR][4];
  for (int r = 0; r < MR; r++)
    for (int l = 0; l < 4; l++) acc[r][l] = (float8)0.0f;
  __global const float *brow[4];
  for (int l = 0; l < 4; l++) brow[l] = bz + (long)min(j0 + l, N - 1) * ldb;
  const int k8 = K & ~7;
  for (int k = 0; k < k8; k += 8) {
    float8 bv[4];
#pragma unroll
    for (int l = 0; l < 4; l++) bv[l] = vload8(0, brow[l] + k);
#pragma unroll
    for (int r = 0; r < MR; r++) {
#if TRANS_A
      const float8 av =
          (float8)(A_AT(az, r, k), A_AT(az, r, k + 1), A_AT(az, r, k + 2), A_AT(az, r, k + 3),
                   A_AT(az, r, k + 4), A_AT(az, r, k + 5), A_AT(az, r, k + 6), A_AT(az, r, k + 7));
#else
      const float8 av = vload8(0, az + (long)r * lda + k);
#endif
#pragma unroll
      for (int l = 0; l < 4; l++) acc[r][l] = fma(av, bv[l], acc[r][l]);
    }
  }
  for (int r = 0; r < MR && r < M; r++)
    for (int l = 0; l < 4 && j0 + l < N; l++) {
      const float8 s8 = acc[r][l];
      const float4 s4 = s8.lo + s8.hi;
      float v = (s4.x + s4.y) + (s4.z + s4.w);
      for (int k = k8; k < K; k++) v = fma(A_AT(az, r, k), brow[l][k], v);
      gemm_put(v, r, j0 + l, cz, rz, GEMM_OUT_PASS);
    }
#else
  const int j0 = g * NR * GV;
  if (j0 >= N) return;
  VT acc[GV][MR];
  for (int v = 0; v < GV; v++)
    for (int r = 0; r < MR; r++) acc[v][r] = (VT)0.0f;
  if (j0 + NR * GV <= N) {
    for (int k = 0; k < K; k++) {
      VT bv[GV];
#pragma unroll
      for (int v = 0; v < GV; v++) bv[v] = VLOAD(v, bz + (long)k * ldb + j0);
#pragma unroll
      for (int r = 0; r < MR; r++) {
        const VT av = (VT)A_AT(az, r, k);
#pragma unroll
        for (int v = 0; v < GV; v++) acc[v][r] = fma(av, bv[v], acc[v][r]);
      }
    }
  } else {
    for (int k = 0; k < K; k++)
      for (int v = 0; v < GV; v++) {
        float lanes[NR];
        for (int l = 0; l < NR; l++) {
          const int j = j0 + v * NR + l;
          lanes[l] = j < N ? B_AT(bz, k, j) : 0.0f;
        }
        const VT bv = VLOAD(0, lanes);
        for (int r = 0; r < MR; r++) acc[v][r] = fma((VT)A_AT(az, r, k), bv, acc[v][r]);
      }
  }
  for (int v = 0; v < GV && j0 + v * NR < N; v++) {
    gemm_store_tile(acc[v], 0, j0 + v * NR, z, GEMM_OUT_PASS);
  }
#endif
}

/* GPU variant: a TS x TS work-group computes a (TS*RPT)^2 block of C, staging TS-deep slices of
   op(A) and op(B) in local memory; item (x, y) owns rows y + r*TS and columns x + l*TS, so
   neighbouring items read neighbouring local words. gid0/gid1 = columns/rows, gid2 = batch. */
#define LB (TS * RPT)
__kernel void gemm_local(__global const float *a, const long a_off, const long lda,
                         const long a_stride, __global const float *b, const long b_off,
                         const long ldb, const long b_stride, const int K, GEMM_OUT_ARGS) {
  __local float as[TS][LB + 1], bs[TS][LB + 1];
  const int tx = get_local_id(0), ty = get_local_id(1), z = get_global_id(2);
  const int i0 = get_group_id(1) * LB, j0 = get_group_id(0) * LB, t = ty * TS + tx;
  __global const float *az = a + a_off + (long)z * a_stride;
  __global const float *bz = b + b_off + (long)z * b_stride;
  float acc[RPT][RPT];
  for (int r = 0; r < RPT; r++)
    for (int l = 0; l < RPT; l++) acc[r][l] = 0.0f;
  for (int k0 = 0; k0 < K; k0 += TS) {
    for (int e = t; e < TS * LB; e += TS * TS) {
      const int kk = e / LB, mm = e % LB, k = k0 + kk;
#if TRANS_A
      as[kk][mm] = (k < K && i0 + mm < M) ? A_AT(az, i0 + mm, k) : 0.0f;
#else
      /* walk along K first so consecutive items read consecutive words of a row of A */
      const int kk2 = e % TS, mm2 = e / TS;
      as[kk2][mm2] = (k0 + kk2 < K && i0 + mm2 < M) ? A_AT(az, i0 + mm2, k0 + kk2) : 0.0f;
#endif
#if TRANS_B
      const int kk3 = e % TS, nn3 = e / TS;
      bs[kk3][nn3] = (k0 + kk3 < K && j0 + nn3 < N) ? B_AT(bz, k0 + kk3, j0 + nn3) : 0.0f;
#else
      bs[kk][mm] = (k < K && j0 + mm < N) ? B_AT(bz, k, j0 + mm) : 0.0f;
#endif
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int kk = 0; kk < TS; kk++) {
      float av[RPT], bv[RPT];
      for (int r = 0; r < RPT; r++) av[r] = as[kk][ty + r * TS];
      for (int l = 0; l < RPT; l++) bv[l] = bs[kk][tx + l * TS];
      for (int r = 0; r < RPT; r++)
        for (int l = 0; l < RPT; l++) acc[r][l] = fma(av[r], bv[l], acc[r][l]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  const long cz = c_off + (long)z * c_stride, rz = res_off + (long)z * c_stride;
  for (int r = 0; r < RPT; r++)
    for (int l = 0; l < RPT; l++) {
      const int i = i0 + ty + r * TS, j = j0 + tx + l * TS;
      if (i < M && j < N) gemm_put(acc[r][l], i, j, cz, rz, GEMM_OUT_PASS);
    }
}
#endif
