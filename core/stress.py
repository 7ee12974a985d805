"""Damaged inputs and robustness curves: how a model's accuracy falls as its images are harmed.

``damage`` harms a whole batch at once (no Python loop over samples):
Gaussian noise, rotation, shift, blur, stroke thickness and occlusion, each
with one ``strength`` whose meaning ``KINDS`` gives. Rotation and shift reuse
``core.augment.warp``, so there is one resampler in the core. ``robustness``
evaluates a model on the damaged images at each strength of a list: the
curve a learner compares between a model trained with augmentation and one
without.
"""
import math
from dataclasses import dataclass

import numpy as np

from .augment import add_noise, thicken, warp
from .errors import ShapeError
from .fit_data import as_inputs
from .layers.base import fmt_shape

# kind -> what its strength measures; the CLI and the app label their axes with it.
KINDS = {"noise": "sigma", "rotation": "degrees", "shift": "pixels", "blur": "sigma",
         "thickness": "pixels", "occlusion": "side fraction"}
# Strengths a robustness curve runs over unless told otherwise: 10 steps over a range where a
# digit classifier goes from intact to mostly wrong.
DEFAULT_STRENGTHS = {"noise": np.linspace(0, 1, 11), "rotation": np.linspace(0, 60, 11),
                     "shift": np.linspace(0, 5, 11), "blur": np.linspace(0, 2.5, 11),
                     "thickness": np.linspace(-2, 2, 11), "occlusion": np.linspace(0, 1, 11)}
# The strengths worth offering a learner (a control's range): from intact to beyond recognition.
RANGES = {"noise": (0.0, 1.0), "rotation": (-180.0, 180.0), "shift": (0.0, 10.0), "blur": (0.0, 5.0),
          "thickness": (-3.0, 3.0), "occlusion": (0.0, 1.0)}
CHUNK = 500     # images damaged at once by ``robustness``: a few MB of sampling grids


def damage(x, kind, strength, rng=None):
    """A damaged copy of a batch of images, float32; ``x`` itself is never changed.

    Strength 0 gives the images back unchanged. The kinds (strength in brackets):
    "noise" adds Gaussian noise (its sigma) and clips to [0, 1]; "rotation" turns each
    image about its centre (degrees, counter-clockwise; negative turns clockwise);
    "shift" moves each image by that distance in a random direction (pixels);
    "blur" smooths with a Gaussian (its sigma, pixels); "thickness" dilates the
    strokes by a disk (its radius in pixels; negative erodes, thinning them);
    "occlusion" blanks a square at a random place in each image (its side as a
    fraction of the image's shorter side).

    Args:
        x: images (N, H, W) or (N, C, H, W) in [0, 1], or uint8 pixels (scaled to [0, 1] as
            ``predict`` scales them); "noise" takes any shape.
        kind: one of ``KINDS``.
        strength: how much, in the unit of the kind (see above); a finite number.
        rng: a ``numpy.random.Generator`` or a seed for the random kinds; None draws fresh ones.

    Returns:
        A float32 array of the shape of ``x``.

    Raises:
        ValueError: an unknown ``kind``, or a ``strength`` that is not finite or out of its range.
        ShapeError: images of fewer than 3 axes for a kind that moves pixels.
    """
    if kind not in KINDS:
        raise ValueError(f"damage kind must be one of {', '.join(KINDS)}, got {kind!r}")
    strength = _checked_strength(kind, strength)
    x = np.array(as_inputs(x), dtype=np.float32)      # uint8 pixels scaled as predict does; a copy to work in
    if kind != "noise" and x.ndim < 3:
        raise ShapeError(f"damage {kind!r} needs images (N, H, W) or (N, C, H, W), got shape {fmt_shape(x.shape)}")
    if strength == 0 or len(x) == 0:
        return x
    return _DAMAGES[kind](x, strength, np.random.default_rng(rng))


