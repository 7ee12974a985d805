"""The form of the selected layer: one widget per parameter, as ``fields`` describes it.

Every editor widget has ``value()``, ``set_value(v)`` (silent) and an
``edited(object)`` signal that fires only for a user's change. Spin boxes
report on Enter, focus loss or a step, not on every keystroke, so typing
"500" builds one model, not three.
"""
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QFrame, QHBoxLayout, QLabel, QLineEdit,
                               QSpinBox, QToolButton, QVBoxLayout, QWidget)

from ..format import shape_text
from ..hover_help import add_status_tips, controls
from . import fields
from .trainable import TrainableBox

ERROR_STYLE = "background:#fdecea; color:#8c1d18; border:1px solid #f1b0aa; border-radius:4px; padding:6px;"


class _Silent:
    """``set_value`` without emitting ``edited``: the form shows values, only users edit them."""

    def set_value(self, value):
        self.blockSignals(True)
        try:
            self._show(value)
        finally:
            self.blockSignals(False)


class IntEditor(_Silent, QSpinBox):
    edited = Signal(object)

    def __init__(self, spec):
        super().__init__()
        self.setRange(int(spec.minimum), int(spec.maximum))
        self.setKeyboardTracking(False)
        self.setAccelerated(True)
        self.valueChanged.connect(self.edited.emit)
        self._show = self.setValue


class FloatEditor(_Silent, QDoubleSpinBox):
    edited = Signal(object)

    def __init__(self, spec):
        super().__init__()
        self.setDecimals(spec.decimals)
        self.setRange(spec.minimum, spec.maximum)
        self.setSingleStep(spec.step)
        self.setKeyboardTracking(False)
        self.valueChanged.connect(lambda v: self.edited.emit(round(v, spec.decimals)))
        self._show = self.setValue


class SciEditor(_Silent, QLineEdit):
    """A small positive float such as 1e-5, typed in scientific notation."""
    edited = Signal(object)

    def __init__(self, spec):
        super().__init__()
        validator = QDoubleValidator(spec.minimum, spec.maximum, 12, self)
        validator.setNotation(QDoubleValidator.ScientificNotation)
        self.setValidator(validator)
        self.editingFinished.connect(lambda: self.hasAcceptableInput() and self.edited.emit(float(self.text())))

    def value(self):
        return float(self.text())

    def _show(self, value):
        self.setText(f"{value:g}")


class ChoiceEditor(_Silent, QComboBox):
    edited = Signal(object)

    def __init__(self, spec):
        super().__init__()
        for label, value in spec.choices:
            self.addItem(label, value)
        self.currentIndexChanged.connect(lambda i: self.edited.emit(self.itemData(i)))

    def value(self):
        return self.currentData()

    def select(self, value):
        """Choose by value, as a user would: emits ``edited``."""
        self.setCurrentIndex(self.findData(value))

    def _show(self, value):
        i = self.findData(value)
        if i < 0:  # a value the choices do not list (a config from a file): show it anyway
            self.addItem(str(value), value)
            i = self.count() - 1
        self.setCurrentIndex(i)


class TextEditor(_Silent, QLineEdit):
    edited = Signal(object)

    def __init__(self, spec):
        super().__init__()
        self.editingFinished.connect(lambda: self.edited.emit(self.text()))

    def value(self):
        return self.text()

    def _show(self, value):
        self.setText("" if value is None else str(value))


class PairEditor(_Silent, QWidget):
    """Height × width. Linked (the '=' button) while both are equal, as most kernels are square."""
    edited = Signal(object)

    def __init__(self, spec):
        super().__init__()
        self.first, self.second = IntEditor(spec), IntEditor(spec)
        self.link = QToolButton(text="=", checkable=True, checked=True)
        self.link.setToolTip("Linked: both sides change together. Click to set height and width apart.")
        self.link.toggled.connect(lambda on: self.link.setText("=" if on else "≠"))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.first, 1)
        row.addWidget(QLabel("×"))
        row.addWidget(self.second, 1)
        row.addWidget(self.link)
        self.first.edited.connect(lambda v: self._side_edited(self.second, v))
        self.second.edited.connect(lambda v: self._side_edited(self.first, v))

    def _side_edited(self, other, value):
        if self.link.isChecked():
            other.set_value(value)
        self.edited.emit(self.value())

    def value(self):
        return [self.first.value(), self.second.value()]

    def setValue(self, value):
        """Set both sides as a user would (emits ``edited``)."""
        self.set_value(value)
        self.edited.emit(self.value())

    def _show(self, value):
        h, w = value if isinstance(value, (list, tuple)) else (value, value)
        self.first.set_value(h)
        self.second.set_value(w)
        if h != w:  # a user's unlinking of a square pair stays until the form is rebuilt
            self.link.setChecked(False)


class PaddingEditor(_Silent, QWidget):
    """'valid', 'same' or an explicit number of zero rows/columns per side."""
    edited = Signal(object)

    def __init__(self, spec):
        super().__init__()
        self.mode = QComboBox()
        self.mode.addItems(["valid", "same", "explicit"])
        self.amount = QSpinBox(minimum=0, maximum=15, keyboardTracking=False)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.mode, 1)
        row.addWidget(self.amount)
        self.mode.currentIndexChanged.connect(self._changed)
        self.amount.valueChanged.connect(self._changed)

    def _changed(self):
        self.amount.setEnabled(self.mode.currentText() == "explicit")
        self.edited.emit(self.value())

    def value(self):
        mode = self.mode.currentText()
        return self.amount.value() if mode == "explicit" else mode

    def _show(self, value):
        for w in (self.mode, self.amount):
            w.blockSignals(True)
        self.mode.setCurrentText(value if value in ("valid", "same") else "explicit")
        self.amount.setValue(value if isinstance(value, int) else 0)
        self.amount.setEnabled(self.mode.currentText() == "explicit")
        for w in (self.mode, self.amount):
            w.blockSignals(False)


