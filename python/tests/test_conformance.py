"""test_conformance.py: ONNX backend node tests (Debian libonnx-testdata) through Python. The
folders come from the C conformance list, tests/onnx_node_tests.txt (what `nncl test` passes):
every 7th entry, so the subset spreads over the whole list (over 100 folders), plus the first
listed folder of every element type nncl has, so each dtype crosses the binding (the list has
no float16 test: test_session.py runs a float16 model)."""

import numpy as np
import pytest

from conftest import ONNX_DATA, REPO
from onnx_folders import check_folder

if not ONNX_DATA.is_dir():
    pytest.skip("%s is missing (Debian package libonnx-testdata)" % ONNX_DATA,
                allow_module_level=True)


def listed():
    out = []
    for line in (REPO / "tests" / "onnx_node_tests.txt").read_text().splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            out.append(entry)
    return out


LISTED = listed()
SUBSET = LISTED[::7]
# Folders whose inputs or outputs have the dtype, picked by name from the list.
BY_DTYPE = {
    "int8": "node/test_clip_default_int8_inbounds",
    "uint8": "node/test_add_uint8",
    "int32": "node/test_basic_convinteger",
    "int64": "node/test_argmax_default_axis_example",
    "bool": "node/test_and2d",
}


def test_subset_is_large_enough():
    assert len(SUBSET) >= 100


@pytest.mark.parametrize("folder", SUBSET)
def test_node_test_passes(folder):
    check_folder(ONNX_DATA / folder)


@pytest.mark.parametrize("dtype", sorted(BY_DTYPE))
def test_dtype_crosses_the_binding(dtype):
    folder = BY_DTYPE[dtype]
    assert folder in LISTED, "%s is not in the C conformance list" % folder
    seen = check_folder(ONNX_DATA / folder)
    assert np.dtype(dtype) in seen, "%s: saw %s" % (folder, sorted(map(str, seen)))
