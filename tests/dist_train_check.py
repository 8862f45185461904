"""dist_train_check.py NNCL DATA_DIR OUT_DIR MPI_BUILT MPIRUN: `nncl train` under mpirun against
one process, on tests/data/train's small CNN (24 samples, no shuffling, SGD with momentum).

1. Two ranks reach the same weights as one process with the same global batch. The batch is 7,
   so the shards are 4 + 3 and the last batch 2 + 1: a rank's gradient must be weighted by its
   share of the batch (a plain average of the ranks moved
   them by up to 0.07 when tried).
2. Resuming with another rank count: one process trains an epoch and checkpoints, two ranks
   resume from it (rank 0 reads the file and broadcasts weights and momentum), and end where one
   process training both epochs ends.
3. A rank killed mid-run ends the job within 30 s with output naming it.
4. A hung rank (stopped) makes rank 0's all-reduce time out (--dist-timeout 3) with an error
   naming the rank that did not answer, well within 30 s.

Tolerance for 1 and 2: |a - b| <= 1e-6 + 1e-5 |a| per weight. Both runs do the same float32
arithmetic except the order of the gradient sums (each rank sums its shard, then the weighted
shards are added), which is float32 round-off, ~6e-8 relative per sum; eight steps with momentum
carry it into weights of magnitude ~0.3, measured 6e-8 at worst. Skipped (exit 77) only when nncl
was built without MPI."""
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper

nncl, data, out, mpi_built, mpirun = sys.argv[1:6]
if mpi_built != "1" or not os.path.exists(mpirun):
    print("dist_train_check: SKIP: nncl was built without MPI (meson -Dmpi=enabled needs "
          "libopenmpi-dev and openmpi-bin)")
    sys.exit(77)
os.makedirs(out, exist_ok=True)
model = os.path.join(data, "train", "small_cnn.onnx")
env = dict(os.environ, POCL_MAX_PTHREAD_COUNT="1", OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1",
           # Open MPI keeps its components loaded at exit, so LeakSanitizer (scripts/check-asan)
           # can name the module of what they keep and tests/lsan.supp can suppress it
           OMPI_MCA_mca_base_component_disable_dlclose="1")
if "ASAN_OPTIONS" in env:
    # Open MPI's libraries have no frame pointers: the slow unwinder gives LeakSanitizer whole
    # stacks, so tests/lsan.supp's Open MPI entries match
    env["ASAN_OPTIONS"] += ":fast_unwind_on_malloc=0"
# loopback only: shared memory and TCP over lo, the runtime's own wiring over lo too
MPI = [mpirun, "--oversubscribe", "--mca", "btl", "self,vader,tcp", "--mca",
       "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo"]
TRAIN = [nncl, "train", model, "--inputs", os.path.join(data, "train", "x.npy"), "--labels",
         os.path.join(data, "train", "y.npy"), "--batch", "7", "--no-shuffle", "--lr", "0.1",
         "--momentum", "0.9"]


def fail(msg):
    print("dist_train_check: FAIL: " + msg)
    sys.exit(1)


def run(cmd, what):
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=600)
    print("$ " + " ".join(cmd) + "\n" + r.stdout)
    if r.returncode != 0:
        fail("%s exited with %d" % (what, r.returncode))
    return r.stdout


def weights(path):
    return {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}


def compare(ref_path, got_path, what):
    ref, got = weights(ref_path), weights(got_path)
    start = weights(model)
    worst, where = -1.0, None
    for name, a in ref.items():
        b = got[name]
        ratio = np.abs(a - b) / (1e-6 + 1e-5 * np.abs(a))  # > 1: outside the tolerance
        k = int(np.argmax(ratio))
        if ratio.flat[k] > worst:
            worst, where = ratio.flat[k], (name, k, a.flat[k], b.flat[k])
        if np.array_equal(a, start[name]):
            fail("%s: '%s' did not train" % (what, name))
    name, k, a, b = where
    print("%s: worst %s[%d]: %.9g vs %.9g (|diff| %.3g, %.2f of the tolerance 1e-6 + 1e-5 |a|)"
          % (what, name, k, a, b, abs(a - b), worst))
    if worst > 1:
        fail("%s: %s[%d] is %.9g, one process has %.9g" % (what, name, k, b, a))


