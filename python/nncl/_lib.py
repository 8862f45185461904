"""_lib.py: loads libnncl and declares the public C API (include/nncl/*.h) the package calls.

The binding is ctypes, not cffi: ctypes is in the standard library, needs no compiler at import
and no package beyond NumPy, and cffi's ABI mode would still need these declarations written
out (as C text instead of Python). Only public symbols are used (nncl_*, never nncl__*), so the
package works with any libnncl built from this source tree. Every struct below mirrors its C
definition field for field; test_abi.py checks sizes and offsets against the compiler's.
"""

import ctypes
import ctypes.util
import os
import pathlib

MAX_RANK = 8  # NNCL_MAX_RANK (nncl/tensor.h)


def _find_library():
    # 1. NNCL_LIBRARY: a build tree's library (meson test sets it), or any other copy.
    # 2. beside this package: what `pip install .` puts there.
    # 3. the system's (a distribution's libnncl0, or `meson install`).
    env = os.environ.get("NNCL_LIBRARY")
    if env:
        return env
    here = pathlib.Path(__file__).resolve().parent
    # meson-python installs a project's shared libraries in site-packages/.<project>.mesonpy.libs
    for folder in (here, here.parent / ".nncl.mesonpy.libs"):
        found = sorted(folder.glob("libnncl.so*")) + sorted(folder.glob("libnncl*.dylib"))
        if found:
            return str(found[0])
    found = ctypes.util.find_library("nncl")
    if found:
        return found
    raise ImportError(
        "nncl: libnncl not found: set NNCL_LIBRARY to its path, install the package with "
        "`pip install .`, or install the library (meson install)"
    )


lib = ctypes.CDLL(_find_library())

c_int, c_int32, c_int64, c_uint64 = ctypes.c_int, ctypes.c_int32, ctypes.c_int64, ctypes.c_uint64
c_float, c_double, c_size_t = ctypes.c_float, ctypes.c_double, ctypes.c_size_t
c_char_p, c_void_p, c_unsigned = ctypes.c_char_p, ctypes.c_void_p, ctypes.c_uint
P = ctypes.POINTER


class Shape(ctypes.Structure):  # nncl_shape
    _fields_ = [("rank", c_int), ("dims", c_int64 * MAX_RANK)]


class Array(ctypes.Structure):  # nncl_array
    _fields_ = [("dtype", c_int), ("shape", Shape), ("data", c_void_p)]


class DeviceInfo(ctypes.Structure):  # nncl_device_info
    _fields_ = [
        ("platform_index", c_int),
        ("device_index", c_int),
        ("platform_name", ctypes.c_char * 128),
        ("platform_version", ctypes.c_char * 128),
        ("name", ctypes.c_char * 256),
        ("vendor", ctypes.c_char * 128),
        ("version", ctypes.c_char * 128),
        ("driver_version", ctypes.c_char * 128),
        ("c_version", ctypes.c_char * 128),
        ("is_gpu", c_int),
        ("is_cpu", c_int),
        ("compute_units", c_unsigned),
        ("clock_mhz", c_unsigned),
        ("global_mem_bytes", c_uint64),
        ("max_alloc_bytes", c_uint64),
        ("local_mem_bytes", c_uint64),
        ("max_work_group_size", c_size_t),
        ("mem_base_addr_align_bytes", c_unsigned),
        ("has_fp16", c_int),
        ("has_fp64", c_int),
        ("local_mem_is_global", c_int),
        ("host_unified_memory", c_int),
    ]


class Stats(ctypes.Structure):  # nncl_stats
    _fields_ = [
        ("program_builds", c_uint64),
        ("program_disk_hits", c_uint64),
        ("program_memory_hits", c_uint64),
        ("disk_cache_rejects", c_uint64),
        ("kernel_launches", c_uint64),
        ("device_allocs", c_uint64),
        ("device_alloc_bytes", c_uint64),
        ("host_buffers", c_uint64),
        ("build_seconds", c_double),
    ]


