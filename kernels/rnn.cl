/* rnn.cl: the per-step kernels of ONNX RNN, LSTM and GRU. The input projection X.W^T comes from a
   GEMM over all steps; then one launch finishes a whole time step for every direction and batch
   row: rnn_step_fused does the recurrent product H.R^T itself, rnn_step reads it from a GEMM that
   ran before. Each applies biases, peepholes, clip, activations, the new cell and hidden state and
   the Y slice. Past a sequence's end (sequence_lens) Y is zero and the state is left untouched,
   so the final state is the one at the sequence's last step.
   -D CELL=0|1|2        RNN, LSTM, GRU (default 1)
   -D ACT_F0, ACT_G0, ACT_H0, ACT_F1, ACT_G1, ACT_H1
                        activations f, g, h of direction 0 and 1: each an expression in x, alpha
                        and beta, the float expression of its row in lib/ops/elementwise_table.h
                        (rnn.c always sets them; default x); RNN uses only f (its one activation)
   -D AF0_A, AF0_B ...  alpha / beta of each of those activations (AG0_A, AH1_B, ...; default 0)
   -D HAS_CLIP=0|1      clip gate pre-activations to [-CLIP, CLIP] (default 0)
   -D CLIP=f            the clip threshold (default 0.0f)
   -D INPUT_FORGET=0|1  LSTM: couple the forget gate to the input gate, f = 1 - i (default 0)
   -D LBR=0|1           GRU linear_before_reset (default 0) */
#include "common/index.cl"

#ifndef CELL
#define CELL 1
#endif
#ifndef ACT_F0
#define ACT_F0 x
#endif
#ifndef ACT_G0
#define ACT_G0 x
#endif
#ifndef ACT_H0
#define ACT_H0 x
#endif
#ifndef ACT_F1
#define ACT_F1 x
#endif
#ifndef ACT_G1
#define ACT_G1 x
#endif
#ifndef ACT_H1
#define ACT_H1 x
#endif
#ifndef AF0_A
#define AF0_A 0.0f
#endif
#ifndef AF0_B
#define AF0_B 0.0f
#endif
#ifndef AG0_A
#define AG0_A 0.0f
#endif
#ifndef AG0_B
#define AG0_B 0.0f
#endif
#ifndef AH0_A
#define AH0_A 0.0f
#endif
#ifndef AH0_B
#define AH0_B 0.0f
#endif
#ifndef AF1_A
#define AF1_A 0.0f
#endif
#ifndef AF1_B
#define AF1_B 0.0f
#endif
#ifndef AG1_A
#define AG1_A 0.0f
#endif
#ifndef AG1_B
#define AG1_B 0.0f
#endif
#ifndef AH1_A
#define AH1_A 0.0f
#endif
#ifndef AH1_B
#define AH1_B 0.0f
#endif
#ifndef HAS_CLIP
#define HAS_CLIP 0
#endif
#ifndef CLIP
#define CLIP 0.0f
#endif
#ifndef INPUT_FORGET
#define INPUT_FORGET 0
#endif
#ifndef LBR
#define LBR 0
#endif

#if CELL == 0
#define NGATES 1
#elif CELL == 1
#define NGATES 4
#else
#define NGATES 3
#endif

/* One function per gate activation, so each expression sees its own x, alpha and beta. */
#define RNN_ACT_FN(fn, expr)                                                                       \
  inline float fn(float x, float alpha, float beta) { return expr; }
RNN_ACT_FN(rnn_act_f0, ACT_F0)
RNN_ACT_FN(rnn_act_g0, ACT_G0)
RNN_ACT_FN(rnn_act_h0, ACT_H0)
RNN_ACT_FN(rnn_act_f1, ACT_F1)
RNN_ACT_FN(rnn_act_g1, ACT_G1)
RNN_ACT_FN(rnn_act_h1, ACT_H1)

#define ACT_F(d, x) ((d) == 0 ? rnn_act_f0((x), AF0_A, AF0_B) : rnn_act_f1((x), AF1_A, AF1_B))
#define ACT_G(d, x) ((d) == 0 ? rnn_act_g0((x), AG0_A, AG0_B) : rnn_act_g1((x), AG1_A, AG1_B))
#define ACT_H(d, x) ((d) == 0 ? rnn_act_h0((x), AH0_A, AH0_B) : rnn_act_h1((x), AH1_A, AH1_B))

