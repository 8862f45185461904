"""nncl: run and train ONNX models on any OpenCL device, with onnxruntime's call shape.

    import nncl
    sess = nncl.InferenceSession("model.onnx")
    (logits,) = sess.run(None, {sess.get_inputs()[0].name: x})

The package is a thin ctypes binding over libnncl's public C API (include/nncl/*.h)."""

import ctypes as _ctypes

from . import _lib
from .devices import get_devices
from .errors import ERROR_CLASSES as _ERROR_CLASSES
from .errors import Error
from .session import InferenceSession, ModelMetadata, NodeArg, SessionOptions, run_data_parallel
from .trainer import Trainer

__version__ = _lib.text(_lib.lib.nncl_version())

# One class per nncl_status (InvalidArgumentError, ShapeError, ...), made from the C list.
for _cls in _ERROR_CLASSES.values():
    globals()[_cls.__name__] = _cls
del _cls


def load_tensor(path):
    """(name, ndarray) from an ONNX TensorProto file (test_data_set_N/input_K.pb)."""
    from ._arrays import take_c_array
    from .errors import error_for

    arr, name = _lib.Array(), _ctypes.c_void_p()
    # No context: reading a file needs no device, and without one the library records no message,
    # so the message names the file and the status.
    st = _lib.lib.nncl_onnx_load_tensor(None, str(path).encode(), _ctypes.byref(arr),
                                        _ctypes.byref(name))
    if st != 0:
        raise error_for(st, "%s: %s" % (path, _lib.text(_lib.lib.nncl_status_string(st))))
    try:
        return (_ctypes.string_at(name.value).decode() if name.value else ""), take_c_array(arr)
    finally:
        _lib.libc_free(name.value)


__all__ = ["InferenceSession", "SessionOptions", "NodeArg", "ModelMetadata", "Trainer", "Error",
           "get_devices", "load_tensor", "run_data_parallel"] + [
               c.__name__ for c in _ERROR_CLASSES.values()]