class OptionInfo(ctypes.Structure):  # nncl_option_info
    _fields_ = [
        ("key", c_char_p),
        ("type", c_int),
        ("values", P(c_char_p)),
        ("env", c_char_p),
        ("env_value", c_char_p),
        ("doc", c_char_p),
    ]


class OnnxValue(ctypes.Structure):  # nncl_onnx_value
    _fields_ = [
        ("name", c_char_p),
        ("onnx_type", c_int32),
        ("dtype", c_int),
        ("rank", c_int),
        ("dims", c_int64 * MAX_RANK),
        ("dim_names", c_char_p * MAX_RANK),
    ]


class OnnxModelInfo(ctypes.Structure):  # nncl_onnx_model_info
    _fields_ = [
        ("ir_version", c_int64),
        ("model_version", c_int64),
        ("producer_name", c_char_p),
        ("producer_version", c_char_p),
        ("domain", c_char_p),
        ("doc_string", c_char_p),
        ("graph_name", c_char_p),
        ("graph_doc_string", c_char_p),
        ("n_metadata", c_int),
        ("metadata_keys", P(c_char_p)),
        ("metadata_values", P(c_char_p)),
        ("n_inputs", c_int),
        ("inputs", P(OnnxValue)),
        ("n_outputs", c_int),
        ("outputs", P(OnnxValue)),
    ]


class NodeInfo(ctypes.Structure):  # nncl_node_info
    _fields_ = [
        ("name", c_char_p),
        ("op_type", c_char_p),
        ("fused", c_char_p),
        ("algo", c_char_p),
        ("n_in", c_int),
        ("n_out", c_int),
        ("in_shapes", Shape * 4),
        ("out_shapes", Shape * 2),
        ("flops", c_double),
        ("bytes", c_double),
        ("device", c_int),
        ("from_device", c_int),
    ]


class Peak(ctypes.Structure):  # nncl_peak
    _fields_ = [
        ("device", ctypes.c_char * 256),
        ("driver", ctypes.c_char * 128),
        ("fma_gflops", c_double),
        ("fma_gflops_float", c_double),
        ("fma_gflops_float4", c_double),
        ("fma_gflops_float8", c_double),
        ("fma_gflops_float16", c_double),
        ("read_gbps", c_double),
        ("write_gbps", c_double),
        ("copy_gbps", c_double),
        ("mem_gbps", c_double),
        ("h2d_gbps", c_double),
        ("d2h_gbps", c_double),
        ("launch_us", c_double),
        ("launch_b2b_us", c_double),
        ("measure_seconds", c_double),
        ("measured_unix", c_double),
        ("from_cache", c_int),
    ]


class ProfileKernel(ctypes.Structure):  # nncl_profile_kernel
    _fields_ = [
        ("name", c_char_p),
        ("node", c_int),
        ("device_ns", c_double),
        ("min_ns", c_double),
        ("max_ns", c_double),
        ("host_ns", c_double),
        ("start_ns", c_double),
        ("host_enqueue_ns", c_double),
        ("host_enqueue_dur_ns", c_double),
        ("device", c_int),
    ]


class ProfileNode(ctypes.Structure):  # nncl_profile_node
    _fields_ = [
        ("info", NodeInfo),
        ("n_kernels", c_int),
        ("device_ns", c_double),
        ("host_ns", c_double),
        ("share", c_double),
        ("gflops", c_double),
        ("gbps", c_double),
        ("intensity", c_double),
        ("bound", c_int),
        ("roof_pct", c_double),
        ("start_ns", c_double),
        ("end_ns", c_double),
    ]


class ProfileOp(ctypes.Structure):  # nncl_profile_op
    _fields_ = [
        ("op_type", c_char_p),
        ("nodes", c_int),
        ("device_ns", c_double),
        ("flops", c_double),
        ("bytes", c_double),
        ("share", c_double),
    ]


