"""Live training plots: batch loss and accuracy, epoch curves, learning rate.

pyqtgraph's habit: every curve is created once; points from the worker's
signals go into growing NumPy buffers, and a timer hands the buffers to
``setData`` only when something new arrived, so a flood of batches costs one
redraw. The timer refreshes one plot per tick (at most 6-7 ticks a second,
and no more often than keeps painting under 3 % of the GUI thread on a
slow machine), so no event-loop pass has to paint every plot at once; it
stops while nothing is new. The learning-rate strip takes a tick at most
once a second: the batch loss and accuracy, which the eye follows, keep a
refresh every 0.3 s or so at two-thirds of the ticks. Painting is the GUI's
largest cost to training: a pyqtgraph paint runs Python item code and holds
the interpreter lock for its whole length, and the trainer's Python waits
meanwhile. During a run the step axes are fixed to the steps ahead, accuracy
to [0, 1], and the loss axis moves only when the losses leave its frame or
fill less than half of it; axes are drawn from a cache, so still axes are not
redrawn. The history stays after training; plots zoom and pan with the mouse
(right-click for more).

An epoch a stop (or a divergence) cut short is averaged over only the
batches it trained, so it is not drawn as a full one: its markers are
hollow, and the legend and the plot's tooltip name it ("epoch 3 (partial,
40%)"). ``fit`` records it in the model's ``meta['partial_epochs']`` (saved
with it), and the worker passes it on as ``logs['fraction']``.
"""
import csv
import functools
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGraphicsItem, QGridLayout, QWidget

from .format import percent
from .legend_corner import FILL, place_legend
from .hover_help import explain
from .overlays import RunOverlays
from .smoothing import Ema

REFRESH_MS = 150           # fastest refresh: ~7 plots a second, the batch loss and accuracy each ~3 times
MAX_REFRESH_MS = 500
SLOW_REFRESH_S = 1.0       # the learning rate: a line that is mostly flat, refreshed at most once a second
PAINT_SHARE = 0.03         # painting may take at most this share of the GUI thread

TRAIN = "#2563eb"          # blue
VALID = "#ea580c"          # orange
RAW = (37, 99, 235, 70)    # the blue, faint, under its smoothed line
RAW_ACC = (22, 163, 74, 70)
ACC = "#16a34a"
LR = "#7c3aed"
MARKER = "#b45309"         # amber: a change made while the run trained
PARTIAL = "#6b7280"        # the legend's hollow marker for a partial epoch
EPOCH_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "fraction")
BATCH_COLUMNS = ("step", "loss", "accuracy", "lr")


class Series:
    """A growing (x, y) buffer: appends are amortised O(1), ``xs``/``ys`` are views for setData."""

    def __init__(self, capacity=1024):
        self._x = np.empty(capacity)
        self._y = np.empty(capacity)
        self.n = 0

    def append(self, x, y):
        self.extend([x], [y])

    def extend(self, xs, ys):
        end = self.n + len(xs)
        if end > len(self._x):
            size = max(end, 2 * len(self._x))
            self._x, self._y = np.resize(self._x, size), np.resize(self._y, size)
        self._x[self.n:end], self._y[self.n:end] = xs, ys
        self.n = end

    def clear(self):
        self.n = 0

    @property
    def xs(self):
        return self._x[:self.n]

    @property
    def ys(self):
        return self._y[:self.n]


class IntegerAxis(pg.AxisItem):
    """Epochs are whole numbers: ticks only at integers (every 1, 2, 5, 10, ... as room allows)."""

    def tickValues(self, minVal, maxVal, size):
        ticks = []
        for spacing, values in super().tickValues(minVal, maxVal, size):
            spacing = max(1.0, float(np.ceil(spacing)))
            ints = [v for v in values if float(v).is_integer() and v % spacing == 0]
            if ints:
                ticks.append((spacing, ints))
        return ticks or [(1.0, [float(v) for v in range(int(np.ceil(minVal)), int(maxVal) + 1)])]


