/* bench_rnn.c: `nncl bench rnn`: LSTM / GRU networks timed through the real op path
   (op_instance), with the CLBlast SGEMM of the same FLOP shape measured in the same run as the
   yardstick: the recurrence is efficient when its throughput approaches that GEMM's. */
#include <stdlib.h>
#include <string.h>

#include "nncl/bench.h"
#include "op.h"

static nncl_status one_layer(nncl_context *ctx, const nncl_bench_rnn *r, int in_size, int runs,
                             uint32_t seed, double *seconds) {
  const int gates = strcmp(r->cell, "GRU") == 0 ? 3 : 4, dirs = r->bidirectional ? 2 : 1;
  nncl_array x = {0}, w = {0}, rr = {0}, b = {0};
  nncl_shape sx = {3, {r->seq, r->batch, in_size}}, sw = {3, {dirs, gates * r->hidden, in_size}};
  nncl_shape sr = {3, {dirs, gates * r->hidden, r->hidden}},
             sb = {2, {dirs, 2 * gates * r->hidden}};
  nncl_status st = nncl_array_alloc(&x, NNCL_FLOAT32, &sx);
  if (st == NNCL_OK) st = nncl_array_alloc(&w, NNCL_FLOAT32, &sw);
  if (st == NNCL_OK) st = nncl_array_alloc(&rr, NNCL_FLOAT32, &sr);
  if (st == NNCL_OK) st = nncl_array_alloc(&b, NNCL_FLOAT32, &sb);
  nncl_array *all[] = {&x, &w, &rr, &b};
  for (int i = 0; st == NNCL_OK && i < 4; i++) {
    float *p = all[i]->data;
    size_t n = (size_t)nncl_shape_numel(&all[i]->shape);
    uint32_t s = seed + (uint32_t)i * 7919u + 1u;
    for (size_t k = 0; k < n; k++) {
      s = s * 1664525u + 1013904223u;
      p[k] = ((float)(s >> 8) / 16777216.0f - 0.5f) * 0.2f;
    }
  }
  struct op_instance *oi = NULL;
  if (st == NNCL_OK) {
    struct nncl__attr attrs[] = {
        A_INT("hidden_size", r->hidden),
        A_STR("direction", r->bidirectional ? "bidirectional" : "forward")};
    const nncl_array *in[] = {&x, &w, &rr, &b};
    st = op_instance_create(ctx, r->cell, 14, attrs, 2, 4, in, 1, NULL, NULL, &oi);
  }
  if (st == NNCL_OK) st = op_instance_time(oi, 1, runs, seconds);
  op_instance_destroy(oi);
  for (int i = 0; i < 4; i++) nncl_array_free(all[i]);
  return st;
}

nncl_status nncl_bench_rnn_run(nncl_context *ctx, int runs, nncl_bench_rnn *r) {
  if (!ctx || !r || !r->cell || (strcmp(r->cell, "LSTM") != 0 && strcmp(r->cell, "GRU") != 0) ||
      r->input <= 0 || r->hidden <= 0 || r->seq <= 0 || r->batch <= 0 || r->layers <= 0)
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "bench rnn: bad configuration");
  const int gates = strcmp(r->cell, "GRU") == 0 ? 3 : 4, dirs = r->bidirectional ? 2 : 1;
  double total = 0, flops = 0;
  for (int l = 0; l < r->layers; l++) {
    int in_size = l == 0 ? r->input : dirs * r->hidden;
    double t = 0;
    NNCL_TRY(one_layer(ctx, r, in_size, runs, (uint32_t)l, &t));
    total += t;
    flops += 2.0 * gates * r->hidden * (double)(in_size + r->hidden) * r->seq * r->batch * dirs;
  }
  r->seconds = total;
  r->gflops = flops / total * 1e-9;
  r->step_us = total / r->seq * 1e6;
  NNCL_TRY(nncl_bench_sgemm(ctx, (size_t)r->seq * (size_t)r->batch,
                            (size_t)(dirs * gates * r->hidden), (size_t)(r->input + r->hidden),
                            runs, NULL, &r->yardstick_gflops));
  r->ratio = r->gflops / r->yardstick_gflops;
  return NNCL_OK;
}
