#!/usr/bin/env python3
"""torch_conv_bench.py: times convolution layers with PyTorch (oneDNN on a CPU) so that
`nncl bench conv --compare-torch` can print them next to nncl's figures, measured in the same run
on the same machine.

usage: torch_conv_bench.py --batch B --runs R --layers "C,H,W,K,R,S,stride,pad,groups,transpose,opad;..."
Prints one JSON object: {"torch": version, "threads": n, "layers": [{"seconds": s, "gflops": g}, ...]}
in the order given. Bias and a fused ReLU are included, as in nncl's run. float32, TF32 off.
"""
import argparse
import json
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--layers", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        print(json.dumps({"error": "PyTorch is not available: %s" % e}))
        return 1
    torch.set_num_threads(a.threads)
    if hasattr(torch.backends, "cuda"):
        torch.backends.cuda.matmul.allow_tf32 = False
    if hasattr(torch.backends, "cudnn"):
        torch.backends.cudnn.allow_tf32 = False
    out = []
    with torch.no_grad():
        for spec in a.layers.split(";"):
            c, h, w, k, r, s, st, pad, g, tr, op = (int(v) for v in spec.split(","))
            x = torch.rand(a.batch, c, h, w)
            b = torch.rand(k)
            if tr:
                wt = torch.rand(c, k // g, r, s)
                fn = lambda: F.relu(F.conv_transpose2d(x, wt, b, st, pad, op, g))
                oh, ow = h, w  # ConvTranspose FLOPs count input pixels
                flops = 2.0 * a.batch * c * (k // g) * r * s * oh * ow
            else:
                wt = torch.rand(k, c // g, r, s)
                fn = lambda: F.relu(F.conv2d(x, wt, b, st, pad, 1, g))
                oh = (h + 2 * pad - r) // st + 1
                ow = (w + 2 * pad - s) // st + 1
                flops = 2.0 * a.batch * k * (c // g) * r * s * oh * ow
            fn()
            times = []
            for _ in range(max(1, a.runs)):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            times.sort()
            t = times[len(times) // 2]
            out.append({"seconds": t, "gflops": flops / t * 1e-9})
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "layers": out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
