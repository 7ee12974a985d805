"""Reusable pieces of the Inside and Evaluation views: a grid of image tiles and a colour bar.

``TileGrid`` paints many small images (filters, feature maps, test images)
at an integer zoom, flowing into as many columns as the width allows; a tile
may hold several parts (a filter's input channels) in a small block. It reads
values back under the mouse (tooltip and ``hovered`` text) and reports clicks,
so a view can enlarge or open what was clicked. Height follows width
(``heightForWidth``), so grids stack in a scroll area.
"""
import math
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QFrame, QScrollArea, QSizePolicy, QToolTip, QWidget

from ..format import rich_tooltip
from ..imaging import diverging_rgb, gray_qimage, rgb_qimage

MARGIN = 4
GAP = 8            # between tiles
PART_GAP = 2       # between the parts of one tile
FRAME = QColor(190, 194, 201)
GUTTER = QColor(156, 163, 175)
SELECTED = QColor("#2563eb")


@dataclass
class Tile:
    """One tile: ``parts`` drawn in a block, ``values`` (same pixels) read back on hover."""
    parts: list
    values: list = None
    title: str = ""
    name: str = ""               # how hover text names the tile, e.g. "filter 3"
    part_names: list = field(default_factory=list)


def format_value(v):
    """A number in at most 4 significant digits, without noise like 1.000e+00."""
    v = float(v)
    if v == 0 or 1e-3 <= abs(v) < 1e4:
        return f"{v:.4g}"
    return f"{v:.2e}"


def scrolled(widget):
    """``widget`` in a frameless scroll area: a view keeps its natural size and a small dock scrolls."""
    area = QScrollArea(widgetResizable=True, frameShape=QFrame.NoFrame)
    area.setWidget(widget)
    return area


