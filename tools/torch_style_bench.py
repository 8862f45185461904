#!/usr/bin/python3
"""torch_style_bench.py: time per step of `nncl style`'s default run next to the same computation in
PyTorch (CPU), in one run.

PyTorch gets the built-in network's architecture (conv 3x3 + ReLU with 32, 64, 128 random
filters, 2x2 average pooling between levels, no bias), the same Gram and content terms and Adam on
the picture with the clamp; then `nncl style` runs the same pictures, size and steps, and its
reported time for the steps (after planning) is read from its last step line. The filters are
drawn by each side's own generator: the work per step is the same, the values differ.

    /usr/bin/python3 tools/torch_style_bench.py --nncl build/tools/nncl \
        docs/style/content.png docs/style/style.png --size 128 --steps 50
"""
import argparse
import re
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def load(path, w, h, crop):
    im = Image.open(path).convert('RGB')
    if crop:  # centre crop to the aspect ratio, as nncl style cuts the style picture
        s = min(im.width / w, im.height / h)
        cw, ch = w * s, h * s
        left, top = (im.width - cw) / 2, (im.height - ch) / 2
        im = im.crop((left, top, left + cw, top + ch))
    a = np.asarray(im.resize((w, h), Image.BILINEAR), np.float32) / 255.0
    return torch.from_numpy((a.transpose(2, 0, 1)[None] - 0.5) / 0.5).contiguous()


def features(x, filters):
    out = []
    for level, w in enumerate(filters):
        if level:
            x = F.avg_pool2d(x, 2)
        x = F.relu(F.conv2d(x, w, padding=1))
        out.append(x)
    return out


def gram(f):
    c = f.shape[1]
    m = f.reshape(c, -1)
    return m @ m.t() / m.numel()


def torch_steps(content, style, steps, cw=1.0, sw=10.0, lr=0.02):
    gen = torch.Generator().manual_seed(1)
    widths, cin, filters = (32, 64, 128), 3, []
    for w in widths:
        filters.append(torch.randn(w, cin, 3, 3, generator=gen) * (2.0 / (cin * 9)) ** 0.5)
        cin = w
    with torch.no_grad():
        fc = features(content, filters)[1]
        gs = [gram(f) for f in features(style, filters)]
    x = content.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr / 0.5)  # lr in pixel units; pixels are (p - 0.5) / 0.5
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        fs = features(x, filters)
        loss = cw * ((fs[1] - fc) ** 2).mean() / (fc ** 2).mean()
        for f, g in zip(fs, gs):
            loss = loss + sw / 3 * ((gram(f) - g) ** 2).mean() / (g ** 2).mean()
        loss.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(-1.0, 1.0)
    return (time.perf_counter() - t0) / steps, float(loss)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('content')
    ap.add_argument('style')
    ap.add_argument('--nncl', default='build/tools/nncl')
    ap.add_argument('--size', type=int, default=128)
    ap.add_argument('--steps', type=int, default=50)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cw, ch = Image.open(a.content).size
    w = a.size if cw >= ch else max(1, round(a.size * cw / ch))
    h = a.size if ch >= cw else max(1, round(a.size * ch / cw))
    content, style = load(a.content, w, h, False), load(a.style, w, h, True)
    torch_steps(content, style, 3)  # warm-up
    t_torch, _ = torch_steps(content, style, a.steps)
    r = subprocess.run([a.nncl, 'style', a.content, a.style, '--out',
                        '/tmp/torch_style_bench.png', '--size', str(a.size), '--steps',
                        str(a.steps)], capture_output=True, text=True, check=True)
    last = [l for l in r.stdout.splitlines() if l.startswith('step %d/' % a.steps)][-1]
    t_nncl = float(re.search(r'(\S+) s$', last).group(1)) / a.steps
    print('%d x %d, %d Adam steps, PyTorch %d threads' % (w, h, a.steps, a.threads))
    print('PyTorch %.1f ms/step   nncl %.1f ms/step   nncl / PyTorch %.2f'
          % (1e3 * t_torch, 1e3 * t_nncl, t_nncl / t_torch))
    return 0


if __name__ == '__main__':
    sys.exit(main())
