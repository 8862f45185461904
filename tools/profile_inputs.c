/* profile_inputs.c: feeds every input of a graph for `nncl profile`: from files given with
   --input [NAME=]FILE (.npy or ONNX TensorProto .pb), else generated like `nncl run` does
   (model_io.h). Unknown dims come from --shape NAME=D0,D1,..., else batch for dim 0 and 1. */
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

static int parse_dims(const char *text, nncl_shape *s) {
  int rank = 0;
  const char *p = text;
  while (*p) {
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p || v < 0 || rank >= NNCL_MAX_RANK) return -1;
    s->dims[rank++] = v;
    p = end;
    if (*p == ',' || *p == 'x')
      p++;
    else if (*p)
      return -1;
  }
  s->rank = rank;
  return 0;
}

int profile_set_inputs(nncl_context *ctx, nncl_graph *g, const char *const *inputs, int n_inputs,
                       const char *const *shapes, int n_shapes, int64_t batch, int verbose) {
  for (int i = 0; i < nncl_graph_num_inputs(g); i++) {
    const char *name = nncl_graph_input_name(g, i);
    nncl_dtype dt;
    nncl_shape shape;
    nncl_status st = nncl_graph_input_info(g, i, &dt, &shape);
    if (st != NNCL_OK) return cli_fail(ctx, st, "reading the graph's inputs");
    nncl_array a;
    memset(&a, 0, sizeof a);
    const char *file = spec_for(inputs, n_inputs, name, i);
    int guessed = 0;
    if (file) {
      st = mi_read_array(ctx, file, &a, NULL);
      if (st != NNCL_OK) return cli_fail(ctx, st, file);
    } else {
      const char *dims = spec_for(shapes, n_shapes, name, i);
      if (dims) {
        if (parse_dims(dims, &shape) != 0) {
          fprintf(stderr, "nncl profile: --shape %s: expected NAME=D0,D1,...\n", dims);
          return 1;
        }
      } else if ((st = mi_input_shape(g, i, batch, &shape, &guessed)) != NNCL_OK) {
        return cli_fail(ctx, st, name);
      }
      st = mi_generate(dt, &shape, (uint32_t)i + 1, &a);
      if (st != NNCL_OK) return cli_fail(ctx, st, "generating an input");
    }
    if (verbose) {
      char buf[160];
      printf("input %s: %s %s (%s%s)\n", name, nncl_dtype_name(a.dtype),
             nncl_shape_format(&a.shape, buf, sizeof buf), file ? file : "generated",
             guessed ? ", unknown dims guessed: --shape sets them" : "");
    }
    st = nncl_graph_set_input(g, name, &a);
    nncl_array_free(&a);
    if (st != NNCL_OK) return cli_fail(ctx, st, "setting an input");
  }
  return 0;
}
