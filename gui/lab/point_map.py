"""Lab > Map: the test set as one layer sees it, a dot per image (``core.embedding.layer_points``).

Inputs: ``state.model`` (through its own ``ModelSource``) and ``state.dataset``'s test set.
Output: ``inspectRequested(test index)``, a dot clicked, to open in Inside.

The user picks a layer (named as in ``summary()``), a method (PCA always;
t-SNE and UMAP when their optional package is installed, else the choice is
greyed out and a note says what to install) and how many test images. The
map is computed on a worker with progress and Cancel; PCA draws by itself
when the page is seen, t-SNE and UMAP (seconds to minutes) on "Draw map". A
map holds for the ``state.results_key()`` it was computed under, and is
dropped when the model or the data changes.
"""
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QStackedWidget, QVBoxLayout,
                               QWidget)

from core.datasets.subset import sample_indices
from core.embedding import layer_points, missing_package
from core.layers import Dense, Dropout

from ..format import counted, esc, percent, shape_text
from ..state import ModelSource
from ..views.lazy import LazyRefresh
from ..views.point_map import PointMapView
from ..worker import Job, TaskWorker, labelled
from .readiness import training_note, why_not

METHODS = (("pca", "PCA", "Principal components: the two directions along which the layer's responses vary most. "
                          "Fast (NumPy); distances along the axes mean something."),
           ("tsne", "t-SNE", "Keeps each image beside the images the layer sees alike, so clusters show clearly; "
                             "distances between clusters and the axes mean little. Takes tens of seconds."),
           ("umap", "UMAP", "Like t-SNE, keeps neighbours together, and keeps more of the overall layout. "
                            "Takes seconds to tens of seconds."))
SIZES = (1000, 2000, 5000, None)      # test images in a map; None for all of them
DEFAULT_SIZE = 2000
SAMPLE_SEED = 0                       # the same images every time, so two maps compare
EXPLAIN = ("Each dot is one test image, placed by how the chosen layer responds to it: images the layer sees "
           "alike land close together. Colour is the true class; a ring marks a mistake, and its short line "
           "points toward the class it was taken for. Hover a dot to see the image, click it to open it in Inside.")
TRAINING = training_note("draw the map")
OUTDATED = "The model or the data changed since this map was drawn, so it no longer holds: press Draw map."


def default_layer(model):
    """The layer a map starts on: the last before the final Dense (what the classifier reads), else the last;
    never a Dropout, which changes nothing outside training: the layer it copies is named instead."""
    dense = [i for i, layer in enumerate(model.layers) if isinstance(layer, Dense)]
    index = dense[-1] - 1 if dense and dense[-1] > 0 else len(model.layers) - 1
    while index > 0 and isinstance(model.layers[index], Dropout):
        index -= 1
    return index


def axis_titles(point_map):
    """(bottom, left) axis titles: PCA's axes say how much of the variance they hold; the others' mean nothing."""
    if point_map.method != "pca":
        name = dict((key, label) for key, label, _ in METHODS)[point_map.method]
        return f"{name} 1 (the axes have no meaning of their own)", f"{name} 2"
    ratio = point_map.explained_variance_ratio
    return tuple(f"principal component {i + 1} ({percent(ratio[i])} of the variance)" for i in range(2))


def _explained(widget, text):
    """``widget`` with ``text`` as its tooltip and its status-bar tip."""
    widget.setToolTip(text)
    widget.setStatusTip(text)
    return widget


