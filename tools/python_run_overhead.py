#!/usr/bin/python3
"""python_run_overhead.py: what nncl.InferenceSession.run costs per call on top of the C API.

For each model, the C loop (python/bench/run_loop.c: set the input, run, read every output,
free) and session.run with the same input take turns, ROUNDS times each, in this one run, so
a machine whose speed drifts slows both alike; each side's figure is the median of its rounds'
medians. Printed: C us/call, Python us/call, ratio, and the difference (the binding's cost).

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

import nncl
from nncl.dtypes import NUMPY_TO_NNCL

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = [
    # (label, model, input shape): a one-node model, then a small CNN at batch 1
    ("Abs [3,4,5]", "/usr/share/libonnx-testdata/data/node/test_abs/model.onnx", (3, 4, 5)),
    ("fashion_cnn [1,1,28,28]", os.path.join(HERE, "..", "models", "fashion_cnn.onnx"), (1, 1, 28, 28)),
]


def python_us(sess, feeds, runs):
    for _ in range(10):
        sess.run(None, feeds)
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        t.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(t)


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
    print("%-26s %12s %12s %8s %10s" % ("model", "C us/call", "Python us", "ratio", "diff us"))
    for label, model, shape in MODELS:
        x = np.random.default_rng(0).random(shape, dtype=np.float32)
        sess = nncl.InferenceSession(model)
        feeds = {sess.get_inputs()[0].name: x}
        cs, ps = [], []
        for _ in range(args.rounds):
            cs.append(c_us(args.run_loop, model, x, args.runs))
            ps.append(python_us(sess, feeds, args.runs))
        c, p = statistics.median(cs), statistics.median(ps)
        print("%-26s %12.1f %12.1f %8.2f %10.1f" % (label, c, p, p / c, p - c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
