"""Abstaining and calibration: when a model may say "I don't know", and how far to trust its confidence.

A model's confidence is its top probability. Below a threshold it abstains:
``abstain`` gives the share of images it still answers (coverage) and its
accuracy on them, ``coverage_curve`` the whole trade-off. ``reliability``
compares confidence with accuracy bin by bin (the expected calibration error
sums the gaps), and ``fit_temperature`` finds the one number T that makes
softmax(logits / T) honest on validation data (Guo et al., 2017). Store it
with ``core.surgery.set_temperature``: ``predict`` then divides by it, and it
is saved with the model. ``calibrate_model`` fits it and measures the
calibration error before and after, in one pass over validation data.
"""
import math
from dataclasses import dataclass

import numpy as np

from .layers.base import fmt_shape
from .losses import log_softmax
from .surgery import require_softmax

CONFIDENT = 0.9                      # a mistake made above this confidence counts as a confident one
T_RANGE = (1e-2, 1e2)                # where fit_temperature looks: far beyond any useful temperature
GOLDEN = (math.sqrt(5) - 1) / 2


@dataclass
class Answered:
    """What a model answers at one confidence threshold.

    Attributes:
        threshold: the confidence at or above which it answers.
        coverage: the share of images answered, in [0, 1].
        accuracy: the accuracy on the answered images (NaN when none is answered).
        answered: (N,) bool, which images are answered.
    """
    threshold: float
    coverage: float
    accuracy: float
    answered: np.ndarray


