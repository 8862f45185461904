#!/usr/bin/python3
"""make_models.py: exports the reference models nncl is checked against, from PyTorch.

Each model goes into the ONNX backend-test layout that `nncl test` reads:
    OUT/<name>/model.onnx
    OUT/<name>/test_data_set_N/input_0.pb, output_0.pb   (outputs computed by PyTorch)

The small models (ResNet-, VGG- and MobileNet-style on 1x3x32x32, plus an LSTM classifier) are
committed under tests/models/ and run in CI; --resnet18 DIR also writes a full ResNet-18
(224x224, random weights) for `nncl bench model`, too big to commit. Seeds are fixed, so
re-running gives the same weights; the modules are defined here because torchvision is not
installed. Run with Debian's python3-torch: /usr/bin/python3 tools/make_models.py
"""
import argparse
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

OPSET = 13


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 convs with BN, identity or 1x1-conv shortcut."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + (self.down(x) if self.down is not None else x))


class ResNet(nn.Module):
    """torchvision-style ResNet with BasicBlocks; `small` uses a 3x3 stem for 32x32 inputs."""

    def __init__(self, widths, blocks, classes, small):
        super().__init__()
        w0 = widths[0]
        if small:
            self.stem = nn.Sequential(nn.Conv2d(3, w0, 3, 1, 1, bias=False), nn.BatchNorm2d(w0),
                                      nn.ReLU(inplace=True))
        else:
            self.stem = nn.Sequential(nn.Conv2d(3, w0, 7, 2, 3, bias=False), nn.BatchNorm2d(w0),
                                      nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        layers, cin = [], w0
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for b in range(n):
                layers.append(BasicBlock(cin, w, 2 if (b == 0 and i > 0) else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.layers(self.stem(x))), 1))


class VGG(nn.Module):
    """VGG-style: stacks of 3x3 conv + ReLU with max pooling, then a dropout MLP."""

    def __init__(self):
        super().__init__()
        cfg = [16, 16, 'M', 32, 32, 'M', 48, 'M']
        layers, cin = [], 3
        for c in cfg:
            if c == 'M':
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, c, 3, padding=1), nn.ReLU(inplace=True)]
                cin = c
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(48 * 4 * 4, 40), nn.ReLU(inplace=True), nn.Dropout(0.5),
                                        nn.Linear(40, 10))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, 1x1 project; ReLU6; residual when shapes match."""

    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        mid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.body = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(inplace=True),
            nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False), nn.BatchNorm2d(mid),
            nn.ReLU6(inplace=True),
            nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.body(x)
        return x + y if self.use_res else y


class MobileNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU6(inplace=True))
        self.blocks = nn.Sequential(
            InvertedResidual(16, 16, 1, 1), InvertedResidual(16, 24, 2, 4), InvertedResidual(24, 24, 1, 4),
            InvertedResidual(24, 32, 2, 4), InvertedResidual(32, 32, 1, 4))
        self.head = nn.Sequential(nn.Conv2d(32, 64, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU6(inplace=True))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc(self.head(self.blocks(self.stem(x))).mean((2, 3)))


class LSTMClassifier(nn.Module):
    """Sequence classifier: one LSTM layer over [T, N, F] and a linear head on the last step."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(12, 24)
        self.fc = nn.Linear(24, 5)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y[-1])


