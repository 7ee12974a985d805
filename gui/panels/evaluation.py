"""Evaluation panel: test accuracy and loss, per-class accuracy, confusion matrix, mistakes.

Inputs: ``state.model`` (through a ``ModelSource``, so a run during training
uses the latest snapshot) and ``state.dataset`` (its whole test set).
Outputs: ``inspectRequested(test index)`` to look inside one image,
``mistakesFound(indices)`` (most confident first) and ``evaluated(result)``;
the probabilities go to ``gui.abstention``, where the "I don't know"
threshold line under the summary (and Lab > Confidence) reads them.

The work (``inspect.evaluate_predictions``) runs on a QThread with a progress
bar and can be cancelled. When it runs: on "Evaluate", and by itself when the
panel is on screen and has no results for the current model and data --
a forward pass over the test set takes seconds and only then does anyone look.

Results hold for the ``state.results_key()`` they were computed under: when
the model (another one, an edit, new weights) or the dataset changes, they
are cleared at once to a plain "evaluate again" page, never shown as if they
still held. During training the weights change several times a second, so
it neither evaluates nor keeps results; it does once the run ends.

The damage controls (``views.damage_controls``) harm the test images
first, on the worker and from a fixed seed, so a re-run gives the same
figures; the heading names the damage, and the mistakes and details show
the damaged images the model saw. Changing the damage evaluates again.

A model whose classes or input do not fit the dataset (``core.transfer``)
is not evaluated by itself: the panel says what differs, and "Evaluate"
asks first when only the class names differ.
"""
import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton, QStackedWidget, QTabWidget,
                               QVBoxLayout, QWidget)

from core import inspect, stress, transfer

from ..abstention import Abstention
from ..format import esc, percent, probability
from ..hover_help import explain
from ..mismatch import CONTINUE, EVALUATE, ask_about_mismatch
from ..state import ModelSource
from ..views.abstain import AbstainBar
from ..views.class_accuracy import ClassAccuracyBars
from ..views.confusion_matrix import ConfusionMatrixView
from ..views.damage_controls import SEED, DamageControls, describe
from ..views.export import ExportButton
from ..views.grid import TileGrid, image_tile, scrolled
from ..views.lazy import LazyRefresh
from ..views.sample_details import SampleDetails
from ..worker import Job, TaskWorker, labelled

MISTAKES_SHOWN = 60
CELL_IMAGES_SHOWN = 300
DAMAGE_SETTLE_MS = 300     # a slider dragged evaluates once it rests, not at every step
THUMB_PX = 56
TRAINING = "Training is changing the weights: evaluate when the run ends."
EVALUATE_AGAIN = ("The model or the data changed since the last evaluation, so its results no longer hold. "
                  "Press Evaluate to evaluate again.")


def _evaluation(model, x, y, damage=None):
    """The evaluation as a task for a ``TaskWorker``: ``fn(progress) -> (inspect.Evaluation, images)``, on a
    model copy taken now, so training or edits on the GUI thread do not change what is being evaluated.
    ``damage`` (kind, strength) harms the images first, on the worker: the images returned are those seen."""
    def run(progress):
        images, done = x, 0
        if damage is not None:
            images = stress.damage_set(x, *damage, rng=SEED, progress=lambda n, total: progress(n, 2 * total))
            done = len(x)
        result = inspect.evaluate_predictions(model, images, y,
                                              progress=lambda n, total: progress(done + n, done + total))
        return result, images
    return run