def _checked_strength(kind, strength):
    """``strength`` as a float, refused when it is not finite or outside its kind's range."""
    try:
        value = float(strength)
    except (TypeError, ValueError):
        value = math.nan
    low, high = (-math.inf, math.inf) if kind in ("rotation", "thickness") else (0.0, 1.0 if kind == "occlusion"
                                                                                else math.inf)
    if not (math.isfinite(value) and low <= value <= high):
        rule = "a finite number" + (f" in [{low:g}, {high:g}]" if kind == "occlusion" else
                                    " >= 0" if low == 0 else "")
        raise ValueError(f"damage {kind!r}: strength ({KINDS[kind]}) must be {rule}, got {strength!r}")
    return value


def _noise(x, sigma, rng):
    return add_noise(x, sigma, rng)         # the augmentation's noise: what a model trains on is what is measured


def _rotation(x, degrees, _rng):
    return warp(x, angle=degrees)


def _shift(x, pixels, rng):
    """Each image moved ``pixels`` along its own random direction: the distance is the strength."""
    direction = rng.uniform(0, 2 * np.pi, len(x))
    return warp(x, dy=pixels * np.sin(direction), dx=pixels * np.cos(direction))


def _blur(x, sigma, _rng):
    """A Gaussian blur as two matrix products over the whole batch (rows, then columns);
    what the kernel would read outside the image is 0, the background."""
    h, w = x.shape[-2:]
    return _gaussian_kernel_matrix(h, sigma) @ x @ _gaussian_kernel_matrix(w, sigma).T


def _gaussian_kernel_matrix(size, sigma):
    """(size, size) float32: row i holds the weights a blurred pixel i takes from each pixel,
    a sampled Gaussian normalised over its whole support so blurring keeps the ink's total."""
    reach = np.ceil(4 * sigma)
    d = np.arange(size)[:, None] - np.arange(size)[None, :]
    weights = np.where(np.abs(d) <= reach, np.exp(-0.5 * (d / sigma) ** 2), 0)
    return (weights / _gaussian_total(sigma, reach, size)).astype(np.float32)


def _gaussian_total(sigma, reach, size):
    """The sum of the sampled Gaussian over all offsets within ``reach``; beyond the image's size it is
    sigma * sqrt(2 pi) to 1e-9 (sigma > 1 there), so an absurd sigma costs no memory."""
    if reach > 4 * size:
        return sigma * np.sqrt(2 * np.pi)
    offsets = np.arange(-reach, reach + 1)
    return np.exp(-0.5 * (offsets / sigma) ** 2).sum()


def _thickness(x, radius, _rng):
    """Strokes thickened (or, below 0, thinned) by a disk of ``radius`` pixels: the augmentation's
    transform (``core.augment.thicken``), so what a model trains on is what the lab measures."""
    return thicken(x, radius)


def _occlusion(x, fraction, rng):
    """A square of side ``fraction`` of the shorter side set to 0 (background) in every channel,
    wholly inside the image, at a random place per image."""
    h, w = x.shape[-2:]
    side = int(round(fraction * min(h, w)))
    top = rng.integers(0, h - side + 1, len(x))
    left = rng.integers(0, w - side + 1, len(x))
    rows = (np.arange(h) >= top[:, None]) & (np.arange(h) < top[:, None] + side)
    cols = (np.arange(w) >= left[:, None]) & (np.arange(w) < left[:, None] + side)
    patch = rows[:, :, None] & cols[:, None, :]                       # (N, H, W)
    x[np.broadcast_to(patch.reshape(len(x), *([1] * (x.ndim - 3)), h, w), x.shape)] = 0
    return x


_DAMAGES = {"noise": _noise, "rotation": _rotation, "shift": _shift, "blur": _blur,
            "thickness": _thickness, "occlusion": _occlusion}


@dataclass
class Curve:
    """Accuracy of a model at each strength of one kind of damage.

    Attributes:
        kind: the damage (a key of ``KINDS``).
        strengths: the strengths evaluated, in the order asked (fewer than asked when cancelled).
        accuracy: the accuracy on the damaged images at each of them, in [0, 1].
        complete: False when the progress callback stopped the curve early.
    """
    kind: str
    strengths: np.ndarray
    accuracy: np.ndarray
    complete: bool


