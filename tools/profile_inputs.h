/* profile_inputs.h: sets a graph's inputs for `nncl profile` from files or generated data. */
#ifndef NNCL_PROFILE_INPUTS_H
#define NNCL_PROFILE_INPUTS_H
#include "model_io.h"

/* inputs: "[NAME=]FILE" (.npy, else TensorProto .pb); generated inputs are sized by sz
   (model_io.h: --shape, else the model's dims with unknown ones from --batch and 1). Inputs without a file get uniform random
   floats (zeros for integer types). Prints the reason and returns 1 on failure, 0 on success;
   verbose lists what each input got. */
int profile_set_inputs(nncl_context *ctx, nncl_graph *g, const char *const *inputs, int n_inputs,
                       const mi_sizes *sz, int verbose);
#endif
