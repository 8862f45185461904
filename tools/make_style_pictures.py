"""make_style_pictures.py OUT_DIR: the two small pictures of README's `nncl style` example: a
Fashion-MNIST test garment (the first ankle boot) upscaled to 128x128 in colour, and a generated
pattern of coloured diagonal stripes and dots. Needs numpy and PIL (Debian's python3-numpy,
python3-pil) and the Fashion-MNIST files (dataset-fashion-mnist)."""
import gzip
import os
import sys

import numpy as np
from PIL import Image

DATA = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
LABELS = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"
SIZE = 128


def garment():
    with gzip.open(DATA) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(LABELS) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    boot = images[int(np.argmax(labels == 9))].astype(np.float32) / 255.0
    big = np.asarray(Image.fromarray((boot * 255).astype(np.uint8)).resize((SIZE, SIZE),
                                                                          Image.BICUBIC),
                     np.float32) / 255.0
    # a tan boot on a light blue background
    bg, fg = np.array([0.80, 0.88, 0.95]), np.array([0.55, 0.35, 0.15])
    rgb = bg * (1 - big[..., None]) + fg * big[..., None]
    return (rgb * 255 + 0.5).astype(np.uint8)


def pattern():
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    stripes = 0.5 + 0.5 * np.sin((x + y) * 2 * np.pi / 16)
    dots = ((np.mod(x, 24) - 12) ** 2 + (np.mod(y - x / 2, 24) - 12) ** 2) < 25
    rgb = np.stack([0.9 * stripes + 0.1, 0.3 + 0.4 * (1 - stripes), 0.2 + 0.3 * stripes], -1)
    rgb[dots] = [0.95, 0.85, 0.1]
    return (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    Image.fromarray(garment()).save(os.path.join(out, "content.png"), optimize=True)
    Image.fromarray(pattern()).save(os.path.join(out, "style.png"), optimize=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
