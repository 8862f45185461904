"""test_trainer.py: nncl.Trainer against PyTorch on the C trainer's fixtures (tests/data/train,
tools/make_train_fixtures.py): three steps of SGD (momentum, weight decay) and of Adam on the
small CNN give PyTorch's parameters; the saved ONNX model holds them; checkpoints resume.
Tolerance as the C test's: 1e-4 relative + 2e-6 absolute on parameters (float32 with other
summation orders, carried through three steps; a wrong rule moves them by 1e-3 or more)."""

import numpy as np
import pytest

import nncl
from compare import assert_close
from conftest import REPO

TRAIN = REPO / "tests" / "data" / "train"
MODEL = str(TRAIN / "small_cnn.onnx")
X, Y = np.load(TRAIN / "x.npy"), np.load(TRAIN / "y.npy")


def batch(b):
    return X[8 * b : 8 * b + 8], Y[8 * b : 8 * b + 8]


@pytest.mark.parametrize("prefix, kwargs", [
    ("sgd", dict(optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=5e-4)),
    ("adam", dict(optimizer="adam", lr=0.01, weight_decay=1e-4)),
    ("adamw", dict(optimizer="adamw", lr=0.01, weight_decay=0.05)),
])
def test_three_steps_match_pytorch(prefix, kwargs):
    t = nncl.Trainer(MODEL, loss="cross_entropy", **kwargs)
    losses = [t.step(*batch(b)) for b in range(3)]
    # PyTorch's first-batch loss, printed by the fixture script (the C test checks the same).
    assert abs(losses[0] - 1.580195) < 2e-6, losses
    assert t.steps == 3
    params = t.parameters()
    assert len(params) == 6
    for name, got in params.items():
        assert_close(got, np.load(TRAIN / ("%s.%s.npy" % (prefix, name))), "%s %s" % (prefix, name),
                     rtol=1e-4, atol=2e-6)


def cross_entropy(logits, labels):
    z = logits.astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


def test_evaluate_save_and_checkpoint(tmp_path):
    t = nncl.Trainer(MODEL, optimizer="sgd", lr=0.1, momentum=0.9)
    t.step(*batch(0))
    loss, correct = t.evaluate(*batch(1))
    # The saved model, run by a session, gives logits whose cross-entropy (NumPy, float64) is the
    # trainer's loss: 1e-5 relative covers the float32 softmax.
    t.save(tmp_path / "trained.onnx")
    s = nncl.InferenceSession(str(tmp_path / "trained.onnx"))
    x1, y1 = batch(1)
    (logits,) = s.run([s.get_outputs()[0].name], {s.get_inputs()[0].name: x1})
    assert cross_entropy(logits, y1) == pytest.approx(loss, rel=1e-5)
    assert correct == int((logits.argmax(axis=1) == y1).sum())
    # A checkpoint taken now resumes to the same next step.
    t.save_checkpoint(tmp_path / "ckpt")
    after = t.step(*batch(2))
    u = nncl.Trainer(MODEL, optimizer="sgd", lr=0.1, momentum=0.9)
    u.load_checkpoint(tmp_path / "ckpt")
    assert u.step(*batch(2)) == pytest.approx(after, rel=1e-6)


def test_trainer_errors():
    with pytest.raises(ValueError):
        nncl.Trainer(MODEL, loss="hinge")
    with pytest.raises(nncl.NotFoundError) as e:
        nncl.Trainer(MODEL, freeze=["no_such_weight"])
    assert "no_such_weight" in str(e.value)
    t = nncl.Trainer(MODEL)
    x, y = batch(0)
    with pytest.raises(nncl.InvalidArgumentError) as e:
        t.step(x, np.full_like(y, 99))  # the model has 5 classes
    assert "label 99" in str(e.value)
