"""profile.py: a profile (nncl_graph_profile) as Python rows, and its Chrome/Perfetto trace.

The rows carry the fields of `nncl profile`'s table; the trace is the library's own
(nncl_profile_write_trace, the writer `nncl profile --trace` uses), taken while the C profile
lives. Everything is copied out of the C profile, which the session then frees."""

import ctypes
import json
import os
import tempfile

from . import _lib
from .errors import check

L = _lib.lib


def chrome_trace_text(ctx, p):
    """The library's Chrome trace of profile p (a _lib.Profile) as JSON text."""
    fd, path = tempfile.mkstemp(suffix=".json", prefix="nncl-trace-")
    os.close(fd)
    try:
        check(L.nncl_profile_write_trace(ctx, ctypes.byref(p), path.encode(), b""), ctx)
        with open(path) as f:
            return f.read()
    finally:
        os.unlink(path)


def _shape(s):
    return [int(s.dims[d]) for d in range(s.rank)]


class ProfileResult:
    """rows: per planned node, as `nncl profile` prints them: index, name, op_type, fused, algo,
    device_us, share_pct, gflops, gbps, bound, roof_pct, host_us, kernels, inputs, outputs
    (shapes), flops, bytes, intensity. ops: per op type. totals: per-run device and wall times,
    memory and one-time costs. kernels: every command of a run, for the trace."""

    def __init__(self, p, trace_text):
        self._trace_text = trace_text
        self.device = _lib.text(p.device)
        self.runs, self.warmup = p.runs, p.warmup
        self.kernels = []
        for i in range(p.n_kernels):
            k = p.kernels[i]
            self.kernels.append(
                {
                    "name": _lib.text(k.name),
                    "node": k.node,
                    "device_us": k.device_ns * 1e-3,
                    "min_us": k.min_ns * 1e-3,
                    "max_us": k.max_ns * 1e-3,
                    "host_us": k.host_ns * 1e-3,
                    "start_us": k.start_ns * 1e-3,
                    "host_enqueue_us": k.host_enqueue_ns * 1e-3,
                    "host_enqueue_dur_us": k.host_enqueue_dur_ns * 1e-3,
                }
            )
        self.rows = []
        for i in range(p.n_nodes):
            n = p.nodes[i]
            info = n.info
            self.rows.append(
                {
                    "index": i,
                    "name": _lib.text(info.name),
                    "op_type": _lib.text(info.op_type),
                    "fused": _lib.text(info.fused),
                    "algo": _lib.text(info.algo),
                    "device_us": n.device_ns * 1e-3,
                    "share_pct": 100.0 * n.share,
                    "gflops": n.gflops,
                    "gbps": n.gbps,
                    "bound": _lib.text(L.nncl_bound_name(n.bound)),
                    "roof_pct": n.roof_pct,
                    "host_us": n.host_ns * 1e-3,
                    "kernels": [k["name"] for k in self.kernels if k["node"] == i],
                    "inputs": [_shape(info.in_shapes[j]) for j in range(min(info.n_in, 4))],
                    "outputs": [_shape(info.out_shapes[j]) for j in range(min(info.n_out, 2))],
                    "flops": info.flops,
                    "bytes": info.bytes,
                    "intensity": n.intensity,
                    "start_us": n.start_ns * 1e-3,
                    "end_us": n.end_ns * 1e-3,
                }
            )
        self.ops = [
            {
                "op_type": _lib.text(p.ops[j].op_type),
                "nodes": p.ops[j].nodes,
                "device_us": p.ops[j].device_ns * 1e-3,
                "share_pct": 100.0 * p.ops[j].share,
                "flops": p.ops[j].flops,
                "bytes": p.ops[j].bytes,
            }
            for j in range(p.n_ops)
        ]
        us = lambda ns: ns * 1e-3  # noqa: E731
        self.totals = {
            "device_us": us(p.device_ns),
            "nodes_us": us(p.nodes_ns),
            "other_us": us(p.other_ns),
            "busy_median_us": us(p.busy_median_ns),
            "busy_min_us": us(p.busy_min_ns),
            "span_us": us(p.span_ns),
            "wall_us": us(p.wall_ns),
            "wall_plain_us": us(p.wall_plain_ns),
            "run_start_us": us(p.run_start_ns),
            "run_wall_us": us(p.run_wall_ns),
            "flops": p.flops,
            "bytes": p.bytes,
            "arena_bytes": p.arena_bytes,
            "intermediates_bytes": p.intermediates_bytes,
            "weight_bytes": p.weight_bytes,
            "workspace_bytes": p.workspace_bytes,
            "plan_seconds": p.plan_seconds if p.one_time else None,
            "program_builds": p.program_builds if p.one_time else None,
            "first_run_us": us(p.first_run_ns) if p.one_time else None,
        }
        self.peak = (
            {"fma_gflops": p.peak.fma_gflops, "mem_gbps": p.peak.mem_gbps} if p.have_peak else None
        )

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]

    def chrome_trace(self, title=""):
        """The Chrome Trace Event JSON object (opens in Perfetto and chrome://tracing): a host
        track, one track per device queue, a graph-nodes track; otherData["title"] = title."""
        trace = json.loads(self._trace_text)
        trace["otherData"]["title"] = title
        return trace

    def write_chrome_trace(self, path, title=""):
        with open(path, "w") as f:
            json.dump(self.chrome_trace(title), f)
            f.write("\n")
        return path
