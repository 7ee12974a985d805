"""A drawing of the network in the manner of the classic LeNet figure.

Feature maps are stacks of slabs: the front face is height × width, the
stack's depth grows with the channels. Flat layers are thin tall bars,
element-wise layers (activations, dropout, batch norm) small pills between
them. Sizes are compressed (a power for maps, a logarithm for vectors and
channels) so a 28 × 28 input and a 4 × 4 map both read; the whole drawing is
then scaled to the widget's height. A layer the core refused is drawn red,
the ones after it as '?'.
"""
import math
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QToolTip, QWidget

from ..format import shape_text
from . import fields

COLORS = {"Input": "#8a9199", "Convolution": "#4f86c6", "Pooling": "#e39b2d", "Fully connected": "#4e9f5d",
          "Regularisation": "#9a6fc0", "Activation": "#d0626a", "Other": "#7f8c8d"}
FLATTEN_COLOR = "#8a9199"
ERROR_COLOR = QColor("#c5221f")
POINTWISE_GROUPS = ("Activation", "Regularisation")


def layer_color(type_name):
    """The colour of a layer type, shared by the palette, the list and the drawing."""
    if type_name == "Flatten":
        return QColor(FLATTEN_COLOR)
    return QColor(COLORS.get("Input" if type_name == "Input" else fields.group_of(type_name), COLORS["Other"]))


# Compressed sizes before the fit-to-height scale; see the module docstring.
def map_side(n):
    return 11.0 * n ** 0.6


def stack_depth(channels):
    return 3.0 + 7.0 * math.log2(max(channels, 1))


def bar_height(n):
    return 14.0 * math.log2(1 + n)


SLAB_DIAGONAL = (0.7, -0.55)  # how a stack recedes: right and up, per unit of depth
BAR_WIDTH = 9.0
PILL = (14.0, 34.0)
GAP = 16.0           # between columns, where the arrow goes
MIN_SCALE = 0.45     # below this a wide network scrolls instead of shrinking
SHORT_TITLES = {"BatchNorm": "BN", "Dropout": "Drop", "LeakyReLU": "LReLU"}  # pills sit in narrow columns
LABEL_PAD = 8.0


@dataclass
class Glyph:
    kind: str        # 'map', 'bar', 'pill', 'unknown' or 'error'
    type: str
    shape: tuple
    title: str
    detail: str
    tip: str = ""


def glyphs(input_shape, items, rows):
    """What to draw for the input and each layer (``items`` from the document, ``rows`` from analysis)."""
    out = [_shape_glyph("Input", input_shape, "Input", f"Input {shape_text(input_shape)}")]
    for i, (item, row) in enumerate(zip(items, rows)):
        about = fields.summary(item.type, item.config)
        tip = f"{item.type} #{i + 1}" + (f": {about}" if about else "")
        if row.error:
            out.append(Glyph("error", item.type, None, item.type, "invalid", f"{tip}\n{row.error}"))
        elif row.output_shape is None:
            out.append(Glyph("unknown", item.type, None, item.type, "?", f"{tip}\nOutput unknown until the "
                                                                          f"layer in red is fixed"))
        elif fields.group_of(item.type) in POINTWISE_GROUPS:
            out.append(Glyph("pill", item.type, row.output_shape, SHORT_TITLES.get(item.type, item.type),
                             _pill_detail(item.config), f"{tip}\nOutput {shape_text(row.output_shape)}"))
        else:
            out.append(_shape_glyph(item.type, row.output_shape, item.type,
                                    f"{tip}\nOutput {shape_text(row.output_shape)}, {row.params:,} parameters"))
    return out


def _pill_detail(config):
    """The one number worth showing under a narrow pill: a dropout rate or a leaky slope."""
    if "rate" in config:
        return f"{config['rate']:g}"
    return f"α {config['alpha']:g}" if "alpha" in config else ""


def _shape_glyph(type_name, shape, title, tip):
    shape = tuple(shape)
    if len(shape) == 3:
        c, h, w = shape
        return Glyph("map", type_name, shape, title, f"{c}@{shape_text((h, w), compact=True)}", tip)
    return Glyph("bar", type_name, shape, title, shape_text(shape), tip)


