"""Other runs' curves in the Training plots, beside the live run's.

A run ticked in the Runs panel becomes a ``RunCurves`` (plain arrays read
from its folder and smoothed off the GUI thread); ``RunOverlays.show`` draws each one in
its own colour: batch loss and accuracy smoothed as the live curves are, and
per-epoch training (solid, circles) and validation (dashed, squares; the
legend names each run once and says what dashed means, so it stays small
over the curves). The
live curves keep their own items, so a run can train while others are
overlaid. Overlays change only when the ticks do, so their items are simply
made anew then; the live curves are the ones fed point by point.
"""
import dataclasses

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from .smoothing import Ema

# Colours apart from the live run's blue, orange, green and purple.
GREY = "#6b7280"
MAX_POINTS = 4000          # of a batch curve drawn beside the live run: more than a plot is wide
PALETTE = ("#dc2626", "#0891b2", "#ca8a04", "#db2777", "#4d7c0f", "#0f766e", "#7c2d12", "#9f1239")


@dataclasses.dataclass
class RunCurves:
    """What the plots draw of one recorded run: its batch rows and its epoch rows."""
    label: str
    steps: np.ndarray                       # global step of each batch
    loss: np.ndarray                        # per batch, smoothed as the live curve is
    accuracy: np.ndarray                    # per batch, smoothed as the live curve is
    epochs: dict                            # 'epoch' (1-based) and 'loss', 'accuracy', 'val_loss', 'val_accuracy'

    @classmethod
    def from_run(cls, run, label):
        """The curves of a ``core.runs.Run`` (its epochs.csv counts from 0, the plots from 1); smoothed here,
        on the worker that read the run, as a long run's hundred thousand batches take a while."""
        m, e = run.metrics, run.epochs
        epochs = {k: e[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
        keep = _every_nth(len(m["step"]))
        loss, accuracy = (np.array(Ema().many(m[k]))[keep] for k in ("loss", "accuracy"))
        return cls(label, m["step"][keep], loss, accuracy, {"epoch": e["epoch"] + 1, **epochs})

    def epoch_curve(self, key):
        """(epochs, values) where ``key`` was measured (a run without validation has none)."""
        values = np.asarray(self.epochs.get(key, []), dtype=np.float64)
        epochs = np.asarray(self.epochs.get("epoch", []), dtype=np.float64)[:len(values)]
        keep = np.isfinite(values)
        return epochs[keep], values[keep]


def _every_nth(n):
    """Indices of at most about MAX_POINTS of ``n`` smoothed points, the last one kept: a smoothed curve
    loses nothing visible, and a long run's hundred thousand points would cost the GUI thread a paint
    of half a second."""
    stride = max(1, -(-n // MAX_POINTS))
    return np.unique(np.r_[np.arange(0, n, stride), n - 1]) if n else np.arange(0)


class RunOverlays:
    """The ticked runs' curves in a ``TrainingPlots``; ``runs`` is what is drawn now."""

    def __init__(self, plots):
        self.plots = plots
        self.runs = []
        self._items = []       # (view, item) of every curve drawn, to take them out again

    @property
    def last_step(self):
        return max((float(run.steps[-1]) for run in self.runs if len(run.steps)), default=0.0)

    def show(self, runs):
        """Draw exactly these runs (a list of RunCurves), each in the next colour of the palette."""
        self.clear()
        self.runs = list(runs)
        for i, run in enumerate(self.runs):
            self._draw(run, PALETTE[i % len(PALETTE)])
        if self.runs:
            for view in (self.plots.epoch_loss, self.plots.epoch_acc):
                self._explain_dashes(view)
        self.plots.fit_loss_axis()

    def clear(self):
        for view, item in self._items:
            plot = view.getPlotItem()
            plot.removeItem(item)
            plot.legend.removeItem(item)   # a legend-only sample is not among the plot's items
        self._items, self.runs = [], []
        self.plots.fit_loss_axis()

    def _draw(self, run, colour):
        p = self.plots
        self._add(p.batch_loss, run.steps, run.loss, run.label, colour)
        self._add(p.batch_acc, run.steps, run.accuracy, run.label, colour)
        for view, key in ((p.epoch_loss, "loss"), (p.epoch_acc, "accuracy")):
            self._add(view, *run.epoch_curve(key), run.label, colour, symbol="o")
            self._add(view, *run.epoch_curve(f"val_{key}"), None, colour, symbol="s", style=Qt.DashLine)

    def _add(self, view, xs, ys, name, colour, symbol=None, style=Qt.SolidLine):
        if not len(xs):
            return   # nothing measured (no validation): no empty legend entry either
        item = view.curve(np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64), name=name,
                          pen=pg.mkPen(colour, width=1.8, style=style), symbol=symbol, symbolSize=6,
                          symbolBrush=colour, symbolPen=None)
        item.setZValue(-1)    # under the live run's curves
        self._items.append((view, item))

    def _explain_dashes(self, view):
        """A legend-only sample: the overlaid runs' dashed lines with squares are their validation curves."""
        sample = pg.PlotDataItem(pen=pg.mkPen(GREY, width=1.8, style=Qt.DashLine), symbol="s", symbolSize=6,
                                 symbolBrush=GREY, symbolPen=None)
        view.getPlotItem().legend.addItem(sample, "dashed: validation")
        self._items.append((view, sample))