def val_line(log):
    """The last epoch's (val loss, val acc) as printed (4 and 2 decimals)."""
    m = re.findall(r"val loss ([0-9.]+)  val acc ([0-9.]+)%", log)
    if not m:
        fail("no validation figures in:\n" + log)
    return float(m[-1][0]), float(m[-1][1])


# 1. one process vs two ranks, same global batch, two epochs; validation on the training set
# (each rank evaluates half and the sums are added)
VAL = ["--val-inputs", os.path.join(data, "train", "x.npy"), "--val-labels",
       os.path.join(data, "train", "y.npy")]
one = os.path.join(out, "one.onnx")
vone = val_line(run(TRAIN + VAL + ["--epochs", "2", "--out", one], "one process"))
two = os.path.join(out, "two.onnx")
log = run(MPI + ["-np", "2"] + TRAIN + VAL + ["--epochs", "2", "--out", two, "--bucket-kb", "1"],
          "mpirun -np 2")
if "[2 ranks: step" not in log or "all-reduced per step" not in log:
    fail("no per-step split of time in the output of two ranks")
compare(one, two, "2 ranks vs 1 process")
# printed to 1e-4: equal weights give equal figures up to the last printed digit
vtwo = val_line(log)
print("validation: 1 process %s, 2 ranks %s" % (vone, vtwo))
if abs(vone[0] - vtwo[0]) > 2e-4 or vone[1] != vtwo[1]:
    fail("validation of 2 ranks %s differs from one process's %s" % (vtwo, vone))

# 2. an epoch on one process, then the second on two ranks from its checkpoint
ckpt = os.path.join(out, "epoch1.ckpt")
run(TRAIN + ["--epochs", "1", "--checkpoint", ckpt], "one process, first epoch")
resumed = os.path.join(out, "resumed.onnx")
run(MPI + ["-np", "2"] + TRAIN + ["--epochs", "1", "--resume", ckpt, "--out", resumed],
    "mpirun -np 2 --resume")
compare(one, resumed, "1 process then 2 ranks resumed vs 1 process")


# 3 and 4: a long run; each rank writes its pid first
def start_long(extra):
    pids = os.path.join(out, "pids")
    os.makedirs(pids, exist_ok=True)
    for f in os.listdir(pids):
        os.remove(os.path.join(pids, f))
    wrap = ["sh", "-c", 'echo $$ > "%s/$OMPI_COMM_WORLD_RANK"; exec "$@"' % pids, "sh"]
    # batch 8: every global batch the same size, so no step after the first compiles kernels and
    # only the rank stopped on purpose can miss the short deadline
    long = [a if a != "7" else "8" for a in TRAIN]
    p = subprocess.Popen(MPI + ["-np", "2"] + wrap + long + ["--epochs", "100000"] + extra,
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # rank 1's pid, then a few steps: rank 0 prints an epoch line once both ranks have stepped
    deadline = time.time() + 300
    pid1 = os.path.join(pids, "1")
    while not os.path.exists(pid1) and time.time() < deadline and p.poll() is None:
        time.sleep(0.1)
    first = ""
    while "epoch 2/" not in first and time.time() < deadline and p.poll() is None:
        first += p.stdout.read(1)
    if p.poll() is not None or not os.path.exists(pid1):
        fail("the long run ended before it could be interrupted:\n" + first + p.stdout.read())
    with open(pid1) as f:
        return p, int(f.read()), first


def ends(p, first, sig, pid, what, within, expect):
    os.kill(pid, sig)
    t0 = time.time()
    try:
        rest, _ = p.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        if sig == signal.SIGSTOP:
            os.kill(pid, signal.SIGKILL)
        fail("%s: the job still ran %d s later" % (what, within))
    secs = time.time() - t0
    text = first + rest
    print(text[-3000:])
    print("%s: the job ended %.1f s later with status %d" % (what, secs, p.returncode))
    if p.returncode == 0:
        fail("%s: the job ended with status 0" % what)
    if not any(e in text for e in expect):
        fail("%s: no message naming rank 1 (looked for %s)" % (what, expect))
    if sig == signal.SIGSTOP:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


p, pid, first = start_long([])
ends(p, first, signal.SIGKILL, pid, "rank 1 killed", 30, ["rank 1 "])
p, pid, first = start_long(["--dist-timeout", "3"])
ends(p, first, signal.SIGSTOP, pid, "rank 1 stopped", 30, ["ranks not answering: 1 "])
print("dist_train_check: ok")
