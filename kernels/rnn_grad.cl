/* rnn_grad.cl: back-propagation through time for ONNX RNN, LSTM and GRU (nncl.RNNGrad,
   nncl.LSTMGrad, nncl.GRUGrad in lib/train/op_rnn_grad.c). The forward is replayed with
   rnn_train_step, which keeps what the backward needs per time step (gate pre-activations, the
   previous hidden and cell state); rnn_grad_step then walks time in reverse, one launch per step,
   turning the hidden and cell gradients into gate pre-activation gradients dG. Recurrent and
   weight products are GEMMs in the op. rnn.cl supplies the cell's indexing (rnn_locate), gate
   activations and options; this file adds the derivatives:
   -D DACT_F0, DACT_G0, DACT_H0, DACT_F1, DACT_G1, DACT_H1
                        derivative of activation f, g, h of direction 0 and 1 with respect to its
                        input, an expression in x, alpha and beta (EW_GATE_GRAD_<id> of
                        lib/ops/elementwise_table.h; default 1.0f, the derivative of x)
   Buffers: every saved array lives in the op's workspace `ws`, at element offsets. Row-indexed
   arrays ([dirs][seq * batch][...]) use the input projection's row order, so the weight
   gradients are single GEMMs over the sequence; step arrays ([dirs][batch][...]) hold one step
   contiguously for the recurrent GEMMs. */
#include "rnn.cl"

#ifndef DACT_F0
#define DACT_F0 1.0f
#endif
#ifndef DACT_G0
#define DACT_G0 1.0f
#endif
#ifndef DACT_H0
#define DACT_H0 1.0f
#endif
#ifndef DACT_F1
#define DACT_F1 1.0f
#endif
#ifndef DACT_G1
#define DACT_G1 1.0f
#endif
#ifndef DACT_H1
#define DACT_H1 1.0f
#endif

RNN_ACT_FN(rnn_dact_f0, DACT_F0)
RNN_ACT_FN(rnn_dact_g0, DACT_G0)
RNN_ACT_FN(rnn_dact_h0, DACT_H0)
RNN_ACT_FN(rnn_dact_f1, DACT_F1)
RNN_ACT_FN(rnn_dact_g1, DACT_G1)
RNN_ACT_FN(rnn_dact_h1, DACT_H1)

/* Derivative of act(clip(x)) with respect to x: zero where the clip holds x at its bound. */
inline float rnn_dclip(float x) {
#if HAS_CLIP
  return fabs(x) <= CLIP ? 1.0f : 0.0f;
#else
  (void)x;
  return 1.0f;
#endif
}
#define DACT_F(d, x)                                                                               \
  (rnn_dclip(x) *                                                                                  \
   ((d) == 0 ? rnn_dact_f0(rnn_clip(x), AF0_A, AF0_B) : rnn_dact_f1(rnn_clip(x), AF1_A, AF1_B)))
#define DACT_G(d, x)                                                                               \
  (rnn_dclip(x) *                                                                                  \
   ((d) == 0 ? rnn_dact_g0(rnn_clip(x), AG0_A, AG0_B) : rnn_dact_g1(rnn_clip(x), AG1_A, AG1_B)))
/* h of LSTM acts on the cell state, which is never clipped */
#define DACT_H(d, x) ((d) == 0 ? rnn_dact_h0((x), AH0_A, AH0_B) : rnn_dact_h1((x), AH1_A, AH1_B))

/* Offsets (in floats) of the workspace arrays, one struct so every kernel reads them alike. */
#define RNN_WS_ARGS                                                                                \
  const uint pre_off, const uint hp_off, const uint cp_off, const uint cn_off, const uint aux_off, \
      const uint rh_off, const uint dg_off, const uint dgrh_off, const uint dgs_off

/* Replays one forward step for every direction and batch row, global (hidden, batch, dirs). pre
   holds the input projection X.W^T and is overwritten with each gate's full pre-activation
   (before clip); hr is H_prev.R^T for this step (for GRU without linear_before_reset its h gate
   holds (r * H_prev).Rh^T). hs / cs: the state, [dirs][batch][hidden]. Saves per row: hp =
   H_prev, LSTM cp = C_prev and cn = C_new, GRU linear_before_reset aux = H_prev.Rh^T + Rbh. Rows
   past a sequence's end get zeros (their gate gradients are zero; zeros keep the products
   finite). */
