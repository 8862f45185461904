"""test_profile.py: session.profile() gives the rows of `nncl profile`'s table for the
Fashion-MNIST CNN, whose figures add up (per-node device time to the total, within 1e-6 since
they are the same doubles summed in another order), and writes a Chrome trace holding every
command and node; end_profiling() does the same through onnxruntime's switches."""

import json

import numpy as np
import pytest

import nncl

X = np.random.default_rng(3).random((2, 1, 28, 28), dtype=np.float32)
ROW_FIELDS = {"index", "name", "op_type", "fused", "algo", "device_us", "share_pct", "gflops",
              "gbps", "bound", "roof_pct", "host_us", "kernels", "inputs", "outputs", "flops",
              "bytes", "intensity", "start_us", "end_us"}


@pytest.fixture(scope="module")
def prof(fashion_cnn):
    return nncl.InferenceSession(fashion_cnn).profile({"input": X}, runs=3, warmup=1)


def test_rows_are_the_table(prof):
    assert prof.runs == 3 and prof.warmup == 1 and prof.device
    assert len(prof) >= 4, "a CNN plans to several nodes"
    ops = {r["op_type"] for r in prof}
    assert "Conv" in ops, ops
    for i, r in enumerate(prof):
        assert set(r) == ROW_FIELDS
        assert r["index"] == i and r["device_us"] >= 0  # a view (Reshape) launches nothing
        assert r["end_us"] >= r["start_us"]
    assert sum(len(r["kernels"]) for r in prof) == sum(k["node"] >= 0 for k in prof.kernels)
    assert any(r["kernels"] for r in prof)
    conv = next(r for r in prof if r["op_type"] == "Conv")
    assert conv["inputs"][0] == [2, 1, 28, 28] and conv["flops"] > 0


def test_figures_add_up(prof):
    t = prof.totals
    rows = sum(r["device_us"] for r in prof)
    assert rows == pytest.approx(t["nodes_us"], rel=1e-6)
    assert rows + t["other_us"] == pytest.approx(t["device_us"], rel=1e-6)
    other_pct = 100 * t["other_us"] / t["device_us"]
    assert sum(r["share_pct"] for r in prof) + other_pct == pytest.approx(100, rel=1e-6)
    kernels = sum(k["device_us"] for k in prof.kernels)
    assert kernels == pytest.approx(t["device_us"], rel=1e-6)
    by_op = {}
    for r in prof:
        by_op[r["op_type"]] = by_op.get(r["op_type"], 0) + r["device_us"]
    for o in prof.ops:
        assert o["device_us"] == pytest.approx(by_op[o["op_type"]], rel=1e-6)


def test_chrome_trace(prof, tmp_path):
    path = prof.write_chrome_trace(tmp_path / "trace.json", title="fashion")
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    slices = [e for e in events if e["ph"] == "X"]
    queue = [e for e in slices if e["cat"] in ("kernel", "transfer")]
    nodes = [e for e in slices if e["cat"] == "node"]
    assert len(queue) == len(prof.kernels) and len(nodes) == len(prof)
    assert sum(e["dur"] for e in queue) == pytest.approx(prof.totals["device_us"], rel=1e-6)
    assert [e["args"]["op"] for e in nodes] == [r["op_type"] for r in prof]
    assert trace["otherData"]["title"] == "fashion" and trace["otherData"]["device"] == prof.device


def test_end_profiling_writes_the_trace(fashion_cnn, tmp_path):
    opts = nncl.SessionOptions()
    opts.enable_profiling = True
    opts.profile_file_prefix = str(tmp_path / "prof")
    opts.profile_runs = 2
    s = nncl.InferenceSession(fashion_cnn, options=opts)
    assert s.end_profiling() == "", "nothing ran yet"
    s.run(None, {"input": X})
    path = s.end_profiling()
    assert path.startswith(str(tmp_path / "prof_")) and path.endswith(".json")
    trace = json.loads(open(path).read())
    assert trace["otherData"]["runs"] == 2
    plain = nncl.InferenceSession(fashion_cnn)
    plain.run(None, {"input": X})
    assert plain.end_profiling() == "", "profiling is off by default"


def test_trace_has_the_cli_tracks(fashion_cnn, tmp_path):
    # `nncl profile --trace` on the same model and batch: the package writes its own trace from
    # the same records, so the two must agree on tracks, event kinds, command names and nodes.
    import os
    import subprocess

    nncl_cli = os.environ.get("NNCL_CLI")
    if not nncl_cli:
        pytest.skip("NNCL_CLI is not set (meson test sets it to the built nncl)")
    cli_path = tmp_path / "cli.json"
    subprocess.run([nncl_cli, "profile", fashion_cnn, "--batch", "2", "--runs", "2", "--quiet",
                    "--trace", str(cli_path)], check=True, capture_output=True)
    ours = nncl.InferenceSession(fashion_cnn).profile({"input": X}, runs=2).chrome_trace()
    theirs = json.loads(cli_path.read_text())

    def shape(trace):
        ev = trace["traceEvents"]
        meta = sorted((e["name"], e["tid"], str(e.get("args"))) for e in ev if e["ph"] == "M")
        kinds = sorted({(e["ph"], e.get("cat", ""), e["tid"]) for e in ev})
        commands = [e["name"] for e in ev if e.get("cat") in ("kernel", "transfer")]
        nodes = [e["name"] for e in ev if e.get("cat") == "node"]
        return meta[1:], kinds, commands, nodes  # [0]: process_name names the device either way

    assert shape(ours) == shape(theirs)

    def arg_keys(trace):
        return {(e["ph"], e.get("cat", ""), tuple(sorted(e.get("args", {}))))
                for e in trace["traceEvents"] if e["ph"] != "M"}

    assert arg_keys(ours) == arg_keys(theirs)
    assert set(ours["otherData"]) >= set(theirs["otherData"])
    node = [e["args"] for e in ours["traceEvents"] if e.get("cat") == "node"]
    cli_node = [e["args"] for e in theirs["traceEvents"] if e.get("cat") == "node"]
    for a, b in zip(node, cli_node):
        for key in ("node", "node_name", "op", "fused", "algo", "inputs", "outputs", "kernels"):
            assert a[key] == b[key], (key, a[key], b[key])
