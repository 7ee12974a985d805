"""The pad reads a digit whatever its size and brush: the grid of benchmarks/draw_sizes.py.

All ten pen-drawn digits at four sizes (a fifth of the pad to most of it),
three brushes (4, 26 and 50 px) and three positions, drawn with mouse events
on the real pad and read by the shipped pretrained LeNet-5 (the benchmark also
checks mlp-mnist). Every cell must be read as well as the medium digit drawn
with the default brush.
"""
import importlib.util
from pathlib import Path

from core import load_model
from gui.panels.draw import DEFAULT_BRUSH, DrawPanel
from gui.state import AppState

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("draw_sizes", ROOT / "benchmarks" / "draw_sizes.py")
draw_sizes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(draw_sizes)

MEDIUM = 0.6          # of the pad: the size at which every digit was read before the pad rescaled strokes


def test_every_size_and_brush_is_read_as_well_as_a_medium_digit_with_the_default_brush(qtbot):
    state = AppState()
    state.set_model(load_model(ROOT / "saved_models" / "lenet5-mnist"))
    panel = DrawPanel(state)
    qtbot.addWidget(panel)
    panel.show()
    grid = draw_sizes.read_grid(panel)
    right, confidence, _ = grid[MEDIUM, DEFAULT_BRUSH]
    assert right == 30, draw_sizes.table(grid)
    for (size, brush), (n, mean, misreads) in grid.items():
        assert n >= right and mean >= confidence - 0.01, (
            f"{size:.0%} of the pad, {brush} px brush: {n}/30 at {mean:.1%}, misread {misreads}\n"
            + draw_sizes.table(grid))
