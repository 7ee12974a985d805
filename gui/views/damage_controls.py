"""Damage controls: which harm to do to the test images, and how much (``core.stress``).

Output: ``changed()`` whenever the choice changes; ``damage()`` reads it as
``(kind, strength)``, or None for the clean images. The kinds, their units
and their ranges come from ``core.stress``; this module only names them for
people (``NAMES``, ``HINTS``) and says a choice in words (``describe``), so
the Evaluation view and the Lab's Robustness page word them alike.
"""
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QSlider, QWidget

from core.stress import KINDS, RANGES

from ..format import percent

SEED = 0           # every damaged evaluation draws from this seed: a re-run gives the same figures
SLIDER_STEPS = 100
NAMES = {"noise": "Gaussian noise", "rotation": "Rotation", "shift": "Shift", "blur": "Blur",
         "thickness": "Stroke thickness", "occlusion": "Occlusion"}
HINTS = {"noise": "adds Gaussian noise of this standard deviation to every pixel (pixels run 0 to 1), then clips",
         "rotation": "turns each image about its centre by this many degrees (counter-clockwise; negative "
                     "turns clockwise)",
         "shift": "moves each image this many pixels in a random direction",
         "blur": "smooths each image with a Gaussian of this standard deviation, in pixels",
         "thickness": "thickens the strokes by a disk of this radius in pixels; negative thins them",
         "occlusion": "blanks a square at a random place in each image; its side as a fraction of the image's"}
# Where a kind starts when picked: clearly visible damage that a good model still mostly survives.
START = {"noise": 0.3, "rotation": 30.0, "shift": 2.0, "blur": 1.0, "thickness": 1.0, "occlusion": 0.4}


# A choice in words, for headings ({s}: the strength, {a}: its size, {grown}: thickened or thinned,
# {p}: as a percentage).
WORDS = {"noise": "Gaussian noise, sigma {s:g}", "rotation": "rotated {s:g}°", "shift": "shifted {s:g} px",
         "blur": "blurred, sigma {s:g} px", "thickness": "strokes {grown} {a:g} px",
         "occlusion": "occluded, side {p}"}


def describe(damage):
    """A choice in words for a heading: "Gaussian noise, sigma 0.3", or "no damage" for None."""
    if damage is None:
        return "no damage"
    kind, strength = damage
    return WORDS[kind].format(s=strength, a=abs(strength), grown="thickened" if strength > 0 else "thinned",
                              p=percent(strength, 0))


def kind_combo(first=None):
    """A combo of the damage kinds (its data: the key), each with its hint; ``first`` a label for a first
    item whose data is None ("No damage")."""
    combo = QComboBox()
    if first:
        combo.addItem(first, None)
    for key, name in NAMES.items():
        combo.addItem(name, key)
        combo.setItemData(combo.count() - 1, f"{name}: {HINTS[key]}", Qt.ToolTipRole)
    return combo


def fit_to_kind(spin, kind):
    """Give ``spin`` the range ``core.stress`` offers for ``kind`` (a key of ``KINDS``), in 50 steps."""
    low, high = RANGES[kind]
    spin.setRange(low, high)
    spin.setSingleStep((high - low) / 50)


class DamageControls(QWidget):
    """A compact row: the kind of damage, its strength as a slider and a spin box, and the unit."""
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.kind = kind_combo("No damage")
        self.kind.setToolTip("Damage the test images before evaluating, to see how accuracy falls")
        self.kind.setStatusTip("Damage the test images before evaluating: noise, rotation, shift, blur, "
                               "stroke thickness or a blanked patch")
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setFixedWidth(120)
        self.strength = QDoubleSpinBox()
        self.strength.setDecimals(2)
        self.strength.setKeyboardTracking(False)    # typing "0.35" is one change, not three
        self.unit = QLabel()
        self.unit.setStyleSheet("color: #6b7280;")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (QLabel("Damage:"), self.kind, self.slider, self.strength, self.unit):
            row.addWidget(w)
        self.kind.currentIndexChanged.connect(self._on_kind_change)
        self.slider.valueChanged.connect(self._on_slider_change)
        self.strength.valueChanged.connect(self._on_strength_change)
        self._on_kind_change()

    def damage(self):
        """(kind, strength) chosen, or None for the clean images (no kind, or strength 0)."""
        kind = self.kind.currentData()
        if kind is None or self.strength.value() == 0:
            return None
        return kind, float(self.strength.value())

    def set_damage(self, kind, strength):
        """Show ``kind`` (a key of ``core.stress.KINDS``, or None) at ``strength``."""
        self.kind.setCurrentIndex(self.kind.findData(kind))
        if kind is not None:
            self.strength.setValue(strength)

    def _on_kind_change(self):
        kind = self.kind.currentData()
        for w in (self.slider, self.strength):
            w.setEnabled(kind is not None)
        self.strength.blockSignals(True)
        fit_to_kind(self.strength, kind or "noise")      # no kind: a disabled 0
        self.strength.setValue(START.get(kind, 0.0))
        self.strength.blockSignals(False)
        self._show_strength()
        low, high = RANGES.get(kind, (0, 0))
        tip = f"{NAMES[kind]} {HINTS[kind]} ({KINDS[kind]}, {low:g} to {high:g})" if kind else "No damage chosen"
        for w in (self.slider, self.strength):
            w.setToolTip(tip)
            w.setStatusTip(tip)
        self.unit.setText(KINDS[kind] if kind else "")
        self.changed.emit()

    def _on_slider_change(self, position):
        low, high = self.strength.minimum(), self.strength.maximum()
        self.strength.setValue(low + (high - low) * position / SLIDER_STEPS)

    def _on_strength_change(self):
        self._show_strength()
        self.changed.emit()

    def _show_strength(self):
        """Put the slider where the spin box's value is, without it echoing a change back."""
        low, high = self.strength.minimum(), self.strength.maximum()
        self.slider.blockSignals(True)
        self.slider.setValue(round(SLIDER_STEPS * (self.strength.value() - low) / ((high - low) or 1)))
        self.slider.blockSignals(False)
