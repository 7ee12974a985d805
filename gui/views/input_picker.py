"""The input the Inside panel looks at: a test image (by index, at random, or the next mistake) or the drawing.

Inputs: ``state.dataset`` (its test images), ``state.inputChosen`` (the draw
pad's drawing) and a ``ModelSource`` (whose input shape a choice must fit).
Output: ``inputChanged``; the choice is in ``x``, ``label`` and ``description``.
"""
import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from ..hover_help import explain
from ..format import shape_text


class InputPicker(QWidget):
    """Chooses the one input Feature maps and Saliency look at: a test image, a mistake, or the drawing.

    The mistakes "Next mistake" steps through hold for the model and data
    they were found with (``state.results_key()``); they are dropped the
    moment either changes, so it never walks into images of another dataset
    or ones the current model reads right.
    """
    inputChanged = Signal()

    TEST, DRAWING = "Test image", "Drawing"

    def __init__(self, state, source, parent=None):
        super().__init__(parent)
        self.state, self.source = state, source
        self.x, self.label, self.description = None, None, ""
        self._drawing = None
        self._mistakes = np.zeros(0, np.int64)
        self._mistakes_key = None
        self._mistake_pos = -1
        self._rng = np.random.default_rng()
        self._build()
        state.datasetChanged.connect(lambda _ds: self._update())
        state.inputChosen.connect(self.set_drawing)
        state.resultsOutdated.connect(self._drop_outdated_mistakes)
        source.modelReplaced.connect(self._update)
        self._update()

    def _build(self):
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 4)
        self.kind = QComboBox()
        self.kind.addItems([self.TEST, self.DRAWING])
        self.kind.setToolTip("Look inside with a test image or with the digit drawn on the Draw pad")
        self.index = QSpinBox(prefix="#", keyboardTracking=False)
        self.index.setToolTip("Index of the test image")
        self.random = explain(QPushButton("Random"), "Look at a test image picked at random")
        self.mistake = QPushButton("Next mistake")
        self.info = QLabel()
        self.info.setTextFormat(Qt.PlainText)
        self.info.setWordWrap(True)
        for w in (QLabel("Input:"), self.kind, self.index, self.random, self.mistake, self.info):
            row.addWidget(w)
        row.setStretch(row.count() - 1, 1)
        self.kind.currentTextChanged.connect(lambda _t: self._update())
        self.index.valueChanged.connect(lambda _v: self._update())
        self.random.clicked.connect(self._random)
        self.mistake.clicked.connect(self._next_mistake)

    # ----- what other panels call -------------------------------------------------------------
    def set_drawing(self, x):
        self._drawing = np.asarray(x, np.float32)
        self.kind.setCurrentText(self.DRAWING)
        self._update()

    def show_test_index(self, i):
        self.kind.setCurrentText(self.TEST)
        self.index.setValue(int(i))
        self._update()

    def set_mistakes(self, indices):
        """Mistakes of the current model on the current data, most confident first."""
        self._mistakes = np.asarray(indices, np.int64)
        self._mistakes_key = self.state.results_key()
        self._mistake_pos = -1
        self._update_buttons()

    def _drop_outdated_mistakes(self):
        if len(self._mistakes) and self._mistakes_key != self.state.results_key():
            self.set_mistakes([])

    # ----- choosing -----------------------------------------------------------------------------
    def _test_images(self):
        ds = self.state.dataset
        return None if ds is None or not len(ds.x_test) else ds

    def _random(self):
        ds = self._test_images()
        if ds is not None:
            self.show_test_index(self._rng.integers(len(ds.x_test)))

    def _next_mistake(self):
        if len(self._mistakes) and self._mistakes_key == self.state.results_key():
            self._mistake_pos = (self._mistake_pos + 1) % len(self._mistakes)
            self.show_test_index(self._mistakes[self._mistake_pos])

    def _update_buttons(self):
        testing = self.kind.currentText() == self.TEST and self._test_images() is not None
        self.index.setEnabled(testing)
        self.random.setEnabled(self._test_images() is not None)
        self.mistake.setEnabled(self._test_images() is not None and len(self._mistakes) > 0)
        if len(self._mistakes):
            self.mistake.setText(f"Next mistake ({self._mistake_pos + 1}/{len(self._mistakes)})"
                                 if self._mistake_pos >= 0 else f"Next mistake (of {len(self._mistakes)})")
            self.mistake.setToolTip("Step through the most confident mistakes found by Evaluation")
        else:
            self.mistake.setText("Next mistake")
            self.mistake.setToolTip("Evaluate the current model on the current data (Evaluation panel) "
                                    "to list its mistakes")

    def _update(self):
        self._update_buttons()
        x, label, description = self._choose()
        self.x, self.label, self.description = x, label, description
        self.info.setText(description)
        self.inputChanged.emit()

    def _choose(self):
        """(x (1, C, H, W) or None, true label or None, a line saying what it is or why nothing)."""
        if self.source.model is None:
            return None, None, "No model yet: load or build one."
        if self.kind.currentText() == self.DRAWING:
            if self._drawing is None:
                return None, None, "Nothing drawn yet: draw a digit on the Draw pad."
            if self._drawing.shape[1:] != tuple(self.source.model.input_shape):
                shape = shape_text(self._drawing.shape[1:])
                return None, None, f"The drawing ({shape}) does not fit the model's input."
            return self._drawing, None, "The drawing from the Draw pad"
        ds = self._test_images()
        if ds is None:
            return None, None, "No test images: load a dataset in the Data panel, or draw a digit."
        if not self.source.fits(ds.x_test):
            return None, None, (f"The {ds.name} images ({shape_text(ds.x_test.shape[1:])}) do not fit the model's "
                                f"input ({shape_text(self.source.model.input_shape)}).")
        self.index.blockSignals(True)
        self.index.setMaximum(len(ds.x_test) - 1)
        self.index.blockSignals(False)
        i = self.index.value()
        label = int(ds.y_test[i])   # named by the dataset: the model may know other classes
        return ds.x_test[i:i + 1], label, f"{ds.name} test image #{i}, labelled {ds.class_names[label]}"
