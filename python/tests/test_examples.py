"""test_examples.py: python/examples/fashion_cam.py classifies Fashion-MNIST pictures and its
class activation maps are those of the model: global average pooling is linear, so each map's
mean plus the class bias is the class logit the session returned (1e-4 relative + 1e-5
absolute: float32 sums of 64 x 49 products in two orders)."""

import importlib.util
import pathlib
import zlib

import numpy as np
import pytest

import nncl
from compare import assert_close

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "fashion_cam.py"
spec = importlib.util.spec_from_file_location("fashion_cam", EXAMPLE)
fashion_cam = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fashion_cam)

if not fashion_cam.DATA.is_dir():
    pytest.skip("%s is missing (Debian package dataset-fashion-mnist)" % fashion_cam.DATA,
                allow_module_level=True)


def test_maps_add_up_to_the_logits():
    x, labels = fashion_cam.load_test_set(32)
    assert x.shape == (32, 1, 28, 28) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    s = nncl.InferenceSession(str(fashion_cam.MODEL))
    logits, features = s.run(["logits", "features"], {"input": x})
    params = nncl.Trainer(s).parameters()
    cams = fashion_cam.class_maps(features, params["fc.weight"])
    assert cams.shape == (32, 10, 7, 7)
    from_maps = (cams.mean(axis=(2, 3)) + params["fc.bias"]).astype(np.float32)
    assert_close(from_maps, logits, "CAM means + bias against the logits", rtol=1e-4, atol=1e-5)


def test_example_runs_and_writes_a_png(tmp_path, capsys):
    out = tmp_path / "cam.png"
    accuracy = fashion_cam.main(["--count", "20", "--out", str(out), "--scale", "2"])
    # 90.71% over the 10,000 test pictures (models/fashion_cnn.md); 20 leave room for chance.
    assert accuracy >= 0.75
    assert "accuracy" in capsys.readouterr().out
    png = out.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (8 * 58 * 2, 3 * 30 * 2)  # 8 tiles of 2 x 28 + border, 3 rows
    idat_len = int.from_bytes(png[33:37], "big")
    raw = zlib.decompress(png[41 : 41 + idat_len])
    assert len(raw) == height * (1 + 3 * width)