def image_qimage(image):
    """A (C, H, W) input image in [0, 1]: grey for one channel, colour for three, else the brightest channel."""
    image = np.asarray(image, np.float32)
    if len(image) == 3:
        return rgb_qimage((np.clip(image, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0))
    return gray_qimage(image.max(axis=0))


def image_tile(image, name, title=""):
    """A tile of one input image whose hover reads the (brightest channel's) pixel values."""
    return Tile([image_qimage(image)], [np.asarray(image).max(axis=0)], title=title, name=name)


def block_shape(n):
    """(rows, cols) of a tile's parts: a row of up to 4, else a near-square block, full if one is."""
    if n <= 4:
        return 1, n
    square = math.ceil(math.sqrt(n))
    exact = [c for c in range(square, 2 * square) if n % c == 0]
    cols = exact[0] if exact else square
    return math.ceil(n / cols), cols


class TileGrid(QWidget):
    clicked = Signal(int)      # tile index
    hovered = Signal(str)      # "filter 3 (2, 4) = 0.153", or "" when the mouse leaves

    def __init__(self, parent=None):
        super().__init__(parent)
        self._tiles = []
        self._scale = 1
        self._smooth = False
        self._selected = -1
        self._part = QSize(1, 1)         # one part's image size in pixels (before zoom)
        self._block = (1, 1)
        self._selectable = False
        self._cell_size = None
        self.setMouseTracking(True)
        policy = QSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    # ----- data ---------------------------------------------------------------------------
    def set_tiles(self, tiles, scale=1, smooth=False, selectable=False):
        """Show ``tiles`` (all parts of one size) at integer zoom ``scale``."""
        self._tiles = list(tiles)
        self._scale, self._smooth, self._selectable = max(1, int(scale)), smooth, selectable
        if self._tiles:
            first = self._tiles[0].parts[0]
            self._part = QSize(first.width(), first.height())
            self._block = block_shape(len(self._tiles[0].parts))
        if self._selected >= len(self._tiles):
            self._selected = -1
        self._cell_size = None
        self.updateGeometry()
        self.update()

    def tiles(self):
        return list(self._tiles)

    def set_selected(self, index):
        self._selected = index
        self.update()

    @property
    def selected(self):
        return self._selected

    # ----- geometry -----------------------------------------------------------------------
    def _title_height(self):
        return self.fontMetrics().height() + 2 if any(t.title for t in self._tiles) else 0

    def tile_size(self):
        rows, cols = self._block
        w = cols * self._part.width() * self._scale + (cols - 1) * PART_GAP
        h = rows * self._part.height() * self._scale + (rows - 1) * PART_GAP
        return QSize(w, h)

    def _cell(self):
        """Room for one tile and its title (cached: titles are measured once per set_tiles)."""
        if self._cell_size is None:
            self._cell_size = self._measure_cell()
        return self._cell_size

    def _measure_cell(self):
        size = self.tile_size()
        widest = max((self.fontMetrics().horizontalAdvance(t.title) for t in self._tiles), default=0)
        return QSize(max(size.width(), min(widest + 6, 2 * size.width() + 20)) + GAP,
                     size.height() + self._title_height() + GAP)

    def _columns(self, width):
        return max(1, (width - 2 * MARGIN + GAP) // self._cell().width())

    def changeEvent(self, event):
        self._cell_size = None   # a new font measures titles differently
        super().changeEvent(event)

    def hasHeightForWidth(self):
        return True

    def heightForWidth(self, width):
        if not self._tiles:
            return 0
        rows = math.ceil(len(self._tiles) / self._columns(width))
        return 2 * MARGIN + rows * self._cell().height() - GAP

    def sizeHint(self):
        cols = min(len(self._tiles), 12) or 1
        width = 2 * MARGIN + cols * self._cell().width() - GAP
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self):
        cell = self._cell()
        return QSize(cell.width() + 2 * MARGIN, cell.height() + 2 * MARGIN if self._tiles else 0)

    def tile_rect(self, index):
        """Where tile ``index``'s image is painted (its title sits below)."""
        cols = self._columns(self.width())
        cell = self._cell()
        size = self.tile_size()
        r, c = divmod(index, cols)
        x = MARGIN + c * cell.width() + (cell.width() - GAP - size.width()) // 2
        return QRect(x, MARGIN + r * cell.height(), size.width(), size.height())

    def _part_rect(self, tile_rect, j):
        r, c = divmod(j, self._block[1])
        pw, ph = self._part.width() * self._scale, self._part.height() * self._scale
        return QRect(tile_rect.x() + c * (pw + PART_GAP), tile_rect.y() + r * (ph + PART_GAP), pw, ph)

    def _hit(self, pos):
        """(tile, part, row, col) under ``pos``, or None."""
        for i in range(len(self._tiles)):
            rect = self.tile_rect(i)
            if not rect.contains(pos):
                continue
            for j in range(len(self._tiles[i].parts)):
                part = self._part_rect(rect, j)
                if part.contains(pos):
                    return (i, j, (pos.y() - part.y()) // self._scale, (pos.x() - part.x()) // self._scale)
            return None
        return None

    # ----- painting -----------------------------------------------------------------------
    def paintEvent(self, event):
        p = QPainter(self)
        p.setRenderHint(QPainter.SmoothPixmapTransform, self._smooth)
        text = self.palette().color(QPalette.WindowText)
        th = self._title_height()
        cell_w = self._cell().width() - GAP
        for i, tile in enumerate(self._tiles):
            rect = self.tile_rect(i)
            if not rect.adjusted(-GAP, -GAP, GAP, GAP + th).intersects(event.rect()):
                continue
            for j, image in enumerate(tile.parts):
                part = self._part_rect(rect, j)
                if len(tile.parts) > 1:
                    half = (PART_GAP + 1) // 2   # neighbours' halves fill the gap between them
                    p.fillRect(part.adjusted(-half, -half, half, half), GUTTER)
                p.drawImage(part, image)
            p.setPen(QPen(FRAME, 1))
            p.setBrush(Qt.NoBrush)
            p.drawRect(rect.adjusted(-1, -1, 0, 0))
            if i == self._selected:
                p.setPen(QPen(SELECTED, 2))
                p.drawRect(rect.adjusted(-2, -2, 1, 1))
            if tile.title:
                p.setPen(text)
                title_rect = QRect(rect.center().x() - cell_w // 2, rect.bottom() + 2, cell_w, th)
                p.drawText(title_rect, Qt.AlignHCenter | Qt.AlignTop,
                           self.fontMetrics().elidedText(tile.title, Qt.ElideRight, cell_w))
        p.end()

    # ----- mouse --------------------------------------------------------------------------
    def hover_text(self, pos):
        hit = self._hit(pos)
        if hit is None:
            return ""
        i, j, r, c = hit
        tile = self._tiles[i]
        name = tile.name or tile.title or f"tile {i}"
        if len(tile.parts) > 1 and j < len(tile.part_names):
            name = f"{name}, {tile.part_names[j]}"
        if not tile.values:
            return name
        values = tile.values[j]
        if r >= values.shape[0] or c >= values.shape[1] or not np.isfinite(values[r, c]):
            return name
        return f"{name} ({r}, {c}) = {format_value(values[r, c])}"

    def mouseMoveEvent(self, event):
        text = self.hover_text(event.position().toPoint())
        self.hovered.emit(text)
        if text:
            QToolTip.showText(event.globalPosition().toPoint(), rich_tooltip(text), self)
        else:
            QToolTip.hideText()

    def leaveEvent(self, event):
        self.hovered.emit("")
        super().leaveEvent(event)

    def mousePressEvent(self, event):
        if event.button() != Qt.LeftButton:
            return
        hit = self._hit(event.position().toPoint())
        if hit is None:
            return
        if self._selectable:
            self.set_selected(hit[0])
        self.clicked.emit(hit[0])

    def click_point(self, index):
        """The centre of tile ``index`` (for tests and keyboard actions)."""
        return self.tile_rect(index).center()


class ColorBar(QWidget):
    """A horizontal colour strip with its value range written under it.

    ``set_diverging(limit)``: blue -limit, white 0, red +limit (the colours of
    ``imaging.diverging_rgb``); ``set_gray(vmax)``; ``set_strip(rgb, lo, hi)``
    for any other map.
    """

    def __init__(self, parent=None, label=""):
        super().__init__(parent)
        self._image = None
        self._lo = self._hi = 0.0
        self._mid = False
        self.label = label
        self.setFixedHeight(self.fontMetrics().height() * 2 + 14)
        self.setMinimumWidth(160)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)

    def sizeHint(self):
        return QSize(220, self.height())

    def set_diverging(self, limit):
        limit = float(limit) or 1.0
        self.set_strip(diverging_rgb(np.linspace(-1, 1, 256)[None], 1.0)[0], -limit, limit, mid=True)

    def set_gray(self, vmax, vmin=0.0):
        g = np.linspace(0, 255, 256).astype(np.uint8)
        self.set_strip(np.repeat(g[:, None], 3, axis=1), vmin, vmax)

    def set_strip(self, rgb, lo, hi, mid=False):
        self._image = rgb_qimage(np.asarray(rgb, np.uint8)[None])
        self._lo, self._hi, self._mid = float(lo), float(hi), mid
        self.update()

    @property
    def value_range(self):
        return self._lo, self._hi

    def paintEvent(self, event):
        if self._image is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.SmoothPixmapTransform)
        fm = self.fontMetrics()
        line = fm.height()
        text = self.palette().color(QPalette.WindowText)
        strip = QRectF(4, line + 2, self.width() - 8, 10)
        p.setPen(text)
        if self.label:
            p.drawText(QRectF(0, 0, self.width(), line), Qt.AlignHCenter, self.label)
        p.drawImage(strip, self._image)
        p.setPen(QPen(FRAME, 1))
        p.drawRect(strip)
        p.setPen(text)
        below = QRectF(0, strip.bottom() + 2, self.width(), line)
        p.drawText(below, Qt.AlignLeft, format_value(self._lo))
        p.drawText(below, Qt.AlignRight, format_value(self._hi))
        if self._mid:
            p.drawText(below, Qt.AlignHCenter, "0")
        p.end()