__kernel void rnn_train_step(__global float *ws, const uint hr_off, const uint hs_off,
                             const uint cs_off, RNN_WS_ARGS, __global const float *bias,
                             const int has_bias, __global const float *peep, const int has_peep,
                             RNN_SHAPE_ARGS) {
  const uint j = get_global_id(0), b = get_global_id(1), d = get_global_id(2);
  if (j >= hidden || b >= batch || d >= dirs) return;
  const struct rnn_at a =
      rnn_locate(d, b, j, step, seq, batch, hidden, dirs, rev, layout, lens, has_lens);
  const uint gh = NGATES * hidden;
  const size_t si = ((size_t)d * batch + b) * hidden + j, ri = (a.xw - j) / gh * hidden + j;
  __global float *xw = ws + pre_off;
  (void)rh_off, (void)dg_off, (void)dgrh_off, (void)dgs_off;
  if (!a.live) {
    ws[hp_off + ri] = 0.0f;
#if CELL == 1
    ws[cp_off + ri] = 0.0f;
    ws[cn_off + ri] = 0.0f;
#endif
    return;
  }
  float hv[NGATES];
  for (int g = 0; g < NGATES; g++) hv[g] = ws[hr_off + a.hr + g * hidden];
  const float hp = ws[hs_off + si];
  ws[hp_off + ri] = hp;
#if CELL == 0
  (void)peep, (void)has_peep, (void)cs_off, (void)cp_off, (void)cn_off, (void)aux_off;
  const float p0 = PRE(0);
  xw[a.xw] = p0;
  ws[hs_off + si] = ACT_F(d, rnn_clip(p0));
#elif CELL == 1
  (void)aux_off;
  const float cp = ws[cs_off + si];
  const size_t pb = (size_t)d * 3 * hidden + j;
  const float pi = has_peep ? peep[pb] : 0.0f, po = has_peep ? peep[pb + hidden] : 0.0f,
              pf = has_peep ? peep[pb + 2 * hidden] : 0.0f;
  const float p_i = PRE(0) + pi * cp, p_f = PRE(2) + pf * cp, p_c = PRE(3);
  const float ig = ACT_F(d, rnn_clip(p_i));
#if INPUT_FORGET
  const float fg = 1.0f - ig;
#else
  const float fg = ACT_F(d, rnn_clip(p_f));
#endif
  const float cn = fg * cp + ig * ACT_G(d, rnn_clip(p_c));
  const float p_o = PRE(1) + po * cn;
  xw[a.xw] = p_i;
  xw[a.xw + hidden] = p_o;
  xw[a.xw + 2 * hidden] = p_f;
  xw[a.xw + 3 * hidden] = p_c;
  ws[cp_off + ri] = cp;
  ws[cn_off + ri] = cn;
  ws[cs_off + si] = cn;
  ws[hs_off + si] = ACT_F(d, rnn_clip(p_o)) * ACT_H(d, cn);
#else
  (void)peep, (void)has_peep, (void)cs_off, (void)cp_off, (void)cn_off;
  const float p_z = PRE(0), p_r = PRE(1);
  const float z = ACT_F(d, rnn_clip(p_z));
#if LBR
  const float r = ACT_F(d, rnn_clip(p_r));
  const float rb = has_bias ? bias[a.bias + 5 * hidden] : 0.0f;
  const float wb = has_bias ? bias[a.bias + 2 * hidden] : 0.0f;
  const float aux = hv[2] + rb;
  const float p_h = xw[a.xw + 2 * hidden] + wb + r * aux;
  ws[aux_off + ri] = aux;
#else
  (void)aux_off;
  const float p_h = PRE(2);
#endif
  xw[a.xw] = p_z;
  xw[a.xw + hidden] = p_r;
  xw[a.xw + 2 * hidden] = p_h;
  ws[hs_off + si] = (1.0f - z) * ACT_G(d, rnn_clip(p_h)) + z * hp;
#endif
}

/* GRU without linear_before_reset, between the step's two recurrent GEMMs: rh = r * H_prev as a
   [dirs][batch][hidden] step matrix (at rh_off) and per row (at aux_off, for dRh = dGh^T rh).
   Global (hidden, batch, dirs). */