class PlotView(pg.PlotWidget):
    """A PlotWidget that remembers how long its last paint took (for the refresh budget)."""

    def __init__(self, title, x_label, y_label, integer_x=False, about=""):
        axes = {"bottom": IntegerAxis("bottom")} if integer_x else None
        super().__init__(background="w", axisItems=axes)
        self.paint_seconds = 0.0
        self.help = about         # what the plot shows, for its tooltip and the status bar
        explain(self, about)
        plot = self.getPlotItem()
        plot.setTitle(title, color="#1f2937", size="10.5pt", bold=True)
        for axis, label in (("left", y_label), ("bottom", x_label)):
            item = plot.getAxis(axis)
            item.setLabel(label, color="#4b5563")
            item.enableAutoSIPrefix(False)
            item.setTextPen("#374151")
            item.setPen("#9ca3af")
            # The axis also draws the grid, so its area covers the whole plot: without a cache,
            # every new point would replay all tick labels and grid lines (half of each paint).
            item.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        plot.showGrid(x=False, y=True, alpha=0.18)
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        self.setMinimumSize(220, 150)

    def curve(self, *args, smooth=False, **kwargs):
        """A new curve in this plot (``PlotItem.plot``'s arguments), drawn from at most two points a pixel.

        Zoomed out over a long run, a curve keeps each pixel column's lowest and
        highest value (peak downsampling). pyqtgraph's default keeps five
        columns' worth a pixel, so the line went up and down each pixel five
        times: with 20,000 batches, painting the three batch plots took 12.5 ms
        (QPainter.drawLines most of it) against 1.9 ms with 250, and the faint
        batch line became a solid mass over the smoothed one. One column a
        pixel: 4.4 ms, and the smoothed line shows.

        A ``smooth`` curve (a moving average, the learning rate) has no spikes
        between its points to keep: it takes one point every two pixels. Its
        wide line is drawn segment by segment, most of a batch plot's paint
        while it trains. Painting the three batch plots (alternated, medians):
        3.1 -> 1.8 ms with 1,500 batches, 3.0 -> 1.7 ms with 20,000.
        """
        item = self.getPlotItem().plot(*args, autoDownsampleFactor=0.5 if smooth else 1.0, **kwargs)
        if smooth:
            item.setDownsampling(auto=True, method="subsample")
        return item

    def paintEvent(self, event):
        start = time.perf_counter()
        super().paintEvent(event)
        self.paint_seconds = time.perf_counter() - start


