"""Lab > Confidence: what saying "I don't know" buys, how far to trust the model's confidence, and how to fix it.

Inputs: the model through a ``ModelSource``; the test set's probabilities from
``gui.abstention`` (Evaluation's, or evaluated here on a worker when the page
is seen without them); ``state.dataset``'s training images for the temperature.
Output: "Keep this temperature" sets the fitted temperature on the current
model (``core.surgery.set_temperature``), marked unsaved so Save keeps it.
Nothing else of the model changes, and nothing changes before that click.

The temperature is fitted on the images the Training tab holds out for
validation (the same share of each class, the same seed): not on the test
set, which it would then be judged on. A model trained on every training
image (as the pretrained ones were) has seen them, and the page says so.
"""
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from core import inspect
from core.calibration import calibrate_model, coverage_curve, reliability
from core.datasets.split import stratified_indices
from core.surgery import set_temperature

from ..abstention import Abstention
from ..format import counted, esc, percent
from ..hover_help import explain
from ..state import ModelSource
from ..views.abstain import ThresholdControl, abstain_summary
from ..views.lazy import LazyRefresh
from ..worker import Job, TaskWorker, labelled
from .readiness import why_not

# The share of each class the Training tab holds out by default (gui.panels.data's "validation" setting; not
# imported from there, because gui.panels imports the Lab's pages).
VALIDATION = 0.1
BINS = 10
CURVE = "#2563eb"
MARK = "#ea580c"
HINT = "#6b7280"
INTRO = ("A model's confidence is its top probability. Below the threshold it says \"I don't know\": fewer "
         "answers, more of them right (left). A calibrated model is right as often as it is sure: its bars "
         "reach the diagonal (right). Temperature scaling divides the class scores by one number T to make it so, "
         "without changing any answer.")