__kernel void rnn_train_gru_reset(__global float *ws, const uint hr_off, const uint hs_off,
                                  const uint rs_off, RNN_WS_ARGS, __global const float *bias,
                                  const int has_bias, RNN_SHAPE_ARGS) {
  const uint j = get_global_id(0), b = get_global_id(1), d = get_global_id(2);
  if (j >= hidden || b >= batch || d >= dirs) return;
  const struct rnn_at a =
      rnn_locate(d, b, j, step, seq, batch, hidden, dirs, rev, layout, lens, has_lens);
  const uint gh = NGATES * hidden;
  const size_t si = ((size_t)d * batch + b) * hidden + j, ri = (a.xw - j) / gh * hidden + j;
  __global const float *xw = ws + pre_off;
  (void)hp_off, (void)cp_off, (void)cn_off, (void)rh_off, (void)dg_off, (void)dgrh_off;
  (void)dgs_off;
  if (!a.live) {
    ws[rs_off + si] = 0.0f;
    ws[aux_off + ri] = 0.0f;
    return;
  }
#if CELL == 2
  float hv[NGATES];
  for (int g = 0; g < NGATES; g++) hv[g] = ws[hr_off + a.hr + g * hidden];
  const float rh = ACT_F(d, rnn_clip(PRE(1))) * ws[hs_off + si];
  ws[rs_off + si] = rh;
  ws[aux_off + ri] = rh;
#else
  (void)xw, (void)hr_off, (void)bias, (void)has_bias; /* GRU only */
#endif
}

/* Starts the backward: the replay's state from initial_h / initial_c (or zeros) and the carried
   gradients dh, dc from dY_h / dY_c (or zeros), all [dirs][batch][hidden]. Global (hidden,
   batch, dirs). */
__kernel void rnn_grad_init(__global float *ws, const uint hs_off, const uint cs_off,
                            const uint dh_off, const uint dc_off, __global const float *h0,
                            const int has_h0, __global const float *c0, const int has_c0,
                            __global const float *dyh, const int has_dyh, __global const float *dyc,
                            const int has_dyc, RNN_SHAPE_ARGS) {
  const uint j = get_global_id(0), b = get_global_id(1), d = get_global_id(2);
  if (j >= hidden || b >= batch || d >= dirs) return;
  const struct rnn_at a =
      rnn_locate(d, b, j, step, seq, batch, hidden, dirs, rev, layout, lens, has_lens);
  const size_t si = ((size_t)d * batch + b) * hidden + j;
  ws[hs_off + si] = has_h0 ? h0[a.st] : 0.0f;
  ws[cs_off + si] = has_c0 ? c0[a.st] : 0.0f;
  ws[dh_off + si] = has_dyh ? dyh[a.st] : 0.0f;
  ws[dc_off + si] = has_dyc ? dyc[a.st] : 0.0f;
}

/* Ends the backward: the carried gradients are those of initial_h and initial_c (in their
   layout). Global (hidden, batch, dirs). */
__kernel void rnn_grad_finish(__global const float *ws, const uint dh_off, const uint dc_off,
                              __global float *dh0, const int has_dh0, __global float *dc0,
                              const int has_dc0, RNN_SHAPE_ARGS) {
  const uint j = get_global_id(0), b = get_global_id(1), d = get_global_id(2);
  if (j >= hidden || b >= batch || d >= dirs) return;
  const struct rnn_at a =
      rnn_locate(d, b, j, step, seq, batch, hidden, dirs, rev, layout, lens, has_lens);
  const size_t si = ((size_t)d * batch + b) * hidden + j;
  if (has_dh0) dh0[a.st] = ws[dh_off + si];
  if (has_dc0) dc0[a.st] = ws[dc_off + si];
}

/* One backward step (the forward's `step`, walked from seq - 1 down), global (hidden, batch,
   dirs). dh_in: the hidden-state gradient carried from the later step (dY_h at the start); dY's
   slice is added here. Writes the gate pre-activation gradients per row (dg, the W side) and for
   the step (dgs, the R side, [dirs][batch][gates * hidden]) and dh_out, the part of H_prev's
   gradient not passing through R (GRU's z * dh, or all of dh past a sequence's end); the op then
   adds dgs . R. dc is the cell gradient, updated in place. GRU with linear_before_reset also
   writes the R side of its h gate per row (dgrh); without it the r gate waits for
   rnn_grad_gru_reset. */
