"""A line of text that changes several times a second without laying out the window again.

A QLabel's ``setText`` invalidates every layout from the label up to the
main window, and QMainWindow then places each of its docks again (making an
animation object for every one of them: 110 in a 150-batch run). The
training panel's progress line changes four times a second. ``LiveText``
paints its text itself and asks for a new layout only when the text needs
another number of lines at its width, beyond the lines it keeps in any case:
the progress line keeps two, so that the training text, which takes two lines
in the Training tab of a 1400-pixel window, and the one-line "Ready" or
"Finished" around it do not lay out the window (and resize and repaint every
plot) at each start and end of a run; in a narrower window the training text
takes three and the window is laid out at those two moments. With LeNet-5 training in
the app (``benchmarks/gui_responsiveness.py``, three runs each way), the GUI
thread's share of the training time went from 8.0-8.2% to 6.0-6.3%.
"""
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

WRAP = Qt.TextWordWrap | Qt.AlignLeft | Qt.AlignTop   # a one-line text right under what is above


class LiveText(QWidget):
    """Plain text, wrapped at word boundaries, as tall as its lines: ``text()`` and ``setText()`` as a QLabel's.

    Its width follows the layout (it never widens the window); the style sheet's ``color`` for it is the
    text colour.

    Args:
        text: the text to show first.
        min_lines: the lines it is tall even when the text takes fewer.
        parent: the parent widget, if any.
    """

    def __init__(self, text="", min_lines=1, parent=None):
        super().__init__(parent)
        self._text = text
        self._min_lines = self._lines = min_lines
        self.setAccessibleName(text)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)

    def text(self):
        return self._text

    def setText(self, text):
        """Show ``text``; the window is laid out again only if it takes another number of lines."""
        if text == self._text:
            return
        self._text = text
        self.setAccessibleName(text)   # what a QLabel would tell a screen reader
        self._fit_lines()
        self.update()

    def sizeHint(self):
        return QSize(200, self._lines * self.fontMetrics().lineSpacing() + 2)

    def minimumSizeHint(self):
        return QSize(0, self.sizeHint().height())

    def resizeEvent(self, event):
        self._fit_lines()
        super().resizeEvent(event)

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.WindowText))
        painter.drawText(self.rect(), WRAP, self._text)

    def _fit_lines(self):
        """Take the number of lines the text needs at the current width; a change asks for a new layout."""
        width = max(self.width(), 1)
        height = self.fontMetrics().boundingRect(QRect(0, 0, width, 1 << 20), WRAP, self._text).height()
        lines = max(self._min_lines, -(-height // self.fontMetrics().lineSpacing()))
        if lines != self._lines:
            self._lines = lines
            self.updateGeometry()
