"""Lab > Surgery: switch off a filter or a neuron, rescale it, prune or shake the weights, and see what breaks.

Every change is made to the page's own copy of the model (a
``core.surgery_history.SurgeryHistory`` over a ``ModelSource`` snapshot), so
the model in the app is never changed by an experiment. Each change shows at
once the answer for the draw pad's drawing before and after (a test image
while nothing is drawn), and the test accuracy before and after, measured on a
worker (``AccuracyComparison``). The list of changes can be undone (Ctrl+Z) or
reset; the edited copy is kept only when the user saves it as a new model or
makes it the app's model (asking first about unsaved work, as opening a model
does). When the app's model changes (another model, training), the changes
made to the old one no longer apply: the page starts again from the new one
and says so.
"""
from pathlib import Path

import numpy as np

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (QFileDialog, QGridLayout, QHBoxLayout, QLabel, QListWidget, QMessageBox, QPushButton,
                               QVBoxLayout, QWidget)

from core.errors import ModelFileError
from core.surgery_history import SurgeryHistory

from .. import unsaved
from ..format import probability
from ..messages import show_error
from ..model_files import model_name
from ..settings import documents_folder
from ..state import ModelSource
from ..views.grid import image_qimage
from ..views.lazy import LazyRefresh
from ..views.probabilities import ProbabilityBars
from .readiness import training_note, why_not
from .surgery_accuracy import AccuracyComparison
from .surgery_controls import ModelControls, UnitControls

INPUT_PX = 84
INTRO = ("Operate on a copy of the model: switch off a filter or a neuron, change its weights or bias, prune or "
         "shake all the weights, and watch the answer and the test accuracy change. The model in the app stays "
         "as it is unless you save the copy or use it in the app.")
WAITING = "operate on the model"
TRAINING = training_note(WAITING)


