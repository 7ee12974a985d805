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
from .layers.base import ParamLayer


class Sequential:
    """A stack of layers, each feeding the next: builds itself from an input shape, trains and predicts.

    Given ``input_shape``, every layer's output shape is inferred and its
    parameters created at once, so a layer that does not fit raises a
    ``ShapeError`` naming it before any data is seen. Arrays are NCHW and
    float32 end to end.

    Args:
        layers: the layers, in order (``core.layers``); more can be added with ``add``.
        input_shape: the shape of one sample without the batch axis, e.g. (1, 28, 28) for MNIST or
            (784,) for flat vectors. None builds nothing until ``build`` is called.
        seed: seeds the initial weights of every layer without a seed of its own (the same seed gives
            the same weights bit for bit); None draws fresh ones.

    Attributes:
        layers: the layer objects, in order.
        input_shape: one sample's shape, without the batch axis (``output_shape`` likewise).
        optimizer: set by ``compile``, with ``loss``.
        stop_training: a callback sets it to True to stop ``fit`` after the current batch.
        meta: class names, preprocessing, dataset and metrics, saved in model.json.
        train_history: every epoch's metrics this model has trained, across fits.

    Raises:
        ShapeError: ``input_shape`` is not positive sizes, or a layer cannot take its input
            (the message names the layer and its position).

    Example:
        >>> from core import Sequential
        >>> from core.layers import Conv2D, Dense, Flatten, MaxPool2D, Softmax
        >>> model = Sequential([Conv2D(8, 3, activation="relu"), MaxPool2D(2), Flatten(),
        ...                     Dense(10), Softmax()], input_shape=(1, 28, 28), seed=0)
        >>> model.output_shape
        (10,)
        >>> model.count_params()
        13610
    """

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
        """Append ``layer``; a built model builds it at once, so a layer that does not fit fails here.

        Args:
            layer: a layer instance (``core.layers``).

        Raises:
            ShapeError: the layer cannot take the current output shape.
        """
        self.layers.append(layer)
        if self.input_shape is not None:
            self.build(self.input_shape)

    def build(self, input_shape):
        """Infer every layer's shape and create its parameters; ShapeError names the culprit.

        Weights a layer already holds with the right shapes are kept.

        Args:
            input_shape: one sample's shape without the batch axis, e.g. (1, 28, 28).

        Returns:
            The output shape of the last layer.

        Raises:
            ShapeError: a size that is not positive, or a layer that cannot take its input.
        """
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
        """The last layer's output shape without the batch axis (the input shape for no layers)."""
        return self.layers[-1].output_shape if self.layers else self.input_shape

    def count_params(self):
        """Number of trainable values in every layer (BatchNorm's running statistics excluded)."""
        return sum(layer.count_params() for layer in self.layers)

    def summary(self):
        """A table of layers, output shapes and parameter counts, with the total.

        Returns:
            The table as one string, ready to print.

        Raises:
            TrainingError: the model has no input shape yet.
        """
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
        """The architecture as plain data: ``{"input_shape": [...], "layers": [{"type", "config"}, ...]}``.

        ``Sequential.from_config(model.get_config())`` builds the same network (with new weights).
        """
        return {"input_shape": list(self.input_shape) if self.input_shape else None,
                "layers": [to_entry(layer) for layer in self.layers]}

    def save(self, path):
        """Save to a folder (model.json + weights.npz); see ``saving``.

        Writes only where ``path`` is absent, an empty folder or a saved model,
        which it replaces with a loadable model there at every instant; any
        failure is a ModelFileError and leaves what was there.

        Args:
            path: the folder to write (a str or a path).

        Raises:
            ModelFileError: the path holds something else, or writing failed (nothing is left half-written).
        """
        return saving.save_model(self, path)

    @classmethod
    def from_config(cls, config, seed=None):
        """A new model from ``get_config``'s output (model.json's architecture).

        Args:
            config: ``{"input_shape": [...], "layers": [{"type": ..., "config": {...}}, ...]}``.
            seed: seeds the new weights, as ``Sequential(seed=)`` does.

        Raises:
            ValueError: an unknown layer type or argument.
            ShapeError: layers that do not fit.
        """
        layers = [from_config(entry) for entry in config["layers"]]
        return cls(layers, input_shape=config.get("input_shape"), seed=seed)

    # ----- weights ----------------------------------------------------------
    def get_weights(self):
        """Every parameter and buffer, keyed 'position.name' (position from 0).

        Returns:
            ``{"0.W": array, "0.b": array, ...}``: the model's own arrays, not copies.
        """
        out = {}
        for i, layer in enumerate(self.layers):
            for name, arr in {**layer.params, **layer.buffers}.items():
                out[f"{i}.{name}"] = arr
        return out

    def set_weights(self, weights):
        """Copy arrays in place; refuses missing keys and wrong shapes, naming them.

        Args:
            weights: ``{"position.name": array}`` as ``get_weights`` gives, every key present.

        Raises:
            ShapeError: a key missing or unexpected, or an array of another shape (the layer is named).
        """
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
        """Choose how ``fit`` trains: the optimizer and the loss.

        Args:
            optimizer: an optimizer (``core.optimizers``) or its name ("sgd", "adam", "adagrad",
                "adadelta", "rmsprop") with its default settings.
            loss: a loss (``core.losses``) or its name ("crossentropy", "mse").

        Raises:
            ValueError: an unknown optimizer or loss name.

        Example:
            >>> from core.optimizers import SGD
            >>> model.compile(optimizer=SGD(lr=0.05, momentum=0.9), loss="crossentropy")
        """
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
        """Class scores of a batch: the logits before a final softmax or sigmoid, else the outputs.

        Args:
            x: a float32 batch of the input shape.
            training: run Dropout and BatchNorm as in training.
        """
        return _forward_path(*self.logits_path(), x, training)

    def backward_scores(self, grad):
        """Backpropagate d/d ``scores`` through their path; returns d/d input (None if no layer needs it).

        Args:
            grad: the gradient with respect to the last ``scores`` call's output.
        """
        return _backward_path(*self.logits_path(), grad)

    def _loss_path(self):
        """The path to what the loss takes: CrossEntropy takes logits, so a final softmax is skipped
        and (p - y) flows back; any other loss takes the outputs."""
        fused = getattr(self.loss, "fuses_softmax", False) and isinstance(self.output_activation, Softmax)
        return self.logits_path() if fused else (self.layers, None)

    def forward(self, x, training=False):
        """Run a batch through every layer, as they are (no input check, no batching).

        Args:
            x: a float32 batch of the input shape, batch axis first.
            training: True runs Dropout and BatchNorm as in training.

        Returns:
            The last layer's output for the batch.
        """
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, grad):
        """Backpropagate ``grad`` (of the output) through every layer; returns d/d input.

        Args:
            grad: the gradient with respect to the last ``forward``'s output, same shape.
        """
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

        Args:
            x: a float32 batch (N, *input_shape).
            y: its labels, class indices (N,) or one-hot (N, K).
            before_update: the veto above, or None.

        Returns:
            (loss, accuracy) of the batch before the update, as floats.
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
        """Class probabilities (N, classes), float32, whatever the last layer is.

        The outputs of a final Softmax or Sigmoid as they are; raw (N, K)
        outputs go through a softmax. A temperature in ``meta["temperature"]``
        divides the class scores first. Inference mode: Dropout off, BatchNorm
        on its running statistics.

        Args:
            x: images (N, C, H, W), or (N, H, W) for a one-channel model, in [0, 1]; any float or int
                dtype (computed in float32).
            batch_size: samples per forward pass (memory, not results).

        Returns:
            A float32 array (N, *output_shape).

        Raises:
            ShapeError: ``x`` does not match the input shape (expected and received are quoted).
        """
        x = self._check_input(x, "predict")
        t = self.meta.get("temperature", 1)     # core.surgery.set_temperature
        out = np.empty((len(x), *self.output_shape), np.float32)
        for i, xb in self._batches(x, batch_size):
            out[i:i + len(xb)] = self.forward(xb) if t == 1 else self.scores(xb) / t
        if t != 1 and self.output_activation is not None:
            return self.output_activation.forward(out)
        return out if self.output_activation is not None or out.ndim != 2 else softmax(out)

    def evaluate(self, x, y, batch_size=256):
        """Mean loss and accuracy over (x, y), in inference mode.

        Args:
            x: images as ``predict`` takes them.
            y: labels, class indices (N,) or one-hot (N, K).
            batch_size: samples per forward pass (memory, not results).

        Returns:
            ``{"loss": float, "accuracy": float}``, accuracy in [0, 1].

        Raises:
            TrainingError: the model is not compiled.
            ShapeError: ``x`` does not match the input shape, or labels do not fit the outputs.
            ValueError: lengths that differ, no samples, NaN pixels, labels that are not class indices.
        """
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

        Each epoch visits every sample once, in batches, in an order shuffled
        afresh each epoch. A loss that becomes NaN or infinite, or explodes far
        above its running level, stops training with the reason in
        ``History.stop_reason`` and weights restored to ones whose loss was sane.

        Args:
            x: training images, float32 (N, C, H, W) in [0, 1], or (N, H, W) for a one-channel
                model; other numeric dtypes are converted to float32 (scale uint8 pixels to [0, 1]
                first). NaN or infinite pixels are refused.
            y: labels, one per image: int class indices (N,) in [0, K), or one-hot (or soft) float
                rows (N, K) for K outputs.
            epochs: the epoch to stop before: trains epochs ``initial_epoch`` .. ``epochs - 1``
                (so ``epochs`` more epochs from 0). To train n more, pass ``epochs=initial_epoch + n``.
            batch_size: samples per update; the last batch of an epoch may be smaller.
            validation_data: a pair (x_val, y_val), evaluated after each epoch in inference mode;
                its loss and accuracy join the logs as ``val_loss`` and ``val_accuracy``.
            callbacks: ``core.callbacks.Callback`` objects. Each gets ``on_train_begin()``,
                ``on_epoch_begin(epoch)``, ``on_batch_begin(batch)``, ``on_batch_end(batch, logs)``
                (loss, accuracy, size, lr of that batch), ``on_epoch_end(epoch, logs)`` (loss,
                accuracy, lr, and val_loss, val_accuracy with validation data) and
                ``on_train_end(logs)`` (stop_reason). ``callback.model.stop_training = True``
                stops after the current batch.
            shuffle: reshuffle the samples each epoch (False keeps their order).
            seed: seeds the shuffling, augmentation and dropout masks of this fit; with the model's
                own ``seed`` (its initial weights), a run repeats bit for bit. None draws fresh ones.
            lr_schedule: a ``core.schedules.Schedule`` or a name ("step", "exponential", "cosine");
                it spans this run: the typed rate at ``initial_epoch``, its end at the last epoch,
                whatever the model trained before. None keeps the optimizer's rate.
            augment: ``augment(x_batch, rng) -> x_batch`` transforms each training batch
                (``core.augment``), or None.
            initial_epoch: the first epoch to train (for continuing a saved model).
            verbose: True prints one live progress line per epoch to stderr.

        Returns:
            A ``History``: ``history.history`` maps "loss", "accuracy", "lr" (and "val_loss",
            "val_accuracy") to one value per epoch trained; ``history.epoch`` lists the epochs;
            ``history.stop_reason`` says why training stopped early (None if it did not).

        Raises:
            TrainingError: the model is not compiled.
            ShapeError: ``x`` does not match the input shape, or labels do not fit the outputs.
            ValueError: x and y of different lengths, no samples, NaN pixels, fractional labels,
                ``batch_size`` < 1, ``initial_epoch`` outside [0, epochs], or a malformed
                ``validation_data``.

        Example:
            >>> from core import datasets
            >>> data = datasets.load("mnist")
            >>> model.compile("adam", "crossentropy")
            >>> history = model.fit(data.x_train, data.y_train, epochs=2, batch_size=128, seed=0,
            ...                     validation_data=(data.x_test, data.y_test))
            >>> history.epoch, sorted(history.history)
            ([0, 1], ['accuracy', 'loss', 'lr', 'val_accuracy', 'val_loss'])
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
        params = {"epochs": epochs, "steps": run.steps, "samples": len(x), "batch_size": batch_size}
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
        cbs.on_train_end({"stop_reason": history.stop_reason})
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
