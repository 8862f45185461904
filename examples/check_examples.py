#!/usr/bin/env python3
"""check_examples.py: runs the examples as a user would. run_model on the demo CNN must print its
two outputs with their shapes; classify_image on the first Fashion-MNIST test image (written as a
PGM from the IDX file) must print the class its label gives (9, ankle boot).

usage: check_examples.py RUN_MODEL CLASSIFY_IMAGE MODELS_DIR FASHION_MNIST_DIR WORK_DIR
"""
import gzip
import os
import subprocess
import sys


def main():
    run_model, classify, models, data, work = sys.argv[1:6]
    os.makedirs(work, exist_ok=True)
    model = os.path.join(models, 'fashion_cnn.onnx')
    out = subprocess.run([run_model, model], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert 'logits float32 [1, 10]' in out.stdout and 'features float32 [1, 64, 7, 7]' in out.stdout, out.stdout
    # a model that does not exist: named error, exit 1, nothing on stdout
    bad = subprocess.run([run_model, os.path.join(work, 'missing.onnx')], capture_output=True, text=True)
    assert bad.returncode == 1 and 'missing.onnx' in bad.stderr and bad.stdout == '', (bad.stdout, bad.stderr)

    with gzip.open(os.path.join(data, 't10k-images-idx3-ubyte.gz')) as f:
        raw = f.read(16 + 28 * 28)
    with gzip.open(os.path.join(data, 't10k-labels-idx1-ubyte.gz')) as f:
        label = f.read(9)[8]
    pgm = os.path.join(work, 'first.pgm')
    with open(pgm, 'wb') as f:
        f.write(b'P5 28 28 255\n' + raw[16:])
    out = subprocess.run([classify, model, pgm], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert ': class %d (' % label in out.stdout, (label, out.stdout)
    print(out.stdout, end='')


if __name__ == '__main__':
    main()
