#!/usr/bin/python3
"""train_fashion.py: trains the two Fashion-MNIST demo models reproducibly and exports ONNX.

Makes models/fashion_cnn.onnx (LeNet-style CNN whose last conv block feeds global average
pooling and one linear layer, so class activation mapping applies) and models/fashion_gru.onnx
(a GRU that reads the image row by row: 28 steps of 28 pixels). Both take float32 [N, 1, 28, 28]
with pixels scaled to [0, 1] (byte / 255, no other normalisation) and output logits [N, 10];
the CNN has a second output, the last conv block's feature maps [N, C, 7, 7], for CAM.

Needs Debian's python3-torch and python3-onnx, and the IDX files of dataset-fashion-mnist.
Fixed seeds and one thread: the same machine gives the same weights; the model cards record
the test accuracy this script prints. Only ever run to refresh the committed models:

    /usr/bin/python3 tools/train_fashion.py [--data DIR] [--out models] [--epochs-cnn 8] [--epochs-gru 6]
"""
import argparse
import gzip
import os
import struct
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20240611


def read_idx(path):
    """Reads a (gzipped) IDX file into a numpy uint8 array of the stored shape."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load_split(data_dir, prefix):
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)  # [N, 1, 28, 28]
    return x, torch.from_numpy(y.astype(np.int64))


class FashionCNN(nn.Module):
    """conv5x5/ReLU/maxpool twice, a 3x3 conv block at 7x7, global average pool, one linear layer.
    Batch normalisation speeds up training; the ONNX export folds it into the convolutions."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5, padding=2)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 5, padding=2)
        self.bn2 = nn.BatchNorm2d(32)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn3 = nn.BatchNorm2d(64)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)  # 14x14
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)  # 7x7
        feat = F.relu(self.bn3(self.conv3(x)))                # CAM feature maps
        logits = self.fc(torch.flatten(F.adaptive_avg_pool2d(feat, 1), 1))
        return logits, feat


class FashionGRU(nn.Module):
    """One GRU layer over the 28 image rows; the last hidden state feeds one linear layer."""

    def __init__(self, hidden=64):
        super().__init__()
        self.gru = nn.GRU(28, hidden)  # sequence-first, the ONNX GRU layout
        self.fc = nn.Linear(hidden, 10)

    def forward(self, x):
        seq = x.reshape(-1, 28, 28).transpose(0, 1)  # [28 rows, N, 28 pixels]
        _, h = self.gru(seq)                         # h: [1, N, hidden]
        return self.fc(h[0])


def first(out):
    return out[0] if isinstance(out, tuple) else out