class EvaluationPanel(LazyRefresh, QWidget):
    inspectRequested = Signal(int)     # a test index to look inside
    mistakesFound = Signal(object)     # test indices of mistakes, most confident first
    evaluated = Signal(object)         # the inspect.Evaluation shown

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.source = ModelSource(state, self)
        self.result = self.result_key = None   # the inspect.Evaluation shown, and the results_key() it holds for
        self.images = self.result_damage = None   # the test images it was computed on (damaged or not), and how
        self.names = []
        self._dirty = True          # evaluate when first seen
        self.cell_shown = np.zeros(0, np.int64)     # test indices behind the selected cell
        self.mistakes_shown = np.zeros(0, np.int64)
        self.job = Job(self, on_done=self._after_run)
        self._rerun = False
        self._tried_key = None        # the key last evaluated by itself
        self._names_accepted = None   # (model's class names, dataset version) the user chose to evaluate anyway
        self._idle_text = "Press Evaluate to run the model on the whole test set."
        self._failure = None          # why the last evaluation failed: said until the next one starts
        self._build()
        state.resultsOutdated.connect(self._on_results_outdated)
        self.source.modelReplaced.connect(self.refresh_when_visible)    # the copy caught up with the state
        self.source.weightsChanged.connect(self.refresh_when_visible)
        self._show_status()

    # ----- layout -------------------------------------------------------------------------------
    def _build(self):
        self.run_button = QPushButton("Evaluate")
        self.run_button.setToolTip("Run the model on the whole test set (in the background)")
        self.cancel_button = explain(QPushButton("Cancel"), "Stop evaluating; the results shown stay as they were")
        self.cancel_button.hide()
        self.progress = explain(QProgressBar(), "How far evaluating the test set has got")
        self.progress.setMaximumWidth(240)
        self.progress.hide()
        self.damage = DamageControls()
        self._damage_timer = QTimer(self, singleShot=True, interval=DAMAGE_SETTLE_MS)
        self._damage_timer.timeout.connect(self._on_damage_change)
        self.damage.changed.connect(self._damage_timer.start)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.RichText)
        self.summary.setWordWrap(True)
        self.matrix = ConfusionMatrixView()
        self.per_class = ClassAccuracyBars()
        self.mistakes = TileGrid()
        self.cell = TileGrid()
        self.details = SampleDetails()
        self._inside_tip = self.details.inside.toolTip()
        self.mistakes_caption, self.cell_caption = QLabel(), QLabel("Click a cell of the confusion matrix.")
        self.tabs = QTabWidget()
        self.tabs.addTab(_captioned(self.mistakes_caption, self.mistakes), "Mistakes")
        self.tabs.addTab(_captioned(self.cell_caption, self.cell), "Selected cell")
        self.page = QWidget()
        left = QVBoxLayout()
        left.addWidget(_heading("Confusion matrix", "click a cell to see its images"))
        left.addWidget(self.matrix, 1)
        left.addWidget(_heading("Accuracy per class", "share of its test images classified right (how many)"))
        left.addWidget(self.per_class)
        right = QHBoxLayout()
        right.addWidget(self.tabs, 1)
        right.addWidget(self.details)
        body = QHBoxLayout(self.page)
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(left, 5)
        body.addSpacing(8)
        body.addLayout(right, 6)
        top = QHBoxLayout()
        for w in (self.run_button, self.cancel_button, self.progress, self.damage):
            top.addWidget(w)
        top.addSpacing(8)
        top.addWidget(self.summary, 1)
        top.addWidget(ExportButton(self, "evaluation.png"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.placeholder = QLabel("Results appear here: the test accuracy, the confusion matrix, "
                                  "accuracy per class and the most confident mistakes.")
        self.placeholder.setAlignment(Qt.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("color: #6b7280;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.page_area = scrolled(self.page)
        self.stack.addWidget(self.page_area)
        self.abstain = AbstainBar(self.state)
        layout.addLayout(top)
        layout.addWidget(self.abstain)
        layout.addWidget(self.stack, 1)
        self.run_button.clicked.connect(lambda: self.evaluate(ask=True))
        self.cancel_button.clicked.connect(self.cancel)
        self.matrix.cellClicked.connect(self.show_cell)
        self.mistakes.clicked.connect(lambda i: self._show_details(self.mistakes_shown[i]))
        self.cell.clicked.connect(lambda i: self._show_details(self.cell_shown[i]))
        self.details.lookInside.connect(self.inspectRequested)

    # ----- when to run ----------------------------------------------------------------------------
    @property
    def current(self):
        """Whether there are results and they hold for the model and data of now."""
        return self.result is not None and self.result_key == self.state.results_key()

    def _on_results_outdated(self):
        self._failure = None   # it was about the model or data before this change
        if self.result is not None and not self.current:
            self._clear()
        self._update_run_button()
        self._show_status()
        self.refresh_when_visible()

    def _on_damage_change(self):
        """Another damage: what is shown was measured on other images, so evaluate again (if it can)."""
        if self.damage.damage() != self.result_damage or self.job.running:
            self.evaluate(ask=False)

    def _clear(self):
        """Drop results of another model or data: nothing on screen may pass for the current model's."""
        self.result = self.result_key = self.images = self.result_damage = None
        self.cell_shown = self.mistakes_shown = np.zeros(0, np.int64)
        self._idle_text = EVALUATE_AGAIN
        self.placeholder.setText(EVALUATE_AGAIN)
        self.stack.setCurrentWidget(self.placeholder)

    def refresh(self):
        """Evaluate the current model and data once by itself, unless training is changing the weights."""
        self._dirty = False
        key = (self.source.version, self.state.dataset_version)
        if (self.result is None and not self.state.training and key == self.state.results_key()
                and key != self._tried_key):
            self.evaluate(ask=False)

    def _test_set(self, ask=False):
        """(x, y) of the test set, or None after saying why not; ``ask`` about a model of other classes."""
        ds, model = self.state.dataset, self.source.structure()   # whether it fits the data: no weights read
        if model is None:
            self._say("No model yet: load or build one.")
        elif ds is None or not len(ds.x_test):
            self._say("No test images: load a dataset in the Data panel.")
        elif self.state.training:
            self._say(TRAINING)
        else:
            found = transfer.check(model, ds)
            if not found or self._evaluate_anyway(found, ask):
                return ds.x_test, ds.y_test
            advice = ("Press Evaluate if they are the same classes under other names." if found.only_names else
                      f"Train it for {ds.name} on the Training tab (it offers a new output layer), or load the "
                      "data it was made for.")
            self.summary.setText(f"<b>Not evaluated</b>: {esc(found.describe())} {esc(advice)}")
        return None

    def _evaluate_anyway(self, found, ask):
        """Only the class names differ: go on if the user said so for this model and data (asking if ``ask``)."""
        if not found.only_names:
            return False
        accepted = (found.model_names, self.state.dataset_version)
        if accepted != self._names_accepted and ask and \
                ask_about_mismatch(self.window(), found, EVALUATE) == CONTINUE:
            self._names_accepted = accepted
        return accepted == self._names_accepted

    def evaluate(self, ask=True):
        """Start evaluating the current weights on the whole test set (restarts a running job)."""
        if self.job.running:
            self._rerun = True
            self.job.worker.stop()
            return
        data = self._test_set(ask)
        if data is None:
            return
        self._tried_key = key = (self.source.version, self.state.dataset_version)
        damage = self.damage.damage()
        self._failure = None
        worker = TaskWorker(labelled((key, damage), _evaluation(self.source.snapshot(), *data, damage)))
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._arrived)
        worker.failed.connect(self._on_failed)
        self.progress.setRange(0, 0)       # busy until the first report says how much there is
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self._update_run_button()
        damaged = "" if damage is None else f" damaged by {describe(damage)}"
        self._say(f"Evaluating {len(data[0]):,} test images{damaged}…")
        self.job.start(worker)

    def cancel(self):
        if self.job.running:
            self._rerun = False
            self._tried_key = None
            self.job.worker.stop()

    def _on_progress(self, done, total):
        self.progress.setRange(0, int(total))
        self.progress.setValue(int(done))

    def _arrived(self, found):
        """A result is shown only if the model and data it was computed from are still the current ones."""
        (key, damage), (result, images) = found
        if key == self.state.results_key():
            self.show_result(result, images, damage)

    def _after_run(self):
        self.progress.hide()
        self.cancel_button.hide()
        self._update_run_button()
        if self._rerun:
            self._rerun = False
            self.evaluate(ask=False)
        else:
            self._show_status()

    def _update_run_button(self):
        self.run_button.setEnabled(not self.job.running and not self.state.training)
        self.run_button.setToolTip(TRAINING if self.state.training else
                                   "Run the model on the whole test set (in the background)")

    @property
    def busy(self):
        return self.job.running

    # ----- showing --------------------------------------------------------------------------------
    @Slot(str, str)
    def _on_failed(self, message, _details):
        """A slot, not a lambda: a lambda would run in the worker's thread and touch widgets from there."""
        self._failure = f"Evaluation failed: {message}"
        self._say(self._failure)

    def _say(self, text):
        """A plain sentence in the summary line (which is rich text, for the result's bold figures)."""
        self.summary.setText(esc(text))

    def _show_status(self):
        if self.job.running:
            return
        if self.result is None:
            if self._failure:
                self._say(self._failure)
            elif self._test_set() is not None:
                self._say(self._idle_text)
            return
        r = self.result
        wrong = len(r.labels) - int(np.trace(r.confusion))
        damaged = "" if self.result_damage is None else \
            f" &nbsp; <span style='color:#c2410c'>damaged: {esc(describe(self.result_damage))}</span>"
        self.summary.setText(f"<b>Test accuracy {esc(percent(r.accuracy, 2))}</b>{damaged} &nbsp; "
                             f"loss {esc(f'{r.loss:.4f}')} &nbsp; {esc(f'{len(r.labels):,} images, {wrong:,} wrong')}")

    def show_result(self, result, images=None, damage=None):
        """Show ``result``, computed on ``images`` (the test images, damaged by ``damage``; by default clean)."""
        self.result, self.result_key = result, self.state.results_key()
        self.images = self.state.dataset.x_test if images is None else images
        self.result_damage = damage
        self.details.inside.setToolTip(self._inside_tip if damage is None else
                                       f"{self._inside_tip}. Inside shows the test image undamaged.")
        Abstention.of(self.state).publish(result.probs, result.labels, self.result_key,
                                          None if damage is None else describe(damage))
        names = self.source.class_names()
        self.names = names
        self.matrix.set_matrix(result.confusion, names)
        self.per_class.set_values(result.per_class, names, result.confusion.sum(axis=1))
        wrong = inspect.top_mistakes(result.probs, result.labels, len(result.labels))
        self.mistakes_shown = wrong[:MISTAKES_SHOWN]
        self.mistakes.set_tiles([self._thumb(i, f"{names[result.labels[i]]}→{names[result.preds[i]]} "
                                                f"{probability(result.probs[i, result.preds[i]])}")
                                 for i in self.mistakes_shown], scale=self._thumb_scale(), selectable=True)
        self.tabs.setTabText(0, f"Mistakes ({len(wrong):,})")
        shown = f"; the first {len(self.mistakes_shown)} shown" if len(wrong) > len(self.mistakes_shown) else ""
        seen = "" if damage is None else f" on the damaged images ({esc(describe(damage))})"
        self.mistakes_caption.setText(f"Wrong answers{seen}, most confident first{shown}. True → predicted, "
                                      "and the probability given to the wrong class.")
        self.cell.set_tiles([])
        self.cell_shown = np.zeros(0, np.int64)
        self.tabs.setTabText(1, "Selected cell")
        self.cell_caption.setText("Click a cell of the confusion matrix to see its images.")
        self.tabs.setCurrentIndex(0)
        self.stack.setCurrentWidget(self.page_area)
        self._show_status()
        if len(self.mistakes_shown):
            self.mistakes.set_selected(0)
            self._show_details(self.mistakes_shown[0])
        self.mistakesFound.emit(wrong)
        self.evaluated.emit(result)

    def show_cell(self, true_class, pred_class):
        """Show the test images the model put in cell (true, predicted), most confident first."""
        r = self.result
        idx = inspect.cell_indices(r.labels, r.preds, true_class, pred_class)
        idx = idx[np.argsort(-r.probs[idx, pred_class], kind="stable")]
        self.cell_shown = idx[:CELL_IMAGES_SHOWN]
        self.matrix.selected = (true_class, pred_class)
        self.matrix.update()
        self.cell.set_tiles([self._thumb(i, f"#{i} {probability(r.probs[i, pred_class])}") for i in self.cell_shown],
                            scale=self._thumb_scale(), selectable=True)
        true_name, pred_name = self.names[true_class], self.names[pred_class]
        self.tabs.setTabText(1, f"{true_name} → {pred_name} ({len(idx):,})")
        more = f"; the first {CELL_IMAGES_SHOWN} shown" if len(idx) > CELL_IMAGES_SHOWN else ""
        self.cell_caption.setText(f"{esc(f'{len(idx):,}')} test images of true class <b>{esc(true_name)}</b> "
                                  f"predicted as <b>{esc(pred_name)}</b>, most confident first{more}.")
        self.tabs.setCurrentIndex(1)
        if len(self.cell_shown):
            self.cell.set_selected(0)
            self._show_details(self.cell_shown[0])

    def _thumb_scale(self):
        return max(1, THUMB_PX // max(self.state.dataset.x_test.shape[2:]))

    def _thumb(self, i, title):
        return image_tile(self.images[i], f"test image #{i}", title)

    def _show_details(self, i):
        r = self.result
        self.details.show_sample(i, self.images[i], self.names[r.labels[i]],
                                 self.names[r.preds[i]], r.probs[i], self.names)


def _heading(title, note):
    label = QLabel(f"<b>{esc(title)}</b> &nbsp; <span style='color:#6b7280'>{esc(note)}</span>")
    label.setTextFormat(Qt.RichText)
    return label


def _captioned(caption, grid):
    """A tab page: a line saying what the grid shows, over the grid in a scroll area."""
    caption.setWordWrap(True)
    caption.setTextFormat(Qt.RichText)
    area = scrolled(grid)
    page = QWidget()
    column = QVBoxLayout(page)
    column.setContentsMargins(4, 4, 0, 0)
    column.addWidget(caption)
    column.addWidget(area, 1)
    return page
