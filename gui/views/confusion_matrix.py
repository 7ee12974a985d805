"""The confusion matrix as a widget: counts of (true, predicted) pairs, a cell clickable.

Input: ``set_matrix(cm, names)``. Output: ``cellClicked(true, predicted)``.
"""
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ..format import percent, rich_tooltip
from ..imaging import diverging_rgb


def text_colour(rgb):
    """Black or white, whichever reads better on ``rgb``."""
    r, g, b = (int(c) for c in rgb)
    return QColor("#111827") if 0.299 * r + 0.587 * g + 0.114 * b > 140 else QColor("white")


class ConfusionMatrixView(QWidget):
    """Counts of (true, predicted) pairs; click a cell to see its images.

    Diagonal cells are blue by the class's accuracy; off-diagonal cells red by
    their count relative to the largest confusion (square root, so small
    confusions still show), so errors stand out from a strong diagonal.
    """
    cellClicked = Signal(int, int)     # true class, predicted class

    def __init__(self, parent=None):
        super().__init__(parent)
        self.cm = None
        self.names = []
        self.selected = None
        self.setMouseTracking(True)
        self.setMinimumSize(360, 360)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def set_matrix(self, cm, names):
        self.cm, self.names = np.asarray(cm), list(names)
        self.selected = None
        self.update()

    def cell_colours(self):
        cm = self.cm.astype(np.float64)
        rows = np.maximum(cm.sum(axis=1, keepdims=True), 1)
        off = cm * (1 - np.eye(len(cm)))
        worst = max(off.max(), 1)
        signed = np.sqrt(off / worst) - np.eye(len(cm)) * (cm / rows)
        return diverging_rgb(signed, 1.0)

    # ----- geometry -----------------------------------------------------------------------------
    def _layout(self):
        """(left, top, cell size, vertical column names?) for the current size."""
        fm = self.fontMetrics()
        line = fm.height()
        name_w = max((fm.horizontalAdvance(n) for n in self.names), default=0)
        left = line + 8 + name_w + 6
        k = max(len(self.names), 1)
        cell = min((self.width() - left - 4) / k, (self.height() - 2 * line - 14) / k)
        vertical = name_w > cell - 4
        top = line + 6 + (name_w if vertical else line) + 4
        cell = max(min((self.width() - left - 4) / k, (self.height() - top - 4) / k), 4)
        return left, top, cell, vertical

    def cell_at(self, pos):
        if self.cm is None:
            return None
        left, top, cell, _ = self._layout()
        c, r = int((pos.x() - left) // cell), int((pos.y() - top) // cell)
        k = len(self.cm)
        return (r, c) if 0 <= r < k and 0 <= c < k and pos.x() >= left and pos.y() >= top else None

    def cell_centre(self, true_class, pred_class):
        left, top, cell, _ = self._layout()
        return QPointF(left + (pred_class + 0.5) * cell, top + (true_class + 0.5) * cell).toPoint()

    # ----- painting -----------------------------------------------------------------------------
    def paintEvent(self, event):
        if self.cm is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        fm = self.fontMetrics()
        line = fm.height()
        text = self.palette().color(QPalette.WindowText)
        left, top, cell, vertical = self._layout()
        k = len(self.cm)
        colours = self.cell_colours()
        font = self.font()
        for r in range(k):
            for c in range(k):
                rect = QRectF(left + c * cell, top + r * cell, cell, cell)
                rgb = colours[r, c]
                p.fillRect(rect, QColor(*map(int, rgb)))
                count = int(self.cm[r, c])
                font.setBold(r == c)
                p.setFont(font)
                p.setPen(text_colour(rgb) if count else QColor("#c4c8cf"))
                p.drawText(rect, Qt.AlignCenter, f"{count}")
        p.setPen(QPen(QColor("#e5e7eb"), 1))
        for i in range(k + 1):
            p.drawLine(QPointF(left, top + i * cell), QPointF(left + k * cell, top + i * cell))
            p.drawLine(QPointF(left + i * cell, top), QPointF(left + i * cell, top + k * cell))
        if self.selected is not None:
            r, c = self.selected
            p.setPen(QPen(QColor("#111827"), 2.5))
            p.drawRect(QRectF(left + c * cell, top + r * cell, cell, cell).adjusted(1, 1, -1, -1))
        font.setBold(False)
        p.setFont(font)
        p.setPen(text)
        for i, name in enumerate(self.names):
            p.drawText(QRectF(line + 8, top + i * cell, left - line - 14, cell), Qt.AlignRight | Qt.AlignVCenter, name)
            x = left + (i + 0.5) * cell
            if vertical:
                p.save()
                p.translate(x + line / 2 - 2, top - 4)
                p.rotate(-90)
                p.drawText(QRectF(0, 0, top - line - 10, line), Qt.AlignLeft | Qt.AlignVCenter, name)
                p.restore()
            else:
                p.drawText(QRectF(x - cell / 2, top - line - 4, cell, line), Qt.AlignCenter, name)
        font.setBold(True)
        p.setFont(font)
        p.drawText(QRectF(left, 0, k * cell, line + 2), Qt.AlignCenter, "Predicted class")
        p.save()
        p.translate(0, top + k * cell / 2)
        p.rotate(-90)
        p.drawText(QRectF(-k * cell / 2, 0, k * cell, line + 2), Qt.AlignCenter, "True class")
        p.restore()
        p.end()

    # ----- mouse --------------------------------------------------------------------------------
    def mouseMoveEvent(self, event):
        hit = self.cell_at(event.position())
        if hit is None:
            QToolTip.hideText()
            return
        r, c = hit
        n = int(self.cm[r].sum())
        share = f" ({percent(self.cm[r, c] / n)} of the {n:,} {self.names[r]} images)" if n else ""
        text = f"true {self.names[r]}, predicted {self.names[c]}: {int(self.cm[r, c]):,}{share}\nclick to see them"
        QToolTip.showText(event.globalPosition().toPoint(), rich_tooltip(text), self)

    def mousePressEvent(self, event):
        hit = self.cell_at(event.position()) if event.button() == Qt.LeftButton else None
        if hit is not None:
            self.selected = hit
            self.update()
            self.cellClicked.emit(*hit)
