/* test_train_ref.h: a tiny double-precision host interpreter of the small graphs the training
   tests build, so gradients can be checked by central finite differences independent of nncl. */
#ifndef NNCL_TEST_TRAIN_REF_H
#define NNCL_TEST_TRAIN_REF_H

#include "op.h"

#define TR_MAX_VALUES 32
#define TR_MAX_NODES 16

/* One node: ONNX op type, value names ("" absent), attributes (A_INT, A_INTS ... literals). */
struct tr_node {
  const char *op;
  const char *in[6];
  int n_in;
  const char *out;
  const char *out2, *out3; /* further outputs (Split), or NULL */
  struct nncl__attr attrs[8];
  int n_attrs;
};

/* A value: float data (held in double) or int64 data (labels, shapes). */
struct tr_value {
  const char *name;
  nncl_dtype dtype;
  nncl_shape shape;
  double *d;
  int64_t *i;
};

struct tr_env {
  struct tr_value v[TR_MAX_VALUES];
  int n;
};

/* Adds a float value (copied from float data) or an int64 value. */
void tr_set_f(struct tr_env *e, const char *name, const nncl_shape *s, const float *data);
void tr_set_i(struct tr_env *e, const char *name, const nncl_shape *s, const int64_t *data);
struct tr_value *tr_get(struct tr_env *e, const char *name);
/* Evaluates the nodes in order (each output added to e). Unknown ops fail the test. */
void tr_run(struct tr_env *e, const struct tr_node *nodes, int n);
/* Frees every value made by tr_run and the inputs; e is empty afterwards. */
void tr_free(struct tr_env *e);

#endif
