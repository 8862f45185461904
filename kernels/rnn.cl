/* rnn.cl: the per-step gate kernels of ONNX RNN, LSTM and GRU. The input projection X.W^T and the
   recurrent product H.R^T come from CLBlast; one launch here then finishes a whole time step for
   every direction and batch row: biases, peepholes, clip, activations, the new cell and hidden
   state (updated in place), and the Y slice. Past a sequence's end (sequence_lens) Y is zero
   and the state is left untouched, so the final state is the one at the sequence's last step.
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
   CLBlast; for GRU without linear_before_reset its h gate must already hold (r * H_prev) . Rh^T
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

/* Small batches: the recurrent product is a matrix-vector product per batch row, so the step
   computes it itself (no CLBlast call, one launch per step). rt is R transposed per direction,
   [dirs][hidden][NGATES * hidden], so neighbouring units read neighbouring floats. Every unit
   reads all of H_prev, so the state is double-buffered: h_in -> h_out. Global (hidden, batch,
   dirs). Not for GRU without linear_before_reset (its h-gate product needs r of every unit). */
__kernel void rnn_step_gemv(__global const float *xw, const uint xw_off, __global const float *rt,
                            const uint rt_off, __global const float *bias, const int has_bias,
                            __global const float *peep, const int has_peep,
                            __global const float *h_in, const uint h_in_off, __global float *h_out,
                            const uint h_out_off, __global float *c, const uint c_off,
                            __global float *y, const int has_y, RNN_SHAPE_ARGS) {
  const uint j = get_global_id(0), b = get_global_id(1), d = get_global_id(2);
  if (j >= hidden || b >= batch || d >= dirs) return;
  xw += xw_off;
  rt += rt_off;
  h_in += h_in_off;
  h_out += h_out_off;
  c += c_off;
  const struct rnn_at a =
      rnn_locate(d, b, j, step, seq, batch, hidden, dirs, rev, layout, lens, has_lens);
  if (!a.live) {
    if (has_y) y[a.y] = 0.0f;
    h_out[a.st] = h_in[a.st];
    return;
  }
  const uint gh = NGATES * hidden;
  __global const float *hp = h_in + (a.st - j);
  __global const float *rc = rt + (size_t)d * hidden * gh + j;
  float hv[NGATES];
  for (int g = 0; g < NGATES; g++) hv[g] = 0.0f;
  for (uint k = 0; k < hidden; k++) {
    const float hk = hp[k];
    __global const float *rk = rc + (size_t)k * gh;
    for (int g = 0; g < NGATES; g++) hv[g] = fma(hk, rk[g * hidden], hv[g]);
  }
  const float hn = rnn_cell(d, a, j, hidden, xw, hv, bias, has_bias, peep, has_peep, c, h_in[a.st]);
  h_out[a.st] = hn;
  if (has_y) y[a.y] = hn;
}

/* rt[d][k][q] = r[d][q][k] for rnn_step_gemv. Global (NGATES * hidden, hidden, dirs). */
__kernel void rnn_transpose_r(__global const float *r, __global float *rt, const uint rt_off,
                              const uint hidden, const uint dirs) {
  const uint q = get_global_id(0), k = get_global_id(1), d = get_global_id(2);
  const uint gh = NGATES * hidden;
  if (q >= gh || k >= hidden || d >= dirs) return;
  rt[rt_off + ((size_t)d * hidden + k) * gh + q] = r[((size_t)d * gh + q) * hidden + k];
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
