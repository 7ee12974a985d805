"""Losses: the ``Loss`` interface, CrossEntropy and MSE, and the one registry of loss names.

CrossEntropy takes *logits*: the model hands it the input of a final Softmax
(so the pair backpropagates as (p - y) / N) or the raw outputs otherwise.
Log-sum-exp keeps it finite for any logits. A loss checks the whole of ``y``
once, before training (``check_targets``), so a wrong target is an error
naming it, not a silent class index or a crash at batch 50.
"""
import numpy as np

from .errors import ShapeError
from .layers.base import fmt_shape

REGRESSION_HINT = "for regression, compile with loss='mse' and end the model without a Softmax"


class Loss:
    """Base class of losses: subclass it and define ``forward`` and ``backward``.

    ``forward(out, y) -> float``: the mean loss of a batch, where ``out`` is the
    model's output (N, K) and ``y`` the batch's targets as ``check_targets``
    returned them. ``backward(out, y) -> array``: d loss / d out, the shape of
    ``out``. ``check_targets`` checks and converts all of ``y`` once before
    training; the default takes finite numbers of any shape. Define
    ``per_sample(out, y) -> (N,)`` too for ``class_weight``/``sample_weight``.
    ``fuses_softmax = True`` means the loss takes the logits before a final
    Softmax (as CrossEntropy does); leave it False to get the outputs. A loss
    keeps no state between calls beyond its settings: models may share one.

    Saving a model compiled with a loss of your own needs ``register_loss``,
    so that ``load_model`` can rebuild it from its ``get_config()`` (add your
    constructor's arguments to it).

    Example:
        >>> import numpy as np
        >>> from core.losses import Loss, register_loss
        >>> @register_loss
        ... class MAE(Loss):
        ...     def forward(self, out, y):
        ...         return float(np.abs(out - y.reshape(out.shape)).mean())
        ...     def backward(self, out, y):
        ...         return np.sign(out - y.reshape(out.shape)) / out.size
        >>> model.compile("adam", MAE())
    """
    fuses_softmax = False

    def forward(self, out, y):
        """The mean loss of a batch, as a float.

        Args:
            out: the model's outputs (N, K) (logits when ``fuses_softmax``).
            y: the batch's targets, as ``check_targets`` returned them.
        """
        raise NotImplementedError(f"{type(self).__name__} must define forward(out, y) -> mean loss")

    def backward(self, out, y):
        """d loss / d out, an array of the shape and dtype of ``out``.

        Args:
            out: the model's outputs (N, K), as ``forward`` got them.
            y: the batch's targets.
        """
        raise NotImplementedError(f"{type(self).__name__} must define backward(out, y) -> d loss / d out")

    def value(self, out, y):
        """The mean loss alone, as ``evaluate`` needs it: ``forward``.

        Args:
            out: the model's outputs (N, K).
            y: the batch's targets.
        """
        return self.forward(out, y)

    def value_and_grad(self, out, y):
        """(loss, d loss / d out) of a batch; a loss that shares work between the two overrides it.

        Args:
            out: the model's outputs (N, K).
            y: the batch's targets.
        """
        return self.forward(out, y), self.backward(out, y)

    def check_targets(self, y, output_shape, what="y"):
        """All of ``y`` as this loss takes it, checked once before training or evaluating.

        Args:
            y: every target, numbers, one row per sample.
            output_shape: the model's output shape, without the batch axis.
            what: the call to name in a message ("fit", "validation_data", ...).

        Raises:
            ValueError: a NaN or infinite target.
        """
        _require_finite(y, what)
        return y

    def get_config(self):
        """``{"type": class name}``: what model.json stores; add the constructor's arguments in a subclass."""
        return {"type": type(self).__name__}


def one_hot(y, k, dtype=np.float32):
    """(N, K) rows with a 1 at each label's index.

    Args:
        y: int class indices (N,) in [0, k).
        k: the number of classes.
        dtype: the rows' dtype.
    """
    out = np.zeros((len(y), k), dtype)
    out[np.arange(len(y)), y] = 1
    return out


def as_targets(y, k, dtype):
    """Class indices (N,) or one-hot/soft (N, K) -> (N, K) targets; checks the shapes.

    Args:
        y: class indices (N,) or rows (N, K).
        k: the number of outputs.
        dtype: the targets' dtype (the outputs').

    Raises:
        ValueError: an index outside [0, k).
        ShapeError: rows of another width, or labels of another rank.
    """
    y = np.asarray(y)
    if y.ndim == 1:
        if y.size and (y.min() < 0 or y.max() >= k):
            raise ValueError(f"labels must be class indices in [0, {k - 1}], got values in [{y.min()}, {y.max()}]")
        return one_hot(y.astype(np.int64), k, dtype)
    if y.ndim == 2 and y.shape[1] == k:
        return y.astype(dtype, copy=False)
    raise ShapeError(f"labels of shape {fmt_shape(y.shape)} do not fit {k} outputs: "
                     f"give class indices (N,) or one-hot (N, {k})")