EDITORS = {"int": IntEditor, "float": FloatEditor, "sci": SciEditor, "choice": ChoiceEditor,
           "pair": PairEditor, "padding": PaddingEditor, "text": TextEditor}


class ShapeEditor(QWidget):
    """The network's input shape: channels × height × width spin boxes."""
    edited = Signal(list)
    LIMITS = (("channels", 64), ("height", 1024), ("width", 1024))

    def __init__(self, parent=None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.spins = []
        for i, (what, top) in enumerate(self.LIMITS):
            spin = QSpinBox(minimum=1, maximum=top, keyboardTracking=False)
            spin.setToolTip(f"Input {what}. With a dataset loaded this follows its images.")
            spin.valueChanged.connect(lambda _: self.edited.emit(self.value()))
            if i:
                row.addWidget(QLabel("×"))
            row.addWidget(spin, 1)
            self.spins.append(spin)

    def value(self):
        return [s.value() for s in self.spins]

    def set_value(self, shape):
        """Show a 3-D shape; other ranks (a flat input from a file) are shown but not editable here."""
        editable = len(shape) == 3
        for spin, d in zip(self.spins, shape if editable else (1, 1, 1)):
            spin.blockSignals(True)
            spin.setValue(d)
            spin.blockSignals(False)
            spin.setEnabled(editable)
        self.setToolTip("" if editable
                        else f"Input shape {shape_text(shape)}: load a 3-D architecture to edit it here.")


class LayerForm(QWidget):
    """Title, description, error and parameter widgets of the selected layer."""
    edited = Signal(int, str, object)  # uid, parameter, value

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.about = QLabel(wordWrap=True)
        self.about.setStyleSheet("color: #5f6368;")
        self.error = QLabel(wordWrap=True, textFormat=Qt.PlainText)   # reasons quote names and shapes
        self.error.setStyleSheet(ERROR_STYLE)
        self.output = QLabel(wordWrap=True, textFormat=Qt.PlainText)
        self.output.setStyleSheet("color: #3c4043;")
        self.fields_box = QWidget()
        self.rows = QFormLayout(self.fields_box)
        self.rows.setContentsMargins(0, 4, 0, 0)
        self.rows.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.rows.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        line = QFrame(frameShape=QFrame.HLine, frameShadow=QFrame.Sunken)
        layout = QVBoxLayout(self)
        self.trainable = TrainableBox()
        for w in (self.title, self.about, self.error, line, self.fields_box, self.trainable, self.output):
            layout.addWidget(w)
        layout.addStretch(1)
        self.editors = {}
        self._shown = None  # (uid, type) the widgets were made for
        self.show_layer(None, None, None)

    def editor(self, name):
        """The widget that edits parameter ``name`` of the shown layer."""
        return self.editors[name]

    def show_layer(self, index, item, row):
        """Show layer ``item`` (0-based ``index``) with its analysis ``row``; None shows a hint."""
        if item is None:
            self._rebuild(None)
            self.title.setText("No layer selected")
            self.about.setText("Select a layer in the list or the drawing to edit it, or add one from the palette.")
            self.error.hide()
            self.output.clear()
            self.trainable.show_item(None, None)
            return
        if self._shown != (item.uid, item.type):
            self._rebuild(item)
        self.title.setText(f"{item.type} #{index + 1}")
        self.about.setText(fields.description(item.type))
        for name, widget in self.editors.items():
            if name in item.config:
                widget.set_value(item.config[name])
        self.trainable.show_item(item, row)
        self.error.setVisible(bool(row and row.error))
        self.error.setText(row.error if row and row.error else "")
        self.output.setText(_output_text(row))

    def _rebuild(self, item):
        while self.rows.rowCount():
            self.rows.removeRow(0)
        self.editors = {}
        self._shown = None if item is None else (item.uid, item.type)
        if item is None:
            return
        specs = [fields.spec_for(item.type, name, value) for name, value in item.config.items()]
        for spec in specs:
            widget = EDITORS[spec.kind](spec)
            for part in [widget, *controls(widget)]:   # an editor's spin boxes and menus say what the editor does
                if not part.toolTip():
                    part.setToolTip(spec.tooltip)
            widget.edited.connect(lambda value, uid=item.uid, name=spec.name: self.edited.emit(uid, name, value))
            label = QLabel(spec.label)
            label.setToolTip(spec.tooltip)
            self.rows.addRow(label, widget)
            self.editors[spec.name] = widget
        if not specs:
            self.rows.addRow(QLabel("This layer has no parameters to set."))
        add_status_tips(self)   # the new editors' tooltips also in the status bar


def _output_text(row):
    if row is None or row.output_shape is None:
        return "Output: ? (fix the layer marked in red first)" if row is not None and not row.error else ""
    return f"Output {shape_text(row.output_shape)}  ·  {row.params:,} parameters"
