"""Test accuracy before and after a surgery: a sample of the test set first, then all of it, on a worker.

A change should show its effect at once, but the whole MNIST test set takes
seconds to run through LeNet-5. So each model is measured on a fixed random
sample of ``SAMPLE`` test images first (well under a second), then on the
whole set. Figures are kept per model and dataset, so the model before the
changes is measured once, and undo shows figures already known. A new change
stops the measuring under way and starts on the new model: nothing waits
behind an outdated one. Figures of another dataset are never shown.
"""
import weakref

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from core import inspect
from core.datasets.subset import sample_indices

from ..format import counted, esc, percent
from ..worker import Job, TaskWorker, labelled

SAMPLE = 1000


def _accuracy(model, key, x, y):
    """A task for a ``TaskWorker``: ((model, key), accuracy on (x, y)), measured on a copy only the worker uses
    and labelled with what it measured (``labelled``)."""
    copy = model.copy()
    return labelled((model, key), lambda progress: inspect.evaluate_predictions(copy, x, y, progress=progress).accuracy)


class AccuracyComparison(QWidget):
    """'Test accuracy before → after', measured in the background with progress and Cancel."""

    def __init__(self, parent=None):
        super().__init__(parent)
        # model -> {(dataset version, images): accuracy}; a model dropped from the history takes its figures along
        self.figures = weakref.WeakKeyDictionary()
        self._queue = []         # (model, images) still to measure
        self._running = None     # the (model, dataset version, images) being measured
        self._pair = self._data = None
        self._reason = "No model yet."
        self.job = Job(self, on_done=self._next)
        self._build()

    def _build(self):
        self.summary = QLabel(textFormat=Qt.RichText, wordWrap=True)
        self.summary.setToolTip("The share of test images the model classifies right, before your changes and "
                                "after them. A sample of the test set answers first, then the whole set.")
        self.progress = QProgressBar(visible=False, maximumHeight=14, textVisible=False)
        self.progress.setToolTip("Measuring the accuracy on the test set, in the background")
        self.cancel_button = QPushButton("Cancel", visible=False)
        self.cancel_button.setToolTip("Stop measuring; the next change measures again")
        self.cancel_button.clicked.connect(self.cancel)
        for w in (self.progress, self.cancel_button):     # the views below stay put when they hide
            policy = w.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            w.setSizePolicy(policy)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.summary)
        column.addLayout(row)

    # ----- what the page calls --------------------------------------------------------------
    def compare(self, before, after, data):
        """Measure ``before`` and ``after`` (models nobody changes) on ``data``: (dataset version, x, y).

        Whatever is being measured for an older pair stops; figures known already show at once.
        """
        self._pair, self._data = (before, after), data
        self._queue = [(model, n) for n in self._sizes() for model in dict.fromkeys(self._pair)
                       if self._known(model, n) is None]
        if self.job.running:
            self.job.worker.stop()      # its thread ends, then ``_next`` starts the queue
        else:
            self._next()
        self._show()

    def unavailable(self, reason):
        """Nothing can be measured (no model, no test set, a model of other data): say why."""
        self._pair, self._data, self._queue, self._reason = None, None, [], reason
        if self.job.running:
            self.job.worker.stop()
        self._show()

    def cancel(self):
        self._queue = []
        if self.job.running:
            self.job.worker.stop()
        self._show()

    def figure(self, model):
        """The best figure known for ``model`` on the current data: (accuracy, images) or None."""
        for n in reversed(self._sizes()):
            if self._known(model, n) is not None:
                return self._known(model, n), n
        return None

    # ----- measuring ------------------------------------------------------------------------
    def _sizes(self):
        """The numbers of test images measured, smallest first: the sample, then all of them."""
        total = len(self._data[1]) if self._data else 0
        return [SAMPLE, total] if total > SAMPLE else [total] if total else []

    def _known(self, model, n):
        """The accuracy of ``model`` on ``n`` images of the current data, or None."""
        return self.figures.get(model, {}).get((self._data[0], n))

    def _next(self):
        """Start the next measurement waiting, if any (the job has no thread running now)."""
        self._running = None
        if not self._queue:
            self._show()
            return
        model, n = self._queue.pop(0)
        _version, x, y = self._data
        part = sample_indices(len(x), n) if n < len(x) else slice(None)   # (the whole set: no copy)
        self._running = model, (self._data[0], n)
        worker = TaskWorker(_accuracy(*self._running, x[part], y[part]))
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._arrived)
        worker.failed.connect(self._on_failed)
        self.progress.setRange(0, n)
        self.progress.setValue(0)
        self.job.start(worker)
        self._show()

    @Slot(float, float)
    def _on_progress(self, done, _total):
        self.progress.setValue(int(done))

    @Slot(object)
    def _arrived(self, result):
        (model, key), accuracy = result
        self.figures.setdefault(model, {})[key] = float(accuracy)

    @Slot(str, str)
    def _on_failed(self, message, _details):
        self._queue = []
        self._reason = f"Could not measure the accuracy: {message}"
        self._pair = None

    # ----- showing --------------------------------------------------------------------------
    def _show(self):
        busy = self.job.running and self._running is not None
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.summary.setText(self._text())

    def _text(self):
        if self._pair is None:
            return esc(self._reason)
        before, after = self._pair
        total = len(self._data[1])
        both = [n for n in self._sizes() if self._known(before, n) is not None and self._known(after, n) is not None]
        if not both:
            if total <= SAMPLE:
                return f"Measuring the test accuracy on all {counted(total, 'test image')}…"
            return f"Measuring the test accuracy on {counted(SAMPLE, 'test image')} first, then on all {total:,}…"
        n = both[-1]
        old, new = self._known(before, n), self._known(after, n)
        scope = f"on all {counted(total, 'test image')}" if n == total else \
            f"on a sample of {counted(n, 'test image')}{'; the whole set follows…' if self.job.running else ''}"
        if before is after:
            return f"<b>Test accuracy {esc(percent(old, 2))}</b> &nbsp; {esc(scope)}. No change made yet."
        return (f"<b>Test accuracy {esc(percent(old, 2))} → {esc(percent(new, 2))}</b> "
                f"({100 * (new - old):+.2f} points) &nbsp; {esc(scope)}")