def robustness(model, x, y, kind, strengths=None, rng=None, progress=None):
    """Accuracy of ``model`` on (x, y) damaged by ``kind`` at each strength: a robustness curve.

    Every strength damages the images with the same random draws (the same noise
    pattern scaled, the same patch places, the same directions), so the curve
    moves with the strength alone and not with luck. Strength 0 gives the plain
    accuracy. Like ``fit``'s ``stop_training``, a stop leaves what was done:
    ``progress`` returning False ends the curve after the current batch with the
    strengths finished so far; an exception from it propagates and cancels.
    Images go in chunks of ``CHUNK``, each with random draws seeded from ``rng``
    and its place, so memory stays small and the same ``rng`` repeats the curve.

    Args:
        model: a built ``Sequential`` (give a copy when it may be training in another thread).
        x: images as ``Sequential.predict`` takes them, in [0, 1].
        y: labels, class indices (N,) or one-hot (N, K).
        kind: a key of ``KINDS``.
        strengths: the strengths, in the kind's unit; None takes ``DEFAULT_STRENGTHS[kind]``.
        rng: a ``numpy.random.Generator`` or a seed; None draws fresh ones.
        progress: ``progress(done, total)`` after each chunk, counting images over all strengths,
            or None.

    Returns:
        A ``Curve``.

    Raises:
        ValueError: an unknown ``kind``, a strength out of range, labels that do not fit, or no images.
        ShapeError: ``x`` does not match the model's input.
    """
    if kind not in KINDS:
        raise ValueError(f"robustness kind must be one of {', '.join(KINDS)}, got {kind!r}")
    strengths = np.asarray(DEFAULT_STRENGTHS[kind] if strengths is None else strengths, np.float64).reshape(-1)
    for s in strengths:
        _checked_strength(kind, s)
    x, y = model._check_data(x, y, "robustness")
    labels = y if y.ndim == 1 else y.argmax(axis=1)
    seed = _seed(rng)
    accuracy, total = [], len(strengths) * len(x)
    for i, strength in enumerate(strengths):
        correct = 0
        for start, damaged in _damaged_chunks(x, kind, strength, seed):
            correct += int((model.predict(damaged).argmax(axis=1) == labels[start:start + CHUNK]).sum())
            if progress is not None and progress(i * len(x) + start + len(damaged), total) is False:
                return Curve(kind, strengths[:i], np.asarray(accuracy), complete=False)
        accuracy.append(correct / len(x))
    return Curve(kind, strengths, np.asarray(accuracy), complete=True)


def damage_set(x, kind, strength, rng=None, progress=None):
    """A damaged copy of a whole set of images, drawn exactly as ``robustness`` draws them.

    With the same ``rng`` (a seed), the images are those ``robustness`` evaluates at
    ``strength``, so an evaluation of them gives that curve's point, and a re-run gives
    the same images. Chunks of ``CHUNK`` keep a progress bar moving and let a stop in
    between.

    Args:
        x: images (N, H, W) or (N, C, H, W) in [0, 1], or uint8 pixels.
        kind: one of ``KINDS``.
        strength: how much, in the unit of the kind.
        rng: a ``numpy.random.Generator`` or a seed; None draws fresh ones.
        progress: ``progress(done, total)`` after each chunk, or None; an exception from it propagates.

    Returns:
        A float32 array of the shape of ``x``.

    Raises:
        ValueError: an unknown ``kind`` or a strength out of its range.
        ShapeError: images of fewer than 3 axes for a kind that moves pixels.
    """
    if kind not in KINDS:
        raise ValueError(f"damage kind must be one of {', '.join(KINDS)}, got {kind!r}")
    _checked_strength(kind, strength)
    x = as_inputs(x)
    out = np.empty(x.shape, np.float32)
    for start, damaged in _damaged_chunks(x, kind, strength, _seed(rng)):
        out[start:start + len(damaged)] = damaged
        if progress is not None:
            progress(start + len(damaged), len(x))
    return out


def _seed(rng):
    """One number from ``rng`` that seeds every chunk's draws."""
    return np.random.default_rng(rng).integers(2 ** 63)


def _damaged_chunks(x, kind, strength, seed):
    """(start, damaged chunk) over ``x`` in chunks of ``CHUNK``, each drawn from ``seed`` and its place."""
    for start in range(0, len(x), CHUNK):
        yield start, damage(x[start:start + CHUNK], kind, strength, np.random.default_rng([seed, start]))
