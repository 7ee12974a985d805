"""Losses. Each gives its value and the gradient of that value in one pass.

CrossEntropy takes *logits*: the model hands it the input of a final Softmax
(so the pair backpropagates as (p - y) / N) or the raw outputs otherwise.
Log-sum-exp keeps it finite for any logits.
"""
import numpy as np

from .errors import ShapeError
from .layers.base import fmt_shape


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


def log_softmax(z):
    """Row-wise log of the softmax of (N, K) scores, finite for any magnitude (log-sum-exp).

    Args:
        z: scores (logits), (N, K).
    """
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class CrossEntropy:
    """Mean categorical cross-entropy of logits against labels.

    ``-mean(sum(t * log_softmax(z)))``. It takes *logits*: a model ending in
    Softmax hands it the Softmax's input, so the pair backpropagates exactly
    as ``(p - t) / N``. Labels may be class indices or one-hot rows. Known to
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

    def value(self, z, y):
        """The mean loss alone (no gradient), as ``evaluate`` needs it.

        Args:
            z: logits (N, K): the input of a final Softmax, else the raw outputs.
            y: class indices (N,) or one-hot (or soft) rows (N, K).
        """
        t = as_targets(y, z.shape[1], z.dtype)
        return -float((t * log_softmax(z)).sum()) / len(z)

    def per_sample(self, z, y):
        """(N,) the loss of each row, whose mean is ``value``: what sample weights multiply.

        Args:
            z: the logits (N, K).
            y: class indices (N,) or one-hot rows (N, K).
        """
        return -(as_targets(y, z.shape[1], z.dtype) * log_softmax(z)).sum(axis=1)

    def get_config(self):
        """``{"type": "CrossEntropy"}``: what model.json stores."""
        return {"type": "CrossEntropy"}


class MSE:
    """Mean squared error over every output, against one-hot (or real) targets.

    ``mean((out - t) ** 2)`` over every sample and output. Known to ``compile``
    as "mse" (also "MSE").
    """
    fuses_softmax = False

    def value_and_grad(self, out, y):
        """The mean loss and its gradient with respect to ``out``, in one pass.

        Args:
            out: the model's outputs (N, K).
            y: class indices (N,), compared as one-hot rows, or target rows (N, K).

        Returns:
            (loss as a float, gradient of the shape and dtype of ``out``).
        """
        diff = out - as_targets(y, out.shape[1], out.dtype)
        return float((diff * diff).mean()), diff * np.asarray(2.0 / diff.size, out.dtype)

    def value(self, out, y):
        """The mean loss alone (no gradient), as ``evaluate`` needs it.

        Args:
            out: the model's outputs (N, K).
            y: class indices (N,), compared as one-hot rows, or target rows (N, K).
        """
        diff = out - as_targets(y, out.shape[1], out.dtype)
        return float((diff * diff).mean())

    def per_sample(self, out, y):
        """(N,) the loss of each row, whose mean is ``value``: what sample weights multiply.

        Args:
            out: the model's outputs (N, ...).
            y: targets of the same shape, or class indices turned into one-hot rows.
        """
        diff = out - as_targets(y, out.shape[1], out.dtype)
        return (diff * diff).reshape(len(out), -1).mean(axis=1)

    def get_config(self):
        """``{"type": "MSE"}``: what model.json stores."""
        return {"type": "MSE"}


# Keras's names are accepted too: "categorical_" (one-hot) and "sparse_" (indices) are one CrossEntropy
# here, which takes either; so is MSE's long name.
LOSSES = {"CrossEntropy": CrossEntropy, "MSE": MSE, "crossentropy": CrossEntropy,
          "cross_entropy": CrossEntropy, "mse": MSE, "categorical_crossentropy": CrossEntropy,
          "sparse_categorical_crossentropy": CrossEntropy, "mean_squared_error": MSE}


def get(loss):
    """A loss from an instance (returned as it is) or a name.

    Args:
        loss: a loss object, or "crossentropy", "cross_entropy", "CrossEntropy", "mse", "MSE".

    Raises:
        ValueError: an unknown name.
    """
    if isinstance(loss, str):
        try:
            return LOSSES[loss]()
        except KeyError:
            raise ValueError(f"unknown loss {loss!r}; choose CrossEntropy or MSE") from None
    return loss