inline float rnn_clip(float x) {
#if HAS_CLIP
  return clamp(x, -CLIP, CLIP);
#else
  return x;
#endif
}

/* Where everything of (direction d, batch row b, unit j) lives at this step. */
struct rnn_at {
  int live;    /* step < sequence length */
  size_t xw;   /* gate 0 of the input projection row */
  size_t hr;   /* gate 0 of the recurrent product row */
  size_t st;   /* hidden / cell state (Y_h layout) */
  size_t y;    /* Y element (valid when live), else the slot to zero */
  size_t bias; /* Wb gate 0; Rb is NGATES * hidden further */
};

/* Buffers come with element offsets because they are regions of one workspace.
   Shape parameters shared by every kernel here. dirs: number of directions; rev: bit d set when
   direction d runs backwards; layout: 0 time-major and 1 batch-major (the ONNX layout attribute),
   2 time-major with Y as [seq, batch, dirs, hidden] (nncl.y_layout: what the next layer of a
   bidirectional stack reads, so no Transpose runs between layers). */
#define RNN_SHAPE_ARGS                                                                             \
  const uint step, const uint seq, const uint batch, const uint hidden, const uint dirs,           \
      const uint rev, const int layout, __global const int *lens, const int has_lens

inline struct rnn_at rnn_locate(const uint d, const uint b, const uint j, RNN_SHAPE_ARGS) {
  struct rnn_at a;
  const uint len = has_lens ? min((uint)max(lens[b], 0), seq) : seq;
  const uint gh = NGATES * hidden;
  a.live = step < len;
  const uint t = a.live ? (((rev >> d) & 1u) ? len - 1u - step : step) : step;
  const size_t row = layout != 1 ? (size_t)t * batch + b : (size_t)b * seq + t;
  a.xw = ((size_t)d * seq * batch + row) * gh + j;
  a.hr = ((size_t)d * batch + b) * gh + j;
  a.st = (layout != 1 ? ((size_t)d * batch + b) : ((size_t)b * dirs + d)) * hidden + j;
  a.y = (layout == 0   ? (((size_t)t * dirs + d) * batch + b)
         : layout == 1 ? (((size_t)b * seq + t) * dirs + d)
                       : (((size_t)t * batch + b) * dirs + d)) *
            hidden +
        j;
  a.bias = (size_t)d * 2 * gh + j;
  return a;
}

/* Pre-activation of gate g: projection + recurrent product (hv) + both biases. */
#define PRE(g)                                                                                     \
  (xw[a.xw + (g)*hidden] + hv[g] +                                                                 \
   (has_bias ? bias[a.bias + (g)*hidden] + bias[a.bias + (NGATES + (g)) * hidden] : 0.0f))

/* The cell equations for one unit given its recurrent products hv[g]; updates the LSTM cell in
   place and returns the new hidden value. hp is the unit's previous hidden value. */
inline float rnn_cell(const uint d, const struct rnn_at a, const uint j, const uint hidden,
                      __global const float *xw, const float *hv, __global const float *bias,
                      const int has_bias, __global const float *peep, const int has_peep,
                      __global float *c, const float hp) {
#if CELL == 0
  (void)peep;
  (void)has_peep;
  (void)c;
  (void)hp;
  (void)j;
  return ACT_F(d, rnn_clip(PRE(0)));
#elif CELL == 1
  /* gate order i, o, f, c; peephole order i, o, f */
  (void)hp;
  const float cp = c[a.st];
  const size_t pb = (size_t)d * 3 * hidden + j;
  const float pi = has_peep ? peep[pb] : 0.0f, po = has_peep ? peep[pb + hidden] : 0.0f,
              pf = has_peep ? peep[pb + 2 * hidden] : 0.0f;
  const float ig = ACT_F(d, rnn_clip(PRE(0) + pi * cp));
#if INPUT_FORGET
  const float fg = 1.0f - ig;
  (void)pf;
#else
  const float fg = ACT_F(d, rnn_clip(PRE(2) + pf * cp));
#endif
  const float cg = ACT_G(d, rnn_clip(PRE(3)));
  const float cn = fg * cp + ig * cg;
  const float og = ACT_F(d, rnn_clip(PRE(1) + po * cn));
  c[a.st] = cn;
  return og * ACT_H(d, cn);
#else
  /* gate order z, r, h */
  (void)peep;
  (void)has_peep;
  (void)c;
  (void)j;
  const float z = ACT_F(d, rnn_clip(PRE(0)));
#if LBR
  const float r = ACT_F(d, rnn_clip(PRE(1)));
  const float rb = has_bias ? bias[a.bias + 5 * hidden] : 0.0f;
  const float wb = has_bias ? bias[a.bias + 2 * hidden] : 0.0f;
  const float ht = ACT_G(d, rnn_clip(xw[a.xw + 2 * hidden] + wb + r * (hv[2] + rb)));
#else
  const float ht = ACT_G(d, rnn_clip(PRE(2)));
#endif
  return (1.0f - z) * ht + z * hp;
#endif
}

