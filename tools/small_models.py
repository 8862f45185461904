#!/usr/bin/python3
"""small_models.py: the small sequence and dense models of issue 13's table, as PyTorch modules
and their ONNX exports (opset 13), for tools/ort_model_bench.py:

    /usr/bin/python3 tools/small_models.py build/models            # writes NAME.onnx there
    /work/venv-ort/bin/python tools/ort_model_bench.py --nncl build/tools/nncl \\
        --torch tools/small_models.py:lstm2 build/models/lstm2.onnx

Each function returns (module, input shape); the shapes are fixed in the export (no symbolic dim),
so every engine runs exactly the table's size.
"""
import os
import sys

import torch


class _Seq(torch.nn.Module):
    """An RNN module without its state outputs (what a layer in a model returns)."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0]


def lstm2():
    """2-layer LSTM, input 256, hidden 512, T 100, batch 16 (sequence first)."""
    torch.manual_seed(13)
    return _Seq(torch.nn.LSTM(256, 512, num_layers=2)), (100, 16, 256)


def gru_bidir():
    """Bidirectional GRU, input 128, hidden 256, T 64, batch 8."""
    torch.manual_seed(14)
    return _Seq(torch.nn.GRU(128, 256, bidirectional=True)), (64, 8, 128)


def transformer():
    """2-layer Transformer encoder, d 256, 4 heads, feed-forward 1024, S 128, batch 4."""
    torch.manual_seed(15)
    layer = torch.nn.TransformerEncoderLayer(256, 4, dim_feedforward=1024, dropout=0.0)
    return torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False), (128, 4, 256)


def mlp():
    """MLP 1024-4096-4096-1000 with ReLU, batch 64."""
    torch.manual_seed(16)
    L = torch.nn.Linear
    return torch.nn.Sequential(L(1024, 4096), torch.nn.ReLU(), L(4096, 4096), torch.nn.ReLU(),
                               L(4096, 1000)), (64, 1024)


MODELS = {'lstm2': lstm2, 'gru_bidir': gru_bidir, 'transformer': transformer, 'mlp': mlp}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else 'build/models'
    os.makedirs(out, exist_ok=True)
    for name, fn in MODELS.items():
        model, shape = fn()
        model.eval()
        path = os.path.join(out, name + '.onnx')
        with torch.no_grad():
            torch.onnx.export(model, torch.randn(*shape), path, opset_version=13,
                              input_names=['x'], output_names=['y'])
        print('wrote', path)


if __name__ == '__main__':
    main()