class ConfidencePage(LazyRefresh, QWidget):
    """Accuracy against coverage, a reliability diagram, and temperature scaling, for the current model."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.source = ModelSource(state, self)
        self.abstention = Abstention.of(state)
        self.job = Job(self, on_done=self._after_job)
        self.fitted = None            # (core.calibration.Calibration, results key it was fitted under)
        self._failures, self._failure = None, None   # the label a job's failure goes to, and what it says
        self._dirty = True
        self._build()
        self.abstention.probabilitiesChanged.connect(self._show_probabilities)
        self.abstention.thresholdChanged.connect(self._show_threshold)
        state.resultsOutdated.connect(self._on_results_outdated)
        self._show_probabilities()

    # ----- layout -------------------------------------------------------------------------------
    def _build(self):
        intro = QLabel(INTRO, wordWrap=True)
        intro.setStyleSheet(f"color: {HINT};")
        self.control = ThresholdControl(self.state)
        self.summary = QLabel(textFormat=Qt.RichText, wordWrap=True)
        self.coverage_caption, self.reliability_caption = QLabel(wordWrap=True), QLabel(wordWrap=True)
        plots = QHBoxLayout()
        for plot, caption in ((self._coverage_plot(), self.coverage_caption),
                              (self._reliability_plot(), self.reliability_caption)):
            column = QVBoxLayout()
            column.addWidget(plot, 1)
            column.addWidget(caption)
            plots.addLayout(column, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(intro)
        layout.addLayout(self._top_row())
        layout.addLayout(plots, 1)
        layout.addWidget(self._temperature_box())

    def _top_row(self):
        """The threshold, what it answers, and the test set's Evaluate, progress and Cancel."""
        self.evaluate_button = QPushButton("Evaluate test set")
        self.evaluate_button.setToolTip("Run the model on the whole test set in the background (Evaluation does "
                                        "the same; either one's probabilities serve both)")
        self.evaluate_button.clicked.connect(self.evaluate)
        self.progress = explain(QProgressBar(maximumWidth=220), "How far evaluating the test set has got")
        self.progress.hide()
        self.cancel_button = explain(QPushButton("Cancel"), "Stop evaluating the test set")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel)
        top = QHBoxLayout()
        top.addWidget(self.control, 2)
        top.addSpacing(12)
        top.addWidget(self.summary, 4)
        for w in (self.evaluate_button, self.progress, self.cancel_button):
            top.addWidget(w)
        return top

    def _coverage_plot(self):
        self.coverage_plot = _plot("Accuracy against coverage", "share of test images answered (%)",
                                   "accuracy on those (%)")
        self.curve = self.coverage_plot.plot(pen=pg.mkPen(CURVE, width=2))
        self.mark = pg.ScatterPlotItem(size=11, brush=MARK, pen=pg.mkPen("w", width=1.5))
        self.coverage_plot.addItem(self.mark)
        self.coverage_plot.setToolTip("Each point is one threshold: how many test images the model answers at it, "
                                      "and how many of those are right. The orange dot is the threshold set above.")
        return self.coverage_plot

    def _reliability_plot(self):
        self.reliability_plot = _plot("Reliability diagram", "confidence (%)", "accuracy (%)")
        self.reliability_plot.plot([0, 100], [0, 100], pen=pg.mkPen("#9ca3af", width=1.5, style=Qt.DashLine))
        self.bars = pg.BarGraphItem(x=[], height=[], width=100 / BINS * 0.9, brush=(37, 99, 235, 150), pen=CURVE)
        self.reliability_plot.addItem(self.bars)
        self.counts = [pg.TextItem(color="#444", anchor=(0.5, 1)) for _ in range(BINS)]   # images per bar
        for label in self.counts:
            self.reliability_plot.addItem(label)
        self.reliability_plot.setRange(xRange=(0, 100), yRange=(0, 108), padding=0.02)   # room for the counts
        self.reliability_plot.setToolTip("Test images binned by confidence; each bar is how many in its bin are "
                                         "right, and the number over it how many images the bin holds (a bar of a "
                                         "few images says little). On the dashed diagonal the model is as right as "
                                         "it is sure; below it, over-confident.")
        return self.reliability_plot

    def _temperature_box(self):
        box = QGroupBox("Temperature scaling")
        self.fit_button = QPushButton("Fit temperature on validation data")
        self.fit_button.setToolTip(f"Find the T that makes softmax(scores / T) honest on the "
                                   f"{percent(VALIDATION, 0)} of each class's training images the Training tab "
                                   "holds out for validation (in the background)")
        self.fit_button.clicked.connect(self.fit)
        self.keep_button = QPushButton("Keep this temperature")
        self.keep_button.setToolTip("Set the fitted T on the current model: it is then unsaved, and Save keeps it "
                                    "in the model file. Its weights and answers do not change.")
        self.keep_button.clicked.connect(self.keep)
        self.temperature_line = QLabel(wordWrap=True, textFormat=Qt.RichText)
        row = QHBoxLayout(box)
        row.addWidget(self.fit_button)
        row.addWidget(self.temperature_line, 1)
        row.addWidget(self.keep_button)
        return box

    # ----- the test probabilities -----------------------------------------------------------------
    def refresh(self):
        """Seen without test probabilities for this model and data: evaluate them once, by itself."""
        self._dirty = False
        if self.abstention.probabilities() is None and not self.job.running and self._test_set() is not None:
            self.evaluate()

    def _on_results_outdated(self):
        self._show_probabilities()
        model = self.source.structure()   # its meta: no snapshot changes it
        kept = model is not None and self.fitted is not None and \
            model.meta.get("temperature", 1) == self.fitted[0].temperature
        if self.fitted is not None and self.fitted[1] != self.state.results_key() and not kept:
            self.fitted = None            # fitted for another model or data
        self._show_temperature()
        if self.abstention.probabilities() is None:
            self.refresh_when_visible()

    def _test_set(self):
        """(x, y) of the test set, or None after saying why it cannot be evaluated here."""
        ds = self.state.dataset
        why = why_not(self.source.structure(), ds, self.state.training, "this page fills in")
        if why:
            self.summary.setText(f"<span style='color:{HINT}'>{esc(why)}</span>")
            return None
        return ds.x_test, ds.y_test

    def evaluate(self):
        data = self._test_set()
        if data is not None and not self.job.running:
            model = self.source.snapshot()
            self._start(lambda progress: inspect.evaluate_predictions(model, *data, progress=progress),
                        self._evaluated, f"Evaluating {counted(len(data[0]), 'test image')}…", self.summary)

    @Slot(object)
    def _evaluated(self, found):
        key, result = found
        if key == self.state.results_key():
            self.abstention.publish(result.probs, result.labels, key)

    def _show_probabilities(self):
        found = self.abstention.probabilities()
        self.evaluate_button.setVisible(found is None and not self.job.running)
        if found is None:
            self.curve.setData([], [])
            self.mark.setData([], [])
            self.bars.setOpts(x=[], height=[])
            for label in self.counts:
                label.setText("")
            self.coverage_caption.setText("")
            self.reliability_caption.setText("")
            if not self.job.running and self._test_set() is not None:
                self.summary.setText(f"<span style='color:{HINT}'>Not evaluated yet: press Evaluate test set "
                                     "(it runs by itself while this page is open).</span>")
            return
        probs, labels = found
        _, coverage, accuracy = coverage_curve(probs, labels)
        self.curve.setData(np.r_[0, coverage] * 100, np.r_[accuracy[0], accuracy] * 100)
        self._show_reliability(reliability(probs, labels, BINS), len(labels))
        self._show_threshold()

    def _show_reliability(self, r, total):
        filled = r.counts > 0
        centres = (r.edges[:-1] + r.edges[1:]) / 2 * 100
        self.bars.setOpts(x=centres[filled], height=r.accuracy[filled] * 100)
        for label, x, acc, n in zip(self.counts, centres, r.accuracy, r.counts):
            label.setText(f"{n:,}" if n else "")
            label.setPos(x, acc * 100 if n else 0)
        top = int(np.argmax(r.counts))
        self.reliability_title = f"Reliability diagram: expected calibration error {percent(r.ece, 2)}"
        self.reliability_plot.setTitle(esc(self.reliability_title), color="#222", size="10pt")
        self.reliability_caption.setText(
            f"Expected calibration error (ECE) {percent(r.ece, 2)}: the gap between confidence and accuracy, "
            f"averaged over the test images. {r.counts[top]:,} of {total:,} are "
            f"{percent(r.edges[top], 0)}–{percent(r.edges[top + 1], 0)} sure.")

    def _show_threshold(self, _threshold=None):
        answered = self.abstention.answered()
        if answered is None:
            return
        damaged = self.abstention.damage
        self.summary.setText(abstain_summary(answered, len(answered.answered)) + (
            "" if damaged is None else f" <span style='color:#c2410c'>(test images damaged in Evaluation: "
                                       f"{esc(damaged)})</span>"))
        if answered.coverage > 0:
            self.mark.setData([answered.coverage * 100], [answered.accuracy * 100])
        else:
            self.mark.setData([], [])
        self.coverage_caption.setText(
            f"At {percent(self.abstention.threshold)} (the orange dot) it answers {percent(answered.coverage)} "
            "of the test images. Move the threshold to slide along the curve.")

    # ----- temperature ----------------------------------------------------------------------------
    def fit(self):
        """Fit T on the Training tab's validation images, on a worker, with the error before and after."""
        ds, model = self.state.dataset, self.source.snapshot()
        if model is None or ds is None or not len(ds.x_train):
            self.temperature_line.setText(esc("Load a model and a dataset with training images first."))
            return
        if self.job.running:
            return

        def task(progress):
            _keep, held = stratified_indices(ds.y_train, VALIDATION, seed=0)   # Training's split (seed 0)
            return calibrate_model(model, ds.x_train[held], ds.y_train[held], BINS, progress=progress)
        self._start(task, self._fitted, f"Fitting the temperature on {percent(VALIDATION, 0)} of the training "
                    "images…", self.temperature_line)

    @Slot(object)
    def _fitted(self, found):
        key, calibration = found
        if key == self.state.results_key():
            self.fitted = (calibration, key)
            self._show_temperature()

    def keep(self):
        """Set the fitted T on the current model (a change the user asked for): unsaved until saved."""
        if not self._can_keep():
            return
        live = self.state.model
        live.meta = set_temperature(live, self.fitted[0].temperature).meta   # checked there; weights untouched
        self.state.set_model(live, self.state.model_path, saved=False)

    def _can_keep(self):
        return (self.fitted is not None and self.fitted[1] == self.state.results_key() and not self.state.training
                and not self.job.running)

    def _show_temperature(self):
        model = self.source.structure()
        now = model.meta.get("temperature", 1) if model is not None else 1
        current = (f"The model's temperature is {esc(f'{now:.3g}')}." if now != 1 else
                   "The model has no temperature (T = 1).")
        if self.fitted is not None:
            c = self.fitted[0]
            where = f"{percent(VALIDATION, 0)} of each class's training images, held out as the Training tab does"
            current = (f"<b>T = {esc(f'{c.temperature:.3g}')}</b> fitted on {esc(where)} "
                       f"({c.before.counts.sum():,}): calibration error there <b>{esc(percent(c.before.ece, 2))} → "
                       f"{esc(percent(c.after.ece, 2))}</b>. If the model was trained on them (the pretrained ones "
                       f"were), they flatter it. {current}")
        self.temperature_line.setText(current)
        self.keep_button.setEnabled(self._can_keep())
        self.fit_button.setEnabled(not self.job.running and not self.state.training)

    # ----- the worker -----------------------------------------------------------------------------
    def _start(self, fn, on_finished, what, label):
        """Run ``fn(progress)`` on a worker, saying ``what`` in ``label``; its result goes to ``on_finished``
        as (results key of the snapshot, result), a failure to ``label``."""
        self._failures, self._failure = label, None
        worker = TaskWorker(labelled((self.source.version, self.state.dataset_version), fn))  # the snapshot's key
        worker.progress.connect(self._on_progress)
        worker.finished.connect(on_finished)
        worker.failed.connect(self._on_failed)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self.job.start(worker)
        self._show_temperature()
        self.evaluate_button.hide()
        label.setText(esc(what))

    @Slot(float, float)
    def _on_progress(self, done, total):
        self.progress.setRange(0, int(total))
        self.progress.setValue(int(done))

    @Slot(str, str)
    def _on_failed(self, message, _details):
        self._failure = f"<span style='color:#d9534f'>Failed: {esc(message)}</span>"   # said once the job ends

    def cancel(self):
        if self.job.running:
            self.job.worker.stop()

    def _after_job(self):
        self.progress.hide()
        self.cancel_button.hide()
        self._show_temperature()
        self._show_probabilities()
        if self._failure:
            self._failures.setText(self._failure)


def _plot(title, x_label, y_label):
    plot = pg.PlotWidget(background="w")
    plot.setMinimumHeight(220)
    plot.setTitle(esc(title), color="#222", size="10pt")
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.25)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).setTextPen("#444")
        plot.getAxis(axis).setPen("#999")
    return plot
