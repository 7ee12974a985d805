"""Weights over time: per layer, the distribution of weights and of gradient sizes.

Inputs: a ``ModelSource`` (weights and the latest training gradients, a few
times a second while training) and ``state.dataset`` (when no training runs,
the gradients of one test batch are shown instead, so the tab is never empty).
Gradient sizes are binned on log10|g| over fixed edges (``inspect``), so a
layer whose gradients slide towards 1e-8 (vanishing) or past 1 (exploding)
is plain at a glance; the top plot follows each layer's gradient RMS over the
training snapshots. Dashed grey curves are the distributions when the model
was loaded or built, for comparison.
"""
import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from core import inspect

from ..format import esc, percent, shape_text
from .dead_units import DeadUnitsPlot
from .export import view_column
from .lazy import LazyRefresh
from .grid import scrolled

ROW_PX = 190
TREND_PX = 230
BINS = 50
GRAD_BATCH = 64        # test images whose gradients stand in when no training runs
WEIGHTS = "#2563eb"
GRADS = "#ea580c"
REFERENCE = pg.mkPen("#9ca3af", width=1.5, style=pg.QtCore.Qt.DashLine)
LAYER_COLOURS = ["#2563eb", "#ea580c", "#16a34a", "#7c3aed", "#db2777", "#0891b2", "#ca8a04", "#4b5563"]


def _style(plot, title, x_label, y_label):
    plot.setTitle(title, color="#222", size="10pt")
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMouseEnabled(x=True, y=False)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).setTextPen("#444")
        plot.getAxis(axis).setPen("#999")
        plot.getAxis(axis).enableAutoSIPrefix(False)


def _density(hist):
    """Counts per unit of weight, so histograms with different bin widths compare."""
    return hist.weight_counts / max(hist.weight_counts.sum(), 1) / np.diff(hist.weight_edges)


def _power_axis(axis, lo, hi, step=1):
    """Label integer log10 values as powers of ten (1e-4), every ``step`` decades."""
    lo, hi = int(lo), int(hi)
    axis.setTicks([[(v, f"1e{v}") for v in range(lo, hi + 1, step)], [(v, "") for v in range(lo, hi + 1)]])


class _LayerRow:
    """The two plots of one layer: its weights, and log10 of its gradients' sizes."""

    def __init__(self, view, row, key, layer):
        self.key, self.layer = key, layer
        self.shape = tuple(layer.params["W"].shape)
        self.weights = view.addPlot(row=row, col=0)
        self.grads = view.addPlot(row=row, col=1)
        _style(self.weights, "", "weight value", "density")
        _style(self.grads, "", "|gradient|", "fraction")
        _power_axis(self.grads.getAxis("bottom"), *inspect.GRAD_LOG_RANGE, step=2)
        self.w_ref = self.weights.plot(pen=REFERENCE, stepMode="center")
        self.w_now = self.weights.plot(pen=pg.mkPen(WEIGHTS, width=1.8), stepMode="center", fillLevel=0,
                                       brush=(37, 99, 235, 50))
        self.g_ref = self.grads.plot(pen=REFERENCE, stepMode="center")
        self.g_now = self.grads.plot(pen=pg.mkPen(GRADS, width=1.8), stepMode="center", fillLevel=0,
                                     brush=(234, 88, 12, 50))
        self.grads.setXRange(*inspect.GRAD_LOG_RANGE, padding=0.02)
        self.weight_reference = self.grad_reference = False   # dashed curves drawn (as first seen)

    def show(self, hist, grads_label):
        density = _density(hist)
        self.w_now.setData(hist.weight_edges, density)
        self.weights.setTitle(f"<b>{esc(self.layer.name)}</b> weights ({esc(shape_text(self.shape))}) &nbsp; "
                              f"max |w| {esc(f'{hist.weight_edges[-1]:.3g}')}", color="#222", size="10pt")
        if not self.weight_reference:
            self.weight_reference = True
            self.w_ref.setData(hist.weight_edges, density)
        if hist.grad_counts is None:
            self.g_now.setData([], [])
            self.grads.setTitle(f"{esc(self.layer.name)} |gradient|: none yet", color="#222", size="10pt")
            return
        total = hist.grad_counts.sum() / max(1 - hist.zero_grads, 1e-12) or 1
        self.g_now.setData(hist.grad_edges, hist.grad_counts / total)
        if not self.grad_reference:
            self.grad_reference = True
            self.g_ref.setData(hist.grad_edges, hist.grad_counts / total)
        zero = f" &nbsp; {esc(percent(hist.zero_grads))} exactly 0" if hist.zero_grads >= 0.001 else ""
        self.grads.setTitle(f"<b>{esc(self.layer.name)}</b> |gradient| ({esc(grads_label)}) &nbsp; "
                            f"rms {esc(f'{hist.grad_rms:.2e}')}{zero}", color="#222", size="10pt")


