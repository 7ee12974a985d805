"""The "I don't know" threshold as a control, and what it costs on the test set.

``ThresholdControl`` (a slider and a percent box) sets the window's one
threshold (``gui.abstention``); every copy of it, in Evaluation, Draw and
Lab > Confidence, shows the same value. ``AbstainBar`` is Evaluation's line:
the control, then the share of test images answered, the accuracy on them,
the average confidence and the very confident mistakes, re-read from the
evaluation's probabilities whenever the threshold moves.
"""
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from core.calibration import CONFIDENT, average_confidence, confident_mistakes

from ..abstention import Abstention
from ..format import esc, percent
from ..panel_settings import PanelSettings, Setting

STEPS = 1000            # slider steps over 0-100%: 0.1% each, as the box shows
HINT = "#6b7280"
TIP = ("Below this confidence (the model's top probability) the answer is \"I don't know\" instead of a guess. "
       "One threshold for Evaluation, Draw and Lab > Confidence. 0% answers everything; 100% only what the model "
       "is certain of.")

SETTINGS = PanelSettings(
    "abstain",
    threshold=Setting(0.0, "gui.abstention.Abstention.threshold: where Evaluation, Draw and Lab abstain",
                      scale=100),
)


class ThresholdControl(QWidget):
    """A slider and a percent box bound to the window's threshold: moving either moves every copy."""

    def __init__(self, state, label="Answer only when at least", parent=None):
        super().__init__(parent)
        self.abstention = Abstention.of(state)
        self.slider = QSlider(Qt.Horizontal, minimum=0, maximum=STEPS)
        self.slider.setMinimumWidth(120)
        self.threshold = QDoubleSpinBox(decimals=1, minimum=0, maximum=100, singleStep=1, suffix=" %")
        for w in (self, self.slider, self.threshold):
            w.setToolTip(TIP)
            w.setStatusTip(TIP)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel(label))
        row.addWidget(self.slider, 1)
        row.addWidget(self.threshold)
        row.addWidget(QLabel("sure"))
        self._show(self.abstention.threshold)
        self.slider.valueChanged.connect(lambda step: self.changeThreshold(step / STEPS))
        self.threshold.valueChanged.connect(lambda pct: self.changeThreshold(pct / 100))
        self.abstention.thresholdChanged.connect(self._show)

    def changeThreshold(self, threshold):
        self.abstention.set_threshold(min(max(threshold, 0.0), 1.0))

    def _show(self, threshold):
        for w, value in ((self.slider, round(threshold * STEPS)), (self.threshold, threshold * 100)):
            w.blockSignals(True)
            w.setValue(value)
            w.blockSignals(False)

    def restore(self, settings):
        """The threshold remembered from the last session (0 the first time)."""
        SETTINGS.restore(self, settings)

    def save_settings(self, settings):
        SETTINGS.save(self, settings)


def abstain_summary(answered, total):
    """Rich text: how many test images a threshold answers and how often right, or why none."""
    n = int(answered.answered.sum())
    if n == 0:
        return (f"<b>Answers none</b> of the {total:,} test images: none is that sure. "
                "Lower the threshold.")
    share = "all" if n == total else esc(percent(answered.coverage))
    dont_know = f" · \"I don't know\" to {total - n:,}" if n < total else ""
    return (f"<b>Answers {share}</b> of the test images ({n:,} of {total:,}) · "
            f"<b>{esc(percent(answered.accuracy, 2))} right</b> on those{dont_know}")


class AbstainBar(QWidget):
    """Evaluation's threshold line: the control and what it costs, from the probabilities already evaluated."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.abstention = Abstention.of(state)
        self.control = ThresholdControl(state)
        self.summary = QLabel(textFormat=Qt.RichText, wordWrap=True)
        self.summary.setToolTip("Coverage: the share of test images answered. Accuracy: how many of those are "
                                "right. Raising the threshold trades coverage for accuracy.")
        self.overall = QLabel(textFormat=Qt.RichText, wordWrap=True)
        self.overall.setStyleSheet(f"color: {HINT};")
        self.overall.setToolTip("Average confidence: what the model believes its accuracy is; compare it with "
                                "the test accuracy. Confident mistakes: wrong answers given more than 90% sure, "
                                "which no threshold below 90% can turn into \"I don't know\".")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.control, 2)
        row.addSpacing(12)
        row.addWidget(self.summary, 5)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(row)
        column.addWidget(self.overall)
        self.abstention.thresholdChanged.connect(self._show_answered)
        self.abstention.probabilitiesChanged.connect(self._on_probabilities_change)
        self._on_probabilities_change()

    def _on_probabilities_change(self):
        found = self.abstention.probabilities()
        if found is None:
            self.overall.setText("")
        else:
            probs, labels = found
            self.overall.setText(f"Average confidence {esc(percent(average_confidence(probs)))} · "
                                 f"{confident_mistakes(probs, labels):,} mistakes made more than "
                                 f"{esc(percent(CONFIDENT, 0))} sure")
        self._show_answered()

    def _show_answered(self, _threshold=None):
        answered = self.abstention.answered()
        self.answered = answered
        if answered is None:
            self.summary.setText(f"<span style='color:{HINT}'>Evaluate to see how many test images it answers "
                                 "at this threshold, and how often right.</span>")
        else:
            self.summary.setText(abstain_summary(answered, len(answered.answered)))
