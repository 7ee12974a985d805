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

from . import conv_ops, fit_data, inference, parallel, saving, schedules, sample_weights
from . import losses as losses_mod
from . import metrics as metrics_mod
from . import optimizers as optimizers_mod
from .callbacks import CallbackList, History
from .callbacks.progress import for_verbose
from .divergence import DivergenceGuard
from .errors import ShapeError, TrainingError
from .fit_rate import RunRate
from .layers import BatchNorm, Flatten, ReLU, Softmax, Sigmoid, from_config, to_entry
from .layers.activations import softmax
from .layers.base import fmt_shape
from .layers.base import ParamLayer

MIN_PIECE_FLOATS = 1 << 16   # layer outputs a piece of an inference batch must hold (Sequential._side_by_side)
_LAYERS_PACKAGE = Flatten.__module__.rpartition(".")[0] + "."   # "core.layers.": numpynet's own layer types


def _releasing_scratch(method):
    """Decorate a whole-dataset call (fit, evaluate, predict): the buffers its layers reuse from batch to
    batch (``core.scratch``) live for the call only, so a model at rest holds no batch-sized memory."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        finally:
            for layer in self.layers:
                layer.scratch.clear()
    return wrapper


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
        meta: class names, preprocessing, dataset and metrics, saved in model.json; ``fit`` adds
            ``partial_epochs`` ({"3": 0.4}: epoch 3 was stopped after 40% of its batches).
        train_history: every epoch's metrics this model has trained, across fits.
        epochs_trained: how many epochs that is: the ``initial_epoch`` to continue from.

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
        self.metrics = []         # what compile(metrics=...) adds to accuracy in the logs
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
        for i, layer in enumerate(self.layers):
            layer.index = i + 1
            if getattr(layer, "seed", 0) is None and self.seed is not None:
                layer.rng = np.random.default_rng([self.seed, i])
            if isinstance(layer, ParamLayer):
                layer.meet(self.layers[i + 1:], redraw=self.optimizer is None)   # uncompiled: untrained
            shape = layer.build(shape)
        self._mark_input_grads()
        return shape

    def _mark_input_grads(self):
        """A layer computes its input gradient only below a layer that learns: under the first trainable
        parameters nothing uses it, so training's backward stops there (frozen convolutions cost no backward)."""
        learns_before = False
        for layer in self.layers:
            layer.need_input_grad = learns_before
            learns_before = learns_before or (layer.trainable and bool(layer.params))

    def pop(self):
        """Remove the last layer and return it, as Keras's ``pop``; the other layers keep their weights.

        The popped layer's optimizer slots go with it, so a layer added in its place starts fresh.

        Returns:
            The layer removed.

        Raises:
            TrainingError: the model has no layers.
        """
        if not self.layers:
            raise TrainingError("pop: the model has no layers to remove")
        layer = self.layers.pop()
        if self.optimizer is not None:
            for key in [key for key in self.optimizer.state if key[0] == len(self.layers)]:
                del self.optimizer.state[key]
        return layer

    @property
    def output_shape(self):
        """The last layer's output shape without the batch axis (the input shape for no layers)."""
        return self.layers[-1].output_shape if self.layers else self.input_shape

    @property
    def epochs_trained(self):
        """Epochs this model has trained, across fits: where the next ``fit`` goes on (its ``initial_epoch``)."""
        return len(self.train_history.get("loss", []))

    def cut_short(self, epoch):
        """The share of epoch ``epoch``'s batches (counted from 1) trained before a stop cut it short; None
        if it ran whole. ``fit`` keeps it in ``meta['partial_epochs']``, which is saved with the model.

        Args:
            epoch: the epoch, counted from 1.
        """
        return (self.meta.get("partial_epochs") or {}).get(str(epoch))

    def count_params(self):
        """Number of trainable values in every layer (BatchNorm's running statistics excluded)."""
        return sum(layer.count_params() for layer in self.layers)

    def summary(self):
        """A table of layers, output shapes and parameter counts, with the totals, trainable and frozen.

        Returns:
            The table as one string, ready to print.

        Raises:
            TrainingError: the model has no input shape yet.
        """
        self._require_built()
        rows = [(layer.name + ("" if layer.trainable else " (frozen)"), fmt_shape(layer.output_shape),
                 f"{layer.count_params():,}") for layer in self.layers]
        rows.insert(0, ("Input", fmt_shape(self.input_shape), ""))
        w = [max(len(r[i]) for r in rows + [("Layer", "Output shape", "Params")]) for i in range(3)]
        line = "-" * (w[0] + w[1] + w[2] + 6)
        out = [f"{'Layer':<{w[0]}}   {'Output shape':<{w[1]}}   {'Params':>{w[2]}}", line]
        out += [f"{a:<{w[0]}}   {b:<{w[1]}}   {c:>{w[2]}}" for a, b, c in rows]
        frozen = sum(layer.count_params() for layer in self.layers if not layer.trainable)
        out += [line, f"Total params: {self.count_params():,}", f"Trainable params: {self.count_params() - frozen:,}",
                f"Non-trainable params: {frozen:,}"]
        if self.meta.get("softmax_added"):   # set by core.interop.import_onnx
            out.append(f"{self.layers[-1].name} was added for prediction: the imported network ends in logits")
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
    def compile(self, optimizer="sgd", loss="crossentropy", metrics=None):
        """Choose how ``fit`` trains: the optimizer, the loss, and the metrics reported beside loss and accuracy.

        Args:
            optimizer: an optimizer (``core.optimizers``) or its name ("sgd", "adam", "adagrad",
                "adadelta", "rmsprop") with its default settings.
            loss: a loss (``core.losses``) or its name ("crossentropy", "mse", or Keras's
                "sparse_categorical_crossentropy", "categorical_crossentropy", "mean_squared_error").
            metrics: Keras's names ("accuracy" is always reported; "top_k_categorical_accuracy",
                "sparse_top_k_categorical_accuracy": top-5) or objects such as ``metrics.TopKAccuracy(k)``.

        Raises:
            ValueError: an unknown optimizer, loss or metric name.

        Example:
            >>> from core.optimizers import SGD
            >>> model.compile(optimizer=SGD(lr=0.05, momentum=0.9), loss="crossentropy")
        """
        if isinstance(optimizer, str):
            optimizer = optimizers_mod.from_config({"type": optimizer})
        self.metrics = metrics_mod.get(metrics)
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

    @property
    def outputs_are_logits(self):
        """Whether the outputs are class scores that ``predict`` turns into probabilities with a softmax.

        So they are without an ``output_activation`` when there are classes to choose
        between (more than one output) and the loss reads the outputs as logits
        (CrossEntropy, and a model not compiled yet). Otherwise, as with MSE, the
        outputs are the prediction itself: a regression predicts raw values.
        """
        return (self.output_activation is None and int(np.prod(self.output_shape)) > 1
                and getattr(self.loss, "fuses_softmax", self.loss is None))

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
        """What the optimizer updates: the params of trainable layers (a frozen one gets no slots either)."""
        return [((i, name), name, p, layer.grads[name])
                for i, layer in enumerate(self.layers) if layer.trainable for name, p in layer.params.items()]

    @parallel.limited
    def train_step(self, x, y, before_update=None):
        """One batch: forward, loss, backward, update. Returns (loss, accuracy or None).

        ``before_update(loss, outputs, y)`` runs while the weights are still the
        ones that gave the loss; when it returns False the update is skipped
        (the divergence guard's veto). Without it, a non-finite loss is skipped.

        Args:
            x: a float32 batch (N, *input_shape).
            y: its labels, class indices (N,) or one-hot (N, K).
            before_update: the veto above, or None.

        Returns:
            (loss, accuracy) of the batch before the update, as floats; accuracy is None for a single
            output (a regression).
        """
        logs = self._train_batch(x, y, None, before_update)
        return logs["loss"], logs.get("accuracy")

    def _train_batch(self, x, y, weights, before_update=None):
        """``train_step`` with per-sample loss weights (or None); returns the batch's logs."""
        self._mark_input_grads()   # a layer frozen or thawed since the last batch
        out = self._forward_logits(x, training=True)
        loss, grad = sample_weights.value_and_grad(self.loss, out, y, weights)
        if before_update is not None:
            go_on = before_update(sample_weights.on_plain_scale(loss, weights), out, y)
        else:
            go_on = math.isfinite(loss)
        if go_on:
            self._backward_logits(grad)
            self.optimizer.step(self._slots())
        return {"loss": loss, **self._metric_logs(out, y)}

    def _test_batch(self, x, y):
        """Logs of one batch in inference mode: loss, accuracy, compiled metrics."""
        return self._test_logs(self._inference(*self._loss_path(), len(x))(x), y)

    def _inference(self, body, head, samples):
        """A function of a batch giving the outputs of the path (``body``, ``head``) in inference mode.

        Each BatchNorm is folded into the layer before it where that pays
        (``core.inference``), once for the whole call that asks; each batch runs
        as pieces side by side on numpynet's threads (``_side_by_side``).

        Args:
            body: layers run whole, in order.
            head: None, or a last layer run without its activation (``logits_path``).
            samples: how many samples the call runs through the path.
        """
        path = functools.partial(_forward_path, inference.folded(body, samples), head, training=False)
        return functools.partial(self._side_by_side, path)

    def _test_logs(self, out, y):
        return {"loss": self.loss.value(out, y), **self._metric_logs(out, y)}

    def _metric_logs(self, out, y):
        """Accuracy and the compiled metrics of a batch; no accuracy for a single output, where there is no
        class to pick (a regression)."""
        accuracy = {"accuracy": metrics_mod.accuracy(out, y)} if out.shape[1] > 1 else {}
        return {**accuracy, **{m.name: float(m(out, y)) for m in self.metrics}}

    def _each_batch(self, x, batch_size, work):
        """``work(start, batch)`` for each float32 batch of ``x``, in inference; returns their results in order.

        Batches whose layer outputs fit ``conv_ops.CHUNK_BYTES`` (about a
        core's cache) go whole and side by side, each thread taking the next
        batch: one hand-off a call instead of one a batch or a layer, and each
        product as large as the batch. Predicting 2,000 images in batches of
        256 on two threads, each after half a second's rest: mlp (220 floats an
        image) 6.9 -> 6.3 ms, mlp_wide (1,556) 49.6 -> 37.5 ms. Larger batches
        are shared by the threads within (``_side_by_side``, the layers'
        chunks): two whole ones at once crowd each other out of the cache
        (LeNet-5 147 -> 168 ms, vgg_mini 676 -> 744 ms that way).
        """
        def one(start):
            return work(start, _batch(x, start, batch_size))
        tasks = [functools.partial(one, start) for start in range(0, len(x), batch_size)]
        batch_bytes = 4 * batch_size * self._floats_per_image()
        if len(tasks) >= parallel.threads() > 1 and batch_bytes <= conv_ops.CHUNK_BYTES and self._own_layers_only():
            return parallel.run(tasks)
        return [task() for task in tasks]

    def _floats_per_image(self):
        """The layer outputs one image makes in inference (Flatten's, a view, not counted)."""
        return sum(math.prod(layer.output_shape) for layer in self.layers if not isinstance(layer, Flatten))

    def _own_layers_only(self):
        """Whether every layer is one of numpynet's types, whose forward in inference reads back nothing it
        kept on ``self``: only then may two threads run it on different batches (or pieces) at once."""
        return all(type(layer).__module__.startswith(_LAYERS_PACKAGE) for layer in self.layers)

    def _side_by_side(self, infer, x):
        """``infer(x)`` for a batch in inference mode, as pieces of it side by side on numpynet's threads.

        In inference each sample goes through alone (Dropout is off, BatchNorm
        uses its running statistics), so the pieces give the outputs the batch
        would. Each piece runs every layer on one thread: a helper is woken
        once a batch instead of for every split layer (20-170 us a wake on this
        project's machine, more the longer the helper slept). Both threads then
        take turns at the interpreter between NumPy calls, which costs as much
        again where the calls are short: a piece must hold ``MIN_PIECE_FLOATS``
        of layer outputs (Flatten's, a view, not counted). Predicting 2,000
        images on two threads: mlp_wide (1,556 floats an image) 67,000 -> 80,000
        a second and cnn_small (4,345) 82,000 -> 117,000 this way, while mlp
        (220) fell from about 360,000 to about 310,000.
        A layer type of a user's keeps the batch whole: its forward may read
        back what it kept on ``self``, which another piece may have replaced.
        """
        ours = self._own_layers_only()
        pieces = parallel.flat_parts(len(x), max(1, MIN_PIECE_FLOATS // self._floats_per_image())) if ours \
            else [slice(None)]
        if len(pieces) == 1:
            return infer(x)
        return np.concatenate(parallel.run([functools.partial(infer, x[piece]) for piece in pieces]))

    def _batches(self, x, batch_size):
        """(start, float32 batch) over ``x``, converted a batch at a time (see ``fit_data.as_inputs``)."""
        for i in range(0, len(x), batch_size):
            yield i, _batch(x, i, batch_size)

    @parallel.pinned
    @_releasing_scratch
    def predict(self, x, batch_size=256):
        """Class probabilities (N, classes), float32, whatever the last layer is.

        The outputs of a final Softmax or Sigmoid as they are; raw (N, K)
        class scores go through a softmax, and a regression's outputs are its raw
        values (see ``outputs_are_logits``). A temperature in ``meta["temperature"]``
        divides the class scores first. Inference mode: Dropout off, BatchNorm
        on its running statistics.

        Args:
            x: images (N, C, H, W), or (N, H, W) for a one-channel model, float in [0, 1] or uint8
                pixels (scaled to [0, 1] batch by batch); computed in float32.
            batch_size: samples per forward pass (memory, not results).

        Returns:
            A float32 array (N, *output_shape).

        Raises:
            ShapeError: ``x`` does not match the input shape (expected and received are quoted).
        """
        x = self._check_shape(x, "predict")
        t = self.meta.get("temperature", 1)     # core.surgery.set_temperature
        out = np.empty((len(x), *self.output_shape), np.float32)

        outputs = self._inference(*((self.layers, None) if t == 1 else self.logits_path()), len(x))

        def infer(i, xb):
            out[i:i + len(xb)] = outputs(xb) if t == 1 else outputs(xb) / t
        self._each_batch(x, batch_size, infer)
        if t != 1 and self.output_activation is not None:
            return self.output_activation.forward(out)
        return softmax(out) if self.outputs_are_logits and out.ndim == 2 else out

    @parallel.pinned
    @_releasing_scratch
    def evaluate(self, x, y, batch_size=256):
        """Mean loss, accuracy and compiled metrics over (x, y), in inference mode.

        Args:
            x: images as ``predict`` takes them.
            y: labels, class indices (N,) or one-hot (N, K).
            batch_size: samples per forward pass (memory, not results).

        Returns:
            ``{"loss": float, "accuracy": float, ...}`` (and each compiled metric), accuracy in [0, 1].

        Raises:
            TrainingError: the model is not compiled.
            ShapeError: ``x`` does not match the input shape, or labels do not fit the outputs.
            ValueError: lengths that differ, no samples, NaN pixels, labels that are not class indices.
        """
        self._require_compiled()
        x, y = self._check_data(x, y, "evaluate")
        means = metrics_mod.MeanLogs()
        # the outputs side by side; the loss and the metrics (a user's may keep a running state) in order here
        outputs = self._inference(*self._loss_path(), len(x))
        for i, out in zip(range(0, len(x), batch_size), self._each_batch(x, batch_size, lambda _, xb: outputs(xb))):
            means.add(self._test_logs(out, y[i:i + len(out)]), len(out))
        return means.result()

    # ----- one batch, as Keras ------------------------------------------------
    @parallel.limited
    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict=False):
        """One update on the batch (x, y); returns [loss, accuracy, *metrics] (a dict with ``return_dict``).

        Args:
            x: one batch of images, as ``fit`` takes them.
            y: its labels, as ``fit`` takes them.
            sample_weight: (N,) weights of each sample's loss, or None.
            class_weight: {class: weight}, or None.
            return_dict: return {"loss", "accuracy", ...} instead of a list.
        """
        self._require_compiled()
        x, y = self._check_data(x, y, "train_on_batch")
        weights = sample_weights.per_sample_weights(y, class_weight, sample_weight)
        logs = self._train_batch(fit_data.as_inputs(x), y, weights)
        return logs if return_dict else list(logs.values())

    @parallel.pinned
    def test_on_batch(self, x, y, return_dict=False):
        """Loss and metrics of the batch (x, y) in inference mode: [loss, accuracy, *metrics] or a dict.

        Args:
            x: one batch of images, as ``evaluate`` takes them.
            y: its labels.
            return_dict: return {"loss", "accuracy", ...} instead of a list.
        """
        self._require_compiled()
        x, y = self._check_data(x, y, "test_on_batch")
        logs = self._test_batch(fit_data.as_inputs(x), y)
        return logs if return_dict else list(logs.values())

    @parallel.pinned
    def predict_on_batch(self, x):
        """``predict`` of x as one batch.

        Args:
            x: one batch of images, as ``predict`` takes them.
        """
        return self.predict(x, batch_size=max(len(x), 1))

    @parallel.limited
    @_releasing_scratch
    def fit(self, x, y=None, epochs=1, batch_size=32, validation_data=None, callbacks=None, shuffle=True,
            seed=None, lr_schedule=None, augment=None, initial_epoch=0, verbose=0, validation_split=0.0,
            class_weight=None, sample_weight=None, steps_per_epoch=None):
        """Train epochs ``initial_epoch`` .. ``epochs - 1`` (Keras's meaning); returns a History.

        Each epoch visits every sample once, in batches, in an order shuffled
        afresh each epoch. A loss that becomes NaN or infinite, or explodes far
        above its running level, stops training with the reason in
        ``History.stop_reason`` and weights restored to ones whose loss was sane.

        Args:
            x: training images, (N, C, H, W), or (N, H, W) for a one-channel model: float32 (or any
                float) in [0, 1], or uint8 pixels (scaled batch by batch, so a memory-mapped file is
                never copied whole); training computes in float32.
                NaN or infinite pixels are refused. Or an iterable or generator of (x, y) or
                (x, y, sample_weight) batches, with ``steps_per_epoch`` batches an epoch (required for
                a generator); ``y`` is then None.
            y: labels, one per image: int class indices (N,) in [0, K), or one-hot (or soft) float
                rows (N, K) for K outputs.
            epochs: the epoch to stop before: trains epochs ``initial_epoch`` .. ``epochs - 1``
                (so ``epochs`` more epochs from 0). To train n more, pass ``epochs=initial_epoch + n``.
            batch_size: samples per update; the last batch of an epoch may be smaller.
            validation_data: a pair (x_val, y_val), evaluated after each epoch in inference mode;
                its loss and accuracy join the logs as ``val_loss`` and ``val_accuracy``. It
                overrides ``validation_split``.
            callbacks: ``core.callbacks.Callback`` objects (EarlyStopping, ModelCheckpoint, ... or
                your own). Each gets ``on_train_begin()``, ``on_epoch_begin(epoch)``,
                ``on_train_batch_begin(batch)``/``on_batch_begin``, ``on_train_batch_end(batch, logs)``/
                ``on_batch_end`` (loss, accuracy, size, lr of that batch), ``on_epoch_end(epoch, logs)``
                (loss, accuracy, lr, and val_loss, val_accuracy with validation data) and
                ``on_train_end(logs)`` (stop_reason). ``callback.model.stop_training = True``
                stops after the current batch. A rate a callback sets becomes the base rate and
                stays after ``fit``.
            shuffle: reshuffle the samples each epoch (False keeps their order).
            seed: seeds the shuffling, augmentation and dropout masks of this fit; with the model's
                own ``seed`` (its initial weights), a run repeats bit for bit. None draws fresh ones.
                Epoch e draws from (seed, e) alone, so a model saved after epoch e and fitted on
                from ``initial_epoch=e`` sees what one that never stopped would have.
            lr_schedule: a ``core.schedules.Schedule`` or a name ("step", "exponential", "cosine");
                it spans this run: the typed rate at ``initial_epoch``, its end at the last epoch,
                whatever the model trained before. None keeps the optimizer's rate. The run's
                schedule stays on the optimizer (and in a saved model) as ``optimizer.schedule``:
                passing that one continues it from the epoch it started at.
            augment: ``augment(x_batch, rng) -> x_batch`` transforms each training batch
                (``core.augment``), or None.
            initial_epoch: the first epoch to train (for continuing a saved model).
            verbose: 0 silent, 1 a live progress line on stderr (a line per epoch when stderr is not a
                terminal), 2 a line per epoch.
            validation_split: the fraction of (x, y) held out for validation: the last samples,
                before any shuffling, as Keras does.
            class_weight: {class: weight} multiplying each sample's loss by its class's weight.
            sample_weight: (N,) weights multiplying each sample's loss.
            steps_per_epoch: batches per epoch when ``x`` is an iterable of batches.

        Returns:
            A ``History``: ``history.history`` maps "loss", "accuracy", "lr" (and "val_loss",
            "val_accuracy", compiled metrics) to one value per epoch trained; ``history.epoch``
            lists the epochs; ``history.stop_reason`` says why training stopped early (None if it
            did not).

        Raises:
            TrainingError: the model is not compiled.
            ShapeError: ``x`` does not match the input shape, or labels do not fit the outputs.
            ValueError: x and y of different lengths, no samples, NaN pixels, fractional labels,
                ``batch_size`` < 1, ``initial_epoch`` outside [0, epochs], a malformed
                ``validation_data``, or a callback with a hook ``fit`` never calls.

        Example:
            >>> from core import datasets
            >>> data = datasets.load("mnist")
            >>> model.compile("adam", "crossentropy")
            >>> history = model.fit(data.x_train, data.y_train, epochs=2, batch_size=128, seed=0,
            ...                     validation_split=0.1)
            >>> history.epoch, sorted(history.history)
            ([0, 1], ['accuracy', 'loss', 'lr', 'val_accuracy', 'val_loss'])
        """
        self._require_compiled()
        _check_epochs(batch_size, epochs, initial_epoch)
        data, validation_data = self._fit_data(x, y, batch_size, shuffle, validation_split, validation_data,
                                               class_weight, sample_weight, steps_per_epoch)
        run = _Run(np.random.SeedSequence(seed).entropy, seed is not None, data.steps, batch_size,
                   self._schedule_for(lr_schedule, epochs, initial_epoch), self.optimizer.schedule_start)
        params = {"epochs": epochs, "steps": run.steps, "samples": data.samples, "batch_size": batch_size,
                  "initial_epoch": initial_epoch, "seed": seed, "schedule": run.schedule, "augment": augment,
                  "validation_samples": len(validation_data[0]) if validation_data is not None else 0}
        cbs = CallbackList(list(callbacks or []) + for_verbose(verbose), self, params)
        history = History()
        guard = DivergenceGuard(self, *data.probe())
        rate = RunRate(self.optimizer, run.schedule)
        self.stop_training = False
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported by the guard instead
                logs = self._fit_epoch(data, epoch, run, augment, cbs, guard, rate)
            if logs is None:   # diverged on the epoch's first batch: nothing to report for it
                break
            with np.errstate(over="ignore", invalid="ignore"):
                guard.check_last_update()   # before validation, so its figures are those of the weights kept
            self.stop_training = self.stop_training or guard.tripped
            if validation_data is not None:
                logs.update({f"val_{k}": v for k, v in self.evaluate(*validation_data).items()})
            history.record(epoch, logs)
            for k, v in logs.items():
                self.train_history.setdefault(k, []).append(v)
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        history.diverged = guard.reason is not None
        stopped = cbs.stop_reason() if self.stop_training else None
        history.stop_reason = guard.reason or data.ran_out or stopped
        rate.finish()
        cbs.on_train_end({"stop_reason": history.stop_reason, "diverged": history.diverged})
        return history

    def _fit_data(self, x, y, batch_size, shuffle, validation_split, validation_data, class_weight,
                  sample_weight, steps_per_epoch):
        """``fit``'s batch source (``fit_data``) and its validation pair, checked before training starts."""
        if fit_data.is_batches(x):
            if y is not None or sample_weight is not None or validation_split:
                raise ValueError("fit: x is an iterable of batches, which carry their own labels and weights: "
                                 "give no y, sample_weight or validation_split (validation_data is accepted)")
            data = fit_data.IterableBatches(x, steps_per_epoch, self._check_data, class_weight)
        else:
            if y is None:
                raise ValueError("fit: y is missing: give labels, or x as an iterable of (x, y) batches")
            if steps_per_epoch is not None:
                raise ValueError(f"fit: steps_per_epoch is for an iterable of batches; with arrays an epoch is "
                                 f"every sample, ceil(N / batch_size) batches (got steps_per_epoch={steps_per_epoch})")
            x, y = self._check_data(x, y, "fit")
            weights = sample_weights.per_sample_weights(y, class_weight, sample_weight)
            if validation_split and validation_data is None:
                (x, y, weights), validation_data = fit_data.split_off_validation(x, y, weights, validation_split)
            data = fit_data.ArrayBatches(x, y, weights, batch_size, shuffle)
        if validation_data is not None:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                raise ValueError(f"validation_data must be a pair (x, y), got {type(validation_data).__name__} "
                                 f"{validation_data!r:.60}")
            validation_data = self._check_data(*validation_data, "validation_data")
        return data, validation_data

    def _schedule_for(self, spec, epochs, initial_epoch):
        """This run's schedule, kept on the optimizer (and saved with it). The optimizer's own schedule
        (``model.optimizer.schedule``, say of a loaded model) goes on from the epoch it started at; any
        other starts now and spans this run."""
        opt = self.optimizer
        if spec is None or spec is not opt.schedule:
            opt.schedule = schedules.get(spec, epochs - initial_epoch) if epochs > initial_epoch else None
            opt.schedule_start = initial_epoch
        return opt.schedule

    def _fit_epoch(self, data, epoch, run, augment, cbs, guard, rate):
        cbs.on_epoch_begin(epoch)
        rng = run.rng(epoch)
        if run.seeded:
            for i, layer in enumerate(self.layers):
                if hasattr(layer, "rng") and not isinstance(layer, ParamLayer):   # dropout masks
                    layer.rng = run.rng(epoch, i + 1)
        means, trained = metrics_mod.MeanLogs(), 0
        for b, (xb, yb, wb) in enumerate(data.epoch(rng)):
            rate.before_batch(run.progress(epoch, b))
            if augment is not None:
                xb = augment(xb, rng)
            cbs.on_train_batch_begin(b)
            logs = self._train_batch(xb, yb, wb, before_update=functools.partial(guard.check, where=(epoch, b)))
            if guard.tripped:
                guard.restore(logs["loss"], epoch, b)
                self.stop_training = True
                break
            guard.last = xb, yb, (epoch, b)
            means.add(logs, len(xb))
            trained += 1
            cbs.on_train_batch_end(b, {**logs, "size": len(xb), "lr": self.optimizer.lr})
            if self.stop_training:
                break
        self.stop_training = self.stop_training or data.ran_out is not None
        if not means.count:
            return None
        if trained < run.steps:   # cut short: its logs average fewer batches, and a next fit starts the next epoch
            self.meta.setdefault("partial_epochs", {})[str(epoch + 1)] = trained / run.steps
        return {**means.result(), "lr": self.optimizer.lr}

    # ----- checks -----------------------------------------------------------
    def _require_built(self):
        if self.input_shape is None:
            raise TrainingError("the model has no input shape yet: pass input_shape= to Sequential")

    def _require_compiled(self):
        self._require_built()
        if self.optimizer is None or self.loss is None:
            raise TrainingError("call compile(optimizer=..., loss=...) before fit or evaluate")

    def _check_input(self, x, what):
        """``x`` as float32 model inputs (uint8 pixels scaled), all at once; ShapeError if it does not fit."""
        return fit_data.as_inputs(self._check_shape(x, what))

    def _check_shape(self, x, what):
        """``x`` with a channel axis for grey (N, H, W) images, unconverted (a memory map stays one)."""
        self._require_built()
        x = x if isinstance(x, np.ndarray) else np.asarray(x)
        if x.ndim == len(self.input_shape) and len(self.input_shape) == 3 and self.input_shape[0] == 1:
            x = x[:, None]  # (N, H, W) grey images
        if x.shape[1:] != self.input_shape:
            raise ShapeError(f"{what}: expected input of shape {fmt_shape(('N', *self.input_shape))}, "
                             f"got {fmt_shape(x.shape)}")
        if x.dtype.kind not in "biuf":
            raise ValueError(f"{what}: x must hold numbers, got dtype {x.dtype}")
        return x

    def _check_data(self, x, y, what):
        """(x, y) as inputs (unconverted: batches are converted as they are used) and labels, refusing
        what would give wrong numbers with no warning: no samples, NaN or infinite pixels (the guard
        would blame the learning rate), fractional labels."""
        x = self._check_shape(x, what)
        if len(x) == 0:
            raise ValueError(f"{what}: no samples (x is empty)")
        bad = _first_nonfinite(x)
        if bad is not None:
            raise ValueError(f"{what}: x holds NaN or infinite values (first in sample {bad}); clean the data")
        return x, self._check_labels(y, len(x), what)

    def _check_labels(self, y, n, what="y"):
        """``y`` as the loss takes it (``Loss.check_targets``): class indices (N,) as int64, one-hot rows or
        regression targets as float32. Uncompiled (``core.inspect``), the labels are classes."""
        y = np.asarray(y)
        if y.ndim == 0:
            raise ValueError(f"{what}: y must hold one label per input, got the single value {y!r}")
        if len(y) != n:
            raise ValueError(f"x and y have different lengths: {n} inputs but {len(y)} labels")
        if y.dtype.kind not in "biuf":
            raise ValueError(f"{what}: labels must be numbers (class indices or one-hot rows), got dtype {y.dtype}")
        return (self.loss or losses_mod.CrossEntropy()).check_targets(y, self.output_shape, what)


def _batch(x, start, batch_size):
    """The float32 batch of ``x`` from ``start``, converted alone (a memory-mapped uint8 file is never read whole)."""
    return fit_data.as_inputs(x[start:start + batch_size])


def _forward_path(body, head, x, training):
    """Run ``body`` whole, then ``head`` without its activation (see ``Sequential.logits_path``).

    A ReLU right after a BatchNorm rectifies each block of the normalised
    output as the BatchNorm makes it, while in cache (``BatchNorm.forward``'s
    ``then``), instead of in a pass of its own: ``vgg_mini``'s four pairs made
    a training step 1.9-5% shorter at batch 64 and 0.3-2.5% at 128 (medians of
    8-10 in-process alternations, three runs). The ReLU keeps that output for
    its backward, which ``_backward_path`` fuses into the BatchNorm's too.
    """
    i = 0
    while i < len(body):
        relu = _relu_after_batchnorm(body, i)
        if relu is None:
            x = body[i].forward(x, training)
        else:
            x = relu.keep(body[i].forward(x, training, then=relu.in_place))
        i += 1 if relu is None else 2
    return x if head is None else head.linear_forward(x)


def _backward_path(body, head, grad):
    """Backpropagate through ``_forward_path``'s path; stops where no layer below needs the gradient.

    A BatchNorm and the ReLU after it go back in one step: the BatchNorm masks
    the gradient by the ReLU's kept output block by block, in cache, as its
    own passes read it (``BatchNorm.backward``'s ``rectified``), instead of
    the ReLU writing the masked gradient in a pass of its own first.
    """
    if head is not None:
        grad = head.linear_backward(grad)
    i = len(body) - 1
    while i >= 0 and grad is not None:   # None: nothing below needs it (see ``input_gradients``)
        relu = _relu_after_batchnorm(body, i - 1)
        if relu is None:
            grad = body[i].backward(grad)
        else:
            grad = body[i - 1].backward(grad, rectified=relu.rectified)
        i -= 1 if relu is None else 2
    return grad


def _relu_after_batchnorm(body, i):
    """The ReLU at ``body[i + 1]`` when ``body[i]`` is a BatchNorm, else None (and for an ``i`` outside ``body``):
    the pairs that go as one."""
    fused = 0 <= i < len(body) - 1 and type(body[i]) is BatchNorm and type(body[i + 1]) is ReLU
    return body[i + 1] if fused else None


def _first_nonfinite(a, chunk=4096):
    """Index of the first sample (along axis 0) holding a NaN or an infinity, or None.

    Chunk by chunk, so a memory-mapped file is never held whole; integers are always finite.
    """
    if a.dtype.kind != "f":
        return None
    for start in range(0, len(a), chunk):
        finite = np.isfinite(a[start:start + chunk].reshape(min(chunk, len(a) - start), -1)).all(axis=1)
        if not finite.all():
            return start + int(np.flatnonzero(~finite)[0])
    return None


def _check_epochs(batch_size, epochs, initial_epoch):
    if batch_size < 1 or epochs < 0:
        raise ValueError(f"batch_size must be >= 1 and epochs >= 0, got {batch_size}, {epochs}")
    if not 0 <= initial_epoch <= epochs:
        raise ValueError(f"fit trains epochs initial_epoch..epochs-1, as Keras: initial_epoch={initial_epoch} "
                         f"must be in [0, epochs={epochs}] (to train n more epochs, pass "
                         f"epochs=initial_epoch + n)")


@dataclasses.dataclass(frozen=True)
class _Run:
    """What one ``fit`` fixes at its start: the seed's entropy (drawn afresh without a seed), batches per
    epoch, batch size, the schedule and the epoch it counts from."""
    entropy: int
    seeded: bool
    steps: int
    batch_size: int
    schedule: object
    schedule_start: int

    def rng(self, epoch, *stream):
        """The random numbers of ``epoch`` (its shuffle and augmentation; ``stream`` i: layer i's), from the
        seed and the epoch alone, so a run continued from a saved model draws what one that never stopped did."""
        return np.random.default_rng([self.entropy, epoch, *stream])

    def progress(self, epoch, batch):
        """Epochs into the schedule, fractional within one: a schedule counts from the run that chose it,
        not from the model's first epoch, so a continued model starts at the typed rate."""
        return epoch - self.schedule_start + batch / self.steps


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