def class_indices(y, what, hint):
    """1-D labels as int64 class indices; a fraction or a NaN is refused (it would be truncated to a class).

    Args:
        y: labels (N,), ints or floats.
        what: the call to name in a message.
        hint: what the message suggests instead.

    Raises:
        ValueError: a label that is not a whole number.
    """
    bad = ~np.isfinite(y) | (y != np.round(y)) if y.dtype.kind == "f" else np.zeros(len(y), bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{what}: labels must be whole class indices, but label {i} is {float(y[i])}; {hint}")
    return y.astype(np.int64, copy=False)


def _outputs(output_shape):
    return int(np.prod(output_shape))


def _require_finite(y, what):
    bad = ~np.isfinite(np.asarray(y, np.float64).reshape(len(y), -1)).all(axis=1)
    if bad.any():
        raise ValueError(f"{what}: label {'row ' * (y.ndim > 1)}{int(np.flatnonzero(bad)[0])} holds NaN or "
                         f"infinite values")


def log_softmax(z):
    """Row-wise log of the softmax of (N, K) scores, finite for any magnitude (log-sum-exp).

    Args:
        z: scores (logits), (N, K).
    """
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class CrossEntropy(Loss):
    """Mean categorical cross-entropy of logits against labels.

    ``-mean(sum(t * log_softmax(z)))``. It takes *logits*: a model ending in
    Softmax hands it the Softmax's input, so the pair backpropagates exactly
    as ``(p - t) / N``. Labels may be class indices or one-hot (or probability)
    rows; float labels and a model with a single output are refused. Known to
    ``compile`` as "crossentropy" (also "cross_entropy", "CrossEntropy").

    Example:
        >>> model.compile("sgd", loss="crossentropy")
    """
    fuses_softmax = True

    def value_and_grad(self, z, y):
        """The mean loss and its gradient with respect to ``z``, in one pass.

        Args:
            z: logits (N, K): the input of a final Softmax, else the raw outputs.
            y: class indices (N,) or one-hot (or soft) rows (N, K).

        Returns:
            (loss as a float, gradient of the shape and dtype of ``z``).
        """
        t = as_targets(y, z.shape[1], z.dtype)
        logp = log_softmax(z)
        loss = -float((t * logp).sum()) / len(z)
        grad = (np.exp(logp) - t) * np.asarray(1.0 / len(z), z.dtype)
        return loss, grad

    def forward(self, z, y):
        """The mean loss alone (no gradient), as ``evaluate`` needs it.

        Args:
            z: logits (N, K): the input of a final Softmax, else the raw outputs.
            y: class indices (N,) or one-hot (or soft) rows (N, K).
        """
        t = as_targets(y, z.shape[1], z.dtype)
        return -float((t * log_softmax(z)).sum()) / len(z)

    def backward(self, z, y):
        """The gradient of the mean loss with respect to ``z``: (softmax(z) - t) / N.

        Args:
            z: logits (N, K).
            y: class indices (N,) or one-hot (or soft) rows (N, K).
        """
        return self.value_and_grad(z, y)[1]

    def per_sample(self, z, y):
        """(N,) the loss of each row, whose mean is ``value``: what sample weights multiply.

        Args:
            z: the logits (N, K).
            y: class indices (N,) or one-hot rows (N, K).
        """
        return -(as_targets(y, z.shape[1], z.dtype) * log_softmax(z)).sum(axis=1)

    def check_targets(self, y, output_shape, what="y"):
        """Class indices as int64 or probability rows as float32; a regression's targets are refused.

        Args:
            y: class indices (N,), or one-hot or probability rows (N, K).
            output_shape: the model's output shape, without the batch axis.
            what: the call to name in a message.

        Raises:
            ShapeError: the model has a single output, over which the loss is always 0.
            ValueError: a fractional or non-finite label, or a row that is not a distribution.
        """
        k = _outputs(output_shape)
        if k < 2:
            raise ShapeError(f"{what}: CrossEntropy needs one output per class (at least 2), but this model has "
                             f"{k} output: its loss would be 0 whatever the weights. For a regression, compile "
                             f"with loss='mse'; for two classes, end in Dense(2) and Softmax")
        if y.ndim == 1:
            return class_indices(y, what, REGRESSION_HINT)
        _require_finite(y, what)
        rows = y.reshape(len(y), -1).astype(np.float64)
        bad = (rows < 0).any(axis=1) | (np.abs(rows.sum(axis=1) - 1) > 1e-3)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{what}: CrossEntropy takes one-hot or probability rows (non-negative, summing to 1), "
                             f"but row {i} is {np.round(rows[i][:6], 4).tolist()}; {REGRESSION_HINT}")
        return y.astype(np.float32, copy=False)

    def get_config(self):
        """``{"type": "CrossEntropy"}``: what model.json stores."""
        return {"type": "CrossEntropy"}


