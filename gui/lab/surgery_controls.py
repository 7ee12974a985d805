"""The Surgery page's controls: what to change in one unit, and what across the whole model.

Each control only says what the user asked for, as a ``core.surgery_history.Step``
(``stepChosen``); the page applies it to its copy of the model. The unit
controls show the chosen unit's weights as a thumbnail (a conv filter's
kernels, or a Dense unit's weights as an image when it sees raw pixels), drawn
from the edited copy, so a filter switched off shows blank.
"""
import dataclasses

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QSpinBox, QWidget)

from core import inspect
from core.layers import Conv2D, Dense
from core.surgery import require_softmax
from core.surgery_history import Step, unit_name

from ..views.filters import KERNEL_PX, PART_PX, UNIT_PX, tile_images
from ..views.grid import Tile, TileGrid

THUMB_PX = 120      # the thumbnail's largest side


def _spin(low, high, value, step, decimals, tip, suffix=""):
    spin = QDoubleSpinBox(minimum=low, maximum=high, value=value, singleStep=step, decimals=decimals, suffix=suffix)
    spin.setToolTip(tip)
    spin.setStatusTip(tip)
    return spin


def _button(text, tip, slot):
    button = QPushButton(text)
    button.setToolTip(tip)
    button.setStatusTip(tip)
    button.clicked.connect(slot)
    return button


def _row(*widgets):
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        row.addWidget(w)
    return holder


def _note(text):
    """A short explanation a learner reads before using the controls under it."""
    label = QLabel(text, wordWrap=True)
    label.setStyleSheet("font-style: italic")     # an aside, not a control
    return label