def abstain(probs, labels, threshold):
    """Answer only where the top probability is at least ``threshold``; else say "I don't know".

    Threshold 0 answers everything; threshold 1 only what the model is certain of.

    Args:
        probs: (N, K) class probabilities (``Sequential.predict``).
        labels: the true classes, indices (N,) or one-hot (N, K).
        threshold: a confidence in [0, 1].

    Returns:
        An ``Answered``.

    Raises:
        ValueError: a threshold outside [0, 1], or probabilities and labels that do not fit.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)) or not 0 <= threshold <= 1:
        raise ValueError(f"the confidence threshold must be in [0, 1], got {threshold!r}")
    probs, labels = _checked(probs, labels)
    answered = probs.max(axis=1) >= threshold
    right = probs.argmax(axis=1) == labels
    accuracy = float(right[answered].mean()) if answered.any() else math.nan
    return Answered(float(threshold), float(answered.mean()), accuracy, answered)


def coverage_curve(probs, labels):
    """Accuracy against coverage, one point per distinct confidence, most confident first.

    Point i is ``abstain`` at threshold ``thresholds[i]``: it answers every image
    at least that confident (ties go together), so coverage rises to 1 at the end.

    Args:
        probs: (N, K) class probabilities.
        labels: the true classes, indices (N,) or one-hot (N, K).

    Returns:
        (thresholds, coverage, accuracy): three arrays of equal length, thresholds falling.

    Raises:
        ValueError: probabilities and labels that do not fit.
    """
    probs, labels = _checked(probs, labels)
    confidence = probs.max(axis=1)
    order = np.argsort(-confidence, kind="stable")
    confidence = confidence[order]
    right = np.cumsum(probs.argmax(axis=1)[order] == labels[order])
    last = np.flatnonzero(np.append(confidence[1:] != confidence[:-1], True))   # the end of each tie
    answered = last + 1
    return confidence[last], answered / len(probs), right[last] / answered


def average_confidence(probs):
    """The mean top probability: what the model believes its accuracy is.

    Args:
        probs: (N, K) class probabilities.
    """
    return float(np.asarray(probs).max(axis=1).mean())


def confident_mistakes(probs, labels, above=CONFIDENT):
    """How many images are wrong although their top probability exceeds ``above``.

    Args:
        probs: (N, K) class probabilities.
        labels: the true classes, indices (N,) or one-hot (N, K).
        above: the confidence a mistake must exceed to count (0.9: "very confident").

    Raises:
        ValueError: probabilities and labels that do not fit.
    """
    probs, labels = _checked(probs, labels)
    return int(((probs.max(axis=1) > above) & (probs.argmax(axis=1) != labels)).sum())


@dataclass
class Reliability:
    """A reliability diagram: confidence against accuracy in equal-width confidence bins.

    A calibrated model's bars lie on the diagonal. Bin i holds confidences in
    [edges[i], edges[i + 1]) (the last bin includes 1).

    Attributes:
        edges: (bins + 1,) bin edges from 0 to 1.
        confidence: (bins,) the mean confidence in each bin (NaN when empty).
        accuracy: (bins,) the accuracy in each bin (NaN when empty).
        counts: (bins,) images in each bin.
        ece: the expected calibration error: the gaps |accuracy - confidence| weighted by the
            share of images in each bin.
    """
    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    counts: np.ndarray
    ece: float


def reliability(probs, labels, bins=10):
    """Bin the images by confidence and compare each bin's confidence with its accuracy.

    Args:
        probs: (N, K) class probabilities.
        labels: the true classes, indices (N,) or one-hot (N, K).
        bins: the number of equal-width bins over [0, 1].

    Returns:
        A ``Reliability``.

    Raises:
        ValueError: ``bins`` below 1, or probabilities and labels that do not fit.
    """
    if int(bins) != bins or bins < 1:
        raise ValueError(f"bins must be a whole number of at least 1, got {bins!r}")
    probs, labels = _checked(probs, labels)
    confidence = probs.max(axis=1)
    which = np.minimum((confidence * bins).astype(np.int64), bins - 1)
    counts = np.bincount(which, minlength=bins)
    sums = np.bincount(which, confidence, minlength=bins)
    right = np.bincount(which, probs.argmax(axis=1) == labels, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf, acc = sums / counts, right / counts
    ece = float(np.abs(right - sums).sum() / len(probs))     # sum of n_b/N * |acc_b - conf_b|
    return Reliability(np.linspace(0, 1, int(bins) + 1), mean_conf, acc, counts, ece)


def fit_temperature(logits, labels):
    """The temperature T that minimises the cross-entropy of softmax(logits / T) on (logits, labels).

    A one-dimensional search (golden section on log T within ``T_RANGE``): the
    loss has one minimum there. T > 1 softens an over-confident model, T < 1
    sharpens a timid one; the predicted classes never change. Data it already
    separates perfectly has its minimum at the low end of the range.

    Args:
        logits: (N, K) class scores before the softmax (``Sequential.scores``), from validation data.
        labels: the true classes, indices (N,) or one-hot (N, K).

    Returns:
        T as a float.

    Raises:
        ValueError: scores that are not finite, or scores and labels that do not fit.
    """
    logits, labels = _checked(logits, labels, what="logits")
    if not np.isfinite(logits).all():
        raise ValueError("fit_temperature: the logits hold NaN or infinite values")
    rows = np.arange(len(logits))

    def loss(log_t):
        return -float(log_softmax(logits / math.exp(log_t))[rows, labels].mean())

    low, high = map(math.log, T_RANGE)
    a, b = high - GOLDEN * (high - low), low + GOLDEN * (high - low)
    fa, fb = loss(a), loss(b)
    while high - low > 1e-6:
        if fa <= fb:
            high, b, fb = b, a, fa
            a = high - GOLDEN * (high - low)
            fa = loss(a)
        else:
            low, a, fa = a, b, fb
            b = low + GOLDEN * (high - low)
            fb = loss(b)
    return math.exp((low + high) / 2)


def fit_model_temperature(model, x, y, batch_size=256):
    """``fit_temperature`` on the class scores ``model`` gives for validation data (x, y).

    Store the answer with ``core.surgery.set_temperature(model, T)``.

    Args:
        model: a built ``Sequential`` ending in a softmax (or in raw scores, which ``predict``
            turns into probabilities with one).
        x: validation images, as ``Sequential.predict`` takes them (not the test set: T would
            then be fitted to what it is judged on).
        y: their labels, indices (N,) or one-hot (N, K).
        batch_size: samples per forward pass (memory, not results).

    Returns:
        T as a float.

    Raises:
        ValueError: a model ending in a sigmoid or predicting raw values (its outputs are not one
            softmax), or data that does not fit.
        ShapeError: ``x`` does not match the model's input.
    """
    return fit_temperature(*_scores(model, x, y, batch_size, None, "fit_model_temperature"))


@dataclass
class Calibration:
    """A temperature fitted on validation data, and how honest the model is there before and after.

    Attributes:
        temperature: the fitted T (``core.surgery.set_temperature`` keeps it).
        before: the ``Reliability`` of the model as it is (with the temperature it already has).
        after: the ``Reliability`` with T instead.
    """
    temperature: float
    before: Reliability
    after: Reliability


def calibrate_model(model, x, y, bins=10, batch_size=256, progress=None):
    """Fit the model's temperature on validation data (x, y), and measure the calibration error it removes.

    One forward pass serves both: T is fitted on the class scores, and the
    reliability is measured on them at the model's temperature and at T. A
    window shows the two errors side by side before the user keeps T.

    Args:
        model: a built ``Sequential`` ending in a softmax (or in raw scores).
        x: validation images, as ``Sequential.predict`` takes them (not the test set).
        y: their labels, indices (N,) or one-hot (N, K).
        bins: the reliability diagrams' number of bins.
        batch_size: samples per forward pass (memory, not results).
        progress: ``progress(done, total)`` after each batch, or None; raising from it cancels.

    Returns:
        A ``Calibration``.

    Raises:
        ValueError: a model whose outputs are not one softmax, or data that does not fit.
        ShapeError: ``x`` does not match the model's input.
    """
    scores, labels = _scores(model, x, y, batch_size, progress, "calibrate_model")
    t = fit_temperature(scores, labels)
    before = reliability(np.exp(log_softmax(scores / model.meta.get("temperature", 1))), labels, bins)
    return Calibration(t, before, reliability(np.exp(log_softmax(scores / t)), labels, bins))


def _scores(model, x, y, batch_size, progress, what):
    """(class scores (N, K), labels) of ``model`` on (x, y), a batch at a time, reporting ``progress``."""
    require_softmax(model, what)
    x, y = model._check_data(x, y, what)
    parts = []
    for i, xb in model._batches(x, batch_size):     # uint8 pixels are scaled as predict scales them
        parts.append(model.scores(xb))
        if progress is not None:
            progress(i + len(xb), len(x))
    return np.concatenate(parts), y


def _checked(probs, labels, what="probs"):
    """(probs as float64 (N, K), labels as class indices (N,)), or a ValueError saying what does not fit."""
    probs = np.asarray(probs, np.float64)
    labels = np.asarray(labels)
    if probs.ndim != 2 or len(probs) == 0:
        raise ValueError(f"{what} must be a non-empty (N, K) array, got shape {fmt_shape(probs.shape)}")
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    if labels.shape != (len(probs),):
        raise ValueError(f"{what} has {len(probs)} rows but labels have shape {fmt_shape(labels.shape)}: "
                         f"one label per row")
    if labels.dtype.kind not in "iub" and not (labels == np.round(labels)).all():
        raise ValueError(f"labels must be class indices, got {labels[:5]!r}")
    labels = labels.astype(np.int64)
    if labels.min() < 0 or labels.max() >= probs.shape[1]:
        raise ValueError(f"labels must be class indices in [0, {probs.shape[1] - 1}], "
                         f"got [{labels.min()}, {labels.max()}]")
    return probs, labels
