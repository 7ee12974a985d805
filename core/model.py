"""Sequential: a list of layers that builds itself from an input shape and trains.

``fit`` reports to callbacks (the GUI worker and the CLI progress line are
two of them), stops a diverging run with weights no worse than its start
(``divergence``), and returns a ``History``.
"""
import contextlib
import copy
import dataclasses
import functools
import math

import numpy as np

from . import losses as losses_mod
from . import optimizers as optimizers_mod
from . import saving, schedules
from .callbacks import CallbackList, History, ProgressLine
from .divergence import DivergenceGuard
from .errors import ShapeError, TrainingError
from .layers import Softmax, Sigmoid, from_config, to_entry
from .layers.activations import softmax
from .layers.base import fmt_shape
from .layers.dense import ParamLayer


class Sequential:
    def __init__(self, layers=None, input_shape=None, seed=None):
        self.layers = list(layers or [])
        self.input_shape = None
        self.seed = seed
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self.meta = {}            # class names, preprocessing, dataset, metrics: saved in model.json
        self.train_history = {}   # every epoch this model has trained, across fits
        if input_shape is not None:
            self.build(input_shape)

    # ----- construction -----------------------------------------------------
    def add(self, layer):
        self.layers.append(layer)
        if self.input_shape is not None:
            self.build(self.input_shape)

    def build(self, input_shape):
        """Infer every layer's shape and create its parameters; ShapeError names the culprit."""
        shape = tuple(int(d) for d in input_shape)
        if not shape or any(d < 1 for d in shape):
            raise ShapeError(f"input_shape must be positive sizes like (1, 28, 28), got {input_shape}")
        self.input_shape = shape
        trainable_before = False  # only then is a layer's input gradient of any use
        for i, layer in enumerate(self.layers):
            layer.index = i + 1
            layer.need_input_grad = trainable_before
            if getattr(layer, "seed", 0) is None and self.seed is not None:
                layer.rng = np.random.default_rng([self.seed, i])
            if isinstance(layer, ParamLayer):
                layer.meet(self.layers[i + 1:], redraw=self.optimizer is None)   # uncompiled: untrained
            shape = layer.build(shape)
            trainable_before = trainable_before or bool(layer.params)
        return shape

    @property
    def output_shape(self):
        return self.layers[-1].output_shape if self.layers else self.input_shape

    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)

    def summary(self):
        """A table of layers, output shapes and parameter counts, with the total."""
        self._require_built()
        rows = [(layer.name, fmt_shape(layer.output_shape), f"{layer.count_params():,}") for layer in self.layers]
        rows.insert(0, ("Input", fmt_shape(self.input_shape), ""))
        w = [max(len(r[i]) for r in rows + [("Layer", "Output shape", "Params")]) for i in range(3)]
        line = "-" * (w[0] + w[1] + w[2] + 6)
        out = [f"{'Layer':<{w[0]}}   {'Output shape':<{w[1]}}   {'Params':>{w[2]}}", line]
        out += [f"{a:<{w[0]}}   {b:<{w[1]}}   {c:>{w[2]}}" for a, b, c in rows]
        out += [line, f"Total params: {self.count_params():,}"]
        return "\n".join(out)

    def get_config(self):
        return {"input_shape": list(self.input_shape) if self.input_shape else None,
                "layers": [to_entry(layer) for layer in self.layers]}

    def save(self, path):
        """Save to a folder (model.json + weights.npz); see ``saving``.

        Writes only where ``path`` is absent, an empty folder or a saved model,
        which it replaces with a loadable model there at every instant; any
        failure is a ModelFileError and leaves what was there.
        """
        return saving.save_model(self, path)

    @classmethod
    def from_config(cls, config, seed=None):
        layers = [from_config(entry) for entry in config["layers"]]
        return cls(layers, input_shape=config.get("input_shape"), seed=seed)

    # ----- weights ----------------------------------------------------------
    def get_weights(self):
        """Every parameter and buffer, keyed 'position.name' (position from 0)."""
        out = {}
        for i, layer in enumerate(self.layers):
            for name, arr in {**layer.params, **layer.buffers}.items():
                out[f"{i}.{name}"] = arr
        return out

    def set_weights(self, weights):
        """Copy arrays in place; refuses missing keys and wrong shapes, naming them."""
        current = self.get_weights()
        check_weight_shapes(self.layers, {k: v.shape for k, v in current.items()},
                            {k: np.shape(v) for k, v in weights.items()})
        for key, arr in current.items():
            np.copyto(arr, weights[key], casting="same_kind")

    def copy(self):
        """An independent model with the same architecture, weights and metadata.

        The GUI gives copies to views, so nothing reads a model while it trains.
        """
        twin = Sequential.from_config(self.get_config())
        twin.set_weights(self.get_weights())
        twin.meta = copy.deepcopy(self.meta)
        twin.train_history = {k: list(v) for k, v in self.train_history.items()}
        return twin

    # ----- running ----------------------------------------------------------
    def compile(self, optimizer="sgd", loss="crossentropy"):
        if isinstance(optimizer, str):
            optimizer = optimizers_mod.from_config({"type": optimizer})
        self.optimizer = optimizer
        self.loss = losses_mod.get(loss)

    # ----- what the network ends in ------------------------------------------
    @property
    def output_activation(self):
        """The Softmax or Sigmoid the network ends in, as a layer or fused into the last one; else None.

        The one answer to "what does the network end in?": training fuses a final
        softmax with CrossEntropy, ``predict`` knows its outputs are probabilities,
        ``core.inspect`` takes class scores before it, Feature maps draws it as bars.
        """
        last = self.layers[-1] if self.layers else None
        act = last if isinstance(last, (Softmax, Sigmoid)) else getattr(last, "act", None)
        return act if isinstance(act, (Softmax, Sigmoid)) else None

    def logits_path(self):
        """(body, head) giving the scores before ``output_activation``: ``body`` run whole, then
        ``head.linear_forward`` when the activation is fused into ``head`` (else head is None).
        Without an output activation the scores are the outputs: every layer, no head."""
        if self.output_activation is None:
            return self.layers, None
        *body, last = self.layers
        return body, (None if last is self.output_activation else last)

    def scores(self, x, training=False):
        """Class scores of a batch: the logits before a final softmax or sigmoid, else the outputs."""
        return _forward_path(*self.logits_path(), x, training)

    def backward_scores(self, grad):
        """Backpropagate d/d ``scores`` through their path; returns d/d input (None if no layer needs it)."""
        return _backward_path(*self.logits_path(), grad)

    def _loss_path(self):
        """The path to what the loss takes: CrossEntropy takes logits, so a final softmax is skipped
        and (p - y) flows back; any other loss takes the outputs."""
        fused = getattr(self.loss, "fuses_softmax", False) and isinstance(self.output_activation, Softmax)
        return self.logits_path() if fused else (self.layers, None)

    def forward(self, x, training=False):
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, grad):
        """Backpropagate ``grad`` (of the output) through every layer; returns d/d input."""
        with self.input_gradients():
            for layer in reversed(self.layers):
                grad = layer.backward(grad)
        return grad

    @contextlib.contextmanager
    def input_gradients(self):
        """Within it, every layer's backward returns d/d its input.

        Training skips that work in the layers before the first parameter, whose
        input gradient nothing uses; a saliency map needs it all the way down.
        """
        saved = [layer.need_input_grad for layer in self.layers]
        for layer in self.layers:
            layer.need_input_grad = True
        try:
            yield self
        finally:
            for layer, need in zip(self.layers, saved):
                layer.need_input_grad = need

    def _forward_logits(self, x, training):
        return _forward_path(*self._loss_path(), x, training)

    def _backward_logits(self, grad):
        _backward_path(*self._loss_path(), grad)

    def _slots(self):
        return [((i, name), name, p, layer.grads[name])
                for i, layer in enumerate(self.layers) for name, p in layer.params.items()]

    def train_step(self, x, y, before_update=None):
        """One batch: forward, loss, backward, update. Returns (loss, accuracy).

        ``before_update(loss, outputs, y)`` runs while the weights are still the
        ones that gave the loss; when it returns False the update is skipped
        (the divergence guard's veto). Without it, a non-finite loss is skipped.
        """
        out = self._forward_logits(x, training=True)
        loss, grad = self.loss.value_and_grad(out, y)
        acc = accuracy(out, y)
        go_on = before_update(loss, out, y) if before_update is not None else math.isfinite(loss)
        if go_on:
            self._backward_logits(grad)
            self.optimizer.step(self._slots())
        return loss, acc

    def _batches(self, x, batch_size):
        for i in range(0, len(x), batch_size):
            yield i, x[i:i + batch_size]

    def predict(self, x, batch_size=256):
        """Class probabilities (N, classes), float32, whatever the last layer is."""
        x = self._check_input(x, "predict")
        out = np.empty((len(x), *self.output_shape), np.float32)
        for i, xb in self._batches(x, batch_size):
            out[i:i + len(xb)] = self.forward(xb)
        return out if self.output_activation is not None or out.ndim != 2 else softmax(out)

    def evaluate(self, x, y, batch_size=256):
        """Mean loss and accuracy over (x, y), in inference mode."""
        self._require_compiled()
        x, y = self._check_data(x, y, "evaluate")
        total_loss = total_acc = 0.0
        for i, xb in self._batches(x, batch_size):
            yb = y[i:i + len(xb)]
            out = self._forward_logits(xb, training=False)
            total_loss += self.loss.value(out, yb) * len(xb)
            total_acc += accuracy(out, yb) * len(xb)
        return {"loss": total_loss / len(x), "accuracy": total_acc / len(x)}

    def fit(self, x, y, epochs=1, batch_size=32, validation_data=None, callbacks=None, shuffle=True,
            seed=None, lr_schedule=None, augment=None, initial_epoch=0, verbose=False):
        """Train epochs ``initial_epoch`` .. ``epochs - 1`` (Keras's meaning); returns a History.

        ``History.stop_reason`` says why training stopped early, if it did.
        ``augment(x_batch, rng) -> x_batch`` transforms each training batch.
        ``lr_schedule`` is a Schedule or a name ('step', 'exponential', 'cosine');
        it spans this run: the typed rate at ``initial_epoch``, its end at the
        last epoch, whatever the model trained before.
        """
        self._require_compiled()
        x, y = self._check_data(x, y, "fit")
        if batch_size < 1 or epochs < 0:
            raise ValueError(f"batch_size must be >= 1 and epochs >= 0, got {batch_size}, {epochs}")
        if not 0 <= initial_epoch <= epochs:
            raise ValueError(f"fit trains epochs initial_epoch..epochs-1, as Keras: initial_epoch={initial_epoch} "
                             f"must be in [0, epochs={epochs}] (to train n more epochs, pass "
                             f"epochs=initial_epoch + n)")
        if validation_data is not None:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                raise ValueError(f"validation_data must be a pair (x, y), got {type(validation_data).__name__} "
                                 f"{validation_data!r:.60}")
            validation_data = self._check_data(*validation_data, "validation_data")
        rng = np.random.default_rng(seed)
        if seed is not None:
            for layer in self.layers:
                if hasattr(layer, "rng") and not isinstance(layer, ParamLayer):
                    layer.rng = np.random.default_rng(rng.integers(1 << 63))
        run = _Run(initial_epoch, math.ceil(len(x) / batch_size), batch_size,
                   schedules.get(lr_schedule, epochs - initial_epoch) if epochs > initial_epoch else None)
        params = {"epochs": epochs, "steps": run.steps, "samples": len(x), "batch_size": batch_size,
                  "initial_epoch": initial_epoch, "seed": seed, "schedule": run.schedule, "augment": augment,
                  "validation_samples": len(validation_data[0]) if validation_data is not None else 0}
        cbs = CallbackList(list(callbacks or []) + ([ProgressLine()] if verbose else []), self, params)
        history = History()
        guard = DivergenceGuard(self, x, y)
        self.stop_training = False
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported by the guard instead
                logs = self._fit_epoch(x, y, epoch, run, rng, shuffle, augment, cbs, guard)
            if logs is None:   # diverged on the epoch's first batch: nothing to report for it
                break
            with np.errstate(over="ignore", invalid="ignore"):
                guard.check_last_update()   # before validation, so its figures are those of the weights kept
            self.stop_training = self.stop_training or guard.tripped
            if validation_data is not None:
                val = self.evaluate(*validation_data)
                logs.update(val_loss=val["loss"], val_accuracy=val["accuracy"])
            history.record(epoch, logs)
            for k, v in logs.items():
                self.train_history.setdefault(k, []).append(v)
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        history.diverged = guard.reason is not None
        stopped = "stopped on request (model.stop_training)" if self.stop_training else None
        history.stop_reason = guard.reason or stopped
        self.optimizer.lr = self.optimizer.base_lr
        cbs.on_train_end({"stop_reason": history.stop_reason, "diverged": history.diverged})
        return history

    def _fit_epoch(self, x, y, epoch, run, rng, shuffle, augment, cbs, guard):
        cbs.on_epoch_begin(epoch)
        order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
        total_loss = total_acc = 0.0
        seen = 0
        for b in range(run.steps):
            if run.schedule is not None:
                self.optimizer.lr = self.optimizer.base_lr * run.schedule.factor(run.progress(epoch, b))
            idx = order[b * run.batch_size:(b + 1) * run.batch_size]
            xb, yb = x[idx], y[idx]
            if augment is not None:
                xb = augment(xb, rng)
            cbs.on_batch_begin(b)
            loss, acc = self.train_step(xb, yb, before_update=functools.partial(guard.check, where=(epoch, b)))
            if guard.tripped:
                guard.restore(loss, epoch, b)
                self.stop_training = True
                break
            guard.last = xb, yb, (epoch, b)
            total_loss += loss * len(idx)
            total_acc += acc * len(idx)
            seen += len(idx)
            cbs.on_batch_end(b, {"loss": loss, "accuracy": acc, "size": len(idx), "lr": self.optimizer.lr})
            if self.stop_training:
                break
        if not seen:
            return None
        return {"loss": total_loss / seen, "accuracy": total_acc / seen, "lr": self.optimizer.lr}

    # ----- checks -----------------------------------------------------------
    def _require_built(self):
        if self.input_shape is None:
            raise TrainingError("the model has no input shape yet: pass input_shape= to Sequential")

    def _require_compiled(self):
        self._require_built()
        if self.optimizer is None or self.loss is None:
            raise TrainingError("call compile(optimizer=..., loss=...) before fit or evaluate")

    def _check_input(self, x, what):
        self._require_built()
        x = np.asarray(x)
        if x.ndim == len(self.input_shape) and len(self.input_shape) == 3 and self.input_shape[0] == 1:
            x = x[:, None]  # (N, H, W) grey images
        if x.shape[1:] != self.input_shape:
            raise ShapeError(f"{what}: expected input of shape {fmt_shape(('N', *self.input_shape))}, "
                             f"got {fmt_shape(x.shape)}")
        return x.astype(np.float32, copy=False)

    def _check_data(self, x, y, what):
        """(x, y) as float32 inputs and labels, refusing what would give wrong numbers with no
        warning: no samples, NaN or infinite pixels (the guard would blame the learning rate),
        fractional labels."""
        x = self._check_input(x, what)
        if len(x) == 0:
            raise ValueError(f"{what}: no samples (x is empty)")
        if not np.isfinite(x).all():
            raise ValueError(f"{what}: x holds NaN or infinite values (first in sample {_first_nonfinite(x)}); "
                             f"clean the data")
        return x, self._check_labels(y, len(x), what)

    def _check_labels(self, y, n, what="y"):
        """Class indices (N,) as int64, or one-hot/soft rows (N, K) as float32."""
        y = np.asarray(y)
        if len(y) != n:
            raise ValueError(f"x and y have different lengths: {n} inputs but {len(y)} labels")
        if y.dtype.kind not in "biuf":
            raise ValueError(f"{what}: labels must be numbers (class indices or one-hot rows), got dtype {y.dtype}")
        if y.ndim != 1:
            if not np.isfinite(y).all():
                raise ValueError(f"{what}: label row {_first_nonfinite(y)} holds NaN or infinite values")
            return y.astype(np.float32, copy=False)
        if y.dtype.kind == "f":
            bad = ~np.isfinite(y) | (y != np.round(y))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"{what}: labels must be whole class indices, but label {i} is {float(y[i])}")
        return y.astype(np.int64, copy=False)


