"""onnx_folders.py: runs an ONNX test folder (model.onnx, test_data_set_N/{input,output}_K.pb)
through nncl.InferenceSession and compares every output with the stored one."""

import pathlib

import nncl
from compare import assert_close


def read_set(data_set, prefix):
    files = sorted(data_set.glob(prefix + "_*.pb"), key=lambda p: int(p.stem.split("_")[-1]))
    return [nncl.load_tensor(p) for p in files]


def check_folder(folder):
    """Runs every data set of `folder`; returns the dtypes of the inputs and outputs seen."""
    folder = pathlib.Path(folder)
    sess = nncl.InferenceSession(str(folder / "model.onnx"))
    ins, outs = sess.get_inputs(), sess.get_outputs()
    dtypes = set()
    sets = sorted(folder.glob("test_data_set_*"))
    assert sets, "%s has no test_data_set_*" % folder
    for data_set in sets:
        inputs = read_set(data_set, "input")
        wants = read_set(data_set, "output")
        # A stored tensor names its input; unnamed ones follow the model's order.
        feeds = {(name or ins[k].name): a for k, (name, a) in enumerate(inputs)}
        gots = sess.run([o.name for o in outs[: len(wants)]], feeds)
        for k, ((_, want), got) in enumerate(zip(wants, gots)):
            what = "%s/%s output %d (%s)" % (folder.name, data_set.name, k, outs[k].name)
            assert_close(got, want, what)
        dtypes |= {a.dtype for _, a in inputs} | {a.dtype for a in gots}
    sess.close()
    return dtypes