class Profile(ctypes.Structure):  # nncl_profile
    _fields_ = [
        ("device", ctypes.c_char * 256),
        ("runs", c_int),
        ("warmup", c_int),
        ("nodes", P(ProfileNode)),
        ("n_nodes", c_int),
        ("kernels", P(ProfileKernel)),
        ("n_kernels", c_int),
        ("ops", P(ProfileOp)),
        ("n_ops", c_int),
        ("device_ns", c_double),
        ("nodes_ns", c_double),
        ("other_ns", c_double),
        ("busy_median_ns", c_double),
        ("busy_min_ns", c_double),
        ("span_ns", c_double),
        ("wall_ns", c_double),
        ("wall_plain_ns", c_double),
        ("flops", c_double),
        ("bytes", c_double),
        ("trace_ns", c_double),
        ("run_start_ns", c_double),
        ("run_wall_ns", c_double),
        ("arena_bytes", c_uint64),
        ("intermediates_bytes", c_uint64),
        ("weight_bytes", c_uint64),
        ("workspace_bytes", c_uint64),
        ("one_time", c_int),
        ("plan_seconds", c_double),
        ("program_builds", c_uint64),
        ("program_disk_hits", c_uint64),
        ("build_seconds", c_double),
        ("uploads", c_int),
        ("upload_ns", c_double),
        ("first_run_ns", c_double),
        ("have_peak", c_int),
        ("peak", Peak),
    ]


class OptimizerOptions(ctypes.Structure):  # nncl_optimizer_options
    _fields_ = [
        ("kind", c_int),
        ("lr", c_float),
        ("weight_decay", c_float),
        ("momentum", c_float),
        ("dampening", c_float),
        ("nesterov", c_int),
        ("beta1", c_float),
        ("beta2", c_float),
        ("eps", c_float),
    ]


class TrainerOptions(ctypes.Structure):  # nncl_trainer_options
    _fields_ = [
        ("loss", c_int),
        ("optim", OptimizerOptions),
        ("freeze", P(c_char_p)),
        ("n_freeze", c_int),
        ("clip_norm", c_float),
        ("seed", c_int64),
        ("batch_axis", c_int),
    ]


# Opaque handles are plain void pointers.
ctx_p = graph_p = trainer_p = c_void_p

