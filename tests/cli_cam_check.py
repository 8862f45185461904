"""cli_cam_check.py NNCL MODELS_DIR OUT_DIR: `nncl cam` end to end on models/fashion_cnn.onnx with
a tiny PNG written here: the default class is the one `nncl classify` ranks first, --class picks
another, the output is a PNG of the demo's CAM layout, and an unknown --layer lists the graph's
values. Then a colour and a grey picture model made here: the tensor classify prepares, and cam's
overlay over the picture itself."""
import json
import os
import subprocess
import sys

from png_file import png_size, write_png

nncl, models, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
model = os.path.join(models, "fashion_cnn.onnx")
os.makedirs(out_dir, exist_ok=True)


def fail(msg):
    print("cli_cam_check: " + msg)
    sys.exit(1)


# a dark trouser-like shape on a light 40x40 background (classify inverts it, as the demo does)
W = H = 40
px = []
for y in range(H):
    for x in range(W):
        v = 20 if (8 <= x < 32 and 6 <= y < 36 and not (14 <= x < 26 and y >= 20)) else 240
        px += [v, v, v]
pic = os.path.join(out_dir, "shape.png")
write_png(pic, W, H, px)


def run(*args):
    return subprocess.run([nncl, *args], capture_output=True, text=True, timeout=300)


r = run("classify", model, pic, "--json")
if r.returncode != 0:
    fail("classify failed: " + r.stderr)
top = json.loads(r.stdout)[0]["top"][0]["class"]

out = os.path.join(out_dir, "cam.png")
r = run("cam", model, pic, "--layer", "features", "--out", out)
if r.returncode != 0:
    fail("cam failed: " + r.stdout + r.stderr)
if "class %d " % top not in r.stdout:
    fail("cam explained another class than classify's top %d: %s" % (top, r.stdout))
w, h = png_size(out)
# the demo's CAM picture: image, overlay, map side by side, each 28 pixels drawn 8 times larger
if h < 28 * 8 or w < 3 * 28 * 8:
    fail("%s is %d x %d, expected three 224-pixel tiles side by side" % (out, w, h))

other = (top + 1) % 10
r = run("cam", model, pic, "--layer", "/conv2/Conv_output_0", "--class", str(other), "--out", out)
if r.returncode != 0 or "class %d " % other not in r.stdout or "[14 x 14]" not in r.stdout:
    fail("--class %d at conv2: %s %s" % (other, r.stdout, r.stderr))

r = run("cam", model, pic, "--layer", "no_such_layer", "--out", out)
if r.returncode == 0 or "features (Relu)" not in r.stderr:
    fail("an unknown layer did not list the candidates: " + r.stderr)
r = run("cam", model, pic, "--layer", "features", "--class", "10", "--out", out)
if r.returncode == 0 or "out of range" not in r.stderr:
    fail("class 10 of 10 was accepted: " + r.stdout + r.stderr)

# Pictures for other models (the helper classify and cam share, tools/image_input.c): a colour
# and a grey 8x8 model (Relu -> GlobalAveragePool -> Flatten), an 8x8 picture so stretching is
# the identity; the tensor classify saw (--save-input) must be (pixel / 255 - mean) / std with
# ImageNet's statistics for colour and 0 / 1 for grey, within 1e-6 (float32 rounding of values
# below 3).
def picture_model(path, c):
    import onnx
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c])
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["p"]),
             helper.make_node("Flatten", ["p"], ["y"])]
    graph = helper.make_graph(nodes, "picture", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def saved_input(path):
    import numpy
    return numpy.load(path)


colour = [(x * 29 + y * 7) % 256 for y in range(8) for x in range(8 * 3)]
grey = [v for p in range(64) for v in [(p * 37) % 256] * 3]
mean3, std3 = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
for c, pixels in ((3, colour), (1, grey)):
    m = os.path.join(out_dir, "picture%d.onnx" % c)
    picture_model(m, c)
    p = os.path.join(out_dir, "picture%d.png" % c)
    write_png(p, 8, 8, pixels)
    saved = os.path.join(out_dir, "picture%d.npy" % c)
    r = run("classify", m, p, "--fit", "stretch", "--save-input", saved)
    if r.returncode != 0:
        fail("classify on a %d-channel model: %s %s" % (c, r.stdout, r.stderr))
    got = saved_input(saved)
    if got.shape != (1, c, 8, 8):
        fail("classify saved %s for a [1, %d, 8, 8] model" % (got.shape, c))
    worst = (0.0, None)
    for k in range(c):
        for i in range(64):
            v = pixels[i * 3 + k] / 255.0
            want = (v - mean3[k]) / std3[k] if c == 3 else v
            err = abs(float(got[0, k, i // 8, i % 8]) - want)
            if err > worst[0]:
                worst = (err, (k, i // 8, i % 8, float(got[0, k, i // 8, i % 8]), want))
    if worst[0] > 1e-6:
        fail("%d-channel input: worst element (channel, y, x, got, want) %s" % (c, worst[1]))
    # cam on the same model draws over the picture itself (no Fashion-MNIST tiles)
    r = run("cam", m, p, "--layer", "r", "--out", out)
    if r.returncode != 0 or png_size(out) != (8, 8):
        fail("cam on a %d-channel model: %s %s" % (c, r.stdout, r.stderr))
print("cli_cam_check: ok")
