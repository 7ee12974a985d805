"""Feature maps: what every layer makes of one input, in order, and a map enlarged.

Inputs: a ``ModelSource`` and the chosen input (``set_input``). The
activations come from ``inspect.activations`` on the source's copy of the
model (never the live one) and are redrawn when the weights change. Maps with
negative values use the diverging map (blue, white at zero, red); maps that
cannot be negative (after ReLU, pooling of those) go from black at zero to
white at the layer's largest value, like the input digits. One scale per
layer, so a quiet channel looks quiet. A model ending in Softmax ends in a
probability bar chart.
"""
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core import inspect
from core.layers import Dropout, Flatten, Softmax

from ..format import esc, shape_text
from ..imaging import diverging_qimage, gray_qimage
from .export import view_column
from .lazy import LazyRefresh
from .grid import ColorBar, Tile, TileGrid, format_value, image_tile, scrolled
from .probabilities import ProbabilityBars

HINT = ("Every layer's output for this input, in order. Blue negative, red positive, white zero; "
        "black to white where values cannot be negative. Hover a map for its values, click it to enlarge.")
BIG_PX = 280          # the enlarged map
INPUT_PX = 112


def map_px(n_maps):
    """How big one map is drawn: big when few, smaller when a layer has many."""
    return 64 if n_maps <= 24 else 44


def map_qimage(a, maps):
    """One map in its layer's colours (see the module docstring)."""
    return diverging_qimage(a, maps.limit) if maps.signed else gray_qimage(a, 0.0, maps.limit or 1.0)


def set_colorbar(bar, maps):
    if maps.signed:
        bar.set_diverging(maps.limit)
    else:
        bar.set_gray(maps.limit or 1.0)


class _LayerSection(QWidget):
    """A layer's name and output shape over a grid of its maps (or a note, or class bars)."""

    def __init__(self, index, layer, class_names, probabilities=False):
        """``probabilities``: the layer's output is the model's softmax, drawn as class bars."""
        super().__init__()
        self.index, self.layer = index, layer
        self.maps = None
        self.title = QLabel()
        self.title.setTextFormat(Qt.RichText)
        self.colorbar = ColorBar(label="activation")
        self.grid = TileGrid()
        self.bars = None
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.colorbar)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 4, 0, 4)
        column.addLayout(top)
        if probabilities:
            self.bars = ProbabilityBars()
            self.bars.set_class_names(class_names)
            self.bars.setMinimumSize(300, 150)
            self.bars.setMaximumHeight(170)
            column.addWidget(self.bars)
            self.grid.hide()
            self.colorbar.hide()
        else:
            column.addWidget(self.grid)
        self.passthrough = isinstance(layer, (Flatten, Dropout))
        if self.passthrough:
            self.grid.hide()
            self.colorbar.hide()

    def show_activation(self, act):
        note = ""
        if isinstance(self.layer, Flatten):
            note = " &nbsp; <i>the maps above, in one row of values</i>"
        elif isinstance(self.layer, Dropout):
            note = " &nbsp; <i>passes everything through at inference</i>"
        self.title.setText(f"<b>{esc(self.layer.name)}</b> &nbsp; {esc(shape_text(act.shape))} &nbsp; "
                           f"<span style='color:#6b7280'>values {esc(format_value(act.min()))} … "
                           f"{esc(format_value(act.max()))}</span>{note}")
        if self.bars is not None:
            self.bars.set_probabilities(act)
            return
        if self.passthrough:
            return
        self.maps = inspect.feature_map_grid(act)
        m = self.maps.maps
        what = "unit" if self.maps.units else "map"
        self.grid.set_tiles([Tile([map_qimage(a, self.maps)], [self._values(a)], name=f"{what} {i}")
                             for i, a in enumerate(m)],
                            scale=max(1, round(self._px() / max(m.shape[1:]))), selectable=True)
        set_colorbar(self.colorbar, self.maps)

    def _px(self):
        if self.maps.units:
            return 160 if self.maps.maps.shape[1] > 1 else 40 * self.maps.maps.shape[2]
        return map_px(len(self.maps.maps))

    def _values(self, a):
        """Values read back on hover; a vector's padding cells read as nothing."""
        if not self.maps.units:
            return a
        v = a.astype(np.float32).ravel()
        v[self.maps.units:] = np.nan
        return v.reshape(a.shape)


