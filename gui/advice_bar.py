"""The Training tab's advice line: what the curves show is going wrong, with its fix one click away.

The judgement is core's (``core.training_advice``, tested on known curves);
this module only watches the plots' numbers as they arrive, says it over the
plots, and offers the fix the panel gives it. An offer is made once: after
its fix, or after it is dismissed, the same advice waits for fresh batches
(``QUIET_BATCHES``) or a new epoch before it may be offered again.
"""
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QToolButton

from core.training_advice import SHORT, WINDOW, loss_rising, plateau

from .hover_help import explain

QUIET_BATCHES = 2 * WINDOW     # after an offer is taken or dismissed: new batches the loss is judged on
LOOKBACK = 20 * WINDOW         # batches judged: the recent run, at a cost that does not grow with it
LOSS, PLATEAU = "loss", "plateau"


class AdviceBar(QFrame):
    """A tinted line over the plots: the advice, its one-click fix, and × to dismiss it. Hidden when all is well.

    ``fixes`` maps an advice's kind to (button text, what the button does, the callable doing it).
    """

    def __init__(self, plots, fixes, parent=None):
        super().__init__(parent)
        self.plots, self.fixes = plots, fixes
        self.kind = None
        self._quiet_until = {LOSS: 0, PLATEAU: 0}   # batch step / epoch before which a kind is not offered again
        self._first = 0       # batches plotted before this run: the loss is judged on the run's own
        self._judged = 0      # batches plotted when the loss was last judged
        self.setObjectName("adviceBar")
        self.setStyleSheet("#adviceBar { background: #fef3c7; border: 1px solid #f59e0b; border-radius: 4px; }")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 4, 4)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.SP_MessageBoxWarning).pixmap(18, 18))
        self.text = QLabel(textFormat=Qt.PlainText, wordWrap=True)
        self.text.setObjectName("adviceText")
        self.fix = explain(QPushButton(), "The fix for what the line says, in one click")
        self.fix.setObjectName("adviceFix")
        self.fix.clicked.connect(self._take)
        close = explain(QToolButton(), "Dismiss this advice (it comes back only if the curves say it again)")
        close.setText("×")
        close.setAutoRaise(True)
        close.clicked.connect(self._dismiss)
        for widget, stretch in ((icon, 0), (self.text, 1), (self.fix, 0), (close, 0)):
            row.addWidget(widget, stretch)
        self.hide()

    # --- fed by the panel ------------------------------------------------------------
    def check_loss(self, at_once=True):
        """After new batches: offer the loss fix when the batch loss is rising.

        While a run trains unwatched (``at_once`` False) the loss is judged once
        per ``SHORT`` new batches, the length of the quick test's means. Judged
        at every batch-rows signal, it took about 0.3 ms of the GUI thread 18
        times a second while LeNet-5 trained, about 5 ms of each second.
        """
        losses = self.plots.batch["loss"]
        if not at_once and losses.n - self._judged < SHORT:
            return
        self._judged = losses.n
        if losses.n and self.plots.last_step >= self._quiet_until[LOSS] and self.kind != LOSS:
            reason = loss_rising(losses.ys[self._first:][-LOOKBACK:])
            if reason:
                self.offer(LOSS, reason)

    def check_plateau(self, planned):
        """After an epoch: offer the plateau fix when validation accuracy stalled with ``planned`` epochs
        still ahead of the run (counted across runs, as the epoch plots count)."""
        series = self.plots.epoch["val_accuracy"]
        if not series.n or series.n < self._quiet_until[PLATEAU] or self.kind is not None:
            return
        reason = plateau(series.ys, planned)
        if reason:
            self.offer(PLATEAU, reason)

    def offer(self, kind, reason):
        label, tip, _fix = self.fixes[kind]
        self.kind = kind
        self.text.setText(reason)
        self.fix.setText(label)
        explain(self.fix, tip)
        self.show()

    def clear(self):
        """A new run: nothing said about the last one stands, and its batches are not judged again."""
        self.kind = None
        self._first = self._judged = self.plots.batch["loss"].n
        self._quiet_until = {LOSS: 0, PLATEAU: 0}
        self.hide()

    # --- the user ------------------------------------------------------------------
    def _take(self):
        kind = self.kind
        self._dismiss()
        self.fixes[kind][2]()

    def _dismiss(self):
        if self.kind is not None:
            self._quiet_until[self.kind] = (self.plots.last_step + QUIET_BATCHES if self.kind == LOSS
                                            else self.plots.epoch["val_accuracy"].n + 1)
        self.kind = None
        self.hide()
