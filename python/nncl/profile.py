"""profile.py: a profile (nncl_graph_profile) as Python rows, and its Chrome/Perfetto trace.

The rows carry the fields of `nncl profile`'s table; the trace has the CLI's tracks (host
enqueue calls, the device queue, graph nodes), events and argument names (tools/profile_trace.c
writes the CLI's, outside the library; test_profile.py holds the two to the same shape), with
times in microseconds on the median run's timeline. Everything is copied out of the C profile,
which the session then frees."""

import json

from . import _lib

L = _lib.lib
_TRANSFERS = ("upload", "download", "copy", "fill")
_PID, _TID_HOST, _TID_QUEUE, _TID_NODES = 1, 1, 2, 3


def _shape(s):
    return [int(s.dims[d]) for d in range(s.rank)]


class ProfileResult:
    """rows: per planned node, as `nncl profile` prints them: index, name, op_type, fused, algo,
    device_us, share_pct, gflops, gbps, bound, roof_pct, host_us, kernels, inputs, outputs
    (shapes), flops, bytes, intensity. ops: per op type. totals: per-run device and wall times,
    memory and one-time costs. kernels: every command of a run, for the trace."""

    def __init__(self, p):
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

    def _node_args(self, i):
        """A node's identity as the CLI's trace gives it (tools/profile_trace.c's node_args)."""
        r = self.rows[i]

        def shapes(lst):
            return " ".join("[" + ", ".join(str(d) for d in s) + "]" for s in lst)

        return {"node": i, "node_name": r["name"], "op": r["op_type"], "fused": r["fused"],
                "algo": r["algo"], "inputs": shapes(r["inputs"]), "outputs": shapes(r["outputs"])}

    def chrome_trace(self, title=""):
        """The Chrome Trace Event JSON object (opens in Perfetto and chrome://tracing)."""
        ev = []

        def meta(what, tid, name, sort=None):
            ev.append({"name": what, "ph": "M", "pid": _PID, "tid": tid, "ts": 0,
                       "args": {"name": name}})
            if sort is not None:
                ev.append(
                    {"name": "thread_sort_index", "ph": "M", "pid": _PID, "tid": tid, "ts": 0,
                     "args": {"sort_index": sort}}
                )

        def sl(name, cat, tid, ts, dur, args):
            ev.append({"name": name, "ph": "X", "cat": cat, "pid": _PID, "tid": tid, "ts": ts,
                       "dur": dur, "args": args})

        meta("process_name", _TID_HOST, "nncl on " + self.device)
        meta("thread_name", _TID_HOST, "host: nncl_graph_run and enqueue calls", 0)
        meta("thread_name", _TID_QUEUE, "device queue 0", 1)
        meta("thread_name", _TID_NODES, "graph nodes", 2)
        t = self.totals
        sl("nncl_graph_run", "run", _TID_HOST, t["run_start_us"], t["run_wall_us"],
           {"wall_us_median": t["wall_us"]})
        for i, k in enumerate(self.kernels):
            cat = "transfer" if k["name"] in _TRANSFERS else "kernel"
            args = self._node_args(k["node"]) if k["node"] >= 0 else {"node": -1}
            args.update(device_us=k["device_us"], min_us=k["min_us"], max_us=k["max_us"],
                        host_us=k["host_us"], command=i)
            sl(k["name"], cat, _TID_QUEUE, k["start_us"], k["device_us"], args)
            sl("enqueue " + k["name"], "enqueue", _TID_HOST, k["host_enqueue_us"],
               k["host_enqueue_dur_us"], {"command": i})
            ev.append({"name": "launch", "ph": "s", "cat": "launch", "pid": _PID, "tid": _TID_HOST,
                       "ts": k["host_enqueue_us"], "id": i})
            ev.append({"name": "launch", "ph": "f", "cat": "launch", "pid": _PID, "tid": _TID_QUEUE,
                       "ts": k["start_us"], "id": i, "bp": "e"})
        for r in self.rows:
            args = self._node_args(r["index"])
            args.update(kernels=", ".join(r["kernels"]), n_kernels=len(r["kernels"]))
            args.update({key: r[key] for key in ("device_us", "share_pct", "flops", "bytes",
                                                  "gflops", "gbps", "intensity", "bound",
                                                  "roof_pct", "host_us")})
            sl(r["name"] or r["op_type"], "node", _TID_NODES, r["start_us"],
               r["end_us"] - r["start_us"], args)
        other = dict(t, title=title, device=self.device, runs=self.runs, warmup=self.warmup)
        if self.peak:
            other.update(peak_fma_gflops=self.peak["fma_gflops"],
                         peak_mem_gbps=self.peak["mem_gbps"])
        return {"traceEvents": ev, "displayTimeUnit": "ns", "otherData": other}

    def write_chrome_trace(self, path, title=""):
        with open(path, "w") as f:
            json.dump(self.chrome_trace(title), f)
            f.write("\n")
        return path
