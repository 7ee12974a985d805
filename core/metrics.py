"""Metrics ``compile(metrics=[...])`` adds to the logs, and the per-epoch mean of batch logs.

Accuracy is always reported; top-k accuracy is what a compiled model may add.
A metric is a callable ``metric(outputs, y) -> float`` with a ``name``: the key
in the logs, the history and (with 'val_') the validation figures. Outputs may
be logits or probabilities: a softmax keeps their order.
"""
import numpy as np


def accuracy(out, y):
    """Fraction of rows whose top output is the label (index or one-hot)."""
    return float((out.argmax(axis=1) == _labels(y)).mean())


class TopKAccuracy:
    """Fraction of rows whose label is among the ``k`` highest outputs; labels as indices or one-hot.

    Args:
        k: how many of the top outputs count (Keras's default, 5).
        name: the logs key; default ``top_{k}_accuracy``.
    """

    def __init__(self, k=5, name=None):
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ValueError(f"TopKAccuracy: k must be an int >= 1, got {k!r}")
        self.k, self.name = int(k), name or f"top_{k}_accuracy"

    def __call__(self, out, y):
        labels = _labels(y)
        k = min(self.k, out.shape[1])
        top = np.argpartition(-out, k - 1, axis=1)[:, :k]
        return float((top == labels[:, None]).any(axis=1).mean())

    def __repr__(self):
        return f"TopKAccuracy(k={self.k}, name={self.name!r})"


# Keras's names; accuracy is always in the logs, so asking for it adds nothing.
ALWAYS = ("accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy")
NAMED = {"top_k_categorical_accuracy": 5, "sparse_top_k_categorical_accuracy": 5}


def get(metrics):
    """The metric objects of ``compile(metrics=...)``: names or callables with a ``name``."""
    out = []
    for m in metrics or []:
        if isinstance(m, str) and m in ALWAYS:
            continue
        if isinstance(m, str) and m in NAMED:
            m = TopKAccuracy(NAMED[m], name=m)
        elif not (callable(m) and isinstance(getattr(m, "name", None), str)):
            raise ValueError(f"unknown metric {m!r}; give 'accuracy', {', '.join(map(repr, NAMED))} or an object "
                             f"like TopKAccuracy(k) (a callable with a name)")
        out.append(m)
    names = ["loss", "accuracy", *(m.name for m in out)]
    if len(set(names)) != len(names):
        raise ValueError(f"metric names must differ from each other and from loss and accuracy, got {names}")
    return out


class MeanLogs:
    """Sample-weighted means of batch logs over an epoch or an evaluation."""

    def __init__(self):
        self.sums, self.count = {}, 0

    def add(self, logs, n):
        for k, v in logs.items():
            self.sums[k] = self.sums.get(k, 0.0) + v * n
        self.count += n

    def result(self):
        return {k: v / self.count for k, v in self.sums.items()}


def _labels(y):
    return y if y.ndim == 1 else y.argmax(axis=1)
