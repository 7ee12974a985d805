"""A point map of how one layer arranges a set of images: its activations projected to 2-D.

Each image becomes one vector, the layer's output for it (a conv layer's
channels average-pooled first, so a point says which features fired, not
where), and the vectors are projected to the plane. PCA is NumPy and always
there; t-SNE (scikit-learn) and UMAP (umap-learn) come with the optional
extras ``numpynet-studio[tsne]`` and ``numpynet-studio[umap]``.
"""
import importlib.util
from dataclasses import dataclass

import numpy as np

from . import parallel
from .errors import MissingPackageError
from .inspect import layer_position
from .layers.base import fmt_shape

OVERSAMPLE = 10     # random directions beyond those wanted: the leading ones converge fast
POWER_STEPS = 4     # enough for axes within 1e-6 of the full SVD's on LeNet-5's activations
METHODS = {"pca": None, "tsne": ("sklearn", "tsne"), "umap": ("umap", "umap")}   # method -> (module, extra)


@dataclass
class Projection:
    """Points projected onto their principal axes.

    Attributes:
        points: (N, components) float32 coordinates along the axes.
        axes: (components, F) the unit principal directions, strongest first; each has its
            largest entry positive, so the same data always gives the same picture.
        explained_variance_ratio: (components,) the share of the total variance along each axis.
        mean: (F,) the centre the data was moved to before projecting.
    """
    points: np.ndarray
    axes: np.ndarray
    explained_variance_ratio: np.ndarray
    mean: np.ndarray


@parallel.limited
def pca(data, components=2):
    """Principal component analysis: the leading right singular vectors of the centred data.

    Only the leading axes are wanted, so they come from a randomized SVD (a
    block power iteration on a few random directions, Halko et al. 2011):
    exact when the data spans few dimensions, and otherwise within 1e-6 of the
    full SVD's axes on every layer of LeNet-5 (axes of nearly equal variance
    converge slower, but are then a matter of taste). 10,000 points of 1,000
    features take a fraction of a second where the full SVD takes tens
    (benchmarks/point_map.py). Its random start is fixed, so a map never
    changes between runs. Data with fewer features (or points) than
    ``components`` gets axes of zeros with no variance for the rest, so a map
    is always 2-D.

    Args:
        data: (N, F) points, N >= 2.
        components: how many axes to keep.

    Returns:
        A ``Projection``.

    Raises:
        ValueError: not a 2-D array of at least two points, or values that are not finite.
    """
    data = np.asarray(data, np.float64)
    if data.ndim != 2 or len(data) < 2:
        raise ValueError(f"pca needs (N, F) data of at least 2 points, got shape {fmt_shape(data.shape)}")
    if not np.isfinite(data).all():
        raise ValueError("pca: the data holds NaN or infinite values")
    mean = data.mean(axis=0)
    centred = data - mean
    s, vt = _leading_singular(centred, components)
    vt = vt * np.where(_largest_entry(vt) < 0, -1, 1)[:, None]       # a fixed sign: no flips between runs
    total = float(np.vdot(centred, centred))     # no squared copy of the data
    kept = min(components, len(vt))
    axes, ratios = np.zeros((components, data.shape[1])), np.zeros(components)
    axes[:kept] = vt[:kept]
    if total > 0:
        ratios[:kept] = s[:kept] ** 2 / total
    return Projection((centred @ axes.T).astype(np.float32), axes, ratios, mean)


def _leading_singular(a, k):
    """Singular values and right singular vectors of ``a``, the ``k`` largest first (a few more may
    follow), by a randomized range finder with power iterations; QR between steps keeps the small
    directions from being lost to rounding."""
    width = min(k + OVERSAMPLE, *a.shape)
    q, _ = np.linalg.qr(a @ np.random.default_rng(0).standard_normal((a.shape[1], width)))
    for _ in range(POWER_STEPS):
        q, _ = np.linalg.qr(a.T @ q)
        q, _ = np.linalg.qr(a @ q)
    _, s, vt = np.linalg.svd(q.T @ a, full_matrices=False)
    return s, vt


def _largest_entry(rows):
    """Each row's entry of the largest magnitude (the first such, when tied)."""
    return rows[np.arange(len(rows)), np.abs(rows).argmax(axis=1)]


@parallel.pinned
def layer_features(model, x, layer, batch_size=256, progress=None):
    """Each image's vector at ``layer``: its output, with conv channels average-pooled.

    Runs in inference mode, in batches, only as far as ``layer``.

    Args:
        model: a built ``Sequential`` (give a copy when it may be training in another thread).
        x: images as ``Sequential.predict`` takes them.
        layer: the position in ``model.layers`` (from 0; negative counts from the end).
        batch_size: images per forward pass (memory, not results).
        progress: ``progress(done, total)`` after each batch; returning False stops, and then the
            function returns None. None for no reports.

    Returns:
        (N, F) float32, F the layer's units or channels; None when ``progress`` stopped it.

    Raises:
        ValueError: a position out of range.
        ShapeError: ``x`` does not match the model's input.
    """
    found = _forward(model, x, layer, batch_size, progress, predict=False)
    return None if found is None else found[0]


