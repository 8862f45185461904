"""test_multi_device.py: sessions over several devices (two PoCL pthread devices, set below before
the OpenCL library starts; meson runs this file in its own process): forced placement, pipelined
and data-parallel runs give the one-device outputs."""

import os

os.environ.setdefault("POCL_DEVICES", "pthread pthread")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import nncl  # noqa: E402
from conftest import TEST_MODELS  # noqa: E402

RESNET = str(TEST_MODELS / "resnet_mini" / "model.onnx")


def images(n, seed):
    return np.random.default_rng(seed).random((n, 3, 32, 32), dtype=np.float32) * 2 - 1


@pytest.fixture(scope="module")
def one():
    return nncl.InferenceSession(RESNET, device="0:0")


def test_forced_placement_matches_one_device(one):
    # Same PoCL kernels on the same CPU on either device: bit-identical outputs.
    s = nncl.InferenceSession(RESNET, devices="all", placement="Conv:1")
    assert s.device_count == 2
    x = images(2, 1)
    (got,) = s.run(None, {"input": x})
    (want,) = one.run(None, {"input": x})
    np.testing.assert_array_equal(got, want)
    placed = s.placement()
    convs = [d for _, op, d in placed if op == "Conv"]
    assert convs and all(d == 1 for d in convs), placed
    assert any(op == "nncl.Transfer" for _, op, _ in placed), placed
    # The same through SessionOptions
    o = nncl.SessionOptions(devices="all", placement="Conv:1")
    (again,) = nncl.InferenceSession(RESNET, sess_options=o).run(None, {"input": x})
    np.testing.assert_array_equal(again, want)


def test_placement_without_devices_is_refused():
    with pytest.raises(ValueError, match="devices"):
        nncl.InferenceSession(RESNET, placement="Conv:1")


def test_pipelined_batches_match_one_device(one):
    s = nncl.InferenceSession(RESNET, devices="all")
    feeds = [{"input": images(2, b)} for b in range(4)]
    got = s.run_pipelined(None, feeds)
    assert len(got) == 4
    for b, feed in enumerate(feeds):
        (want,) = one.run(None, feed)
        np.testing.assert_array_equal(got[b][0], want, err_msg="batch %d" % b)
    devices = {d for _, _, d in s.placement()}
    assert devices == {0, 1}, s.placement()
    with pytest.raises(nncl.Error, match="batch 1"):
        s.run_pipelined(None, [{"input": images(2, 0)}, {"input": images(3, 0)}])


def test_data_parallel_matches_one_device(one):
    # Each replica runs its half of the batch wholly on its device; rows are independent in
    # inference, but a GEMM's blocking may depend on the batch: float32 summation-order tolerance
    # (1e-5 relative + 1e-6 absolute, as tests/test_multi_device_models.c).
    reps = [nncl.InferenceSession(RESNET, devices="all") for _ in range(2)]
    x = images(4, 7)
    halves = nncl.run_data_parallel(reps, [{"input": x[:2]}, {"input": x[2:]}])
    (want,) = one.run(None, {"input": x})
    got = np.concatenate([h[0] for h in halves])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    for r, s in enumerate(reps):
        assert {d for _, _, d in s.placement()} == {r}
    with pytest.raises(ValueError, match="one input_feed per session"):
        nncl.run_data_parallel(reps, [{"input": x}])
