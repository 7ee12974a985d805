"""A grid of images with their labels: ``SampleGrid.set_samples(images, labels)``.

The Data tab shows training samples in it (ten a row, as MNIST pictures are
usually shown) and the average image of each class (as many a row as makes
the pictures largest: ``columns=None``).
"""
import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QWidget

from .grid import image_qimage

SAMPLE_COLUMNS = 10
LABEL_HEIGHT = 18


def best_columns(count, width, height, label_h=LABEL_HEIGHT):
    """The number of columns that gives ``count`` labelled square cells the largest size in width x height."""
    def cell(cols):
        return min(width / cols, height / math.ceil(count / cols) - label_h)
    return max(range(1, max(count, 1) + 1), key=cell)


class SampleGrid(QWidget):
    """Images with their labels, drawn with QPainter and scaled to fit the widget.

    ``columns``: images per row, or None to choose the count that draws them largest.
    ``empty``: the hint shown before any image is set.
    """

    def __init__(self, parent=None, columns=SAMPLE_COLUMNS, empty="Load a dataset to see samples"):
        super().__init__(parent)
        self._images, self._labels = [], []
        self.columns, self.empty = columns, empty
        self.setMinimumSize(QSize(300, 200))

    def set_samples(self, images, labels):
        self._images = [image_qimage(img) for img in images]
        self._labels = list(labels)
        self.update()

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        if not self._images:
            painter.setPen(QColor("#777"))
            painter.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap, self.empty)
            return
        n = len(self._images)
        cols = self.columns or best_columns(n, self.width(), self.height())
        rows = -(-n // cols)
        cell = min(self.width() / cols, self.height() / rows - LABEL_HEIGHT)
        cell = max(cell, 8)
        x0 = (self.width() - cols * cell) / 2
        font = QFont(self.font())
        font.setPointSizeF(8.5)
        painter.setFont(font)
        painter.setRenderHint(QPainter.SmoothPixmapTransform, False)
        for i, (img, label) in enumerate(zip(self._images, self._labels)):
            r, c = divmod(i, cols)
            x, y = x0 + c * cell, r * (cell + LABEL_HEIGHT)
            painter.drawImage(_fitted(img, QRectF(x + 3, y + 3, cell - 6, cell - 6)), img)
            painter.setPen(QColor("#333"))
            painter.drawText(QRectF(x, y + cell - 2, cell, LABEL_HEIGHT), Qt.AlignHCenter | Qt.AlignTop,
                             painter.fontMetrics().elidedText(str(label), Qt.ElideRight, int(cell)))


def _fitted(img, box):
    """The part of the square ``box`` an image fills with its aspect ratio kept (a 30x40 photo is not squashed)."""
    scale = min(box.width() / max(img.width(), 1), box.height() / max(img.height(), 1))
    w, h = img.width() * scale, img.height() * scale
    return QRectF(box.x() + (box.width() - w) / 2, box.y() + (box.height() - h) / 2, w, h)