def _forward(model, x, layer, batch_size, progress, predict):
    """(features at ``layer``, predicted classes or None) from one pass in batches: with ``predict`` the
    pass goes on to the model's output, so a map and its mistakes cost one forward pass, not two.
    None when ``progress`` stopped it."""
    position = layer_position(model, layer)
    x = model._check_input(x, "layer_features")
    path = model.layers[:len(model.layers) if predict else position + 1]
    # a conv map (C, H, W) pools to C values and a Dense output (units,) keeps them: F is the first axis either way
    features = np.empty((len(x), model.layers[position].output_shape[0]), np.float32)
    predictions = np.empty(len(x), np.int64) if predict else None
    for start in range(0, len(x), batch_size):
        batch = x[start:start + batch_size]
        done = start + len(batch)
        for i, part in enumerate(path):
            batch = part.forward(batch, training=False)
            if i == position:
                features[start:done] = batch.reshape(len(batch), batch.shape[1], -1).mean(axis=2) \
                    if batch.ndim > 2 else batch
        if predict:
            predictions[start:done] = batch.reshape(len(batch), -1).argmax(axis=1)
        if progress is not None and progress(done, len(x)) is False:
            return None
    return features, predictions


@dataclass
class PointMap:
    """Where each image lies in a layer's point map.

    Attributes:
        points: (N, 2) float32, one point per image, in the order given.
        layer: the position of the layer in ``model.layers``.
        method: "pca", "tsne" or "umap".
        explained_variance_ratio: (2,) the share of variance on each PCA axis; None for t-SNE and UMAP,
            whose axes mean nothing by themselves.
        predictions: (N,) int64, the class the model predicts for each image (from the same forward
            pass), so a map can mark its mistakes.
    """
    points: np.ndarray
    layer: int
    method: str
    explained_variance_ratio: np.ndarray = None
    predictions: np.ndarray = None


@parallel.pinned
def layer_points(model, x, layer, method="pca", progress=None, seed=0):
    """The point map of ``layer`` for images ``x``: one 2-D point per image.

    Images the layer sees alike land close together; colour the points by
    their true class to see which classes it has pulled apart. The forward
    pass goes on to the output, so the map also knows what the model predicts
    for each image (its mistakes). t-SNE and UMAP
    keep neighbours together better than PCA but cost seconds to minutes, and
    need their optional extra.

    Args:
        model: a built ``Sequential`` (give a copy when it may be training in another thread).
        x: images as ``Sequential.predict`` takes them (a sample of a test set: thousands, not all).
        layer: the position in ``model.layers`` (from 0; negative counts from the end).
        method: "pca" (NumPy), "tsne" (scikit-learn) or "umap" (umap-learn).
        progress: ``progress(done, total)`` while the activations are computed; returning False
            stops, and then the function returns None.
        seed: seeds t-SNE and UMAP, so the same call draws the same map.

    Returns:
        A ``PointMap``; None when ``progress`` stopped it.

    Raises:
        ValueError: an unknown method, a position out of range, fewer than 2 images, or a layer whose
            outputs are not finite (named).
        MissingPackageError: t-SNE or UMAP without its package (the message names the extra).
        ShapeError: ``x`` does not match the model's input.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    project = _projector(method)
    if len(x) < 2:
        raise ValueError(f"a point map needs at least 2 images, got {len(x)}")
    found = _forward(model, x, layer, 256, progress, predict=True)
    if found is None:
        return None
    features, predictions = found
    position = layer_position(model, layer)
    if not np.isfinite(features).all():
        raise ValueError(f"{model.layers[position].name}'s outputs hold NaN or infinite values (its weights may have "
                         "diverged): no map can place them")
    if method == "pca":
        projection = pca(features)
        return PointMap(projection.points, position, method, projection.explained_variance_ratio, predictions)
    return PointMap(np.asarray(project(features, seed), np.float32), position, method, None, predictions)


def missing_package(method):
    """Why ``method`` cannot run here (the package to install, as a sentence), or None when it can.

    Looks the package up without importing it, so asking costs nothing (scikit-learn takes a second to import).

    Args:
        method: "pca", "tsne" or "umap" (PCA, and any name not in that list, needs nothing).

    Returns:
        The sentence (naming the extra: ``pip install "numpynet-studio[tsne]"``), or None.
    """
    if METHODS.get(method) is None:
        return None
    try:
        found = importlib.util.find_spec(METHODS[method][0]) is not None
    except ValueError:    # imported already, by a way that left no spec: there it is
        found = True
    return None if found else _missing_message(method)


def _missing_message(method):
    module, extra = METHODS[method]
    return (f"the {method} point map needs the {module!r} package, which is not installed: "
            f'pip install "numpynet-studio[{extra}]"')


def _projector(method):
    """The function mapping (features, seed) to (N, 2) points for a non-PCA method, imported now so a
    missing package is reported before any work; None for PCA."""
    if METHODS[method] is None:
        return None
    try:
        if method == "tsne":
            from sklearn.manifold import TSNE
            return lambda features, seed: TSNE(n_components=2, init="pca", random_state=seed).fit_transform(features)
        import umap
        return lambda features, seed: umap.UMAP(n_components=2, random_state=seed).fit_transform(features)
    except ImportError as e:
        raise MissingPackageError(_missing_message(method)) from e
