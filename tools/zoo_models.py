#!/usr/bin/python3
"""zoo_models.py: the models of README's speed table (torchvision CNNs and torch.nn sequence
models, random weights, eval mode), exported to ONNX (opset 13) and timed against onnxruntime and
PyTorch in one run per model through tools/ort_model_bench.py. A tool for people, never CI.

    /usr/bin/python3 tools/zoo_models.py --out build/zoo                  # export every model
    /usr/bin/python3 tools/zoo_models.py --out build/zoo --bench --nncl build/tools/nncl \\
        [--only resnet18,lstm2] [--runs 10]                               # and print the table

Each model function returns (module, input shape), the form ort_model_bench.py's --torch takes,
so the ONNX file and PyTorch's timing come from the same module. --bench runs ort_model_bench.py
with --ort-python (default /work/venv-ort/bin/python: onnxruntime comes from PyPI).
"""
import argparse
import json
import os
import subprocess
import sys

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))


def _tv(name, **kw):
    torch.manual_seed(0)
    return getattr(torchvision.models, name)(weights=None, **kw).eval()


def resnet18():
    return _tv('resnet18'), (1, 3, 224, 224)


def resnet18_b8():
    return _tv('resnet18'), (8, 3, 224, 224)


def resnet50():
    return _tv('resnet50'), (1, 3, 224, 224)


def mobilenet_v2():
    return _tv('mobilenet_v2'), (1, 3, 224, 224)


def squeezenet1_1():
    return _tv('squeezenet1_1'), (1, 3, 224, 224)


def vgg11():
    return _tv('vgg11'), (1, 3, 224, 224)


class _Out(torch.nn.Module):
    """The first output only: segmentation models return a dict, RNNs a tuple."""

    def __init__(self, m, key=None):
        super().__init__()
        self.m, self.key = m, key

    def forward(self, x):
        y = self.m(x)
        return y[self.key] if self.key is not None else y[0]


def fcn_resnet50():
    torch.manual_seed(0)
    m = torchvision.models.segmentation.fcn_resnet50(weights=None, weights_backbone=None,
                                                     aux_loss=False)
    return _Out(m.eval(), 'out').eval(), (1, 3, 224, 224)


def lstm2():
    torch.manual_seed(0)
    return _Out(torch.nn.LSTM(256, 512, num_layers=2)).eval(), (100, 16, 256)


def gru_bidir():
    torch.manual_seed(0)
    return _Out(torch.nn.GRU(128, 256, bidirectional=True)).eval(), (64, 8, 128)


def transformer():
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(256, 4, dim_feedforward=1024, dropout=0.0)
    return torch.nn.TransformerEncoder(layer, 2).eval(), (128, 4, 256)


def mlp():
    torch.manual_seed(0)
    L = torch.nn.Linear
    m = torch.nn.Sequential(L(1024, 4096), torch.nn.ReLU(), L(4096, 4096), torch.nn.ReLU(),
                            L(4096, 1000))
    return m.eval(), (64, 1024)


# name: (function, label of README's table)
MODELS = {
    'resnet18': (resnet18, 'ResNet-18 224 b1'),
    'resnet18_b8': (resnet18_b8, 'ResNet-18 224 b8'),
    'resnet50': (resnet50, 'ResNet-50 224 b1'),
    'mobilenet_v2': (mobilenet_v2, 'MobileNetV2 224 b1'),
    'squeezenet1_1': (squeezenet1_1, 'SqueezeNet 1.1 224 b1'),
    'vgg11': (vgg11, 'VGG-11 224 b1'),
    'fcn_resnet50': (fcn_resnet50, 'FCN ResNet-50 224 b1'),
    'lstm2': (lstm2, '2-layer LSTM in 256 hidden 512, T100 B16'),
    'gru_bidir': (gru_bidir, 'bidirectional GRU in 128 hidden 256, T64 B8'),
    'transformer': (transformer, '2-layer Transformer encoder d256 4 heads ff1024, S128 B4'),
    'mlp': (mlp, 'MLP 1024-4096-4096-1000, b64'),
}


def export(name, out_dir):
    path = os.path.join(out_dir, name + '.onnx')
    if os.path.exists(path):
        return path
    model, shape = MODELS[name][0]()
    with torch.no_grad():
        torch.onnx.export(model, torch.randn(*shape), path, opset_version=13,
                          input_names=['input'], do_constant_folding=True)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='build/zoo', help='where the ONNX files go (kept: reused)')
    ap.add_argument('--only', help='comma-separated names (default: all): ' + ', '.join(MODELS))
    ap.add_argument('--bench', action='store_true', help='time each in ort_model_bench.py')
    ap.add_argument('--nncl', help='path of the nncl binary (with --bench)')
    ap.add_argument('--ort-python', default='/work/venv-ort/bin/python')
    ap.add_argument('--runs', type=int, default=10)
    ap.add_argument('--threads', type=int, default=0)
    args = ap.parse_args()
    names = args.only.split(',') if args.only else list(MODELS)
    for n in names:
        if n not in MODELS:
            ap.error('unknown model %s (known: %s)' % (n, ', '.join(MODELS)))
    if args.bench and not args.nncl:
        ap.error('--bench needs --nncl')
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for n in names:
        path = export(n, args.out)
        if not args.bench:
            print(path)
            continue
        cmd = [args.ort_python, os.path.join(HERE, 'ort_model_bench.py'), '--nncl', args.nncl,
               path, '--runs', str(args.runs), '--threads', str(args.threads), '--json',
               '--torch', os.path.abspath(__file__) + ':' + n]
        r = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if r.returncode != 0:
            print('%s: failed: %s' % (n, r.stderr.strip().splitlines()[-1:]), file=sys.stderr)
            continue
        o = json.loads(r.stdout)
        rows.append((MODELS[n][1], o))
        print('| %s | %.1f | %.1f | %.1f | %.2f | load %.1f |' %
              (MODELS[n][1], o['torch_ms'], o['ort_ms'], o['nncl_ms'], o['nncl_over_ort'],
               o['load_after']), flush=True)
    if rows:
        print('\n%s; onnxruntime %s CPU EP, PyTorch %s eager, nncl on %s' %
              (rows[0][1]['cpu'], rows[0][1]['onnxruntime_version'], torch.__version__,
               rows[0][1]['nncl_device']))


if __name__ == '__main__':
    main()
