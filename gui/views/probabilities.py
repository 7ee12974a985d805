"""A bar chart of class probabilities, painted with QPainter.

Bars stand side by side with the class names under them and the top class in
the accent colour. When the names are too long to sit under their bars
(Fashion-MNIST's "Ankle boot"), the chart turns sideways: one row per class,
the name on the left. Used by the draw pad; the evaluation view can reuse it.
"""
import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..format import probability

_MARGIN = 6
_GAP = 4            # between a bar and its texts


class ProbabilityBars(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._names = []
        self._probs = None
        self.setMinimumSize(300, 170)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    # ----- data -------------------------------------------------------------------------
    @property
    def probabilities(self):
        """The probabilities shown (a copy), or None when the chart is empty."""
        return None if self._probs is None else self._probs.copy()

    @property
    def class_names(self):
        return list(self._names)

    def set_class_names(self, names):
        """Show these classes with empty bars."""
        self._names, self._probs = [str(n) for n in names], None
        self.update()

    def set_probabilities(self, probs, names=None):
        probs = np.asarray(probs, np.float32).ravel()
        if names is not None:
            self._names = [str(n) for n in names]
        if len(self._names) != len(probs):
            self._names = [str(i) for i in range(len(probs))]
        self._probs = probs
        self.update()

    def clear(self):
        """Empty bars; the class names stay."""
        self._probs = None
        self.update()

    # ----- painting ---------------------------------------------------------------------
    def paintEvent(self, event):
        if not self._names:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        values = self._probs if self._probs is not None else np.zeros(len(self._names), np.float32)
        top = int(values.argmax()) if self._probs is not None else -1
        area = QRectF(self.rect()).adjusted(_MARGIN, _MARGIN, -_MARGIN, -_MARGIN)
        if self._names_fit_under(area):
            self._paint_columns(p, area, values, top)
        else:
            self._paint_rows(p, area, values, top)
        p.end()

    def _names_fit_under(self, area):
        column = area.width() / len(self._names)
        widest = max(self.fontMetrics().horizontalAdvance(n) for n in self._names)
        return widest <= column - 2

    def _colours(self):
        pal = self.palette()
        accent = pal.color(QPalette.Highlight)
        text = pal.color(QPalette.WindowText)
        track = pal.color(QPalette.Mid)
        track.setAlpha(40)
        muted = QColor(accent)
        muted.setAlpha(110)
        return accent, muted, track, text

    def _paint_columns(self, p, area, values, top):
        accent, muted, track, text = self._colours()
        line = self.fontMetrics().height()
        column = area.width() / len(values)
        bar_w = min(column * 0.62, 48.0)
        plot_top, plot_bottom = area.top() + line + _GAP, area.bottom() - line - _GAP
        full = max(plot_bottom - plot_top, 1.0)
        all_percents = self.fontMetrics().horizontalAdvance("99.9%") < column   # else only the top one
        for i, v in enumerate(values):
            cx = area.left() + column * (i + 0.5)
            p.setPen(Qt.NoPen)
            p.setBrush(track)
            p.drawRoundedRect(QRectF(cx - bar_w / 2, plot_top, bar_w, full), 3, 3)
            h = float(v) * full
            p.setBrush(accent if i == top else muted)
            if h > 0.5:
                p.drawRoundedRect(QRectF(cx - bar_w / 2, plot_bottom - h, bar_w, h), 3, 3)
            self._text(p, QRectF(cx - column / 2, plot_bottom + _GAP, column, line),
                       self._names[i], Qt.AlignHCenter | Qt.AlignTop, text, bold=i == top)
            if self._probs is not None and (i == top or (all_percents and v >= 0.005)):
                self._text(p, QRectF(cx - column / 2, plot_bottom - h - line - 1, column, line),
                           probability(v), Qt.AlignHCenter | Qt.AlignBottom, text, bold=i == top)

    def _paint_rows(self, p, area, values, top):
        accent, muted, track, text = self._colours()
        bold = QFont(self.font())
        bold.setBold(True)
        fm = QFontMetrics(bold)               # the top class is written in bold: leave it room
        name_w = min(max(fm.horizontalAdvance(n) for n in self._names) + 2, area.width() * 0.4)
        pct_w = fm.horizontalAdvance("100.0%")
        row = area.height() / len(values)
        bar_h = min(row * 0.66, 22.0)
        left = area.left() + name_w + 2 * _GAP
        full = max(area.right() - pct_w - _GAP - left, 1.0)
        for i, v in enumerate(values):
            cy = area.top() + row * (i + 0.5)
            name = fm.elidedText(self._names[i], Qt.ElideRight, int(name_w))
            self._text(p, QRectF(area.left(), cy - row / 2, name_w, row), name,
                       Qt.AlignRight | Qt.AlignVCenter, text, bold=i == top)
            p.setPen(Qt.NoPen)
            p.setBrush(track)
            p.drawRoundedRect(QRectF(left, cy - bar_h / 2, full, bar_h), 3, 3)
            p.setBrush(accent if i == top else muted)
            if v * full > 0.5:
                p.drawRoundedRect(QRectF(left, cy - bar_h / 2, float(v) * full, bar_h), 3, 3)
            if self._probs is not None:
                self._text(p, QRectF(area.right() - pct_w, cy - row / 2, pct_w, row), probability(v),
                           Qt.AlignRight | Qt.AlignVCenter, text, bold=i == top)

    def _text(self, p, rect, s, align, colour, bold=False):
        font = self.font()
        font.setBold(bold)
        p.setFont(font)
        p.setPen(colour)
        p.drawText(rect, int(align | Qt.TextDontClip), s)
