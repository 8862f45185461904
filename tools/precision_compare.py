#!/usr/bin/python3
"""precision_compare.py: graph.precision=fp16-storage against fp32 on the demo CNN
(models/fashion_cnn.onnx) over the Fashion-MNIST test set: top-1 agreement, largest and mean
|logit difference|, each precision's accuracy, and the time of a pass over the images in each.
A third session, fp32 with the conv algorithm fp16-storage is forced to (conv.algo=direct),
separates what the storage costs from what the algorithm choice costs (the one small Gemm is
left to the context's choice: gemm.impl is a context option). The
sessions take turns ROUNDS times in this one run (the median of each) so a machine whose speed
drifts slows all alike. Prints the load average before and after.

    PYTHONPATH=python NNCL_LIBRARY=build/lib/libnncl.so \\
        /usr/bin/python3 tools/precision_compare.py [--images 10000] [--batch 100] [--rounds 3]
"""
import argparse
import gzip
import os
import statistics
import time

import numpy as np

import nncl

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def run_all(sess, name, x, batch):
    out = []
    for b0 in range(0, len(x), batch):
        out.append(sess.run(["logits"], {name: x[b0:b0 + batch]})[0])
    return np.concatenate(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    x = idx(f"{DATA}/t10k-images-idx3-ubyte.gz")[:a.images].astype(np.float32) / 255.0
    x = x.reshape(-1, 1, 28, 28)
    labels = idx(f"{DATA}/t10k-labels-idx1-ubyte.gz")[:a.images]
    model = os.path.join(HERE, "..", "models", "fashion_cnn.onnx")
    print("load before:", open("/proc/loadavg").read().split()[:3])
    same_algos = {"conv.algo": "direct"}
    sess = {"fp32": nncl.InferenceSession(model, options={"graph.precision": "fp32"}),
            "fp32 direct": nncl.InferenceSession(
                model, options=dict(same_algos, **{"graph.precision": "fp32"})),
            "fp16-storage": nncl.InferenceSession(model, options={"graph.precision": "fp16-storage"})}
    name = sess["fp32"].get_inputs()[0].name
    logits = {p: run_all(s, name, x, a.batch) for p, s in sess.items()}  # plans, builds, warms
    times = {p: [] for p in sess}
    for _ in range(a.rounds):
        for p, s in sess.items():
            t0 = time.perf_counter()
            run_all(s, name, x, a.batch)
            times[p].append(time.perf_counter() - t0)
    f32, f16 = logits["fp32"], logits["fp16-storage"]
    d = np.abs(f32.astype(np.float64) - f16.astype(np.float64))
    worst = np.unravel_index(np.argmax(d), d.shape)
    agree = int((f32.argmax(1) == f16.argmax(1)).sum())
    print(f"device: {sess['fp32'].device['name']}; {a.images} images, batch {a.batch}")
    print(f"top-1 agreement: {agree}/{a.images} ({100.0 * agree / a.images:.2f}%)")
    print(f"max |logit diff|: {d.max():.4g} (image {worst[0]}, class {worst[1]}); "
          f"mean {d.mean():.3g}; logits span [{f32.min():.3g}, {f32.max():.3g}]")
    for p in sess:
        acc = 100.0 * float((logits[p].argmax(1) == labels).mean())
        print(f"{p}: accuracy {acc:.2f}%, pass over the images {statistics.median(times[p]):.3f} s "
              f"(median of {a.rounds}: {', '.join(f'{t:.3f}' for t in times[p])})")
    med = {p: statistics.median(t) for p, t in times.items()}
    print(f"time fp16-storage / fp32: {med['fp16-storage'] / med['fp32']:.2f}; "
          f"/ fp32 direct: {med['fp16-storage'] / med['fp32 direct']:.2f}")
    print("load after:", open("/proc/loadavg").read().split()[:3])


main()
