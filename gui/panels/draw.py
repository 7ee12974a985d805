"""Draw a digit and watch the network's answer change stroke by stroke.

Inputs: ``state.model`` through a ``ModelSource`` (its own copy, which follows
the training's weight snapshots, so the answer improves as the model learns).
Output: ``state.inputChosen`` with the prepared input when a stroke ends or an
image is opened, for the Inside view.

The pad never predicts on ``state.model`` (it may be training on another
thread). Everything it shows the network goes
through ``core.preprocess.prepare``, exactly as ``numpynet predict`` does; drawn
strokes are first drawn again at MNIST's pen width (``core.strokes``), so the
answer depends neither on the digit's size nor on the brush. Below the
window's confidence threshold (``gui.abstention``, the same as Evaluation's)
the answer is "I don't know", with the best guess in small letters. One
prediction of a small network takes a millisecond or two, so it runs here, on
the GUI thread, at most every ``THROTTLE_MS`` while the pen moves.
"""

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QFont, QKeySequence, QPixmap
from PySide6.QtWidgets import (QFileDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QSlider, QVBoxLayout, QWidget)

from core.errors import NumpynetError
from core.images import read_image
from core.preprocess import NothingDrawn, class_names, gray, prepare, preprocessing_mode

from ..abstention import Abstention
from ..format import esc, percent, probability, shape_text
from ..imaging import gray_qimage, rgb_qimage
from ..state import ModelSource
from ..views.abstain import ThresholdControl
from ..views.canvas import DEFAULT_BRUSH, HINT, Canvas
from ..views.lazy import LazyRefresh
from ..views.probabilities import ProbabilityBars

PREVIEW_SIZE = 168         # 6 screen pixels per input pixel of a 28x28 input
THROTTLE_MS = 100
MAX_BODY = (960, 560)
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"


