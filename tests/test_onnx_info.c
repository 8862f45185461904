/* test_onnx_info.c: nncl_onnx_model_info_* report what a model file declares: metadata, inputs
   (initializers listed as inputs left out), outputs, element types and symbolic dim names; bad
   files give named errors and an empty info. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"
#include "test_util.h"

/* A model made here with protobuf-c, so that every field the info reports has a known value:
   input X [batch, 3] float, initializer W also listed as an input, output Y [batch, ?] int64. */
static uint8_t *make_model(size_t *len) {
  Onnx__TensorShapeProto__Dimension d_batch = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT,
                                    d_three = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT,
                                    d_unset = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
  d_batch.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
  d_batch.dim_param = "batch";
  d_three.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
  d_three.dim_value = 3;
  Onnx__TensorShapeProto__Dimension *xdims[] = {&d_batch, &d_three};
  Onnx__TensorShapeProto__Dimension *ydims[] = {&d_batch, &d_unset};
  Onnx__TensorShapeProto xs = ONNX__TENSOR_SHAPE_PROTO__INIT, ys = ONNX__TENSOR_SHAPE_PROTO__INIT;
  xs.n_dim = 2;
  xs.dim = xdims;
  ys.n_dim = 2;
  ys.dim = ydims;
  Onnx__TypeProto__Tensor xt = ONNX__TYPE_PROTO__TENSOR__INIT, yt = ONNX__TYPE_PROTO__TENSOR__INIT;
  xt.has_elem_type = yt.has_elem_type = 1;
  xt.elem_type = 1; /* FLOAT */
  xt.shape = &xs;
  yt.elem_type = 7; /* INT64 */
  yt.shape = &ys;
  Onnx__TypeProto xtp = ONNX__TYPE_PROTO__INIT, ytp = ONNX__TYPE_PROTO__INIT;
  xtp.value_case = ytp.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  xtp.tensor_type = &xt;
  ytp.tensor_type = &yt;
  Onnx__ValueInfoProto x = ONNX__VALUE_INFO_PROTO__INIT, w = ONNX__VALUE_INFO_PROTO__INIT,
                       y = ONNX__VALUE_INFO_PROTO__INIT;
  x.name = "X";
  x.type = &xtp;
  w.name = "W";
  w.type = &xtp;
  y.name = "Y";
  y.type = &ytp;
  float wv[3] = {1, 2, 3};
  int64_t wdims[1] = {3};
  Onnx__TensorProto wt = ONNX__TENSOR_PROTO__INIT;
  wt.name = "W";
  wt.has_data_type = 1;
  wt.data_type = 1;
  wt.n_dims = 1;
  wt.dims = wdims;
  wt.n_float_data = 3;
  wt.float_data = wv;
  Onnx__TensorProto *inits[] = {&wt};
  Onnx__ValueInfoProto *ins[] = {&x, &w}, *outs[] = {&y};
  Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
  g.name = "info_graph";
  g.doc_string = "graph doc";
  g.n_input = 2;
  g.input = ins;
  g.n_output = 1;
  g.output = outs;
  g.n_initializer = 1;
  g.initializer = inits;
  Onnx__StringStringEntryProto e0 = ONNX__STRING_STRING_ENTRY_PROTO__INIT,
                               e1 = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
  e0.key = "author";
  e0.value = "nncl tests";
  e1.key = "labels";
  e1.value = "a,b";
  Onnx__StringStringEntryProto *props[] = {&e0, &e1};
  Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
  m.has_ir_version = m.has_model_version = 1;
  m.ir_version = 8;
  m.model_version = 42;
  m.producer_name = "test_onnx_info";
  m.producer_version = "1.2";
  m.domain = "org.nncl.test";
  m.graph = &g;
  m.n_metadata_props = 2;
  m.metadata_props = props;
  *len = onnx__model_proto__get_packed_size(&m);
  uint8_t *buf = malloc(*len);
  cr_assert(buf);
  onnx__model_proto__pack(&m, buf);
  return buf;
}

