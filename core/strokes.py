"""Pen strokes drawn again at MNIST's pen width, so a drawing reads the same at any size and brush.

An MNIST digit's pen is about a tenth of the digit's size (a median of 0.10 of
its longer side, measured on the test set), and its strokes are at full
contrast. A person at the draw pad may write a small digit with a broad brush,
which becomes a blob once scaled into MNIST's 20x20 box, or a big one with a
fine brush, which becomes a faint trace. The pad therefore keeps what was drawn
as strokes and has them drawn here, the digit's longer side ``SIDE`` pixels and
the pen ``PEN_RATIO`` of it, whatever the size and brush were; ``prepare`` then
crops, scales and centres the result like any other image.
"""
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw

SIDE = 112           # pixels for the drawing's longer side: 5.6x MNIST's box, so scaling down anti-aliases
# The pen relative to the drawing's longer side (of its strokes' centre lines). MNIST's test digits
# have a median pen of 0.10 of their side (ink area over half its outline, at 50% grey); 0.12
# gives drawn digits MNIST's median ink (sum 88 against MNIST's 93).
PEN_RATIO = 0.12


class Stroke(NamedTuple):
    """One pen stroke: (N, 2) points (x, y), the brush ``width`` in the same units, and whether it erased."""
    points: np.ndarray
    width: float
    erasing: bool = False


def render_strokes(strokes):
    """(H, W) uint8 of ``strokes`` drawn light on dark at MNIST's pen width, the drawing ``SIDE`` pixels.

    The drawing's size is that of the ink no later eraser stroke went over, as the user sees it.
    Eraser strokes grow by as much as the ink's pen grew, so no rim of erased ink comes back.
    Nothing left of the ink: a blank image.
    """
    strokes = [Stroke(_xy(s.points), float(s.width), bool(s.erasing)) for s in strokes]
    kept = _unerased_points(strokes)
    if not len(kept):
        return np.zeros((1, 1), np.uint8)
    low, span = kept.min(axis=0), np.ptp(kept, axis=0)
    scale = SIDE / max(float(span.max()), 1.0)
    pen = PEN_RATIO * SIDE
    grown = max(0.0, pen / scale - min(s.width for s in strokes if not s.erasing))  # strokes' own units
    image = Image.new("L", tuple(int(v) for v in np.ceil(span * scale + 2 * pen)))
    draw = ImageDraw.Draw(image)
    for s in strokes:
        width = (s.width + grown) * scale if s.erasing else pen
        draw_polyline(draw, (s.points - low) * scale + pen, width, 0 if s.erasing else 255)
    return np.asarray(image)


def within(strokes, width, height):
    """The strokes cut to their runs of points on a ``width`` x ``height`` surface: ink that a mouse
    dragged past the edge of the pad was never seen there, so it is not drawn for the network."""
    cut = []
    for s in strokes:
        points = _xy(s.points)
        on = (points >= 0).all(axis=1) & (points[:, 0] <= width) & (points[:, 1] <= height)
        if s.erasing or on.all():
            cut.append(s)
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
        cut += [Stroke(points[a:b], s.width) for a, b in zip(edges[::2], edges[1::2])]
    return cut


def draw_polyline(draw, points, width, fill):
    """A polyline on a Pillow ``ImageDraw`` with round joins and round ends, as a pen draws it."""
    points = [tuple(map(float, p)) for p in points]
    if len(points) > 1:
        draw.line(points, fill=fill, width=max(1, round(width)), joint="curve")
    r = width / 2
    for x, y in {points[0], points[-1]}:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def _unerased_points(strokes):
    """(K, 2) centre-line points of the ink strokes that no later eraser stroke covered."""
    kept = [np.empty((0, 2))]
    for i, ink in enumerate(strokes):
        if ink.erasing:
            continue
        alive = np.ones(len(ink.points), bool)
        for eraser in strokes[i + 1:]:
            if eraser.erasing:
                alive &= _distance_to_path(ink.points, eraser.points) > eraser.width / 2
        kept.append(ink.points[alive])
    return np.concatenate(kept)


def _distance_to_path(points, path):
    """(N,) distance from each of ``points`` (N, 2) to the polyline ``path`` (M, 2)."""
    a, b = (path[:-1], path[1:]) if len(path) > 1 else (path, path)
    ab = b - a
    t = ((points[:, None] - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12)
    nearest = a + np.clip(t, 0.0, 1.0)[..., None] * ab
    return np.linalg.norm(points[:, None] - nearest, axis=-1).min(axis=1)


def _xy(points):
    return np.asarray(points, np.float64).reshape(-1, 2)
