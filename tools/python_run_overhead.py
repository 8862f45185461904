#!/usr/bin/python3
"""python_run_overhead.py: what nncl.InferenceSession.run costs per call on top of the C API.

For each model, the C loop (python/bench/run_loop.c: set the input, run, read every output,
free), the same C calls made through ctypes from this process (what the binding cannot avoid),
and session.run with the same input take turns, ROUNDS times each, in this one run, so a
machine whose speed drifts slows all alike; each figure is the median of its rounds' medians.
Printed: us/call of each, and run() over the C program's (the ratio the README quotes).

    PYTHONPATH=python NNCL_LIBRARY=build/lib/libnncl.so \\
        /usr/bin/python3 tools/python_run_overhead.py build/python/run_loop [--runs 300]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import ctypes

import nncl
from nncl import _lib
from nncl._arrays import as_c_array
from nncl.dtypes import NUMPY_TO_NNCL

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = [
    # (label, model, input shape): a one-node model, then a small CNN at batch 1
    ("Abs [3,4,5]", "/usr/share/libonnx-testdata/data/node/test_abs/model.onnx", (3, 4, 5)),
    ("fashion_cnn [1,1,28,28]", os.path.join(HERE, "..", "models", "fashion_cnn.onnx"),
     (1, 1, 28, 28)),
]


def median_us(fn, runs):
    for _ in range(10):
        fn()
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(t)


def raw_calls(sess, x):
    """The C loop's calls through ctypes on the session's graph, with no binding around them."""
    L, g = _lib.lib, sess._graph
    c, keep = as_c_array(x)
    name = sess.get_inputs()[0].name.encode()
    n_out = L.nncl_graph_num_outputs(g)

    def call():
        L.nncl_graph_set_input(g, name, ctypes.byref(c))
        L.nncl_graph_run(g)
        for i in range(n_out):
            a = _lib.Array()
            L.nncl_graph_get_output(g, i, ctypes.byref(a))
            L.nncl_array_free(ctypes.byref(a))

    call.keep = keep
    return call


def c_us(run_loop, model, x, runs):
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(x.tobytes())
        f.flush()
        args = [run_loop, model, f.name, str(NUMPY_TO_NNCL[x.dtype])] + [str(d) for d in x.shape]
        out = subprocess.run(args + ["--", str(runs)], check=True, capture_output=True, text=True)
    return float(out.stdout.split()[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_loop", help="the built python/bench/run_loop program")
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    print("device: %s" % nncl.get_devices()[0]["name"])
    print("%-26s %10s %10s %10s %8s" % ("model", "C us", "ctypes us", "run() us", "ratio"))
    for label, model, shape in MODELS:
        x = np.random.default_rng(0).random(shape, dtype=np.float32)
        sess = nncl.InferenceSession(model)
        feeds = {sess.get_inputs()[0].name: x}
        raw = raw_calls(sess, x)
        cs, rs, ps = [], [], []
        for _ in range(args.rounds):
            cs.append(c_us(args.run_loop, model, x, args.runs))
            rs.append(median_us(raw, args.runs))
            ps.append(median_us(lambda: sess.run(None, feeds), args.runs))
        c, r, p = statistics.median(cs), statistics.median(rs), statistics.median(ps)
        print("%-26s %10.1f %10.1f %10.1f %8.2f" % (label, c, r, p, p / c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