class DrawPanel(LazyRefresh, QWidget):
    """The Draw tab: canvas and tools on the left; answer, network input and chart on the right."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.source = ModelSource(state, self)   # our own copy: never state.model, which may be training
        self.input = None             # the last (1, C, H, W) input shown to the model
        self._opened = None           # an opened picture, predicted from while nothing is drawn on it
        self._opened_input = None     # ... and its prepared input
        self._digits = True           # the classes are 0-9, so the pad asks for a digit
        self._preprocessing = "mnist"  # the model's mode for prepare
        self._model_line = ""         # what the status label says when all is well
        self._throttle = QTimer(self, singleShot=True, interval=THROTTLE_MS)
        self._throttle.timeout.connect(self.predict_now)
        self.abstention = Abstention.of(state)      # the window's one "I don't know" threshold
        self.abstention.thresholdChanged.connect(lambda _threshold: self.predict_now())
        self._build()
        self.setAcceptDrops(True)
        self.source.modelReplaced.connect(self._show_model)
        self.source.weightsChanged.connect(self._follow_training)
        self._show_model()

    # ----- layout -----------------------------------------------------------------------
    def _build(self):
        self.canvas = Canvas()
        self.canvas.strokeMoved.connect(self._stroke_moved)
        self.canvas.strokeFinished.connect(lambda: self.predict_now(announce=True))
        self.answer = QLabel(alignment=Qt.AlignCenter, textFormat=Qt.RichText)
        self.answer.setMinimumSize(150, 96)     # room for the big answer, so nothing jumps
        self.confidence = QLabel(alignment=Qt.AlignCenter, textFormat=Qt.RichText, wordWrap=True)
        self.confidence.setMinimumHeight(26)
        self.preview = QLabel(alignment=Qt.AlignCenter)
        self.preview.setFixedSize(PREVIEW_SIZE + 2, PREVIEW_SIZE + 2)
        self.preview.setStyleSheet("background: black; border: 1px solid #5c6370;")
        self.preview_caption = QLabel(alignment=Qt.AlignCenter)
        self.chart = ProbabilityBars()
        self.status = QLabel(wordWrap=True, textFormat=Qt.RichText)
        self.status.setStyleSheet(f"color: {HINT};")

        body = QWidget()
        body.setMaximumSize(*MAX_BODY)          # in a big window the pad stays a compact whole
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(body)                  # centred once it reaches its maximum size
        root = QHBoxLayout(body)
        root.setContentsMargins(16, 16, 16, 16)
        root.setSpacing(20)
        left = QVBoxLayout()
        left.setSpacing(10)
        left.addWidget(_framed(self.canvas))
        left.addLayout(self._tools())
        left.addWidget(self.status)
        left.addStretch(1)
        root.addLayout(left)

        right = QVBoxLayout()
        right.setSpacing(12)
        top = QHBoxLayout()
        top.setSpacing(20)
        answer = QVBoxLayout()
        answer.addWidget(_caption("Answer"))
        answer.addStretch(1)
        answer.addWidget(self.answer)
        answer.addWidget(self.confidence)
        answer.addStretch(1)
        top.addLayout(answer, 1)
        seen = QVBoxLayout()
        seen.addWidget(self.preview_caption)
        seen.addWidget(self.preview, 0, Qt.AlignHCenter)
        top.addLayout(seen)
        right.addLayout(top)
        right.addWidget(ThresholdControl(self.state))
        right.addWidget(_caption("Probability of each class"))
        right.addWidget(self.chart, 1)
        root.addLayout(right, 1)

    def _tools(self):
        self.brush = QSlider(Qt.Horizontal, minimum=4, maximum=60, value=DEFAULT_BRUSH)
        self.brush.setToolTip("Brush width in canvas pixels")
        self.brush_label = QLabel()
        self.brush.valueChanged.connect(self.set_brush_width)
        self.eraser_button = QPushButton("Eraser", checkable=True)
        self.eraser_button.toggled.connect(self._set_eraser)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Remove the last stroke (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Start again (Esc)")
        self.clear_button.clicked.connect(self.clear)
        self.open_button = QPushButton("Open image...")
        self.open_button.setToolTip("Recognise a picture file (or drop one on the pad)")
        self.open_button.clicked.connect(self._choose_image)
        self.set_brush_width(DEFAULT_BRUSH)

        rows = QVBoxLayout()
        brush = QHBoxLayout()
        brush.addWidget(QLabel("Brush"))
        brush.addWidget(self.brush, 1)
        brush.addWidget(self.brush_label)
        rows.addLayout(brush)
        buttons = QHBoxLayout()
        for b in (self.eraser_button, self.undo_button, self.clear_button, self.open_button):
            b.setFocusPolicy(Qt.NoFocus)      # keys stay with the pad: Esc clears, Ctrl+Z undoes
            buttons.addWidget(b)
        rows.addLayout(buttons)
        return rows

    # ----- the model --------------------------------------------------------------------
    @property
    def model(self):
        """The copy the pad predicts with (None: show the input only)."""
        return self.source.model

    def _show_model(self):
        """Another model: its class names on the chart, its input size, its preprocessing."""
        names = class_names(self.model) if self.model is not None else []
        self.chart.set_class_names(names)
        self._digits = not names or names == [str(i) for i in range(10)]
        self.canvas.hint = "Draw a digit here" if self._digits else "Draw here, or drop a picture"
        _, h, w = self._input_shape()
        self.preview_caption.setText(f"What the network sees ({shape_text((h, w))})")
        self._model_line = self._read_preprocessing()
        self.status.setText(esc(self._model_line))
        self._opened_input = None     # the new model may want another shape or mode
        self.canvas.update()
        self.predict_now()

    def _read_preprocessing(self):
        """Set the mode ``prepare`` uses; returns a line for the status label."""
        self._preprocessing = "mnist"
        if self.model is None:
            return "No model yet: open or train one to see its answers."
        try:
            self._preprocessing = preprocessing_mode(self.model)
            note = ""
        except ValueError as e:
            note = f"{e}; using mnist. "
        return (f"{note}Input {shape_text(self.model.input_shape)}, {self._preprocessing} preprocessing. "
                f"Esc clears, Ctrl+Z undoes a stroke.")

    def _input_shape(self):
        """The model's (C, H, W); MNIST's for no model, or for one that takes no image (it will say so)."""
        shape = self.model.input_shape if self.model is not None else None
        return tuple(shape) if shape is not None and len(shape) == 3 else (1, 28, 28)

    def _follow_training(self):
        """New weights (training's latest, or the run's last): answer again, so the answer improves as the
        model learns; a run may also have named the model's preprocessing."""
        line = self._read_preprocessing()
        if line != self._model_line:
            self._model_line, self._opened_input = line, None
            self.status.setText(esc(line))
        self.refresh_when_visible()

    def refresh(self):
        """Predict again soon (throttled): the weights changed while someone can see the answer."""
        self._dirty = False
        if not self._throttle.isActive():
            self._throttle.start()

    # ----- actions ----------------------------------------------------------------------
    def set_brush_width(self, width):
        self.canvas.brush_width = int(width)
        self.brush_label.setText(f"{int(width)} px")
        if self.brush.value() != width:
            self.brush.setValue(int(width))

    def _set_eraser(self, on):
        self.canvas.eraser = on

    def clear(self):
        self._opened = self._opened_input = None
        self.canvas.clear()
        self.predict_now()

    def undo(self):
        self.canvas.undo()
        self.predict_now(announce=not self.canvas.is_blank())

    def open_image(self, path):
        """Show a picture file on the pad and recognise it, as ``numpynet predict`` would."""
        try:
            picture = read_image(path)
        except NumpynetError as e:
            self._say_problem(str(e))      # the pad keeps what it had
            return
        self._opened, self._opened_input = picture, None
        self.canvas.set_picture(gray(picture))
        self.predict_now(announce=True)

    def _choose_image(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", "", IMAGE_FILTER)
        if path:
            self.open_image(path)

    def _stroke_moved(self):
        if not self._throttle.isActive():
            self._throttle.start()

    # ----- predicting -------------------------------------------------------------------
    def _prepared(self):
        """The model input for the pad: the opened picture at full resolution until something is
        drawn over it (prepared once: a photo takes a second), else the canvas. None when blank."""
        if self.canvas.is_blank():
            return None
        if self._opened is None or self.canvas.stroke_count:
            return prepare(self.canvas.model_image(), self._input_shape(), self._preprocessing)
        if self._opened_input is None:
            self._opened_input = prepare(self._opened, self._input_shape(), self._preprocessing)
        return self._opened_input

    def predict_now(self, announce=False):
        """Prepare what is on the pad, show it and the model's answer; ``announce`` tells Inside."""
        self._throttle.stop()
        if self.canvas.is_speck():
            return self._show_nothing("Too small to read: draw larger")
        try:
            x = self._prepared()
            if x is None:
                return self._show_nothing()
            probs = self.model.predict(x)[0] if self.model is not None else None
        except NothingDrawn:
            return self._show_nothing("The picture is blank" if self._opened is not None else None)
        except NumpynetError as e:
            return self._show_problem(str(e))
        self.input = x
        self.status.setText(esc(self._model_line))
        self._show_input(x)
        if probs is not None:
            self._show_answer(probs)
        else:
            self._show_hint("No model")
        if announce:
            self.state.inputChosen.emit(x)
        return x

    def _show_nothing(self, why=None):
        self.input = None
        self._show_hint(why or ("Draw a digit" if self._digits else "Draw something"))
        self._show_preview(gray_qimage(np.zeros(self._input_shape()[-2:], np.float32)))

    def _show_hint(self, text):
        """A grey word where the answer goes, and an empty chart: never a guess."""
        self.chart.clear()
        self.answer.setText(f"<span style='color:{HINT}; font-size:20px'>{esc(text)}</span>")
        self.confidence.setText("")

    def _show_problem(self, message):
        self._show_nothing("No answer")
        self._say_problem(message)

    def _say_problem(self, message):
        self.status.setText(f"<span style='color:#d9534f'>{esc(message)}</span>")

    def _show_answer(self, probs):
        names = self.chart.class_names
        best = int(np.argmax(probs))
        self.chart.set_probabilities(probs)
        if self.abstention.abstains(probs[best]):
            self.answer.setText(f"<span style='font-size:30px; font-weight:600; color:{HINT}'>I don't know</span>")
            self.confidence.setText(f"<span style='font-size:14px'>best guess <b>{esc(names[best])}</b>, "
                                    f"{esc(probability(probs[best]))} sure</span>")
            self.confidence.setToolTip(f"Below the {percent(self.abstention.threshold)} threshold set under it, "
                                       "the pad does not answer")
            return
        size = 72 if len(names[best]) <= 2 else 30
        self.answer.setText(f"<span style='font-size:{size}px; font-weight:600'>{esc(names[best])}</span>")
        self.confidence.setText(f"<span style='font-size:16px'>{esc(probability(probs[best]))} sure</span>")
        self.confidence.setToolTip("")

    def _show_input(self, x):
        if x.shape[1] == 1:
            self._show_preview(gray_qimage(x[0, 0]))
        else:
            self._show_preview(rgb_qimage((x[0].transpose(1, 2, 0) * 255).round()))

    def _show_preview(self, image):
        pixmap = QPixmap.fromImage(image).scaled(PREVIEW_SIZE, PREVIEW_SIZE, Qt.KeepAspectRatio,
                                                 Qt.FastTransformation)   # nearest: every input pixel shows
        self.preview.setPixmap(pixmap)

    # ----- keys and drops ---------------------------------------------------------------
    def _is_pad_key(self, event):
        return event.key() == Qt.Key_Escape or event.matches(QKeySequence.Undo)

    def event(self, event):
        if event.type() == QEvent.ShortcutOverride and self._is_pad_key(event):
            event.accept()            # ours while the pad has focus, before any window shortcut
            return True
        return super().event(event)

    def keyPressEvent(self, event):
        if event.key() == Qt.Key_Escape:
            self.clear()
        elif event.matches(QKeySequence.Undo):
            self.undo()
        else:
            super().keyPressEvent(event)

    def dragEnterEvent(self, event):
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event):
        self.open_image(event.mimeData().urls()[0].toLocalFile())
        event.acceptProposedAction()


def _framed(widget):
    frame = QFrame()
    frame.setFrameShape(QFrame.StyledPanel)
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(1, 1, 1, 1)
    layout.addWidget(widget)
    frame.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)
    return frame


def _caption(text):
    label = QLabel(text)
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    return label
