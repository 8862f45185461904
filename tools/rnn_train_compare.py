#!/usr/bin/python3
"""rnn_train_compare.py: nncl against PyTorch on recurrent training, measured in one run.

The network is the demo GRU's architecture (models/fashion_gru.md): a Fashion-MNIST image read
row by row, 28 steps of 28 pixels, one GRU layer with hidden size 64 (PyTorch's gate formula,
ONNX linear_before_reset=1), the last hidden state through linear 64->10; --cell lstm swaps in an
LSTM of the same size. The input is time-first, [28, N, 28] (batch axis 1), and the model is
exported with Squeeze on the last state. Both frameworks start from the same initial weights
(PyTorch's init, seed --seed, exported untrained), take the same batches in file order (nncl
train --no-shuffle; consecutive slices in PyTorch), Adam with the same learning rate and batch.

--speed (default): time per training step and per forward pass at batch --batch, each framework
measured in this run: PyTorch as the median of --steps timed steps (--torch-threads, default one
per core), nncl
as the difference of two `nncl train --steps` runs divided by the step difference (so planning
and the first step's kernel builds cancel) and `nncl bench model` for its forward.
--epochs E: trains E epochs over the 60,000 training images in both and prints test accuracy and
time per epoch.

Needs Debian's python3-torch and python3-onnx, dataset-fashion-mnist, and a built nncl:

    /usr/bin/python3 tools/rnn_train_compare.py [--nncl build/tools/nncl] [--cell gru|lstm]
        [--batch 64] [--lr 0.001] [--steps 30] [--epochs E] [--work DIR]
"""
import argparse
import gzip
import json
import os
import re
import struct
import subprocess
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    _, _, rank = struct.unpack(">HBB", data[:4])
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load(prefix):
    """Images as time-first rows [28, N, 28] / 255 and int64 labels."""
    x = read_idx(os.path.join(DATA, f"{prefix}-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    y = read_idx(os.path.join(DATA, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64)
    return np.ascontiguousarray(x.transpose(1, 0, 2)), y


class RowClassifier(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(28, 64)
        self.fc = nn.Linear(64, 10)
        self.cell = cell

    def forward(self, x):  # [28, N, 28]
        _, h = self.rnn(x)
        if self.cell == "lstm":
            h = h[0]
        return self.fc(h.squeeze(0))


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stdout}{p.stderr}")
    return p.stdout


def nncl_train(args, model, xs, ys, extra):
    cmd = [args.nncl, "train", model, "--inputs", xs, "--labels", ys, "--batch-axis", "1",
           "--batch", str(args.batch), "--optimizer", "adam", "--lr", str(args.lr),
           "--no-shuffle"] + extra
    return run(cmd)


def train_seconds(args, model, xs, ys, steps):
    """Seconds of `nncl train --steps` from its images/s (finer than its 0.1 s print)."""
    out = nncl_train(args, model, xs, ys, ["--steps", str(steps)])
    rate = float(re.findall(r"\(([0-9.]+) images/s\)", out)[0])
    return steps * args.batch / rate


def torch_step_times(model, x, y, args):
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    times = []
    for s in range(args.steps + 2):
        sl = slice(args.batch * s, args.batch * (s + 1))
        t0 = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(model(x[:, sl]), y[sl]).backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    fwd = []
    with torch.no_grad():
        for s in range(args.steps + 2):
            t0 = time.perf_counter()
            model(x[:, :args.batch])
            fwd.append(time.perf_counter() - t0)
    return float(np.median(times[2:])), float(np.median(fwd[2:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nncl", default="build/tools/nncl")
    ap.add_argument("--cell", choices=["gru", "lstm"], default="gru")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--epochs", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", default="/tmp/nncl_rnn_compare")
    ap.add_argument("--torch-threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(args.torch_threads)
    torch.manual_seed(args.seed)
    model = RowClassifier(args.cell)
    onnx_path = os.path.join(args.work, f"{args.cell}_rows.onnx")
    x, y = load("train")
    xt, yt = load("t10k")
    torch.onnx.export(model, torch.from_numpy(x[:, :args.batch]), onnx_path, input_names=["input"],
                      output_names=["logits"], opset_version=13, do_constant_folding=False,
                      dynamic_axes={"input": {1: "N"}, "logits": {0: "N"}})
    xs, ys = os.path.join(args.work, "x.npy"), os.path.join(args.work, "y.npy")
    xv, yv = os.path.join(args.work, "xv.npy"), os.path.join(args.work, "yv.npy")
    init = {k: v.detach().clone() for k, v in model.state_dict().items()}
    X, Y = torch.from_numpy(x), torch.from_numpy(y)

    if args.epochs:
        np.save(xs, x)
        np.save(ys, y)
        np.save(xv, xt)
        np.save(yv, yt)
        out = nncl_train(args, onnx_path, xs, ys,
                         ["--epochs", str(args.epochs), "--val-inputs", xv, "--val-labels", yv])
        print("nncl:\n" + out)
        model.load_state_dict(init)
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
        for e in range(args.epochs):
            t0 = time.perf_counter()
            model.train()
            for s in range(0, X.shape[1], args.batch):
                opt.zero_grad()
                F.cross_entropy(model(X[:, s:s + args.batch]), Y[s:s + args.batch]).backward()
                opt.step()
            secs = time.perf_counter() - t0
            with torch.no_grad():
                pred = torch.cat([model(torch.from_numpy(xt[:, s:s + 1000])).argmax(1)
                                  for s in range(0, xt.shape[1], 1000)])
            acc = 100.0 * (pred.numpy() == yt).mean()
            print(f"pytorch epoch {e + 1}/{args.epochs}  {secs:.1f} s  val acc {acc:.2f}%")
        return

    # only the samples the timed steps read, so loading stays short; each run twice, the faster
    # kept (the shared machine's load varies)
    lo, hi = 5, 5 + args.steps
    np.save(xs, x[:, :hi * args.batch])
    np.save(ys, y[:hi * args.batch])
    t_lo = min(train_seconds(args, onnx_path, xs, ys, lo) for _ in range(2))
    t_hi = min(train_seconds(args, onnx_path, xs, ys, hi) for _ in range(2))
    nncl_step = (t_hi - t_lo) / (hi - lo)
    bench = json.loads(run([args.nncl, "bench", "model", onnx_path, "--shape",
                            f"input=28,{args.batch},28", "--runs", str(args.steps), "--json"]))
    nncl_fwd = bench["median_ms"] / 1000.0
    model.load_state_dict(init)
    torch_step, torch_fwd = torch_step_times(model, X, Y, args)
    print(f"{args.cell.upper()} 28 steps x 28 inputs, hidden 64, batch {args.batch} "
          f"(nncl {bench['device']}, PyTorch {torch.__version__} CPU, "
          f"{torch.get_num_threads()} threads)")
    print(f"  training step: nncl {1e3 * nncl_step:.1f} ms, PyTorch {1e3 * torch_step:.1f} ms "
          f"(nncl / PyTorch {nncl_step / torch_step:.2f})")
    print(f"  forward:       nncl {1e3 * nncl_fwd:.1f} ms, PyTorch {1e3 * torch_fwd:.1f} ms")
    print(f"  nncl step / nncl forward {nncl_step / nncl_fwd:.1f}, "
          f"PyTorch step / PyTorch forward {torch_step / torch_fwd:.1f}")


if __name__ == "__main__":
    main()
