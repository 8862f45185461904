/* profile_inputs.c: feeds every input of a graph for `nncl profile`: from files given with
   --input [NAME=]FILE (.npy or ONNX TensorProto .pb), else generated like `nncl run` does
   (model_io.h), sized by --shape / --batch (mi_sizes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_io.h"
#include "profile_inputs.h"

/* The value of "NAME=VALUE" when NAME is this input's; a bare VALUE matches input 0 alone. */
static const char *spec_for(const char *const *specs, int n, const char *name, int index) {
  size_t len = strlen(name);
  for (int i = 0; i < n; i++) {
    const char *eq = strchr(specs[i], '=');
    if (eq && (size_t)(eq - specs[i]) == len && strncmp(specs[i], name, len) == 0) return eq + 1;
    if (!eq && index == 0) return specs[i];
  }
  return NULL;
}

int profile_set_inputs(nncl_context *ctx, nncl_graph *g, const char *const *inputs, int n_inputs,
                       const mi_sizes *sz, int verbose) {
  for (int i = 0; i < nncl_graph_num_inputs(g); i++) {
    const char *name = nncl_graph_input_name(g, i);
    nncl_dtype dt;
    nncl_shape shape;
    nncl_status st = nncl_graph_input_info(g, i, &dt, &shape);
    if (st != NNCL_OK) return cli_fail(ctx, st, "reading the graph's inputs");
    nncl_array a;
    memset(&a, 0, sizeof a);
    const char *file = spec_for(inputs, n_inputs, name, i);
    char note[160] = "";
    if (file) {
      if (mi_read_input(ctx, g, i, file, &a) != 0) return 1;
    } else {
      if ((st = mi_input_shape(g, i, sz, &shape, note, sizeof note)) != NNCL_OK) {
        fprintf(stderr, "nncl profile: input '%s' has an unknown rank: give it with --shape\n",
                name);
        return 1;
      }
      if (mi_generate(ctx, "profile", name, dt, &shape, (uint32_t)i + 1, &a) != 0) return 1;
    }
    if (verbose) {
      char buf[160];
      printf("input %s: %s %s (%s%s%s)\n", name, nncl_dtype_name(a.dtype),
             nncl_shape_format(&a.shape, buf, sizeof buf), file ? file : "generated",
             *note ? ", " : "", note);
    }
    st = nncl_graph_set_input(g, name, &a);
    nncl_array_free(&a);
    if (st != NNCL_OK) return cli_fail(ctx, st, "setting an input");
  }
  return 0;
}
