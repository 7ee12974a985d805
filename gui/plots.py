"""Live training plots: batch loss and accuracy, epoch curves, learning rate.

pyqtgraph's habit: every curve is created once; points from the worker's
signals go into growing NumPy buffers, and a ~30 Hz timer hands the buffers
to ``setData`` only when something new arrived, so a flood of batches costs
one redraw. The history stays after training; plots zoom and pan with the
mouse (pyqtgraph's default; right-click for more).
"""
import csv

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

REFRESH_MS = 33
EMA_WEIGHT = 0.95          # TensorBoard-style smoothing of the batch curves, debiased at the start

TRAIN = "#2563eb"          # blue
VALID = "#ea580c"          # orange
RAW = (37, 99, 235, 70)    # the blue, faint, under its smoothed line
RAW_ACC = (22, 163, 74, 70)
ACC = "#16a34a"
LR = "#7c3aed"
EPOCH_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr")
BATCH_COLUMNS = ("step", "loss", "accuracy", "lr")


class Series:
    """A growing (x, y) buffer: appends are amortised O(1), ``xs``/``ys`` are views for setData."""

    def __init__(self, capacity=1024):
        self._x = np.empty(capacity)
        self._y = np.empty(capacity)
        self.n = 0

    def append(self, x, y):
        if self.n == len(self._x):
            self._x = np.resize(self._x, 2 * self.n)
            self._y = np.resize(self._y, 2 * self.n)
        self._x[self.n], self._y[self.n] = x, y
        self.n += 1

    def clear(self):
        self.n = 0

    @property
    def xs(self):
        return self._x[:self.n]

    @property
    def ys(self):
        return self._y[:self.n]


class _Ema:
    def __init__(self, weight=EMA_WEIGHT):
        self.weight, self.value, self.n = weight, 0.0, 0

    def __call__(self, x):
        self.n += 1
        self.value = self.weight * self.value + (1 - self.weight) * x
        return self.value / (1 - self.weight ** self.n)


class TrainingPlots(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.ci.setSpacing(14)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.batch = {k: Series() for k in ("loss", "loss_ema", "accuracy", "accuracy_ema", "lr")}
        self.epoch = {k: Series(64) for k in ("loss", "val_loss", "accuracy", "val_accuracy", "lr")}
        self._ema = {"loss": _Ema(), "accuracy": _Ema()}
        self._bindings = []
        self._build()
        self._dirty = False
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(REFRESH_MS)

    # --- layout -------------------------------------------------------------------
    def _plot(self, row, col, title, x_label, y_label, colspan=1):
        plot = self.view.addPlot(row=row, col=col, colspan=colspan, title=title)
        plot.setLabel("bottom", x_label)
        plot.setLabel("left", y_label)
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.addLegend(offset=(-8, 8), labelTextColor="#333")
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setTextPen("#444")
            plot.getAxis(axis).setPen("#999")
        plot.titleLabel.setText(title, color="#222", size="11pt", bold=True)
        return plot

    def _curve(self, plot, series, name, color, width=2.0, symbol=None):
        curve = plot.plot(name=name, pen=pg.mkPen(color, width=width), symbol=symbol, symbolSize=6,
                          symbolBrush=color, symbolPen=None)
        self._bindings.append((curve, series))
        return curve

    def _build(self):
        b, e = self.batch, self.epoch
        self.batch_loss = self._plot(0, 0, "Batch loss", "step", "loss")
        self._curve(self.batch_loss, b["loss"], "batch", RAW, 1.0)
        self._curve(self.batch_loss, b["loss_ema"], "smoothed", TRAIN, 2.2)
        self.batch_acc = self._plot(0, 1, "Batch accuracy", "step", "accuracy")
        self._curve(self.batch_acc, b["accuracy"], "batch", RAW_ACC, 1.0)
        self._curve(self.batch_acc, b["accuracy_ema"], "smoothed", ACC, 2.2)
        self.epoch_loss = self._plot(1, 0, "Loss per epoch", "epoch", "loss")
        self._curve(self.epoch_loss, e["loss"], "training", TRAIN, 2.2, "o")
        self._curve(self.epoch_loss, e["val_loss"], "validation", VALID, 2.2, "s")
        self.epoch_acc = self._plot(1, 1, "Accuracy per epoch", "epoch", "accuracy")
        self._curve(self.epoch_acc, e["accuracy"], "training", TRAIN, 2.2, "o")
        self._curve(self.epoch_acc, e["val_accuracy"], "validation", VALID, 2.2, "s")
        self.lr_plot = self._plot(2, 0, "Learning rate", "step", "lr", colspan=2)
        self._curve(self.lr_plot, b["lr"], "lr", LR, 2.0)
        self.lr_plot.legend.setVisible(False)
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 3)
        self.view.ci.layout.setRowStretchFactor(2, 1)
        for plot in (self.epoch_loss, self.epoch_acc):
            plot.getAxis("bottom").setTickSpacing(minor=1)

    # --- data in --------------------------------------------------------------------
    @property
    def last_step(self):
        n = self.batch["loss"].n
        return int(self.batch["loss"].xs[-1]) if n else 0

    def add_batch(self, step, loss, accuracy, lr):
        b = self.batch
        b["loss"].append(step, loss)
        b["loss_ema"].append(step, self._ema["loss"](loss))
        b["accuracy"].append(step, accuracy)
        b["accuracy_ema"].append(step, self._ema["accuracy"](accuracy))
        b["lr"].append(step, lr)
        self._dirty = True

    def add_epoch(self, epoch, logs):
        for key, series in self.epoch.items():
            if key in logs:
                series.append(epoch, logs[key])
        self._dirty = True

    def load_history(self, history):
        """Start over from a model's saved per-epoch history (a dict of lists, may be empty)."""
        self.clear()
        for i in range(len(history.get("loss", []))):
            self.add_epoch(i + 1, {k: v[i] for k, v in history.items() if i < len(v)})
        self.refresh()

    def clear(self):
        for series in (*self.batch.values(), *self.epoch.values()):
            series.clear()
        self._ema = {"loss": _Ema(), "accuracy": _Ema()}
        self._dirty = True

    def refresh(self):
        if not self._dirty:
            return
        self._dirty = False
        for curve, series in self._bindings:
            curve.setData(series.xs, series.ys)

    # --- export --------------------------------------------------------------------
    def export_png(self, path):
        self.refresh()
        if not self.view.grab().save(str(path)):
            raise OSError(f"could not write the image {path}")

    def epoch_rows(self):
        """Per-epoch history as rows of EPOCH_COLUMNS (blank where a value is missing)."""
        rows = []
        for epoch in self.epoch["loss"].xs:
            row = {"epoch": int(epoch)}
            for key, series in self.epoch.items():
                hit = np.nonzero(series.xs == epoch)[0]
                row[key] = float(series.ys[hit[-1]]) if len(hit) else ""
            rows.append(row)
        return rows

    def export_csv(self, path):
        """The per-epoch table, plus the batch table beside it (``name-batches.csv``)."""
        _write_csv(path, EPOCH_COLUMNS, self.epoch_rows())
        b = self.batch
        batch_rows = [dict(zip(BATCH_COLUMNS, (int(s), float(l), float(a), float(r))))
                      for s, l, a, r in zip(b["loss"].xs, b["loss"].ys, b["accuracy"].ys, b["lr"].ys)]
        batches = str(path)[:-4] + "-batches.csv" if str(path).endswith(".csv") else f"{path}-batches.csv"
        _write_csv(batches, BATCH_COLUMNS, batch_rows)
        return batches


def _write_csv(path, columns, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
