"""Filters: every Conv2D layer's kernels, and a first Dense layer's units as images.

Inputs: a ``ModelSource`` (its copy of the model, redrawn on
``weightsChanged`` while training). One section per layer, each with a
diverging colour map centred at zero (blue negative, red positive) and a
colour bar giving the layer's value range, shared by all its tiles so strong
and weak filters compare. Tiles come from ``inspect.filter_grid`` and
``inspect.dense_unit_images``.
"""
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QToolButton, QVBoxLayout,
                               QWidget)

from core import inspect
from core.layers import Conv2D

from ..format import esc, shape_text
from ..hover_help import explain
from ..imaging import diverging_rgb, rgb_qimage
from .export import view_column
from .lazy import LazyRefresh
from .grid import ColorBar, Tile, TileGrid, scrolled

KERNEL_PX = 48        # a kernel on its own is drawn about this big
PART_PX = 20          # one input channel's kernel inside a block of all channels
UNIT_PX = 56          # a Dense unit's image
UNITS_PER_PAGE = 64


def tile_images(tiles, own_scale):
    """Each tile's parts in the diverging map: the layer's scale, or each tile's own.

    The colours of all tiles are computed in one NumPy pass (a conv layer has
    a thousand small kernels; one call each would stall the GUI during training).
    """
    limits = np.asarray(tiles.limits if own_scale else [tiles.limit] * len(tiles.tiles), np.float32)
    scaled = np.asarray(tiles.tiles, np.float32) / np.maximum(limits, 1e-12)[:, None, None, None]
    rgb = diverging_rgb(scaled, 1.0)
    return [[rgb_qimage(part) for part in parts] for parts in rgb]


def set_scale(colorbar, tiles, own_scale):
    if own_scale:
        colorbar.label = "weight ÷ the tile's max |w|"
        colorbar.set_diverging(1.0)
    else:
        colorbar.label = "weight"
        colorbar.set_diverging(tiles.limit)


def header_label(text):
    label = QLabel(text)
    label.setTextFormat(Qt.RichText)
    return label


def _stack(section, top, grid):
    """A section: its header row over its grid of kernels."""
    column = QVBoxLayout(section)
    column.setContentsMargins(0, 6, 0, 6)
    column.addLayout(top)
    column.addWidget(grid)


class _ConvSection(QWidget):
    """One Conv2D layer: a tile per output channel; one input channel or all of them."""

    def __init__(self, index, layer):
        super().__init__()
        self.index, self.layer = index, layer
        out, cin, kh, kw = layer.params["W"].shape
        self.channel = QComboBox()
        self.channel.addItem(f"All {cin} input channels" if cin > 1 else "Input channel 0", None)
        if cin > 1:
            for c in range(cin):
                self.channel.addItem(f"Input channel {c}", c)
        self.channel.setVisible(cin > 1)
        explain(self.channel, "Which input channel's kernels to show: all side by side, or one, to see what each "
                              "filter looks for in one map of the layer below")
        self.colorbar = ColorBar(label="weight")
        self.grid = TileGrid()
        top = QHBoxLayout()
        top.addWidget(header_label(f"<b>{esc(layer.name)}</b> &nbsp; {esc(out)} filters of {esc(shape_text((kh, kw)))} "
                                   f"on {esc(cin)} input channel{'s' if cin > 1 else ''}"))
        top.addStretch(1)
        top.addWidget(self.channel)
        top.addWidget(self.colorbar)
        _stack(self, top, self.grid)
        self.own_scale = False
        self.channel.currentIndexChanged.connect(lambda _i: self.refresh(self.own_scale))

    def refresh(self, own_scale):
        self.own_scale = own_scale
        chosen = self.channel.currentData()
        tiles = inspect.filter_grid(self.layer.params["W"], input_channel=chosen)
        parts = tiles.tiles.shape[1]
        names = [f"input channel {c}" for c in ([chosen] if chosen is not None else range(parts))]
        self.grid.set_tiles(
            [Tile(images, list(kernels), name=f"filter {i}", part_names=names)
             for i, (images, kernels) in enumerate(zip(tile_images(tiles, own_scale), tiles.tiles))],
            scale=max(2, round((KERNEL_PX if parts == 1 else PART_PX) / max(tiles.tiles.shape[2:]))))
        set_scale(self.colorbar, tiles, own_scale)