_PROTOTYPES = {
    # status.h
    "nncl_status_string": (c_char_p, [c_int]),
    "nncl_status_name": (c_char_p, [c_int]),
    # context.h
    "nncl_devices_list": (c_int, [P(P(DeviceInfo)), P(c_int), c_char_p, c_size_t]),
    "nncl_devices_free": (None, [P(DeviceInfo)]),
    "nncl_context_create": (c_int, [c_char_p, P(ctx_p), c_char_p, c_size_t]),
    "nncl_context_create_devices": (c_int, [c_char_p, P(ctx_p), c_char_p, c_size_t]),
    "nncl_context_set_placement": (c_int, [ctx_p, c_char_p]),
    "nncl_context_device_count": (c_int, [ctx_p]),
    "nncl_context_device_at": (P(DeviceInfo), [ctx_p, c_int]),
    "nncl_context_destroy": (None, [ctx_p]),
    "nncl_context_device": (P(DeviceInfo), [ctx_p]),
    "nncl_context_last_error": (c_char_p, [ctx_p]),
    "nncl_context_stats": (None, [ctx_p, P(Stats)]),
    "nncl_option_count": (c_int, []),
    "nncl_option_get": (P(OptionInfo), [c_int]),
    "nncl_version": (c_char_p, []),
    # tensor.h
    "nncl_array_free": (None, [P(Array)]),
    "nncl_array_bytes": (c_size_t, [P(Array)]),
    # graph.h
    "nncl_graph_destroy": (None, [graph_p]),
    "nncl_graph_num_inputs": (c_int, [graph_p]),
    "nncl_graph_num_outputs": (c_int, [graph_p]),
    "nncl_graph_input_name": (c_char_p, [graph_p, c_int]),
    "nncl_graph_output_name": (c_char_p, [graph_p, c_int]),
    "nncl_graph_set_option": (c_int, [graph_p, c_char_p, c_char_p]),
    "nncl_graph_get_option": (c_int, [graph_p, c_char_p, P(c_char_p)]),
    "nncl_graph_set_input": (c_int, [graph_p, c_char_p, P(Array)]),
    "nncl_graph_run": (c_int, [graph_p]),
    "nncl_graph_get_output": (c_int, [graph_p, c_int, P(Array)]),
    "nncl_graph_get_output_by_name": (c_int, [graph_p, c_char_p, P(Array)]),
    "nncl_graph_num_planned_nodes": (c_int, [graph_p]),
    "nncl_graph_planned_node": (c_int, [graph_p, c_int, P(NodeInfo)]),
    "nncl_graph_set_device": (c_int, [graph_p, c_int]),
    "nncl_graphs_run": (c_int, [P(graph_p), c_int]),
    "nncl_graph_set_stages": (c_int, [graph_p, c_int]),
    "nncl_graph_run_pipelined": (c_int, [graph_p, c_int, P(Array), P(Array)]),
    # onnx.h
    "nncl_onnx_load": (c_int, [ctx_p, c_char_p, P(graph_p)]),
    "nncl_onnx_load_memory": (c_int, [ctx_p, c_void_p, c_size_t, c_char_p, P(graph_p)]),
    "nncl_onnx_load_tensor": (c_int, [ctx_p, c_char_p, P(Array), P(c_void_p)]),
    "nncl_onnx_model_info_read": (c_int, [ctx_p, c_char_p, P(OnnxModelInfo)]),
    "nncl_onnx_model_info_parse": (c_int, [ctx_p, c_void_p, c_size_t, P(OnnxModelInfo)]),
    "nncl_onnx_model_info_free": (None, [P(OnnxModelInfo)]),
    # profile.h
    "nncl_bound_name": (c_char_p, [c_int]),
    "nncl_graph_profile": (c_int, [graph_p, c_int, c_int, P(Profile)]),
    "nncl_profile_free": (None, [P(Profile)]),
    "nncl_profile_write_trace": (c_int, [ctx_p, P(Profile), c_char_p, c_char_p]),
    # train.h
    "nncl_trainer_options_default": (None, [P(TrainerOptions)]),
    "nncl_optimizer_options_default": (None, [c_int, P(OptimizerOptions)]),
    "nncl_trainer_create": (c_int, [graph_p, P(TrainerOptions), P(trainer_p)]),
    "nncl_trainer_destroy": (None, [trainer_p]),
    "nncl_trainer_step": (c_int, [trainer_p, P(Array), P(Array), P(c_float)]),
    "nncl_trainer_evaluate": (c_int, [trainer_p, P(Array), P(Array), P(c_float), P(c_int64)]),
    "nncl_trainer_num_params": (c_int, [trainer_p]),
    "nncl_trainer_param_name": (c_char_p, [trainer_p, c_int]),
    "nncl_trainer_get_param": (c_int, [trainer_p, c_int, P(Array)]),
    "nncl_trainer_set_param": (c_int, [trainer_p, c_int, P(Array)]),
    "nncl_trainer_init_kaiming": (c_int, [trainer_p, c_uint64]),
    "nncl_trainer_set_lr": (None, [trainer_p, c_float]),
    "nncl_trainer_steps": (c_int64, [trainer_p]),
    "nncl_trainer_save_onnx": (c_int, [trainer_p, c_char_p, c_char_p]),
    "nncl_trainer_save_checkpoint": (c_int, [trainer_p, c_char_p]),
    "nncl_trainer_load_checkpoint": (c_int, [trainer_p, c_char_p]),
}

for _name, (_res, _args) in _PROTOTYPES.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

# free() for the malloc'ed tensor name nncl_onnx_load_tensor returns: looked up in the process's
# global scope, so that it is the malloc the library used when one is interposed (LD_PRELOAD of
# an allocator or of AddressSanitizer's runtime); libc's own free would crash on that memory.
libc_free = ctypes.CDLL(None).free
libc_free.argtypes = [c_void_p]
libc_free.restype = None


def text(b):
    """A C string as str ("" for NULL)."""
    return b.decode("utf-8", "replace") if b else ""
