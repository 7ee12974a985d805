"""One "I don't know" threshold for the whole window, and the test-set probabilities it is judged on.

Evaluation, the draw pad and Lab > Confidence abstain below the same
confidence. One threshold, not one per view: what Evaluation says a threshold
costs (how many images it answers, how often right) is then exactly what the
pad does with a drawing, and no view can silently disagree with another.

The probabilities are the latest evaluation of the test set, whoever ran it
(Evaluation or the Confidence page), with the damage Evaluation applied to the
images if any (``damage``, in words), so no view calls them clean when they are
not. Moving the threshold re-reads them and never evaluates again. They hold for the ``state.results_key()`` they were
computed under, and are dropped as soon as the model or the data changes.
"""
from PySide6.QtCore import QObject, Signal

from core.calibration import abstain


class Abstention(QObject):
    """The window's threshold and test probabilities: ``Abstention.of(state)``, a child of the state."""
    thresholdChanged = Signal(float)     # the new threshold, a confidence in [0, 1]
    probabilitiesChanged = Signal()      # new test probabilities, or the old ones dropped

    @classmethod
    def of(cls, state):
        """The one ``Abstention`` of ``state``, made on first use, so views built from the state alone share it."""
        found = state.findChild(cls)
        return found if found is not None else cls(state)

    def __init__(self, state):
        super().__init__(state)
        self.state = state
        self.threshold = 0.0           # answer everything, as a plain classifier does, until asked otherwise
        self._evaluated = None         # (probs, labels, results_key) of the latest test evaluation
        self.damage = None             # what was done to the test images first, in words; None: nothing
        state.resultsOutdated.connect(self._on_results_outdated)

    def set_threshold(self, threshold):
        """Answer only at least this confident (0 answers all, 1 only the certain); say so to every view."""
        threshold = float(threshold)
        if not 0 <= threshold <= 1:
            raise ValueError(f"the confidence threshold must be in [0, 1], got {threshold!r}")
        if threshold != self.threshold:
            self.threshold = threshold
            self.thresholdChanged.emit(threshold)

    def abstains(self, confidence):
        """Whether an answer this confident (a top probability) is "I don't know" at the threshold."""
        return float(confidence) < self.threshold

    def publish(self, probs, labels, key, damage=None):
        """The test set's probabilities (N, K) and labels (N,), computed under results key ``key``
        on test images damaged as ``damage`` says (None: the clean test set)."""
        self._evaluated, self.damage = (probs, labels, key), damage
        self.probabilitiesChanged.emit()

    def probabilities(self):
        """(probs, labels) of the test set for the current model and data, or None."""
        if self._evaluated is None or self._evaluated[2] != self.state.results_key():
            return None
        return self._evaluated[:2]

    def answered(self):
        """``core.calibration.abstain`` at the threshold on the test probabilities, or None without them."""
        found = self.probabilities()
        return abstain(*found, self.threshold) if found is not None else None

    def _on_results_outdated(self):
        if self._evaluated is not None and self.probabilities() is None:
            self._evaluated = None
            self.probabilitiesChanged.emit()
