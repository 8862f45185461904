#!/usr/bin/env python3
"""cli_inputs_check.py: what `nncl run` and `nncl info` do with a new user's inputs and sizes, on
the demo CNN (input [N, 1, 28, 28]), a sequence-first LSTM ([7, 2, 12], every dim fixed) and a
sequence-first Relu made here ([7, N, 12], the batch dim symbolic).
Each case states the exit code and words the user must see; a float64 .npy must give the same
outputs as the same values in float32 (the conversion is exact for these values: multiples of
1/256, which float32 holds exactly).

usage: cli_inputs_check.py NNCL MODELS_DIR TEST_MODELS_DIR WORK_DIR
"""
import json
import os
import shutil
import struct
import subprocess
import sys


def npy(path, descr, shape, fmt, values):
    dims = ''.join('%d, ' % d for d in shape)
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
    header += ' ' * (63 - (10 + len(header)) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode())
        f.write(struct.pack('<%d%s' % (len(values), fmt), *values))


def seq_first_model(path):
    """Relu over x [7, N, 12]: time first, the batch dim symbolic, as a sequence model exports."""
    import onnx
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info('x', TensorProto.FLOAT, [7, 'N', 12])
    y = helper.make_tensor_value_info('y', TensorProto.FLOAT, [7, 'N', 12])
    graph = helper.make_graph([helper.make_node('Relu', ['x'], ['y'])], 'seq_first', [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)]), path)


def nncl(*args):
    return subprocess.run([NNCL] + list(args), capture_output=True, text=True)


def expect(r, code, *words, stream='stderr'):
    text = getattr(r, stream)
    assert r.returncode == code, (r.args, r.returncode, r.stdout, r.stderr)
    for w in words:
        assert w in text, (r.args, w, text)


def main():
    global NNCL
    NNCL, models, test_models, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    cnn = os.path.join(models, 'fashion_cnn.onnx')
    lstm = os.path.join(test_models, 'lstm_mini', 'model.onnx')
    values = [((i * 37) % 256) / 256.0 for i in range(28 * 28)]
    f64, f32 = os.path.join(work, 'x64.npy'), os.path.join(work, 'x32.npy')
    u8, wrong = os.path.join(work, 'xu8.npy'), os.path.join(work, 'wrong.npy')
    npy(f64, '<f8', (1, 1, 28, 28), 'd', values)
    npy(f32, '<f4', (1, 1, 28, 28), 'f', values)
    npy(u8, '|u1', (1, 1, 28, 28), 'B', [int(v * 256) for v in values])
    npy(wrong, '<f4', (1, 1, 28, 20), 'f', values[:560])
    png = os.path.join(work, 'picture.png')
    with open(png, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + bytes(32))

    # float64 and float32 files give the same outputs; uint8 is accepted and converted
    a = json.loads(nncl('run', cnn, '--input', f64, '--json').stdout)
    b = json.loads(nncl('run', cnn, '--input', f32, '--json').stdout)
    assert a['outputs'][0]['top5'] == b['outputs'][0]['top5'], (a, b)
    assert a['outputs'][0]['max'] == b['outputs'][0]['max'], (a, b)
    expect(nncl('run', cnn, '--input', 'input=' + u8), 0, 'from ' + u8, stream='stdout')
    # a fixed dim contradicted: the input, the axis, expected and got
    expect(nncl('run', cnn, '--input', wrong), 1, "'input'", 'axis 3: got 20, expected 28')
    # an input name the model lacks: say so and list the inputs
    expect(nncl('run', cnn, '--input', 'foo=x.npy'), 1, 'no input "foo"', "'input' float32")
    # an image: say which formats are read
    expect(nncl('run', cnn, '--input', png), 1, 'PNG image', '.npy', '.pb')
    # --output-dir: the real file names
    out = os.path.join(work, 'out')
    expect(nncl('run', cnn, '--output-dir', out), 0,
           'wrote %s/output_0.pb and %s/logits.npy' % (out, out), stream='stdout')
    assert os.path.isfile(os.path.join(out, 'logits.npy'))
    # --batch fills an unknown dim 0; on a model whose dim 0 is fixed it says it does not apply
    expect(nncl('run', cnn, '--batch', '3'), 0, '[3, 1, 28, 28]', 'dim 0 to --batch 3',
           stream='stdout')
    r = nncl('run', lstm, '--batch', '4')
    expect(r, 0, '--batch 4 does not apply', "'input' is [7, 2, 12]")
    assert 'fixed batch' not in r.stderr and '[7, 2, 12]' in r.stdout, r
    # bench model names no batch for a model that fixes every dim ([T, N, F] is not "batch T")
    r = nncl('bench', 'model', lstm, '--runs', '1', '--warmup', '0')
    expect(r, 0, "'input' [7, 2, 12] (the model fixes every dim: no batch dim)", 'runs/s',
           stream='stdout')
    assert 'batch 7' not in r.stdout, r.stdout
    # a sequence-first model with a symbolic N: --batch fills that dim, and bench model names it
    seq = os.path.join(work, 'seq_first.onnx')
    seq_first_model(seq)
    expect(nncl('run', seq, '--batch', '3'), 0, '[7, 3, 12]', 'dim 1 to --batch 3',
           stream='stdout')
    r = nncl('bench', 'model', seq, '--batch', '3', '--runs', '1', '--warmup', '0')
    expect(r, 0, "'x' [7, 3, 12] (batch 3: dim 1", 'inferences/s', stream='stdout')
    # info plans dry: on a cold cache it compiles nothing (no program reaches the cache folder)
    cold = os.path.join(work, 'cold-cache')
    shutil.rmtree(cold, ignore_errors=True)
    os.makedirs(cold)
    r = subprocess.run([NNCL, 'info', cnn], capture_output=True, text=True,
                       env=dict(os.environ, NNCL_CACHE_DIR=cold))
    expect(r, 0, 'memory   arena', stream='stdout')
    assert 'compiling' not in r.stderr, r.stderr
    built = [f for f in os.listdir(cold) if f.endswith('.clbin')]
    assert not built, ('nncl info compiled', built)
    expect(nncl('run', cnn, '--batch', '99999999999999999999'), 2, '--batch takes')
    # a generated input larger than a device buffer: refused with a reason, before allocating
    expect(nncl('run', cnn, '--batch', '100000000'), 1, 'needs', 'GB')
    # --shape on run and info; a --shape for a missing input lists the inputs
    expect(nncl('info', cnn, '--shape', 'input=2,1,28,28'), 0, 'planned  for input [2, 1, 28, 28]',
           stream='stdout')
    info = json.loads(nncl('info', cnn, '--json').stdout)
    assert info['inputs'][0]['shape'] == [1, 1, 28, 28] and info['outputs'][0]['shape'] == [1, 10]
    expect(nncl('info', cnn, '--shape', 'x=1'), 1, 'no input "x"', "'input' float32")
    # help and unknown options
    expect(nncl('help', 'run'), 0, '--shape', '--batch', '--output-dir', '--json', stream='stdout')
    expect(nncl('bench', 'conv', '--help'), 0, '--compare-torch', '--all', '--runs',
           stream='stdout')
    expect(nncl('bench', 'peak', '--help'), 0, '--refresh', stream='stdout')
    expect(nncl('info', cnn, '--bogus'), 2, 'unknown option --bogus (nncl info --help')
    print('cli input checks passed')


if __name__ == '__main__':
    main()
