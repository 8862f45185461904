#!/usr/bin/python3
"""make_seq_models.py: exports the sequence models nncl is checked against, from PyTorch.

Each model goes into the ONNX backend-test layout that `nncl test` reads:
    OUT/<name>/model.onnx
    OUT/<name>/test_data_set_0/input_K.pb, output_K.pb   (outputs computed by PyTorch)

    seq2seq_attention  GRU encoder, GRU decoder unrolled for 4 steps with additive (Bahdanau)
                       attention over the encoder states, teacher-forced target tokens
    mha                nn.MultiheadAttention self-attention block with a key padding mask,
                       residual and LayerNorm (the dot-product chain the attention pass fuses)
    caption_cnn_lstm   tiny CNN image encoder whose feature is the first step of an LSTM
                       caption decoder (batch_first, token embeddings, vocabulary logits)
    lstm2_bidir        2-layer bidirectional nn.LSTM, batch_first, with y, h_n and c_n
    gru2               2-layer nn.GRU with an initial state input, y and h_n

Seeds are fixed, so re-running gives the same files. Run with Debian's python3-torch:
    /usr/bin/python3 tools/make_seq_models.py [--out tests/models]
"""
import argparse
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper


def save_tensor(path, array, name):
    t = numpy_helper.from_array(np.ascontiguousarray(array), name)
    with open(path, 'wb') as f:
        f.write(t.SerializeToString())


def export(model, name, out_dir, inputs, output_names, opset):
    """Exports model(*inputs) to out_dir/name/model.onnx; inputs is a list of (name, array)."""
    model.eval()
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, 'model.onnx')
    args = tuple(torch.from_numpy(a) for _, a in inputs)
    with torch.no_grad():
        torch.onnx.export(model, args, path, input_names=[n for n, _ in inputs],
                          output_names=output_names, opset_version=opset, do_constant_folding=True)
        outs = model(*args)
    onnx.checker.check_model(onnx.load(path))
    if isinstance(outs, torch.Tensor):
        outs = (outs,)
    ds = os.path.join(d, 'test_data_set_0')
    os.makedirs(ds, exist_ok=True)
    for k, (n, a) in enumerate(inputs):
        save_tensor(os.path.join(ds, 'input_%d.pb' % k), a, n)
    for k, (n, y) in enumerate(zip(output_names, outs)):
        save_tensor(os.path.join(ds, 'output_%d.pb' % k), y.numpy(), n)
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    print('%-18s %7.1f KB  opset %d  %s' % (name, os.path.getsize(path) / 1024, opset, ' '.join(ops)))


class Seq2SeqAttention(nn.Module):
    """GRU encoder over source features; GRU decoder unrolled over the target tokens (teacher
    forcing), each step attending to every encoder state with Bahdanau's additive score
    v . tanh(W_enc enc + W_dec h), then predicting from [h, context]."""

    def __init__(self, feat=8, hidden=16, vocab=12, emb=8, attn=12):
        super().__init__()
        self.encoder = nn.GRU(feat, hidden)
        self.embed = nn.Embedding(vocab, emb)
        self.w_enc = nn.Linear(hidden, attn, bias=False)
        self.w_dec = nn.Linear(hidden, attn)
        self.v = nn.Linear(attn, 1, bias=False)
        self.decoder = nn.GRU(emb + hidden, hidden)
        self.out = nn.Linear(2 * hidden, vocab)

    def forward(self, src, tgt):
        enc, h = self.encoder(src)             # enc [S, B, H], h [1, B, H]
        keys = self.w_enc(enc)                 # [S, B, A]
        logits = []
        for t in range(tgt.shape[0]):
            score = self.v(torch.tanh(keys + self.w_dec(h[0]).unsqueeze(0))).squeeze(2)  # [S, B]
            weights = torch.softmax(score, dim=0)
            context = (weights.unsqueeze(2) * enc).sum(0)                             # [B, H]
            step_in = torch.cat([self.embed(tgt[t]), context], 1).unsqueeze(0)
            y, h = self.decoder(step_in, h)
            logits.append(self.out(torch.cat([y[0], context], 1)))
        return torch.stack(logits, 0)          # [T, B, vocab]


class MHABlock(nn.Module):
    """Post-norm self-attention block: LayerNorm(x + MHA(x, x, x, key_padding_mask))."""

    def __init__(self, embed=32, heads=4):
        super().__init__()
        self.attn = nn.MultiheadAttention(embed, heads)
        self.norm = nn.LayerNorm(embed)

    def forward(self, x, key_padding_mask):
        a, _ = self.attn(x, x, x, key_padding_mask=key_padding_mask, need_weights=False)
        return self.norm(x + a)


class CaptionCNNLSTM(nn.Module):
    """Show-and-tell style captioner: a small CNN turns the image into one embedding that is the
    LSTM's first input step, followed by the caption's token embeddings; logits per step."""

    def __init__(self, vocab=14, emb=16, hidden=24):
        super().__init__()
        self.cnn = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, emb))
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, image, caption):
        feat = self.cnn(image).unsqueeze(1)               # [B, 1, emb]
        seq = torch.cat([feat, self.embed(caption)], 1)   # [B, 1 + T, emb]
        y, _ = self.lstm(seq)
        return self.out(y)


class LSTM2Bidir(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(10, 16, num_layers=2, bidirectional=True, batch_first=True)

    def forward(self, x):
        y, (h, c) = self.lstm(x)
        return y, h, c


class GRU2(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(10, 16, num_layers=2)

    def forward(self, x, h0):
        return self.gru(x, h0)


def randomize_bn(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) * 0.5 + 0.75)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests',
                                                  'models'), help='folder of the models (tests/models)')
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    rng = np.random.default_rng(2024)
    gen = torch.Generator().manual_seed(2024)

    def randn(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    torch.manual_seed(11)
    src, tgt = randn(6, 2, 8), rng.integers(0, 12, (4, 2)).astype(np.int64)
    export(Seq2SeqAttention(), 'seq2seq_attention', args.out, [('src', src), ('tgt', tgt)],
           ['logits'], 13)

    torch.manual_seed(12)
    mask = np.zeros((2, 6), dtype=bool)
    mask[1, 4:] = True  # the second sequence is two keys shorter
    export(MHABlock(), 'mha', args.out, [('x', randn(6, 2, 32)), ('key_padding_mask', mask)],
           ['y'], 14)

    torch.manual_seed(13)
    m = CaptionCNNLSTM()
    randomize_bn(m, gen)
    export(m, 'caption_cnn_lstm', args.out,
           [('image', randn(2, 3, 16, 16)), ('caption', rng.integers(0, 14, (2, 5)).astype(np.int64))],
           ['logits'], 13)

    torch.manual_seed(14)
    export(LSTM2Bidir(), 'lstm2_bidir', args.out, [('x', randn(3, 7, 10))], ['y', 'h_n', 'c_n'], 13)

    torch.manual_seed(15)
    export(GRU2(), 'gru2', args.out, [('x', randn(7, 2, 10)), ('h0', randn(2, 2, 16))], ['y', 'h_n'], 13)
    return 0


if __name__ == '__main__':
    sys.exit(main())
