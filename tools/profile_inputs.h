/* profile_inputs.h: sets a graph's inputs for `nncl profile` from files or generated data. */
#ifndef NNCL_PROFILE_INPUTS_H
#define NNCL_PROFILE_INPUTS_H
#include "cli.h"

/* inputs: "[NAME=]FILE" (.npy, else TensorProto .pb); shapes: "NAME=D0,D1,..." for inputs with
   unknown dims (else dim 0 -> batch, others -> 1). Inputs without a file get uniform random
   floats (zeros for integer types). Prints the reason and returns 1 on failure, 0 on success;
   verbose lists what each input got. */
int profile_set_inputs(nncl_context *ctx, nncl_graph *g, const char *const *inputs, int n_inputs,
                       const char *const *shapes, int n_shapes, int64_t batch, int verbose);
#endif
