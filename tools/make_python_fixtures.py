#!/usr/bin/python3
"""make_python_fixtures.py: writes the small ONNX models the Python package's tests load
(python/tests/data/), made with Debian's python3-onnx so that each holds exactly what a test
needs; the tests compute the expected results themselves with NumPy.

    float16_transpose.onnx  Transpose + Reshape of a float16 [n, 3] input: float16 in and out
    huge_constant.onnx      Add of x [1] and a ConstantOfShape [2^36]: an output larger than any
                            device buffer (OutOfDeviceMemoryError)
    metadata.onnx           Identity with metadata_props, a doc_string and a model version

Run from the repository root: /usr/bin/python3 tools/make_python_fixtures.py
"""
import os

import onnx
from onnx import TensorProto as TP
from onnx import helper as h

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python", "tests", "data")


def model(graph, **fields):
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)],
                     producer_name="make_python_fixtures.py")
    m.ir_version = 8
    for k, v in fields.items():
        setattr(m, k, v)
    onnx.checker.check_model(m)
    return m


def float16_transpose():
    g = h.make_graph(
        [h.make_node("Transpose", ["x"], ["t"], perm=[1, 0]),
         h.make_node("Reshape", ["t", "s"], ["y"])],
        "float16_transpose",
        [h.make_tensor_value_info("x", TP.FLOAT16, ["n", 3])],
        [h.make_tensor_value_info("y", TP.FLOAT16, ["m"])],
        initializer=[h.make_tensor("s", TP.INT64, [1], [-1])],
    )
    return model(g)


def huge_constant():
    n = 1 << 36
    g = h.make_graph(
        [h.make_node("ConstantOfShape", ["s"], ["c"]), h.make_node("Add", ["c", "x"], ["y"])],
        "huge_constant",
        [h.make_tensor_value_info("x", TP.FLOAT, [1])],
        [h.make_tensor_value_info("y", TP.FLOAT, [n])],
        initializer=[h.make_tensor("s", TP.INT64, [1], [n])],
    )
    return model(g)


def metadata():
    g = h.make_graph(
        [h.make_node("Identity", ["x"], ["y"])],
        "metadata_graph",
        [h.make_tensor_value_info("x", TP.INT32, ["batch", 2])],
        [h.make_tensor_value_info("y", TP.INT32, ["batch", 2])],
        doc_string="graph description",
    )
    m = model(g, doc_string="model description", model_version=3, domain="org.nncl.test")
    h.set_model_props(m, {"author": "nncl", "labels": "a,b"})
    return m


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, make in (("float16_transpose", float16_transpose), ("huge_constant", huge_constant),
                       ("metadata", metadata)):
        path = os.path.join(OUT, name + ".onnx")
        onnx.save(make(), path)
        print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
