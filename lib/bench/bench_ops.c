/* bench_ops.c: `nncl bench ops`: memory-bound ops on large tensors through the real op path
   (op_instance), in GB/s moved; the CLI reads them against nncl_bench_copy of the same run. Ops
   are looked up by name at run time, so rows of families this build lacks are skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/bench.h"
#include "op.h"

static const nncl_bench_op table[] = {
    {"Relu", "Relu"},
    {"Add same shape", "Add"},
    {"Add channel broadcast", "Add"},
    {"Mul by scalar", "Mul"},
    {"Softmax 1000 classes", "Softmax"},
    {"ReduceMean spatial (H, W)", "ReduceMean"},
    {"ReduceSum over rows (axis 0)", "ReduceSum"},
    {"ArgMax 1000 classes", "ArgMax"},
    {"MaxPool 2x2/2", "MaxPool"},
    {"GlobalAveragePool", "GlobalAveragePool"},
    {"Transpose NCHW to NHWC", "Transpose"},
    {"MaxPool 3x3/2 pad 1 (ResNet stem)", "MaxPool"},
    {"AveragePool 3x3/1 pad 1", "AveragePool"},
    {"LayerNormalization 768", "LayerNormalization"},
    {"Pow by constant 2", "Pow"},
    {"BatchNormalization (inference)", "BatchNormalization"},
    {"InstanceNormalization", "InstanceNormalization"},
    {"Gemm FC 512->1000 batch 1", "Gemm"},
    {"Gemm FC 4096->4096 batch 1", "Gemm"},
    {"MatMul 1x4096 by 4096x4096", "MatMul"},
};
#define N_ROWS ((int)(sizeof table / sizeof table[0]))

int nncl_bench_ops_table(const nncl_bench_op **out) {
  if (out) *out = table;
  return N_ROWS;
}

/* Inputs, attributes and opset of one row for a big input of about n floats (the FC rows have
   fixed sizes: their weights are the traffic). */
#define MAX_IN 5
struct row_setup {
  int n_in, opset, n_attrs;
  nncl_shape shape[MAX_IN];
  nncl_dtype dtype[MAX_IN];
  struct nncl__attr attrs[3];
  int64_t ints[3][4];
};

static nncl_shape shp(int rank, int64_t a, int64_t b, int64_t c, int64_t d) {
  nncl_shape s = {.rank = rank, .dims = {a, b, c, d}};
  return s;
}

static void setup(int index, size_t n, struct row_setup *r) {
  memset(r, 0, sizeof *r);
  int64_t N = (int64_t)n;
  int64_t B = N / (256 * 32 * 32) > 0 ? N / (256 * 32 * 32) : 1; /* NCHW images, C=256, 32x32 */
  int64_t rows = N / 1000 > 0 ? N / 1000 : 1;
  nncl_shape img = shp(4, B, 256, 32, 32);
  r->n_in = 1;
  r->opset = 13;
  for (int i = 0; i < MAX_IN; i++) r->dtype[i] = NNCL_FLOAT32;
  switch (index) {
  case 0: r->shape[0] = shp(1, N, 0, 0, 0); break;
  case 1:
    r->n_in = 2;
    r->shape[0] = r->shape[1] = shp(1, N, 0, 0, 0);
    break;
  case 2:
    r->n_in = 2;
    r->shape[0] = img;
    r->shape[1] = shp(4, 1, 256, 1, 1);
    break;
  case 3:
    r->n_in = 2;
    r->shape[0] = shp(1, N, 0, 0, 0);
    r->shape[1] = shp(0, 0, 0, 0, 0);
    break;
  case 4:
  case 7: r->shape[0] = shp(2, rows, 1000, 0, 0); break;
  case 5:
    r->shape[0] = img;
    r->ints[0][0] = 2;
    r->ints[0][1] = 3;
    r->attrs[0] =
        (struct nncl__attr){.name = "axes", .type = ATTR_INTS, .ints = r->ints[0], .n = 2};
    r->n_attrs = 1;
    break;
  case 6:
    r->n_in = 2;
    r->shape[0] = shp(2, N / 4096 > 0 ? N / 4096 : 1, 4096, 0, 0);
    r->shape[1] = shp(1, 1, 0, 0, 0);
    r->dtype[1] = NNCL_INT64; /* axes = [0], ReduceSum-13 takes them as an input */
    break;
  case 8:
    r->shape[0] = img;
    r->ints[0][0] = r->ints[0][1] = 2;
    r->ints[1][0] = r->ints[1][1] = 2;
    r->attrs[0] =
        (struct nncl__attr){.name = "kernel_shape", .type = ATTR_INTS, .ints = r->ints[0], .n = 2};
    r->attrs[1] =
        (struct nncl__attr){.name = "strides", .type = ATTR_INTS, .ints = r->ints[1], .n = 2};
    r->n_attrs = 2;
    break;
  case 10: {
    static int64_t nhwc[4] = {0, 2, 3, 1};
    r->shape[0] = img;
    r->attrs[0] = (struct nncl__attr){.name = "perm", .type = ATTR_INTS, .ints = nhwc, .n = 4};
    r->n_attrs = 1;
    break;
  }
  case 11:
  case 12: {
    /* ResNet's stem pool on its 64 x 112 x 112 maps; AveragePool keeps the size */
    const int64_t stem = N / (64 * 112 * 112) > 0 ? N / (64 * 112 * 112) : 1;
    r->shape[0] = index == 11 ? shp(4, stem, 64, 112, 112) : img;
    r->ints[0][0] = r->ints[0][1] = 3;
    r->ints[1][0] = r->ints[1][1] = index == 11 ? 2 : 1;
    for (int i = 0; i < 4; i++) r->ints[2][i] = 1;
    r->attrs[0] =
        (struct nncl__attr){.name = "kernel_shape", .type = ATTR_INTS, .ints = r->ints[0], .n = 2};
    r->attrs[1] =
        (struct nncl__attr){.name = "strides", .type = ATTR_INTS, .ints = r->ints[1], .n = 2};
    r->attrs[2] =
        (struct nncl__attr){.name = "pads", .type = ATTR_INTS, .ints = r->ints[2], .n = 4};
    r->n_attrs = 3;
    break;
  }
  case 13: /* BERT-base rows: X [rows, 768], Scale and B [768] */
    r->n_in = 3;
    r->opset = 17;
    r->shape[0] = shp(2, N / 768 > 0 ? N / 768 : 1, 768, 0, 0);
    r->shape[1] = r->shape[2] = shp(1, 768, 0, 0, 0);
    break;
  case 14: /* the exponent is a constant scalar (set to 2 below), as in LayerNorm's Pow(d, 2) */
    r->n_in = 2;
    r->shape[0] = shp(1, N, 0, 0, 0);
    r->shape[1] = shp(0, 0, 0, 0, 0);
    break;
  case 15: /* BatchNormalization: X, scale, B, mean, var (var filled positive below) */
  case 16: /* InstanceNormalization: X, scale, B */
    r->n_in = index == 15 ? 5 : 3;
    r->shape[0] = img;
    for (int i = 1; i < r->n_in; i++) r->shape[i] = shp(1, 256, 0, 0, 0);
    break;
  case 17: /* ResNet-18's classifier: Y = X W^T + b, the weights stored [out, in] */
  case 18: {
    const int64_t k = index == 17 ? 512 : 4096, m = index == 17 ? 1000 : 4096;
    r->n_in = 3;
    r->shape[0] = shp(2, 1, k, 0, 0);
    r->shape[1] = shp(2, m, k, 0, 0);
    r->shape[2] = shp(1, m, 0, 0, 0);
    r->attrs[0] = (struct nncl__attr){.name = "transB", .type = ATTR_INT, .i = 1};
    r->n_attrs = 1;
    break;
  }
  case 19: /* a batch-1 product with B stored [in, out] (MatMul weights) */
    r->n_in = 2;
    r->shape[0] = shp(2, 1, 4096, 0, 0);
    r->shape[1] = shp(2, 4096, 4096, 0, 0);
    break;
  default: r->shape[0] = img; break;
  }
  if (index == 7) {
    r->attrs[0] = (struct nncl__attr){.name = "axis", .type = ATTR_INT, .i = 1};
    r->n_attrs = 1;
  }
}

