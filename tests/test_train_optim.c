/* test_train_optim.c: the optimizer kernels against a double-precision host implementation of
   PyTorch's update rules (torch.optim SGD, Adam, AdamW, single-tensor code paths), over six steps
   with a new random gradient each step, on two tensors of odd sizes. Tolerance: 2e-6 relative +
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

static void run(const nncl_optimizer_options *o) {
  nncl_context *ctx = tu_ctx();
  const int64_t numel[2] = {37, 1001};
  struct nncl__optim *op;
  cr_assert_eq(nncl__optim_create(ctx, o, 2, numel, &op), NNCL_OK, "%s",
               nncl_context_last_error(ctx));
  cl_mem pm[2], gm[2];
  float *p[2], *g[2];
  double *pd[2], *s1[2], *s2[2];
  for (int i = 0; i < 2; i++) {
    size_t n = (size_t)numel[i];
    p[i] = malloc(n * sizeof(float));
    g[i] = malloc(n * sizeof(float));
    pd[i] = malloc(n * sizeof(double));
    s1[i] = calloc(n, sizeof(double));
    s2[i] = calloc(n, sizeof(double));
    tu_fill(p[i], n, 11u + (uint32_t)i, -1.0f, 1.0f);
    for (size_t k = 0; k < n; k++) pd[i][k] = p[i][k];
    cr_assert_eq(nncl__buffer_from_host(ctx, p[i], n * sizeof(float), "p", &pm[i]), NNCL_OK);
    cr_assert_eq(nncl__buffer_create(ctx, n * sizeof(float), "g", &gm[i]), NNCL_OK);
  }
  for (int64_t t = 1; t <= STEPS; t++) {
    for (int i = 0; i < 2; i++) {
      size_t n = (size_t)numel[i];
      tu_fill(g[i], n, 100u * (uint32_t)t + (uint32_t)i, -1.0f, 1.0f);
      cr_assert_eq(nncl__buffer_upload(ctx, gm[i], 0, g[i], n * sizeof(float)), NNCL_OK);
      host_step(o, t, pd[i], g[i], s1[i], s2[i], n);
    }
    cr_assert_eq(nncl__optim_step(op, pm, gm, o->lr), NNCL_OK, "%s", nncl_context_last_error(ctx));
  }
  cr_assert_eq(nncl__optim_steps(op), STEPS);
  for (int i = 0; i < 2; i++) {
    size_t n = (size_t)numel[i];
    float *want = malloc(n * sizeof *want);
    for (size_t k = 0; k < n; k++) want[k] = (float)pd[i][k];
    cr_assert_eq(nncl__buffer_download(ctx, pm[i], 0, p[i], n * sizeof(float)), NNCL_OK);
    tu_assert_close(p[i], want, n, 2e-6, 1e-6, "parameters after 6 steps");
    free(want);
    free(p[i]), free(g[i]), free(pd[i]), free(s1[i]), free(s2[i]);
    nncl__buffer_release(pm[i]);
    nncl__buffer_release(gm[i]);
  }
  nncl__optim_destroy(op);
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
