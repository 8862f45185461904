/* test_train_optim.c: the optimizer kernels against a double-precision host implementation of
   PyTorch's update rules (torch.optim SGD, Adam, AdamW, single-tensor code paths), over six steps
   with a new random gradient each step, on 19 tensors of odd sizes (one empty), which the
   multi-tensor kernel updates in two launches per step (16 tensors per launch). Tolerance: 2e-6 relative +
   1e-6 absolute on the parameters: float32 state rounding (~6e-8 per operation) accumulates over
   a few operations per step for six steps; Adam's division by sqrt(v) + eps amplifies it at
   most ~10x for gradients in [-1, 1]. A wrong formula (a missed bias correction, dampening on the
   first step, coupled vs decoupled decay) moves parameters by 1e-4 or more. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optim.h"
#include "test_util.h"

#define STEPS 6
#define NT 19 /* tensors: 18 non-empty ones take two launches of 16 slots */

/* PyTorch's rules in double: p, and state s1 (momentum buffer or m), s2 (v). */
static void host_step(const nncl_optimizer_options *o, int64_t t, double *p, const float *g,
                      double *s1, double *s2, size_t n) {
  for (size_t i = 0; i < n; i++) {
    double gv = g[i];
    if (o->kind == NNCL_OPTIM_SGD) {
      double d = gv + o->weight_decay * p[i];
      if (o->momentum != 0.0f) {
        s1[i] = t == 1 ? d : o->momentum * s1[i] + (1.0 - o->dampening) * d;
        d = o->nesterov ? d + o->momentum * s1[i] : s1[i];
      }
      p[i] -= o->lr * d;
      continue;
    }
    if (o->kind == NNCL_OPTIM_ADAMW)
      p[i] *= 1.0 - (double)o->lr * o->weight_decay;
    else
      gv += o->weight_decay * p[i];
    s1[i] = s1[i] + (1.0 - o->beta1) * (gv - s1[i]);
    s2[i] = o->beta2 * s2[i] + (1.0 - o->beta2) * gv * gv;
    double bc1 = 1.0 - pow(o->beta1, (double)t), bc2 = 1.0 - pow(o->beta2, (double)t);
    p[i] -= o->lr / bc1 * s1[i] / (sqrt(s2[i]) / sqrt(bc2) + o->eps);
  }
}

/* Six steps; with clip > 0 each step's gradients are scaled as clip_grad_norm_(clip) does, from
   the device's global norm, which must match the host's (1e-6 relative). */
static void run_clipped(const nncl_optimizer_options *o, double clip) {
  nncl_context *ctx = tu_ctx();
  int64_t numel[NT];
  for (int i = 0; i < NT; i++) numel[i] = i == 0 ? 37 : i == 1 ? 1001 : i == 5 ? 0 : 3 + 7 * i;
  struct nncl__optim *op;
  cr_assert_eq(nncl__optim_create(ctx, o, NT, numel, &op), NNCL_OK, "%s",
               nncl_context_last_error(ctx));
  cl_mem pm[NT], gm[NT];
  float *p[NT], *g[NT];
  double *pd[NT], *s1[NT], *s2[NT];
  for (int i = 0; i < NT; i++) {
    size_t n = (size_t)numel[i], bytes = (n ? n : 1) * sizeof(float);
    p[i] = malloc(bytes);
    g[i] = malloc(bytes);
    pd[i] = malloc((n ? n : 1) * sizeof(double));
    s1[i] = calloc(n + 1, sizeof(double));
    s2[i] = calloc(n + 1, sizeof(double));
    tu_fill(p[i], n, 11u + (uint32_t)i, -1.0f, 1.0f);
    for (size_t k = 0; k < n; k++) pd[i][k] = p[i][k];
    cr_assert_eq(nncl__buffer_from_host(ctx, p[i], bytes, "p", &pm[i]), NNCL_OK);
    cr_assert_eq(nncl__buffer_create(ctx, bytes, "g", &gm[i]), NNCL_OK);
  }
  for (int64_t t = 1; t <= STEPS; t++) {
    double sq = 0.0;
    for (int i = 0; i < NT; i++) {
      size_t n = (size_t)numel[i];
      tu_fill(g[i], n, 100u * (uint32_t)t + (uint32_t)i, -1.0f, 1.0f);
      if (n) cr_assert_eq(nncl__buffer_upload(ctx, gm[i], 0, g[i], n * sizeof(float)), NNCL_OK);
      for (size_t k = 0; k < n; k++) sq += (double)g[i][k] * g[i][k];
    }
    float gscale = 1.0f;
    if (clip > 0) {
      double norm;
      cr_assert_eq(nncl__optim_grad_norm(op, gm, &norm), NNCL_OK);
      cr_assert(fabs(norm - sqrt(sq)) <= 1e-6 * sqrt(sq), "norm %.9g, host %.9g", norm, sqrt(sq));
      if (clip / (sqrt(sq) + 1e-6) < 1.0) gscale = (float)(clip / (sqrt(sq) + 1e-6));
    }
    for (int i = 0; i < NT; i++) {
      size_t n = (size_t)numel[i];
      for (size_t k = 0; k < n; k++) g[i][k] *= gscale; /* in float, as PyTorch scales */
      host_step(o, t, pd[i], g[i], s1[i], s2[i], n);
    }
    nncl_stats before, after;
    nncl_context_stats(ctx, &before);
    cr_assert_eq(nncl__optim_step(op, pm, gm, o->lr, gscale), NNCL_OK, "%s",
                 nncl_context_last_error(ctx));
    nncl_context_stats(ctx, &after);
    cr_assert_eq(after.kernel_launches - before.kernel_launches, 2,
                 "%llu launches for one step of %d tensors (16 per launch)",
                 (unsigned long long)(after.kernel_launches - before.kernel_launches), NT);
  }
  cr_assert_eq(nncl__optim_steps(op), STEPS);
  for (int i = 0; i < NT; i++) {
    size_t n = (size_t)numel[i];
    float *want = malloc((n ? n : 1) * sizeof *want);
    for (size_t k = 0; k < n; k++) want[k] = (float)pd[i][k];
    if (n) cr_assert_eq(nncl__buffer_download(ctx, pm[i], 0, p[i], n * sizeof(float)), NNCL_OK);
    tu_assert_close(p[i], want, n, 2e-6, 1e-6, "parameters after 6 steps");
    free(want);
    free(p[i]), free(g[i]), free(pd[i]), free(s1[i]), free(s2[i]);
    nncl__buffer_release(pm[i]);
    nncl__buffer_release(gm[i]);
  }
  nncl__optim_destroy(op);
}