def extent(glyph, scale):
    """(width, top, bottom) of a glyph around its centre line, in pixels."""
    if glyph.kind == "map":
        c, h, w = glyph.shape
        side_w, side_h, d = map_side(w) * scale, map_side(h) * scale, stack_depth(c) * scale
        return side_w + d * SLAB_DIAGONAL[0], -side_h / 2 + d * SLAB_DIAGONAL[1], side_h / 2
    if glyph.kind == "bar":
        n = math.prod(glyph.shape)
        return BAR_WIDTH, -bar_height(n) * scale / 2, bar_height(n) * scale / 2
    if glyph.kind == "pill":
        return PILL[0], -PILL[1] / 2, PILL[1] / 2
    return 34.0, -24.0, 24.0


class NetworkDiagram(QWidget):
    """Draws ``set_network``'s architecture; a click on a layer emits ``layerClicked(index)`` (0-based)."""
    layerClicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.glyphs = []
        self.selected = None
        self._columns = []  # (x, width) per glyph, from the last layout
        self.setMinimumHeight(200)

    def set_network(self, input_shape, items, rows, selected=None):
        self.glyphs = glyphs(input_shape, items, rows)
        self.selected = selected
        self._update_minimum_width()
        self.update()

    def _update_minimum_width(self):
        """Wide enough for the smallest scale; a wider widget draws bigger, up to what the height allows."""
        self.setMinimumWidth(int(self._layout(self.height(), width=0)[1]))

    def set_selected(self, index):
        self.selected = index
        self.update()

    def resizeEvent(self, event):
        self._update_minimum_width()  # the scale, so the width, follows the height
        super().resizeEvent(event)

    def sizeHint(self):
        return QSize(900, 260)

    # ----- layout -----------------------------------------------------------
    def _fonts(self):
        title = QFont(self.font())
        title.setPointSizeF(max(self.font().pointSizeF() * 0.95, 7.5))
        title.setBold(True)
        detail = QFont(self.font())
        detail.setPointSizeF(max(self.font().pointSizeF() * 0.9, 7))
        return title, detail

    def _label_height(self):
        title, detail = self._fonts()
        return QFontMetrics(title).height() + QFontMetrics(detail).height() + LABEL_PAD + 4

    def _scale(self, height):
        """Fit the tallest glyph into the space above the labels; never blow up beyond 1.6."""
        avail = max(height - self._label_height() - 24, 40)
        top = min((extent(g, 1.0)[1] for g in self.glyphs), default=-1)
        bottom = max((extent(g, 1.0)[2] for g in self.glyphs), default=1)
        return min(1.6, avail / max(bottom - top, 1))

    def _layout(self, height, width=None):
        """(scale, total width, [(x, column width, glyph width)]): the height's scale, shrunk
        (not below MIN_SCALE) until the drawing fits ``width``."""
        scale = self._scale(height)
        floor = min(MIN_SCALE, scale)
        while True:
            total, cols = self._columns_at(scale)
            if width is None or total <= width or scale <= floor:
                return scale, total, cols
            scale = max(scale * 0.9, floor)

    def _columns_at(self, scale):
        title, detail = self._fonts()
        fm_t, fm_d = QFontMetrics(title), QFontMetrics(detail)
        cols, x = [], 16.0
        for g in self.glyphs:
            gw = extent(g, scale)[0]
            cw = max(gw, fm_t.horizontalAdvance(g.title), fm_d.horizontalAdvance(g.detail)) + 6
            cols.append((x, cw, gw))
            x += cw + GAP
        return x - GAP + 16, cols

    # ----- painting ---------------------------------------------------------
    def paintEvent(self, event):
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.fillRect(self.rect(), QColor("#ffffff"))
        if not self.glyphs:
            return
        scale, total, cols = self._layout(self.height(), self.width())
        x_shift = max((self.width() - total) / 2, 0)
        cols = [(x + x_shift, cw, gw) for x, cw, gw in cols]
        self._columns = [(x, cw) for x, cw, _ in cols]
        tops = [extent(g, scale)[1] for g in self.glyphs]
        bottoms = [extent(g, scale)[2] for g in self.glyphs]
        area = self.height() - self._label_height() - 12
        cy = 12 + (area - (max(bottoms) - min(tops))) / 2 - min(tops)
        label_y = cy + max(bottoms) + LABEL_PAD
        self._paint_selection(p, cols, cy + min(tops), label_y)
        for i, (g, (x, cw, gw)) in enumerate(zip(self.glyphs, cols)):
            left = x + (cw - gw) / 2
            if i:
                px, pcw, pgw = cols[i - 1]
                _arrow(p, px + (pcw + pgw) / 2 + 3, left - 3, cy)
            _paint_glyph(p, g, left, cy, scale)
            self._paint_label(p, g, x, cw, label_y)
        p.end()

    def _paint_selection(self, p, cols, top, label_y):
        if self.selected is None or not 0 <= self.selected + 1 < len(cols):
            return
        x, cw, _ = cols[self.selected + 1]
        rect = QRectF(x - 6, top - 8, cw + 12, label_y - top + self._label_height())
        p.setPen(QPen(QColor("#8ab4f8"), 1.2))
        p.setBrush(QColor(232, 240, 254))
        p.drawRoundedRect(rect, 6, 6)

    def _paint_label(self, p, g, x, cw, y):
        title, detail = self._fonts()
        broken = g.kind in ("error", "unknown")
        p.setPen(ERROR_COLOR if g.kind == "error" else QColor("#80868b" if broken else "#202124"))
        p.setFont(title)
        fm = QFontMetrics(title)
        p.drawText(QRectF(x - GAP / 2, y, cw + GAP, fm.height()), Qt.AlignHCenter | Qt.AlignTop, g.title)
        p.setFont(detail)
        p.setPen(ERROR_COLOR if g.kind == "error" else QColor("#5f6368"))
        p.drawText(QRectF(x - GAP / 2, y + fm.height(), cw + GAP, QFontMetrics(detail).height()),
                   Qt.AlignHCenter | Qt.AlignTop, g.detail)

    def _column_at(self, x_pos):
        return next((i for i, (x, cw) in enumerate(self._columns) if x - GAP / 2 <= x_pos <= x + cw + GAP / 2),
                    None)

    def mousePressEvent(self, event):
        i = self._column_at(event.position().x())
        if i:  # column 0 is the input
            self.layerClicked.emit(i - 1)
        else:
            super().mousePressEvent(event)

    def event(self, event):
        if event.type() == QEvent.ToolTip:
            i = self._column_at(event.pos().x())
            if i is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.glyphs[i].tip, self)
            return True
        return super().event(event)


