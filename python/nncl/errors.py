"""errors.py: nncl.Error and one subclass per nncl_status, made from the library's status list.

The classes are generated at import from nncl_status_name (the NNCL_STATUS_LIST X-macro in
include/nncl/status.h), so a status added to the C list gets its class without a Python change:
NNCL_ERR_INVALID_ARGUMENT becomes InvalidArgumentError, NNCL_ERR_OUT_OF_DEVICE_MEMORY
OutOfDeviceMemoryError. Each exception carries the message the C library recorded.
"""

from ._lib import lib, text


class Error(Exception):
    """Base of every error nncl raises; .status is the nncl_status code, .status_name its name."""

    status = None
    status_name = None


def _class_name(status_name):
    # NNCL_ERR_OUT_OF_DEVICE_MEMORY -> OutOfDeviceMemoryError
    words = status_name[len("NNCL_ERR_") :].lower().split("_")
    return "".join(w.capitalize() for w in words) + "Error"


def _make_classes():
    by_status = {}
    code = 1  # 0 is NNCL_OK
    while True:
        name = text(lib.nncl_status_name(code))
        if not name.startswith("NNCL_ERR_"):  # past the end: "NNCL_STATUS_UNKNOWN"
            break
        doc = text(lib.nncl_status_string(code))
        fields = {"status": code, "status_name": name, "__doc__": doc}
        cls = type(_class_name(name), (Error,), fields)
        cls.__module__ = "nncl"
        by_status[code] = cls
        code += 1
    return by_status


ERROR_CLASSES = _make_classes()


def error_for(status, message):
    """The exception for a failed call: its class by status, the C library's message."""
    cls = ERROR_CLASSES.get(status, Error)
    if not message:
        message = text(lib.nncl_status_string(status))
    return cls(message)


def check(status, ctx):
    """Raises the error for `status` with ctx's last message; does nothing for NNCL_OK."""
    if status != 0:
        raise error_for(status, text(lib.nncl_context_last_error(ctx)) if ctx else "")
