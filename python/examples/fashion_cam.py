#!/usr/bin/python3
"""fashion_cam.py: classifies Fashion-MNIST test pictures with nncl and draws each one's class
activation map (Zhou et al. 2016) from the arrays the session returns.

    python3 fashion_cam.py [--count 16] [--out fashion_cam.png] [--device gpu]

models/fashion_cnn.onnx ends in global average pooling and one linear layer, so the map of
class k is sum_c W[k, c] * features[c], with `features` [N, 64, 7, 7] the session's second
output and W the linear layer's weight (read through nncl.Trainer's parameters, the public way
to see a model's initializers). The pictures come from Debian's dataset-fashion-mnist. The
output is a PNG: each picture beside its map over it, for the predicted class.
"""

import argparse
import gzip
import pathlib
import struct
import sys
import zlib

import numpy as np

import nncl

DATA = pathlib.Path("/usr/share/datasets/fashion-mnist")
MODEL = pathlib.Path(__file__).resolve().parents[2] / "models" / "fashion_cnn.onnx"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]


def read_idx(path):
    """An IDX file (the MNIST format: big-endian dims after a magic number) as a uint8 array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">%dI" % ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_test_set(count):
    images = read_idx(DATA / "t10k-images-idx3-ubyte.gz")[:count]
    labels = read_idx(DATA / "t10k-labels-idx1-ubyte.gz")[:count].astype(np.int64)
    # The model takes pixels / 255 as float32 [N, 1, 28, 28] (models/fashion_cnn.md).
    return (images.astype(np.float32) / 255.0)[:, None], labels


def class_maps(features, weight):
    """CAM of every class: [N, 10, 7, 7] = sum_c weight[k, c] * features[n, c]."""
    return np.einsum("kc,nchw->nkhw", weight, features)


def upsample(m, size):
    """Bilinear resize of a [h, w] map to [size, size] (align_corners=False, as the demo)."""
    h, w = m.shape
    ys = np.clip((np.arange(size) + 0.5) * h / size - 0.5, 0, h - 1)
    xs = np.clip((np.arange(size) + 0.5) * w / size - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = m[y0][:, x0] * (1 - fx) + m[y0][:, x1] * fx
    bottom = m[y1][:, x0] * (1 - fx) + m[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def overlay(picture, cam):
    """RGB [28, 28, 3] uint8: the grey picture with the positive part of the map in red."""
    heat = np.maximum(upsample(cam, picture.shape[0]), 0)
    heat = heat / heat.max() if heat.max() > 0 else heat
    grey = picture * 0.6
    rgb = np.stack([grey + 0.4 * heat, grey * (1 - 0.5 * heat), grey * (1 - 0.5 * heat)], axis=-1)
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def write_png(path, rgb):
    """An RGB uint8 [H, W, 3] array as a PNG file (zlib only, no imaging library needed)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=16, help="test pictures to classify (max 10000)")
    ap.add_argument("--out", default="fashion_cam.png", help="PNG to write")
    ap.add_argument("--device", default=None, help="nncl device: gpu, cpu, P:D or a name part")
    ap.add_argument("--scale", type=int, default=4, help="pixels per picture pixel in the PNG")
    args = ap.parse_args(argv)

    x, labels = load_test_set(args.count)
    session = nncl.InferenceSession(str(MODEL), device=args.device)
    logits, features = session.run(["logits", "features"], {"input": x})
    weight = nncl.Trainer(session).parameters()["fc.weight"]
    cams = class_maps(features, weight)
    predicted = logits.argmax(axis=1)

    tiles = []
    for n in range(len(x)):
        picture = x[n, 0]
        grey = (np.repeat(picture[:, :, None], 3, axis=2) * 255).astype(np.uint8)
        tile = np.concatenate([grey, overlay(picture, cams[n, predicted[n]])], axis=1)
        tiles.append(np.pad(tile, ((1, 1), (1, 1), (0, 0)), constant_values=255))
        mark = "ok" if predicted[n] == labels[n] else "WRONG (is %s)" % CLASSES[labels[n]]
        print("%4d  %-12s %s" % (n, CLASSES[predicted[n]], mark))
    per_row = 8
    while len(tiles) % per_row:
        tiles.append(np.full_like(tiles[0], 255))
    rows = [np.concatenate(tiles[i : i + per_row], axis=1) for i in range(0, len(tiles), per_row)]
    sheet = np.concatenate(rows, axis=0).repeat(args.scale, axis=0).repeat(args.scale, axis=1)
    write_png(args.out, sheet)
    accuracy = float((predicted == labels).mean())
    print("accuracy %.2f%% on %d pictures (%s); maps in %s" % (100 * accuracy, len(x),
          session.device["name"], args.out))
    return accuracy


if __name__ == "__main__":
    main()
    sys.exit(0)