__kernel void rnn_grad_step(__global float *ws, const uint dh_in_off, const uint dh_out_off,
                            const uint dc_off, RNN_WS_ARGS, __global const float *dy,
                            const int has_dy, __global const float *peep, const int has_peep,
                            RNN_SHAPE_ARGS) {
  const uint j = get_global_id(0), b = get_global_id(1), d = get_global_id(2);
  if (j >= hidden || b >= batch || d >= dirs) return;
  const struct rnn_at a =
      rnn_locate(d, b, j, step, seq, batch, hidden, dirs, rev, layout, lens, has_lens);
  const uint gh = NGATES * hidden;
  const size_t si = ((size_t)d * batch + b) * hidden + j, ri = (a.xw - j) / gh * hidden + j;
  const size_t gi = a.xw, sg = ((size_t)d * batch + b) * gh + j;
  __global const float *pre = ws + pre_off;
  __global float *dg = ws + dg_off, *dgs = ws + dgs_off;
  (void)rh_off, (void)ri;
  const float dh = ws[dh_in_off + si] + (has_dy && a.live ? dy[a.y] : 0.0f);
  if (!a.live) {
    for (int g = 0; g < NGATES; g++) dg[gi + g * hidden] = dgs[sg + g * hidden] = 0.0f;
#if CELL == 2 && LBR
    ws[dgrh_off + ri] = 0.0f;
#endif
    ws[dh_out_off + si] = dh;
    return;
  }
#if CELL == 0
  (void)peep, (void)has_peep, (void)dc_off, (void)hp_off, (void)cp_off, (void)cn_off;
  (void)aux_off, (void)dgrh_off;
  const float dp = dh * DACT_F(d, pre[gi]);
  dg[gi] = dgs[sg] = dp;
  ws[dh_out_off + si] = 0.0f;
#elif CELL == 1
  (void)hp_off, (void)aux_off, (void)dgrh_off;
  const float p_i = pre[gi], p_o = pre[gi + hidden], p_f = pre[gi + 2 * hidden],
              p_c = pre[gi + 3 * hidden];
  const float cp = ws[cp_off + ri], cn = ws[cn_off + ri];
  const size_t pb = (size_t)d * 3 * hidden + j;
  const float pi = has_peep ? peep[pb] : 0.0f, po = has_peep ? peep[pb + hidden] : 0.0f,
              pf = has_peep ? peep[pb + 2 * hidden] : 0.0f;
  const float ig = ACT_F(d, rnn_clip(p_i)), og = ACT_F(d, rnn_clip(p_o)),
              cg = ACT_G(d, rnn_clip(p_c));
#if INPUT_FORGET
  const float fg = 1.0f - ig;
#else
  const float fg = ACT_F(d, rnn_clip(p_f));
#endif
  const float dpo = dh * ACT_H(d, cn) * DACT_F(d, p_o);
  const float dcn = ws[dc_off + si] + dh * og * DACT_H(d, cn) + dpo * po;
#if INPUT_FORGET
  (void)p_f;
  const float dpi = dcn * (cg - cp) * DACT_F(d, p_i), dpf = 0.0f; /* c = (1 - i) c_prev + i g */
#else
  const float dpi = dcn * cg * DACT_F(d, p_i), dpf = dcn * cp * DACT_F(d, p_f);
#endif
  const float dpc = dcn * ig * DACT_G(d, p_c);
  ws[dc_off + si] = dcn * fg + dpi * pi + dpf * pf;
  dg[gi] = dgs[sg] = dpi;
  dg[gi + hidden] = dgs[sg + hidden] = dpo;
  dg[gi + 2 * hidden] = dgs[sg + 2 * hidden] = dpf;
  dg[gi + 3 * hidden] = dgs[sg + 3 * hidden] = dpc;
  ws[dh_out_off + si] = 0.0f;
#else
  (void)peep, (void)has_peep, (void)dc_off, (void)cp_off, (void)cn_off;
  const float p_z = pre[gi], p_r = pre[gi + hidden], p_h = pre[gi + 2 * hidden];
  const float hp = ws[hp_off + ri];
  const float z = ACT_F(d, rnn_clip(p_z)), ht = ACT_G(d, rnn_clip(p_h));
  const float dpz = dh * (hp - ht) * DACT_F(d, p_z), dph = dh * (1.0f - z) * DACT_G(d, p_h);
  dg[gi] = dgs[sg] = dpz;
  dg[gi + 2 * hidden] = dph;
  ws[dh_out_off + si] = dh * z;
#if LBR
  /* p_h = xw_h + Wbh + r * aux, aux = H_prev.Rh^T + Rbh */
  const float r = ACT_F(d, rnn_clip(p_r));
  const float dpr = dph * ws[aux_off + ri] * DACT_F(d, p_r);
  dg[gi + hidden] = dgs[sg + hidden] = dpr;
  dgs[sg + 2 * hidden] = ws[dgrh_off + ri] = dph * r;
#else
  (void)aux_off, (void)dgrh_off, (void)p_r;
  dgs[sg + 2 * hidden] = dph;
#endif
#endif
}

