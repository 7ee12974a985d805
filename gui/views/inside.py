"""Inside panel: filters, feature maps, saliency and weights over time of the current model.

Inputs: ``state.model`` (through a ``ModelSource``: a private copy kept
current from ``state.weightsUpdated`` while training, so nothing here reads
the live model), ``state.dataset`` (test images to look at), and
``state.inputChosen`` (the draw pad's drawing). Other panels may call
``show_test_index(i)`` (e.g. a mistake clicked in Evaluation) and
``set_mistakes(indices)`` (what "Next mistake" steps through).
Every number drawn comes from ``core.inspect``.
"""
import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QStackedWidget,
                               QTabBar, QVBoxLayout, QWidget)

from core.errors import ShapeError

from ..format import shape_text
from .feature_maps import FeatureMapsView
from .filters import FiltersView
from .histograms import WeightsView
from .saliency import SaliencyView

WEIGHTS_REFRESH_MS = 250     # at most four redraws a second from training snapshots


class ModelSource(QObject):
    """The model the views look at: a copy of ``state.model``, updated from training snapshots.

    ``modelReplaced``: a different model (new architecture or freshly loaded).
    ``weightsChanged``: same model, new weights; coalesced to a few per second.
    The copy belongs to the GUI thread; a background job gets ``snapshot()``.
    ``version`` is the ``state.model_version`` the copy shows: it lags the
    state's while a snapshot waits for the timer, so a result computed from
    the copy is tied to the weights it really used.
    """
    modelReplaced = Signal()
    weightsChanged = Signal()

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.model = None
        self._live = None         # the state's model our copy was made from
        self.grads = {}           # the latest training gradients, keyed '0.W'; {} when not training
        self.step = 0             # training snapshots applied since the model was replaced
        self.version = 0
        self._pending = None
        self._timer = QTimer(self, singleShot=True, interval=WEIGHTS_REFRESH_MS)
        self._timer.timeout.connect(self._apply_pending)
        state.modelChanged.connect(self._replace)
        state.weightsUpdated.connect(self._on_weights)
        state.trainingFinished.connect(self._on_training_finished)
        if state.model is not None and not state.training:
            self._replace(state.model)

    def _replace(self, model):
        if self.state.training:
            return  # the worker owns it; snapshots keep our copy current
        if model is not None and model is self._live and self._same_model(model):
            self._take_weights(model)  # the trained model handed back: same model, new weights
            return
        self._live = model
        self.model = model.copy() if model is not None else None
        self.grads, self.step, self._pending = {}, 0, None
        self.version = self.state.model_version
        self.modelReplaced.emit()

    def _same_model(self, model):
        """Same architecture and the same class names shown: new weights need no rebuilt views."""
        return (self.model is not None and model.get_config() == self.model.get_config()
                and _class_names(model, self.state.dataset) == self.class_names())

    def _take_weights(self, model):
        self._timer.stop()
        self._pending = None
        self.model.set_weights(model.get_weights())
        self.model.meta = dict(model.meta)
        self.version = self.state.model_version
        self.weightsChanged.emit()

    def _on_weights(self, weights, grads):
        self._pending = (weights, grads, self.state.model_version)
        if not self._timer.isActive():
            self._timer.start()

    def _apply_pending(self):
        if self._pending is None or self.model is None:
            return
        weights, grads, version = self._pending
        self._pending = None
        try:
            self.model.set_weights(weights)
        except ShapeError:
            return  # a snapshot of another architecture: modelChanged will follow
        self.grads, self.version = grads, version
        self.step += 1
        self.weightsChanged.emit()

    def _on_training_finished(self):
        """The live model is free again: take its final weights (a diverged run restored them)."""
        live = self.state.model
        if live is None:
            return
        if live is self._live and self._same_model(live):
            self._take_weights(live)
        else:
            self._replace(live)

    def snapshot(self):
        """An independent copy for a background job, or None."""
        return self.model.copy() if self.model is not None else None

    def class_names(self):
        return _class_names(self.model, self.state.dataset)

    def fits(self, images):
        """Whether images (N, C, H, W) have the model's input shape."""
        return self.model is not None and tuple(images.shape[1:]) == tuple(self.model.input_shape)


def _class_names(model, dataset):
    """Names from the model, else from the dataset if it has as many classes, else '0', '1', ..."""
    k = int(np.prod(model.output_shape)) if model is not None else 0
    names = list(model.meta.get("class_names") or []) if model is not None else []
    if len(names) != k and dataset is not None and len(dataset.class_names) == k:
        names = list(dataset.class_names)
    return [str(n) for n in names] if len(names) == k else [str(i) for i in range(k)]


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
        self.random = QPushButton("Random")
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


class InsidePanel(QWidget):
    TABS = ("Filters", "Feature maps", "Saliency", "Weights over time")

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.source = ModelSource(state, self)
        self.picker = InputPicker(state, self.source)
        self.filters = FiltersView(self.source)
        self.feature_maps = FeatureMapsView(self.source)
        self.saliency = SaliencyView(self.source)
        self.weights = WeightsView(self.source, state)
        self.tabs = QTabBar()
        self.stack = QStackedWidget()
        for name, view in zip(self.TABS, self.views()):
            self.tabs.addTab(name)
            self.stack.addWidget(view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.tabs)
        layout.addWidget(self.picker)
        layout.addWidget(self.stack, 1)
        self.tabs.currentChanged.connect(self._show_tab)
        self.picker.inputChanged.connect(self._push_input)
        self._show_tab(0)
        self._push_input()

    def views(self):
        return [self.filters, self.feature_maps, self.saliency, self.weights]

    def set_tab(self, name):
        self.tabs.setCurrentIndex(self.TABS.index(name))

    def _show_tab(self, index):
        self.stack.setCurrentIndex(index)
        self.picker.setVisible(self.TABS[index] in ("Feature maps", "Saliency"))

    def _push_input(self):
        p = self.picker
        self.feature_maps.set_input(p.x, p.label, p.description)
        self.saliency.set_input(p.x, p.label, p.description)

    # ----- for other panels -------------------------------------------------------------------
    def show_test_index(self, i):
        """Look at test image ``i`` (e.g. a mistake clicked in Evaluation) in Feature maps."""
        self.picker.show_test_index(i)
        if self.TABS[self.tabs.currentIndex()] not in ("Feature maps", "Saliency"):
            self.set_tab("Feature maps")

    def set_mistakes(self, indices):
        """Test indices of mistakes, most confident first: what "Next mistake" steps through."""
        self.picker.set_mistakes(indices)
