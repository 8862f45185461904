"""cli_caption_check.py NNCL OUT_DIR: `nncl caption --train` end to end at a small size: it trains
on the device, captions held-out pictures, and its exact match beats the most frequent training
caption's by at least MARGIN points and its BLEU-4 the baseline's by BLEU_MARGIN; it writes the
attention PNGs; bad arguments give clear errors.

Why MARGIN cannot be passed by chance: a captioner that ignores the picture can do no better than
always saying the most frequent caption. There are 200 captions (10 x 10 garment pairs, two
layouts), each about 0.5% of pictures, so on TEST pictures such a captioner expects about 1 exact
match; reaching the baseline + MARGIN (at least 9 of 200 when the baseline has 1) is a binomial
tail P(Binomial(200, 0.005) >= 9) < 1e-6. The model gets there only by naming both garments in
the right order from the picture. The margin is modest because this size (1000 steps, 1-3
minutes depending on load) is early in training: the model measured 11.5% against 0.5% here
(BLEU-4 48.6 against 18.0); BLEU-4, which credits each garment word alone, shows the gap more
widely, hence BLEU_MARGIN."""
import os
import re
import struct
import subprocess
import sys

nncl, out_dir = sys.argv[1], sys.argv[2]
TEST = 200
MARGIN = 4.0  # percentage points above the baseline's exact match
BLEU_MARGIN = 12.0  # BLEU-4 points above the baseline's


def fail(msg):
    print("cli_caption_check: " + msg)
    sys.exit(1)


def run(*args):
    return subprocess.run([nncl, "caption", *args], capture_output=True, text=True, timeout=900)


r = run("--train", "--epochs", "5", "--train-size", "3200", "--test-size", str(TEST),
        "--out-dir", out_dir)
print(r.stdout)
if r.returncode != 0:
    fail("nncl caption failed: " + r.stderr)
base = re.search(r"^baseline .*: exact match (\S+)%, BLEU-4 (\S+)$", r.stdout, re.M)
model = re.search(r"^model .*: exact match (\S+)%, BLEU-4 (\S+)$", r.stdout, re.M)
if not base or not model:
    fail("no score lines in the output")
b_exact, b_bleu = float(base.group(1)), float(base.group(2))
m_exact, m_bleu = float(model.group(1)), float(model.group(2))
if m_exact < b_exact + MARGIN:
    fail("exact match %.1f%% does not beat the baseline's %.1f%% by %.0f points" %
         (m_exact, b_exact, MARGIN))
if m_bleu < b_bleu + BLEU_MARGIN:
    fail("BLEU-4 %.1f does not beat the baseline's %.1f by %.0f" % (m_bleu, b_bleu, BLEU_MARGIN))
for i in range(4):
    path = os.path.join(out_dir, "caption_%d.png" % i)
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        fail(path + " is not a PNG")
    w, h = struct.unpack(">II", head[16:24])
    if w < 2 * 112 or h < 112:  # the picture and at least one attention panel at 4x zoom
        fail("%s is %d x %d" % (path, w, h))

# bad arguments: clear errors, exit status 2
for args, want in [(["--epochs", "0", "--train"], "--epochs takes a whole number"),
                   (["--bogus"], "unknown option --bogus"),
                   ([], "only --train is implemented")]:
    r = run(*args)
    if r.returncode != 2 or want not in r.stderr:
        fail("%s: status %d, stderr %r (want %r)" % (args, r.returncode, r.stderr, want))
print("cli_caption_check: ok: exact match %.1f%% vs %.1f%%, BLEU-4 %.1f vs %.1f" %
      (m_exact, b_exact, m_bleu, b_bleu))