Test(onnx_info, reports_metadata_inputs_outputs_and_dim_names) {
  size_t len;
  uint8_t *bytes = make_model(&len);
  nncl_onnx_model_info info;
  cr_assert_eq(nncl_onnx_model_info_parse(tu_ctx(), bytes, len, &info), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  free(bytes);
  cr_assert_eq(info.ir_version, 8);
  cr_assert_eq(info.model_version, 42);
  cr_assert_str_eq(info.producer_name, "test_onnx_info");
  cr_assert_str_eq(info.producer_version, "1.2");
  cr_assert_str_eq(info.domain, "org.nncl.test");
  cr_assert_str_eq(info.doc_string, "");
  cr_assert_str_eq(info.graph_name, "info_graph");
  cr_assert_str_eq(info.graph_doc_string, "graph doc");
  cr_assert_eq(info.n_metadata, 2);
  cr_assert_str_eq(info.metadata_keys[1], "labels");
  cr_assert_str_eq(info.metadata_values[1], "a,b");
  cr_assert_eq(info.n_inputs, 1, "W is an initializer, not an input to feed");
  const nncl_onnx_value *x = &info.inputs[0];
  cr_assert_str_eq(x->name, "X");
  cr_assert_eq(x->onnx_type, 1);
  cr_assert_eq(x->dtype, NNCL_FLOAT32);
  cr_assert_eq(x->rank, 2);
  cr_assert_eq(x->dims[0], -1);
  cr_assert_str_eq(x->dim_names[0], "batch");
  cr_assert_eq(x->dims[1], 3);
  cr_assert_null(x->dim_names[1]);
  cr_assert_eq(info.n_outputs, 1);
  const nncl_onnx_value *y = &info.outputs[0];
  cr_assert_str_eq(y->name, "Y");
  cr_assert_eq(y->onnx_type, 7);
  cr_assert_eq(y->dtype, NNCL_INT64);
  cr_assert_eq(y->dims[1], -1, "an unset dim is unknown");
  cr_assert_null(y->dim_names[1]);
  nncl_onnx_model_info_free(&info);
  nncl_onnx_model_info_free(&info); /* freed info is empty: a second free is harmless */
}

Test(onnx_info, reads_a_file_like_the_loader) {
  const char *data = getenv("NNCL_TEST_DATA");
  cr_assert(data, "NNCL_TEST_DATA is not set (run through meson test)");
  char path[1024];
  snprintf(path, sizeof path, "%s/../../models/fashion_cnn.onnx", data);
  nncl_onnx_model_info info;
  cr_assert_eq(nncl_onnx_model_info_read(tu_ctx(), path, &info), NNCL_OK, "%s",
               nncl_context_last_error(tu_ctx()));
  nncl_graph *g = NULL;
  cr_assert_eq(nncl_onnx_load(tu_ctx(), path, &g), NNCL_OK);
  cr_assert_eq(info.n_inputs, nncl_graph_num_inputs(g));
  cr_assert_eq(info.n_outputs, nncl_graph_num_outputs(g));
  for (int i = 0; i < info.n_inputs; i++)
    cr_assert_str_eq(info.inputs[i].name, nncl_graph_input_name(g, i));
  for (int i = 0; i < info.n_outputs; i++)
    cr_assert_str_eq(info.outputs[i].name, nncl_graph_output_name(g, i));
  cr_assert_str_eq(info.inputs[0].dim_names[0], "N");
  cr_assert_eq(info.inputs[0].dims[2], 28);
  nncl_graph_destroy(g);
  nncl_onnx_model_info_free(&info);
}

Test(onnx_info, bad_input_gives_named_errors) {
  nncl_onnx_model_info info;
  const char junk[] = "this is not protobuf";
  cr_assert_eq(nncl_onnx_model_info_parse(tu_ctx(), junk, sizeof junk, &info), NNCL_ERR_FORMAT);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "<memory>"), "%s",
            nncl_context_last_error(tu_ctx()));
  cr_assert_eq(info.n_inputs, 0);
  cr_assert_null(info.inputs);
  cr_assert_eq(nncl_onnx_model_info_read(tu_ctx(), "/nonexistent/m.onnx", &info), NNCL_ERR_IO);
  cr_assert(strstr(nncl_context_last_error(tu_ctx()), "/nonexistent/m.onnx"));
  cr_assert_eq(nncl_onnx_model_info_read(tu_ctx(), NULL, &info), NNCL_ERR_INVALID_ARGUMENT);
}
