"""The training set as a whole: the average image of each class, and a histogram of its pixel values.

Input: ``show_dataset(ds)`` (what the Data tab loaded, or its per-class subset).
Both come from one ``datasets.summarise`` pass, on a ``TaskWorker`` with a
progress bar and Cancel (60,000 MNIST images take a second or two), and only
while the view can be seen. A summary computed for a dataset that has since
been replaced is dropped, and the new one is computed instead.
"""
import numpy as np
from PySide6.QtWidgets import (QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout,
                               QWidget)

from ..format import percent
from ..tips import explain
from ..worker import Job, TaskWorker
from .lazy import LazyRefresh
from .pixel_histogram import PixelHistogram
from .sample_grid import SampleGrid

MEANS_NOTE = ("Each class's training images averaged: sharp where its images agree, blurred where they "
              "vary. Two classes whose averages look alike are the ones to expect mixed up.")
HISTOGRAM_NOTE = ("How bright the training pixels are (log scale). Inputs should lie in 0-1; a tall bar at 0 "
                  "is background, one at 1 solid ink, the bins between edges and shades.")


class DataSummaryView(LazyRefresh, QWidget):
    """Two boxes, one above the other: class means, pixel histogram (with one-line explanations)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.dataset = self.summary = None
        self._summarised = None          # the dataset ``summary`` belongs to
        self._cancelled = False          # the user stopped it: not restarted until asked
        self.job = Job(self, on_done=self._on_job_done)
        self.means = SampleGrid(columns=None, empty="Load a dataset to see the average image of each class")
        self.histogram = PixelHistogram()
        self.histogram_line = _note("")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.boxes = {"Average image of each class": self._box(MEANS_NOTE, self.means, self._progress_row()),
                      "Pixel values": self._box(HISTOGRAM_NOTE, self.histogram, self.histogram_line)}
        for stretch, box in zip((3, 2), self.boxes.values()):
            layout.addWidget(box, stretch)
        self._name_boxes("training set")

    def _box(self, note, view, extra):
        box = explain(QGroupBox(), note)
        column = QVBoxLayout(box)
        column.addWidget(_note(note))
        column.addWidget(view, 1)
        column.addWidget(extra)
        return box

    def _name_boxes(self, of):
        for title, box in self.boxes.items():
            box.setTitle(f"{title} ({of})")

    def _progress_row(self):
        """While averaging: a progress bar and Cancel; once cancelled: a button to average after all."""
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("Averaging the images… %p%")
        explain(self.progress, "Averaging the training images of each class and counting their pixel values")
        self.cancel_button = _button("Cancel", "Stop averaging the images (the rest of the tab is unaffected)",
                                     self.cancel)
        self.again_button = _button("Average the images", "Compute the class averages and the pixel histogram "
                                    "of the training set (a second or two for 60,000 images)", self.resume)
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        for widget in (self.progress, self.cancel_button, self.again_button):
            line.addWidget(widget, widget is self.progress)
        row.hide()
        self.progress_row = row
        return row

    # ----- computing -----------------------------------------------------------------------
    def show_dataset(self, ds):
        """Summarise ``ds`` (now, or when the view is next seen); None clears the view. The dataset
        already shown (the tab redrawn after another source was picked) is not averaged again."""
        if ds is self.dataset:
            return
        self.dataset, self._cancelled = ds, False
        self._name_boxes("training subset" if ds is not None and ds.subset else "training set")
        self._show_nothing("Averaging the training images…" if ds is not None else None)
        if ds is None:
            return
        if self.job.running:
            self.job.worker.stop()       # its result is for the old data; _on_job_done starts the new
        else:
            self.refresh_when_visible()

    def refresh(self):
        self._dirty = False
        ds = self.dataset
        if ds is None or ds is self._summarised or self.job.running or self._cancelled:
            return
        worker = TaskWorker(lambda progress: (ds, _summarise(ds, progress)))
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_summarised)
        self.job.start(worker)
        self.progress.setValue(0)
        self._show_progress(True)

    def cancel(self):
        """Stop averaging; the box then offers to average after all."""
        if self.job.running:
            self._cancelled = True
            self.job.worker.stop()

    def resume(self):
        self._cancelled = False
        self.refresh()

    def _on_progress(self, done, total):
        self.progress.setValue(round(1000 * done / total) if total else 0)

    def _on_summarised(self, result):
        ds, summary = result
        if ds is not self.dataset:
            return                       # replaced meanwhile: _on_job_done computes the new one
        self._summarised, self.summary = ds, summary
        self.means.set_samples(summary.means, [_count_label(n, c) for n, c in zip(ds.class_names, summary.counts)])
        self.histogram.set_histogram(summary.histogram, summary.edges)
        self.histogram_line.setText(_extremes(summary))

    def _show_nothing(self, hint):
        """Drop what was shown (it was another dataset's); ``hint`` says why the views are empty."""
        self._summarised = self.summary = None
        self.means.empty = hint or "Load a dataset to see the average image of each class"
        self.means.set_samples([], [])
        self.histogram.clear_histogram()
        self.histogram_line.setText("")

    def _on_job_done(self):
        self._show_progress(False)
        if self._cancelled:
            self.means.empty = "Averaging cancelled."
            self.means.update()
        elif self.dataset is not self._summarised:
            self.refresh_when_visible()

    def _show_progress(self, running):
        for widget in (self.progress, self.cancel_button):
            widget.setVisible(running)
        self.again_button.setVisible(not running and self._cancelled)
        self.progress_row.setVisible(running or self._cancelled)


def _summarise(ds, progress):
    from core import datasets
    return datasets.summarise(ds.x_train, ds.y_train, ds.num_classes, progress=progress)


def _count_label(name, count):
    return f"{name} ({count:,})"


def _extremes(summary):
    """One line of numbers a learner can check against the picture: the darkest and brightest bins' shares."""
    total = max(int(summary.histogram.sum()), 1)
    low, high = summary.histogram[:, 0].sum() / total, summary.histogram[:, -1].sum() / total
    width = summary.edges[1]
    brightness = np.average(summary.means.mean(axis=(1, 2, 3)), weights=np.maximum(summary.counts, 1e-9))
    return (f"{percent(low)} of pixel values are below {width:.2f} (background), {percent(high)} above "
            f"{1 - width:.2f}; average pixel value {brightness:.2f}.")


def _button(text, tip, slot):
    button = explain(QPushButton(text), tip)
    button.clicked.connect(slot)
    return button


def _note(text):
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color:#4b5563;")
    return label
