"""_arrays.py: NumPy arrays to nncl_array views (no copy where the memory allows) and back."""

import ctypes

import numpy as np

from . import _lib
from .dtypes import NNCL_TO_NUMPY, NUMPY_TO_NNCL

_EMPTY = ctypes.create_string_buffer(1)


def as_c_array(value):
    """(nncl_array, ndarray to keep alive while C reads it). A C-contiguous array of a dtype nncl
    has is passed as it is; anything else is copied once into one (a list, a strided view, a
    big-endian array). A dtype nncl lacks goes through as NNCL_UNDEFINED so that the library
    reports it (DtypeError) like any other bad input."""
    arr = np.asarray(value)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    if arr.ndim > _lib.MAX_RANK:
        raise ValueError("nncl: rank %d is more than %d" % (arr.ndim, _lib.MAX_RANK))
    c = _lib.Array()
    c.dtype = NUMPY_TO_NNCL.get(arr.dtype, 0)
    c.shape.rank = arr.ndim
    for d, n in enumerate(arr.shape):
        c.shape.dims[d] = n
    # Zero elements: NumPy may give no address, and the library wants one; any valid one serves.
    # (__array_interface__ rather than arr.ctypes: the latter builds an object, a few us per call)
    c.data = arr.__array_interface__["data"][0] if arr.size else ctypes.addressof(_EMPTY)
    return c, arr


def take_c_array(c):
    """A NumPy array owning a copy of the library's nncl_array, which is then freed."""
    try:
        dtype = NNCL_TO_NUMPY[c.dtype]
        out = np.empty(c.shape.dims[: c.shape.rank], dtype=dtype)
        nbytes = out.nbytes
        if nbytes:
            ctypes.memmove(out.__array_interface__["data"][0], c.data, nbytes)
        return out
    finally:
        _lib.lib.nncl_array_free(ctypes.byref(c))