class FeatureMapsView(LazyRefresh, QWidget):
    def __init__(self, source, parent=None):
        super().__init__(parent)
        self.source = source
        self.x = None
        self.label = None
        self.sections = []
        self.selected = None          # (section index, map index) enlarged on the right
        self._build()
        source.modelReplaced.connect(self.rebuild)
        source.weightsChanged.connect(self._on_weights)
        self.rebuild()

    def _build(self):
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setStyleSheet("color: #4b5563;")
        self.content = QWidget()
        self.column = QVBoxLayout(self.content)
        self.column.setContentsMargins(8, 0, 8, 8)
        self.scroll = scrolled(self.content)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOn)
        self.big_title = QLabel("Click a map to enlarge it")
        self.big_title.setTextFormat(Qt.RichText)
        self.big_title.setWordWrap(True)
        self.big = TileGrid()
        self.big_bar = ColorBar(label="activation")
        self.hover = QLabel(" ", textFormat=Qt.PlainText)
        self.hover.setWordWrap(True)
        self.input_grid = TileGrid()
        side = QVBoxLayout()
        side.addWidget(QLabel("<b>Input</b>"))
        side.addWidget(self.input_grid)
        side.addSpacing(12)
        side.addWidget(self.big_title)
        side.addWidget(self.big)
        side.addWidget(self.big_bar)
        side.addWidget(self.hover)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(BIG_PX + 30)
        body = QHBoxLayout()
        body.addWidget(self.scroll, 1)
        body.addWidget(side_widget)
        self.page = QWidget()
        self.page.setLayout(body)
        top = QHBoxLayout()
        top.addWidget(self.info, 1)
        view_column(self, top, self.page, "feature_maps.png").addWidget(self.page, 1)
        self.big.hovered.connect(self._show_hover)
        self.input_grid.hovered.connect(self._show_hover)

    # ----- inputs ---------------------------------------------------------------------------
    def set_input(self, x, label=None, description=""):
        self.x, self.label = x, label
        self.info.setText(HINT if x is not None else description)
        self.refresh_when_visible()

    def rebuild(self):
        for section in self.sections:
            section.setParent(None)
        while self.column.count():
            self.column.takeAt(0)
        self.sections = []
        model = self.source.model
        if model is not None:
            names = self.source.class_names()
            last = len(model.layers) - 1
            softmax = isinstance(model.output_activation, Softmax)
            self.sections = [_LayerSection(i, layer, names, probabilities=softmax and i == last)
                             for i, layer in enumerate(model.layers)]
        for section in self.sections:
            self.column.addWidget(section)
            section.grid.clicked.connect(lambda j, s=section: self.enlarge(s.index, j))
            section.grid.hovered.connect(self._show_hover)
        self.column.addStretch(1)
        self.selected = None
        self.refresh_when_visible()

    def _on_weights(self):
        self.refresh_when_visible()

    # ----- drawing ----------------------------------------------------------------------------
    def refresh(self):
        self._dirty = False
        has_input = self.x is not None and self.source.model is not None
        self.scroll.setVisible(has_input)
        if not has_input:
            return
        acts = inspect.activations(self.source.model, self.x)
        for section, (_layer, act) in zip(self.sections, acts):
            section.show_activation(act)
        image = self.x[0]
        self.input_grid.set_tiles([image_tile(image, "input pixel")], scale=max(1, INPUT_PX // max(image.shape[1:])))
        if self.selected is None:
            first = next((s for s in self.sections if s.maps is not None and not s.maps.units), None)
            self.selected = (first.index, 0) if first is not None else None
        if self.selected is not None:
            self.enlarge(*self.selected)

    def enlarge(self, section_index, map_index):
        """Show map ``map_index`` of layer ``section_index`` big on the right, with its scale."""
        section = self.sections[section_index]
        if section.maps is None or map_index >= len(section.maps.maps):
            return
        for s in self.sections:
            s.grid.set_selected(map_index if s is section else -1)
        self.selected = (section_index, map_index)
        maps = section.maps
        a = maps.maps[map_index]
        what = "units" if maps.units else f"map {map_index}"
        self.big_title.setText(f"<b>{esc(section.layer.name)}</b>, {what} &nbsp; ({esc(shape_text(a.shape))})")
        self.big.set_tiles([Tile([map_qimage(a, maps)], [section._values(a)], name=what)],
                           scale=max(1, BIG_PX // max(a.shape)))
        set_colorbar(self.big_bar, maps)

    def _show_hover(self, text):
        self.hover.setText(text or " ")