def evaluate(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            correct += (first(model(x[i:i + 1000])).argmax(1) == y[i:i + 1000]).sum().item()
    return correct, len(x)


def train(model, xtr, ytr, epochs, lr, batch):
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * ((len(xtr) + batch - 1) // batch))
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        t0, total = time.time(), 0.0
        for i in range(0, len(xtr), batch):
            idx = perm[i:i + batch]
            loss = F.cross_entropy(first(model(xtr[idx])), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        print(f"  epoch {epoch + 1}/{epochs}: loss {total / len(xtr):.4f} ({time.time() - t0:.0f} s)", flush=True)


def drop_zero_initial_state(graph):
    """torch exports the GRU's default zero initial state as Shape/Gather/Concat/ConstantOfShape
    nodes; ONNX's GRU starts from zeros when initial_h is absent, so drop them: same result,
    fewer ops."""
    producers = {o: n for n in graph.node for o in n.output}
    for n in graph.node:
        if n.op_type == "GRU" and len(n.input) > 5 and n.input[5]:
            init = producers.get(n.input[5])
            value = [a for a in init.attribute if a.name == "value"] if init is not None else []
            if init is not None and init.op_type == "ConstantOfShape" and value and \
                    not np.any(onnx.numpy_helper.to_array(value[0].t)):
                n.input[5] = ""
            while n.input and not n.input[-1]:
                n.input.pop()
    while True:  # remove nodes whose outputs nothing reads
        used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
        dead = [n for n in graph.node if not any(o in used for o in n.output)]
        if not dead:
            break
        for n in dead:
            graph.node.remove(n)


def export(model, path, output_names):
    model.eval()
    dummy = torch.zeros(2, 1, 28, 28)
    dyn = {"input": {0: "N"}}
    for name in output_names:
        dyn[name] = {0: "N"}
    torch.onnx.export(model, dummy, path, opset_version=13, input_names=["input"],
                      output_names=output_names, dynamic_axes=dyn, do_constant_folding=True)
    m = onnx.load(path)
    drop_zero_initial_state(m.graph)
    onnx.checker.check_model(m)
    onnx.save(m, path)
    print(f"  wrote {path} ({os.path.getsize(path)} bytes; ops: "
          f"{sorted(set(n.op_type for n in m.graph.node))})")


CARD = """# {file}

{summary}

- **Input** `input`: float32 [N, 1, 28, 28], Fashion-MNIST pixels / 255 (no other normalisation).
- **Outputs**: {outputs}
- **Classes**: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
  7 Sneaker, 8 Bag, 9 Ankle boot.
- **Architecture**: {arch}
- **Parameters**: {params} ({size} bytes as ONNX opset 13, dynamic batch dimension).
- **Ops**: {ops}.

## How it was made

`/usr/bin/python3 tools/train_fashion.py` (Debian's python3-torch {torch}, python3-onnx {onnx}):
{epochs} epochs over the 60,000 training images, batches of {batch}, Adam with a one-cycle
learning rate schedule peaking at {lr}, cross-entropy loss, seed {seed}, one CPU thread,
deterministic algorithms; no augmentation; {minutes:.0f} minutes on a busy shared 2-core machine.
The settings were chosen once, not tuned on the test set.

## Accuracy

PyTorch test accuracy: {acc:.2f}% ({correct}/10000 test images, argmax of the logits).

`nncl demo` recomputes it on the device and fails when it differs by more than 0.1 points.
"""

MODEL_TEXT = {
    "cnn": dict(
        summary="LeNet-style CNN for Fashion-MNIST whose last conv block feeds global average pooling "
                "and one linear layer, so class activation maps (Zhou et al. 2016) apply.",
        outputs="`logits` [N, 10]; `features` [N, 64, 7, 7], the last conv block's ReLU output. "
                "The linear layer's weight is the initializer `fc.weight` [10, 64]: the CAM of class "
                "k is sum_c fc.weight[k, c] * features[:, c] (nncl demo computes it on the device).",
        arch="conv 5x5 1->16 (pad 2), batch norm, ReLU, max-pool 2; conv 5x5 16->32 (pad 2), batch "
             "norm, ReLU, max-pool 2; conv 3x3 32->64 (pad 1), batch norm, ReLU; global average pool; "
             "linear 64->10. The export folds each batch norm into its convolution."),
    "gru": dict(
        summary="GRU classifier for Fashion-MNIST that reads each image row by row: 28 steps of 28 pixels.",
        outputs="`logits` [N, 10].",
        arch="reshape to [N, 28, 28] and transpose to [28 rows, N, 28 pixels]; one GRU layer, hidden "
             "size 64, PyTorch's gate formula (ONNX linear_before_reset=1), zero initial state; the "
             "last hidden state feeds linear 64->10."),
}


def write_card(out_dir, name, epochs, batch, lr, correct, seconds):
    path = os.path.join(out_dir, f"fashion_{name}.onnx")
    m = onnx.load(path)
    # Counted in the exported file, after batch normalisation was folded into the convolutions.
    params = sum(int(np.prod(t.dims)) for t in m.graph.initializer)
    text = CARD.format(file=f"fashion_{name}.onnx", params=params, size=os.path.getsize(path),
                       ops=", ".join(sorted(set(n.op_type for n in m.graph.node))),
                       torch=torch.__version__, onnx=onnx.__version__, epochs=epochs, batch=batch,
                       lr=lr, seed=SEED, minutes=seconds / 60, acc=100.0 * correct / 10000, correct=correct, **MODEL_TEXT[name])
    with open(os.path.join(out_dir, f"fashion_{name}.md"), "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
    ap.add_argument("--epochs-cnn", type=int, default=8)
    ap.add_argument("--epochs-gru", type=int, default=6)
    ap.add_argument("--only", choices=["cnn", "gru"], default=None)
    args = ap.parse_args()

    # One thread: on a shared 2-core machine it trains faster than two and leaves a core to others.
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.use_deterministic_algorithms(True)

    xtr, ytr = load_split(args.data, "train")
    xte, yte = load_split(args.data, "t10k")
    os.makedirs(args.out, exist_ok=True)

    jobs = [("cnn", FashionCNN, args.epochs_cnn, 3e-3, 128, ["logits", "features"]),
            ("gru", FashionGRU, args.epochs_gru, 1e-2, 256, ["logits"])]
    for name, cls, epochs, lr, batch, outputs in jobs:
        if args.only and args.only != name:
            continue
        torch.manual_seed(SEED)
        model = cls()
        params = sum(p.numel() for p in model.parameters())
        print(f"{name}: {params} parameters, {epochs} epochs, batch {batch}, max lr {lr}", flush=True)
        t0 = time.time()
        train(model, xtr, ytr, epochs, lr, batch)
        correct, total = evaluate(model, xte, yte)
        print(f"{name}: test accuracy {correct}/{total} = {100.0 * correct / total:.2f}% "
              f"(trained in {time.time() - t0:.0f} s)", flush=True)
        export(model, os.path.join(args.out, f"fashion_{name}.onnx"), outputs)
        write_card(args.out, name, epochs, batch, lr, correct, time.time() - t0)


if __name__ == "__main__":
    main()
