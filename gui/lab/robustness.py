"""Lab > Robustness: accuracy against the strength of a damage, for the current model and one to compare.

Inputs: ``state.model`` (through a ``ModelSource``) and ``state.dataset``'s
test set; a second model picked from the pretrained ones, the recorded runs
(``core.runs``) or a folder. ``core.stress.robustness`` computes each curve
on a worker, with progress and Cancel; the plot overlays them, the legend
naming each. The point is the comparison a learner cannot see in one
accuracy figure: a model trained with augmentation against one without.

Curves hold for the ``state.results_key()`` they were computed under: another
model, new weights or other data drop them, and the page says so.
"""
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from core import runs, transfer
from core.datasets.subset import sample_indices
from core.resources import shipped, shipped_models
from core.stress import DEFAULT_STRENGTHS, KINDS, robustness

from ..format import counted, esc
from ..hover_help import explain
from ..model_files import ask_open_path, model_name, read_model
from ..plots import PlotView
from ..settings import documents_folder
from ..state import ModelSource
from ..views.damage_controls import NAMES, SEED, fit_to_kind, kind_combo
from ..worker import Job, TaskWorker, labelled
from .readiness import why_not

SAMPLES = (1000, 2000, 5000, 0)     # test images a curve runs on; 0 = all of them
COLOURS = ("#2563eb", "#ea580c")     # this model, the one compared
OTHER_MODEL = "other"                # the compare list's "Other model…" item: a model.json or an .onnx file
EXPLAIN = ("Accuracy on the test images damaged more and more. A model that learned the shapes of its classes, "
           "not their exact pixels, falls slowly: compare one trained with augmentation against one without.")
IDLE = "Pick a damage and its strengths, and a model to compare with, then press Compute."
OUTDATED = "The model or the data changed since these curves were computed, so they were dropped: press Compute."


def sample_of(dataset, n):
    """(x, y): ``n`` test images drawn once from a fixed seed (every curve and model sees the same ones),
    or the whole test set when ``n`` is 0 or more than there are."""
    if not n or n >= len(dataset.x_test):
        return dataset.x_test, dataset.y_test
    keep = sample_indices(len(dataset.x_test), n, SEED)
    return dataset.x_test[keep], dataset.y_test[keep]


def curves_task(models, dataset, x, y, kind, strengths):
    """The curves as a task for a ``TaskWorker``: ``fn(progress) -> [(label, Curve)]``.

    ``models`` is [(label, load)], ``load()`` giving the model (a copy, or one read from its file on the
    worker). Each must fit ``dataset``: one made for other inputs or classes is refused, naming it.
    Every model sees the same damaged images (one seed), so the curves differ by the model alone.
    """
    def run(progress):
        found, per_model = [], len(strengths) * len(x)
        for i, (label, load) in enumerate(models):
            model = load()
            try:
                transfer.require_match(model, dataset)
            except ValueError as e:
                raise ValueError(f"{label}: {e}") from None
            curve = robustness(model, x, y, kind, strengths, rng=SEED,
                               progress=lambda n, _total, done=i * per_model: progress(done + n,
                                                                                       len(models) * per_model))
            found.append((label, curve))
        return found
    return run


def recorded_models():
    """[(label, run id)] of the recorded runs that kept a model, newest first: a task for a worker, as it
    reads every run's run.json."""
    return [(f"run {info.get('name') or info['id']}", info["id"]) for info in runs.list()
            if runs.Run(info, runs.root() / str(info["id"])).model_path is not None]


