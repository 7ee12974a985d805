"""Accuracy per class as horizontal bars: ``ClassAccuracyBars.set_values(accuracy, names, counts)``."""
import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..format import percent

ACCENT = QColor("#2563eb")
WORST = QColor("#ea580c")


class ClassAccuracyBars(QWidget):
    """One bar per class: its test accuracy, with the count of its images; the weakest in orange."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.values = None
        self.names, self.counts = [], []
        self.setMinimumHeight(200)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)

    def set_values(self, accuracy, names, counts):
        self.values, self.names, self.counts = np.asarray(accuracy), list(names), list(counts)
        self.setMinimumHeight(int(len(self.names) * (self.fontMetrics().height() + 6) + 8))
        self.update()

    def paintEvent(self, event):
        if self.values is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        fm = self.fontMetrics()
        text = self.palette().color(QPalette.WindowText)
        name_w = max(fm.horizontalAdvance(n) for n in self.names) + 8
        value_w = fm.horizontalAdvance("100.0%  (10,000)") + 8
        row = (self.height() - 4) / len(self.names)
        bar_h = min(row * 0.7, 18)
        full = max(self.width() - name_w - value_w - 8, 10)
        finite = np.where(np.isfinite(self.values), self.values, np.inf)
        worst = int(finite.argmin()) if np.isfinite(finite).any() else -1
        track = QColor(self.palette().color(QPalette.Mid))
        track.setAlpha(40)
        for i, (name, v, n) in enumerate(zip(self.names, self.values, self.counts)):
            y = 2 + i * row
            p.setPen(text)
            p.drawText(QRectF(0, y, name_w - 8, row), Qt.AlignRight | Qt.AlignVCenter, name)
            bar = QRectF(name_w, y + (row - bar_h) / 2, full, bar_h)
            p.setPen(Qt.NoPen)
            p.setBrush(track)
            p.drawRoundedRect(bar, 3, 3)
            if np.isfinite(v):
                p.setBrush(WORST if i == worst else ACCENT)
                p.drawRoundedRect(QRectF(bar.x(), bar.y(), full * float(v), bar_h), 3, 3)
            p.setPen(text)
            label = f"{percent(v)}  ({n:,})" if np.isfinite(v) else f"—  ({n:,})"
            p.drawText(QRectF(name_w + full + 8, y, value_w, row), Qt.AlignLeft | Qt.AlignVCenter, label)
        p.end()
