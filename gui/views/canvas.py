"""The draw pad's paper: strokes in a grey QImage, undoable, and shown to the network at MNIST's pen width.

Outputs: ``strokeMoved`` while the pen moves, ``strokeFinished`` when it lifts.
"""
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QWidget

from core.strokes import Stroke, render_strokes, within

from ..imaging import gray_qimage

CANVAS_SIZE = 336          # 12 pixels of canvas per pixel of a 28x28 input
DEFAULT_BRUSH = 26         # looks like a felt pen; the network sees every drawing at MNIST's own pen width
MIN_SPAN = CANVAS_SIZE // 12   # ink whose centre lines span less (a click, a tick) is a speck, not a digit
HINT = "#8a8f98"           # the grey of hints on and around the pad


class Canvas(QWidget):
    """A square of paper in a grey QImage; strokes are kept so that the last can be undone,
    and so that the network can be shown them at MNIST's pen width (``model_image``).

    Ink is the colour opposite the paper: black on the white pad, white on an
    opened picture whose paper is dark. The eraser paints paper.
    """
    strokeMoved = Signal()
    strokeFinished = Signal()

    def __init__(self, size=CANVAS_SIZE, parent=None):
        super().__init__(parent)
        self.setFixedSize(size, size)
        self.setCursor(Qt.CrossCursor)
        self.setFocusPolicy(Qt.StrongFocus)   # keys then reach the panel: Esc, Ctrl+Z
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.brush_width = DEFAULT_BRUSH
        self.eraser = False
        self.hint = "Draw a digit here"
        self._strokes = []            # (width, erasing, [QPointF, ...])
        self._background = None       # an opened picture, already fitted to the canvas
        self._paper = 255
        self._image = QImage(size, size, QImage.Format_Grayscale8)
        self._render()

    # ----- what is on it ----------------------------------------------------------------
    @property
    def stroke_count(self):
        return len(self._strokes)

    def is_blank(self):
        return not self._strokes and self._background is None

    def pixels(self):
        """The canvas as an (H, W) uint8 array (a copy)."""
        img = self._image
        rows = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * img.height())
        return rows.reshape(img.height(), img.bytesPerLine())[:, :img.width()].copy()

    def strokes(self):
        """What was drawn, as ``core.strokes.Stroke`` s in canvas pixels, in drawing order."""
        return [Stroke(np.array([(p.x(), p.y()) for p in points]), width, erasing)
                for width, erasing, points in self._strokes]

    def is_speck(self):
        """Whether the ink drawn on blank paper spans less than ``MIN_SPAN`` each way: scaled up to a
        digit's size like any drawing, a click would be read as a "0" with certainty."""
        ink = [s.points for s in within(self.strokes(), self.width(), self.height()) if not s.erasing]
        return self._background is None and bool(ink) and np.ptp(np.concatenate(ink), axis=0).max() < MIN_SPAN

    def model_image(self):
        """What the network should read: the strokes on the pad drawn again at MNIST's pen width (so
        neither the digit's size nor the brush matters), or, over an opened picture, the canvas as shown."""
        if self._background is not None:
            return self.pixels()
        return render_strokes(within(self.strokes(), self.width(), self.height()))

    def clear(self):
        self._strokes, self._background, self._paper = [], None, 255
        self._render()

    def undo(self):
        if self._strokes:
            self._strokes.pop()
            self._render()

    def set_picture(self, levels):
        """Show (H, W) grey levels in [0, 1], fitted and centred on paper of their border's colour."""
        levels = np.asarray(levels, np.float32)
        border = np.concatenate([levels[0], levels[-1], levels[:, 0], levels[:, -1]])
        self._paper = int(round(float(np.median(border)) * 255))
        picture = QImage(self._image.size(), QImage.Format_Grayscale8)
        picture.fill(QColor(self._paper, self._paper, self._paper))
        h, w = levels.shape
        scale = min(picture.width() / w, picture.height() / h)
        target = QRectF(0, 0, w * scale, h * scale)
        target.moveCenter(QRectF(picture.rect()).center())
        p = QPainter(picture)
        p.setRenderHint(QPainter.SmoothPixmapTransform, scale < 4)   # big pixels stay crisp
        p.drawImage(target, gray_qimage(levels))
        p.end()
        self._strokes, self._background = [], picture
        self._render()

    # ----- drawing ----------------------------------------------------------------------
    def _pen(self, width, erasing):
        level = self._paper if erasing else (0 if self._paper >= 128 else 255)
        return QPen(QColor(level, level, level), width, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)

    def _render(self):
        if self._background is not None:
            self._image = self._background.copy()
        else:
            self._image.fill(QColor(self._paper, self._paper, self._paper))
        p = QPainter(self._image)
        p.setRenderHint(QPainter.Antialiasing)
        for width, erasing, points in self._strokes:
            p.setPen(self._pen(width, erasing))
            if len(points) == 1:
                p.drawPoint(points[0])
            else:
                p.drawPolyline(points)
        p.end()
        self.update()

    def _paint_segment(self, a, b):
        width, erasing, _ = self._strokes[-1]
        p = QPainter(self._image)
        p.setRenderHint(QPainter.Antialiasing)
        p.setPen(self._pen(width, erasing))
        if a == b:
            p.drawPoint(a)
        else:
            p.drawLine(a, b)
        p.end()
        pad = width / 2 + 2
        self.update(QRectF(a, b).normalized().adjusted(-pad, -pad, pad, pad).toAlignedRect())

    def mousePressEvent(self, event):
        if event.button() != Qt.LeftButton:
            return
        point = QPointF(event.position())
        self._strokes.append((self.brush_width, self.eraser, [point]))
        self._paint_segment(point, point)
        self.strokeMoved.emit()

    def mouseMoveEvent(self, event):
        if not (event.buttons() & Qt.LeftButton) or not self._strokes:
            return
        point = QPointF(event.position())
        points = self._strokes[-1][2]
        self._paint_segment(points[-1], point)
        points.append(point)
        self.strokeMoved.emit()

    def mouseReleaseEvent(self, event):
        if event.button() == Qt.LeftButton and self._strokes:
            # Live segments overlap at their joins; the redrawn polyline does not, so the canvas
            # after an undo is exactly the canvas before the undone stroke.
            self._render()
            self.strokeFinished.emit()

    def paintEvent(self, event):
        p = QPainter(self)
        p.drawImage(0, 0, self._image)
        if self.is_blank():
            p.setPen(QColor(HINT))
            p.drawText(self.rect(), Qt.AlignCenter, self.hint)
        p.end()
