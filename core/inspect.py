"""Looking inside a model: activations, filters, saliency, evaluation and weight statistics.

NumPy only. The GUI's Inside and Evaluation views draw what these functions
return and compute nothing themselves, so everything a picture shows can be
checked in a test or reproduced in a notebook.

Functions that run the model (``activations``, ``input_gradients``,
``saliency``, ``evaluate_predictions``, ``batch_gradients``) overwrite the
layers' caches and gradients as a training step would: give them a copy
(``model.copy()``) when the model may be training in another thread.

"Class scores" (``Sequential.scores``) are the logits before the model's
``output_activation`` (a final Softmax or Sigmoid, as a layer or fused into
the last Dense), else the raw outputs: the quantity whose gradient tells which
pixels argue for a class (the softmax would mix every other class into it).
"""
from dataclasses import dataclass

import numpy as np

from . import parallel
from .errors import ShapeError
from .layers import Dense, Dropout, Flatten
from .layers.base import fmt_shape
from .losses import CrossEntropy, log_softmax


# ----- running one input through the model ------------------------------------------------

def one_input(model, x):
    """``x`` as a float32 (1, C, H, W) batch of one; (C, H, W) and grey (H, W) are accepted.

    Args:
        model: a built ``Sequential``.
        x: one input, with or without its batch axis.

    Raises:
        ShapeError: ``x`` is not one input of the model's shape.
    """
    x = np.asarray(x, np.float32)
    shape = tuple(model.input_shape)
    if x.shape == shape[1:] and shape[0] == 1:
        x = x[None]
    if x.shape == shape:
        x = x[None]
    if x.shape != (1, *shape):
        raise ShapeError(f"expected one input of shape {fmt_shape((1, *shape))}, got {fmt_shape(x.shape)}")
    return x


def layer_position(model, layer):
    """``layer`` as a position in ``model.layers`` from 0, checked; negative counts from the end.

    Args:
        model: a ``Sequential``.
        layer: an int position.

    Raises:
        ValueError: not an int, or no such position.
    """
    n = len(model.layers)
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not -n <= layer < n:
        raise ValueError(f"layer must be a position in model.layers, from 0 to {n - 1}, got {layer!r}")
    return int(layer) % n


def activations(model, x):
    """Every layer's output for one input, in inference mode: [(layer, array without batch axis)].

    Args:
        model: a built ``Sequential``.
        x: one input, as ``one_input`` takes it.
    """
    out = one_input(model, x)
    result = []
    for layer in model.layers:
        out = layer.forward(out, training=False)
        result.append((layer, np.ascontiguousarray(out[0], dtype=np.float32)))
    return result


def class_scores(model, x, training=False):
    """The class scores (N, K) of a batch: logits before a final softmax or sigmoid.

    Args:
        model: a built ``Sequential``.
        x: a float32 batch (N, *input_shape).
        training: run Dropout and BatchNorm as in training.
    """
    return model.scores(x, training)


def input_gradients(model, x):
    """d score_k / d input for every class k of one input: (K, C, H, W), float32.

    One batched pass: the input repeated K times, each copy backpropagating
    the unit vector of its own class, down to the input (``model.input_gradients``).

    Args:
        model: a built ``Sequential``.
        x: one input, as ``one_input`` takes it.
    """
    x = one_input(model, x)
    k = int(np.prod(model.output_shape))
    with model.input_gradients():
        scores = class_scores(model, np.repeat(x, k, axis=0))
        grad = model.backward_scores(np.eye(k, dtype=scores.dtype))
    return np.asarray(grad, np.float32)


def saliency(model, x, class_index=None):
    """How strongly each pixel moves the score of ``class_index``: (H, W), max |gradient| over channels.

    ``class_index=None`` gives every class at once: (K, H, W).

    Args:
        model: a built ``Sequential``.
        x: one input, as ``one_input`` takes it.
        class_index: the class whose score is explained, or None for every class.

    Raises:
        ValueError: ``class_index`` outside the model's classes.
    """
    grads = np.abs(input_gradients(model, x)).max(axis=1)
    if class_index is None:
        return grads
    if not 0 <= class_index < len(grads):
        raise ValueError(f"class_index must be in [0, {len(grads) - 1}], got {class_index}")
    return grads[class_index]


# ----- filters and feature maps ------------------------------------------------------------

@dataclass
class Tiles:
    """Signed images to draw as a grid with one diverging colour map.

    ``tiles[i, j]`` is part ``j`` of tile ``i`` (an input channel of filter
    ``i``), drawn side by side; ``limit`` is the largest |value| of all of
    them, so the colour map is symmetric around zero and tiles compare.
    ``limits[i]`` is tile ``i``'s own largest |value| (over all its parts), for
    showing the pattern of a weak filter.

    Attributes:
        tiles: (n, parts, h, w) float32.
        limit: the largest |value| of all tiles.
        limits: (n,) each tile's own largest |value|.
    """
    tiles: np.ndarray
    limit: float
    limits: np.ndarray