class WeightsView(LazyRefresh, QWidget):
    def __init__(self, source, state, parent=None):
        super().__init__(parent)
        self.source, self.state = source, state
        self.rows = []
        self.trend = {}            # key -> (snapshot numbers, log10 rms) lists
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.ci.setSpacing(10)
        self.scroll = scrolled(self.view)
        self.trend_widget = pg.PlotWidget(background="w")
        self.trend_widget.setFixedHeight(TREND_PX)
        self.trend_plot = self.trend_widget.getPlotItem()
        _style(self.trend_plot, "<b>Gradient size per layer while training</b> (RMS)",
               "training snapshot (a few per second)", "rms |gradient|")
        self.trend_plot.setMouseEnabled(x=True, y=True)
        _power_axis(self.trend_plot.getAxis("left"), -30, 10)
        self.trend_plot.addLegend(offset=(-8, 8), labelTextColor="#333", brush=(255, 255, 255, 210))
        top = QHBoxLayout()
        top.addWidget(self.info, 1)
        layout = view_column(self, top, self.view, "weights_over_time.png")
        trends = QHBoxLayout()
        trends.addWidget(self.trend_widget, 1)
        self.dead_units = DeadUnitsPlot(source, state)
        self.dead_units.setFixedHeight(TREND_PX)
        trends.addWidget(self.dead_units, 1)
        layout.addLayout(trends)
        layout.addWidget(self.scroll, 1)
        source.modelReplaced.connect(self.rebuild)
        source.weightsChanged.connect(self.refresh_when_visible)
        state.weightsUpdated.connect(self._add_to_trend)   # every snapshot, seen or not: the trend has no gaps
        state.datasetChanged.connect(lambda _ds: self.refresh_when_visible())
        self.rebuild()

    def rebuild(self):
        self.view.clear()
        self.trend_plot.clear()
        self.trend_plot.legend.clear()
        self.rows, self.trend, self.trend_curves, self._snapshots = [], {}, {}, 0
        self.trend_widget.hide()
        model = self.source.model
        if model is not None:
            for i, layer in enumerate(model.layers):
                if "W" in layer.params:
                    key = f"{i}.W"
                    self.rows.append(_LayerRow(self.view, len(self.rows), key, layer))
                    self.view.ci.layout.setRowFixedHeight(len(self.rows) - 1, ROW_PX)
                    colour = LAYER_COLOURS[(len(self.rows) - 1) % len(LAYER_COLOURS)]
                    self.trend_curves[key] = self.trend_plot.plot(name=layer.name, pen=pg.mkPen(colour, width=2))
        self.view.setMinimumHeight(ROW_PX * len(self.rows) + 10 * len(self.rows) + 10)
        self.refresh_when_visible()

    def _add_to_trend(self, _weights, grads):
        """One training snapshot's gradient sizes, at its number since the model was replaced."""
        self._snapshots += 1
        watched = {k: g for k, g in grads.items() if k in self.trend_curves}
        for key, value in inspect.gradient_log_rms(watched).items():
            xs, ys = self.trend.setdefault(key, ([], []))
            xs.append(self._snapshots)
            ys.append(value)

    def _gradients(self):
        """(grads, label): the training snapshot's, else one test batch's, else none."""
        if self.source.grads:
            return self.source.grads, "training"
        ds = self.state.dataset
        if ds is None or not self.source.fits(ds.x_test):
            return None, ""
        twin = self.source.snapshot()   # training-mode forward moves BatchNorm statistics
        return (inspect.batch_gradients(twin, ds.x_test[:GRAD_BATCH], ds.y_test[:GRAD_BATCH]),
                f"{GRAD_BATCH} test images")

    def refresh(self):
        self._dirty = False
        model = self.source.model
        if model is None:
            self.info.setText("No model yet.")
            return
        grads, label = self._gradients()
        hists = {h.key: h for h in inspect.weight_histograms(model.get_weights(), grads, bins=BINS)}
        for row in self.rows:
            row.show(hists[row.key], label)
        for key, (xs, ys) in self.trend.items():
            self.trend_curves[key].setData(xs, ys)
        self.trend_widget.setVisible(bool(self.trend))
        if label == "training":
            source = ("Gradients of the latest training batch, updated live; beside their trend, the share of "
                      "dead units per layer (silent for a whole batch: they get no gradient).")
        elif grads is not None:
            source = (f"Not training: the gradients shown are those of the first {GRAD_BATCH} test images "
                      "(cross-entropy); during training they come from the training batches.")
        else:
            source = "Gradients appear while training (or load a dataset that fits the model)."
        self.info.setText("Blue: weights; orange: gradient sizes on a log scale; dashed grey: as first seen. "
                          "Gradients near 1e-8 are vanishing, beyond 1 exploding. " + source)
