#!/usr/bin/python3
"""train_speed.py: nncl's training step against PyTorch CPU, as ratios measured in one run.

For the demo CNN (models/train/fashion_cnn_train.onnx, batch 64) and torchvision's ResNet-18 (exported
untrained in training mode to a temporary folder, batch 8, 224 x 224), with SGD (momentum 0.9)
and cross-entropy on seeded random data:
- nncl: `nncl train MODEL --inputs X.npy --labels Y.npy --bench R` (medians of runs 2..R of a
  step and of a forward + loss pass on one batch; memory from nncl_trainer_memory_use: arena,
  shared scratch, parameters, optimizer state);
- PyTorch, in a fresh process per model with the same threads: the same medians, and its peak
  training memory as the growth of the process's max RSS over the steps (activations, gradients,
  optimizer state and the allocator's slack) plus the parameters.
Prints one table; both sides run back to back, so the ratios hold for the machine's load of the
moment (the absolute times move 2x with it).

    /usr/bin/python3 tools/train_speed.py [--nncl build/tools/nncl] [--runs 5] [--threads 2]
        [--only cnn|resnet18]
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def make_model(name, tmp, export=True):
    """(onnx path, batch, input shape, classes, a torch module factory); the ONNX file of
    ResNet-18 is written to tmp only when export is set."""
    import torch
    if name == "cnn":
        sys.path.insert(0, HERE)
        import train_fashion

        def make():
            torch.manual_seed(1)
            return train_fashion.FashionCNN()
        return os.path.join(ROOT, "models", "train", "fashion_cnn_train.onnx"), 64, (1, 28, 28), 10, make
    import torchvision

    def make():
        torch.manual_seed(1)
        return torchvision.models.resnet18(num_classes=1000)
    if not export:
        return None, 8, (3, 224, 224), 1000, make
    path = os.path.join(tmp, "resnet18_train.onnx")
    m = make()
    m.train()
    torch.onnx.export(m, torch.zeros(2, 3, 224, 224), path, input_names=["input"],
                      output_names=["logits"], opset_version=13, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.TRAINING,
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    return path, 8, (3, 224, 224), 1000, make


def torch_side(name, runs, threads):
    """Runs in a child process: medians of step and forward, and peak memory growth."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    _, batch, shape, classes, make = make_model(name, None, export=False)
    model = make()
    rng = np.random.RandomState(0)
    x = torch.from_numpy(rng.rand(batch, *shape).astype(np.float32))
    y = torch.from_numpy(rng.randint(0, classes, batch).astype(np.int64))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    params = sum(p.numel() * 4 for p in model.parameters())
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def first(o):
        return o[0] if isinstance(o, tuple) else o
    steps = []
    model.train()
    for _ in range(runs):
        t0 = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(first(model(x)), y).backward()
        opt.step()
        steps.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss0
    fwd = []
    model.eval()
    with torch.no_grad():
        for _ in range(runs):
            t0 = time.perf_counter()
            F.cross_entropy(first(model(x)), y)
            fwd.append(time.perf_counter() - t0)
    med = lambda v: sorted(v[1:])[(len(v) - 1) // 2] if len(v) > 1 else v[0]
    print(json.dumps({"step": med(steps), "forward": med(fwd), "mem": peak + params,
                      "params": params}))


def nncl_side(nncl, name, runs, threads, tmp):
    import numpy as np
    path, batch, shape, classes, _ = make_model(name, tmp)
    rng = np.random.RandomState(0)
    xp, yp = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
    np.save(xp, rng.rand(batch, *shape).astype(np.float32))
    np.save(yp, rng.randint(0, classes, batch).astype(np.int64))
    out = subprocess.run([nncl, "train", path, "--inputs", xp, "--labels", yp, "--optimizer", "sgd",
                          "--lr", "0.01", "--momentum", "0.9", "--batch", str(batch), "--bench",
                          str(runs)], capture_output=True, text=True, check=True).stdout
    m = re.search(r"step ([\d.]+) ms, forward\+loss ([\d.]+) ms .*arena ([\d.]+) workspace "
                  r"([\d.]+) parameters ([\d.]+) optimizer ([\d.]+)", out)
    if not m:
        raise SystemExit(f"no bench line in nncl's output:\n{out}")
    v = [float(g) for g in m.groups()]
    return {"step": v[0] / 1e3, "forward": v[1] / 1e3, "mem": sum(v[2:]) * 1e6,
            "detail": f"arena {v[2]:.1f} + scratch {v[3]:.1f} + params {v[4]:.1f} + state {v[5]:.1f}"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nncl", default=os.path.join(ROOT, "build", "tools", "nncl"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", choices=["cnn", "resnet18"])
    ap.add_argument("--torch-child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.torch_child:
        return torch_side(a.torch_child, a.runs, a.threads)
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"load average before: {' '.join(load)}; PyTorch threads: {a.threads}; runs: {a.runs}")
    rows = []
    for name in ([a.only] if a.only else ["cnn", "resnet18"]):
        with tempfile.TemporaryDirectory() as tmp:
            n = nncl_side(a.nncl, name, a.runs, a.threads, tmp)
        print(f"{name}: nncl step {n['step'] * 1e3:.1f} ms, forward {n['forward'] * 1e3:.1f} ms, "
              f"memory {n['mem'] / 1e6:.1f} MB", flush=True)
        child = subprocess.run([sys.executable, __file__, "--torch-child", name, "--runs",
                                str(a.runs), "--threads", str(a.threads)],
                               capture_output=True, text=True)
        if child.returncode != 0:
            raise SystemExit(f"PyTorch side of {name} failed:\n{child.stderr}")
        t = json.loads(child.stdout.strip().splitlines()[-1])
        rows.append((name, n, t))
    print(f"{'model':9} {'nncl step':>10} {'torch step':>11} {'nncl/torch':>10} "
          f"{'nncl step/fwd':>13} {'torch step/fwd':>14} {'nncl MB':>8} {'torch MB':>9} {'mem ratio':>9}")
    for name, n, t in rows:
        print(f"{name:9} {n['step'] * 1e3:8.1f}ms {t['step'] * 1e3:9.1f}ms {n['step'] / t['step']:10.2f} "
              f"{n['step'] / n['forward']:13.2f} {t['step'] / t['forward']:14.2f} "
              f"{n['mem'] / 1e6:8.1f} {t['mem'] / 1e6:9.1f} {n['mem'] / t['mem']:9.2f}")
    for name, n, t in rows:
        print(f"{name}: nncl memory = {n['detail']} MB; PyTorch = max RSS growth over the steps + "
              f"parameters ({t['params'] / 1e6:.1f} MB)")
    with open("/proc/loadavg") as f:
        print(f"load average after: {' '.join(f.read().split()[:3])}")


if __name__ == "__main__":
    main()