/* One time step for all directions: global (hidden, batch, dirs). hr holds H_prev . R^T from
   the recurrent GEMM; for GRU without linear_before_reset its h gate must already hold (r * H_prev) . Rh^T
   (rnn_gru_reset and a second GEMM ran before). */
__kernel void rnn_step(__global const float *xw, const uint xw_off, __global const float *hr,
                       const uint hr_off, __global const float *bias, const int has_bias,
                       __global const float *peep, const int has_peep, __global float *h,
                       const uint h_off, __global float *c, const uint c_off, __global float *y,
                       const int has_y, RNN_SHAPE_ARGS) {
  const uint j = get_global_id(0), b = get_global_id(1), d = get_global_id(2);
  if (j >= hidden || b >= batch || d >= dirs) return;
  xw += xw_off;
  hr += hr_off;
  h += h_off;
  c += c_off;
  const struct rnn_at a =
      rnn_locate(d, b, j, step, seq, batch, hidden, dirs, rev, layout, lens, has_lens);
  if (!a.live) {
    if (has_y) y[a.y] = 0.0f;
    return;
  }
  float hv[NGATES];
  for (int g = 0; g < NGATES; g++) hv[g] = hr[a.hr + g * hidden];
  const float hn = rnn_cell(d, a, j, hidden, xw, hv, bias, has_bias, peep, has_peep, c, h[a.st]);
  h[a.st] = hn;
  if (has_y) y[a.y] = hn;
}

/* ---- the fused step: recurrent product and gates in one launch ----
   Each work-item owns a panel of RNN_VW consecutive units of one direction, for every gate, and
   a group of batch rows (work-group of 1, as gemm_tile: PoCL gives each item a core and LLVM keeps
   the VT accumulators in vector registers). rp is R packed per panel, [dirs][panel][hidden][NGATES]
   [RNN_VW] (zero past hidden, rnn_pack_r or the host at plan time), so the k loop reads one
   contiguous stream of NGATES vectors per step of k; a block of RNN_KB rows of the panel stays in
   L1 while the item walks its batch rows RNN_BT at a time. The gate equations then run
   on whole vectors in registers: nothing of the product goes to memory, one launch per step for
   every direction. Every unit reads all of H_prev, so the state is double-buffered (h_in ->
   h_out). Not for GRU without linear_before_reset (its h-gate product needs r of every unit).
   -D RNN_VW=8      units per panel: 4, 8 or 16 (one vector)
   -D RNN_BT=2      batch rows per register tile (NGATES * RNN_BT vector accumulators)
   -D RNN_KB=64     k block: RNN_KB * NGATES * RNN_VW floats of the panel stay in L1 while the
                    item walks all its batch tiles
   -D RNN_MAXB=16   most batch rows per item (a multiple of RNN_BT: the private partial sums)
   -D RNN_VGATES=0|1  the gate activations on whole vectors (1, option rnn.gates=vector) or lane
                    by lane through the scalar forms (0, default) */
#ifndef RNN_VW
#define RNN_VW 8
#endif
#ifndef RNN_BT
#define RNN_BT 2
#endif
#ifndef RNN_KB
#define RNN_KB 64
#endif
#ifndef RNN_MAXB
#define RNN_MAXB 16
#endif
#ifndef RNN_VGATES
#define RNN_VGATES 0
#endif
#define RNN_CAT_(a, b) a##b
#define RNN_CAT(a, b) RNN_CAT_(a, b)
#define VT RNN_CAT(float, RNN_VW)
#define VLOAD RNN_CAT(vload, RNN_VW)
#define VSTORE RNN_CAT(vstore, RNN_VW)

