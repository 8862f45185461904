#!/usr/bin/python3
"""make_train_fixtures.py: PyTorch reference data for nncl's training tests (tests/data/train/).

Writes a small CNN (conv 3x3 pad 1 -> ReLU -> max-pool 2 -> conv 3x3 stride 2 pad 1 -> ReLU ->
flatten -> linear) as ONNX (small_cnn.onnx, no constant folding so every parameter stays an
initializer under its PyTorch name), three batches (x.npy [24, 1, 12, 12], y.npy [24] int64),
PyTorch's gradients of the mean cross-entropy on the first batch (grad.<param>.npy), and the
parameters after three optimizer steps (one per batch) for each optimizer setting
(<opt>.<param>.npy): sgd (lr 0.1, momentum 0.9, weight decay 5e-4), adam (lr 0.01, weight decay
1e-4), adamw (lr 0.01, weight decay 0.05), sgdclip (lr 0.1, momentum 0.9, gradients clipped to
global norm 0.2); and bn_cnn.onnx, the same CNN with a BatchNorm after the first ReLU, with its
parameters and running statistics after three SGD steps in training mode (bn.<name>.npy).
Needs Debian's python3-torch and python3-onnx; fixed
seed, one thread, float32 throughout. Run from the repository root:

    /usr/bin/python3 tools/make_train_fixtures.py [--out tests/data/train]

--fashion-bn-init FILE.onnx instead writes tools/train_fashion.py's FashionCNN (with its
BatchNorms) untrained, from torch.manual_seed(SEED), exported in training mode so that Conv and
BatchNorm stay apart: the starting point of the nncl-vs-PyTorch run in docs/TRAINING.md.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 1234
OPTIMIZERS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=5e-4),
    "adam": lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=1e-4),
    "adamw": lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.05),
    "sgdclip": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),  # + clip_grad_norm_(0.2)
}


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2, padding=1)
        self.fc = nn.Linear(6 * 3 * 3, 5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        return self.fc(torch.flatten(x, 1))


class SmallBNCNN(nn.Module):
    """BatchNorm after the ReLU, so the exporter cannot fold it into the conv."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2, padding=1)
        self.fc = nn.Linear(6 * 3 * 3, 5)

    def forward(self, x):
        x = F.max_pool2d(self.bn(F.relu(self.conv1(x))), 2)
        x = F.relu(self.conv2(x))
        return self.fc(torch.flatten(x, 1))


def batchnorm_fixture(out, x, y):
    """bn_cnn.onnx (exported in eval mode, BatchNormalization kept) and, after three SGD steps
    (lr 0.1, momentum 0.9) in training mode, its parameters and running statistics (bn.<name>.npy)."""
    torch.manual_seed(SEED + 1)
    model = SmallBNCNN()
    with torch.no_grad():  # non-trivial initial statistics and affine parameters
        model.bn.running_mean.uniform_(-0.5, 0.5)
        model.bn.running_var.uniform_(0.5, 1.5)
        model.bn.weight.uniform_(0.5, 1.5)
        model.bn.bias.uniform_(-0.5, 0.5)
    model.eval()
    torch.onnx.export(model, x[:8], os.path.join(out, "bn_cnn.onnx"), input_names=["input"],
                      output_names=["logits"], opset_version=13, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.EVAL,
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(3):
        opt.zero_grad()
        F.cross_entropy(model(x[8 * step:8 * step + 8]), y[8 * step:8 * step + 8]).backward()
        opt.step()
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        if t.dtype == torch.float32:
            np.save(os.path.join(out, f"bn.{name}.npy"), t.detach().numpy())


def export_fashion_bn_init(path, seed):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "train_fashion", os.path.join(os.path.dirname(os.path.abspath(__file__)), "train_fashion.py"))
    tf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tf)
    torch.manual_seed(seed)
    model = tf.FashionCNN()
    model.train()
    torch.onnx.export(model, torch.zeros(2, 1, 28, 28), path, input_names=["input"],
                      output_names=["logits", "features"], opset_version=13,
                      do_constant_folding=False, training=torch.onnx.TrainingMode.TRAINING,
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}, "features": {0: "N"}})
    print(f"wrote {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/data/train")
    ap.add_argument("--fashion-bn-init", metavar="FILE.onnx")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.fashion_bn_init:
        export_fashion_bn_init(args.fashion_bn_init, args.seed)
        return
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    model = SmallCNN()
    init = {k: v.detach().clone() for k, v in model.state_dict().items()}
    x = torch.rand(24, 1, 12, 12)
    y = torch.randint(0, 5, (24,))
    np.save(os.path.join(args.out, "x.npy"), x.numpy())
    np.save(os.path.join(args.out, "y.npy"), y.numpy().astype(np.int64))
    torch.onnx.export(model, x[:8], os.path.join(args.out, "small_cnn.onnx"),
                      input_names=["input"], output_names=["logits"], opset_version=13,
                      do_constant_folding=False, dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    loss = F.cross_entropy(model(x[:8]), y[:8])
    loss.backward()
    for name, p in model.named_parameters():
        np.save(os.path.join(args.out, f"grad.{name}.npy"), p.grad.numpy())
    for opt_name, make in OPTIMIZERS.items():
        model.load_state_dict(init)
        opt = make(model.parameters())
        for step in range(3):
            opt.zero_grad()
            F.cross_entropy(model(x[8 * step:8 * step + 8]), y[8 * step:8 * step + 8]).backward()
            if opt_name == "sgdclip":
                torch.nn.utils.clip_grad_norm_(model.parameters(), 0.2)
            opt.step()
        for name, p in model.named_parameters():
            np.save(os.path.join(args.out, f"{opt_name}.{name}.npy"), p.detach().numpy())
    batchnorm_fixture(args.out, x, y)
    print(f"wrote {args.out}: first-batch loss {loss.item():.6f}")


if __name__ == "__main__":
    main()