def _forward_path(body, head, x, training):
    """Run ``body`` whole, then ``head`` without its activation (see ``Sequential.logits_path``)."""
    for layer in body:
        x = layer.forward(x, training)
    return x if head is None else head.linear_forward(x)


def _backward_path(body, head, grad):
    """Backpropagate through ``_forward_path``'s path; stops where no layer below needs the gradient."""
    if head is not None:
        grad = head.linear_backward(grad)
    for layer in reversed(body):
        if grad is None:  # nothing below needs it (see ``input_gradients``)
            break
        grad = layer.backward(grad)
    return grad


def _first_nonfinite(a):
    """Index of the first sample (along axis 0) holding a NaN or an infinity."""
    return int(np.flatnonzero(~np.isfinite(a.reshape(len(a), -1)).all(axis=1))[0])


@dataclasses.dataclass(frozen=True)
class _Run:
    """What one ``fit`` fixes at its start: its first epoch, batches per epoch, batch size, schedule."""
    initial_epoch: int
    steps: int
    batch_size: int
    schedule: object

    def progress(self, epoch, batch):
        """Epochs into this run, fractional within one: a schedule counts from the run's start,
        not from the model's first epoch, so a continued model starts at the typed rate."""
        return epoch - self.initial_epoch + batch / self.steps


def check_weight_shapes(layers, expected, given):
    """ShapeError unless ``given`` ({'position.name': shape}) has exactly the ``expected`` keys and shapes."""
    missing = sorted(set(expected) - set(given))
    extra = sorted(set(given) - set(expected))
    if missing or extra:
        raise ShapeError(f"weights do not match the architecture: missing {missing or 'none'}, "
                         f"unexpected {extra or 'none'}")
    for key, shape in expected.items():
        if tuple(given[key]) != tuple(shape):
            position, name = key.split(".", 1)
            layer = layers[int(position)]
            raise ShapeError(f"{layer.name} {name}: saved shape {fmt_shape(given[key])} but the architecture needs "
                             f"{fmt_shape(shape)}", layer_index=layer.index)


def accuracy(out, y):
    """Fraction of rows whose top output is the label (index or one-hot)."""
    labels = y if y.ndim == 1 else y.argmax(axis=1)
    return float((out.argmax(axis=1) == labels).mean())
