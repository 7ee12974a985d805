"""Digits drawn as pen strokes: the handwritten shapes that fonts do not have.

Type and handwriting differ most in a few digits: a handwritten 1 is a bare
stick, a 4 is often open at the top, a 7 may be crossed, a 9 has a straight
stem. Each digit here is a few skeleton strokes in a box one unit tall
(x to the right, y down), drawn with round pen tips at several widths.
"""
import numpy as np
from PIL import Image, ImageDraw

from ..strokes import draw_polyline


def _arc(cx, cy, rx, ry, start, end, steps=28):
    """Points along an ellipse from angle ``start`` to ``end`` (degrees, counter-clockwise on screen)."""
    t = np.deg2rad(np.linspace(start, end, steps))
    return list(zip(cx + rx * np.cos(t), cy - ry * np.sin(t)))


def _ring(cx, cy, rx, ry, start=90):
    """A closed ellipse, starting (and ending) at angle ``start``."""
    return _arc(cx, cy, rx, ry, start, start + 360, 40)


def _figure_eight(width=0.28, top=0.45, steps=60):
    """An 8 in one stroke that crosses itself, its upper loop smaller, as most people write it."""
    t = np.linspace(0, 2 * np.pi, steps)
    upper = np.cos(t) > 0
    y = top - np.where(upper, top, 1 - top) * np.cos(t)
    x = 0.3 + width * np.sin(2 * t) * np.where(upper, 0.8, 1.0)
    return list(zip(x, y))


# digit -> variants; a variant is a list of strokes; a stroke a list of (x, y).
SKELETONS = {
    0: [[_ring(0.3, 0.5, 0.28, 0.5)],
        [_ring(0.3, 0.5, 0.4, 0.5, 100)],
        [_arc(0.3, 0.5, 0.34, 0.5, 80, 450) + [(0.42, 0.06)]]],
    1: [[[(0.3, 0.0), (0.3, 1.0)]],
        [[(0.12, 0.2), (0.3, 0.0), (0.3, 1.0)]],
        [[(0.35, 0.0), (0.25, 1.0)]]],
    2: [[_arc(0.3, 0.28, 0.27, 0.28, 160, -20) + [(0.02, 1.0), (0.62, 1.0)]],
        [_arc(0.3, 0.28, 0.27, 0.28, 170, -30) + [(0.08, 0.92)] + _arc(0.2, 0.8, 0.15, 0.15, 200, 330)
         + [(0.65, 0.98)]]],
    3: [[_arc(0.28, 0.26, 0.27, 0.25, 150, -90) + _arc(0.28, 0.75, 0.3, 0.25, 90, -160)],
        [[(0.05, 0.0), (0.55, 0.0), (0.22, 0.42)] + _arc(0.28, 0.72, 0.3, 0.28, 80, -160)]],
    4: [[[(0.35, 0.0), (0.0, 0.65), (0.62, 0.65)], [(0.47, 0.3), (0.47, 1.0)]],
        [[(0.05, 0.0), (0.03, 0.55), (0.6, 0.55)], [(0.5, 0.0), (0.5, 1.0)]],
        [[(0.45, 1.0), (0.45, 0.0), (0.0, 0.65), (0.62, 0.65)]]],
    5: [[[(0.58, 0.0), (0.1, 0.0), (0.06, 0.45)] + _arc(0.28, 0.7, 0.3, 0.3, 125, -150)],
        [[(0.1, 0.0), (0.05, 0.48)] + _arc(0.3, 0.7, 0.28, 0.3, 135, -160), [(0.1, 0.0), (0.6, 0.0)]]],
    6: [[_arc(0.55, 0.55, 0.5, 0.55, 80, 180) + _ring(0.3, 0.73, 0.26, 0.27, 180)],
        [[(0.45, 0.0), (0.08, 0.6)] + _ring(0.3, 0.74, 0.24, 0.26, 170)]],
    7: [[[(0.0, 0.0), (0.6, 0.0), (0.2, 1.0)]],
        [[(0.0, 0.0), (0.6, 0.0), (0.25, 1.0)], [(0.15, 0.52), (0.52, 0.52)]],
        [[(0.02, 0.08), (0.6, 0.0), (0.35, 0.5), (0.28, 1.0)]]],
    8: [[_ring(0.3, 0.24, 0.22, 0.24), _ring(0.3, 0.73, 0.28, 0.27)],
        [_figure_eight()],
        [_figure_eight(0.34, 0.4)]],
    9: [[_ring(0.3, 0.28, 0.27, 0.28, 0), [(0.57, 0.28), (0.55, 1.0)]],
        [_ring(0.3, 0.27, 0.27, 0.27, 0), [(0.57, 0.3), (0.5, 0.75), (0.3, 1.0)]]],
}


def draw_pen_digit(strokes, height, width, canvas):
    """One variant drawn light on dark, ``height`` pixels tall with a pen ``width`` pixels wide."""
    image = Image.new("L", (canvas, canvas))
    draw = ImageDraw.Draw(image)
    xs = np.concatenate([np.array(s)[:, 0] for s in strokes])
    left = (canvas - (xs.max() - xs.min()) * height) / 2 - xs.min() * height
    top = (canvas - height) / 2
    for stroke in strokes:
        draw_polyline(draw, [(left + x * height, top + y * height) for x, y in stroke], width, 255)
    return image