/* The activations on whole vectors, by default lane by lane through the scalar forms: vector
   built-ins (exp, log1p on floatN) round differently in the last bit on PoCL, and a fused gate
   must give the unfused op's bits (test_activation_fusion). That costs: the scalar exp/tanh calls
   took more than half of the fused LSTM step (H512 B16) against a step without them, so
   RNN_VGATES evaluates each expression on the whole vector instead (opt-in: last-bit
   differences). */
#if RNN_VGATES
#define RNN_ACT_VFN(fn, sfn)                                                                       \
  inline VT fn(VT x, float alpha, float beta) { return RNN_CAT(sfn, _vexpr)(x, alpha, beta); }
#define RNN_ACT_VX(fn, expr)                                                                       \
  inline VT fn##_vexpr(VT x, float alpha, float beta) { return expr; }
RNN_ACT_VX(rnn_act_f0, ACT_F0)
RNN_ACT_VX(rnn_act_g0, ACT_G0)
RNN_ACT_VX(rnn_act_h0, ACT_H0)
RNN_ACT_VX(rnn_act_f1, ACT_F1)
RNN_ACT_VX(rnn_act_g1, ACT_G1)
RNN_ACT_VX(rnn_act_h1, ACT_H1)
#else
#define RNN_ACT_VFN(fn, sfn)                                                                       \
  inline VT fn(VT x, float alpha, float beta) {                                                    \
    float l[RNN_VW];                                                                               \
    VSTORE(x, 0, l);                                                                               \
    for (uint i = 0; i < RNN_VW; i++) l[i] = sfn(l[i], alpha, beta);                               \
    return VLOAD(0, l);                                                                            \
  }
#endif
RNN_ACT_VFN(rnn_vact_f0, rnn_act_f0)
RNN_ACT_VFN(rnn_vact_g0, rnn_act_g0)
RNN_ACT_VFN(rnn_vact_h0, rnn_act_h0)
RNN_ACT_VFN(rnn_vact_f1, rnn_act_f1)
RNN_ACT_VFN(rnn_vact_g1, rnn_act_g1)
RNN_ACT_VFN(rnn_vact_h1, rnn_act_h1)
#define VACT_F(d, x) ((d) == 0 ? rnn_vact_f0((x), AF0_A, AF0_B) : rnn_vact_f1((x), AF1_A, AF1_B))
#define VACT_G(d, x) ((d) == 0 ? rnn_vact_g0((x), AG0_A, AG0_B) : rnn_vact_g1((x), AG1_A, AG1_B))
#define VACT_H(d, x) ((d) == 0 ? rnn_vact_h0((x), AH0_A, AH0_B) : rnn_vact_h1((x), AH1_A, AH1_B))

inline VT rnn_vclip(VT x) {
#if HAS_CLIP
  return clamp(x, -CLIP, CLIP);
#else
  return x;
#endif
}

/* n (<= RNN_VW) consecutive floats at p[o]; lanes past n are 0 and never read past n. */
inline VT rnn_vget(__global const float *p, const size_t o, const uint n) {
  if (n == RNN_VW) return VLOAD(0, p + o);
  float l[RNN_VW];
  for (uint i = 0; i < RNN_VW; i++) l[i] = i < n ? p[o + i] : 0.0f;
  return VLOAD(0, l);
}

inline void rnn_vput(const VT v, __global float *p, const size_t o, const uint n) {
  if (n == RNN_VW) {
    VSTORE(v, 0, p + o);
    return;
  }
  float l[RNN_VW];
  VSTORE(v, 0, l);
  for (uint i = 0; i < n; i++) p[o + i] = l[i];
}

/* Pre-activation of gate g on the panel: projection + recurrent product + both biases. */
#define VPRE(g)                                                                                    \
  (rnn_vget(xw, a.xw + (g)*hidden, n) + hv[g] +                                                    \
   (has_bias ? rnn_vget(bias, a.bias + (g)*hidden, n) +                                            \
                   rnn_vget(bias, a.bias + (NGATES + (g)) * hidden, n)                             \
             : (VT)0.0f))