/* GRU without linear_before_reset, after the GEMM drh = dGh . Rh (at rh_off, [dirs][batch]
   [hidden]): r's gradient is drh * H_prev, and H_prev gets drh * r. Global (hidden, batch,
   dirs). */
__kernel void rnn_grad_gru_reset(__global float *ws, const uint dh_out_off, RNN_WS_ARGS,
                                 RNN_SHAPE_ARGS) {
  const uint j = get_global_id(0), b = get_global_id(1), d = get_global_id(2);
  if (j >= hidden || b >= batch || d >= dirs) return;
  const struct rnn_at a =
      rnn_locate(d, b, j, step, seq, batch, hidden, dirs, rev, layout, lens, has_lens);
  (void)cp_off, (void)cn_off, (void)aux_off, (void)dgrh_off;
  if (!a.live) return;
  const uint gh = NGATES * hidden;
  const size_t si = ((size_t)d * batch + b) * hidden + j, ri = (a.xw - j) / gh * hidden + j;
  const size_t sg = ((size_t)d * batch + b) * gh + j;
  const float p_r = ws[pre_off + a.xw + hidden], drh = ws[rh_off + si];
  const float dpr = drh * ws[hp_off + ri] * DACT_F(d, p_r);
  ws[dg_off + a.xw + hidden] = dpr;
  ws[dgs_off + sg + hidden] = dpr;
  ws[dh_out_off + si] += drh * ACT_F(d, rnn_clip(p_r));
}

/* Bias gradient, global (gates * hidden, dirs): the W half sums dG over all rows, the R half the
   same except GRU linear_before_reset's h gate, whose R side is dgrh. */
__kernel void rnn_grad_bias(__global const float *ws, const uint dg_off, const uint dgrh_off,
                            __global float *db, const uint rows, const uint hidden,
                            const uint dirs) {
  const uint q = get_global_id(0), d = get_global_id(1);
  const uint gh = NGATES * hidden;
  if (q >= gh || d >= dirs) return;
  float sw = 0.0f, sr = 0.0f;
  for (uint r = 0; r < rows; r++) {
    const float v = ws[dg_off + ((size_t)d * rows + r) * gh + q];
    sw += v;
#if CELL == 2 && LBR
    sr += q >= 2 * hidden ? ws[dgrh_off + ((size_t)d * rows + r) * hidden + q - 2 * hidden] : v;
#else
    (void)dgrh_off;
    sr += v;
#endif
  }
  db[(size_t)d * 2 * gh + q] = sw;
  db[(size_t)d * 2 * gh + gh + q] = sr;
}

/* LSTM peephole gradient, global (hidden, dirs): P = [pi, po, pf] multiply c_prev, c_new and
   c_prev in gates i, o and f. */
__kernel void rnn_grad_peep(__global const float *ws, const uint dg_off, const uint cp_off,
                            const uint cn_off, __global float *dp, const uint rows,
                            const uint hidden, const uint dirs) {
  const uint j = get_global_id(0), d = get_global_id(1);
  const uint gh = NGATES * hidden;
  if (j >= hidden || d >= dirs) return;
  float si = 0.0f, so = 0.0f, sf = 0.0f;
  for (uint r = 0; r < rows; r++) {
    const size_t g = ((size_t)d * rows + r) * gh + j, c = ((size_t)d * rows + r) * hidden + j;
    si += ws[dg_off + g] * ws[cp_off + c];
    so += ws[dg_off + g + hidden] * ws[cn_off + c];
    sf += ws[dg_off + g + 2 * hidden] * ws[cp_off + c];
  }
  dp[(size_t)d * 3 * hidden + j] = si;
  dp[(size_t)d * 3 * hidden + hidden + j] = so;
  dp[(size_t)d * 3 * hidden + 2 * hidden + j] = sf;
}