def _paint_glyph(p, g, left, cy, scale):
    if g.kind == "map":
        _paint_stack(p, g, left, cy, scale)
    elif g.kind == "bar":
        n = math.prod(g.shape)
        h = bar_height(n) * scale
        _box(p, QRectF(left, cy - h / 2, BAR_WIDTH, h), layer_color(g.type), 2)
    elif g.kind == "pill":
        w, h = PILL
        _box(p, QRectF(left, cy - h / 2, w, h), layer_color(g.type), w / 2)
    else:
        rect = QRectF(left, cy - 24, 34, 48)
        color = ERROR_COLOR if g.kind == "error" else QColor("#9aa0a6")
        p.setPen(QPen(color, 1.5, Qt.DashLine))
        p.setBrush(QColor("#fdecea") if g.kind == "error" else Qt.NoBrush)
        p.drawRoundedRect(rect, 4, 4)
        p.drawText(rect, Qt.AlignCenter, "!" if g.kind == "error" else "?")


def _paint_stack(p, g, left, cy, scale):
    """Slabs drawn back to front, the front one at ``left``: depth ~ channels, face ~ height × width."""
    c, h, w = g.shape
    fw, fh, depth = map_side(w) * scale, map_side(h) * scale, stack_depth(c) * scale
    slabs = min(c, 2 + round(2 * math.log2(max(c, 1))))
    color = layer_color(g.type)
    for k in reversed(range(slabs)):
        t = depth * (k / (slabs - 1) if slabs > 1 else 0)
        rect = QRectF(left + t * SLAB_DIAGONAL[0], cy - fh / 2 + t * SLAB_DIAGONAL[1], fw, fh)
        shade = color.lighter(100 + 45 * k // max(slabs - 1, 1)) if k else color.lighter(115)
        _box(p, rect, shade, 1.5, border=color.darker(135))


def _box(p, rect, fill, radius, border=None):
    p.setPen(QPen(border or fill.darker(130), 1))
    p.setBrush(fill)
    p.drawRoundedRect(rect, radius, radius)


def _arrow(p, x0, x1, y):
    if x1 - x0 < 4:
        return
    p.setPen(QPen(QColor("#9aa0a6"), 1.2))
    p.drawLine(QPointF(x0, y), QPointF(x1 - 4, y))
    head = QPainterPath()
    head.addPolygon(QPolygonF([QPointF(x1, y), QPointF(x1 - 6, y - 3.5), QPointF(x1 - 6, y + 3.5)]))
    p.fillPath(head, QColor("#9aa0a6"))
