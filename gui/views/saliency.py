"""Saliency: which pixels of the input move a class's score, for any class.

Inputs: a ``ModelSource`` and the chosen input (``set_input``). The maps are
``inspect.saliency`` (|d score / d pixel|, score = the logit before softmax)
for every class in one pass, drawn over the input: the image in grey, the
saliency in a black-red-yellow-white "hot" map whose opacity grows with the
value. All classes share one scale, so a class the network barely considers
stays dark.
"""
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from core import inspect

from ..format import esc, probability
from ..hover_help import explain
from ..imaging import heat_rgb, overlay_rgb, rgb_qimage
from .export import view_column
from .lazy import LazyRefresh
from .grid import ColorBar, Tile, TileGrid, scrolled
from .probabilities import ProbabilityBars

BIG_PX = 392
SMALL_PX = 140
SATURATE = 99.5       # percentile of all saliency values drawn at full heat; the rest scale below


class SaliencyView(LazyRefresh, QWidget):
    def __init__(self, source, parent=None):
        super().__init__(parent)
        self.source = source
        self.x = None
        self.maps = None          # (K, H, W) saliency of every class
        self.probs = None
        self.limit = 1.0
        self._build()
        source.modelReplaced.connect(self._on_model)
        source.weightsChanged.connect(self.refresh_when_visible)
        self._on_model()

    def _build(self):
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.klass = QComboBox()
        self.klass.setMinimumContentsLength(12)
        self.strength = QSlider(Qt.Horizontal, minimum=10, maximum=100, value=85)
        self.strength.setFixedWidth(140)
        explain(self.klass, "The class whose saliency map is shown big: pick another class to see which pixels "
                            "argue for or against it")
        explain(self.strength, "How strongly the map is laid over the image: lower it to see the digit under the "
                               "bright pixels")
        self.big = TileGrid()
        self.big_title = QLabel()
        self.big_title.setTextFormat(Qt.RichText)
        self.colorbar = ColorBar(label="|∂ score / ∂ pixel|")
        note = QLabel("Bright pixels are those where a small change would move the chosen class's score "
                         "(its logit, before softmax) the most, for or against the class. "
                         "Click a class on the right to see its map big.")
        note.setWordWrap(True)
        note.setStyleSheet("color: #4b5563;")
        self.all = TileGrid()
        self.bars = ProbabilityBars()
        self.bars.setMaximumHeight(200)
        left = QVBoxLayout()
        left.addWidget(self.big_title)
        left.addWidget(self.big)
        left.addWidget(self.colorbar)
        left.addWidget(note)
        left.addStretch(1)
        left_widget = QWidget()
        left_widget.setLayout(left)
        left_widget.setFixedWidth(BIG_PX + 24)
        right = QVBoxLayout()
        right.addWidget(QLabel("<b>Every class</b> (same scale), with the model's probability"))
        right.addWidget(self.all)
        right.addWidget(QLabel("<b>What the model says</b>"))
        right.addWidget(self.bars)
        right.addStretch(1)
        self.page = QWidget()
        body = QHBoxLayout(self.page)
        body.addWidget(left_widget)
        body.addLayout(right, 1)
        controls = QGridLayout()
        controls.addWidget(QLabel("Class:"), 0, 0)
        controls.addWidget(self.klass, 0, 1)
        controls.addWidget(QLabel("Overlay:"), 0, 2)
        controls.addWidget(self.strength, 0, 3)
        top = QHBoxLayout()
        top.addLayout(controls)
        top.addWidget(self.info, 1)
        view_column(self, top, self.page, "saliency.png").addWidget(scrolled(self.page), 1)
        self.klass.currentIndexChanged.connect(lambda _i: self._draw())
        self.strength.valueChanged.connect(lambda _v: self._draw())
        self.all.clicked.connect(self.klass.setCurrentIndex)

    # ----- inputs ---------------------------------------------------------------------------
    def _on_model(self):
        names = self.source.class_names() if self.source.model is not None else []
        self.klass.blockSignals(True)
        self.klass.clear()
        self.klass.addItems(names)
        self.klass.blockSignals(False)
        self._choose_predicted = True
        self.refresh_when_visible()

    def set_input(self, x, label=None, description=""):
        self.x = x
        self._choose_predicted = True
        self.info.setText("" if x is not None else description)
        self.refresh_when_visible()

    def set_class(self, index):
        self.klass.setCurrentIndex(index)

    # ----- computing and drawing --------------------------------------------------------------
    def refresh(self):
        self._dirty = False
        model = self.source.model
        self.page.setVisible(self.x is not None and model is not None)
        if self.x is None or model is None:
            return
        self.maps = inspect.saliency(model, self.x)
        self.probs = model.predict(self.x)[0]
        self.limit = float(np.percentile(self.maps, SATURATE)) or 1.0
        if self._choose_predicted:
            self._choose_predicted = False
            self.klass.blockSignals(True)
            self.klass.setCurrentIndex(int(self.probs.argmax()))
            self.klass.blockSignals(False)
        self._draw()

    def _image(self):
        return self.x[0].mean(axis=0)

    def _overlay(self, k):
        return rgb_qimage(overlay_rgb(self._image(), self.maps[k] / self.limit, self.strength.value() / 100))

    def _draw(self):
        if self.maps is None or self.x is None:
            return
        names = [self.klass.itemText(i) for i in range(self.klass.count())]
        k = max(self.klass.currentIndex(), 0)
        h, w = self.maps.shape[1:]
        self.big.set_tiles([Tile([self._overlay(k)], [self.maps[k]], name=f"|∂ {names[k]} / ∂ pixel|")],
                           scale=max(1, BIG_PX // max(h, w)), smooth=True)
        top = int(self.probs.argmax())
        self.big_title.setText(f"<b>{esc(names[k])}</b> &nbsp; probability {esc(probability(self.probs[k]))}"
                               + ("" if k == top else f" &nbsp; (the model says <b>{esc(names[top])}</b>)"))
        self.all.set_tiles([Tile([self._overlay(i)], [self.maps[i]], title=f"{names[i]} · {probability(self.probs[i])}",
                                 name=f"|∂ {names[i]} / ∂ pixel|") for i in range(len(self.maps))],
                           scale=max(1, SMALL_PX // max(h, w)), smooth=True, selectable=True)
        self.all.set_selected(k)
        self.bars.set_probabilities(self.probs, names)
        self.colorbar.set_strip((255 * heat_rgb(np.linspace(0, 1, 256))).astype(np.uint8), 0, self.limit)
