"""Does the draw pad read a digit whatever its size and brush?

    python benchmarks/draw_sizes.py [--model saved_models/lenet5-mnist]

Draws all ten digits on the real pad (``gui.panels.draw.DrawPanel``, offscreen)
with mouse events, stroke by stroke, at four sizes (a fifth of the pad to most
of it), three brush widths and three positions, and reads the pad's answer.
The digits are the pen-stroke skeletons of ``core.datasets.pen_digits``, one
variant per position. Prints a table: rows the digit's height, columns the
brush, each cell the digits read correctly (out of 10 at each of 3 positions)
and the mean probability of the right class. ``tests/gui/test_draw_sizes.py``
asserts the same grid. A second table reads the same drawings saved as PNG
files and opened on the pad (pixels only: no strokes to redraw).
"""
import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from core import load_model  # noqa: E402
from core.datasets.pen_digits import SKELETONS  # noqa: E402
from gui.app import create_app  # noqa: E402

PAD = 336                                  # gui.views.canvas.CANVAS_SIZE
SIZES = (0.2, 0.4, 0.6, 0.85)              # digit height as a fraction of the pad
BRUSHES = (4, 26, 50)                      # thin, the pad's default, big
POSITIONS = ((0.5, 0.5), (0.1, 0.15), (0.9, 0.85))   # where the digit's box sits in the free space
STEP = 10                                  # pixels between mouse-move events


def pad_strokes(digit, height, position, brush, variant=0):
    """A digit's skeleton strokes as pad coordinates: ``height`` pixels tall, its box at ``position``
    (fractions of the room left on the pad, keeping the whole brush on it)."""
    strokes = [np.asarray(s, float) for s in SKELETONS[digit][variant % len(SKELETONS[digit])]]
    points = np.concatenate(strokes)
    low, span = points.min(axis=0), np.ptp(points, axis=0)
    size = span / span[1] * height
    margin = brush / 2 + 2
    corner = margin + np.asarray(position) * (PAD - 2 * margin - size)
    return [(s - low) / span[1] * height + corner for s in strokes]


def mouse_stroke(canvas, points):
    """Press, move every few pixels along the polyline, release: a hand on a mouse."""
    path = [points[0]]
    for a, b in zip(points, points[1:]):
        n = max(1, int(np.hypot(*(b - a)) // STEP))
        path += [a + (b - a) * t for t in np.linspace(0, 1, n + 1)[1:]]
    pixels = [QPoint(round(x), round(y)) for x, y in path]
    QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, pixels[0])
    for p in pixels[1:]:
        QTest.mouseMove(canvas, p)
    QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, pixels[-1])


def read(panel, digit, height, brush, position, variant, picture=None):
    """The probabilities the pad shows after drawing ``digit`` on a clear pad; with ``picture`` (a
    PNG path), after saving the drawing there and opening it on the pad."""
    panel.clear()
    panel.set_brush_width(brush)
    for points in pad_strokes(digit, height, position, brush, variant):
        mouse_stroke(panel.canvas, points)
    if picture:
        Image.fromarray(panel.canvas.pixels()).save(picture)
        panel.open_image(str(picture))
    return panel.chart.probabilities


def read_grid(panel, sizes=SIZES, brushes=BRUSHES, positions=POSITIONS, opened=False):
    """{(size, brush): (digits read correctly, mean probability of the right class, [misreads])}.

    A misread is (digit, read as, position index). ``opened``: read the drawings as opened pictures."""
    with tempfile.TemporaryDirectory() as folder:
        picture = Path(folder) / "digit.png" if opened else None
        return _grid(panel, sizes, brushes, positions, picture)


def _grid(panel, sizes, brushes, positions, picture):
    grid = {}
    for size in sizes:
        for brush in brushes:
            right, misreads = [], []
            for v, position in enumerate(positions):
                for digit in range(10):
                    probs = read(panel, digit, round(size * PAD), brush, position, v, picture)
                    right.append(float(probs[digit]))
                    if probs.argmax() != digit:
                        misreads.append((digit, int(probs.argmax()), v))
            grid[size, brush] = (10 * len(positions) - len(misreads), float(np.mean(right)), misreads)
    return grid


def table(grid, sizes=SIZES, brushes=BRUSHES, positions=POSITIONS):
    """The grid as a Markdown table."""
    total = 10 * len(positions)
    head = "| digit height | " + " | ".join(f"{b} px brush" for b in brushes) + " |"
    rows = [head, "|" + "---|" * (len(brushes) + 1)]
    for size in sizes:
        cells = [f"{grid[size, b][0]}/{total} · {grid[size, b][1]:.1%}" for b in brushes]
        rows.append(f"| {size:.0%} of the pad ({round(size * PAD)} px) | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(ROOT / "saved_models" / "lenet5-mnist"))
    args = ap.parse_args()
    app = create_app([])   # noqa: F841  (the widgets need it)
    from gui.state import AppState
    from gui.panels.draw import DrawPanel
    state = AppState()
    state.set_model(load_model(args.model))
    panel = DrawPanel(state)
    panel.resize(900, 470)
    panel.show()
    print(f"model: {args.model}")
    for opened, title in ((False, "drawn on the pad"), (True, "the same drawings saved as PNG and opened")):
        grid = read_grid(panel, opened=opened)
        print(f"\n{title}:\n\n{table(grid)}")
        for (size, brush), (_, _, misreads) in grid.items():
            if misreads:
                print(f"{size:.0%}, {brush} px: " + ", ".join(f"{d}->{r} (pos {p})" for d, r, p in misreads))


if __name__ == "__main__":
    sys.exit(main())