static void run(const nncl_optimizer_options *o) { run_clipped(o, 0.0); }

Test(train_optim, clipped_by_global_norm) {
  nncl_optimizer_options o;
  nncl_optimizer_options_default(NNCL_OPTIM_SGD, &o);
  o.lr = 0.1f, o.momentum = 0.9f;
  run_clipped(&o, 2.0); /* the gradients' norm is about 27: every step is clipped */
}

Test(train_optim, sgd_plain) {
  nncl_optimizer_options o;
  nncl_optimizer_options_default(NNCL_OPTIM_SGD, &o);
  o.lr = 0.1f;
  run(&o);
}

Test(train_optim, sgd_momentum_dampening_weight_decay) {
  nncl_optimizer_options o;
  nncl_optimizer_options_default(NNCL_OPTIM_SGD, &o);
  o.lr = 0.05f, o.momentum = 0.9f, o.dampening = 0.3f, o.weight_decay = 5e-3f;
  run(&o);
}

Test(train_optim, sgd_nesterov) {
  nncl_optimizer_options o;
  nncl_optimizer_options_default(NNCL_OPTIM_SGD, &o);
  o.lr = 0.05f, o.momentum = 0.8f, o.nesterov = 1, o.weight_decay = 1e-2f;
  run(&o);
}

Test(train_optim, adam_with_l2) {
  nncl_optimizer_options o;
  nncl_optimizer_options_default(NNCL_OPTIM_ADAM, &o);
  o.lr = 1e-2f, o.weight_decay = 1e-2f;
  run(&o);
}

Test(train_optim, adamw) {
  nncl_optimizer_options o;
  nncl_optimizer_options_default(NNCL_OPTIM_ADAMW, &o);
  o.lr = 3e-3f, o.beta1 = 0.8f, o.beta2 = 0.99f;
  run(&o);
}

Test(train_optim, bad_options_are_errors) {
  nncl_optimizer_options o;
  nncl_optimizer_options_default(NNCL_OPTIM_SGD, &o);
  o.nesterov = 1;
  struct nncl__optim *op = NULL;
  int64_t n = 4;
  cr_assert_eq(nncl__optim_create(tu_ctx(), &o, 1, &n, &op), NNCL_ERR_INVALID_ARGUMENT);
  cr_assert_null(op);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "Nesterov"));
}

/* Learning rates of PyTorch 1.13's schedulers stepped after each of 12 optimizer steps with base
   lr 0.1 (printed by torch once; StepLR(4, 0.5), CosineAnnealingLR(T_max=10, eta_min=0.01),
   LinearLR(start_factor=1/3, total_iters=3)). Tolerance 1e-7 relative: float32 of the same. */
Test(train_optim, lr_schedules_match_pytorch) {
  const double step[12] = {0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025};
  const double cosine[12] = {0.1,
                             0.09779754323328192,
                             0.09140576474687263,
                             0.08145033635316129,
                             0.06890576474687264,
                             0.05500000000000001,
                             0.04109423525312737,
                             0.028549663646838717,
                             0.01859423525312737,
                             0.012202456766718092,
                             0.01,
                             0.012202456766718092};
  const double warm[4] = {0.03333333333333333, 0.05555555555555556, 0.07777777777777778, 0.1};
  nncl_lr_schedule s = {.kind = NNCL_LR_STEP, .step_size = 4, .gamma = 0.5f};
  nncl_lr_schedule c = {.kind = NNCL_LR_COSINE, .total_steps = 10, .min_lr = 0.01f};
  nncl_lr_schedule w = {.kind = NNCL_LR_CONSTANT, .warmup_steps = 3};
  for (int t = 0; t < 12; t++) {
    double a = nncl_lr_schedule_at(&s, 0.1f, t), b = nncl_lr_schedule_at(&c, 0.1f, t),
           d = nncl_lr_schedule_at(&w, 0.1f, t);
    cr_assert(fabs(a - step[t]) <= 1e-7 * step[t], "StepLR at %d: %.9g vs %.9g", t, a, step[t]);
    cr_assert(fabs(b - cosine[t]) <= 1e-7 * cosine[t], "cosine at %d: %.9g vs %.9g", t, b,
              cosine[t]);
    double dw = warm[t < 3 ? t : 3];
    cr_assert(fabs(d - dw) <= 1e-7 * dw, "warm-up at %d: %.9g vs %.9g", t, d, dw);
  }
}
