#!/usr/bin/python3
"""torch_model_bench.py: whole-model latency of PyTorch (CPU) next to `nncl bench model`, in one run.

The same model (same module, same seed as tools/make_models.py) runs in PyTorch with
torch.no_grad() in eval mode, then its ONNX export runs through `nncl bench model --json`; the
script prints both medians and the ratio nncl / PyTorch (below 1: nncl is faster).

    /usr/bin/python3 tools/torch_model_bench.py --nncl build/tools/nncl --model resnet18 --batch 1

Without --onnx the model is exported into --work (default build/models/). --json prints one JSON
object instead of the table.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_models  # noqa: E402  (the model definitions)


def build(name):
    """The module and its input size for a model name make_models.py knows."""
    if name == 'resnet18':
        torch.manual_seed(18)
        return make_models.ResNet([64, 128, 256, 512], [2, 2, 2, 2], 1000, small=False), 224
    if name == 'resnet_mini':
        torch.manual_seed(1)
        return make_models.ResNet([16, 32, 64], [1, 1, 1], 10, small=True), 32
    if name == 'vgg_mini':
        torch.manual_seed(2)
        return make_models.VGG(), 32
    if name == 'mobilenet_mini':
        torch.manual_seed(3)
        return make_models.MobileNet(), 32
    raise SystemExit('unknown model %s (resnet18, resnet_mini, vgg_mini, mobilenet_mini)' % name)


def torch_median_ms(model, x, runs, warmup):
    model.eval()
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times), 1e3 * min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', default='resnet18')
    ap.add_argument('--batch', type=int, default=1)
    ap.add_argument('--runs', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--threads', type=int, default=0, help='torch threads (default: all cores)')
    ap.add_argument('--nncl', help='path of the nncl binary (omit to time PyTorch only)')
    ap.add_argument('--device', help='nncl --device')
    ap.add_argument('--onnx', help='ONNX file of the same model (default: export into --work)')
    ap.add_argument('--work', default='build/models', help='where to export the model when --onnx is not given')
    ap.add_argument('--json', action='store_true')
    args = ap.parse_args()

    torch.set_num_threads(args.threads or (os.cpu_count() or 1))
    model, size = build(args.model)
    model.eval()
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((args.batch, 3, size, size)).astype(np.float32))
    t_med, t_min = torch_median_ms(model, x, args.runs, args.warmup)
    out = {'model': args.model, 'batch': args.batch, 'runs': args.runs, 'torch': torch.__version__,
           'torch_threads': torch.get_num_threads(), 'torch_median_ms': t_med, 'torch_min_ms': t_min}

    if args.nncl:
        onnx_path = args.onnx
        if not onnx_path:
            onnx_path = os.path.join(args.work, args.model, 'model.onnx')
            if not os.path.exists(onnx_path):
                make_models.export(model, args.model, args.work,
                                   [x.numpy()[:1]])
        cmd = [args.nncl, 'bench', 'model', onnx_path, '--batch', str(args.batch), '--runs', str(args.runs),
               '--warmup', str(args.warmup), '--json']
        if args.device:
            cmd += ['--device', args.device]
        r = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if r.returncode != 0:
            sys.stderr.write(r.stderr)
            raise SystemExit('nncl bench model failed (exit %d)' % r.returncode)
        nb = json.loads(r.stdout)
        out.update({'nncl_device': nb['device'], 'nncl_median_ms': nb['median_ms'], 'nncl_min_ms': nb['min_ms'],
                    'nncl_plan_ms': nb['plan_ms'], 'nncl_first_run_ms': nb['first_run_ms'],
                    'ratio_nncl_over_torch': nb['median_ms'] / t_med})

    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print('%s, batch %d, median of %d runs' % (args.model, args.batch, args.runs))
    print('  PyTorch %-8s %d threads       %9.2f ms  (min %.2f)' % (out['torch'], out['torch_threads'], t_med, t_min))
    if args.nncl:
        print('  nncl on %-28s %9.2f ms  (min %.2f; plan %.0f ms, first run %.0f ms)' % (
            out['nncl_device'][:28], out['nncl_median_ms'], out['nncl_min_ms'], out['nncl_plan_ms'],
            out['nncl_first_run_ms']))
        print('  ratio nncl / PyTorch: %.2fx' % out['ratio_nncl_over_torch'])
    return 0


if __name__ == '__main__':
    sys.exit(main())
