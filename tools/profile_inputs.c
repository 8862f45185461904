/* profile_inputs.c: feeds every input of a graph for `nncl profile`: from files given with
   --input [NAME=]FILE (.npy or ONNX TensorProto .pb), else generated (uniform random floats,
   zeros for integer inputs). Unknown dims come from --shape NAME=D0,D1,... or default to 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
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
    if (*p == ',' || *p == 'x') p++;
    else if (*p) return -1;
  }
  s->rank = rank;
  return 0;
}

/* Fills a generated input: xorshift uniform in [-1, 1) for floats, zeros otherwise. */
static void generate(nncl_array *a, uint32_t seed) {
  size_t n = (size_t)nncl_shape_numel(&a->shape);
  if (a->dtype != NNCL_FLOAT32) {
    memset(a->data, 0, nncl_array_bytes(a));
    return;
  }
  float *x = a->data;
  uint32_t s = seed * 2654435761u + 1u;
  for (size_t i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    x[i] = (float)(s >> 8) / 8388608.0f - 1.0f;
  }
}

static int load_file(nncl_context *ctx, const char *path, nncl_array *a) {
  nncl_status st;
  if (ends_with(path, ".npy")) {
    st = nncl_npy_load(ctx, path, a);
  } else {
    char *name = NULL;
    st = nncl_onnx_load_tensor(ctx, path, a, &name);
    free(name);
  }
  if (st != NNCL_OK) {
    cli_fail(ctx, st, path);
    return 1;
  }
  return 0;
}

int profile_set_inputs(nncl_context *ctx, nncl_graph *g, const char *const *inputs, int n_inputs,
                       const char *const *shapes, int n_shapes, int verbose) {
  for (int i = 0; i < nncl_graph_num_inputs(g); i++) {
    const char *name = nncl_graph_input_name(g, i);
    nncl_dtype dt;
    nncl_shape shape;
    nncl_status st = nncl_graph_input_info(g, i, &dt, &shape);
    if (st != NNCL_OK) return cli_fail(ctx, st, "reading the graph's inputs");
    nncl_array a;
    memset(&a, 0, sizeof a);
    const char *file = spec_for(inputs, n_inputs, name, i);
    if (file) {
      if (load_file(ctx, file, &a)) return 1;
    } else {
      const char *dims = spec_for(shapes, n_shapes, name, i);
      if (dims && parse_dims(dims, &shape) != 0) {
        fprintf(stderr, "nncl profile: --shape %s: expected NAME=D0,D1,...\n", dims);
        return 1;
      }
      for (int d = 0; d < shape.rank; d++)
        if (shape.dims[d] < 0) shape.dims[d] = 1;
      st = nncl_array_alloc(&a, dt, &shape);
      if (st != NNCL_OK) return cli_fail(ctx, st, "allocating an input");
      generate(&a, (uint32_t)i + 1);
    }
    if (verbose) {
      char buf[160];
      printf("input %s: %s %s (%s)\n", name, nncl_dtype_name(a.dtype),
              nncl_shape_format(&a.shape, buf, sizeof buf), file ? file : "generated");
    }
    st = nncl_graph_set_input(g, name, &a);
    nncl_array_free(&a);
    if (st != NNCL_OK) return cli_fail(ctx, st, "setting an input");
  }
  return 0;
}