def _text(style="", text=""):
    """A wrapping rich-text label."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.RichText)
    label.setStyleSheet(style)
    return label


class PointMapPage(LazyRefresh, QWidget):
    inspectRequested = Signal(int)     # a test index to open in Inside

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.source = ModelSource(state, self)
        self.job = Job(self, on_done=self._after_run)
        self.shown = self._tried = None   # (results key, choice) of the map shown / last drawn by itself
        self._running = None              # (results key, choice, test indices, layer name) of the map computing
        self._rerun = False
        self._dirty = True
        self._build()
        self._fill_layers()
        state.resultsOutdated.connect(self._on_results_outdated)
        self.source.modelReplaced.connect(self._fill_layers)
        self.source.modelReplaced.connect(self.refresh_when_visible)
        self.source.weightsChanged.connect(self.refresh_when_visible)

    # ----- layout -------------------------------------------------------------------------------
    def _build(self):
        self.layer = _explained(QComboBox(), "The layer whose responses place the dots (named as in the model's "
                                             "summary). Early layers group images by strokes; late ones by class.")
        self.method = _explained(QComboBox(), "How the layer's many values per image become two coordinates")
        self.size = _explained(QComboBox(), "How many test images to map (a fixed random sample, the same each "
                                            "time); t-SNE and UMAP take much longer on more")
        for n in SIZES:
            self.size.addItem("all test images" if n is None else f"{n:,} images", n)
        self.size.setCurrentIndex(SIZES.index(DEFAULT_SIZE))
        self.run_button = _explained(QPushButton("Draw map"), "Compute the map in the background")
        self.cancel_button = _explained(QPushButton("Cancel"), "Stop computing the map")
        self.cancel_button.hide()
        self.progress = _explained(QProgressBar(), "Test images whose responses are computed")
        self.progress.setMaximumWidth(200)
        self.progress.hide()
        self.status = _text()
        self.note = _text("color: #92400e;")
        self.note.setTextInteractionFlags(Qt.TextSelectableByMouse)     # the pip command can be copied
        self._fill_methods()
        self.explain = _text("color: #4b5563;", EXPLAIN)
        self.view = PointMapView()
        self.placeholder = _text("color: #6b7280; font-size: 11pt;", "The map of the chosen layer appears here.")
        self.placeholder.setAlignment(Qt.AlignCenter)
        self.map_area = QWidget()
        beside = QHBoxLayout(self.map_area)
        beside.setContentsMargins(0, 0, 0, 0)
        beside.addWidget(self.view, 1)
        beside.addWidget(self.view.legend)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.map_area)
        top = QHBoxLayout()
        for label, control in (("Layer", self.layer), ("Method", self.method), ("Points", self.size)):
            top.addWidget(QLabel(label))
            top.addWidget(control)
            top.addSpacing(6)
        for w in (self.run_button, self.cancel_button, self.progress):
            top.addWidget(w)
        top.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.explain)
        layout.addWidget(self.stack, 1)
        self.run_button.clicked.connect(self.draw)
        self.cancel_button.clicked.connect(self.cancel)
        self.view.pointClicked.connect(self.inspectRequested)
        for combo in (self.layer, self.method, self.size):
            combo.currentIndexChanged.connect(self._on_choice_changed)

    def _fill_methods(self):
        """Every method is listed; one whose package is missing is greyed out, and the note says how to get it."""
        missing = []
        for key, label, about in METHODS:
            why = missing_package(key)
            self.method.addItem(label if why is None else f"{label} (not installed)", key)
            item = self.method.model().item(self.method.count() - 1)
            item.setToolTip(about if why is None else f"{about}\nNot available: {why}")
            item.setEnabled(why is None)
            if why is not None:
                missing.append(f"{label}: {why}.")
        self.note.setText(esc(" ".join(missing)))
        self.note.setVisible(bool(missing))
        self.method.setStatusTip(METHODS[0][2])

    def _fill_layers(self):
        model, previous = self.source.model, self.layer.currentText()
        self.layer.blockSignals(True)
        self.layer.clear()
        if model is not None:
            for i, layer in enumerate(model.layers):
                self.layer.addItem(f"{layer.name}  ({shape_text(layer.output_shape)})", i)
            found = self.layer.findText(previous)
            self.layer.setCurrentIndex(found if found >= 0 else default_layer(model))
        self.layer.blockSignals(False)

    def choice(self):
        """(layer position, method, number of images) as the controls show them."""
        return self.layer.currentData(), self.method.currentData(), self.size.currentData()

    def _on_choice_changed(self):
        """A PCA map takes seconds, so a new choice redraws it at once (a map computing restarts); t-SNE
        and UMAP take long, so they wait for Draw map."""
        method = self.method.currentData()
        self.method.setStatusTip(next(about for key, _, about in METHODS if key == method))
        if method != "pca":
            if not self.current:
                self._say(f"Press Draw map to compute the {esc(self.method.currentText())} map: it takes a while.")
            return
        if self.job.running:
            self._rerun = True
            self.job.worker.stop()
        else:
            self.refresh_when_visible()

    # ----- when to run ----------------------------------------------------------------------------
    @property
    def current(self):
        """Whether a map is shown and holds for the model and data of now, and for the choice shown."""
        return self.shown is not None and self.shown == (self.state.results_key(), self.choice())

    def _on_results_outdated(self):
        if self.shown is not None and self.shown[0] != self.state.results_key():
            self.shown = None
            self.view.clear_map()
            self.stack.setCurrentWidget(self.placeholder)
            self._say(TRAINING if self.state.training else OUTDATED)
        self.run_button.setEnabled(not self.state.training and not self.job.running)
        self.refresh_when_visible()

    def refresh(self):
        """Draw a PCA map by itself once for the current model, data and choice (t-SNE and UMAP wait for
        the button)."""
        self._dirty = False
        wanted = ((self.source.version, self.state.dataset_version), self.choice())
        if (not self.current and not self.job.running and not self.state.training
                and wanted[0] == self.state.results_key() and wanted != self._tried and wanted[1][1] == "pca"):
            self.draw()

    def _test_set(self):
        """The dataset whose test images the map places, or None after saying why not."""
        ds = self.state.dataset
        why = why_not(self.source.model, ds, self.state.training, "draw the map", least=2)
        if why is None:
            return ds
        self._say(f"<b>Not drawn.</b> {esc(why)}")
        return None

    def draw(self):
        """Start computing the map of the chosen layer, method and size (the button waits while one runs)."""
        if self.job.running:
            return
        ds = self._test_set()
        if ds is None:
            return
        layer, method, size = choice = self.choice()
        self._tried = key_and_choice = ((self.source.version, self.state.dataset_version), choice)
        indices = sample_indices(len(ds.x_test), size, SAMPLE_SEED)
        model, x = self.source.snapshot(), ds.x_test[indices]
        self._running = (*key_and_choice, indices, model.layers[layer].name)
        worker = TaskWorker(labelled(self._running,
                                     lambda progress: layer_points(model, x, layer, method, progress=progress)))
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._arrived)
        worker.failed.connect(self._on_failed)
        self.progress.setRange(0, len(indices))
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.run_button.setEnabled(False)
        self._say(f"Computing {esc(self._running[3])}'s responses to {counted(len(indices), 'test image')}…")
        self.job.start(worker)

    def cancel(self):
        if self.job.running:
            self._tried, self._rerun = None, False
            self.job.worker.stop()
            self._say("Cancelled.")

    def _on_progress(self, done, total):
        self.progress.setValue(int(done))
        method = self._running[1][1]
        if total and done >= total and method != "pca":
            self.progress.setRange(0, 0)     # t-SNE and UMAP report nothing while they work: a busy bar
            label = self.method.itemText(self.method.findData(method))
            self._say(f"Running {esc(label)} on {int(total):,} points (it cannot be interrupted: Cancel drops "
                      "its result)…")

    def _arrived(self, found):
        """Shown only if the model and data it was computed from are still the current ones."""
        (key, choice, indices, layer_name), point_map = found
        if key != self.state.results_key():
            return
        ds = self.state.dataset
        self.shown = (key, choice)
        labels = ds.y_test[indices]
        self.stack.setCurrentWidget(self.map_area)
        self.view.set_map(point_map.points, labels, point_map.predictions, indices, ds.class_names, ds.x_test,
                          axis_titles(point_map))
        wrong = int((labels != point_map.predictions).sum())
        self._say(f"<b>{esc(layer_name)}</b>: {counted(len(indices), 'test image')}, {counted(wrong, 'mistake')} "
                  f"({percent(wrong / len(indices))}) ringed.")

    def _on_failed(self, message, details):
        self._say(f"<b>The map failed</b>: {esc(message)}")

    def _after_run(self):
        self.progress.hide()
        self.cancel_button.hide()
        self.run_button.setEnabled(not self.state.training)
        if self._rerun:
            self._rerun = False
            self.draw()

    def _say(self, text):
        """``text`` (rich) in place of the map while there is none, else on the status line above it."""
        self.placeholder.setText(text)
        self.status.setText(text if self.stack.currentWidget() is self.map_area else "")