class UnitControls(QGroupBox):
    """Pick a layer and a unit of it (a Dense neuron or a conv filter); switch it off, scale it, shift its bias."""
    stepChosen = Signal(object)

    def __init__(self, parent=None):
        super().__init__("One unit: a neuron or a filter", parent)
        self.model = self.original = None
        self.layer = QComboBox()
        self.layer.setToolTip("The layer with weights to operate on: a convolution (its units are filters) or a "
                              "Dense layer (its units are neurons)")
        self.unit = QSpinBox(keyboardTracking=False)
        self.unit.setToolTip("Which filter or neuron of the layer, from 0")
        self.info = QLabel(wordWrap=True, textFormat=Qt.PlainText)
        self.thumb = TileGrid()
        self.thumb.setToolTip("The unit's incoming weights: blue negative, white zero, red positive")
        self.factor = _spin(-10, 10, 0.5, 0.1, 2, "Multiply the unit's incoming weights by this (its bias stays): "
                            "0.5 halves its response, -1 flips the feature it looks for", "×")
        self.delta = _spin(-10, 10, 1.0, 0.1, 2, "Add this to the unit's bias: positive makes it fire more, "
                           "negative less")
        self.off_button = _button("Switch off", "Zero the unit's weights and bias: it outputs 0 for every input",
                                  lambda: self._emit("switch_off"))
        self.scale_button = _button("Scale weights", self.factor.toolTip(),
                                    lambda: self._emit("scale_unit", factor=self.factor.value()))
        self.shift_button = _button("Shift bias", self.delta.toolTip(),
                                    lambda: self._emit("shift_bias", delta=self.delta.value()))
        form = QFormLayout(self)
        form.addRow(_note("A filter looks for one pattern everywhere in the image; a neuron combines what the "
                          "layer before found. Switch one off to see what the network needs it for."))
        form.addRow("Layer", self.layer)
        form.addRow("Unit", _row(self.unit, self.info))
        form.addRow(self.thumb)
        form.addRow(self.off_button)
        form.addRow(_row(self.scale_button, self.factor))
        form.addRow(_row(self.shift_button, self.delta))
        self.layer.currentIndexChanged.connect(lambda _i: self._layer_chosen())
        self.unit.valueChanged.connect(lambda _v: self._show_unit())

    def set_model(self, model, original=None):
        """Offer the Dense and Conv2D layers of ``model`` (the edited copy of ``original``), keeping the layer and
        unit chosen when they still exist."""
        self.model, self.original = model, original if original is not None else model
        chosen, unit = self.layer.currentData(), self.unit.value()
        self.layer.blockSignals(True)
        self.layer.clear()
        for i, layer in enumerate(model.layers if model is not None else []):
            if isinstance(layer, (Dense, Conv2D)):
                kind = "filters" if isinstance(layer, Conv2D) else "neurons"
                self.layer.addItem(f"{layer.name} ({layer.params['b'].shape[0]} {kind})", i)
        self.layer.setCurrentIndex(max(self.layer.findData(chosen), 0))
        self.layer.blockSignals(False)
        self._layer_chosen(unit)

    def _layer_chosen(self, unit=0):
        target = self._target()
        self.unit.blockSignals(True)
        self.unit.setMaximum(target.params["b"].shape[0] - 1 if target is not None else 0)
        self.unit.setValue(unit)
        self.unit.blockSignals(False)
        for w in (self.unit, self.off_button, self.scale_button, self.shift_button):
            w.setEnabled(target is not None)
        self._show_unit()

    def _target(self):
        position = self.layer.currentData()
        return self.model.layers[position] if self.model is not None and position is not None else None

    def _emit(self, operation, **args):
        self.stepChosen.emit(Step(operation, {"layer": self.layer.currentData(), "unit": self.unit.value(), **args}))

    def _show_unit(self):
        target = self._target()
        if target is None:
            self.info.setText("This model has no layer with weights.")
            self.thumb.set_tiles([])
            return
        u = self.unit.value()
        w = target.params["W"][u] if isinstance(target, Conv2D) else target.params["W"][:, u]
        self.info.setText(f"{unit_name(self.model, self.layer.currentData(), u)}: {w.size:,} weights, "
                          f"mean |w| {np.abs(w).mean():.3g}, bias {target.params['b'][u]:+.3g}")
        self._show_thumb(target, u)

    def _show_thumb(self, target, u):
        """The unit's weights as an image where they have one, in the app's model and in the copy, both in
        the colour scale of the app's model's layer: a weakened unit looks weaker, a switched-off one blank."""
        position = self.layer.currentData()
        before = _unit_tiles(self.original, self.original.layers[position], u)
        if before is None:
            self.thumb.set_tiles([])
            return
        tiles = [("app's model", before)]
        if self.model is not self.original:
            now = _unit_tiles(self.model, target, u)
            tiles.append(("edited copy", dataclasses.replace(now, limit=before.limit)))
        side = max(before.tiles.shape[2:])
        px = KERNEL_PX if before.tiles.shape[1] == 1 else UNIT_PX if isinstance(target, Dense) else PART_PX
        self.thumb.set_tiles([Tile(tile_images(t, False)[0], list(t.tiles[0]), title=title, name=f"{title}, unit {u}")
                              for title, t in tiles], scale=max(1, min(round(px / side), THUMB_PX // side)))


def _unit_tiles(model, layer, u):
    """``inspect.Tiles`` of unit ``u`` of ``layer`` alone (with the layer's colour limit), or None when its
    weights are not an image (a Dense layer that does not see raw pixels)."""
    if isinstance(layer, Conv2D):
        tiles = inspect.filter_grid(layer.params["W"])
    elif layer is inspect.dense_on_input(model):
        tiles = inspect.dense_unit_images(layer.params["W"], model.input_shape)
    else:
        return None
    return dataclasses.replace(tiles, tiles=tiles.tiles[u:u + 1], limits=tiles.limits[u:u + 1])


class ModelControls(QGroupBox):
    """Changes across the whole model: prune the smallest weights, add weight noise, set the softmax temperature."""
    stepChosen = Signal(object)

    def __init__(self, parent=None):
        super().__init__("Whole model", parent)
        self.fraction = _spin(0, 100, 50, 5, 1, "The share of weights to set to 0, the smallest first", "%")
        self.where = QComboBox()
        self.where.addItem("across the model", False)
        self.where.addItem("in every layer", True)
        self.where.setToolTip("Across the model: rank all weights together (a layer of small weights may lose "
                              "most of them). In every layer: prune that share of each layer.")
        self.sigma = _spin(0, 5, 0.2, 0.05, 2, "Gaussian noise added to every weight, as a share of its layer's "
                           "own spread (standard deviation)", " σ")
        self.temperature = _spin(0.05, 50, 2.0, 0.25, 2, "Divide the class scores by this before the softmax: "
                                 "above 1 the answers get less sure, below 1 surer; the answer itself never changes")
        self.prune_button = _button("Prune", self.fraction.toolTip(), self._prune)
        self.noise_button = _button("Add noise", self.sigma.toolTip(), self._noise)
        self.temperature_button = _button("Set temperature", self.temperature.toolTip(),
                                          lambda: self._step("set_temperature", temperature=self.temperature.value()))
        form = QFormLayout(self)
        form.addRow(_note("Pruning removes the weakest connections: trained networks often keep their accuracy "
                          "with most of their weights gone. Noise shows how precise the weights must be."))
        form.addRow(_row(self.prune_button, self.fraction, self.where))
        form.addRow(_row(self.noise_button, self.sigma))
        form.addRow(_row(self.temperature_button, self.temperature))

    def set_model(self, model):
        """A temperature means something only for a softmax classifier: say so on the button otherwise."""
        try:
            require_softmax(model, "Set temperature") if model is not None else None
        except ValueError as exc:
            self.temperature_button.setEnabled(False)
            self.temperature_button.setToolTip(str(exc))
        else:
            self.temperature_button.setEnabled(model is not None)
            self.temperature_button.setToolTip(self.temperature.toolTip())

    def _step(self, operation, **args):
        self.stepChosen.emit(Step(operation, args))

    def _prune(self):
        self._step("prune", fraction=self.fraction.value() / 100, per_layer=self.where.currentData())

    def _noise(self):
        """A fresh draw each time, its seed kept in the step so the saved model says how to make it again."""
        self._step("add_weight_noise", sigma=self.sigma.value(), rng=int(np.random.SeedSequence().entropy % 2**32))
