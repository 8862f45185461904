"""session.py: InferenceSession, SessionOptions and the model descriptions, as onnxruntime's."""

import ctypes
import os
import time
import weakref

from . import _lib
from ._arrays import as_c_array, take_c_array
from ._context import shared_context
from .dtypes import onnx_type_string
from .errors import check
from .profile import ProfileResult, chrome_trace_text

L = _lib.lib


class NodeArg:
    """A model input or output as onnxruntime describes it: name, shape (ints, symbolic dims as
    their names, None where unknown) and type ('tensor(float)')."""

    def __init__(self, name, shape, type):
        self.name, self.shape, self.type = name, shape, type

    def __repr__(self):
        return "NodeArg(name=%r, type=%r, shape=%r)" % (self.name, self.type, self.shape)


class ModelMetadata:
    """onnxruntime's ModelMetadata: producer, graph name and description, domain, model
    description (doc_string), model version and the custom metadata_props as a dict."""

    def __init__(self, info):
        self.producer_name = _lib.text(info.producer_name)
        self.producer_version = _lib.text(info.producer_version)
        self.graph_name = _lib.text(info.graph_name)
        self.graph_description = _lib.text(info.graph_doc_string)
        self.domain = _lib.text(info.domain)
        self.description = _lib.text(info.doc_string)
        self.version = int(info.model_version)
        self.ir_version = int(info.ir_version)
        self.custom_metadata_map = {
            _lib.text(info.metadata_keys[i]): _lib.text(info.metadata_values[i])
            for i in range(info.n_metadata)
        }


def _node_arg(v):
    shape = None
    if v.rank >= 0:
        shape = []
        for d in range(v.rank):
            if v.dims[d] >= 0:
                shape.append(int(v.dims[d]))
            else:
                shape.append(_lib.text(v.dim_names[d]) or None)
    return NodeArg(_lib.text(v.name), shape, onnx_type_string(v.onnx_type))


class SessionOptions:
    """nncl's own options for a session: any key `nncl options` lists (conv.algo, graph.fusion,
    ...), set as strings (booleans also as True/False), and onnxruntime's profiling switches:
    with enable_profiling, end_profiling() profiles the last run's inputs and writes a Chrome
    trace named <profile_file_prefix>_<time>.json. Several devices: `devices` ("all", "0:0,0:1",
    "gpu,cpu") and `placement` ("NODE_OR_OP_TYPE:DEVICE,...") as InferenceSession takes them."""

    def __init__(self, **values):
        # Keyword form: SessionOptions(conv_algo="direct") sets "conv.algo".
        self._values = {}
        self.enable_profiling = False
        self.profile_file_prefix = "nncl_profile"
        self.profile_runs = 10
        self.devices = values.pop("devices", None)
        self.placement = values.pop("placement", None)
        for k, v in values.items():
            self.set(k.replace("_", "."), v)

    def set(self, key, value):
        """Sets option `key`; None goes back to the default. The library checks the key and the
        value when a session is made (InvalidArgumentError listing what is allowed)."""
        if value is None:
            self._values.pop(key, None)
        else:
            if isinstance(value, bool):
                value = "true" if value else "false"
            self._values[key] = str(value)

    def get(self, key):
        return self._values.get(key)

    __setitem__ = set
    __getitem__ = get

    def items(self):
        return list(self._values.items())

    @staticmethod
    def available():
        """Every option the library knows: [{key, values, default, env, doc}] (`nncl options`)."""
        rows = []
        for i in range(L.nncl_option_count()):
            o = L.nncl_option_get(i).contents
            values = []
            j = 0
            while o.values[j]:
                values.append(_lib.text(o.values[j]))
                j += 1
            rows.append(
                {
                    "key": _lib.text(o.key),
                    "values": values,
                    "default": values[0] if values else "",
                    "env": _lib.text(o.env) or None,
                    "doc": _lib.text(o.doc),
                }
            )
        return rows


def _release(graph, ctx):
    # Under the context's lock: another session may be running on it.
    with ctx.lock:
        L.nncl_graph_destroy(graph)


