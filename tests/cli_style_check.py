"""cli_style_check.py NNCL TEST_MODELS_DIR OUT_DIR: `nncl style` end to end on two small PNGs written
here: the default run (built-in network, Adam, default weights and rate) at 48 px and 150 steps
lowers its reported loss at least 10x from the starting picture (the content) and writes a PNG of
the content's aspect ratio; L-BFGS does too; --every/--frames writes the frames; a user's ONNX CNN
(tests/models/vgg_mini) with named layers runs; bad arguments give clear errors."""
import os
import re
import subprocess
import sys

from png_file import png_size, write_png

nncl, test_models, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out_dir, exist_ok=True)


def fail(msg):
    print("cli_style_check: " + msg)
    sys.exit(1)


# content: a dark disc on a light background, 48 x 36; style: red and blue diagonal stripes
content, style = os.path.join(out_dir, "content.png"), os.path.join(out_dir, "style.png")
px = []
for y in range(36):
    for x in range(48):
        v = 40 if (x - 24) ** 2 + (y - 18) ** 2 < 144 else 220
        px += [v, v, v]
write_png(content, 48, 36, px)
px = []
for y in range(40):
    for x in range(40):
        px += [230, 40, 40] if ((x + y) // 4) % 2 else [30, 60, 220]
write_png(style, 40, 40, px)


def run(*args):
    return subprocess.run([nncl, "style", *args], capture_output=True, text=True, timeout=600)


STEP = re.compile(r"^step (\d+)/(\d+)  loss (\S+)  style (\S+)  content (\S+)")
FINAL = re.compile(r"^loss (\S+) -> (\S+) \((\S+)x lower\) -> (.+)$")


def losses(r, what, steps):
    """The reported losses by step, and the final line's first and last, checked to agree."""
    if r.returncode != 0:
        fail(what + " failed: " + r.stdout + r.stderr)
    by_step = {}
    final = None
    for line in r.stdout.splitlines():
        m = STEP.match(line)
        if m:
            total, s, c = float(m.group(3)), float(m.group(4)), float(m.group(5))
            # the total is the sum of the terms as printed (7 digits)
            if abs(total - (s + c)) > 1e-5 * abs(total):
                fail("%s: step %s loss %g is not style %g + content %g" % (what, m.group(1),
                                                                             total, s, c))
            by_step[int(m.group(1))] = total
        m = FINAL.match(line)
        if m:
            final = (float(m.group(1)), float(m.group(2)))
    if final is None or 0 not in by_step or steps not in by_step:
        fail("%s: no step 0, step %d or final line in:\n%s" % (what, steps, r.stdout))
    if by_step[0] != final[0] or by_step[steps] != final[1]:
        fail("%s: the final line %s disagrees with the steps %s" % (what, final, by_step))
    return by_step, final


# the default run: 10x lower than the starting picture (the content image)
out = os.path.join(out_dir, "out.png")
r = run(content, style, "--out", out, "--size", "48", "--steps", "150")
steps, (first, last) = losses(r, "default run", 150)
print("default run: loss %g -> %g (%.1fx)" % (first, last, first / last))
if not last * 10 <= first:
    fail("default run lowered its loss %.2fx, less than 10x: %g -> %g" % (first / last, first, last))
if png_size(out) != (48, 36):
    fail("the result is %s, expected 48 x 36 (the content's aspect ratio)" % (png_size(out),))

# L-BFGS, with frames every 20 steps
frames = os.path.join(out_dir, "frames")
r = run(content, style, "--out", os.path.join(out_dir, "lbfgs.png"), "--size", "32", "--steps",
        "40", "--optimizer", "lbfgs", "--every", "20", "--frames", frames)
steps, (first, last) = losses(r, "L-BFGS run", 40)
print("L-BFGS run: loss %g -> %g (%.1fx)" % (first, last, first / last))
if not last * 10 <= first:
    fail("L-BFGS lowered its loss %.2fx, less than 10x" % (first / last))
for k in (20, 40):
    f = os.path.join(frames, "step_%06d.png" % k)
    if not os.path.exists(f) or png_size(f) != (32, 24):
        fail("no 32 x 24 frame " + f)

# a user's CNN (vgg_mini: fixed 32 x 32 input) with named layers
vgg = os.path.join(test_models, "vgg_mini", "model.onnx")
relu = "/features/features.%d/Relu_output_0"
r = run(content, style, "--out", os.path.join(out_dir, "vgg.png"), "--model", vgg,
        "--content-layer", relu % 8, "--style-layers", ",".join(relu % k for k in (1, 3, 6)),
        "--steps", "20")
steps, (first, last) = losses(r, "vgg_mini run", 20)
if not last < first:
    fail("vgg_mini: loss %g -> %g did not go down" % (first, last))
if png_size(os.path.join(out_dir, "vgg.png")) != (32, 32):
    fail("vgg_mini's result is not the model's 32 x 32")

# errors
r = run(content, style, "--model", vgg, "--content-layer", "nope", "--style-layers", relu % 1)
if r.returncode == 0 or "no value named 'nope'" not in r.stderr or relu % 3 not in r.stderr:
    fail("an unknown layer should be refused with the list of values: " + r.stderr)
for args, words in (([content, style, "--optimizer", "sgd"], "adam or lbfgs"),
                    ([content, style, "--model", vgg], "--content-layer"),
                    ([content, style, "--every", "3"], "go together"),
                    ([content, style, "--steps", "0"], "--steps"),
                    ([content, os.path.join(out_dir, "missing.png")], "cannot read")):
    r = run(*args)
    if r.returncode == 0 or words not in r.stderr:
        fail("nncl style %s: expected an error saying '%s', got rc %d: %s"
             % (" ".join(args[2:]), words, r.returncode, r.stderr))
print("cli_style_check: ok")