class RobustnessPage(QWidget):
    """The Lab's Robustness page: controls over a plot of accuracy against damage strength."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.source = ModelSource(state, self)
        self.curves = []             # [(label, Curve)] drawn, for the key below
        self.curves_key = None
        self.job = Job(self, on_done=self._after_run)
        self.list_job = Job(self)       # reads the recorded runs for the compare list
        self._build()
        state.resultsOutdated.connect(self._on_results_outdated)
        state.trainingStarted.connect(self._update_buttons)
        state.trainingFinished.connect(self._update_buttons)
        self._on_kind_change()
        self.fill_compare_list([])

    # ----- layout -------------------------------------------------------------------------------
    def _build(self):
        self.kind = kind_combo()
        self.kind.setToolTip("The damage done to the test images")
        self.low, self.high = QDoubleSpinBox(), QDoubleSpinBox()
        for spin, end in ((self.low, "weakest"), (self.high, "strongest")):
            spin.setDecimals(2)
            spin.setToolTip(f"The {end} damage on the curve, in the unit shown")
        self.steps = QSpinBox()
        self.steps.setRange(1, 40)
        self.steps.setToolTip("Equal steps between the weakest and the strongest damage: a curve has one more point")
        self.unit = QLabel()
        self.unit.setStyleSheet("color: #6b7280;")
        self.sample = QComboBox()
        for n in SAMPLES:
            self.sample.addItem(f"{n:,} test images" if n else "all test images", n)
        self.sample.setToolTip("The curves run on this many test images, drawn once from a fixed seed; "
                               "all of them is exact but slower")
        self.compare = QComboBox()
        self.compare.setMinimumContentsLength(22)
        self.compare.setToolTip("A second model whose curve is drawn over this one's: a pretrained model, "
                                "a recorded run's model, or any saved model folder")
        self.compute_button = QPushButton("Compute")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop computing the curves")
        self.cancel_button.hide()
        self.progress = explain(QProgressBar(), "How far computing the curves has got")
        self.progress.setMaximumWidth(200)
        self.progress.hide()
        self.note = QLabel(IDLE)
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.RichText)
        self._build_plot()
        note = QLabel(EXPLAIN)
        note.setWordWrap(True)
        note.setStyleSheet("color: #4b5563;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(_row(QLabel("Damage:"), self.kind, QLabel("from"), self.low, QLabel("to"), self.high,
                              self.unit, QLabel("in"), self.steps, QLabel("steps, on"), self.sample))
        layout.addLayout(_row(QLabel("Compare with:"), self.compare, self.compute_button, self.cancel_button,
                              self.progress))
        layout.addWidget(note)
        layout.addWidget(self.note)
        layout.addWidget(self.plot, 1)
        self.kind.currentIndexChanged.connect(self._on_kind_change)
        self.compare.activated.connect(self._on_compare_picked)
        self.compute_button.clicked.connect(self.compute)
        self.cancel_button.clicked.connect(self.cancel)
        self._update_buttons()

    def _build_plot(self):
        self.plot = PlotView("Accuracy against damage", "strength", "test accuracy (%)")
        self.plot.setToolTip("Each curve: the share of the damaged test images a model still classifies right, "
                             "at each strength of the damage")
        self.legend = self.plot.getPlotItem().addLegend(offset=(-10, 10), labelTextColor="#1f2937")
        self.plot.getPlotItem().setYRange(0, 100, padding=0.02)

    def _on_kind_change(self):
        """Another kind: its unit, its range, and its default curve's strengths."""
        kind = self.kind.currentData()
        for spin in (self.low, self.high):
            fit_to_kind(spin, kind)
        self.low.setValue(DEFAULT_STRENGTHS[kind].min())
        self.high.setValue(DEFAULT_STRENGTHS[kind].max())
        self.steps.setValue(len(DEFAULT_STRENGTHS[kind]) - 1)
        self.unit.setText(KINDS[kind])

    def strengths(self):
        return np.linspace(self.low.value(), self.high.value(), self.steps.value() + 1)

    # ----- the model to compare -------------------------------------------------------------------
    @Slot(object)
    def fill_compare_list(self, recorded):
        """Nothing, the pretrained models, the ``recorded`` runs' models ([(label, run id)]), the folder
        chosen before, and "Other model folder…"; the choice made stays chosen."""
        chosen = self.compare.currentData()
        self.compare.clear()
        self.compare.addItem("nothing", None)
        for name in shipped_models():
            self.compare.addItem(f"pretrained {name}", ("model", str(shipped("saved_models") / name)))
        for label, run_id in recorded:
            self.compare.addItem(label, ("run", run_id))
        if isinstance(chosen, tuple) and chosen[0] == "model" and self._index_of(chosen) < 0:
            self.compare.addItem(f"model {model_name(chosen[1])}", chosen)
        self.compare.addItem("Other model…", OTHER_MODEL)
        self.compare.setCurrentIndex(max(self._index_of(chosen), 0))

    def _index_of(self, choice):
        """The compare list's item for ``choice``, or -1 (``findData`` cannot compare Python tuples)."""
        return next((i for i in range(self.compare.count()) if self.compare.itemData(i) == choice), -1)

    def choose_compare(self, choice, label=None):
        """Pick ``choice`` ("model", a saved-model folder or an .onnx file) or ("run", id) to compare with,
        adding it to the list if new."""
        if self._index_of(choice) < 0:
            self.compare.insertItem(self.compare.count() - 1, label or f"model {model_name(choice[1])}", choice)
        self.compare.setCurrentIndex(self._index_of(choice))

    def _on_compare_picked(self, index):
        if self.compare.itemData(index) != OTHER_MODEL:
            return
        window = self.window()        # File > Open's dialog, starting where the user's models were last
        start = window.save_folder() if callable(getattr(window, "save_folder", None)) else documents_folder()
        path = ask_open_path(self, str(start))
        if path:
            self.choose_compare(("model", path))
        else:
            self.compare.setCurrentIndex(0)

    def showEvent(self, event):
        """Runs recorded since the page was last seen join the compare list."""
        super().showEvent(event)
        if not self.list_job.running:
            worker = TaskWorker(lambda _progress: recorded_models())
            worker.finished.connect(self.fill_compare_list)
            self.list_job.start(worker)

    # ----- computing ------------------------------------------------------------------------------
    def _models(self):
        """[(label, load)]: this model's copy, and the one to compare, read on the worker."""
        copy = self.source.snapshot()
        path = self.state.model_path
        models = [(f"{model_name(path)} (this model)" if path else "this model", lambda: copy)]
        choice = self.compare.currentData()
        if isinstance(choice, tuple):
            kind, where = choice
            load = (lambda: runs.load(where).load_model()) if kind == "run" else (lambda: read_model(where))
            models.append((self.compare.currentText(), load))
        return models

    def _why_not(self):
        """Why no curve can be computed now, or None."""
        reason = why_not(self.source.model, self.state.dataset, self.state.training, "compute the curves")
        if reason is None and self.high.value() < self.low.value():
            return "The strongest damage is below the weakest: swap them."
        return reason

    def compute(self):
        """Start computing the curves (the current ones stay until the new ones arrive)."""
        reason = self._why_not()
        if reason is not None or self.job.running:
            self._say(reason or "Already computing: cancel first.")
            return
        x, y = sample_of(self.state.dataset, self.sample.currentData())
        models = self._models()
        kind = self.kind.currentData()
        worker = TaskWorker(labelled((self.state.results_key(), kind, len(x)),
                                     curves_task(models, self.state.dataset, x, y, kind, self.strengths())))
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._arrived)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self._say(f"Computing {len(models)} curve{'s' * (len(models) > 1)} on {counted(len(x), 'test image')}…")
        self.job.start(worker)
        self._update_buttons()

    def cancel(self):
        if self.job.running:
            self.job.worker.stop()

    @Slot(float, float)
    def _on_progress(self, done, total):
        self.progress.setRange(0, int(total))
        self.progress.setValue(int(done))

    @Slot(object)
    def _arrived(self, found):
        """Curves of the model and data of now are drawn; any others are dropped."""
        (key, kind, n), curves = found
        if key != self.state.results_key():
            self._say(OUTDATED)
            return
        self.curves, self.curves_key = curves, key
        self._draw()
        sample = "all" if n == len(self.state.dataset.x_test) else "a fixed sample of"
        self._say(f"{NAMES[kind]} on {sample} {counted(n, 'test image')}, damaged alike for every model "
                  f"(seed {SEED}).")

    @Slot(str, str)
    def _on_failed(self, message, _details):
        self._say(f"<span style='color:#b91c1c'>Could not compute the curves: {esc(message)}</span>", rich=True)

    @Slot()
    def _on_cancelled(self):
        self._say("Cancelled: press Compute to start again.")

    def _after_run(self):
        self.progress.hide()
        self.cancel_button.hide()
        self._update_buttons()

    def _update_buttons(self):
        self.compute_button.setEnabled(not self.job.running and not self.state.training)
        self.compute_button.setToolTip(
            "Compute the curves while training changes the weights? Wait for the run to end." if self.state.training
            else "Compute the accuracy of each model at each strength (in the background)")

    # ----- showing --------------------------------------------------------------------------------
    def _on_results_outdated(self):
        self._update_buttons()
        if self.curves and self.curves_key != self.state.results_key():
            self.curves, self.curves_key = [], None
            self._draw()
            self._say(OUTDATED)

    def _draw(self):
        plot = self.plot.getPlotItem()
        plot.clear()
        self.legend.clear()
        if not self.curves:
            return
        kind = self.curves[0][1].kind
        plot.setTitle(f"Test accuracy against damage: {NAMES[kind]}", color="#1f2937", size="10.5pt", bold=True)
        plot.getAxis("bottom").setLabel(f"{NAMES[kind]} strength ({KINDS[kind]})", color="#4b5563")
        for (label, curve), colour in zip(self.curves, COLOURS):
            pen = pg.mkPen(colour, width=2, style=Qt.SolidLine if colour == COLOURS[0] else Qt.DashLine)
            plot.plot(curve.strengths, 100 * curve.accuracy, pen=pen, symbol="o", symbolSize=7,
                      symbolBrush=colour, symbolPen=colour, name=label)
        chance = 100 / max(int(np.prod(self.source.model.output_shape)), 1)
        plot.addItem(pg.InfiniteLine(chance, angle=0, pen=pg.mkPen("#9ca3af", style=Qt.DotLine),
                                     label=f"chance ({chance:.0f}%)", labelOpts={"color": "#6b7280",
                                                                                  "position": 0.04}))
        plot.setYRange(0, 100, padding=0.02)

    def _say(self, text, rich=False):
        self.note.setText(text if rich else esc(text))


def _row(*widgets):
    row = QHBoxLayout()
    for w in widgets:
        row.addWidget(w)
    row.addStretch(1)
    return row