class InferenceSession:
    """Runs an ONNX model on an OpenCL device: nncl.InferenceSession('model.onnx').run(None, feeds).

    device: "gpu", "cpu", "P:D" or part of a device name (nncl_device_select); None takes
    $NNCL_DEVICE, else the first GPU, else the first device. options: SessionOptions or a dict
    of nncl option keys. Sessions on one device share its context and its lock (nncl/context.h:
    one thread at a time), so threads may share sessions; their runs take turns.

    devices: several devices for one session ("all", "0:0,0:1", "gpu,cpu"; instead of device):
    placement puts each node on one of them ("NODE_OR_OP_TYPE:DEVICE,...", the rest by measured
    cost or on device 0), transfers move tensors between them. Sessions with the same devices
    and placement share one context, so run_data_parallel can run them together."""

    def __init__(self, path_or_bytes, device=None, options=None, sess_options=None, devices=None,
                 placement=None):
        options = options if options is not None else sess_options
        if isinstance(options, dict):
            o = SessionOptions()
            for k, v in options.items():
                o.set(k, v)
            options = o
        self._options = options or SessionOptions()
        self._graph = None
        self._finalizer = None
        self._last_feeds = None
        devices = devices or self._options.devices
        placement = placement or self._options.placement
        if placement and not devices:
            raise ValueError("nncl: placement needs devices= (several devices)")
        self._ctx = shared_context(device, devices, placement)
        with self._ctx.lock:
            self._load(path_or_bytes)

    def _load(self, path_or_bytes):
        ctx = self._ctx.ptr
        graph = _lib.graph_p()
        info = _lib.OnnxModelInfo()
        if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            data = bytes(path_or_bytes)
            self._model_path = None
            check(L.nncl_onnx_load_memory(ctx, data, len(data), None, ctypes.byref(graph)), ctx)
            self._finalizer = weakref.finalize(self, _release, graph.value, self._ctx)
            check(L.nncl_onnx_model_info_parse(ctx, data, len(data), ctypes.byref(info)), ctx)
        else:
            path = os.fspath(path_or_bytes)
            self._model_path = path
            check(L.nncl_onnx_load(ctx, path.encode(), ctypes.byref(graph)), ctx)
            self._finalizer = weakref.finalize(self, _release, graph.value, self._ctx)
            check(L.nncl_onnx_model_info_read(ctx, path.encode(), ctypes.byref(info)), ctx)
        self._graph = graph.value
        try:
            self._inputs = [_node_arg(info.inputs[i]) for i in range(info.n_inputs)]
            self._outputs = [_node_arg(info.outputs[i]) for i in range(info.n_outputs)]
            self._meta = ModelMetadata(info)
        finally:
            L.nncl_onnx_model_info_free(ctypes.byref(info))
        for key, value in self._options.items():
            check(L.nncl_graph_set_option(self._graph, key.encode(), value.encode()), ctx)

    # ---- onnxruntime's description calls ----
    def get_inputs(self):
        return list(self._inputs)

    def get_outputs(self):
        return list(self._outputs)

    def get_modelmeta(self):
        return self._meta

    def get_session_options(self):
        return self._options

    def get_providers(self):
        """The device, as onnxruntime would name an execution provider."""
        return ["nncl:" + self.device["name"]]

    @property
    def device(self):
        """The device this session runs on (the fields of nncl.get_devices())."""
        from .devices import device_dict

        return device_dict(L.nncl_context_device(self._ctx.ptr).contents)

    @property
    def device_count(self):
        """How many devices the session's context spans (1 unless made with devices=)."""
        return L.nncl_context_device_count(self._ctx.ptr)

    def placement(self):
        """Where the last plan put each node: [(node name, op type, device index)], transfer
        nodes (op type nncl.Transfer) included. Run the session first."""
        with self._ctx.lock:
            out = []
            for i in range(L.nncl_graph_num_planned_nodes(self._graph)):
                n = _lib.NodeInfo()
                check(L.nncl_graph_planned_node(self._graph, i, ctypes.byref(n)), self._ctx.ptr)
                out.append((_lib.text(n.name), _lib.text(n.op_type), int(n.device)))
            return out

    def option(self, key):
        """The value the session plans with for option `key`."""
        value = ctypes.c_char_p()
        with self._ctx.lock:
            st = L.nncl_graph_get_option(self._graph, key.encode(), ctypes.byref(value))
            check(st, self._ctx.ptr)
        return _lib.text(value.value)

    def stats(self):
        """The counters (nncl_stats) of the device's context, which the device's sessions share, as
        a dict: program builds, kernel launches, device allocations ..."""
        s = _lib.Stats()
        L.nncl_context_stats(self._ctx.ptr, ctypes.byref(s))
        return {name: getattr(s, name) for name, _ in _lib.Stats._fields_}

    # ---- running ----
    def _set_inputs(self, input_feed):
        ctx = self._ctx.ptr
        for name, value in input_feed.items():
            c, keep = as_c_array(value)
            check(L.nncl_graph_set_input(self._graph, name.encode(), ctypes.byref(c)), ctx)
            del keep  # the library has copied it to the device

    def run(self, output_names, input_feed, run_options=None):
        """Runs the model on input_feed ({name: array}) and returns the outputs named (all, in
        the model's order, for None) as NumPy arrays that own their memory. run_options is
        onnxruntime's; nncl has no per-run options, so it is accepted and must be None."""
        if run_options is not None:
            raise ValueError("nncl: run_options is not supported (set options on the session)")
        ctx = self._ctx.ptr
        with self._ctx.lock:
            self._set_inputs(input_feed)
            self._last_feeds = input_feed
            check(L.nncl_graph_run(self._graph), ctx)
            out = []
            if output_names is None:
                for i in range(L.nncl_graph_num_outputs(self._graph)):
                    c = _lib.Array()
                    check(L.nncl_graph_get_output(self._graph, i, ctypes.byref(c)), ctx)
                    out.append(take_c_array(c))
            else:
                for name in output_names:
                    c = _lib.Array()
                    st = L.nncl_graph_get_output_by_name(self._graph, name.encode(),
                                                         ctypes.byref(c))
                    check(st, ctx)
                    out.append(take_c_array(c))
            return out

    def _take_outputs(self, output_names, arrays):
        """The outputs named (all for None) from one run's nncl_arrays, which are all freed."""
        names = [_lib.text(L.nncl_graph_output_name(self._graph, i)) for i in range(len(arrays))]
        taken = [take_c_array(c) for c in arrays]
        if output_names is None:
            return taken
        return [taken[names.index(n)] for n in output_names]

    def run_pipelined(self, output_names, input_feeds, stages=None):
        """Runs a sequence of batches (a list of input_feed dicts, every batch with the first's
        shapes) through `stages` stages on the session's devices (default: one per device),
        stage k of a batch overlapping stage k + 1 of the batch before (nncl_graph_run_pipelined).
        Returns one list of outputs per batch, as run would. The session keeps its stages for
        later runs."""
        ctx = self._ctx.ptr
        n_in = L.nncl_graph_num_inputs(self._graph)
        n_out = L.nncl_graph_num_outputs(self._graph)
        names = [_lib.text(L.nncl_graph_input_name(self._graph, k)) for k in range(n_in)]
        feeds = list(input_feeds)
        ins = (_lib.Array * (len(feeds) * n_in))()
        outs = (_lib.Array * (len(feeds) * n_out))()
        keep = []
        for b, feed in enumerate(feeds):
            for k, name in enumerate(names):
                if name not in feed:
                    raise ValueError("nncl: batch %d has no input '%s'" % (b, name))
                c, kept = as_c_array(feed[name])
                ins[b * n_in + k] = c
                keep.append(kept)  # read by the library until the call returns
        with self._ctx.lock:
            n = self.device_count if stages is None else int(stages)
            check(L.nncl_graph_set_stages(self._graph, n), ctx)
            check(L.nncl_graph_run_pipelined(self._graph, len(feeds), ins, outs), ctx)
        return [self._take_outputs(output_names, outs[b * n_out:(b + 1) * n_out])
                for b in range(len(feeds))]

    def profile(self, input_feed, runs=10, warmup=1, trace_path=None):
        """Profiles `runs` runs on input_feed after `warmup` (nncl_graph_profile): returns a
        ProfileResult whose rows are the per-node rows of `nncl profile`'s table; trace_path (or
        ProfileResult.write_chrome_trace later) writes the Chrome/Perfetto trace."""
        ctx = self._ctx.ptr
        with self._ctx.lock:
            self._set_inputs(input_feed)
            p = _lib.Profile()
            check(L.nncl_graph_profile(self._graph, int(runs), int(warmup), ctypes.byref(p)), ctx)
            try:
                result = ProfileResult(p, chrome_trace_text(ctx, p))
            finally:
                L.nncl_profile_free(ctypes.byref(p))
        if trace_path is not None:
            result.write_chrome_trace(trace_path)
        return result

    def end_profiling(self):
        """onnxruntime's call: with options.enable_profiling, profiles the last run's inputs and
        writes the Chrome trace; returns its file name ("" when profiling is off or nothing ran)."""
        if not self._options.enable_profiling or self._last_feeds is None:
            return ""
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
        path = "%s_%s.json" % (self._options.profile_file_prefix, stamp)
        self.profile(self._last_feeds, runs=self._options.profile_runs, trace_path=path)
        return path

    def close(self):
        """Frees the graph and, once nothing else uses it, the device context (also done when
        the session is garbage-collected)."""
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def run_data_parallel(sessions, input_feeds, output_names=None):
    """Data parallel: session i (all on one context: the same devices= and placement) runs
    input_feeds[i] wholly on device i, and all of them run at the same time
    (nncl_graph_set_device, nncl_graphs_run); typically replicas of one model, each given its
    slice of the batch. Each session stays pinned to its device afterwards. Returns one list of
    outputs per session, as run would."""
    sessions = list(sessions)
    if len(sessions) != len(input_feeds) or not sessions:
        raise ValueError("nncl: run_data_parallel takes one input_feed per session")
    ctx = sessions[0]._ctx
    if any(s._ctx is not ctx for s in sessions):
        raise ValueError("nncl: run_data_parallel needs sessions of one context (same devices=)")
    graphs = (_lib.graph_p * len(sessions))(*[s._graph for s in sessions])
    with ctx.lock:
        for i, (s, feed) in enumerate(zip(sessions, input_feeds)):
            check(L.nncl_graph_set_device(s._graph, i), ctx.ptr)
            s._set_inputs(feed)
        check(L.nncl_graphs_run(graphs, len(sessions)), ctx.ptr)
        results = []
        for s in sessions:
            arrays = []
            try:
                for i in range(L.nncl_graph_num_outputs(s._graph)):
                    c = _lib.Array()
                    check(L.nncl_graph_get_output(s._graph, i, ctypes.byref(c)), ctx.ptr)
                    arrays.append(c)
            except Exception:
                for c in arrays:
                    L.nncl_array_free(ctypes.byref(c))
                raise
            results.append(s._take_outputs(output_names, arrays))
        return results
