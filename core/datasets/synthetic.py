"""Digits generated offline, MNIST-like, so training works with no data and no network.

Glyphs from the fonts at hand and from pen-stroke skeletons (``glyphs.py``)
are distorted the way handwriting varies: rotated, slanted, squeezed, thickened and
bent by a smooth elastic field. Then they are placed the way MNIST was
made: light on dark, the longer side of the ink fitted to about 20 pixels,
the centre of mass at the middle of 28x28. Each sample's whole path from
glyph to image is one affine map plus the elastic field, so a batch is a
single vectorised bilinear sampling (``core.augment``), not a loop over images.
"""
import numpy as np

from ..augment import bilinear_sample, smooth_field, warp
from .dataset import Dataset, to_labels
from .glyphs import FONT, PEN, glyph_bank

NAME = "synthetic-digits"
SIZE = 28
CENTRE = 14.0          # MNIST's mean centre of mass, in pixel indices
_CHUNK = 2048          # samples rendered at once: bounded memory, cache-friendly


def synthetic_digits(n=20000, seed=0, n_test=None):
    """A Dataset of ``n`` training and ``n_test`` (default n // 6) test digits; classes '0'..'9'.

    Digits are rendered offline from fonts and pen strokes, shifted, rotated
    and thickened, as 1 × 28 × 28 images in [0, 1]: training works with no
    data and no network. The same ``seed`` gives the same images on the same
    machine (the fonts found add variety, so another machine may differ).

    Args:
        n: the number of training images, at least 1.
        seed: seeds the rendering.
        n_test: the number of test images; None for ``max(1, n // 6)``.

    Raises:
        ValueError: ``n`` below 1.
    """
    if n < 1:
        raise ValueError(f"synthetic_digits needs n >= 1, got {n}")
    n_test = max(1, n // 6) if n_test is None else n_test
    rng = np.random.default_rng(seed)
    x_train, y_train = render_digits(n, rng)
    x_test, y_test = render_digits(n_test, rng)
    fonts = glyph_bank().fonts
    return Dataset(NAME, x_train, to_labels(y_train), x_test, to_labels(y_test),
                   [str(d) for d in range(10)],
                   f"generated offline from {len(fonts)} fonts and pen strokes")


def render_digits(n, rng, pen_share=0.5):
    """(images float32 (n, 1, 28, 28) in [0, 1], labels (n,)): each digit equally often,
    ``pen_share`` of them from pen-drawn glyphs, the rest from fonts."""
    bank = glyph_bank()
    labels = rng.permutation(np.arange(n) % 10)
    kinds = np.where(rng.random(n) < pen_share, PEN, FONT)
    glyphs = _pick(bank, labels, kinds, rng)
    order = np.argsort(glyphs, kind="stable")     # neighbours read the same glyph: cache-friendly
    images = np.empty((n, 1, SIZE, SIZE), np.float32)
    for start in range(0, n, _CHUNK):
        part = order[start:start + _CHUNK]
        images[part, 0] = _render(bank, glyphs[part], rng)
    return images, labels


def _pick(bank, digits, kinds, rng):
    """A random glyph of each requested digit and kind, without a loop over samples."""
    order = np.lexsort((bank.kinds, bank.digits))                   # grouped by (digit, kind)
    keys = bank.digits[order] * 2 + bank.kinds[order]
    wanted = digits * 2 + kinds
    first = np.searchsorted(keys, wanted, side="left")
    count = np.searchsorted(keys, wanted, side="right") - first
    return order[first + (rng.random(len(digits)) * count).astype(np.int64)]


def _render(bank, glyphs, rng):
    n = len(glyphs)
    forward = _random_linear_maps(n, rng)                            # glyph offsets -> image offsets
    centres = bank.centres[glyphs]
    outline = (bank.outlines[glyphs] - centres[:, None]) @ forward.transpose(0, 2, 1)
    extent = (outline.max(axis=1) - outline.min(axis=1)).max(axis=1)
    size = rng.uniform(18.5, 20.5, n)                                 # MNIST: longer side ~20 px
    inverse = np.linalg.inv(forward * (size / extent)[:, None, None]).astype(np.float32)
    grid = np.arange(SIZE, dtype=np.float32)
    bend = smooth_field(rng, n, (SIZE, SIZE), 4.0) * rng.uniform(0, 1.2, (n, 1, 1, 1)).astype(np.float32)
    oy = grid[None, :, None] - CENTRE + bend[:, 0]                  # where each output pixel sits,
    ox = grid[None, None, :] - CENTRE + bend[:, 1]                  # relative to the centre of mass
    m = inverse[:, :, :, None, None]
    ys = centres[:, 0, None, None] + m[:, 0, 0] * oy + m[:, 0, 1] * ox
    xs = centres[:, 1, None, None] + m[:, 1, 0] * oy + m[:, 1, 1] * ox
    return _recentre(_mnist_contrast(bilinear_sample(bank.images, ys, xs, glyphs)))


def _recentre(images):
    """Move each image by whole pixels so its centre of mass is nearest the middle, as MNIST did
    (the elastic bend moves the mass a little)."""
    mass = np.maximum(images.sum(axis=(1, 2)), 1e-6)
    grid = np.arange(SIZE, dtype=np.float32)
    cy = (images.sum(axis=2) @ grid) / mass
    cx = (images.sum(axis=1) @ grid) / mass
    return warp(images, np.round(CENTRE - cy), np.round(CENTRE - cx))


def _random_linear_maps(n, rng):
    """(n, 2, 2) maps on (y, x) offsets: rotate, slant (italic, mostly to the right), squeeze."""
    angle = np.deg2rad(np.clip(rng.normal(0, 8, n), -20, 20))
    slant = np.clip(rng.normal(0.15, 0.25, n), -0.4, 0.8)
    aspect = np.exp(np.clip(rng.normal(0.0, 0.2, n), -0.5, 0.4))
    cos, sin = np.cos(angle), np.sin(angle)
    rotate = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], 1)
    shear = np.zeros((n, 2, 2))
    shear[:, 0, 0], shear[:, 1, 0], shear[:, 1, 1] = 1, -slant, aspect
    return rotate @ shear


def _mnist_contrast(images):
    """Brightest stroke at 1, like MNIST's saturated pen; faint sampling noise to 0."""
    peak = images.max(axis=(1, 2), keepdims=True)
    images = np.clip(images / np.maximum(peak, 1e-6) * 1.15, 0, 1)
    images[images < 0.02] = 0
    return images
