"""The app's shared state: the current model and dataset, and training events.

Panels never talk to each other; they subscribe to these signals (napari's
habit: a Qt-free data model, views that listen). While training runs, the
worker owns ``model``: views draw from copies and from ``weightsUpdated``
snapshots, never from the live model. Its fields are read-only properties:
each changes only through a ``set_...`` method that emits the change, so no
write can skip a signal (napari's properties, without the setters).

A ``ModelSource`` is a view's side of that rule: its own copy of the model,
kept current from the training snapshots. Every panel that computes from the
model (Inside, Evaluation, Draw) reads one.

Results computed from the model and the data (an evaluation, its list of
mistakes) hold for one ``results_key()``: the model's version (bumped by
another model, an edit, every training snapshot, training's start and end)
and the dataset's. When either changes, ``resultsOutdated`` says so, and a
view drops what it computed under the old key.
"""
import numpy as np
from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from core.errors import ShapeError

from .views.lazy import on_screen

WEIGHTS_REFRESH_MS = 250     # a ModelSource takes training snapshots at most four times a second


def _read_only(name, doc):
    """A property that reads ``_name`` and has no setter: assigning it is an AttributeError."""
    return property(lambda self: getattr(self, f"_{name}"), doc=doc)


def _caught_up(name, doc):
    """A ``ModelSource`` property that reads ``_name`` after taking the snapshot waiting, if any."""
    def get(self):
        self._take_pending()
        return getattr(self, f"_{name}")
    return property(get, doc=doc)



class AppState(QObject):
    modelChanged = Signal(object)      # a core.Sequential, free to read (not training)
    modelSaved = Signal(str)           # the model was written to this folder: it is now model_path, unchanged
    datasetChanged = Signal(object)    # a core.datasets.Dataset, or None
    trainingStarted = Signal()
    trainingFinished = Signal()
    weightsUpdated = Signal(dict, dict)  # (weights, grads) copies keyed '0.W', a few times a second while training
    deadUnitsUpdated = Signal(int, dict)  # with each snapshot: step, {activation's name: share of its units dead}
    validityChanged = Signal(bool, str)  # the edited architecture can run / why not
    inputChosen = Signal(object)       # a (1, C, H, W) float32 input to look inside (drawing, test image)
    resultsOutdated = Signal()         # results_key() changed: results computed before are void

    # Read-only: each changes only through the method named, which emits its signal, so no view misses a change.
    model = _read_only("model", "The current core.Sequential, or None: ``set_model``.")
    model_path = _read_only("model_path", "The folder the model was loaded from or saved to, or None: "
                                          "``set_model``, ``set_saved``.")
    model_saved = _read_only("model_saved", "Whether the model equals what is in model_path (False once trained "
                                            "further): ``set_model``, ``set_saved``, ``set_training``.")
    dataset = _read_only("dataset", "The loaded core.datasets.Dataset, or None: ``set_dataset``.")
    training = _read_only("training", "Whether a run is changing the model's weights: ``set_training``.")
    architecture_valid = _read_only("architecture_valid", "Whether the edited architecture can run: "
                                                          "``set_architecture_valid``.")
    invalid_reason = _read_only("invalid_reason", "Why it cannot: ``set_architecture_valid``.")
    model_version = _read_only("model_version", "Bumped by every change of the model or its weights.")
    dataset_version = _read_only("dataset_version", "Bumped by every ``set_dataset``.")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._model = self._model_path = self._dataset = None
        self._model_saved = self._training = False
        self._architecture_valid, self._invalid_reason = True, ""
        self._model_version = self._dataset_version = 0
        # The worker's snapshots are re-emitted straight into weightsUpdated; connected here first,
        # so the version is already new when any view hears of them.
        self.weightsUpdated.connect(lambda _w, _g: self._model_touched())

    def results_key(self):
        """(model version, dataset version): a result computed under one key is void under any other."""
        return self.model_version, self.dataset_version

    def set_model(self, model, path=None, saved=None):
        """``saved``: whether ``model`` equals the files at ``path``; by default, when a path is given."""
        self._model, self._model_path = model, path
        self._model_saved = path is not None if saved is None else saved
        self._model_version += 1
        self.modelChanged.emit(model)
        self.resultsOutdated.emit()

    def set_saved(self, path):
        """The model was just written to ``path``: the title and the Model box say so."""
        self._model_path, self._model_saved = str(path), True
        self.modelSaved.emit(self.model_path)

    def set_dataset(self, dataset):
        self._dataset = dataset
        self._dataset_version += 1
        self.datasetChanged.emit(dataset)
        self.resultsOutdated.emit()

    @property
    def unsaved_work(self):
        """The model holds training or edits that no file has: changed since it was opened or saved,
        or trained (or training) or operated on in the Lab, and never saved. A fresh, untrained preset is
        not work to lose."""
        if self.model is None or self.model_saved:
            return False
        return (self.model_path is not None or self.training or bool(self.model.train_history)
                or bool(self.model.meta.get("surgery")))

    def set_training(self, running):
        """Training starts changing the weights, or has changed them for the last time."""
        self._training = running
        if running:
            self._model_saved = False   # from the first batch on, the weights are not those of any file
        self._model_version += 1
        (self.trainingStarted if running else self.trainingFinished).emit()
        self.resultsOutdated.emit()

    def set_architecture_valid(self, ok, reason=""):
        """The editor reports here; Training will not start while this is False."""
        self._architecture_valid, self._invalid_reason = ok, reason
        self.validityChanged.emit(ok, reason)

    def _model_touched(self):
        self._model_version += 1
        self.resultsOutdated.emit()


