"""The app's shared state: the current model and dataset, and training events.

Panels never talk to each other; they subscribe to these signals (napari's
habit: a Qt-free data model, views that listen). While training runs, the
worker owns ``model``: views draw from copies and from ``weightsUpdated``
snapshots, never from the live model.

Results computed from the model and the data (an evaluation, its list of
mistakes) hold for one ``results_key()``: the model's version (bumped by
another model, an edit, every training snapshot, training's start and end)
and the dataset's. When either changes, ``resultsOutdated`` says so, and a
view drops what it computed under the old key.
"""
from PySide6.QtCore import QObject, Signal


class AppState(QObject):
    modelChanged = Signal(object)      # a core.Sequential, free to read (not training)
    modelSaved = Signal(str)           # the model was written to this folder: it is now model_path, unchanged
    datasetChanged = Signal(object)    # a core.datasets.Dataset, or None
    trainingStarted = Signal()
    trainingFinished = Signal()
    weightsUpdated = Signal(dict, dict)  # (weights, grads) copies keyed '0.W', a few times a second while training
    validityChanged = Signal(bool, str)  # the edited architecture can run / why not
    inputChosen = Signal(object)       # a (1, C, H, W) float32 input to look inside (drawing, test image)
    resultsOutdated = Signal()         # results_key() changed: results computed before are void

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = None
        self.model_path = None         # folder it was loaded from / saved to, or None
        self.model_saved = False       # the model equals what is in model_path (False once trained further)
        self.dataset = None
        self.training = False
        self.architecture_valid, self.invalid_reason = True, ""
        self.model_version = self.dataset_version = 0
        # The worker's snapshots are re-emitted straight into weightsUpdated; connected here first,
        # so the version is already new when any view hears of them.
        self.weightsUpdated.connect(lambda _w, _g: self._model_touched())

    def results_key(self):
        """(model version, dataset version): a result computed under one key is void under any other."""
        return self.model_version, self.dataset_version

    def set_model(self, model, path=None, saved=None):
        """``saved``: whether ``model`` equals the files at ``path``; by default, when a path is given."""
        self.model, self.model_path = model, path
        self.model_saved = path is not None if saved is None else saved
        self.model_version += 1
        self.modelChanged.emit(model)
        self.resultsOutdated.emit()

    def set_saved(self, path):
        """The model was just written to ``path``: the title and the Model box say so."""
        self.model_path, self.model_saved = str(path), True
        self.modelSaved.emit(self.model_path)

    def set_dataset(self, dataset):
        self.dataset = dataset
        self.dataset_version += 1
        self.datasetChanged.emit(dataset)
        self.resultsOutdated.emit()

    @property
    def unsaved_work(self):
        """The model holds training or edits that no file has: changed since it was opened or saved,
        or trained (or training) and never saved. A fresh, untrained preset is not work to lose."""
        if self.model is None or self.model_saved:
            return False
        return self.model_path is not None or self.training or bool(self.model.train_history)

    def set_training(self, running):
        """Training starts changing the weights, or has changed them for the last time."""
        self.training = running
        if running:
            self.model_saved = False   # from the first batch on, the weights are not those of any file
        self.model_version += 1
        (self.trainingStarted if running else self.trainingFinished).emit()
        self.resultsOutdated.emit()

    def set_architecture_valid(self, ok, reason=""):
        """The editor reports here; Training will not start while this is False."""
        self.architecture_valid, self.invalid_reason = ok, reason
        self.validityChanged.emit(ok, reason)

    def _model_touched(self):
        self.model_version += 1
        self.resultsOutdated.emit()
