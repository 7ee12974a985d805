"""A picture of a digit written with a far finer pen than MNIST's, thickened to MNIST's pen.

The draw pad redraws its strokes at MNIST's pen width (``core.strokes``); an
opened picture or a file given to ``numpynet predict`` has no strokes, only
pixels. A digit written large with a fine pen would become a faint trace once
scaled into MNIST's 20x20 box, so its pen is measured (ink area over half its
outline) and, only when it is finer than any MNIST digit's, the ink is
widened with a round brush to ``PEN_RATIO`` of the digit's size. A digit
written like MNIST's is left as it is. A digit written small with a broad pen
is left too: its holes have filled in, and no pixel operation brings them back.
"""
import numpy as np

from .strokes import PEN_RATIO

WORK = 112       # the longer side at which the pen is measured and widened (as core.strokes.SIDE)
# The pen, relative to PEN_RATIO of the digit, below which a picture is thickened: 29,999 of 30,000 MNIST
# digits (test set and 20,000 training digits) measure above it; a 4 px pen on a digit most of the
# draw pad tall measures 0.15.
THIN = 0.33


def normalise_pen(ink):
    """(h, w) grey ink in [0, 1], light on dark: the same, or at MNIST's pen.

    A thickened digit comes back black and white, at most ``WORK`` pixels on its longer side
    plus the pen it gained.
    """
    mask = _shrink(ink) > 0.5
    pen = pen_width(mask)
    target = PEN_RATIO * max(_extent(mask) - pen, 1.0)
    if pen >= THIN * target:
        return ink
    return _widen(mask, (target - pen) / 2).astype(np.float32)


def pen_width(mask):
    """The width in pixels of the strokes of a boolean image: twice the ink area over the outline's
    length, exact for long strokes."""
    m = np.pad(mask, 1).astype(np.int8)
    outline = np.abs(np.diff(m, axis=0)).sum() + np.abs(np.diff(m, axis=1)).sum()
    return 2.0 * mask.sum() / max(int(outline), 1)


def _extent(mask):
    """The longer side of the box around the ink, in pixels."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 if len(rows) else 0


def _shrink(ink):
    """The largest of each block of pixels, so that the longer side is at most ``WORK``: a fine line
    stays a full-contrast line one pixel wide instead of fading as it would when averaged."""
    f = -(-max(ink.shape) // WORK)
    if f == 1:
        return ink
    h, w = -(-ink.shape[0] // f) * f, -(-ink.shape[1] // f) * f
    padded = np.zeros((h, w), ink.dtype)
    padded[:ink.shape[0], :ink.shape[1]] = ink
    return padded.reshape(h // f, f, w // f, f).max(axis=(1, 3))


def _widen(mask, radius):
    """``mask`` with every ink pixel grown into a disk of ``radius``, on a frame grown to hold it."""
    reach = radius + 0.5                 # a one-pixel line grows to 1 + 2 * round(radius) pixels
    r = max(1, int(reach))
    out = np.zeros((mask.shape[0] + 2 * r, mask.shape[1] + 2 * r), bool)
    ys, xs = np.nonzero(mask)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy * dy + dx * dx <= reach * reach:
                out[ys + r + dy, xs + r + dx] = True
    return out