class _DenseSection(QWidget):
    """A Dense layer on raw pixels: each unit's weights as an image, a page of units at a time."""

    def __init__(self, index, layer, image_shape):
        super().__init__()
        self.index, self.layer, self.image_shape = index, layer, image_shape
        self.start = 0
        self.prev, self.next = QToolButton(text="◀"), QToolButton(text="▶")
        explain(self.prev, "The previous page of units")
        explain(self.next, "The next page of units")
        self.page = QLabel()
        for w in (self.prev, self.next, self.page):
            w.setVisible(layer.units > UNITS_PER_PAGE)
        self.prev.clicked.connect(lambda: self.turn(-1))
        self.next.clicked.connect(lambda: self.turn(+1))
        self.colorbar = ColorBar(label="weight")
        self.grid = TileGrid()
        c, h, w = image_shape
        top = QHBoxLayout()
        top.addWidget(header_label(f"<b>{esc(layer.name)}</b> &nbsp; {esc(layer.units)} units, each unit's "
                                   f"{esc(c * h * w)} weights as a {esc(shape_text((h, w)))} image"))
        top.addStretch(1)
        for w in (self.prev, self.page, self.next):
            top.addWidget(w)
        top.addWidget(self.colorbar)
        _stack(self, top, self.grid)
        self.own_scale = False

    def turn(self, pages):
        """Show the previous (-1) or next (+1) page of units."""
        last = (self.layer.units - 1) // UNITS_PER_PAGE * UNITS_PER_PAGE
        self.start = min(max(self.start + pages * UNITS_PER_PAGE, 0), last)
        self.refresh(self.own_scale)

    def refresh(self, own_scale):
        self.own_scale = own_scale
        start = self.start
        stop = min(start + UNITS_PER_PAGE, self.layer.units)
        self.page.setText(f"units {start}–{stop - 1} of {self.layer.units}")
        self.prev.setEnabled(start > 0)
        self.next.setEnabled(stop < self.layer.units)
        shown = slice(start, stop)
        tiles = inspect.dense_unit_images(self.layer.params["W"], self.image_shape, units=shown)
        self.grid.set_tiles(
            [Tile(images, list(unit), name=f"unit {start + i}")
             for i, (images, unit) in enumerate(zip(tile_images(tiles, own_scale), tiles.tiles))],
            scale=max(1, round(UNIT_PX / max(self.image_shape[1:]))))
        set_scale(self.colorbar, tiles, own_scale)


class FiltersView(LazyRefresh, QWidget):
    def __init__(self, source, parent=None):
        super().__init__(parent)
        self.source = source
        self.sections = []
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.content = QWidget()
        self.column = QVBoxLayout(self.content)
        self.column.setContentsMargins(8, 0, 8, 8)
        self.scroll = scrolled(self.content)
        self.own_scale = QCheckBox("Own scale per filter")
        self.own_scale.setToolTip("Stretch each filter's colours to its own largest weight, so weak filters "
                                  "show their pattern (their strength can then no longer be compared)")
        self.own_scale.toggled.connect(lambda _on: self.refresh())
        top = QHBoxLayout()
        top.addWidget(self.info, 1)
        top.addWidget(self.own_scale)
        view_column(self, top, self.scroll, "filters.png").addWidget(self.scroll, 1)
        source.modelReplaced.connect(self.rebuild)
        source.weightsChanged.connect(self._on_weights)
        self.rebuild()

    def rebuild(self):
        for section in self.sections:
            section.setParent(None)
        self.sections = []
        while self.column.count():
            self.column.takeAt(0)
        model = self.source.model
        if model is not None:
            for i, layer in enumerate(model.layers):
                if isinstance(layer, Conv2D):
                    self.sections.append(_ConvSection(i, layer))
            dense = inspect.dense_on_input(model)
            if dense is not None and len(model.input_shape) == 3:
                self.sections.append(_DenseSection(model.layers.index(dense), dense, model.input_shape))
        for section in self.sections:
            self.column.addWidget(section)
        self.column.addStretch(1)
        self.info.setText(self._describe())
        self.refresh_when_visible()

    def _describe(self):
        model = self.source.model
        if model is None:
            return "No model yet."
        if not self.sections:
            return ("This model has no convolution and no Dense layer on the raw pixels, "
                    "so it has no filters to show as images.")
        return ("Blue weights are negative, red positive, white zero, on one scale per layer so filters compare "
                "(or each on its own). Hover a kernel for its values. Updates live while training.")

    def _on_weights(self):
        self.refresh_when_visible()

    def refresh(self):
        self._dirty = False
        for section in self.sections:
            section.refresh(self.own_scale.isChecked())
