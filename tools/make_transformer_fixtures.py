#!/usr/bin/python3
"""make_transformer_fixtures.py: PyTorch reference data for nncl's attention training test
(tests/test_train_attention.c, files tests/data/train/tf_*).

The model: nn.Embedding(20, 32) -> nn.TransformerEncoderLayer(d_model 32, 4 heads, feed-forward
64, dropout 0, exact GELU, batch_first) -> mean over the tokens -> nn.Linear(32, 5). It is
exported twice with do_constant_folding=False so every parameter stays an initializer under its
PyTorch name: opset 17 (tf_encoder.onnx: LayerNormalization nodes, GELU as Div/Erf/Add/Mul) and
opset 13 (tf_encoder13.onnx: LayerNorm as ReduceMean/Sub/Pow/Sqrt/Div, the pattern nncl's
inference fuses). Data: three batches of 8 sequences of 7 tokens (tf_x.npy [24, 7] int64, tokens
drawn from 0..15 so rows 16..19 of the embedding never occur and repeated tokens abound;
tf_y.npy [24] int64 labels). References: PyTorch's gradients of the mean cross-entropy on the
first batch (tf_grad.<param>.npy) and the parameters after three Adam steps (lr 0.01, one per
batch; tf_adam.<param>.npy); the first loss is printed. With --bench N it instead times N
training steps (forward, backward, Adam) and N forward passes of the same model and batch
in PyTorch (--threads T, 2 by default) and prints the medians (the yardstick of docs/TRAINING.md).
Needs Debian's python3-torch and python3-onnx; fixed seed, one thread, float32. Run from the
repository root:

    /usr/bin/python3 tools/make_transformer_fixtures.py [--out tests/data/train]
"""
import argparse
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 4321


class TinyEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 32)
        self.enc = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, activation="gelu",
                                              batch_first=True)
        self.head = nn.Linear(32, 5)
        # non-trivial, distinct LayerNorm parameters: the exporter shares initializers with
        # equal values (both norms start as ones and zeros), which would merge their gradients
        with torch.no_grad():
            for norm in (self.enc.norm1, self.enc.norm2):
                norm.weight.uniform_(0.5, 1.5)
                norm.bias.uniform_(-0.5, 0.5)

    def forward(self, tokens):
        return self.head(self.enc(self.emb(tokens)).mean(dim=1))


class MaskedEncoder(TinyEncoder):
    """Token 0 is padding: src_key_padding_mask = tokens == 0, which the exporter writes as
    Equal, Where and an additive -inf mask on the scores."""

    def forward(self, tokens):
        h = self.enc(self.emb(tokens), src_key_padding_mask=tokens.eq(0))
        return self.head(h.mean(dim=1))


def export(model, x, path, opset):
    model.train()  # keeps PyTorch off its inference fast path; dropout is 0 anyway
    torch.onnx.export(model, x, path, input_names=["tokens"], output_names=["logits"],
                      opset_version=opset, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.EVAL,
                      dynamic_axes={"tokens": {0: "N"}, "logits": {0: "N"}})


def bench(n):
    torch.manual_seed(SEED)
    model = TinyEncoder()
    x = torch.randint(0, 16, (8, 7))
    y = torch.randint(0, 5, (8,))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    def fwd():
        with torch.no_grad():
            model(x)

    for name, fn in (("train step", step), ("forward", fwd)):
        fn()
        t = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            t.append(time.perf_counter() - t0)
        print(f"pytorch {name}: median {1e3 * float(np.median(t)):.3f} ms over {n}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/data/train")
    ap.add_argument("--bench", type=int, metavar="N")
    ap.add_argument("--threads", type=int, default=2, help="PyTorch threads for --bench (2: the "
                    "machine's cores, as PoCL uses them)")
    args = ap.parse_args()
    if args.bench:
        torch.set_num_threads(args.threads)
        bench(args.bench)
        return
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(SEED)
    model = TinyEncoder()
    init = {k: v.detach().clone() for k, v in model.state_dict().items()}
    x = torch.randint(0, 16, (24, 7))
    y = torch.randint(0, 5, (24,))
    np.save(os.path.join(args.out, "tf_x.npy"), x.numpy().astype(np.int64))
    np.save(os.path.join(args.out, "tf_y.npy"), y.numpy().astype(np.int64))
    export(model, x[:8], os.path.join(args.out, "tf_encoder.onnx"), 17)
    export(model, x[:8], os.path.join(args.out, "tf_encoder13.onnx"), 13)
    loss = references(model, init, x, y, args.out, "tf")
    # the masked variant: 0 to 3 trailing pads per sequence (never all), same weights
    xm = x.clone()
    for i in range(xm.shape[0]):
        xm[i, 7 - i % 4:] = 0
    np.save(os.path.join(args.out, "tf_xm.npy"), xm.numpy().astype(np.int64))
    masked = MaskedEncoder()
    masked.load_state_dict(init)
    export(masked, xm[:8], os.path.join(args.out, "tf_masked.onnx"), 17)
    masked_loss = references(masked, init, xm, y, args.out, "tf_mask")
    print(f"wrote {args.out}: first-batch loss {loss:.7f}, masked {masked_loss:.7f}")


def references(model, init, x, y, out, prefix):
    """PyTorch's first-batch gradients and its parameters after three Adam steps (lr 0.01)."""
    model.load_state_dict(init)
    model.train()
    loss = F.cross_entropy(model(x[:8]), y[:8])
    loss.backward()
    for name, p in model.named_parameters():
        np.save(os.path.join(out, f"{prefix}_grad.{name}.npy"), p.grad.numpy())
    model.load_state_dict(init)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for step in range(3):
        opt.zero_grad()
        F.cross_entropy(model(x[8 * step:8 * step + 8]), y[8 * step:8 * step + 8]).backward()
        opt.step()
    for name, p in model.named_parameters():
        np.save(os.path.join(out, f"{prefix}_adam.{name}.npy"), p.detach().numpy())
    return loss.item()


if __name__ == "__main__":
    main()
