#!/usr/bin/env python3
"""profile_cli_check.py: `nncl profile` end to end. Profiles a small ONNX model built here with
onnx.helper (conv/relu/pool/flatten/gemm, plus a shape-only node), then the runnable models under
the directories given, and checks each run's outputs: the trace is valid Chrome Trace Event JSON with
every node on the nodes track, slices ordered on every track, command durations adding up per
node to the CSV's device time, per-node times adding up to the run's device time within 5%.

usage: profile_cli_check.py NNCL_EXE WORK_DIR [MODEL_DIR ...]
"""
import csv
import json
import os
import subprocess
import sys

import numpy as np


def make_model(path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)

    def init(name, shape):
        return numpy_helper.from_array(rng.uniform(-0.5, 0.5, shape).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], name="conv2", strides=[2, 2]),
        helper.make_node("Flatten", ["c2"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "profile_check",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 19, 19])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        [init("w1", [8, 3, 3, 3]), init("b1", [8]), init("w2", [16, 8, 3, 3]),
         init("fw", [10, 16 * 4 * 4]), init("fb", [10])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def fail(model, msg):
    print(f"FAIL {model}: {msg}")
    sys.exit(1)


def check(nncl, model, work, attempt):
    base = os.path.join(work, os.path.basename(os.path.dirname(model)) or "model")
    trace, table = base + "-trace.json", base + ".csv"
    cmd = [nncl, "profile", model, "--runs", "10", "--warmup", "1", "--trace", trace, "--csv", table]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    print(r.stdout)
    if r.returncode != 0:
        fail(model, f"exit {r.returncode}: {r.stderr}")
    for needle in ("by op type", "device busy", "wall time of nncl_graph_run", "one-time costs"):
        if needle not in r.stdout:
            fail(model, f"report lacks '{needle}'")

    with open(trace) as f:
        t = json.load(f)  # raises on invalid JSON
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        fail(model, "CSV has no node rows")
    events = t["traceEvents"]
    slices = [e for e in events if e["ph"] == "X"]
    by_tid = {}
    for e in slices:
        by_tid.setdefault(e["tid"], []).append(e)
    for tid in (2, 3):  # device queue, graph nodes: in order, never overlapping
        last = -1.0
        for e in by_tid.get(tid, []):
            if e["ts"] < last - 1e-3:
                fail(model, f"track {tid}: slice {e['name']} at {e['ts']} starts before {last}")
            last = e["ts"] + e["dur"]
    nodes = by_tid.get(3, [])
    if [e["args"]["node"] for e in nodes] != list(range(len(rows))):
        fail(model, "nodes track does not hold every CSV node once, in order")
    per_node = [0.0] * len(rows)
    other = 0.0
    for e in by_tid.get(2, []):
        n = e["args"]["node"]
        if n >= 0:
            per_node[n] += e["dur"]
        else:
            other += e["dur"]
    for row, got, e in zip(rows, per_node, nodes):
        want = float(row["device_us"])
        if abs(got - want) > 0.0006 + 1e-9 * want:  # CSV keeps 3 decimals
            fail(model, f"node {row['index']} {row['name']}: trace {got:.4f} us, CSV {want:.3f} us")
        if e["args"]["node_name"] != row["name"]:
            fail(model, f"node {row['index']} names differ")
    other_data = t["otherData"]
    total = sum(per_node) + other
    busy, fastest = other_data["busy_median_us"], other_data["busy_min_us"]
    if abs(total - other_data["device_us"]) > 1e-3 * max(1.0, total):
        fail(model, f"slices add to {total} us, the report says {other_data['device_us']} us")
    if busy <= 0:
        fail(model, "no device time")
    # Within 5% of the runs' device time: between the fastest and the median run. Per-command
    # medians shed the preemptions a busy shared CPU inflicts on single commands; the median run
    # keeps its share of them. Outside on four profiles is not noise.
    if total < fastest * 0.95 or total > busy * 1.05:
        msg = (f"per-node times {total:.1f} us vs run device time {fastest:.1f}-{busy:.1f} us: "
               "more than 5% outside")
        if attempt == 3:
            fail(model, msg)
        print(f"retrying: {msg}")
        return False
    print(f"ok {model}: {len(rows)} nodes, {len(by_tid.get(2, []))} commands, "
          f"device {total:.1f} us (busy {busy:.1f} us), wall {other_data['wall_us']:.1f} us")
    return True


def main():
    nncl, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    own = os.path.join(work, "profile_check", "model.onnx")
    os.makedirs(os.path.dirname(own), exist_ok=True)
    make_model(own)
    models = [own]
    # Runnable models: those beside reference data (test_data_set_0, the ONNX test layout; models
    # made to fail loading have none) and those at the top of a folder (the demo models).
    for d in sys.argv[3:]:  # absent folders: nothing to add
        for root, _, files in sorted(os.walk(d)):
            if root != d and not os.path.isdir(os.path.join(root, "test_data_set_0")):
                continue
            models += [os.path.join(root, f) for f in sorted(files) if f.endswith(".onnx")]
    for m in models:
        for attempt in range(4):
            if check(nncl, m, work, attempt):
                break


if __name__ == "__main__":
    main()