class MSE(Loss):
    """Mean squared error over every output: a regression's loss, or a classifier's against one-hot rows.

    ``mean((out - t) ** 2)`` over every sample and output. Targets shaped like
    the outputs are real values ((N,) for a single output); class indices (N,)
    for several outputs are compared as one-hot rows. Known to ``compile`` as
    "mse" (also "MSE", "mean_squared_error").
    """

    def value_and_grad(self, out, y):
        """The mean loss and its gradient with respect to ``out``, in one pass.

        Args:
            out: the model's outputs (N, K).
            y: targets shaped like ``out`` ((N,) for one output), or class indices (N,).

        Returns:
            (loss as a float, gradient of the shape and dtype of ``out``).
        """
        diff = out - self._targets(y, out)
        return float((diff * diff).mean()), diff * np.asarray(2.0 / diff.size, out.dtype)

    def forward(self, out, y):
        """The mean loss alone (no gradient), as ``evaluate`` needs it.

        Args:
            out: the model's outputs (N, K).
            y: targets shaped like ``out`` ((N,) for one output), or class indices (N,).
        """
        diff = out - self._targets(y, out)
        return float((diff * diff).mean())

    def backward(self, out, y):
        """The gradient of the mean loss with respect to ``out``: 2 (out - t) / out.size.

        Args:
            out: the model's outputs (N, K).
            y: targets shaped like ``out`` ((N,) for one output), or class indices (N,).
        """
        return self.value_and_grad(out, y)[1]

    def per_sample(self, out, y):
        """(N,) the loss of each row, whose mean is ``value``: what sample weights multiply.

        Args:
            out: the model's outputs (N, ...).
            y: targets shaped like ``out``, or class indices turned into one-hot rows.
        """
        diff = out - self._targets(y, out)
        return (diff * diff).reshape(len(out), -1).mean(axis=1)

    @staticmethod
    def _targets(y, out):
        if y.ndim == 1 and out.shape[1] == 1:   # the values of the one output
            return np.asarray(y, out.dtype)[:, None]
        return as_targets(y, out.shape[1], out.dtype)

    def check_targets(self, y, output_shape, what="y"):
        """Real targets shaped like the outputs as float32; (N,) for several outputs are class indices.

        Args:
            y: targets (N, *output_shape), (N,) for a single output, or class indices (N,).
            output_shape: the model's output shape, without the batch axis.
            what: the call to name in a message.

        Raises:
            ShapeError: targets of another shape than the outputs.
            ValueError: a NaN or infinite target, or a fractional class index.
        """
        k = _outputs(output_shape)
        if y.ndim == 1 and k > 1:
            return class_indices(y, what, f"give targets of shape (N, {k}) for a regression")
        _require_finite(y, what)
        if y.shape[1:] != tuple(output_shape) and not (y.ndim == 1 and k == 1):
            raise ShapeError(f"{what}: targets of shape {fmt_shape(y.shape)} do not fit the model's {k} outputs: "
                             f"give {fmt_shape(('N', *output_shape))}"
                             + (", or class indices (N,)" if k > 1 else " or (N,)"))
        return y.astype(np.float32, copy=False)

    def get_config(self):
        """``{"type": "MSE"}``: what model.json stores."""
        return {"type": "MSE"}


# Keras's names are accepted too: "categorical_" (one-hot) and "sparse_" (indices) are one CrossEntropy
# here, which takes either; so is MSE's long name.
LOSSES = {"CrossEntropy": CrossEntropy, "MSE": MSE, "crossentropy": CrossEntropy,
          "cross_entropy": CrossEntropy, "mse": MSE, "categorical_crossentropy": CrossEntropy,
          "sparse_categorical_crossentropy": CrossEntropy, "mean_squared_error": MSE}


def register_loss(cls):
    """Class decorator: make a ``Loss`` subclass known by its class name, so models using it save and load.

    ``load_model`` rebuilds it as ``cls(**config)``, from its ``get_config()`` without "type".

    Args:
        cls: a ``Loss`` subclass.

    Raises:
        TypeError: ``cls`` is not a Loss subclass.
    """
    if not (isinstance(cls, type) and issubclass(cls, Loss)):
        raise TypeError(f"register_loss takes a Loss subclass, got {cls!r}")
    LOSSES[cls.__name__] = cls
    return cls


def get(loss):
    """A loss from an instance (returned as it is) or a name.

    Args:
        loss: a ``Loss``, or a name: "crossentropy", "mse", Keras's names, or a registered class's name.

    Raises:
        ValueError: an unknown name, or an object that is not a ``Loss``.
    """
    if isinstance(loss, str):
        try:
            return LOSSES[loss]()
        except KeyError:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(sorted(set(LOSSES)))}") from None
    if not isinstance(loss, Loss):
        raise ValueError(f"loss must be a name or a core.losses.Loss (with forward and backward), got {loss!r}")
    return loss
