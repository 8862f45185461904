/* abi_layout.c: prints the size and field offsets of every public struct the Python binding
   mirrors (python/nncl/_lib.py), as JSON; test_abi.py compares them with ctypes' layout. */
#include <stddef.h>
#include <stdio.h>

#include "nncl/nncl.h"

static int first_struct = 1, first_field;

static void begin(const char *name, size_t size) {
  printf("%s\"%s\": {\"size\": %zu, \"fields\": {", first_struct ? "" : ", ", name, size);
  first_struct = 0;
  first_field = 1;
}
static void field(const char *name, size_t off) {
  printf("%s\"%s\": %zu", first_field ? "" : ", ", name, off);
  first_field = 0;
}
static void end(void) { printf("}}"); }

#define S(type) begin(#type, sizeof(type))
#define F(type, f) field(#f, offsetof(type, f))

int main(void) {
  printf("{");
  S(nncl_shape), F(nncl_shape, rank), F(nncl_shape, dims), end();
  S(nncl_array), F(nncl_array, dtype), F(nncl_array, shape), F(nncl_array, data), end();
  S(nncl_device_info), F(nncl_device_info, name), F(nncl_device_info, is_gpu),
      F(nncl_device_info, global_mem_bytes), F(nncl_device_info, max_work_group_size),
      F(nncl_device_info, host_unified_memory), end();
  S(nncl_stats), F(nncl_stats, kernel_launches), F(nncl_stats, build_seconds), end();
  S(nncl_option_info), F(nncl_option_info, values), F(nncl_option_info, doc), end();
  S(nncl_onnx_value), F(nncl_onnx_value, onnx_type), F(nncl_onnx_value, rank),
      F(nncl_onnx_value, dims), F(nncl_onnx_value, dim_names), end();
  S(nncl_onnx_model_info), F(nncl_onnx_model_info, producer_name),
      F(nncl_onnx_model_info, n_metadata), F(nncl_onnx_model_info, metadata_values),
      F(nncl_onnx_model_info, inputs), F(nncl_onnx_model_info, outputs), end();
  S(nncl_node_info), F(nncl_node_info, n_in), F(nncl_node_info, in_shapes),
      F(nncl_node_info, out_shapes), F(nncl_node_info, bytes), end();
  S(nncl_peak), F(nncl_peak, fma_gflops), F(nncl_peak, mem_gbps), F(nncl_peak, from_cache), end();
  S(nncl_profile_kernel), F(nncl_profile_kernel, node), F(nncl_profile_kernel, host_enqueue_dur_ns),
      end();
  S(nncl_profile_node), F(nncl_profile_node, n_kernels), F(nncl_profile_node, bound),
      F(nncl_profile_node, end_ns), end();
  S(nncl_profile_op), F(nncl_profile_op, nodes), F(nncl_profile_op, share), end();
  S(nncl_profile), F(nncl_profile, runs), F(nncl_profile, nodes), F(nncl_profile, n_ops),
      F(nncl_profile, arena_bytes), F(nncl_profile, one_time), F(nncl_profile, uploads),
      F(nncl_profile, have_peak), F(nncl_profile, peak), end();
  S(nncl_optimizer_options), F(nncl_optimizer_options, nesterov), F(nncl_optimizer_options, eps),
      end();
  S(nncl_trainer_options), F(nncl_trainer_options, optim), F(nncl_trainer_options, freeze),
      F(nncl_trainer_options, clip_norm), F(nncl_trainer_options, seed), end();
  printf("}\n");
  return 0;
}