def randomize_bn(model, gen):
    """Non-trivial BatchNorm statistics, so folding BN into conv weights is actually checked."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) * 0.5 + 0.75)
                m.weight.copy_(torch.rand(m.num_features, generator=gen) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(m.num_features, generator=gen) * 0.1)


def save_tensor(path, array, name):
    t = numpy_helper.from_array(np.ascontiguousarray(array), name)
    with open(path, 'wb') as f:
        f.write(t.SerializeToString())


def export(model, name, out_dir, inputs, dynamic_batch=True):
    """Exports `model` to out_dir/name/model.onnx with one test data set per input array."""
    model.eval()
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    axes = {'input': {0: 'batch'}, 'output': {0: 'batch'}} if dynamic_batch else None
    with torch.no_grad():
        torch.onnx.export(model, torch.from_numpy(inputs[0]), os.path.join(d, 'model.onnx'),
                          input_names=['input'], output_names=['output'], opset_version=OPSET,
                          dynamic_axes=axes, do_constant_folding=True,
                          training=torch.onnx.TrainingMode.PRESERVE)
        onnx.checker.check_model(onnx.load(os.path.join(d, 'model.onnx')))
        for k, x in enumerate(inputs):
            y = model(torch.from_numpy(x)).numpy()
            ds = os.path.join(d, 'test_data_set_%d' % k)
            os.makedirs(ds, exist_ok=True)
            save_tensor(os.path.join(ds, 'input_0.pb'), x, 'input')
            save_tensor(os.path.join(ds, 'output_0.pb'), y, 'output')
    size = os.path.getsize(os.path.join(d, 'model.onnx'))
    print('%-16s %8.1f KB  %s -> %s' % (name, size / 1024, 'x'.join(map(str, inputs[0].shape)),
                                      'x'.join(map(str, y.shape[1:]))))


def loader_cases(out_dir):
    """Small hand-built models for the importer's own features, with outputs computed by NumPy:
    typed-field initializers, a graph input that is also an initializer, Constant nodes of every
    kind, external data next to the model, a dim_param batch, and unsupported ops."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(7)

    def write(name, graph, opset, inputs, outputs, extra=None):
        d = os.path.join(out_dir, name)
        os.makedirs(d, exist_ok=True)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)] + (extra or []),
                                  producer_name='nncl make_models.py')
        model.ir_version = 7
        with open(os.path.join(d, 'model.onnx'), 'wb') as f:
            f.write(model.SerializeToString())
        if inputs is None:
            return d
        ds = os.path.join(d, 'test_data_set_0')
        os.makedirs(ds, exist_ok=True)
        for k, (n, a) in enumerate(inputs):
            save_tensor(os.path.join(ds, 'input_%d.pb' % k), a, n)
        for k, (n, a) in enumerate(outputs):
            save_tensor(os.path.join(ds, 'output_%d.pb' % k), a, n)
        return d

    # Typed fields, an initializer listed as a graph input, Constant nodes (tensor, floats, int).
    x = rng.standard_normal((2, 3)).astype(np.float32)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((4,)).astype(np.float32)
    w_init = helper.make_tensor('W', TensorProto.FLOAT, [3, 4], w.flatten().tolist())  # float_data
    b_init = numpy_helper.from_array(b, 'B')  # raw_data
    nodes = [
        helper.make_node('MatMul', ['X', 'W'], ['xw']),
        helper.make_node('Add', ['xw', 'B'], ['xwb']),
        helper.make_node('Constant', [], ['c_floats'], value_floats=[0.5, -1.0, 2.0, 0.25]),
        helper.make_node('Mul', ['xwb', 'c_floats'], ['scaled']),
        helper.make_node('Constant', [], ['shape'], value=numpy_helper.from_array(np.array([4, 2], np.int64))),
        helper.make_node('Reshape', ['scaled', 'shape'], ['reshaped']),
        helper.make_node('Constant', [], ['c_float'], value_float=3.0),
        helper.make_node('Add', ['reshaped', 'c_float'], ['Y']),
    ]
    y = ((x @ w + b) * np.array([0.5, -1.0, 2.0, 0.25], np.float32)).reshape(4, 2) + 3.0
    g = helper.make_graph(nodes, 'typed_fields', [helper.make_tensor_value_info('X', TensorProto.FLOAT, [2, 3]),
                                                  helper.make_tensor_value_info('W', TensorProto.FLOAT, [3, 4])],
                          [helper.make_tensor_value_info('Y', TensorProto.FLOAT, [4, 2])], [w_init, b_init])
    write('loader_typed_fields', g, 13, [('X', x)], [('Y', y.astype(np.float32))])

    # External data: two initializers in one file next to the model, at offsets.
    d = os.path.join(out_dir, 'loader_external')
    os.makedirs(d, exist_ok=True)
    scale = rng.standard_normal((3, 5)).astype(np.float32)
    shift = rng.standard_normal((5,)).astype(np.float32)
    with open(os.path.join(d, 'weights.bin'), 'wb') as f:
        f.write(b'\0' * 16 + scale.tobytes() + shift.tobytes())

    def external(name, arr, offset):
        t = TensorProto()
        t.name, t.data_type = name, TensorProto.FLOAT
        t.dims.extend(arr.shape)
        t.data_location = TensorProto.EXTERNAL
        for k, v in (('location', 'weights.bin'), ('offset', str(offset)), ('length', str(arr.nbytes))):
            e = t.external_data.add()
            e.key, e.value = k, v
        return t

    x = rng.standard_normal((2, 3, 5)).astype(np.float32)
    nodes = [helper.make_node('Mul', ['X', 'scale'], ['m']), helper.make_node('Add', ['m', 'shift'], ['Y'])]
    g = helper.make_graph(nodes, 'external', [helper.make_tensor_value_info('X', TensorProto.FLOAT, [2, 3, 5])],
                          [helper.make_tensor_value_info('Y', TensorProto.FLOAT, [2, 3, 5])],
                          [external('scale', scale, 16), external('shift', shift, 16 + scale.nbytes)])
    write('loader_external', g, 13, [('X', x)], [('Y', x * scale + shift)])

    # A dim_param batch: the test data uses batch 3.
    x = rng.standard_normal((3, 4)).astype(np.float32)
    g = helper.make_graph([helper.make_node('Relu', ['X'], ['Y'])], 'dim_param',
                          [helper.make_tensor_value_info('X', TensorProto.FLOAT, ['batch', 4])],
                          [helper.make_tensor_value_info('Y', TensorProto.FLOAT, ['batch', 4])])
    write('loader_dim_param', g, 13, [('X', x)], [('Y', np.maximum(x, 0))])

    # Unsupported ops (no test data: loading works, planning names them all).
    nodes = [helper.make_node('Relu', ['X'], ['a'], name='relu0'),
             helper.make_node('FooBar', ['a'], ['b'], name='foo_first'),
             helper.make_node('FooBar', ['b'], ['c'], name='foo_second'),
             helper.make_node('Baz', ['c'], ['Y'], name='baz0', domain='com.example')]
    g = helper.make_graph(nodes, 'unsupported', [helper.make_tensor_value_info('X', TensorProto.FLOAT, [2])],
                          [helper.make_tensor_value_info('Y', TensorProto.FLOAT, [2])])
    write('loader_unsupported', g, 11, None, None, [helper.make_opsetid('com.example', 1)])
    print('loader cases written to', out_dir)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests',
                                                  'models'), help='folder of the small models (tests/models)')
    ap.add_argument('--resnet18', metavar='DIR', help='also write a full ResNet-18 (224x224) into DIR/resnet18')
    ap.add_argument('--only-resnet18', action='store_true', help='skip the small models')
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    gen = torch.Generator().manual_seed(1234)
    rng = np.random.default_rng(1234)

    def images(n, size):
        return rng.standard_normal((n, 3, size, size)).astype(np.float32)

    if not args.only_resnet18:
        torch.manual_seed(1)
        m = ResNet([16, 32, 64], [1, 1, 1], 10, small=True)
        randomize_bn(m, gen)
        export(m, 'resnet_mini', args.out, [images(1, 32), images(2, 32)])
        torch.manual_seed(2)
        export(VGG(), 'vgg_mini', args.out, [images(1, 32), images(3, 32)])
        torch.manual_seed(3)
        m = MobileNet()
        randomize_bn(m, gen)
        export(m, 'mobilenet_mini', args.out, [images(1, 32), images(2, 32)])
        torch.manual_seed(4)
        export(LSTMClassifier(), 'lstm_mini', args.out,
               [rng.standard_normal((7, 2, 12)).astype(np.float32)], dynamic_batch=False)
        loader_cases(args.out)
    if args.resnet18:
        torch.manual_seed(18)
        m = ResNet([64, 128, 256, 512], [2, 2, 2, 2], 1000, small=False)
        randomize_bn(m, gen)
        export(m, 'resnet18', args.resnet18, [images(1, 224)])
    return 0


if __name__ == '__main__':
    sys.exit(main())