class ModelSource(QObject):
    """The model the views look at: a copy of ``state.model``, updated from training snapshots.

    ``modelReplaced``: a different model (new architecture or freshly loaded).
    ``weightsChanged``: same model, new weights; coalesced to a few per second.
    The copy belongs to the GUI thread; a background job gets ``snapshot()``.
    ``version`` is the ``state.model_version`` the copy shows: it lags the
    state's while a snapshot waits, so a result computed from the copy is
    tied to the weights it really used.

    A snapshot waits while the panel that owns the source (its parent
    widget) cannot be seen. Copying every weight into seven panels' copies
    twice a second, and the views' work on each, took 0.5-0.6% of the
    training time on the GUI thread (LeNet-5 training in the app, the
    Training tab in front), for pictures nobody saw. Reading ``model``, ``grads`` or
    ``version`` takes the latest snapshot first, so no reader ever sees older
    weights than a visible panel would; ``weightsChanged`` follows when the
    panel is shown (its tab, or its dock raised: ``catch_up``).
    """
    modelReplaced = Signal()
    weightsChanged = Signal()

    model = _caught_up("model", "The copy, or None, with the latest training snapshot's weights.")
    grads = _caught_up("grads", "The latest training gradients, keyed '0.W'; {} when not training.")
    version = _caught_up("version", "The ``state.model_version`` of the weights the copy has.")

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self._model = None
        self._live = None         # the state's model our copy was made from
        self._grads = {}
        self._version = 0
        self._pending = None      # the latest snapshot not yet in the copy: (weights, grads, version)
        self._unannounced = False  # the copy took a snapshot that weightsChanged has not told of
        self._timer = QTimer(self, singleShot=True, interval=WEIGHTS_REFRESH_MS)
        self._timer.timeout.connect(self._apply_pending)
        if isinstance(parent, QWidget):
            parent.installEventFilter(self)   # shown again (a tab page): catch up at once
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
        self._model = model.copy() if model is not None else None
        self._grads, self._pending, self._unannounced = {}, None, False
        self._version = self.state.model_version
        self.modelReplaced.emit()

    def _same_model(self, model):
        """Same architecture and the same class names shown: new weights need no rebuilt views."""
        return (self._model is not None and model.get_config() == self._model.get_config()
                and _class_names(model, self.state.dataset) == self.class_names())

    def _take_weights(self, model):
        self._timer.stop()
        self._pending, self._unannounced = None, False
        self._model.set_weights(model.get_weights())
        self._model.meta = dict(model.meta)
        self._version = self.state.model_version
        self.weightsChanged.emit()

    def _on_weights(self, weights, grads):
        self._pending = (weights, grads, self.state.model_version)
        if not self._timer.isActive():
            self._timer.start()

    def _apply_pending(self):
        """The timer: a panel that can be seen takes the snapshot now; a covered one when it comes back."""
        owner = self.parent()
        if not isinstance(owner, QWidget) or on_screen(owner):
            self.catch_up()

    def catch_up(self):
        """Take the snapshot waiting, if any, and tell the views: the owner can be seen again (a raised dock,
        a shown tab, or the timer found it on screen)."""
        self._take_pending()
        if self._unannounced:
            self._unannounced = False
            self.weightsChanged.emit()

    def _take_pending(self):
        if self._pending is None or self._model is None:
            return
        weights, grads, version = self._pending
        self._pending = None
        try:
            self._model.set_weights(weights)
        except ShapeError:
            return  # a snapshot of another architecture: modelChanged will follow
        self._grads, self._version, self._unannounced = grads, version, True

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Show and (self._pending is not None or self._unannounced):
            QTimer.singleShot(0, self.catch_up)   # after the views' own showEvents, which may read the copy
        return False

    def _on_training_finished(self):
        """The live model is free again: take its final weights (a diverged run restored them)."""
        live = self.state.model
        if live is None:
            return
        if live is self._live and self._same_model(live):
            self._take_weights(live)
        else:
            self._replace(live)

    def structure(self):
        """The copy as it is, without taking a snapshot that waits: for what no snapshot changes (whether there
        is a model, its layers, shapes and meta). The results-outdated checks of two covered panels read
        ``model`` at every snapshot, and so copied it in after all."""
        return self._model

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
