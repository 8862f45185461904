/* optim.h: optimizers on device buffers: SGD (momentum, dampening, nesterov, weight decay),
   Adam and AdamW with PyTorch's update rules, one fused kernel launch per 16 parameter tensors. */
#ifndef NNCL_OPTIM_H
#define NNCL_OPTIM_H

#include "nncl/train.h"
#include "runtime.h"

struct nncl__optim;

/* State (momentum buffers, or Adam's m and v, zeroed) for n tensors of numel[i] floats. */
nncl_status nncl__optim_create(nncl_context *ctx, const nncl_optimizer_options *o, int n,
                               const int64_t *numel, struct nncl__optim **out);
void nncl__optim_destroy(struct nncl__optim *op);
/* One step: params[i] updated in place from gscale * grads[i]; lr overrides o->lr (schedules),
   gscale is 1 unless gradients are clipped. */
nncl_status nncl__optim_step(struct nncl__optim *op, const cl_mem *params, const cl_mem *grads,
                             float lr, float gscale);
/* Global L2 norm of every gradient together (sums of squares per tensor on the device, added in
   double on the host; waits for the device). */
nncl_status nncl__optim_grad_norm(struct nncl__optim *op, const cl_mem *grads, double *norm);
/* Steps taken so far (Adam's t). */
int64_t nncl__optim_steps(const struct nncl__optim *op);
/* State for checkpoints: the number of state buffers per tensor (0, 1 or 2), each of numel[i]
   floats, read into / written from host memory; and the step count. */
int nncl__optim_state_count(const struct nncl__optim *op);
nncl_status nncl__optim_state_read(struct nncl__optim *op, int tensor, int k, float *host);
nncl_status nncl__optim_state_write(struct nncl__optim *op, int tensor, int k, const float *host);
void nncl__optim_set_steps(struct nncl__optim *op, int64_t steps);

#endif