/* rnn_cell on a panel of n units (a located at its first unit): the same equations on vectors. */
inline VT rnn_vcell(const uint d, const struct rnn_at a, const uint j0, const uint n,
                    const uint hidden, __global const float *xw, const VT *hv,
                    __global const float *bias, const int has_bias, __global const float *peep,
                    const int has_peep, __global float *c, const VT hp) {
#if CELL == 0
  (void)peep;
  (void)has_peep;
  (void)c;
  (void)hp;
  (void)j0;
  return VACT_F(d, rnn_vclip(VPRE(0)));
#elif CELL == 1
  (void)hp;
  const VT cp = rnn_vget(c, a.st, n);
  const size_t pb = (size_t)d * 3 * hidden + j0;
  const VT pi = has_peep ? rnn_vget(peep, pb, n) : (VT)0.0f;
  const VT po = has_peep ? rnn_vget(peep, pb + hidden, n) : (VT)0.0f;
  const VT pf = has_peep ? rnn_vget(peep, pb + 2 * hidden, n) : (VT)0.0f;
  const VT ig = VACT_F(d, rnn_vclip(VPRE(0) + pi * cp));
#if INPUT_FORGET
  const VT fg = 1.0f - ig;
  (void)pf;
#else
  const VT fg = VACT_F(d, rnn_vclip(VPRE(2) + pf * cp));
#endif
  const VT cg = VACT_G(d, rnn_vclip(VPRE(3)));
  const VT cn = fg * cp + ig * cg;
  const VT og = VACT_F(d, rnn_vclip(VPRE(1) + po * cn));
  rnn_vput(cn, c, a.st, n);
  return og * VACT_H(d, cn);
#else
  (void)peep;
  (void)has_peep;
  (void)c;
  (void)j0;
  const VT z = VACT_F(d, rnn_vclip(VPRE(0)));
  const VT r = VACT_F(d, rnn_vclip(VPRE(1)));
  const VT rb = has_bias ? rnn_vget(bias, a.bias + 5 * hidden, n) : (VT)0.0f;
  const VT wb = has_bias ? rnn_vget(bias, a.bias + 2 * hidden, n) : (VT)0.0f;
  const VT ht = VACT_G(d, rnn_vclip(rnn_vget(xw, a.xw + 2 * hidden, n) + wb + r * (hv[2] + rb)));
  return (1.0f - z) * ht + z * hp;
#endif
}

/* One time step for all directions: global (panels, batch groups, dirs), work-group (1, 1, 1).
   bgroup: batch rows per item (a multiple of RNN_BT, at most RNN_MAXB). */
