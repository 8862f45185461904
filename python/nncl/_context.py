"""_context.py: nncl contexts (an OpenCL context and queue on one device), one per device spec,
shared by every session and trainer of the process.

Sharing is onnxruntime's Environment made per device: a context holds the compiled programs, so
a second session on a device builds nothing, and creating and destroying sessions in a loop
costs a graph, not an OpenCL context with its programs (a context that ran fashion_cnn leaves
1.6-1.9 MB of RSS behind on PoCL 3.1; see docs/DESIGN.md). A context serves one thread at a
time (nncl/context.h), so its sessions share its lock. The environment variables the library
reads at context creation (NNCL_DEVICE, NNCL_CACHE_DIR, NNCL_KERNEL_DIR) take effect when a
device's context is first made."""

import ctypes
import threading
import weakref

from . import _lib
from .errors import check, error_for

L = _lib.lib

_shared = {}
_shared_lock = threading.Lock()


class Context:
    """Owns an nncl_context, destroyed when the process ends (after the graphs made on it, whose
    finalizers are younger and run first; nncl tolerates the other order too)."""

    def __init__(self, device=None, devices=None, placement=None):
        ptr = _lib.ctx_p()
        msg = ctypes.create_string_buffer(1024)
        if devices:  # several devices (nncl_context_create_devices): "all", "0:0,0:1", "gpu,cpu"
            st = L.nncl_context_create_devices(devices.encode(), ctypes.byref(ptr), msg, len(msg))
        else:
            spec = device.encode() if device else None
            st = L.nncl_context_create(spec, ctypes.byref(ptr), msg, len(msg))
        if st != 0:
            raise error_for(st, _lib.text(msg.value))
        self.ptr = ptr.value
        self.lock = threading.RLock()
        self._finalizer = weakref.finalize(self, L.nncl_context_destroy, self.ptr)
        if placement:
            check(L.nncl_context_set_placement(self.ptr, placement.encode()), self.ptr)


def shared_context(device=None, devices=None, placement=None):
    """The process's context for device spec `device` (None: the default device), or for the
    several devices `devices` names with node placement `placement` (a context setting, so each
    placement gets its own context), made on first use."""
    key = ("devices", devices, placement or "") if devices else device or ""
    with _shared_lock:
        ctx = _shared.get(key)
        if ctx is None:
            ctx = _shared[key] = Context(device, devices, placement)
        return ctx