def filter_grid(W, input_channel=None):
    """The kernels of a Conv2D weight (out, in, kh, kw): one tile per output channel.

    ``input_channel`` picks one input channel's kernel; None shows every input
    channel side by side. The limit covers the whole layer either way, so
    switching channels keeps the colours comparable.

    Args:
        W: a Conv2D weight (out, in, kh, kw).
        input_channel: the input channel to show, or None for all of them.

    Returns:
        ``Tiles`` of shape (out, 1 or in, kh, kw).

    Raises:
        ShapeError: ``W`` is not 4-D.
        ValueError: ``input_channel`` out of range.
    """
    W = np.asarray(W, np.float32)
    if W.ndim != 4:
        raise ShapeError(f"filter_grid expects a Conv2D weight (out, in, kh, kw), got shape {fmt_shape(W.shape)}")
    if input_channel is not None:
        if not 0 <= input_channel < W.shape[1]:
            raise ValueError(f"input_channel must be in [0, {W.shape[1] - 1}], got {input_channel}")
        W_shown = W[:, input_channel:input_channel + 1]
    else:
        W_shown = W
    return Tiles(np.ascontiguousarray(W_shown), _limit(W), np.abs(W).max(axis=(1, 2, 3)))


def dense_unit_images(W, input_shape, units=None):
    """A Dense weight (features, units) on flattened images: each unit's weights as (C, H, W).

    ``units`` (a slice or index array) chooses which units, e.g. ``slice(0, 64)``.

    Args:
        W: a Dense weight (features, units).
        input_shape: the images' (C, H, W); C * H * W must equal the features.
        units: which units to show, or None for all.

    Raises:
        ShapeError: ``W`` does not sit on images of ``input_shape``.
    """
    W = np.asarray(W, np.float32)
    c, h, w = input_shape
    if W.ndim != 2 or W.shape[0] != c * h * w:
        raise ShapeError(f"a Dense weight of shape {fmt_shape(W.shape)} does not sit on "
                         f"{fmt_shape(input_shape, 'x')} images (needs {c * h * w} input features)")
    chosen = W[:, units] if units is not None else W
    return Tiles(np.ascontiguousarray(chosen.T.reshape(-1, c, h, w)), _limit(W), np.abs(chosen).max(axis=0))


def _limit(a):
    return float(np.abs(a).max()) if a.size else 0.0


def dense_on_input(model):
    """The first Dense layer when only Flatten or Dropout stand before it (it sees raw pixels), else None.

    Args:
        model: a ``Sequential``.
    """
    for layer in model.layers:
        if isinstance(layer, Dense):
            return layer
        if not isinstance(layer, (Flatten, Dropout)):
            return None
    return None


@dataclass
class FeatureMaps:
    """One layer's activations ready to draw as a grid of maps.

    ``signed`` maps need a diverging colour map around zero, others a
    sequential one from 0; ``limit`` is the layer's largest |value|, shared by
    all maps so a weak channel looks weak. A flat vector of ``units`` values
    becomes one near-square map (row-major, zero-padded at the end).

    Attributes:
        maps: (n, h, w) float32.
        signed: True when some value is negative.
        limit: the layer's largest |value|.
        units: the vector's length when a flat vector was arranged as one map, else None.
    """
    maps: np.ndarray
    signed: bool
    limit: float
    units: int | None = None


def feature_map_grid(act):
    """(C, H, W) maps, or a flat (F,) vector arranged as one map; see ``FeatureMaps``.

    Args:
        act: one layer's activations without the batch axis, (C, H, W) or (F,).

    Raises:
        ShapeError: an array of another rank.
    """
    act = np.asarray(act, np.float32)
    signed = bool(act.size and act.min() < 0)
    if act.ndim == 3:
        return FeatureMaps(act, signed, _limit(act))
    if act.ndim != 1:
        raise ShapeError(f"feature_map_grid expects (C, H, W) or (F,), got shape {fmt_shape(act.shape)}")
    rows, cols = vector_shape(len(act))
    flat = np.zeros(rows * cols, np.float32)
    flat[:len(act)] = act
    return FeatureMaps(flat.reshape(1, rows, cols), signed, _limit(act), units=len(act))


