"""Losses. Each gives its value and the gradient of that value in one pass.

CrossEntropy takes *logits*: the model hands it the input of a final Softmax
(so the pair backpropagates as (p - y) / N) or the raw outputs otherwise.
Log-sum-exp keeps it finite for any logits.
"""
import numpy as np

from .errors import ShapeError
from .layers.base import fmt_shape


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


def log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class CrossEntropy:
    """Mean categorical cross-entropy of logits against labels."""
    fuses_softmax = True

    def value_and_grad(self, z, y):
        t = as_targets(y, z.shape[1], z.dtype)
        logp = log_softmax(z)
        loss = -float((t * logp).sum()) / len(z)
        grad = (np.exp(logp) - t) * np.asarray(1.0 / len(z), z.dtype)
        return loss, grad

    def value(self, z, y):
        t = as_targets(y, z.shape[1], z.dtype)
        return -float((t * log_softmax(z)).sum()) / len(z)

    def per_sample(self, z, y):
        """(N,) the loss of each row, whose mean is ``value``: what sample weights multiply."""
        return -(as_targets(y, z.shape[1], z.dtype) * log_softmax(z)).sum(axis=1)

    def get_config(self):
        return {"type": "CrossEntropy"}


class MSE:
    """Mean squared error over every output, against one-hot (or real) targets."""
    fuses_softmax = False

    def value_and_grad(self, out, y):
        diff = out - as_targets(y, out.shape[1], out.dtype)
        return float((diff * diff).mean()), diff * np.asarray(2.0 / diff.size, out.dtype)

    def value(self, out, y):
        diff = out - as_targets(y, out.shape[1], out.dtype)
        return float((diff * diff).mean())

    def per_sample(self, out, y):
        """(N,) the loss of each row, whose mean is ``value``: what sample weights multiply."""
        diff = out - as_targets(y, out.shape[1], out.dtype)
        return (diff * diff).reshape(len(out), -1).mean(axis=1)

    def get_config(self):
        return {"type": "MSE"}


# Keras's names are accepted too: "categorical_" (one-hot) and "sparse_" (indices) are one CrossEntropy
# here, which takes either; so is MSE's long name.
LOSSES = {"CrossEntropy": CrossEntropy, "MSE": MSE, "crossentropy": CrossEntropy,
          "cross_entropy": CrossEntropy, "mse": MSE, "categorical_crossentropy": CrossEntropy,
          "sparse_categorical_crossentropy": CrossEntropy, "mean_squared_error": MSE}


def get(loss):
    if isinstance(loss, str):
        try:
            return LOSSES[loss]()
        except KeyError:
            raise ValueError(f"unknown loss {loss!r}; choose CrossEntropy or MSE") from None
    return loss
