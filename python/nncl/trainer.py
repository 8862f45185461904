"""trainer.py: nncl.Trainer, training an ONNX model on the device (include/nncl/train.h)."""

import ctypes
import os
import weakref

from . import _lib
from ._arrays import as_c_array, take_c_array
from ._context import shared_context
from .errors import check

L = _lib.lib

# Enum values of nncl_loss_kind and nncl_optimizer_kind (nncl/train.h), by the names PyTorch uses.
LOSSES = {"cross_entropy": 0, "mse": 1}
OPTIMIZERS = {"sgd": 0, "adam": 1, "adamw": 2}


def _release(trainer, ctx):
    with ctx.lock:
        L.nncl_trainer_destroy(trainer)


class Trainer:
    """Trains a model (path or InferenceSession) with PyTorch's update rules.

    loss: 'cross_entropy' (logits [N, C] against int64 labels [N]) or 'mse'. optimizer: 'sgd',
    'adam' or 'adamw'; lr, weight_decay, momentum, dampening, nesterov, betas, eps override
    PyTorch's defaults for it. freeze: initializer names to keep fixed. clip_norm: global
    gradient-norm clipping (0 off). init_seed: Kaiming-uniform initialisation as PyTorch's layers
    do (None keeps the model's weights). The first output of the model is what the loss sees."""

    def __init__(self, session_or_path, loss="cross_entropy", optimizer="sgd", lr=None,
                 weight_decay=None, momentum=None, dampening=None, nesterov=None, betas=None,
                 eps=None, freeze=(), clip_norm=0.0, seed=0, init_seed=None, device=None):
        if loss not in LOSSES:
            raise ValueError("nncl.Trainer: loss must be one of %s" % ", ".join(LOSSES))
        if optimizer not in OPTIMIZERS:
            raise ValueError("nncl.Trainer: optimizer must be one of %s" % ", ".join(OPTIMIZERS))
        self._trainer = None
        if hasattr(session_or_path, "_graph"):  # an InferenceSession: train a copy of its model
            self._ctx = session_or_path._ctx
            self._model_path = session_or_path._model_path
            model, own_model = session_or_path._graph, False
        else:
            self._model_path = os.fspath(session_or_path)
            self._ctx = shared_context(device)
            g = _lib.graph_p()
            with self._ctx.lock:
                check(L.nncl_onnx_load(self._ctx.ptr, self._model_path.encode(), ctypes.byref(g)),
                      self._ctx.ptr)
            model, own_model = g.value, True
        o = _lib.TrainerOptions()
        L.nncl_trainer_options_default(ctypes.byref(o))
        o.loss = LOSSES[loss]
        L.nncl_optimizer_options_default(OPTIMIZERS[optimizer], ctypes.byref(o.optim))
        for name, value in (("lr", lr), ("weight_decay", weight_decay), ("momentum", momentum),
                            ("dampening", dampening), ("eps", eps)):
            if value is not None:
                setattr(o.optim, name, value)
        if nesterov is not None:
            o.optim.nesterov = int(bool(nesterov))
        if betas is not None:
            o.optim.beta1, o.optim.beta2 = betas
        names = [n.encode() for n in freeze]
        frozen = (ctypes.c_char_p * max(1, len(names)))(*names)
        o.freeze, o.n_freeze = ctypes.cast(frozen, ctypes.POINTER(ctypes.c_char_p)), len(names)
        o.clip_norm, o.seed = clip_norm, seed
        t = _lib.trainer_p()
        with self._ctx.lock:
            try:
                check(L.nncl_trainer_create(model, ctypes.byref(o), ctypes.byref(t)), self._ctx.ptr)
            finally:
                if own_model:
                    L.nncl_graph_destroy(model)  # the trainer keeps its own copy
        self._trainer = t.value
        self._finalizer = weakref.finalize(self, _release, self._trainer, self._ctx)
        if init_seed is not None:
            self._call(L.nncl_trainer_init_kaiming, init_seed)

    def _call(self, fn, *args):
        """Calls trainer function fn under the context's lock and raises its error."""
        with self._ctx.lock:
            check(fn(self._trainer, *args), self._ctx.ptr)

    def _xy(self, x, y):
        cx, kx = as_c_array(x)
        cy, ky = as_c_array(y)
        return cx, cy, (kx, ky)

    def step(self, x, y):
        """One optimizer step on batch x with targets y; returns the batch's loss before it."""
        cx, cy, keep = self._xy(x, y)
        loss = ctypes.c_float()
        self._call(L.nncl_trainer_step, ctypes.byref(cx), ctypes.byref(cy), ctypes.byref(loss))
        del keep
        return float(loss.value)

    def evaluate(self, x, y):
        """(loss, correct) with the current parameters, no update; correct counts arg-max hits
        for cross-entropy (0 for MSE)."""
        cx, cy, keep = self._xy(x, y)
        loss, correct = ctypes.c_float(), ctypes.c_int64()
        self._call(L.nncl_trainer_evaluate, ctypes.byref(cx), ctypes.byref(cy), ctypes.byref(loss),
                   ctypes.byref(correct))
        del keep
        return float(loss.value), int(correct.value)

    @property
    def steps(self):
        return int(L.nncl_trainer_steps(self._trainer))

    @property
    def lr(self):
        raise AttributeError("nncl.Trainer.lr is write-only (the C trainer does not report it)")

    @lr.setter
    def lr(self, value):
        L.nncl_trainer_set_lr(self._trainer, float(value))

    def parameters(self):
        """{name: ndarray} copies of the trainable parameters."""
        out = {}
        for i in range(L.nncl_trainer_num_params(self._trainer)):
            c = _lib.Array()
            self._call(L.nncl_trainer_get_param, i, ctypes.byref(c))
            out[_lib.text(L.nncl_trainer_param_name(self._trainer, i))] = take_c_array(c)
        return out

    def set_parameter(self, name, value):
        for i in range(L.nncl_trainer_num_params(self._trainer)):
            if _lib.text(L.nncl_trainer_param_name(self._trainer, i)) == name:
                c, keep = as_c_array(value)
                self._call(L.nncl_trainer_set_param, i, ctypes.byref(c))
                return
        raise KeyError("nncl.Trainer: no trainable parameter named %r" % name)

    def save(self, path):
        """Writes the trained model as ONNX (the source model with the trained weights)."""
        if not self._model_path:
            raise ValueError("nncl.Trainer.save: the model came from bytes; train from a path")
        self._call(L.nncl_trainer_save_onnx, self._model_path.encode(), os.fspath(path).encode())

    def save_checkpoint(self, path):
        self._call(L.nncl_trainer_save_checkpoint, os.fspath(path).encode())

    def load_checkpoint(self, path):
        self._call(L.nncl_trainer_load_checkpoint, os.fspath(path).encode())

    def close(self):
        if self._trainer is not None:
            self._finalizer()
            self._trainer = None