__kernel void rnn_step_fused(__global const float *xw, const uint xw_off, __global const float *rp,
                             const uint rp_off, __global const float *bias, const int has_bias,
                             __global const float *peep, const int has_peep,
                             __global const float *h_in, const uint h_in_off, __global float *h_out,
                             const uint h_out_off, __global float *c, const uint c_off,
                             __global float *y, const int has_y, const uint bgroup,
                             RNN_SHAPE_ARGS) {
  const uint p = get_global_id(0), bg = get_global_id(1), d = get_global_id(2);
  const uint np = (hidden + RNN_VW - 1) / RNN_VW, j0 = p * RNN_VW;
  const uint b_begin = bg * bgroup, b_end = min(batch, b_begin + bgroup);
  if (p >= np || b_begin >= batch || d >= dirs) return;
  const uint n = min((uint)RNN_VW, hidden - j0);
#if CELL == 2 && !LBR
  /* rnn.c never launches this kernel for that cell: keep the build honest */
  return;
#endif
  xw += xw_off;
  h_in += h_in_off;
  h_out += h_out_off;
  c += c_off;
  __global const float *pr = rp + rp_off + ((size_t)d * np + p) * hidden * (NGATES * RNN_VW);
  /* k in blocks of RNN_KB (that much of the panel stays in L1) over all the item's batch tiles;
     the sums wait in private memory between blocks */
  const uint n_tiles = (b_end - b_begin + RNN_BT - 1) / RNN_BT;
  VT part[RNN_MAXB / RNN_BT][RNN_BT][NGATES];
  for (uint k0 = 0; k0 < hidden; k0 += RNN_KB) {
    const uint k1 = min(hidden, k0 + (uint)RNN_KB);
    for (uint ti = 0; ti < n_tiles; ti++) {
      __global const float *hp[RNN_BT];
      for (int t = 0; t < RNN_BT; t++) {
        const uint b = min(b_begin + ti * RNN_BT + (uint)t, b_end - 1u);
        hp[t] = h_in + (layout != 1 ? ((size_t)d * batch + b) : ((size_t)b * dirs + d)) * hidden;
      }
      VT acc[RNN_BT][NGATES];
      for (int t = 0; t < RNN_BT; t++)
        for (int g = 0; g < NGATES; g++) acc[t][g] = k0 ? part[ti][t][g] : (VT)0.0f;
      __global const float *rk = pr + (size_t)k0 * (NGATES * RNN_VW);
      for (uint k = k0; k < k1; k++, rk += NGATES * RNN_VW) {
        VT rv[NGATES];
#pragma unroll
        for (int g = 0; g < NGATES; g++) rv[g] = VLOAD(g, rk);
#pragma unroll
        for (int t = 0; t < RNN_BT; t++) {
          const VT hk = (VT)hp[t][k];
#pragma unroll
          for (int g = 0; g < NGATES; g++) acc[t][g] = fma(hk, rv[g], acc[t][g]);
        }
      }
      for (int t = 0; t < RNN_BT; t++)
        for (int g = 0; g < NGATES; g++) part[ti][t][g] = acc[t][g];
    }
  }
  for (uint ti = 0; ti < n_tiles; ti++)
    for (int t = 0; t < RNN_BT; t++) {
      const uint b = b_begin + ti * RNN_BT + (uint)t;
      if (b >= b_end) break;
      const struct rnn_at a =
          rnn_locate(d, b, j0, step, seq, batch, hidden, dirs, rev, layout, lens, has_lens);
      if (!a.live) {
        if (has_y) rnn_vput((VT)0.0f, y, a.y, n);
        rnn_vput(rnn_vget(h_in, a.st, n), h_out, a.st, n);
        continue;
      }
      const VT hn = rnn_vcell(d, a, j0, n, hidden, xw, part[ti][t], bias, has_bias, peep, has_peep,
                              c, rnn_vget(h_in, a.st, n));
      rnn_vput(hn, h_out, a.st, n);
      if (has_y) rnn_vput(hn, y, a.y, n);
    }
}

/* rp[d][p][k][g][l] = r[d][g * hidden + p * RNN_VW + l][k] (0 past hidden) for rnn_step_fused.
   Global (panels * RNN_VW, hidden, dirs). */
__kernel void rnn_pack_r(__global const float *r, __global float *rp, const uint rp_off,
                         const uint hidden, const uint dirs) {
  const uint u = get_global_id(0), k = get_global_id(1), d = get_global_id(2);
  const uint np = (hidden + RNN_VW - 1) / RNN_VW;
  if (u >= np * RNN_VW || k >= hidden || d >= dirs) return;
  const uint p = u / RNN_VW, l = u % RNN_VW;
  __global float *o = rp + rp_off + (((size_t)d * np + p) * hidden + k) * (NGATES * RNN_VW) + l;
  for (int g = 0; g < NGATES; g++)
    o[g * RNN_VW] =
        u < hidden ? r[((size_t)d * NGATES * hidden + (size_t)g * hidden + u) * hidden + k] : 0.0f;
}

/* GRU without linear_before_reset, first half of a step: rh = r * H_prev as a [dirs, batch,
   hidden] matrix for the second recurrent GEMM. Global (hidden, batch, dirs). */
__kernel void rnn_gru_reset(__global const float *xw, const uint xw_off, __global const float *hr,
                            const uint hr_off, __global const float *bias, const int has_bias,
                            __global const float *h, const uint h_off, __global float *rh,
                            const uint rh_off, RNN_SHAPE_ARGS) {
  const uint j = get_global_id(0), b = get_global_id(1), d = get_global_id(2);
  if (j >= hidden || b >= batch || d >= dirs) return;
  xw += xw_off;
  hr += hr_off;
  h += h_off;
  rh += rh_off;
  const struct rnn_at a =
      rnn_locate(d, b, j, step, seq, batch, hidden, dirs, rev, layout, lens, has_lens);
  const size_t o = ((size_t)d * batch + b) * hidden + j;
  if (!a.live) {
    rh[o] = 0.0f;
    return;
  }
  float hv[NGATES];
  for (int g = 0; g < NGATES; g++) hv[g] = hr[a.hr + g * hidden];
  rh[o] = ACT_F(d, rnn_clip(PRE(1))) * h[a.st];
}
