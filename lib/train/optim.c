/* optim.c: the optimizers of optim.h on kernels/train_optim.cl. State lives on the device for the
   trainer's lifetime; bias corrections are computed on the host in double each step. */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct nncl__optim {
  nncl_context *ctx;
  nncl_optimizer_options o;
  int n;
  int64_t *numel;
  cl_mem *state; /* n * nstate buffers: tensor i's k-th at [i * nstate + k] */
  int nstate;
  int64_t steps;
  cl_kernel k, sumsq;
  cl_mem norms; /* one float per tensor */
};

void nncl_optimizer_options_default(nncl_optimizer_kind kind, nncl_optimizer_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->kind = kind;
  o->lr = 1e-3f;
  o->beta1 = 0.9f;
  o->beta2 = 0.999f;
  o->eps = 1e-8f;
  o->weight_decay = kind == NNCL_OPTIM_ADAMW ? 1e-2f : 0.0f;
}

static nncl_status check(nncl_context *ctx, const nncl_optimizer_options *o) {
  if (o->kind != NNCL_OPTIM_SGD && o->kind != NNCL_OPTIM_ADAM && o->kind != NNCL_OPTIM_ADAMW)
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT, "optimizer: unknown kind %d", (int)o->kind);
  if (!(o->lr >= 0.0f) || !(o->weight_decay >= 0.0f) || !(o->momentum >= 0.0f))
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT,
                       "optimizer: lr %g, weight decay %g and momentum %g must be >= 0",
                       (double)o->lr, (double)o->weight_decay, (double)o->momentum);
  if (o->kind == NNCL_OPTIM_SGD && o->nesterov && (o->momentum <= 0.0f || o->dampening != 0.0f))
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT,
                       "optimizer: Nesterov momentum needs momentum > 0 and zero dampening");
  if (o->kind != NNCL_OPTIM_SGD && (!(o->beta1 >= 0.0f && o->beta1 < 1.0f) ||
                                    !(o->beta2 >= 0.0f && o->beta2 < 1.0f) || !(o->eps >= 0.0f)))
    return nncl__error(ctx, NNCL_ERR_INVALID_ARGUMENT,
                       "optimizer: betas (%g, %g) must lie in [0, 1) and eps %g be >= 0",
                       (double)o->beta1, (double)o->beta2, (double)o->eps);
  return NNCL_OK;
}

void nncl__optim_destroy(struct nncl__optim *op) {
  if (!op) return;
  for (int i = 0; op->state && i < op->n * op->nstate; i++) nncl__buffer_release(op->state[i]);
  free(op->state);
  free(op->numel);
  nncl__buffer_release(op->norms);
  free(op);
}

nncl_status nncl__optim_create(nncl_context *ctx, const nncl_optimizer_options *o, int n,
                               const int64_t *numel, struct nncl__optim **out) {
  *out = NULL;
  NNCL_TRY(check(ctx, o));
  struct nncl__optim *op = calloc(1, sizeof *op);
  if (!op) return nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "optimizer");
  op->ctx = ctx;
  op->o = *o;
  op->n = n;
  op->nstate = o->kind == NNCL_OPTIM_SGD ? (o->momentum != 0.0f) : 2;
  op->numel = malloc(sizeof *op->numel * (size_t)(n + 1));
  op->state = calloc((size_t)(n * op->nstate + 1), sizeof *op->state);
  nncl_status st = op->numel && op->state
                       ? NNCL_OK
                       : nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "optimizer state");
  for (int i = 0; st == NNCL_OK && i < n; i++) {
    op->numel[i] = numel[i];
    for (int k = 0; st == NNCL_OK && k < op->nstate; k++) {
      size_t bytes = (size_t)numel[i] * sizeof(float);
      cl_mem *m = &op->state[i * op->nstate + k];
      st = nncl__buffer_create(ctx, bytes ? bytes : 4, "optimizer state", m);
      if (st == NNCL_OK) st = nncl__buffer_fill_zero(ctx, *m, 0, bytes ? bytes : 4);
    }
  }
  if (st == NNCL_OK)
    st = nncl__kernel_get(ctx, "train_optim", NULL,
                          o->kind == NNCL_OPTIM_SGD ? "optim_sgd" : "optim_adam", &op->k);
  if (st == NNCL_OK) st = nncl__kernel_get(ctx, "train_optim", NULL, "optim_sumsq", &op->sumsq);
  if (st == NNCL_OK)
    st = nncl__buffer_create(ctx, sizeof(float) * (size_t)(n + 1), "gradient norms", &op->norms);
  if (st != NNCL_OK) {
    nncl__optim_destroy(op);
    return st;
  }
  *out = op;
  return NNCL_OK;
}

nncl_status nncl__optim_grad_norm(struct nncl__optim *op, const cl_mem *grads, double *norm) {
  size_t ls = 1, lmax = op->ctx->info.is_gpu ? 256 : 64;
  while (ls * 2 <= lmax) ls *= 2;
  for (int i = 0; i < op->n; i++) {
    cl_uint n = (cl_uint)op->numel[i], slot = (cl_uint)i;
    NNCL_TRY(NNCL_LAUNCH(op->ctx, op->sumsq, "optim_sumsq", 1, &ls, &ls, NNCL_ARG(grads[i]),
                         NNCL_ARG(op->norms), NNCL_ARG(n), NNCL_ARG(slot),
                         NNCL_LOCAL(ls * sizeof(float))));
  }
  float *h = malloc(sizeof *h * (size_t)(op->n + 1));
  if (!h) return nncl__error(op->ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "gradient norms");
  nncl_status st = nncl__buffer_download(op->ctx, op->norms, 0, h, sizeof *h * (size_t)op->n);
  double s = 0.0;
  for (int i = 0; st == NNCL_OK && i < op->n; i++) s += h[i];
  free(h);
  *norm = sqrt(s);
  return st;
}

