"""test_session.py: InferenceSession's onnxruntime calls on the Fashion-MNIST CNN: descriptions
(symbolic dims, ONNX type spelling, metadata), run with every output or some by name, from a
path or bytes, inputs read in place, outputs owning their memory, options, devices."""

import threading

import numpy as np
import pytest

import nncl
from nncl._arrays import as_c_array
from compare import assert_close
from conftest import MODELS, REPO


@pytest.fixture(scope="module")
def sess(fashion_cnn):
    return nncl.InferenceSession(fashion_cnn)


def batch(n, seed=0):
    return np.random.default_rng(seed).random((n, 1, 28, 28), dtype=np.float32)


def test_descriptions_follow_onnxruntime(sess):
    (i,) = sess.get_inputs()
    assert (i.name, i.type, i.shape) == ("input", "tensor(float)", ["N", 1, 28, 28])
    outs = sess.get_outputs()
    assert [(o.name, o.type, o.shape) for o in outs] == [
        ("logits", "tensor(float)", ["N", 10]),
        ("features", "tensor(float)", ["N", 64, 7, 7]),
    ]
    meta = sess.get_modelmeta()
    assert (meta.producer_name, meta.graph_name, meta.version) == ("pytorch", "torch_jit", 0)
    assert meta.custom_metadata_map == {}


def test_run_all_and_named_outputs_and_batch_sizes(sess, fashion_cnn):
    x = batch(3)
    logits, features = sess.run(None, {"input": x})
    assert logits.shape == (3, 10) and features.shape == (3, 64, 7, 7)
    (only,) = sess.run(["features"], {"input": x})
    assert_close(only, features, "features by name")
    # Each sample alone gives the rows of the batch (a new batch size re-plans).
    for n in range(3):
        (row,) = sess.run(["logits"], {"input": x[n : n + 1]})
        assert_close(row[0], logits[n], "logits of sample %d alone" % n)
    with open(fashion_cnn, "rb") as f:
        from_bytes = nncl.InferenceSession(f.read())
    assert_close(from_bytes.run(None, {"input": x})[0], logits, "logits from bytes")


def test_inputs_are_read_in_place_and_outputs_own_their_memory(sess):
    x = batch(2)
    c, kept = as_c_array(x)
    assert c.data == x.ctypes.data and kept is x, "a C-contiguous float32 input was copied"
    strided = np.repeat(x, 2, axis=3)[:, :, :, ::2]  # same values, not contiguous
    c2, kept2 = as_c_array(strided)
    assert kept2.flags.c_contiguous and c2.data != strided.ctypes.data
    a = sess.run(None, {"input": x})[0]
    b = sess.run(None, {"input": strided})[0]
    assert_close(b, a, "a strided input")
    assert a.flags.owndata and a.base is None
    a[:] = 0  # ours to change: the next run is unaffected
    assert np.abs(sess.run(None, {"input": x})[0]).max() > 0


def test_options_are_nncl_options(fashion_cnn):
    keys = {o["key"]: o for o in nncl.SessionOptions.available()}
    assert "conv.algo" in keys and "graph.fusion" in keys
    x = batch(2, seed=1)
    ref = nncl.InferenceSession(fashion_cnn).run(None, {"input": x})[0]
    for algo in keys["conv.algo"]["values"]:
        opts = nncl.SessionOptions()
        opts.set("conv.algo", algo)
        opts.set("graph.fusion", False)
        s = nncl.InferenceSession(fashion_cnn, options=opts)
        # booleans read back as 0/1
        assert s.option("conv.algo") == algo and s.option("graph.fusion") == "0"
        assert_close(s.run(None, {"input": x})[0], ref, "conv.algo=%s" % algo)
    s = nncl.InferenceSession(fashion_cnn, options={"conv.algo": "direct"})
    assert s.option("conv.algo") == "direct"


def test_devices(sess):
    devices = nncl.get_devices()
    assert devices and all(d["name"] for d in devices)
    assert sess.device["name"] in [d["name"] for d in devices]
    d0 = devices[0]
    s = nncl.InferenceSession(str(MODELS / "fashion_cnn.onnx"), device=d0["spec"])
    assert s.device["name"] == d0["name"]
    assert sess.get_providers() == ["nncl:" + sess.device["name"]]


def test_threads_share_a_session(sess):
    x = batch(2, seed=2)
    want = sess.run(None, {"input": x})[0]
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append(sess.run(["logits"], {"input": x})[0])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 15
    for r in results:
        assert_close(r, want, "a run from a thread")


def test_float16_in_and_out():
    # tools/make_python_fixtures.py: y = reshape(transpose(x), [-1]) on float16, whose values
    # are moved, never rounded: the result is exact.
    s = nncl.InferenceSession(str(REPO / "python/tests/data/float16_transpose.onnx"))
    assert s.get_inputs()[0].type == "tensor(float16)" and s.get_outputs()[0].shape == ["m"]
    x = np.array([[1.5, -2, 0.25], [3, 65504, -0.5], [6.1e-5, 1e-7, -0.0]], np.float16)
    (y,) = s.run(None, {"x": x})
    assert y.dtype == np.float16
    assert_close(y, x.T.reshape(-1), "float16 transpose", rtol=0, atol=0)


def test_metadata_and_symbolic_dims():
    s = nncl.InferenceSession(str(REPO / "python/tests/data/metadata.onnx"))
    m = s.get_modelmeta()
    got = (m.producer_name, m.graph_name, m.graph_description, m.description, m.domain, m.version)
    assert got == ("make_python_fixtures.py", "metadata_graph", "graph description",
                   "model description", "org.nncl.test", 3)
    assert m.custom_metadata_map == {"author": "nncl", "labels": "a,b"}
    (i,) = s.get_inputs()
    assert (i.type, i.shape) == ("tensor(int32)", ["batch", 2])
    x = np.arange(-6, 6, dtype=np.int32).reshape(6, 2)
    assert_close(s.run(None, {"x": x})[0], x, "int32 identity")