class TrainingPlots(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.batch = {k: Series() for k in ("loss", "loss_ema", "accuracy", "accuracy_ema", "lr")}
        self.epoch = {k: Series(64) for k in ("loss", "val_loss", "accuracy", "val_accuracy", "lr")}
        self.partial = {}     # epoch -> share of its batches trained, for the epochs a stop cut short
        self.partial_points = {k: Series(8) for k in ("loss", "val_loss", "accuracy", "val_accuracy")}
        self._ema = {"loss": Ema(), "accuracy": Ema()}
        self._bindings = []
        self._dirty = set()
        self.markers = []     # (step, label) of each change made during a run, as drawn
        self._marker_lines = []
        self._turn = 0
        self._lr_refreshed = 0.0   # time.monotonic() of the learning rate's last refresh
        self._build()
        self.overlays = RunOverlays(self)   # recorded runs drawn beside the live one
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._tick)

    # --- layout -------------------------------------------------------------------
    def _curve(self, view, series, name, color, width=2.0, symbol=None, smooth=False):
        curve = view.curve(name=name, pen=pg.mkPen(color, width=width), symbol=symbol, symbolSize=7,
                           symbolBrush=color, symbolPen=None, smooth=smooth)
        self._bindings.append((view, curve, series))
        return curve

    def _hollow(self, view, series, color, symbol):
        """Markers over a curve's own at the epochs cut short: hollow, so they do not pass for full ones."""
        markers = view.curve(pen=None, symbol=symbol, symbolSize=9, symbolBrush="w", symbolPen=pg.mkPen(color, width=2))
        self._bindings.append((view, markers, series))

    def _build(self):
        b, e = self.batch, self.epoch
        self.batch_loss = PlotView("Batch loss", "step", "loss", about=(
            "The loss of each training batch (faint) and its moving average: it should fall; a rise means "
            "steps too large. Drag to pan, wheel to zoom, right-click for more."))
        self.batch_acc = PlotView("Batch accuracy", "step", "accuracy", about=(
            "The share of each training batch classified right (faint), and its moving average"))
        self.epoch_loss = PlotView("Loss per epoch", "epoch", "loss", integer_x=True, about=(
            "Mean loss per epoch on the training images (blue) and the held-out validation images (orange): "
            "validation rising while training falls is overfitting"))
        self.epoch_acc = PlotView("Accuracy per epoch", "epoch", "accuracy", integer_x=True, about=(
            "Accuracy per epoch on the training images (blue) and the validation images (orange): the gap "
            "between them is how much the network memorises"))
        self.lr_plot = PlotView("Learning rate", "step", "lr", about=(
            "The learning rate each batch used: a schedule or a live change moves it; dashed lines mark changes"))
        for view, corner in ((self.batch_loss, (-10, 8)), (self.batch_acc, (-10, -10)),
                             (self.epoch_loss, (-10, 8)), (self.epoch_acc, (-10, -10))):
            view.getPlotItem().addLegend(offset=corner, labelTextColor="#374151", brush=FILL)
        for view in (self.epoch_loss, self.epoch_acc):   # few points: the legend goes where it hides none
            plot = view.getPlotItem()
            for signal in (plot.getViewBox().sigRangeChanged, plot.getViewBox().sigResized):
                signal.connect(functools.partial(place_legend, plot))
        self._curve(self.batch_loss, b["loss"], "batch", RAW, 1.0)
        self._curve(self.batch_loss, b["loss_ema"], "smoothed", TRAIN, 2.2, smooth=True)
        self._curve(self.batch_acc, b["accuracy"], "batch", RAW_ACC, 1.0)
        self._curve(self.batch_acc, b["accuracy_ema"], "smoothed", ACC, 2.2, smooth=True)
        self._curve(self.epoch_loss, e["loss"], "training", TRAIN, 2.2, "o")
        self._curve(self.epoch_loss, e["val_loss"], "validation", VALID, 2.2, "s")
        self._curve(self.epoch_acc, e["accuracy"], "training", TRAIN, 2.2, "o")
        self._curve(self.epoch_acc, e["val_accuracy"], "validation", VALID, 2.2, "s")
        p = self.partial_points
        for view, train, valid in ((self.epoch_loss, "loss", "val_loss"), (self.epoch_acc, "accuracy", "val_accuracy")):
            self._hollow(view, p[train], TRAIN, "o")
            self._hollow(view, p[valid], VALID, "s")
        self._partial_samples = {view: pg.ScatterPlotItem(symbol="o", size=9, brush="w", pen=pg.mkPen(PARTIAL, width=2))
                                 for view in (self.epoch_loss, self.epoch_acc)}   # legend entries only
        self._curve(self.lr_plot, b["lr"], "lr", LR, 2.0, smooth=True)
        self.batch_acc.getPlotItem().setYRange(0, 1, padding=0.02)   # accuracy is a fraction: a still axis
        self.batch_acc.getPlotItem().enableAutoRange(y=False)
        self._own_loss_axis()
        self.batch_loss.getPlotItem().getViewBox().sigRangeChangedManually.connect(self._user_framed_loss)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        grid.addWidget(self.batch_loss, 0, 0)
        grid.addWidget(self.batch_acc, 0, 1)
        grid.addWidget(self.epoch_loss, 1, 0)
        grid.addWidget(self.epoch_acc, 1, 1)
        grid.addWidget(self.lr_plot, 2, 0, 1, 2)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 3)
        grid.setRowStretch(2, 1)

    @property
    def views(self):
        return [self.batch_loss, self.batch_acc, self.epoch_loss, self.epoch_acc, self.lr_plot]

    # --- data in --------------------------------------------------------------------
    @property
    def last_step(self):
        n = self.batch["loss"].n
        return int(self.batch["loss"].xs[-1]) if n else 0

    def smoothed(self):
        """The latest smoothed (loss, accuracy), NaN before the first batch."""
        b = self.batch
        if not b["loss_ema"].n:
            return float("nan"), float("nan")
        return float(b["loss_ema"].ys[-1]), float(b["accuracy_ema"].ys[-1])

    def add_batches(self, rows):
        """Rows of (step, loss, accuracy, lr), as the worker sends them."""
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
        steps, loss, accuracy, lr = rows.T
        b = self.batch
        b["loss"].extend(steps, loss)
        b["loss_ema"].extend(steps, self._ema["loss"].many(loss))
        b["accuracy"].extend(steps, accuracy)
        b["accuracy_ema"].extend(steps, self._ema["accuracy"].many(accuracy))
        b["lr"].extend(steps, lr)
        self._changed(self.batch_loss, self.batch_acc, self.lr_plot)

    def add_epoch(self, epoch, logs):
        """One epoch's logs; ``logs['fraction']`` below 1 marks an epoch cut short (drawn hollow)."""
        for key, series in self.epoch.items():
            if key in logs:
                series.append(epoch, logs[key])
        fraction = logs.get("fraction", 1.0)
        if fraction < 1:
            self.partial[epoch] = fraction
            for key, series in self.partial_points.items():
                if key in logs:
                    series.append(epoch, logs[key])
            self._show_partial_note()
        self._changed(self.epoch_loss, self.epoch_acc)

    def load_history(self, history, partial=None):
        """Start over from a model's per-epoch history (a dict of lists, may be empty) and the
        epochs that were cut short (``{"3": 0.4}``, as ``meta['partial_epochs']`` keeps them)."""
        self.clear()
        cut = {int(e): float(f) for e, f in (partial or {}).items()}
        for i in range(len(history.get("loss", []))):
            logs = {k: v[i] for k, v in history.items() if i < len(v)}
            if i + 1 in cut:
                logs["fraction"] = cut[i + 1]
            self.add_epoch(i + 1, logs)
        self.refresh()

    def add_marker(self, step, label):
        """A labelled vertical line at ``step`` on the batch plots: a change that acts from that step on."""
        self.markers.append((step, label))
        # the label where the curve seldom is: low on accuracy (it climbs to 1), high elsewhere
        for view, height in ((self.batch_loss, 0.92), (self.batch_acc, 0.1), (self.lr_plot, 0.92)):
            line = pg.InfiniteLine(pos=step, angle=90, movable=False, label=label,
                                   pen=pg.mkPen(MARKER, width=1.2, style=Qt.DashLine),
                                   labelOpts={"position": height, "color": MARKER, "anchors": [(0, 0.5), (0, 0.5)]})
            view.getPlotItem().addItem(line, ignoreBounds=True)
            self._marker_lines.append((view, line))

    def clear(self):
        """Forget every point, and the step range of the last run (empty curves keep the old axes)."""
        for series in (*self.batch.values(), *self.epoch.values(), *self.partial_points.values()):
            series.clear()
        self.partial = {}
        self._show_partial_note()
        self._ema = {"loss": Ema(), "accuracy": Ema()}
        for view, line in self._marker_lines:
            view.getPlotItem().removeItem(line)
        self.markers, self._marker_lines = [], []
        for view in (self.batch_loss, self.batch_acc, self.lr_plot):
            view.getPlotItem().setXRange(0, 1)
            view.getPlotItem().enableAutoRange(x=True)
        self._own_loss_axis()
        self._changed(*self.views)

    def _show_partial_note(self):
        """Name the epochs cut short in the epoch plots' legends and tooltips."""
        cut = sorted(self.partial.items())
        text = ", ".join(f"epoch {e} (partial, {percent(f, 0)})" for e, f in cut) if len(cut) <= 2 else \
            f"{len(cut)} partial epochs"
        for view, sample in self._partial_samples.items():
            legend = view.getPlotItem().legend
            legend.removeItem(sample)
            if cut:
                legend.addItem(sample, text)
            explain(view, f"{view.help} Hollow markers: {text}. A stopped run's last epoch is averaged over "
                          "only the batches it trained." if cut else view.help)
            place_legend(view.getPlotItem())

    def _changed(self, *views):
        """Mark plots as having new points; the refresh timer runs only while some have."""
        self._dirty.update(views)
        if not self.timer.isActive():
            self.timer.start(REFRESH_MS)

    def refresh(self, views=None):
        """Hand new points to the curves of the changed plots (all of them, or those in ``views``)."""
        todo = self._dirty & set(self.views if views is None else views)
        self._dirty -= todo
        for view, curve, series in self._bindings:
            if view in todo:
                curve.setData(series.xs, series.ys)
        if self.lr_plot in todo:
            self._lr_refreshed = time.monotonic()
            if self.batch["lr"].n:
                self._fit_lr_axis()
        if self.batch_loss in todo:
            self.fit_loss_axis()
        for view in todo & {self.epoch_loss, self.epoch_acc}:   # new points in the same range
            place_legend(view.getPlotItem())

    def _fit_lr_axis(self):
        """The learning rate from 0 to just above its largest value: a constant rate is a line near the
        top, at its value (pyqtgraph centres flat data in a ±0.5 range, where 0.01 looks like 0)."""
        top = float(self.batch["lr"].ys.max())
        self.lr_plot.getPlotItem().setYRange(0, 1.1 * top if top > 0 else 1, padding=0)

    def fit_loss_axis(self):
        """Frame the batch losses (and the runs overlaid), moving the frame only when they leave it or fill
        less than half of it. Autoranging moved it at every refresh as the lowest loss fell, and each
        move redraws the axis and its grid: the largest part of painting a plot while it trains. The
        frame reaches ahead (20% of the span) in the direction losses go, and stops at 0 below them."""
        if not self._loss_axis_ours:
            return
        plot = self.batch_loss.getPlotItem()
        finite = [ys[np.isfinite(ys)] for ys in (item.yData for item in plot.listDataItems()) if ys is not None]
        finite = [ys for ys in finite if len(ys)]      # a diverged run's NaN and inf have no place on the axis
        if not finite:
            return
        low, high = min(ys.min() for ys in finite), max(ys.max() for ys in finite)
        view = plot.getViewBox()
        bottom, top = view.viewRange()[1]
        if bottom <= low and high <= top and high - low >= (top - bottom) / 2:
            return
        span = max(high - low, 1e-6 * max(abs(high), 1e-12))
        below = low - 0.2 * span
        view.setYRange(max(below, 0.0) if low >= 0 else below, high + 0.05 * span, padding=0)

    def _own_loss_axis(self):
        """The batch loss frame is fit_loss_axis's again (pyqtgraph's autorange off): at a run's start and
        for new plots, whatever the user did with the mouse before."""
        self._loss_axis_ours = True
        self.batch_loss.getPlotItem().enableAutoRange(y=False)

    def _user_framed_loss(self, _axes):
        """The user zoomed or panned the batch loss plot: the frame is theirs until the next run's start."""
        self._loss_axis_ours = False

    def _tick(self):
        """Refresh the next changed plot, then wait so painting stays a small share of the GUI thread.

        One plot per tick: Qt paints every dirty widget of a window in one go,
        so refreshing all plots at once would block the event loop for all
        their paints together. A tick (a refresh and a paint) took about 2 ms
        of the GUI thread while LeNet-5 trained, and the learning rate's strip,
        refreshed at every third tick, took a third of them.
        """
        now = time.monotonic()
        for view in self.views[self._turn:] + self.views[:self._turn]:
            if view in self._dirty and self._due(view, now):
                self._turn = (self.views.index(view) + 1) % len(self.views)
                self.refresh([view])
                break
        paint = sum(view.paint_seconds for view in self.views)   # painted since the last tick
        for view in self.views:
            view.paint_seconds = 0.0
        if self._dirty:   # else idle until new points arrive: no wake-ups in a window at rest
            wait_ms = max(REFRESH_MS, int(1000 * paint / PAINT_SHARE))
            if self._dirty == {self.lr_plot}:   # nothing else to draw: come back when the strip is due
                wait_ms = max(wait_ms, int(1000 * (self._lr_refreshed + SLOW_REFRESH_S - now)))
            self.timer.start(min(wait_ms, MAX_REFRESH_MS))

    def _due(self, view, now):
        return view is not self.lr_plot or now - self._lr_refreshed >= SLOW_REFRESH_S

    def plan_steps(self, first, last):
        """Fix the step axes to the run ahead (``first``..``last``): the curves grow into a still
        frame, which shows how far the run is and spares redrawing the axes at every refresh.
        The frame also holds the runs overlaid beside it."""
        last = max(last, self.overlays.last_step)
        for view in (self.batch_loss, self.batch_acc, self.lr_plot):
            view.getPlotItem().setXRange(first, last, padding=0.02)
        self._own_loss_axis()

    def unplan_steps(self):
        for view in (self.batch_loss, self.batch_acc, self.lr_plot):
            view.getPlotItem().enableAutoRange(x=True)

    # --- export --------------------------------------------------------------------
    def export_png(self, path):
        self.refresh()
        if not self.grab().save(str(path)):
            raise OSError(f"could not write the image {path}")

    def epoch_rows(self):
        """Per-epoch history as rows of EPOCH_COLUMNS (blank where a value is missing)."""
        rows = []
        for epoch in self.epoch["loss"].xs:
            row = {"epoch": int(epoch), "fraction": self.partial.get(int(epoch), 1.0)}
            for key, series in self.epoch.items():
                hit = np.nonzero(series.xs == epoch)[0]
                row[key] = float(series.ys[hit[-1]]) if len(hit) else ""
            rows.append(row)
        return rows

    def export_csv(self, path):
        """The per-epoch table, plus the batch table beside it (``name-batches.csv``)."""
        _write_csv(path, EPOCH_COLUMNS, self.epoch_rows())
        b = self.batch
        batch_rows = [dict(zip(BATCH_COLUMNS, (int(s), float(loss), float(a), float(r))))
                      for s, loss, a, r in zip(b["loss"].xs, b["loss"].ys, b["accuracy"].ys, b["lr"].ys)]
        batches = batches_csv_path(path)
        _write_csv(batches, BATCH_COLUMNS, batch_rows)
        return batches


def batches_csv_path(path):
    """Where ``export_csv`` writes the batch table beside the epoch table at ``path``."""
    text = str(path)
    return text[:-4] + "-batches.csv" if text.endswith(".csv") else f"{text}-batches.csv"


def _write_csv(path, columns, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
