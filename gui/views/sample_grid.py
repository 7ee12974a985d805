"""A grid of sample images with their labels: ``SampleGrid.set_samples(images, labels)``."""
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QWidget

from .grid import image_qimage

SAMPLE_COLUMNS = 10


class SampleGrid(QWidget):
    """Sample images with their labels, drawn with QPainter and scaled to fit the widget."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._images, self._labels = [], []
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
            painter.drawText(self.rect(), Qt.AlignCenter, "Load a dataset to see samples")
            return
        cols = SAMPLE_COLUMNS
        rows = -(-len(self._images) // cols)
        label_h = 18
        cell = min(self.width() / cols, self.height() / rows - label_h)
        cell = max(cell, 8)
        x0 = (self.width() - cols * cell) / 2
        font = QFont(self.font())
        font.setPointSizeF(8.5)
        painter.setFont(font)
        painter.setRenderHint(QPainter.SmoothPixmapTransform, False)
        for i, (img, label) in enumerate(zip(self._images, self._labels)):
            r, c = divmod(i, cols)
            x, y = x0 + c * cell, r * (cell + label_h)
            painter.drawImage(QRectF(x + 3, y + 3, cell - 6, cell - 6), img)
            painter.setPen(QColor("#333"))
            painter.drawText(QRectF(x, y + cell - 2, cell, label_h), Qt.AlignHCenter | Qt.AlignTop,
                             painter.fontMetrics().elidedText(str(label), Qt.ElideRight, int(cell)))
