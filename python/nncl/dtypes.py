"""dtypes.py: element types in nncl (nncl_dtype), NumPy, and ONNX's spelling ('tensor(float)')."""

import numpy as np

# nncl_dtype codes in NNCL_DTYPE_LIST order (include/nncl/tensor.h); NNCL_UNDEFINED is 0.
NNCL_TO_NUMPY = {
    1: np.dtype(np.float32),
    2: np.dtype(np.float16),
    3: np.dtype(np.int8),
    4: np.dtype(np.uint8),
    5: np.dtype(np.bool_),
    6: np.dtype(np.int32),
    7: np.dtype(np.int64),
}
NUMPY_TO_NNCL = {v: k for k, v in NNCL_TO_NUMPY.items()}

# ONNX TensorProto.DataType (onnx.proto) -> the element name onnxruntime writes in 'tensor(...)'.
ONNX_TYPE_NAMES = {
    1: "float",
    2: "uint8",
    3: "int8",
    4: "uint16",
    5: "int16",
    6: "int32",
    7: "int64",
    8: "string",
    9: "bool",
    10: "float16",
    11: "double",
    12: "uint32",
    13: "uint64",
    14: "complex64",
    15: "complex128",
    16: "bfloat16",
}


def onnx_type_string(onnx_type):
    """'tensor(float)' as onnxruntime spells it; 'tensor(undefined)' when none is declared."""
    return "tensor(%s)" % ONNX_TYPE_NAMES.get(onnx_type, "undefined")
