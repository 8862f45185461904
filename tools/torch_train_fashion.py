#!/usr/bin/python3
"""torch_train_fashion.py: the PyTorch yardstick of `nncl demo --train`.

Trains tools/train_fashion.py's FashionCNN (the demo CNN's architecture with its BatchNorms) from
PyTorch's own default initialisation with the recipe of tools/demo_train.h: Adam, lr 0.003 with
CosineAnnealingLR stepped per batch down to 0 at the end, batch 64, the 60,000 training images in
file order (no shuffle: the same batches nncl takes), cross-entropy. Prints the training loss and
accuracy, the time of each epoch and the test accuracy after each, as `nncl demo --train` does.

    /usr/bin/python3 tools/torch_train_fashion.py [--epochs 1] [--threads 2] [--seed 1]
        [--data /usr/share/datasets/fashion-mnist] [--export-init FILE.onnx]

--export-init writes the untrained model (training-mode export, BatchNorm kept apart from the
convolutions) instead of training: that is how models/train/fashion_cnn_train.onnx was made (nncl
re-initialises its weights; the file gives the architecture).
"""
import argparse
import importlib.util
import math
import os
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def load_train_fashion():
    spec = importlib.util.spec_from_file_location("train_fashion",
                                                  os.path.join(HERE, "train_fashion.py"))
    tf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tf)
    return tf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.003)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--export-init", metavar="FILE.onnx")
    args = ap.parse_args()
    tf = load_train_fashion()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = tf.FashionCNN()
    if args.export_init:
        model.train()
        torch.onnx.export(model, torch.zeros(2, 1, 28, 28), args.export_init,
                          input_names=["input"], output_names=["logits", "features"],
                          opset_version=13, do_constant_folding=False,
                          training=torch.onnx.TrainingMode.TRAINING,
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"},
                                        "features": {0: "N"}})
        print(f"wrote {args.export_init}")
        return
    xtr, ytr = tf.load_split(args.data, "train")
    xte, yte = tf.load_split(args.data, "t10k")
    steps = math.ceil(len(xtr) / args.batch) * args.epochs
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads: FashionCNN, Adam lr "
          f"{args.lr} cosine, batch {args.batch}, file order, {args.epochs} epoch(s)")
    for e in range(args.epochs):
        model.train()
        t0 = time.perf_counter()
        total, correct, seen = 0.0, 0, 0
        for s in range(0, len(xtr), args.batch):
            x, y = xtr[s:s + args.batch], ytr[s:s + args.batch]
            opt.zero_grad()
            logits = tf.first(model(x))
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            seen += len(y)
        secs = time.perf_counter() - t0
        model.eval()
        test_correct, _ = tf.evaluate(model, xte, yte)
        print(f"epoch {e + 1}/{args.epochs}  loss {total / seen:.4f}  acc {100 * correct / seen:.2f}%  "
              f"{secs:.1f} s ({seen / secs:.0f} images/s)  test acc {100 * test_correct / len(yte):.2f}%",
              flush=True)


if __name__ == "__main__":
    main()
