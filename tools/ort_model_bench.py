#!/usr/bin/env python3
"""ort_model_bench.py: one ONNX file timed in onnxruntime, `nncl bench model` and (when given the
module) PyTorch, in one run, with the ratios nncl / onnxruntime and nncl / PyTorch (below 1: nncl
is faster). A tool for people, never CI: onnxruntime comes from PyPI.

    /work/venv-ort/bin/python tools/ort_model_bench.py --nncl build/tools/nncl MODEL.onnx
    /work/venv-ort/bin/python tools/ort_model_bench.py --nncl build/tools/nncl --matmul 1024
    /work/venv-ort/bin/python tools/ort_model_bench.py --nncl build/tools/nncl --startup MODEL.onnx

--matmul N writes an ONNX model holding one MatMul [N, N] x [N, N] (B a constant, as a layer's
weights are; A's rows symbolic, set to N) into --work and also times numpy's SGEMM (OpenBLAS) on the same operands, printing
GFLOP/s and the share of `nncl bench peak`'s FMA roof. --torch FILE.py:FUNC times PyTorch on the
module FUNC() returns (FUNC() -> (module, input shape)) through --torch-python (default
/usr/bin/python3, where Debian's torch lives), eager, torch.no_grad(). Machine facts (CPU model,
load average) are printed so figures can be compared honestly.

--startup times start-up instead, each try in a fresh process, the two engines alternating, --runs
tries after one untimed try of each (it warms nncl's program cache and the file cache): the wall
time of `nncl run MODEL --json` as a whole (it runs the model twice: the second run is its
steady-state figure, reported as run_ms) against a python process that imports onnxruntime,
creates an InferenceSession and runs once; and inside each process the share comparable across
engines, nncl's load + plan + first run against onnxruntime's session creation + first run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np


def median_ms(fn, runs, warmup):
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(t)


def make_matmul(n, path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(1024)
    b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    g = helper.make_graph([helper.make_node('MatMul', ['A', 'B'], ['Y'])], 'matmul',
                          [helper.make_tensor_value_info('A', TensorProto.FLOAT, ['M', n])],
                          [helper.make_tensor_value_info('Y', TensorProto.FLOAT, ['M', n])],
                          [numpy_helper.from_array(b, 'B')])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])
    m.ir_version = 8
    onnx.save(m, path)
    return b


def ort_inputs(sess, batch):
    feeds = {}
    rng = np.random.default_rng(0)
    for i in sess.get_inputs():
        shape = [batch if not isinstance(d, int) else d for d in i.shape]
        if i.type == 'tensor(bool)':
            feeds[i.name] = rng.uniform(0, 1, shape) < 0.9
        elif i.type in ('tensor(int64)', 'tensor(int32)'):
            feeds[i.name] = np.zeros(shape, np.int64 if '64' in i.type else np.int32)
        else:
            feeds[i.name] = rng.uniform(-1, 1, shape).astype(np.float32)
    return feeds


ORT_STARTUP_SNIPPET = r'''
import json, sys, time
t0 = time.perf_counter()
import numpy as np, onnxruntime as ort
t1 = time.perf_counter()
path, threads, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
so = ort.SessionOptions()
if threads: so.intra_op_num_threads = threads
sess = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
t2 = time.perf_counter()
feeds = {}
for i in sess.get_inputs():  # float inputs only: the start-up figures are for CNNs
    shape = [batch if not isinstance(d, int) else d for d in i.shape]
    feeds[i.name] = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
sess.run(None, feeds)
t3 = time.perf_counter()
print(json.dumps({'import_ms': 1e3 * (t1 - t0), 'session_ms': 1e3 * (t2 - t1), 'first_run_ms': 1e3 * (t3 - t2)}))
'''


def startup(args, path):
    """Median start-up figures of nncl run and onnxruntime, fresh processes, alternating."""
    ncmd = [args.nncl, 'run', path, '--json'] + (['--batch', str(args.batch)] if args.batch else [])
    if args.device:
        ncmd += ['--device', args.device]
    ocmd = [sys.executable, '-c', ORT_STARTUP_SNIPPET, path, str(args.threads), str(args.batch or 1)]

    def timed(cmd, what):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = 1e3 * (time.perf_counter() - t0)
        if r.returncode != 0:
            sys.exit('%s failed:\n%s' % (what, r.stderr))
        return wall, json.loads(r.stdout)

    timed(ncmd, 'nncl run')  # untimed: warms the program cache and the file cache
    timed(ocmd, 'onnxruntime')
    rows = {k: [] for k in ('nncl_wall', 'nncl_in', 'nncl_load', 'nncl_plan', 'nncl_first', 'nncl_run',
                            'ort_wall', 'ort_in', 'ort_import', 'ort_session', 'ort_first')}
    for _ in range(args.runs):
        w, j = timed(ncmd, 'nncl run')
        rows['nncl_wall'].append(w)
        rows['nncl_load'].append(j['load_ms'])
        rows['nncl_plan'].append(j['plan_ms'])
        rows['nncl_first'].append(j['first_run_ms'])
        rows['nncl_run'].append(j['run_ms'])
        rows['nncl_in'].append(j['load_ms'] + j['plan_ms'] + j['first_run_ms'])
        w, j = timed(ocmd, 'onnxruntime')
        rows['ort_wall'].append(w)
        rows['ort_import'].append(j['import_ms'])
        rows['ort_session'].append(j['session_ms'])
        rows['ort_first'].append(j['first_run_ms'])
        rows['ort_in'].append(j['session_ms'] + j['first_run_ms'])
    return {k + '_ms': statistics.median(v) for k, v in rows.items()}


TORCH_SNIPPET = r'''
import importlib.util, json, statistics, sys, time, torch
path, func, runs, warmup, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
if threads: torch.set_num_threads(threads)
spec = importlib.util.spec_from_file_location('m', path); m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
model, shape = getattr(m, func)()
model.eval(); x = torch.randn(*shape)
t = []
with torch.no_grad():
    for i in range(warmup + runs):
        t0 = time.perf_counter(); model(x); d = time.perf_counter() - t0
        if i >= warmup: t.append(d)
print(json.dumps({'median_ms': 1e3 * statistics.median(t), 'threads': torch.get_num_threads()}))
'''


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('onnx', nargs='?', help='ONNX file (omit with --matmul)')
    ap.add_argument('--nncl', required=True, help='path of the nncl binary')
    ap.add_argument('--device', help='nncl --device')
    ap.add_argument('--matmul', type=int, help='make and time a one-MatMul N x N x N model')
    ap.add_argument('--work', default='build/models', help='where --matmul writes its model')
    ap.add_argument('--batch', type=int, help='value of symbolic input dims (default: the file\'s, else 1)')
    ap.add_argument('--runs', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--threads', type=int, default=0, help='onnxruntime/torch/BLAS threads (0: all cores)')
    ap.add_argument('--startup', action='store_true',
                    help='time start-up (fresh processes) instead of steady-state runs')
    ap.add_argument('--torch', help='FILE.py:FUNC giving (module, input shape) of the same model')
    ap.add_argument('--torch-python', default='/usr/bin/python3')
    ap.add_argument('--json', action='store_true')
    args = ap.parse_args()
    import onnxruntime as ort

    out = {'cpu': cpu_model(), 'load_before': os.getloadavg()[0], 'runs': args.runs}
    b = None
    path = args.onnx
    if args.matmul:
        os.makedirs(args.work, exist_ok=True)
        path = os.path.join(args.work, 'matmul_%d.onnx' % args.matmul)
        b = make_matmul(args.matmul, path)
        args.batch = args.batch or args.matmul  # A's rows are the symbolic dim
    if not path:
        ap.error('give an ONNX file or --matmul N')
    out['model'] = path
    if args.startup:
        out.update(startup(args, path))
        out['load_after'] = os.getloadavg()[0]
        out['wall_nncl_over_ort'] = out['nncl_wall_ms'] / out['ort_wall_ms']
        out['in_process_nncl_over_ort'] = out['nncl_in_ms'] / out['ort_in_ms']
        if args.json:
            print(json.dumps(out, indent=1))
            return
        print('start-up of %s on %s (load average %.1f -> %.1f), median of %d fresh processes each' %
              (os.path.basename(path), out['cpu'], out['load_before'], out['load_after'], args.runs))
        print('  nncl run          %9.1f ms wall (load %.1f + plan %.1f + first run %.1f = %.1f ms; '
              'then a second run %.1f ms)' % (out['nncl_wall_ms'], out['nncl_load_ms'], out['nncl_plan_ms'],
                                              out['nncl_first_ms'], out['nncl_in_ms'], out['nncl_run_ms']))
        print('  onnxruntime %-6s%9.1f ms wall (import %.1f, session %.1f + first run %.1f = %.1f ms)' %
              (ort.__version__, out['ort_wall_ms'], out['ort_import_ms'], out['ort_session_ms'],
               out['ort_first_ms'], out['ort_in_ms']))
        print('  nncl / onnxruntime: %.2f process wall, %.2f load+plan+first run vs session+first run '
              '(below 1: nncl starts faster)' % (out['wall_nncl_over_ort'], out['in_process_nncl_over_ort']))
        return

    so = ort.SessionOptions()
    if args.threads:
        so.intra_op_num_threads = args.threads
    sess = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
    feeds = ort_inputs(sess, args.batch or 1)
    if not args.batch:  # nncl bench model assumes batch 1 unless told: give it the file's own
        d0 = sess.get_inputs()[0].shape[0] if sess.get_inputs()[0].shape else 1
        args.batch = d0 if isinstance(d0, int) else None
    out['onnxruntime_version'] = ort.__version__
    out['ort_ms'] = median_ms(lambda: sess.run(None, feeds), args.runs, args.warmup)

    if b is not None:
        a = next(iter(feeds.values()))
        out['numpy_ms'] = median_ms(lambda: a @ b, args.runs, args.warmup)
        out['flops'] = 2.0 * args.matmul ** 3

    cmd = [args.nncl, 'bench', 'model', path, '--runs', str(args.runs), '--warmup', str(args.warmup), '--json']
    if args.batch:
        cmd += ['--batch', str(args.batch)]
    if args.device:
        cmd += ['--device', args.device]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        sys.exit('nncl bench model failed:\n' + r.stderr)
    nb = json.loads(r.stdout)
    out.update({'nncl_device': nb['device'], 'nncl_ms': nb['median_ms'],
                'nncl_gflops': nb.get('gflops', 0.0)})
    pk = subprocess.run([args.nncl, 'bench', 'peak', '--json', '--refresh'] + (['--device', args.device] if args.device else []),
                        capture_output=True, text=True, check=False)
    if pk.returncode == 0:
        out['fma_roof_gflops'] = json.loads(pk.stdout)['fma_gflops']

    if args.torch:
        file, func = args.torch.rsplit(':', 1)
        tr = subprocess.run([args.torch_python, '-c', TORCH_SNIPPET, file, func, str(args.runs),
                             str(args.warmup), str(args.threads)], capture_output=True, text=True, check=False)
        if tr.returncode != 0:
            sys.exit('PyTorch run failed:\n' + tr.stderr)
        out['torch_ms'] = json.loads(tr.stdout)['median_ms']

    out['load_after'] = os.getloadavg()[0]
    out['nncl_over_ort'] = out['nncl_ms'] / out['ort_ms']
    if 'torch_ms' in out:
        out['nncl_over_torch'] = out['nncl_ms'] / out['torch_ms']
    if 'numpy_ms' in out:
        out['nncl_over_numpy'] = out['nncl_ms'] / out['numpy_ms']
    if args.json:
        print(json.dumps(out, indent=1))
        return
    print('%s on %s (load average %.1f -> %.1f), median of %d runs' %
          (os.path.basename(path), out['cpu'], out['load_before'], out['load_after'], args.runs))
    rows = [('onnxruntime %s' % out['onnxruntime_version'], out['ort_ms'])]
    if 'numpy_ms' in out:
        rows.append(('numpy %s SGEMM' % np.__version__, out['numpy_ms']))
    if 'torch_ms' in out:
        rows.append(('PyTorch', out['torch_ms']))
    rows.append(('nncl (%s)' % out['nncl_device'], out['nncl_ms']))
    for name, ms in rows:
        extra = ''
        if 'flops' in out:
            gf = out['flops'] / ms * 1e-6
            extra = '  %7.1f GFLOP/s' % gf
            if 'fma_roof_gflops' in out:
                extra += '  %5.1f%% of the FMA roof' % (100 * gf / out['fma_roof_gflops'])
        print('  %-40s %9.2f ms%s' % (name, ms, extra))
    ratios = ['nncl / onnxruntime %.2f' % out['nncl_over_ort']]
    if 'nncl_over_numpy' in out:
        ratios.append('nncl / numpy %.2f' % out['nncl_over_numpy'])
    if 'nncl_over_torch' in out:
        ratios.append('nncl / PyTorch %.2f' % out['nncl_over_torch'])
    print('  ' + ', '.join(ratios) + ' (below 1: nncl is faster)')
    if 'flops' not in out and out['nncl_gflops'] and 'fma_roof_gflops' in out:
        print('  nncl %.1f GFLOP/s, %.1f%% of `nncl bench peak`\'s %.1f GFLOP/s FMA roof' %
              (out['nncl_gflops'], 100 * out['nncl_gflops'] / out['fma_roof_gflops'],
               out['fma_roof_gflops']))


def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return '%s x%d' % (line.split(':', 1)[1].strip(), os.cpu_count())
    except OSError:
        pass
    return 'unknown CPU'


if __name__ == '__main__':
    main()