def vector_shape(n):
    """(rows, cols) for showing n units: one row when short, else a near-square block.

    Args:
        n: the number of units.
    """
    if n <= 32:
        return 1, n
    cols = int(np.ceil(np.sqrt(n)))
    return int(np.ceil(n / cols)), cols


# ----- evaluation ------------------------------------------------------------------------

@dataclass
class Evaluation:
    """A model's answers on a labelled set, and the summaries the Evaluation view shows.

    Attributes:
        probs: (N, K) float32 class probabilities.
        preds: (N,) int64 predicted classes.
        labels: (N,) int64 true classes.
        loss: the mean cross-entropy of the class scores.
        accuracy: the fraction of right predictions.
        confusion: (K, K) counts, rows true, columns predicted.
        per_class: (K,) accuracy of each true class (NaN when absent).
    """
    probs: np.ndarray
    preds: np.ndarray
    labels: np.ndarray
    loss: float
    accuracy: float
    confusion: np.ndarray
    per_class: np.ndarray


def confusion_matrix(y_true, y_pred, k):
    """(k, k) int64 counts: row = true class, column = predicted class.

    Args:
        y_true: true class indices (N,).
        y_pred: predicted class indices (N,).
        k: the number of classes.

    Raises:
        ValueError: shapes that differ, or an index outside [0, k).
    """
    y_true, y_pred = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {fmt_shape(y_true.shape)} vs {fmt_shape(y_pred.shape)}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= k):
            raise ValueError(f"{name} must hold class indices in [0, {k - 1}], got [{y.min()}, {y.max()}]")
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)


def per_class_accuracy(cm):
    """Diagonal over row sums: each true class's recall; NaN for a class with no samples.

    Args:
        cm: a (K, K) confusion matrix, rows true.
    """
    cm = np.asarray(cm)
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(cm) / totals, np.nan)


def cell_indices(labels, preds, true_class, pred_class):
    """Indices of the samples behind one confusion-matrix cell.

    Args:
        labels: true classes (N,).
        preds: predicted classes (N,).
        true_class: the cell's row.
        pred_class: the cell's column.
    """
    return np.flatnonzero((np.asarray(labels) == true_class) & (np.asarray(preds) == pred_class))


