"""The app's shared state: the current model and dataset, and training events.

Panels never talk to each other; they subscribe to these signals (napari's
habit: a Qt-free data model, views that listen). While training runs, the
worker owns ``model``: views draw from copies and from ``weightsUpdated``
snapshots, never from the live model.
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

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = None
        self.model_path = None         # folder it was loaded from / saved to, or None
        self.model_saved = False       # the model equals what is in model_path (False once trained further)
        self.dataset = None
        self.training = False
        self.architecture_valid, self.invalid_reason = True, ""

    def set_model(self, model, path=None, saved=None):
        """``saved``: whether ``model`` equals the files at ``path``; by default, when a path is given."""
        self.model, self.model_path = model, path
        self.model_saved = path is not None if saved is None else saved
        self.modelChanged.emit(model)

    def set_saved(self, path):
        """The model was just written to ``path``: the title and the Model box say so."""
        self.model_path, self.model_saved = str(path), True
        self.modelSaved.emit(self.model_path)

    def set_dataset(self, dataset):
        self.dataset = dataset
        self.datasetChanged.emit(dataset)

    def set_training(self, running):
        self.training = running
        (self.trainingStarted if running else self.trainingFinished).emit()

    def set_architecture_valid(self, ok, reason=""):
        """The editor reports here; Training will not start while this is False."""
        self.architecture_valid, self.invalid_reason = ok, reason
        self.validityChanged.emit(ok, reason)
