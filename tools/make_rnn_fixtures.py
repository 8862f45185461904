#!/usr/bin/python3
"""make_rnn_fixtures.py: PyTorch reference data for nncl's recurrent training tests
(tests/data/train_rnn/).

Writes two sequence classifiers read time-first, x [T, N, F] (the batch is axis 1): an LSTM
(lstm_classifier.onnx) and a GRU (gru_classifier.onnx, PyTorch's gate formula: ONNX
linear_before_reset=1), each one layer with hidden size 6 whose last hidden state feeds a linear
layer to 4 classes. Both are exported at opset 13 without constant folding, so every parameter
stays an initializer under its PyTorch name (the exporter's gate reordering is Slice/Concat nodes
on them). Data: x.npy [7, 12, 5] and y.npy [12] int64, three batches of 4 along axis 1. For each
model <m> in lstm, gru: PyTorch's gradients of the mean cross-entropy on the first batch
(grad.<m>.<param>.npy) and the parameters after three Adam steps, lr 0.01, one per batch
(adam.<m>.<param>.npy). The first-batch losses are printed (the tests assert them).
Needs Debian's python3-torch and python3-onnx; fixed seed, one thread, float32 throughout. Run
from the repository root:

    /usr/bin/python3 tools/make_rnn_fixtures.py [--out tests/data/train_rnn]
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 4321
T, N, FEAT, HIDDEN, CLASSES, BATCH = 7, 12, 5, 6, 4, 4


class Classifier(nn.Module):
    """One recurrent layer over [T, N, F]; its last hidden state feeds a linear layer."""

    def __init__(self, cell):
        super().__init__()
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(FEAT, HIDDEN)
        self.fc = nn.Linear(HIDDEN, CLASSES)
        self.cell = cell

    def forward(self, x):
        _, h = self.rnn(x)
        if self.cell == "lstm":
            h = h[0]
        return self.fc(h.squeeze(0))  # Squeeze, not Gather: [1, N, H] -> [N, H]


def fixture(out, cell, x, y):
    torch.manual_seed(SEED + (1 if cell == "gru" else 0))
    model = Classifier(cell)
    torch.onnx.export(model, x[:, :BATCH], os.path.join(out, f"{cell}_classifier.onnx"),
                      input_names=["input"], output_names=["logits"], opset_version=13,
                      do_constant_folding=False,
                      dynamic_axes={"input": {1: "N"}, "logits": {0: "N"}})
    init = {k: v.detach().clone() for k, v in model.state_dict().items()}
    loss = F.cross_entropy(model(x[:, :BATCH]), y[:BATCH])
    loss.backward()
    for name, p in model.named_parameters():
        np.save(os.path.join(out, f"grad.{cell}.{name}.npy"), p.grad.numpy())
    model.load_state_dict(init)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for step in range(3):
        opt.zero_grad()
        sl = slice(BATCH * step, BATCH * step + BATCH)
        F.cross_entropy(model(x[:, sl]), y[sl]).backward()
        opt.step()
    for name, p in model.named_parameters():
        np.save(os.path.join(out, f"adam.{cell}.{name}.npy"), p.detach().numpy())
    return loss.item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/data/train_rnn")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    x = torch.rand(T, N, FEAT) * 2 - 1
    y = torch.randint(0, CLASSES, (N,))
    np.save(os.path.join(args.out, "x.npy"), x.numpy())
    np.save(os.path.join(args.out, "y.npy"), y.numpy().astype(np.int64))
    for cell in ("lstm", "gru"):
        print(f"{cell}: first-batch loss {fixture(args.out, cell, x, y):.7f}")


if __name__ == "__main__":
    main()