def top_mistakes(probs, y, n):
    """Indices of the ``n`` most confident wrong predictions, most confident first (ties by index).

    Args:
        probs: (N, K) class probabilities.
        y: true classes (N,).
        n: how many to return at most.
    """
    probs, y = np.asarray(probs), np.asarray(y)
    preds = probs.argmax(axis=1)
    wrong = np.flatnonzero(preds != y)
    confidence = probs[wrong, preds[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:n]


@parallel.pinned
def evaluate_predictions(model, x, y, batch_size=256, progress=None):
    """Probabilities, predictions, loss, accuracy and confusion matrix of ``model`` on (x, y).

    ``progress(done, total)`` is called after each batch, so a GUI can show a
    bar; raising from it cancels the evaluation. The loss is cross-entropy of
    the class scores whatever the model was compiled with, the same number
    ``model.evaluate`` gives for a cross-entropy model. A model's softmax
    temperature divides the scores first, so ``probs`` are what ``predict`` gives.
    The scores come as ``predict`` computes them: on numpynet's threads, BLAS
    held to one (``parallel.limited``), each BatchNorm folded into the layer
    before it (``core.inference``).

    Args:
        model: a built ``Sequential``.
        x: images, as ``Sequential.predict`` takes them.
        y: labels, class indices (N,) or one-hot (N, K).
        batch_size: samples per forward pass.
        progress: ``progress(done, total)`` after each batch, or None.

    Returns:
        An ``Evaluation``.

    Raises:
        ShapeError: ``x`` does not match the model.
        ValueError: labels that are not class indices, or lengths that differ.
    """
    x = model._check_input(x, "evaluate_predictions")
    y = model._check_labels(y, len(x))
    labels = y if y.ndim == 1 else y.argmax(axis=1)
    k = int(np.prod(model.output_shape))
    probs = np.empty((len(x), k), np.float32)
    temperature = model.meta.get("temperature", 1)     # as ``predict`` applies it (core.surgery.set_temperature)
    total_loss = 0.0
    scores = model._inference(*model.logits_path(), len(x))
    for start in range(0, len(x), batch_size):
        stop = min(start + batch_size, len(x))
        logp = log_softmax(scores(x[start:stop]) / temperature)
        probs[start:stop] = np.exp(logp)
        total_loss -= float(logp[np.arange(stop - start), labels[start:stop]].sum())
        if progress is not None:
            progress(stop, len(x))
    preds = probs.argmax(axis=1)
    cm = confusion_matrix(labels, preds, k)
    return Evaluation(probs, preds, labels, total_loss / max(len(x), 1), float((preds == labels).mean()),
                      cm, per_class_accuracy(cm))


# ----- weights and gradients over time -----------------------------------------------------

@dataclass
class LayerHistogram:
    """Histograms of one weight array and of its gradient magnitudes.

    Gradients are binned on log10|g| over fixed edges, so successive updates
    line up and a drift to 1e-8 (vanishing) or 1e+2 (exploding) is plain;
    exact zeros (dead ReLUs) cannot be logged and are counted apart.

    Attributes:
        key: '3.W': layer position (from 0) and parameter name.
        weight_counts: the weights' histogram counts.
        weight_edges: its bin edges, symmetric around zero.
        grad_counts: the histogram of log10 |gradient|, or None without gradients.
        grad_edges: its bin edges (log10), or None.
        zero_grads: the fraction of exactly-zero gradients.
        grad_rms: the gradients' root mean square (NaN without gradients).
    """
    key: str
    weight_counts: np.ndarray
    weight_edges: np.ndarray
    grad_counts: np.ndarray | None = None
    grad_edges: np.ndarray | None = None
    zero_grads: float = 0.0
    grad_rms: float = float("nan")


GRAD_LOG_RANGE = (-10.0, 2.0)


def gradient_log_rms(grads):
    """{key: log10 of the root-mean-square gradient}, one number per array, to plot over training.

    Vanishing gradients fall, exploding ones climb. Zero gradients give -30.

    Args:
        grads: {key: gradient array}, as ``batch_gradients`` returns.
    """
    return {key: float(np.log10(max(np.sqrt(_mean_square(g)), 1e-30))) for key, g in grads.items()}


def _mean_square(g):
    """The mean of ``g``'s squares: a dot product in ``g``'s own float32, a tenth of the time of squaring it in
    float64 (29 against 280 us for LeNet-5's largest gradient; the app plots each layer's twice a second while
    it trains), and a few parts in a million off, which no log plot shows; in float64 when float32
    overflows, squares above 3e38 (an exploding gradient)."""
    flat = g.ravel()
    total = float(np.vdot(flat, flat))
    if not np.isfinite(total):
        total = float(np.vdot(flat.astype(np.float64), flat))
    return total / max(flat.size, 1)


def weight_histograms(weights, grads=None, bins=40, param="W", grad_range=GRAD_LOG_RANGE):
    """Per-layer histograms of parameter ``param`` in a ``get_weights()``-style dict, in layer order.

    Weight edges are symmetric around zero; gradient edges span
    ``grad_range`` in log10, values outside it land in the end bins.

    Args:
        weights: {"position.name": array}, as ``Sequential.get_weights`` returns.
        grads: gradients under the same keys, or None for weights only.
        bins: bins per histogram.
        param: the parameter name to show ("W", "b", "gamma", ...).
        grad_range: (low, high) log10 |gradient| the gradient bins span.

    Returns:
        A list of ``LayerHistogram``, in layer order.
    """
    keys = sorted((k for k in weights if k.split(".", 1)[1] == param), key=lambda k: int(k.split(".")[0]))
    result = []
    for key in keys:
        w = np.asarray(weights[key], np.float32).ravel()
        m = _limit(w) or 1.0
        wc, we = np.histogram(w, bins=bins, range=(-m, m))
        hist = LayerHistogram(key, wc, we)
        if grads is not None and key in grads:
            g = np.abs(np.asarray(grads[key], np.float64).ravel())
            nonzero = g[g > 0]
            logs = np.clip(np.log10(nonzero), grad_range[0], grad_range[1])
            hist.grad_counts, hist.grad_edges = np.histogram(logs, bins=bins, range=grad_range)
            hist.zero_grads = 1.0 - len(nonzero) / max(len(g), 1)
            hist.grad_rms = float(np.sqrt(np.mean(g * g))) if g.size else float("nan")
        result.append(hist)
    return result


def batch_gradients(model, x, y):
    """Gradients of the cross-entropy of one batch, as a training step computes them, keyed '3.W'.

    For looking at gradient sizes when no training is running; the forward is
    in training mode (dropout on, BatchNorm on batch statistics), so run it on
    a copy: BatchNorm's running statistics move.

    Args:
        model: a built ``Sequential``.
        x: a batch of images.
        y: its labels, class indices (N,) or one-hot (N, K).
    """
    x = model._check_input(x, "batch_gradients")
    y = model._check_labels(y, len(x))
    _, grad = CrossEntropy().value_and_grad(class_scores(model, x, training=True), y)
    model.backward_scores(grad)
    return {f"{i}.{name}": g.copy() for i, layer in enumerate(model.layers) for name, g in layer.grads.items()}