class SurgeryPage(LazyRefresh, QWidget):
    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.source = ModelSource(state, self)
        self.history = None
        self._drawing = None
        self._build()
        self.source.modelReplaced.connect(self._rebase)
        self.source.weightsChanged.connect(self._rebase)
        state.inputChosen.connect(self._on_drawing)
        state.datasetChanged.connect(lambda _ds: self._changed())
        state.trainingStarted.connect(self._changed)
        state.trainingFinished.connect(self._changed)
        self._rebase()

    # ----- building -------------------------------------------------------------------------
    def _build(self):
        self.unit_controls, self.model_controls = UnitControls(), ModelControls()
        for controls in (self.unit_controls, self.model_controls):
            controls.stepChosen.connect(self.apply)
        self.changes = QListWidget(wordWrap=True)
        self.changes.setToolTip("The changes made to the copy, first at the top. Undo takes back the last one.")
        self.undo_button = self._button("Undo", "Take back the last change (Ctrl+Z)", self.undo)
        self.reset_button = self._button("Reset", "Take back every change: back to the app's model", self.reset)
        self.save_button = self._button("Save as new model…", "Write the edited copy to a new model folder; the "
                                        "model in the app stays as it is", self.save_as)
        self.use_button = self._button("Use in the app", "Make the edited copy the app's model (Draw, Inside, "
                                       "Evaluation, Training then use it)", self.use_in_app)
        undo = QShortcut(QKeySequence.Undo, self)
        undo.setContext(Qt.WidgetWithChildrenShortcut)    # Ctrl+Z on the page; the draw pad keeps its own
        undo.activated.connect(self.undo)
        self.status = QLabel(wordWrap=True, textFormat=Qt.PlainText)
        self.accuracy = AccuracyComparison()
        self.input_image = QLabel(alignment=Qt.AlignCenter)
        self.input_image.setFixedSize(INPUT_PX, INPUT_PX)
        self.input_image.setToolTip("The input both models answer: the drawing from the Draw tab, or a test image")
        self.input_caption = QLabel(wordWrap=True, textFormat=Qt.PlainText)
        self.before_bars, self.after_bars = ProbabilityBars(), ProbabilityBars()
        self.before_bars.setToolTip("The probabilities the model in the app gives this input")
        self.after_bars.setToolTip("The probabilities the edited copy gives this input")
        self._lay_out()

    def _button(self, text, tip, slot):
        button = QPushButton(text)
        button.setToolTip(tip)
        button.setStatusTip(tip)
        button.clicked.connect(slot)
        return button

    def _lay_out(self):
        intro = QLabel(INTRO, wordWrap=True)
        controls = QVBoxLayout()
        controls.addWidget(self.unit_controls)
        controls.addWidget(self.model_controls)
        controls.addStretch(1)
        history = QVBoxLayout()
        history.addWidget(QLabel("<b>Changes made to the copy</b>"))
        history.addWidget(self.changes, 1)
        undo_row = QHBoxLayout()
        undo_row.addWidget(self.undo_button)
        undo_row.addWidget(self.reset_button)
        history.addLayout(undo_row)
        history.addWidget(self.save_button)
        history.addWidget(self.use_button)
        history.addWidget(self.status)
        the_input = QHBoxLayout()
        the_input.addWidget(self.input_image)
        the_input.addWidget(self.input_caption, 1)
        effect = QGridLayout()
        effect.addWidget(self.accuracy, 0, 0, 1, 2)
        effect.addLayout(the_input, 1, 0, 1, 2)
        effect.addWidget(QLabel("<b>Before</b>: the model in the app"), 2, 0)
        effect.addWidget(QLabel("<b>After</b>: the edited copy"), 2, 1)
        effect.addWidget(self.before_bars, 3, 0)
        effect.addWidget(self.after_bars, 3, 1)
        effect.setRowStretch(3, 1)
        columns = QHBoxLayout()
        columns.addLayout(controls, 0)
        columns.addLayout(history, 0)
        columns.addLayout(effect, 1)
        page = QVBoxLayout(self)
        page.addWidget(intro)
        page.addLayout(columns, 1)
        self.changes.setMinimumWidth(220)
        for bars in (self.before_bars, self.after_bars):
            bars.setMinimumWidth(220)     # ten classes fit; the window must fit a 1366x768 screen

    # ----- the copy and its changes ---------------------------------------------------------
    def _rebase(self):
        """Start again from the app's model as it is now: changes made to the old one no longer apply."""
        if self.state.training and self.history is not None:
            return      # the page waits, disabled, for the run's end: its weights replace the copy then
        dropped = len(self.history) if self.history is not None else 0
        model = self.source.snapshot()
        self.history = SurgeryHistory(model) if model is not None else None
        self.status.setText(f"The model in the app changed, so the {dropped} change{'s' * (dropped != 1)} made to "
                            f"the old one {'were' if dropped != 1 else 'was'} dropped." if dropped else "")
        self._changed()

    def apply(self, step):
        """Make ``step`` on the edited copy; a step the model refuses is said, and changes nothing."""
        if self.history is None or self.state.training:
            return
        try:
            self.history.apply(step)
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText("")
        self._changed()

    def undo(self):
        """Take back the last change (the button, or Ctrl+Z anywhere on the page)."""
        if self.history is not None and not self.state.training and self.history.undo() is not None:
            self.status.setText("")
            self._changed()

    def reset(self):
        if self.history is not None and len(self.history) and not self.state.training:
            self.history.reset()
            self.status.setText("")
            self._changed()

    def _changed(self):
        """Show the current copy: its changes, its controls, its answer and its accuracy."""
        busy, model = self.state.training, self.history.current if self.history is not None else None
        self.unit_controls.set_model(model, self.history.original if model is not None else None)
        self.model_controls.set_model(model)
        self.changes.clear()
        self.changes.addItems([f"{i}. {text}" for i, text in enumerate(self.history.descriptions if model else [], 1)])
        edited = bool(self.history is not None and len(self.history))
        for w in (self.unit_controls, self.model_controls):
            w.setEnabled(model is not None and not busy)
        for w in (self.undo_button, self.reset_button, self.save_button, self.use_button):
            w.setEnabled(edited and not busy)
        if busy:
            self.status.setText(TRAINING)
        self._show_answer()
        self.refresh_when_visible()

    def refresh(self):
        """Measure the accuracy before and after (on a worker); only while the page can be seen."""
        self._dirty = False
        reason = self._no_accuracy_reason()
        if reason:
            self.accuracy.unavailable(reason)
        else:
            ds = self.state.dataset
            self.accuracy.compare(self.history.original, self.history.current,
                                  (self.state.dataset_version, ds.x_test, ds.y_test))

    def _no_accuracy_reason(self):
        model = self.history.original if self.history is not None else None
        why = why_not(model, self.state.dataset, self.state.training, WAITING)
        if why is None:
            return ""
        return why if model is None or self.state.training else f"No accuracy. {why}"

    # ----- the answer for one input ---------------------------------------------------------
    def _on_drawing(self, x):
        self._drawing = x
        self._show_answer()

    def _input(self):
        """(input (1, C, H, W), what it is): the drawing if it fits the model, else the first test image."""
        model = self.history.original if self.history is not None else None
        if model is None:
            return None, "No model yet."
        shape = tuple(model.input_shape)
        if self._drawing is not None and tuple(self._drawing.shape[1:]) == shape:
            return self._drawing, "Your drawing from the Draw tab."
        ds = self.state.dataset
        why = "The drawing does not fit this model's input" if self._drawing is not None else "Nothing drawn yet"
        if ds is None or not len(ds.x_test):
            return None, f"{why}, and no test images are loaded: draw on the Draw tab."
        if tuple(ds.x_test.shape[1:]) != shape:
            return None, f"{why}, and no test image fits: draw on the Draw tab."
        name = ds.class_names[ds.y_test[0]] if len(ds.class_names) > ds.y_test[0] else ds.y_test[0]
        return ds.x_test[:1], f"{why}: test image #0, labelled {name}. Draw on the Draw tab to try your own."

    def _show_answer(self):
        x, caption = self._input() if not self.state.training else (None, TRAINING)
        self.input_caption.setText(caption)
        if x is None:
            self.input_image.clear()
            for bars in (self.before_bars, self.after_bars):
                bars.set_class_names(self.source.class_names() if self.source.model is not None else [])
            return
        image = image_qimage(x[0])
        self.input_image.setPixmap(QPixmap.fromImage(image).scaled(INPUT_PX, INPUT_PX, Qt.KeepAspectRatio,
                                                                   Qt.FastTransformation))
        names = self.source.class_names()
        before, after = self.history.original.predict(x)[0], self.history.current.predict(x)[0]
        self.before_bars.set_probabilities(before, names)
        self.after_bars.set_probabilities(after, names)
        self.input_caption.setText(f"{caption}\n{_answer_change(before, after, names)}")

    # ----- keeping the copy -----------------------------------------------------------------
    def save_as(self):
        """Ask for a new folder and write the edited copy there. Returns whether it was written."""
        window = self.window()
        start = window.save_folder() if callable(getattr(window, "save_folder", None)) else documents_folder()
        name = (model_name(self.state.model_path) if self.state.model_path else "model") + "-surgery"
        path, _ = QFileDialog.getSaveFileName(self, "Save the edited model as (a folder)", str(Path(start) / name))
        return self.save_to(path) if path else False

    def save_to(self, path):
        """Write the edited copy to ``path``. Over the folder the app's model came from, only when the user
        confirms; the app then uses the edited model, as that folder now holds it."""
        opened = self.state.model_path
        replacing = opened is not None and Path(path).resolve() == Path(opened).resolve()
        if replacing and not self._confirm_replace(path):
            return False
        if replacing and not unsaved.may_replace(self.window(), self.state, "Replacing the opened model"):
            return False
        edited = self.history.current
        try:
            edited.save(path)
        except ModelFileError as exc:
            show_error(self, "Cannot save the edited model", str(exc),
                       advice="Choose another folder (a new one, or one holding a saved model). The edited copy "
                              "and the model in the app are unchanged.")
            return False
        if replacing:
            self.state.set_model(edited.copy(), str(path))
        self.status.setText(f"Saved the edited model to {path}." + (" The app now uses it." if replacing else
                            " Open it with File > Open, or press Use in the app."))
        return True

    def _confirm_replace(self, path):
        answer = QMessageBox.question(self, "Replace the opened model?",
                                      f"{path} holds the model the app opened. Replace it with the edited copy? "
                                      "The app will then use the edited model.",
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def use_in_app(self):
        """Make the edited copy the app's model, unsaved, after the usual question about unsaved work."""
        if self.history is None or not len(self.history) or self.state.training:
            return False
        if not unsaved.may_replace(self.window(), self.state, "Using the edited model"):
            return False
        count = len(self.history)
        self.state.set_model(self.history.current.copy(), None, saved=False)
        self.status.setText(f"The app now uses the model with your {count} change{'s' * (count != 1)}; it is not "
                            "saved yet (File > Save model as…).")
        return True


def _answer_change(before, after, names):
    """One line a learner reads first: the answer and its confidence, before and after the changes."""
    old, new = int(before.argmax()), int(after.argmax())
    text = (f"Answer {names[old]} ({probability(before[old])} sure) → {names[new]} ({probability(after[new])} sure)")
    if old != new:
        return f"{text}: the changes turned the answer."
    if np.array_equal(before, after):
        return text
    return f"{text}: the same answer, {'more' if after[new] > before[old] else 'less'} sure."
