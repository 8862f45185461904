"""test_errors.py: nncl.Error's subclasses are the C status list, and each one a Python user can
reach is raised by a real bad input, carrying the message the C library recorded."""

import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import nncl
from nncl import _lib
from conftest import REPO, TEST_MODELS

DATA = pathlib.Path(__file__).resolve().parent / "data"
X = np.zeros((1, 1, 28, 28), np.float32)


def test_one_class_per_status_from_the_c_list():
    names = []
    code = 1
    while _lib.text(_lib.lib.nncl_status_name(code)).startswith("NNCL_ERR_"):
        names.append(_lib.text(_lib.lib.nncl_status_name(code)))
        code += 1
    # status.h, read here as text, is the list the classes must follow.
    header = (REPO / "include" / "nncl" / "status.h").read_text()
    assert names == [n for n in __import__("re").findall(r"X\((NNCL_ERR_\w+),", header)]
    for code, name in enumerate(names, start=1):
        cls = nncl.errors.ERROR_CLASSES[code]
        assert issubclass(cls, nncl.Error) and cls.status_name == name
        assert getattr(nncl, cls.__name__) is cls
    assert nncl.InvalidArgumentError.status_name == "NNCL_ERR_INVALID_ARGUMENT"
    assert nncl.OutOfDeviceMemoryError.status_name == "NNCL_ERR_OUT_OF_DEVICE_MEMORY"


def raises(cls, fn, *words):
    with pytest.raises(cls) as e:
        fn()
    assert type(e.value) is cls
    for w in words:
        assert w in str(e.value), str(e.value)
    return e.value


def test_invalid_argument(fashion_cnn):
    raises(nncl.InvalidArgumentError,
           lambda: nncl.InferenceSession(fashion_cnn, options={"conv.algo": "fastest"}), "fastest")
    raises(nncl.InvalidArgumentError,
           lambda: nncl.InferenceSession(fashion_cnn, options={"no.such.option": "1"}),
           "no.such.option")


def test_no_device(fashion_cnn):
    raises(nncl.NoDeviceError,
           lambda: nncl.InferenceSession(fashion_cnn, device="no-such-device-xyz"),
           "no-such-device-xyz")


def raised_in_child(code, **env):
    """Runs `code` in a fresh interpreter with env added (the library reads these variables when
    it makes a device's context, which this process has already made) and returns what it printed:
    the code prints the name and message of the nncl.Error it catches."""
    prog = "import nncl, numpy as np\ntry:\n" + "".join("    %s\n" % l for l in code.splitlines())
    prog += "except nncl.Error as e:\n    print(type(e).__name__, e)\n"
    out = subprocess.run([sys.executable, "-c", prog], env=dict(os.environ, **env),
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_no_platform():
    # An ICD loader pointed at an empty vendor folder finds no OpenCL platform.
    out = raised_in_child("nncl.get_devices()", OCL_ICD_VENDORS="/nonexistent-nncl-vendors",
                          OCL_ICD_FILENAMES="")
    assert out.startswith("NoPlatformError"), out


def test_io_and_format(tmp_path):
    raises(nncl.IoError, lambda: nncl.InferenceSession(str(tmp_path / "missing.onnx")),
           "missing.onnx")
    raises(nncl.IoError, lambda: nncl.load_tensor(tmp_path / "missing.pb"), "missing.pb")
    raises(nncl.FormatError, lambda: nncl.InferenceSession(b"\x08\x07 not a model at all \xff"))
    bad = tmp_path / "truncated.onnx"
    bad.write_bytes((DATA / "metadata.onnx").read_bytes()[:-9])
    raises(nncl.FormatError, lambda: nncl.InferenceSession(str(bad)), "truncated.onnx")


def test_unsupported():
    # Ops nncl lacks are reported all at once when the graph plans (the first run).
    s = nncl.InferenceSession(str(TEST_MODELS / "loader_unsupported" / "model.onnx"))
    raises(nncl.UnsupportedError, lambda: s.run(None, {"X": np.zeros(2, np.float32)}), "FooBar")


def test_shape_dtype_not_found_state(fashion_cnn):
    s = nncl.InferenceSession(fashion_cnn)
    raises(nncl.StateError, lambda: s.run(None, {}), "input")
    raises(nncl.ShapeError, lambda: s.run(None, {"input": np.zeros((1, 1, 27, 28), np.float32)}),
           "input")
    raises(nncl.DtypeError, lambda: s.run(None, {"input": X.astype(np.float64)}), "input")
    raises(nncl.NotFoundError, lambda: s.run(None, {"image": X}), "image")
    raises(nncl.NotFoundError, lambda: s.run(["probabilities"], {"input": X}), "probabilities")
    assert s.run(None, {"input": X})[0].shape == (1, 10), "the session still works after errors"


def test_out_of_device_memory():
    s = nncl.InferenceSession(str(DATA / "huge_constant.onnx"))
    raises(nncl.OutOfDeviceMemoryError, lambda: s.run(None, {"x": np.ones(1, np.float32)}), "bytes")


ABS = """s = nncl.InferenceSession("/usr/share/libonnx-testdata/data/node/test_abs/model.onnx")
s.run(None, {"x": np.ones((3, 4, 5), np.float32)})"""


def test_kernel_not_found(tmp_path):
    # NNCL_KERNEL_DIR (kernel development) names a folder without the kernels.
    out = raised_in_child(ABS, NNCL_KERNEL_DIR=str(tmp_path), NNCL_CACHE_DIR="off")
    assert out.startswith("KernelNotFoundError") and "NNCL_KERNEL_DIR" in out, out


def test_build_failed(tmp_path):
    # A copy of kernels/ whose top-level files do not compile.
    shutil.copytree(REPO / "kernels", tmp_path, dirs_exist_ok=True)
    for f in tmp_path.glob("*.cl"):
        f.write_text("this is not OpenCL C;\n" + f.read_text())
    out = raised_in_child(ABS, NNCL_KERNEL_DIR=str(tmp_path), NNCL_CACHE_DIR="off")
    assert out.startswith("BuildFailedError"), out
