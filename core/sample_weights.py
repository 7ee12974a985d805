"""``fit``'s ``class_weight`` and ``sample_weight``: per-sample weights and the weighted loss.

As in Keras, the weighted loss of a batch is ``sum(w_i * loss_i) / N``: a
sample of weight 0 does not move the loss or the gradient, and weights of 1
give the plain mean. Class and sample weights multiply.
"""
import numbers

import numpy as np

from .layers.base import fmt_shape


def per_sample_weights(y, class_weight=None, sample_weight=None):
    """(N,) float32 weights from ``class_weight`` ({class: weight}) and ``sample_weight`` (N,); None if neither."""
    weights = None
    if sample_weight is not None:
        weights = _checked_sample_weight(sample_weight, len(y))
    if class_weight is not None:
        by_class = _class_weights(class_weight, y)
        weights = by_class if weights is None else weights * by_class
    return weights


def _checked_sample_weight(sample_weight, n):
    w = np.asarray(sample_weight)
    if w.shape != (n,) or w.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must be {n} numbers, one per sample (shape {fmt_shape((n,))}), "
                         f"got {w.dtype} of shape {fmt_shape(w.shape)}")
    w = w.astype(np.float32)
    if not (np.isfinite(w) & (w >= 0)).all():
        i = int(np.flatnonzero(~(np.isfinite(w) & (w >= 0)))[0])
        raise ValueError(f"sample_weight must be finite and >= 0, but sample {i} has {float(w[i])}")
    return w


def _class_weights(class_weight, y):
    """Each sample's class's weight; a class in ``y`` missing from the dict is an error, as in Keras."""
    if not isinstance(class_weight, dict):
        raise ValueError(f"class_weight must be a dict {{class index: weight}}, got {type(class_weight).__name__}")
    for k, v in class_weight.items():
        if not (isinstance(k, numbers.Integral) and isinstance(v, numbers.Real) and np.isfinite(v) and v >= 0):
            raise ValueError(f"class_weight maps class indices to weights >= 0, got {k!r}: {v!r}")
    labels = np.asarray(y if y.ndim == 1 else y.argmax(axis=1)).astype(np.int64)
    missing = sorted(set(np.unique(labels).tolist()) - set(int(k) for k in class_weight))
    if missing:
        raise ValueError(f"class_weight has no weight for class {missing[0]}, which the labels hold "
                         f"(give a weight to every class: {sorted(set(np.unique(labels).tolist()))})")
    table = np.zeros(labels.max() + 1, np.float32)
    for k, v in class_weight.items():
        if 0 <= k < len(table):
            table[k] = v
    return table[labels]


def value_and_grad(loss, out, y, weights):
    """The loss of a batch and its gradient, weighted per sample when ``weights`` is not None."""
    if weights is None:
        return loss.value_and_grad(out, y)
    per_sample = getattr(loss, "per_sample", None)
    if per_sample is None:
        raise ValueError(f"class_weight and sample_weight need the loss's per_sample(outputs, y); "
                         f"{type(loss).__name__} has none")
    _, grad = loss.value_and_grad(out, y)   # the mean's gradient: row i is d loss_i / N
    value = float((per_sample(out, y) * weights).mean())
    return value, grad * weights.reshape(-1, *[1] * (grad.ndim - 1)).astype(grad.dtype)


def on_plain_scale(loss, weights):
    """A weighted loss divided by the mean weight: on the scale of an unweighted loss.

    The divergence guard measures losses against the loss of a model that knows
    nothing; weights of 1000 are no explosion, nor weights of 0.001 a recovery.
    """
    mean = 0.0 if weights is None else float(weights.mean())
    return loss / mean if mean > 0 else loss