nncl_status nncl_bench_op_run(nncl_context *ctx, int index, size_t elements, int runs,
                              nncl_bench_op_result *out) {
  if (!ctx || !out || index < 0 || index >= N_ROWS || elements == 0)
    return NNCL_ERR_INVALID_ARGUMENT;
  memset(out, 0, sizeof *out);
  if (op_lookup(table[index].op) < 0) return NNCL_OK; /* not in this build: available stays 0 */
  out->available = 1;
  struct row_setup r;
  setup(index, elements, &r);
  nncl_array arrays[MAX_IN];
  const nncl_array *in[MAX_IN];
  memset(arrays, 0, sizeof arrays);
  nncl_status st = NNCL_OK;
  size_t len = 0;
  for (int i = 0; i < r.n_in && st == NNCL_OK; i++) {
    st = nncl_array_alloc(&arrays[i], r.dtype[i], &r.shape[i]);
    if (st != NNCL_OK) {
      st = nncl__error(ctx, NNCL_ERR_OUT_OF_HOST_MEMORY, "bench ops: host input %d", i);
      break;
    }
    in[i] = &arrays[i];
    size_t n = (size_t)nncl_shape_numel(&r.shape[i]);
    if (r.dtype[i] == NNCL_INT64) {
      memset(arrays[i].data, 0, n * sizeof(int64_t));
    } else {
      float *x = arrays[i].data; /* small, varied values: no denormals, no overflow in exp */
      for (size_t j = 0; j < n; j++) x[j] = (float)((j * 7919u) % 1009u) * 0.002f - 1.0f;
      if (index == 14 && i == 1) x[0] = 2.0f;
      if (index == 15 && i == 4)
        for (size_t j = 0; j < n; j++) x[j] += 2.0f; /* a variance: positive */
    }
    char s[96];
    len += (size_t)snprintf(out->shape + len, sizeof out->shape - len, "%s%s", i ? " + " : "",
                            nncl_shape_format(&r.shape[i], s, sizeof s));
    if (len >= sizeof out->shape) len = sizeof out->shape - 1;
  }
  struct op_instance *oi = NULL;
  if (st == NNCL_OK)
    st = op_instance_create(ctx, table[index].op, r.opset, r.attrs, r.n_attrs, r.n_in, in, 1, NULL,
                            NULL, &oi);
  if (st == NNCL_OK) {
    struct op_call *c = op_instance_call(oi);
    snprintf(out->algo, sizeof out->algo, "%s", c->algo ? c->algo : "-");
    double bytes = 0;
    for (int i = 0; i < c->n_in; i++)
      bytes += (double)nncl_shape_numel(&c->in[i].shape) * (double)nncl_dtype_size(c->in[i].dtype);
    bytes += (double)nncl_shape_numel(&c->out[0].shape) * (double)nncl_dtype_size(c->out[0].dtype);
    out->bytes = bytes;
    st = op_instance_time(oi, 2, runs, &out->seconds);
    if (st == NNCL_OK) out->gbps = out->seconds > 0 ? bytes / out->seconds * 1e-9 : 0;
  }
  op_instance_destroy(oi);
  for (int i = 0; i < r.n_in; i++) nncl_array_free(&arrays[i]);
  return st;
}
