#!/usr/bin/env python3
"""make_rnn_node_data.py: copies the ONNX backend node tests of RNN, LSTM and GRU
(/usr/share/libonnx-testdata) into tests/data/rnn_node/<test>/ as .npy files (in<i>.npy,
out<i>.npy; int32 inputs stored as int64, which nncl's .npy reader takes), so tests/test_rnn.c
checks the ops against ONNX's own expected outputs before the importer is involved.
Needs python3 with onnx and numpy; the library never runs it."""
import glob
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

SRC = '/usr/share/libonnx-testdata/data/node'
TESTS = ['test_lstm_*', 'test_gru_*', 'test_rnn_*', 'test_simple_rnn_*']


def main():
    out_root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), '..', 'tests', 'data', 'rnn_node')
    for pattern in TESTS:
        for d in sorted(glob.glob(os.path.join(SRC, pattern))):
            name = os.path.basename(d)
            dst = os.path.join(out_root, name)
            os.makedirs(dst, exist_ok=True)
            for f in sorted(glob.glob(os.path.join(d, 'test_data_set_0', '*.pb'))):
                t = onnx.TensorProto()
                with open(f, 'rb') as fh:
                    t.ParseFromString(fh.read())
                a = numpy_helper.to_array(t)
                if a.dtype == np.int32:
                    a = a.astype(np.int64)
                base = os.path.basename(f).replace('input_', 'in').replace('output_', 'out')
                np.save(os.path.join(dst, base.replace('.pb', '.npy')), np.ascontiguousarray(a))


if __name__ == '__main__':
    main()
