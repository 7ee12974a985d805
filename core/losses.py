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
    returned them. ``backward(out, y) -> array``: d loss / d out, the shape of ``out``.
    ``check_targets(y, output_shape, what)`` checks and converts all of ``y``
    once before training; the default takes finite numbers of any shape.
    ``fuses_softmax = True`` means the loss takes the logits before a final
    Softmax (as CrossEntropy does); leave it False to get the outputs. A loss
    keeps no state between calls beyond its settings: models may share one.

    Saving a model compiled with a loss of your own needs ``register_loss``,
    so that ``load_model`` can rebuild it from its ``get_config()``.

    Example, a mean absolute error::

        import numpy as np
        from core.losses import Loss, register_loss

        @register_loss
        class MAE(Loss):
            def forward(self, out, y):
                return float(np.abs(out - y.reshape(out.shape)).mean())

            def backward(self, out, y):
                return np.sign(out - y.reshape(out.shape)) / out.size

        model.compile("adam", MAE())
    """
    fuses_softmax = False

    def forward(self, out, y):
        raise NotImplementedError(f"{type(self).__name__} must define forward(out, y) -> mean loss")

    def backward(self, out, y):
        raise NotImplementedError(f"{type(self).__name__} must define backward(out, y) -> d loss / d out")

    def value(self, out, y):
        return self.forward(out, y)

    def value_and_grad(self, out, y):
        """(loss, d loss / d out) of a batch; a loss that shares work between the two overrides it."""
        return self.forward(out, y), self.backward(out, y)

    def check_targets(self, y, output_shape, what="y"):
        """All of ``y`` as this loss takes it; a ValueError naming ``what`` when it cannot."""
        _require_finite(y, what)
        return y

    def get_config(self):
        return {"type": type(self).__name__}


def one_hot(y, k, dtype=np.float32):
    out = np.zeros((len(y), k), dtype)
    out[np.arange(len(y)), y] = 1
    return out


def as_targets(y, k, dtype):
    """Class indices (N,) or one-hot/soft (N, K) -> (N, K) targets; checks the shapes."""
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
    """1-D labels as int64 class indices; a fraction or a NaN is refused (it would be truncated to a class)."""
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
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class CrossEntropy(Loss):
    """Mean categorical cross-entropy of logits against class indices (N,) or probability rows (N, K)."""
    fuses_softmax = True

    def value_and_grad(self, z, y):
        t = as_targets(y, z.shape[1], z.dtype)
        logp = log_softmax(z)
        loss = -float((t * logp).sum()) / len(z)
        grad = (np.exp(logp) - t) * np.asarray(1.0 / len(z), z.dtype)
        return loss, grad

    def forward(self, z, y):
        t = as_targets(y, z.shape[1], z.dtype)
        return -float((t * log_softmax(z)).sum()) / len(z)

    def backward(self, z, y):
        return self.value_and_grad(z, y)[1]

    def check_targets(self, y, output_shape, what="y"):
        """Classes only: a single output (whose log-softmax is always 0) and float targets are refused."""
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


class MSE(Loss):
    """Mean squared error over every output, against real targets shaped like the outputs (a regression),
    or against one-hot rows of class indices (N,) when there are several outputs."""

    def value_and_grad(self, out, y):
        diff = out - self._targets(y, out)
        return float((diff * diff).mean()), diff * np.asarray(2.0 / diff.size, out.dtype)

    def forward(self, out, y):
        diff = out - self._targets(y, out)
        return float((diff * diff).mean())

    def backward(self, out, y):
        return self.value_and_grad(out, y)[1]

    @staticmethod
    def _targets(y, out):
        if y.ndim == 1 and out.shape[1] == 1:   # the values of the one output
            return np.asarray(y, out.dtype)[:, None]
        return as_targets(y, out.shape[1], out.dtype)

    def check_targets(self, y, output_shape, what="y"):
        """(N,) targets of one output, or targets shaped like the outputs; (N,) for several outputs
        are class indices."""
        k = _outputs(output_shape)
        if y.ndim == 1 and k > 1:
            return class_indices(y, what, f"give targets of shape (N, {k}) for a regression")
        _require_finite(y, what)
        if y.shape[1:] != tuple(output_shape) and not (y.ndim == 1 and k == 1):
            raise ShapeError(f"{what}: targets of shape {fmt_shape(y.shape)} do not fit the model's {k} outputs: "
                             f"give {fmt_shape(('N', *output_shape))}"
                             + (", or class indices (N,)" if k > 1 else " or (N,)"))
        return y.astype(np.float32, copy=False)


LOSSES = {"CrossEntropy": CrossEntropy, "MSE": MSE, "crossentropy": CrossEntropy,
          "cross_entropy": CrossEntropy, "mse": MSE}


def register_loss(cls):
    """Class decorator: make a ``Loss`` subclass known by its class name, so a model compiled with it saves and
    loads (``load_model`` rebuilds it as ``cls(**config)`` from its ``get_config()`` without 'type')."""
    if not (isinstance(cls, type) and issubclass(cls, Loss)):
        raise TypeError(f"register_loss takes a Loss subclass, got {cls!r}")
    LOSSES[cls.__name__] = cls
    return cls


def get(loss):
    if isinstance(loss, str):
        try:
            return LOSSES[loss]()
        except KeyError:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(sorted(set(LOSSES)))}") from None
    if not isinstance(loss, Loss):
        raise ValueError(f"loss must be a name or a core.losses.Loss (with forward and backward), got {loss!r}")
    return loss
