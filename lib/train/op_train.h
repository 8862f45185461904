/* op_train.h: what the training ops' plan and infer functions (lib/train/op_*.c) share: their
   state allocated and attached to the call, and the limit of their kernels' 32-bit indexing. */
#ifndef NNCL_OP_TRAIN_H
#define NNCL_OP_TRAIN_H

#include <stdlib.h>

#include "op.h"

/* A zeroed state of `size` bytes attached to c as c->state (op_release_state frees it). */
static inline nncl_status op_train_state(struct op_call *c, size_t size) {
  c->state = calloc(1, size);
  return c->state ? NNCL_OK : op_error(c, NNCL_ERR_OUT_OF_HOST_MEMORY, "state");
}

/* The kernels index elements with 32-bit ints: refuses tensors of 2^31 elements or more. */
static inline nncl_status op_train_int32(const struct op_call *c, const nncl_shape *s) {
  if (nncl_shape_numel(s) < INT32_MAX) return NNCL_OK;
  return op_error(c, NNCL_ERR_UNSUPPORTED, "tensors of 2^31 elements or more are not supported");
}

#endif
