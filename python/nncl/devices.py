"""devices.py: nncl.get_devices(), the OpenCL devices nncl can run on (`nncl devices`)."""

import ctypes

from . import _lib
from .errors import error_for

L = _lib.lib


def device_dict(d):
    """An nncl_device_info as a dict of its fields (strings decoded)."""
    out = {}
    for name, _ in _lib.DeviceInfo._fields_:
        v = getattr(d, name)
        out[name] = _lib.text(v) if isinstance(v, bytes) else v
    out["is_gpu"], out["is_cpu"] = bool(d.is_gpu), bool(d.is_cpu)
    out["spec"] = "%d:%d" % (d.platform_index, d.device_index)  # what device= takes to pick it
    return out


def get_devices():
    """Every OpenCL device of every platform, as dicts (name, vendor, platform_name, is_gpu,
    global_mem_bytes, ... and spec, the "P:D" string that selects it)."""
    lst = ctypes.POINTER(_lib.DeviceInfo)()
    count = ctypes.c_int()
    msg = ctypes.create_string_buffer(1024)
    st = L.nncl_devices_list(ctypes.byref(lst), ctypes.byref(count), msg, len(msg))
    if st != 0:
        raise error_for(st, _lib.text(msg.value))
    try:
        return [device_dict(lst[i]) for i in range(count.value)]
    finally:
        L.nncl_devices_free(lst)
