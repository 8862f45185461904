"""test_abi.py: every struct python/nncl/_lib.py mirrors has the C compiler's size and field
offsets (abi_layout, built from the public headers, prints them). A field added to a C struct
without its ctypes twin fails here instead of corrupting memory at run time."""

import json
import os
import subprocess

from nncl import _lib

CLASSES = {
    "nncl_shape": _lib.Shape,
    "nncl_array": _lib.Array,
    "nncl_device_info": _lib.DeviceInfo,
    "nncl_stats": _lib.Stats,
    "nncl_option_info": _lib.OptionInfo,
    "nncl_onnx_value": _lib.OnnxValue,
    "nncl_onnx_model_info": _lib.OnnxModelInfo,
    "nncl_node_info": _lib.NodeInfo,
    "nncl_peak": _lib.Peak,
    "nncl_profile_kernel": _lib.ProfileKernel,
    "nncl_profile_node": _lib.ProfileNode,
    "nncl_profile_op": _lib.ProfileOp,
    "nncl_profile": _lib.Profile,
    "nncl_optimizer_options": _lib.OptimizerOptions,
    "nncl_trainer_options": _lib.TrainerOptions,
}


def test_struct_layouts_match_the_compiler():
    exe = os.environ["NNCL_ABI_LAYOUT"]
    layout = json.loads(subprocess.run([exe], check=True, capture_output=True, text=True).stdout)
    assert set(layout) == set(CLASSES)
    for cname, info in layout.items():
        cls = CLASSES[cname]
        assert __import__("ctypes").sizeof(cls) == info["size"], cname
        for field, offset in info["fields"].items():
            assert getattr(cls, field).offset == offset, "%s.%s" % (cname, field)