/* Tensors per launch: kernels/train_optim.cl's OPTIM_SLOTS (its kernel arguments, 16 x 4 buffers
   and an end each, stay within OpenCL's minimum 1024 bytes of parameters). */
#define OPTIM_SLOTS 16

/* One launch of the multi-tensor kernel per OPTIM_SLOTS tensors: the slots' buffers (nbuf per
   tensor: parameter, gradient, state...) and running ends, then the rule's scalars. */
static nncl_status launch_chunks(struct nncl__optim *op, const char *label, const cl_mem *params,
                                 const cl_mem *grads, const struct nncl__karg *scalars,
                                 int n_scalars) {
  const int nbuf = op->o.kind == NNCL_OPTIM_SGD ? 3 : 4;
  size_t l = op->ctx->info.is_gpu ? 256 : 64;
  cl_mem mem[OPTIM_SLOTS][4];
  cl_uint end[OPTIM_SLOTS], total;
  struct nncl__karg args[OPTIM_SLOTS * 5 + 1 + 16];
  for (int i0 = 0; i0 < op->n;) {
    int slot = 0, first = -1;
    total = 0;
    for (; i0 < op->n && slot < OPTIM_SLOTS; i0++) {
      if (!op->numel[i0]) continue;
      if (first < 0) first = i0;
      mem[slot][0] = params[i0];
      mem[slot][1] = grads[i0];
      /* SGD without momentum has no state: the slot is never read, any buffer will do */
      mem[slot][2] = op->nstate ? op->state[i0 * op->nstate] : params[i0];
      mem[slot][3] = op->nstate == 2 ? op->state[i0 * op->nstate + 1] : params[i0];
      total += (cl_uint)op->numel[i0];
      end[slot++] = total;
    }
    if (first < 0) break;
    for (int k = slot; k < OPTIM_SLOTS; k++) { /* unused: ends at the total, never matched */
      memcpy(mem[k], mem[0], sizeof mem[k]);
      end[k] = total;
    }
    size_t na = 0;
    for (int k = 0; k < OPTIM_SLOTS; k++) {
      for (int b = 0; b < nbuf; b++) args[na++] = NNCL_ARG(mem[k][b]);
      args[na++] = NNCL_ARG(end[k]);
    }
    args[na++] = NNCL_ARG(total);
    for (int k = 0; k < n_scalars; k++) args[na++] = scalars[k];
    size_t g = total;
    NNCL_TRY(nncl__launch_args(op->ctx, op->k, label, 1, &g, &l, na, args));
  }
  return NNCL_OK;
}

nncl_status nncl__optim_step(struct nncl__optim *op, const cl_mem *params, const cl_mem *grads,
                             float lr, float gscale) {
  const nncl_optimizer_options *o = &op->o;
  op->steps++;
  if (o->kind == NNCL_OPTIM_SGD) {
    cl_int nesterov = o->nesterov, first = op->steps == 1;
    float damp = o->dampening;
    const struct nncl__karg sc[] = {
        NNCL_ARG(lr),       NNCL_ARG(o->momentum), NNCL_ARG(damp),  NNCL_ARG(o->weight_decay),
        NNCL_ARG(nesterov), NNCL_ARG(first),       NNCL_ARG(gscale)};
    return launch_chunks(op, "optim_sgd", params, grads, sc, (int)(sizeof sc / sizeof *sc));
  }
  double t = (double)op->steps;
  float step_size = (float)(lr / (1.0 - pow((double)o->beta1, t)));
  float bc2_sqrt = (float)sqrt(1.0 - pow((double)o->beta2, t));
  float decay = o->kind == NNCL_OPTIM_ADAMW ? 1.0f - lr * o->weight_decay : 1.0f;
  float l2 = o->kind == NNCL_OPTIM_ADAM ? o->weight_decay : 0.0f;
  const struct nncl__karg sc[] = {NNCL_ARG(decay),    NNCL_ARG(l2),        NNCL_ARG(o->beta1),
                                  NNCL_ARG(o->beta2), NNCL_ARG(step_size), NNCL_ARG(bc2_sqrt),
                                  NNCL_ARG(o->eps),   NNCL_ARG(gscale)};
  return launch_chunks(op, "optim_adam", params, grads, sc, (int)(sizeof sc / sizeof *sc));
}

int64_t nncl__optim_steps(const struct nncl__optim *op) { return op->steps; }
void nncl__optim_set_steps(struct nncl__optim *op, int64_t steps) { op->steps = steps; }
int nncl__optim_state_count(const struct nncl__optim *op) { return op->nstate; }

nncl_status nncl__optim_state_read(struct nncl__optim *op, int tensor, int k, float *host) {
  return nncl__buffer_download(op->ctx, op->state[tensor * op->nstate + k], 0, host,
                               (size_t)op->numel[tensor] * sizeof(float));
}

nncl_status nncl__optim_state_write(struct nncl__optim *op, int tensor, int k, const float *host) {
  return nncl__buffer_upload(op->ctx, op->state[tensor * op->nstate + k], 0, host,
                             (size_t)op->numel[tensor] * sizeof(float));
}
